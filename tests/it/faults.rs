//! Faults (issue 12): a database that goes away answers 503 within the bound and heals when it is
//! back; SIGTERM ends the server under load and during a partition, within its grace.

use crate::common::*;
use axum::http::{Method, StatusCode};
use serde_json::json;
use simgate::domain::access::AccessLevel::*;
use std::time::{Duration, Instant};

const REQUEST_TIMEOUT: u64 = 5;

/// Polls `path` until it answers 200, for at most 30 s; whether it did.
async fn heals(app: &TestApp, path: &str, token: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if app.get(path, token).await.status == StatusCode::OK {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    false
}

/// Postgres refused (down) and black-holed (partitioned) between simgate and the database: reads and
/// writes answer 503 with Retry-After in the dialect's envelope within the request time-out, never
/// 500; readiness says so; once the link is back the node serves again by itself, and every
/// acknowledged write is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "Postgres only (a TCP link to cut): set SIMGATE_TEST_DATABASE_URL"
)]
async fn a_lost_database_answers_503_in_time_and_heals() {
    let proxy = FaultProxy::start(postgres_addr()).await;
    let app = TestApp::new("postgres", |c| {
        c.database.url = proxy.route(&c.database.url);
        c.http.request_timeout_secs = REQUEST_TIMEOUT;
        c.database.acquire_timeout_secs = 2;
    })
    .await;
    let fx = Fixture::build(&app).await;
    let admin = fx.token("PLATFORM", Admin).to_string();
    let write = || app.post("/admin/v1/rate-plans", &admin, json!({"name": "Fault"}));
    assert_eq!(write().await.status, StatusCode::CREATED);
    let (mut acked, mut tried) = (1, 1);
    for link in [Link::Refuse, Link::BlackHole] {
        proxy.set(link);
        for (method, path) in [
            (Method::GET, "/sim"),
            (Method::GET, "/api/v1/sim"),
            (Method::POST, "/admin/v1/rate-plans"),
        ] {
            let started = Instant::now();
            let body = (method == Method::POST).then(|| json!({"name": "Fault"}));
            tried += usize::from(body.is_some());
            let r = app.request(method.clone(), path, Some(&admin), body).await;
            let ctx = format!("{link:?} {method} {path}: {}", r.text);
            if path.starts_with("/api/") {
                r.assert_emnify_error(503, 1503);
            } else {
                r.assert_telecomx_error(503, "unavailable");
            }
            assert!(r.headers.contains_key("retry-after"), "{ctx}");
            assert!(
                started.elapsed() < Duration::from_secs(REQUEST_TIMEOUT + 3),
                "{ctx}: answered after {:?}",
                started.elapsed()
            );
        }
        let ready = app.request(Method::GET, "/readyz", None, None).await;
        assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "{link:?}");
        proxy.set(Link::Pass);
        assert!(heals(&app, "/sim", &admin).await, "{link:?}: not healed");
        let r = write().await;
        assert_eq!(r.status, StatusCode::CREATED, "{link:?}: {}", r.text);
        acked += 1;
        tried += 1;
        let ready = app.request(Method::GET, "/readyz", None, None).await;
        assert_eq!(ready.status, StatusCode::OK, "{link:?}");
    }
    let (stored,): (i64,) = app
        .sql("SELECT COUNT(*) FROM rate_plans WHERE name = 'Fault'")
        .await[0];
    assert!(
        (acked..=tried).contains(&(stored as usize)),
        "{stored} stored, {acked} acknowledged, {tried} tried"
    );
}

/// A running `simgate serve` on its own port and database.
struct Server {
    child: std::process::Child,
    port: u16,
}

