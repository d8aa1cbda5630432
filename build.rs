//! Marks a build whose tests have a Postgres to run on (`SIMGATE_TEST_DATABASE_URL`): tests that only
//! make sense there (a replica, a TCP fault between simgate and Postgres) are then compiled in, and
//! are reported as ignored, not as passed, when it is absent.
fn main() {
    println!("cargo:rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo:rerun-if-env-changed=SIMGATE_TEST_DATABASE_URL");
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("SIMGATE_TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=postgres_tests");
    }
}
