//! The `simgate` binary's commands, run as a user would, against each backend.

use crate::common::*;
use serde_json::Value;
use std::process::Command;

fn simgate(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_simgate"))
        .args(args)
        .env("SIMGATE_DATABASE_URL", &app.config.database.url)
        .env("SIMGATE_AUTH__ARGON2_MEMORY_KIB", "1024")
        .env("SIMGATE_AUTH__ARGON2_ITERATIONS", "1")
        .output()
        .expect("the simgate binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_line(stdout: &str) -> Value {
    stdout
        .lines()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no JSON in {stdout}"))
}

backends!(admin_commands_build_a_tenant_and_import_sims);
async fn admin_commands_build_a_tenant_and_import_sims(app: TestApp) {
    let (ok, out, err) = simgate(
        &app,
        &[
            "admin",
            "create-org",
            "--name",
            "CLI Reseller",
            "--kind",
            "RESELLER",
        ],
    );
    assert!(ok, "{out}{err}");
    let org = json_line(&out);
    assert_eq!(
        (org["kind"].as_str(), org["parent_id"].as_i64()),
        (Some("RESELLER"), Some(1))
    );
    let oid = org["oid"].as_str().unwrap().to_string();
    let (ok, out, err) = simgate(
        &app,
        &[
            "admin",
            "create-user",
            "--org",
            &oid,
            "--email",
            "cli@r.test",
            "--name",
            "CLI",
            "--access-level",
            "RESELLER_ADMIN",
        ],
    );
    assert!(ok, "{out}{err}");
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("generated password (shown only now): "))
        .unwrap()
        .to_string();
    let token = app.login("cli@r.test", &password).await;
    let (ok, out, err) = simgate(
        &app,
        &[
            "admin",
            "create-token",
            "--user",
            "cli@r.test",
            "--label",
            "ci",
        ],
    );
    assert!(ok, "{out}{err}");
    let api_token = json_line(&out)["token"].as_str().unwrap().to_string();
    assert_eq!(
        app.get("/auth/validateToken", &api_token).await.body["accessLevel"],
        "RESELLER_ADMIN"
    );

    // A file bigger than one batch, with a bad line and a repeat.
    let dir = std::env::temp_dir().join(format!(
        "simgate-cli-{}",
        hex::encode(rand::random::<[u8; 4]>())
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("sims.txt");
    let body = format!(
        "{}\nnot a sim line\n{}\n",
        sim_lines(0, 250, "NANO", "TDC", false),
        sim_lines(0, 1, "NANO", "TDC", false)
    );
    std::fs::write(&file, body).unwrap();
    let (ok, out, err) = simgate(
        &app,
        &[
            "admin",
            "import-sims",
            file.to_str().unwrap(),
            "--in-storage-at",
            &oid,
            "--batch",
            "100",
        ],
    );
    assert!(ok, "{out}{err}");
    assert_eq!(
        json_line(&out),
        serde_json::json!({"imported": 250, "skipped": 2})
    );
    assert!(err.contains("line 251"), "{err}");
    let list = app.get("/sim?limit=1", &token).await;
    assert_eq!(list.body["total"], 250, "{}", list.text);
    let status = app.get("/sim/status", &token).await;
    assert_eq!(status.body[0]["network"]["TDC"]["total"], 250);
    std::fs::remove_dir_all(&dir).unwrap();

    // Bad input fails with a message and a non-zero exit.
    let (ok, _, err) = simgate(
        &app,
        &["admin", "create-org", "--name", "x", "--kind", "SHOP"],
    );
    assert!(!ok && err.contains("kind"), "{err}");
    let (ok, _, err) = simgate(&app, &["admin", "import-sims", "/nonexistent/file"]);
    assert!(!ok && !err.is_empty());
    let (ok, out, _) = simgate(&app, &["migrate"]);
    assert!(ok && out.contains("migrations applied"));
}

#[test]
fn default_config_prints_the_documented_defaults_and_healthcheck_fails_without_a_server() {
    let out = Command::new(env!("CARGO_BIN_EXE_simgate"))
        .arg("default-config")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        simgate::config::DEFAULT_TOML
    );
    let out = Command::new(env!("CARGO_BIN_EXE_simgate"))
        .args(["healthcheck", "--addr", "127.0.0.1:9"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// `simgate serve` as a container runs it, with its output on pipes: closing them (before the first
/// start prints its password, and while it serves) neither panics the server nor keeps SIGTERM from
/// stopping it.
#[test]
fn closed_output_pipes_neither_stop_the_server_nor_its_shutdown() {
    use std::process::Stdio;
    let dir = std::env::temp_dir().join(format!("simgate_pipe_{}", std::process::id()));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_simgate"))
        .env("SIMGATE_LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "SIMGATE_DATABASE_URL",
            format!("sqlite://{}/simgate.db", dir.display()),
        )
        .env("SIMGATE_AUTH__ARGON2_MEMORY_KIB", "1024")
        .env("SIMGATE_AUTH__ARGON2_ITERATIONS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Both pipes closed at once: the first start's password lines meet a closed stdout.
    drop(child.stdout.take());
    drop(child.stderr.take());
    let up = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up, "the server came up: {:?}", child.try_wait());
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let stopped = (0..100).find_map(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        child.try_wait().unwrap()
    });
    let _ = std::fs::remove_dir_all(&dir);
    match stopped {
        Some(status) => assert!(status.success(), "exit status {status}"),
        None => {
            let _ = child.kill();
            panic!("still running 10 s after SIGTERM");
        }
    }
}