impl Server {
    fn start(database_url: &str, extra: &[(&str, &str)]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_simgate"));
        cmd.env("SIMGATE_LISTEN", format!("127.0.0.1:{port}"))
            .env("SIMGATE_DATABASE_URL", database_url)
            .env("SIMGATE_ADMIN__PASSWORD", ADMIN_PASSWORD)
            .env("SIMGATE_AUTH__ARGON2_MEMORY_KIB", "1024")
            .env("SIMGATE_AUTH__ARGON2_ITERATIONS", "1")
            .env("SIMGATE_HTTP__SHUTDOWN_GRACE_SECS", "2")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let mut server = Server {
            child: cmd.spawn().unwrap(),
            port,
        };
        let up = (0..300).any(|_| {
            std::thread::sleep(Duration::from_millis(100));
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(up, "the server came up: {:?}", server.child.try_wait());
        server
    }

    fn terminate(&self) {
        let kill = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
    }

    /// Waits for the exit; its status, or None when still running after `within`.
    async fn exited(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request on a connection of its own: the status and body, or the I/O error.
async fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> std::io::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{auth}Content-Type: \
         application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(req.as_bytes()).await?;
    let mut out = Vec::new();
    tcp.read_to_end(&mut out).await?;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line: {text:?}")))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

async fn login(port: u16) -> String {
    let creds = json!({"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).to_string();
    let (status, body) = http(port, "POST", "/auth/login", None, &creds)
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<serde_json::Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// SIGTERM while 16 clients write: the server exits 0 within its grace, no client saw a 5xx, and every
/// acknowledged write is in the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_loses_no_acknowledged_write() {
    let dir = std::env::temp_dir().join(format!("simgate_load_{}", std::process::id()));
    let url = format!("sqlite://{}/simgate.db", dir.display());
    let mut server = Server::start(&url, &[]);
    let token = login(server.port).await;
    let port = server.port;
    let clients: Vec<_> = (0..16)
        .map(|_| {
            let token = token.clone();
            tokio::spawn(async move {
                let (mut acked, mut tried, mut server_errors) = (0usize, 0usize, Vec::new());
                let started = Instant::now();
                // Until the server is gone (refused), or a bound in case it never goes.
                while started.elapsed() < Duration::from_secs(30) {
                    tried += 1;
                    match http(
                        port,
                        "POST",
                        "/admin/v1/rate-plans",
                        Some(&token),
                        r#"{"name":"Load"}"#,
                    )
                    .await
                    {
                        Ok((201, _)) => acked += 1,
                        Ok((s, body)) if s >= 500 => server_errors.push(format!("{s} {body}")),
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
                (acked, tried, server_errors)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.terminate();
    let status = server.exited(Duration::from_secs(15)).await;
    let (mut acked, mut tried) = (0, 0);
    for c in clients {
        let (a, t, errors) = c.await.unwrap();
        assert!(errors.is_empty(), "5xx under shutdown: {errors:?}");
        acked += a;
        tried += t;
    }
    assert!(status.is_some_and(|s| s.success()), "exit: {status:?}");
    assert!(acked > 0, "the load ran");
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let (stored,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM rate_plans WHERE name = 'Load'")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        (acked..=tried).contains(&(stored as usize)),
        "{stored} stored, {acked} acknowledged, {tried} tried"
    );
}

/// SIGTERM while the database is behind a partition and a request waits on it: the server still
/// exits within its grace and the pool's deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "Postgres only (a TCP link to cut): set SIMGATE_TEST_DATABASE_URL"
)]
async fn sigterm_during_a_partition_ends_within_the_grace() {
    let admin_url = postgres_url().expect("built for Postgres tests: SIMGATE_TEST_DATABASE_URL");
    let (db_url, _db) = extra_postgres_db(&admin_url).await;
    let proxy = FaultProxy::start(postgres_addr()).await;
    let mut server = Server::start(
        &proxy.route(&db_url),
        &[
            ("SIMGATE_HTTP__REQUEST_TIMEOUT_SECS", "60"),
            ("SIMGATE_DATABASE__STATEMENT_TIMEOUT_SECS", "60"),
        ],
    );
    let token = login(server.port).await;
    proxy.set(Link::BlackHole);
    let port = server.port;
    let waiting = tokio::spawn(async move { http(port, "GET", "/sim", Some(&token), "").await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "the request waits on the partition");
    let sent = Instant::now();
    server.terminate();
    // Grace 2 s, then 5 s for the jobs and the pool.
    let status = server.exited(Duration::from_secs(15)).await;
    assert!(
        status.is_some_and(|s| s.success()),
        "exit: {status:?} after {:?}",
        sent.elapsed()
    );
    proxy.set(Link::Pass);
    let _ = waiting.await;
}
