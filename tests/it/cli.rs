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

/// The password a command generated and printed once.
fn generated_password(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("generated password (shown only now): "))
        .unwrap_or_else(|| panic!("no generated password in {stdout}"))
        .to_string()
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
    let password = generated_password(&out);
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
            "--allow-skips",
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

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "simgate-{name}-{}",
        hex::encode(rand::random::<[u8; 4]>())
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

backends!(set_password_lists_and_import_exit_codes);
async fn set_password_lists_and_import_exit_codes(app: TestApp) {
    let session = app.admin_token().await;
    // A lost admin password: set again, generated and printed; the old sessions end.
    let (ok, out, err) = simgate(
        &app,
        &["admin", "set-password", "--user", "admin@localhost"],
    );
    assert!(ok, "{out}{err}");
    let password = generated_password(&out);
    assert_eq!(json_line(&out)["password_set"], true);
    app.get("/auth/validateToken", &session)
        .await
        .assert_telecomx_error(401, "invalid_token");
    // The command ran on the system clock; the app's clock catches up so that a new session is
    // issued after the change.
    app.clock
        .set(chrono::Utc::now() + chrono::Duration::seconds(1));
    let token = app.login("admin@localhost", &password).await;
    let (ok, _, err) = simgate(
        &app,
        &[
            "admin",
            "set-password",
            "--user",
            "1",
            "--password",
            "short",
        ],
    );
    assert!(!ok && err.contains("at least 8"), "{err}");
    let (ok, _, err) = simgate(&app, &["admin", "set-password", "--user", "nobody@x.test"]);
    assert!(!ok && err.contains("not found"), "{err}");

    // Lists: one JSON object per line, every row.
    let (ok, out, _) = simgate(
        &app,
        &[
            "admin",
            "create-org",
            "--name",
            "Listed",
            "--kind",
            "RESELLER",
        ],
    );
    assert!(ok);
    let (ok, out2, err) = simgate(&app, &["admin", "list-orgs"]);
    assert!(ok, "{err}");
    let orgs: Vec<Value> = out2
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(orgs.len(), 2);
    assert_eq!(orgs[1]["oid"], json_line(&out)["oid"]);
    let (ok, out, err) = simgate(&app, &["admin", "list-users", "--org", "1"]);
    assert!(ok, "{err}");
    let users: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["email"], "admin@localhost");
    assert_eq!(users[0]["access_level"], "ADMIN");

    // Import: a header row is passed over; skipped lines make the exit status 1 unless allowed,
    // and --rejects lists them all.
    let dir = temp_dir("import");
    let file = dir.join("sims.csv");
    std::fs::write(
        &file,
        format!(
            "ICC;PUK1;PUK2;PIN1;PIN2;FORM_FACTOR;NETWORK\n{}\nbroken line\n",
            sim_lines(0, 5, "NANO", "TDC", false)
        ),
    )
    .unwrap();
    let rejects = dir.join("rejects.tsv");
    let file_arg = file.to_str().unwrap();
    let (ok, out, err) = simgate(
        &app,
        &[
            "admin",
            "import-sims",
            file_arg,
            "--rejects",
            rejects.to_str().unwrap(),
        ],
    );
    assert!(!ok, "skipped lines fail the command: {out}{err}");
    assert_eq!(
        json_line(&out),
        serde_json::json!({"imported": 5, "skipped": 1})
    );
    assert!(err.contains("1 line(s) skipped"), "{err}");
    let listed = std::fs::read_to_string(&rejects).unwrap();
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.starts_with("7\t"), "{listed}");
    let (ok, out, err) = simgate(&app, &["admin", "import-sims", file_arg, "--allow-skips"]);
    assert!(ok, "{out}{err}");
    // Now all six lines are skipped (five ICCs exist already), the header still is not.
    assert_eq!(
        json_line(&out),
        serde_json::json!({"imported": 0, "skipped": 6})
    );
    let list = app.get("/sim?limit=1", &token).await;
    assert_eq!(list.body["total"], 5, "{}", list.text);
    std::fs::remove_dir_all(&dir).unwrap();

    // Backups are SQLite's; on Postgres the command says what to use instead.
    let dir = temp_dir("backup");
    let copy = dir.join("copy.db");
    let (ok, out, err) = simgate(&app, &["admin", "backup", copy.to_str().unwrap()]);
    if app.config.database.url.starts_with("sqlite:") {
        assert!(ok, "{out}{err}");
        assert!(json_line(&out)["bytes"].as_u64().unwrap() > 0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", copy.display()))
            .await
            .unwrap();
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sims")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        assert_eq!(n, 5);
        let (ok, _, err) = simgate(&app, &["admin", "backup", copy.to_str().unwrap()]);
        assert!(!ok && err.contains("exists already"), "{err}");
    } else {
        assert!(!ok && err.contains("pg_dump"), "{err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `simgate serve` until `ready` says so (or 10 s pass), then stops it with SIGTERM; returns
/// its stdout and stderr.
fn serve_until(
    envs: &[(&str, String)],
    args: &[&str],
    ready: impl Fn(u16) -> bool,
    port: u16,
) -> (String, String) {
    use std::process::Stdio;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_simgate"));
    cmd.arg("serve")
        .args(args)
        .env("SIMGATE_AUTH__ARGON2_MEMORY_KIB", "1024")
        .env("SIMGATE_AUTH__ARGON2_ITERATIONS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap();
    let up = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        ready(port)
    });
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(up, "the server came up:\n{stdout}\n{stderr}");
    (stdout, stderr)
}

fn http_get(port: u16, path: &str, token: Option<&str>) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n{auth}\r\n").as_bytes())
        .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

/// First start as a container runs it: JSON logs, a bare port, a typo in a variable. The password
/// and the banner are JSON lines too; the typo is named; each request has its one log line, with
/// the route and the user but never the token.
#[test]
fn first_start_in_json_mode_banner_warnings_and_request_lines() {
    let dir = temp_dir("first-start");
    let port = free_port();
    let db = dir.join("data/simgate.db");
    let token = std::cell::RefCell::new(String::new());
    let (stdout, stderr) = serve_until(
        &[
            ("SIMGATE_LISTEN", port.to_string()),
            ("SIMGATE_DATABASE_URL", format!("sqlite://{}", db.display())),
            ("SIMGATE_LOG_FORMAT", "json".into()),
            ("SIMGATE_HTTP__REQUEST_TIMEOUT", "5".into()),
        ],
        &[],
        |port| {
            let Some(answer) = http_get(port, "/healthz", None) else {
                return false;
            };
            if !answer.contains("200 OK") {
                return false;
            }
            // Logged in with the generated password read from the log stream so far is not
            // possible from here; an invalid token still gets its request line.
            *token.borrow_mut() = "sg_not_a_real_token_0123456789".into();
            http_get(port, "/sim?limit=1", Some(&token.borrow())).is_some()
        },
        port,
    );
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let password = lines
        .iter()
        .find_map(|l| l["fields"]["admin_password"].as_str())
        .expect("the generated password is in a JSON line");
    assert!(password.len() >= 16);
    let banner = lines
        .iter()
        .find(|l| l["fields"]["docs_url"].is_string())
        .expect("a banner line");
    assert_eq!(banner["fields"]["listen"], format!("127.0.0.1:{port}"));
    assert_eq!(banner["fields"]["backend"], "Sqlite");
    assert_eq!(
        banner["fields"]["metrics_url"],
        format!("http://127.0.0.1:{port}/metrics")
    );
    assert!(banner["fields"]["database"]
        .as_str()
        .unwrap()
        .ends_with("data/simgate.db"));
    assert!(
        stderr.contains("SIMGATE_HTTP__REQUEST_TIMEOUT is set but is no simgate setting"),
        "{stderr}"
    );
    let request_line = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["fields"]["route"] == "/sim")
        .unwrap_or_else(|| panic!("no request line for /sim:\n{stderr}"));
    assert_eq!(request_line["fields"]["status"], 401);
    assert_eq!(request_line["fields"]["method"], "GET");
    assert!(request_line["fields"]["latency_ms"].is_number());
    assert!(request_line["fields"]["request_id"].is_string());
    assert!(
        !stderr.contains(token.borrow().as_str()),
        "a token leaked into the log"
    );
    // The data folder and the database file are the owner's alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.join("data")), 0o700);
        assert_eq!(mode(&db), 0o600);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A busy port fails the start naming the address, before the database is even opened: the
/// first start's password cannot be created and then lost.
#[test]
fn a_busy_port_fails_before_first_start_and_names_the_address() {
    let dir = temp_dir("busy");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let db = dir.join("simgate.db");
    let out = Command::new(env!("CARGO_BIN_EXE_simgate"))
        .args(["serve", "--listen", &addr, "--database-url"])
        .arg(format!("sqlite://{}", db.display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
    assert!(!db.exists(), "the database was not created");
    drop(busy);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn help_names_the_environment_and_the_access_levels() {
    let out = Command::new(env!("CARGO_BIN_EXE_simgate"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for (var, _) in simgate::config::SHORT_ENV {
        assert!(help.contains(var), "{var} missing from --help");
    }
    assert!(help.contains("SIMGATE_CONFIG"));
    for level in simgate::domain::access::AccessLevel::ALL {
        assert!(help.contains(level.as_str()), "{} missing", level.as_str());
    }
    let serve = Command::new(env!("CARGO_BIN_EXE_simgate"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let serve = String::from_utf8_lossy(&serve.stdout);
    assert!(
        serve.contains("--listen") && serve.contains("--database-url"),
        "{serve}"
    );
}

backends!(catalog_commands_manage_operators_tariffs_and_spaces);
async fn catalog_commands_manage_operators_tariffs_and_spaces(app: TestApp) {
    let fx = Fixture::build(&app).await;
    let lines = |out: &str| -> Vec<Value> {
        out.lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    };
    // Operators: added with its lists, listed by country, refused when invalid, deleted.
    let (ok, out, err) = simgate(
        &app,
        &[
            "admin",
            "add-operator",
            "--name",
            "CLI Mobile",
            "--country",
            "dk",
            "--mnc",
            "91,92",
            "--tapcode",
            "DNKCL",
        ],
    );
    assert!(ok, "{out}{err}");
    let op = json_line(&out);
    let id = op["id"].as_i64().unwrap();
    assert_eq!(op["name_and_country"], "Denmark / CLI Mobile");
    assert_eq!(op["mnc"].as_array().unwrap().len(), 2);
    let (ok, out, _) = simgate(&app, &["admin", "list-operators", "--country", "dk"]);
    assert!(ok);
    let danish = lines(&out);
    assert!(danish.len() > 3 && danish.iter().any(|o| o["id"] == id));
    let (ok, _, err) = simgate(
        &app,
        &["admin", "add-operator", "--name", "x", "--country", "xx"],
    );
    assert!(!ok && err.contains("country"), "{err}");
    let (ok, out, err) = simgate(&app, &["admin", "delete-operator", &id.to_string()]);
    assert!(ok, "{out}{err}");
    let (ok, _, err) = simgate(&app, &["admin", "delete-operator", &id.to_string()]);
    assert!(!ok && err.contains("not found"), "{err}");

    // Tariff profiles: for an org's subtree, listed by owner, deleted.
    let r1 = fx.org("R1").id.to_string();
    let (ok, out, err) = simgate(
        &app,
        &[
            "admin",
            "create-tariff-profile",
            "--name",
            "CLI plan",
            "--owner-org",
            &r1,
        ],
    );
    assert!(ok, "{out}{err}");
    let plan = json_line(&out);
    assert_eq!(plan["owner_org_id"], fx.org("R1").id);
    let (ok, out, _) = simgate(&app, &["admin", "list-tariff-profiles", "--org", &r1]);
    assert!(ok);
    assert_eq!(lines(&out), vec![plan.clone()]);
    let plan_id = plan["id"].as_i64().unwrap().to_string();
    assert!(simgate(&app, &["admin", "delete-tariff-profile", &plan_id]).0);
    let (ok, out, _) = simgate(&app, &["admin", "list-tariff-profiles"]);
    assert!(ok);
    let ids: Vec<i64> = lines(&out)
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![1], "the seeded default is left");

    // IP address spaces: created, overlap refused, listed, deleted.
    let c1a = fx.org("C1A").id.to_string();
    let (ok, out, err) = simgate(
        &app,
        &[
            "admin",
            "create-ip-space",
            "--ip-address-space",
            "10.77.0.0/24",
            "--org",
            &c1a,
        ],
    );
    assert!(ok, "{out}{err}");
    let space = json_line(&out);
    assert_eq!(
        (space["size"].as_i64(), space["used"].as_i64()),
        (Some(254), Some(0))
    );
    let (ok, _, err) = simgate(
        &app,
        &[
            "admin",
            "create-ip-space",
            "--ip-address-space",
            "10.77.0.128/25",
            "--org",
            &c1a,
        ],
    );
    assert!(!ok && err.contains("overlaps"), "{err}");
    let (ok, out, _) = simgate(&app, &["admin", "list-ip-spaces", "--org", &c1a]);
    assert!(ok);
    assert_eq!(lines(&out), vec![space.clone()]);
    let space_id = space["id"].as_i64().unwrap().to_string();
    assert!(simgate(&app, &["admin", "delete-ip-space", &space_id]).0);
    let (_, out, _) = simgate(&app, &["admin", "list-ip-spaces", "--org", &c1a]);
    assert!(lines(&out).is_empty());
}
