//! Marks a build whose tests have a Postgres to run on (`SIMGATE_TEST_DATABASE_URL`): tests that only
//! make sense there (a replica, a TCP fault between simgate and Postgres) are then compiled in, and
//! are reported as ignored, not as passed, when it is absent.
//! Also names the build for `GET /version` and the start banner: `SIMGATE_GIT_SHA` (given, as the
//! container build passes it, or read from git when the source is a checkout) and
//! `SIMGATE_BUILD_DATE` (given, or derived from `SOURCE_DATE_EPOCH` for reproducible builds).
use std::process::Command;

fn main() {
    println!("cargo:rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo:rerun-if-env-changed=SIMGATE_TEST_DATABASE_URL");
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("SIMGATE_TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=postgres_tests");
    }
    for var in ["SIMGATE_GIT_SHA", "SIMGATE_BUILD_DATE", "SOURCE_DATE_EPOCH"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let sha = std::env::var("SIMGATE_GIT_SHA")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(git_sha);
    if let Some(sha) = sha {
        println!("cargo:rustc-env=SIMGATE_GIT_SHA={sha}");
    }
    let date = std::env::var("SIMGATE_BUILD_DATE")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| {
            let epoch: i64 = std::env::var("SOURCE_DATE_EPOCH").ok()?.parse().ok()?;
            Some(civil_date(epoch))
        });
    if let Some(date) = date {
        println!("cargo:rustc-env=SIMGATE_BUILD_DATE={date}");
    }
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// The checkout's commit; the build runs again when HEAD moves (its ref file or HEAD itself).
fn git_sha() -> Option<String> {
    let sha = git(&["rev-parse", "--short=12", "HEAD"])?;
    let mut watched = vec![git(&["rev-parse", "--git-path", "HEAD"])?];
    if let Some(head_ref) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.extend(git(&["rev-parse", "--git-path", &head_ref]));
    }
    for path in watched {
        if std::path::Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    Some(sha)
}

/// YYYY-MM-DD of a Unix time (Howard Hinnant's days-to-civil; no date crate in a build script).
fn civil_date(epoch: i64) -> String {
    let z = epoch.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}
