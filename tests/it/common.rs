//! Test harness: an app per backend (SQLite always; Postgres when SIMGATE_TEST_DATABASE_URL is
//! set), each on a database of its own that is dropped afterwards, driven in-process through the
//! router. Plus the fixture tenant tree every test shares.
#![allow(dead_code)]

/// A story, `async fn story(app: TestApp)`, as two tests: `story::sqlite` and `story::postgres`
/// (ignored, not passed, in a build without `SIMGATE_TEST_DATABASE_URL`). Options, in this order:
/// `multi_thread` (a runtime of 4 workers, for real concurrency), `tweak = |c| ...` (the config), or
/// `by_name` for a story that builds its own apps: `async fn story(backend: &'static str)`.
macro_rules! backends {
    ($story:ident) => {
        backends!(@app $story, tokio::test, |_| {});
    };
    ($story:ident, multi_thread) => {
        backends!(@app $story, tokio::test(flavor = "multi_thread", worker_threads = 4), |_| {});
    };
    ($story:ident, tweak = $tweak:expr) => {
        backends!(@app $story, tokio::test, $tweak);
    };
    ($story:ident, multi_thread, tweak = $tweak:expr) => {
        backends!(@app $story, tokio::test(flavor = "multi_thread", worker_threads = 4), $tweak);
    };
    ($story:ident, by_name) => {
        backends!(@each $story, tokio::test, super::$story);
    };
    (@app $story:ident, $test:meta, $tweak:expr) => {
        backends!(@each $story, $test, |backend: &'static str| async move {
            super::$story($crate::common::TestApp::new(backend, $tweak).await).await
        });
    };
    (@each $story:ident, $test:meta, $run:expr) => {
        mod $story {
            #[$test]
            async fn sqlite() {
                ($run)("sqlite").await
            }

            #[$test]
            #[cfg_attr(
                not(postgres_tests),
                ignore = "Postgres: set SIMGATE_TEST_DATABASE_URL and build again"
            )]
            async fn postgres() {
                ($run)("postgres").await
            }
        }
    };
}

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use chrono::{TimeZone, Utc};
use http_body_util::BodyExt;
use serde_json::Value;
use simgate::clock::ManualClock;
use simgate::config::Config;
use simgate::domain::access::AccessLevel;
use simgate::domain::ids::ObjectId;
use simgate::domain::org::OrgKind;
use simgate::state::AppState;
use simgate::store::{Actor, NewOrg, NewToken, NewUser, Org, TokenKind, User};
use std::collections::HashMap;
use std::sync::Arc;
use tower::ServiceExt;

pub const ADMIN_EMAIL: &str = "admin@localhost";
pub const ADMIN_PASSWORD: &str = "admin-password-1";
pub const USER_PASSWORD: &str = "fixture-password";

pub struct TestApp {
    pub backend: &'static str,
    pub state: AppState,
    pub router: Router,
    pub clock: Arc<ManualClock>,
    pub config: Config,
    db: TestDb,
}

enum TestDb {
    Sqlite(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

/// The database goes with the app. (Drop on `TestApp` itself, not on a field: a story that uses
/// only `app.state` would otherwise capture just that field and drop the database under it.)
impl Drop for TestApp {
    fn drop(&mut self) {
        drop_db(&self.db);
    }
}

/// A database of a test's own beside its app's (e.g. a replica), dropped with the guard.
pub struct DbGuard(TestDb);

impl Drop for DbGuard {
    fn drop(&mut self) {
        drop_db(&self.0);
    }
}

/// A fresh Postgres database on the test server and its guard.
pub async fn extra_postgres_db(admin_url: &str) -> (String, DbGuard) {
    let (url, db) = postgres_db(admin_url).await;
    (url, DbGuard(db))
}

fn drop_db(db: &TestDb) {
    {
        match db {
            TestDb::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            TestDb::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime: use a thread with a runtime of its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        use sqlx::Connection;
                        let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        for url in node_urls(&admin_url) {
                            if let Ok(mut c) = sqlx::PgConnection::connect(&url).await {
                                let _ = sqlx::query(&drop).execute(&mut c).await;
                            }
                        }
                    })
                })
                .join();
            }
        }
    }
}

pub fn test_config() -> Config {
    let mut c = Config::defaults();
    c.admin.password = ADMIN_PASSWORD.into();
    c.auth.argon2_memory_kib = 1024;
    c.auth.argon2_iterations = 1;
    c.database.max_connections = 8;
    c
}

fn unique_name() -> String {
    format!("simgate_t_{}", hex::encode(rand::random::<[u8; 6]>()))
}

async fn sqlite_db() -> (String, TestDb) {
    let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
    (format!("sqlite://{}", path.display()), TestDb::Sqlite(path))
}

/// A fresh, empty Postgres database (on Citus: across the cluster, the extension loaded).
async fn postgres_db(admin_url: &str) -> (String, TestDb) {
    postgres_db_named(admin_url, unique_name()).await
}

async fn postgres_db_named(admin_url: &str, name: String) -> (String, TestDb) {
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("SIMGATE_TEST_DATABASE_URL reachable");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut c)
        .await
        .expect("create test database");
    let mut url = url::Url::parse(admin_url).expect("valid postgres URL");
    url.set_path(&format!("/{name}"));
    if let Some(workers) = citus_workers(&mut c).await {
        citus_db(&url, &name, &workers).await;
    }
    (
        url.to_string(),
        TestDb::Postgres {
            admin_url: admin_url.to_string(),
            name,
        },
    )
}

/// The migrated database every app's database is copied from, made by the first test that needs
/// it: on Citus a test then pays three copies (~0.3 s) instead of the migrations, the distribution of
/// every table and the seed (~4 s). Each node's copy is made from that node's template, so the
/// coordinator's shard metadata and the workers' shards match as they did in the template.
static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

/// Every node's admin URL: the coordinator (or the one server) and the Citus workers.
fn node_urls(admin_url: &str) -> Vec<String> {
    let mut urls = vec![admin_url.to_string()];
    if let (Ok(workers), Ok(base)) = (
        std::env::var("SIMGATE_TEST_CITUS_WORKERS"),
        url::Url::parse(admin_url),
    ) {
        for w in workers.split(',') {
            if let Some((host, port)) = w.trim().rsplit_once(':') {
                let mut u = base.clone();
                let _ = u.set_host(Some(host));
                let _ = u.set_port(port.parse().ok());
                u.set_path("/postgres");
                urls.push(u.to_string());
            }
        }
    }
    urls
}

async fn template(admin_url: &str) -> String {
    use sqlx::Connection;
    TEMPLATE
        .get_or_init(|| async {
            let now = chrono::Utc::now().timestamp();
            // A run leaves its template; those of runs a day old and more are dropped here.
            for node in node_urls(admin_url) {
                let mut c = sqlx::PgConnection::connect(&node)
                    .await
                    .expect("node reachable");
                let old: Vec<String> = sqlx::query_scalar(
                    "SELECT datname FROM pg_database WHERE datname LIKE 'simgate\\_tpl\\_%'",
                )
                .fetch_all(&mut c)
                .await
                .unwrap_or_default();
                for name in old {
                    let made: i64 = name
                        .split('_')
                        .nth(2)
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(0);
                    if now - made > 86_400 {
                        let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = sqlx::query(&drop).execute(&mut c).await;
                    }
                }
            }
            let template = format!(
                "simgate_tpl_{now}_{}",
                hex::encode(rand::random::<[u8; 4]>())
            );
            let (url, _) = postgres_db_named(admin_url, template.clone()).await;
            let store = simgate::store::connect(&url, None, &simgate::store::PoolConfig::single())
                .await
                .expect("the template database migrates");
            store.close().await;
            for node in node_urls(admin_url) {
                let mut c = sqlx::PgConnection::connect(&node)
                    .await
                    .expect("node reachable");
                let sql = format!("ALTER DATABASE {template} WITH ALLOW_CONNECTIONS false");
                sqlx::query(&sql).execute(&mut c).await.expect(&sql);
                close_sessions(&mut c, &template).await;
            }
            template
        })
        .await
        .clone()
}

/// Ends every session on `db` (Citus's maintenance daemon keeps one on each database it serves).
async fn close_sessions(c: &mut sqlx::PgConnection, db: &str) {
    let _ =
        sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
            .bind(db)
            .execute(&mut *c)
            .await;
}

/// A migrated database of its own for an app: a copy of [`template`] on every node.
async fn postgres_app_db(admin_url: &str) -> (String, TestDb) {
    use sqlx::Connection;
    let template = template(admin_url).await;
    let name = unique_name();
    for node in node_urls(admin_url) {
        let mut c = sqlx::PgConnection::connect(&node)
            .await
            .expect("node reachable");
        let sql = format!("CREATE DATABASE {name} TEMPLATE {template}");
        let mut attempt = 0;
        loop {
            match sqlx::query(&sql).execute(&mut c).await {
                Ok(_) => break,
                // A session that reached the template before it was closed to connections.
                Err(e) if attempt < 20 && e.to_string().contains("being accessed") => {
                    attempt += 1;
                    close_sessions(&mut c, &template).await;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(e) => panic!("{sql}: {e}"),
            }
        }
    }
    let mut url = url::Url::parse(admin_url).expect("valid postgres URL");
    url.set_path(&format!("/{name}"));
    (
        url.to_string(),
        TestDb::Postgres {
            admin_url: admin_url.to_string(),
            name,
        },
    )
}

/// The workers of a Citus coordinator (`SIMGATE_TEST_CITUS_WORKERS`, `host:port,...`), when the test
/// server is one (it preloads citus); None on plain Postgres.
async fn citus_workers(c: &mut sqlx::PgConnection) -> Option<Vec<(String, u16)>> {
    let preload: String = sqlx::query_scalar("SELECT current_setting('shared_preload_libraries')")
        .fetch_one(&mut *c)
        .await
        .expect("read shared_preload_libraries");
    if !preload.contains("citus") {
        return None;
    }
    let workers = std::env::var("SIMGATE_TEST_CITUS_WORKERS").expect(
        "the test server is a Citus coordinator: set SIMGATE_TEST_CITUS_WORKERS=host:port,...",
    );
    Some(
        workers
            .split(',')
            .map(|w| {
                let (host, port) = w.trim().rsplit_once(':').expect("host:port");
                (host.to_string(), port.parse().expect("a port"))
            })
            .collect(),
    )
}

/// Makes `name` a Citus database as ../shared/tools/citus/newdb.sh does: the same database on every
/// worker, the extension on every node, the workers registered with the coordinator. Few shards per
/// table keep each test's schema changes quick.
async fn citus_db(coordinator: &url::Url, name: &str, workers: &[(String, u16)]) {
    use sqlx::Connection;
    for (host, port) in workers {
        let mut w = coordinator.clone();
        w.set_host(Some(host)).expect("worker host");
        w.set_port(Some(*port)).expect("worker port");
        w.set_path("/postgres");
        let mut c = sqlx::PgConnection::connect(w.as_str())
            .await
            .expect("worker reachable");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut c)
            .await
            .expect("worker database");
        w.set_path(&format!("/{name}"));
        let mut c = sqlx::PgConnection::connect(w.as_str())
            .await
            .expect("worker database reachable");
        sqlx::query("CREATE EXTENSION citus")
            .execute(&mut c)
            .await
            .expect("citus on the worker");
    }
    let mut c = sqlx::PgConnection::connect(coordinator.as_str())
        .await
        .expect("coordinator database");
    sqlx::query("CREATE EXTENSION citus")
        .execute(&mut c)
        .await
        .expect("citus on the coordinator");
    let host = coordinator.host_str().unwrap_or("127.0.0.1").to_string();
    let port = i32::from(coordinator.port().unwrap_or(5432));
    sqlx::query("SELECT citus_set_coordinator_host($1, $2)")
        .bind(&host)
        .bind(port)
        .execute(&mut c)
        .await
        .expect("register the coordinator");
    for (host, port) in workers {
        // Many tests set up their databases at once; a worker busy creating another one may drop the
        // coordinator's metadata connection, and registering again then succeeds.
        let mut attempt = 0;
        loop {
            let added = sqlx::query("SELECT citus_add_node($1, $2)")
                .bind(host)
                .bind(i32::from(*port))
                .execute(&mut c)
                .await;
            match added {
                Ok(_) => break,
                Err(e) if attempt < 5 => {
                    attempt += 1;
                    eprintln!("citus_add_node({host}:{port}) failed, retrying: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(200 * attempt)).await;
                }
                Err(e) => panic!("register a worker: {e}"),
            }
        }
    }
    sqlx::query(&format!("ALTER DATABASE {name} SET citus.shard_count = 4"))
        .execute(&mut c)
        .await
        .expect("shard count");
}

/// Postgres drops every connection of the app's database, as in a restart.
pub async fn drop_all_connections(app: &TestApp) {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&postgres_url().expect("postgres"))
        .await
        .unwrap();
    let db = url::Url::parse(&app.config.database.url)
        .unwrap()
        .path()
        .trim_start_matches('/')
        .to_string();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind(&db)
        .execute(&mut admin)
        .await
        .unwrap();
}

pub fn postgres_url() -> Option<String> {
    std::env::var("SIMGATE_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// Says once, as the first app starts, which backends this run covers. Written to the process's
/// stderr itself (the test harness captures only `print!`-style output), so it shows in every run.
pub fn announce_backends() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use std::io::Write;
        let line = match postgres_url() {
            Some(url) => {
                let citus = std::env::var("SIMGATE_TEST_CITUS_WORKERS")
                    .ok()
                    .filter(|w| !w.is_empty())
                    .map(|w| format!(" (a Citus coordinator; workers {w})"))
                    .unwrap_or_default();
                format!(
                    "simgate tests: backends SQLite and Postgres at {}{citus}",
                    simgate::store::redacted_url(&url)
                )
            }
            None => {
                "simgate tests: backend SQLite only; set SIMGATE_TEST_DATABASE_URL=postgres://... \
                     to run the ::postgres half (reported as ignored until then)"
                    .to_string()
            }
        };
        let _ = writeln!(std::io::stderr(), "{line}");
    });
}

impl TestApp {
    pub async fn new(backend: &'static str, tweak: impl Fn(&mut Config)) -> TestApp {
        announce_backends();
        let (url, db) = match backend {
            "sqlite" => sqlite_db().await,
            "postgres" => {
                postgres_app_db(
                    &postgres_url().expect("postgres backend needs SIMGATE_TEST_DATABASE_URL"),
                )
                .await
            }
            other => panic!("unknown backend {other}"),
        };
        if std::env::var("SIMGATE_TEST_LOG").is_ok() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter("simgate=debug")
                .try_init();
        }
        let mut config = test_config();
        config.database.url = url;
        tweak(&mut config);
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0).unwrap(),
        ));
        let (state, boot) = simgate::build(config.clone(), clock.clone())
            .await
            .expect("app builds");
        assert!(boot.is_some(), "a fresh database bootstraps the admin");
        let router = simgate::api::router(state.clone());
        TestApp {
            backend,
            state,
            router,
            clock,
            config,
            db,
        }
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        self.request_with(method, path, token, &[], body).await
    }

    /// A request with extra headers.
    pub async fn request_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Resp {
        let mut req = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        self.send(req).await
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let res = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router is infallible");
        Resp::read(res).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.request(Method::POST, path, Some(token), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Resp {
        self.request(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Resp {
        self.request(Method::DELETE, path, Some(token), None).await
    }

    /// TelecomX login; the session token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let r = self
            .request(
                Method::POST,
                "/auth/login",
                None,
                Some(serde_json::json!({"username": email, "password": password})),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{} login {email}: {}",
            self.backend,
            r.body
        );
        r.body["token"].as_str().unwrap().to_string()
    }

    /// Runs a read-only SQL query on the app's database (for checks the API does not expose).
    pub async fn sql<T>(&self, sql: &str) -> Vec<T>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + Send
            + Unpin,
    {
        let url = &self.config.database.url;
        if url.starts_with("postgres") {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            let rows = sqlx::query_as::<_, T>(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            rows
        } else {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            let rows = sqlx::query_as::<_, T>(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            rows
        }
    }

    pub async fn admin_token(&self) -> String {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    async fn read(res: axum::response::Response) -> Resp {
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
            text,
        }
    }

    /// TelecomX envelope: asserts status and `error.code`.
    pub fn assert_telecomx_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(self.body["error"]["code"], code, "body: {}", self.text);
        assert_eq!(self.body["error"]["status"], status, "body: {}", self.text);
        assert!(
            self.body["error"]["message"].is_string(),
            "body: {}",
            self.text
        );
    }

    /// emnify envelope: asserts status and `error_code`.
    pub fn assert_emnify_error(&self, status: u16, code: u16) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(self.body["error_code"], code, "body: {}", self.text);
        assert!(
            self.body["error_token"].is_string() && self.body["message"].is_string(),
            "body: {}",
            self.text
        );
    }
}

/// platform → R1 (RESELLER) → R1S (sub-reseller, RESELLER); platform → R2 (SERVICE_PROVIDER);
/// two ENTERPRISE customers under each of R1, R1S, R2; a user with a token at every level each org
/// allows.
pub struct Fixture {
    pub orgs: HashMap<&'static str, Org>,
    pub users: HashMap<(&'static str, AccessLevel), (User, String)>,
}

pub const ORG_TREE: [(&str, OrgKind, &str); 10] = [
    ("R1", OrgKind::Reseller, "PLATFORM"),
    ("R1S", OrgKind::Reseller, "R1"),
    ("R2", OrgKind::ServiceProvider, "PLATFORM"),
    ("C1A", OrgKind::Enterprise, "R1"),
    ("C1B", OrgKind::Enterprise, "R1"),
    ("C1SA", OrgKind::Enterprise, "R1S"),
    ("C1SB", OrgKind::Enterprise, "R1S"),
    ("C2A", OrgKind::Enterprise, "R2"),
    ("C2B", OrgKind::Enterprise, "R2"),
    ("PLATFORM", OrgKind::Platform, ""),
];

impl Fixture {
    pub async fn build(app: &TestApp) -> Fixture {
        let store = &app.state.store;
        let actor = Actor::system(app.state.now());
        let (platforms, _) = store
            .org_list(
                &simgate::domain::access::Scope::All,
                None,
                simgate::domain::paging::Page {
                    offset: 0,
                    limit: 1,
                },
            )
            .await
            .unwrap();
        let mut orgs: HashMap<&'static str, Org> = HashMap::new();
        orgs.insert("PLATFORM", platforms[0].clone());
        for (key, kind, parent) in ORG_TREE.iter().filter(|(_, k, _)| *k != OrgKind::Platform) {
            let parent_id = orgs[parent].id;
            let org = store
                .org_create(
                    NewOrg {
                        oid: ObjectId::generate(actor.at).into_string(),
                        name: format!("{key} org"),
                        kind: *kind,
                        parent_id: Some(parent_id),
                        country: Some("DK".into()),
                    },
                    &actor,
                )
                .await
                .unwrap();
            orgs.insert(key, org);
        }
        let hash = app.state.auth.passwords.hash_plain(USER_PASSWORD);
        let mut users = HashMap::new();
        for (key, _, _) in ORG_TREE {
            let org = &orgs[key];
            for level in AccessLevel::ALL
                .into_iter()
                .filter(|l| l.allowed_in(org.kind))
            {
                let email = format!(
                    "{}.{}@fixture.test",
                    key.to_lowercase(),
                    level.as_str().to_lowercase()
                );
                let user = store
                    .user_create(
                        NewUser {
                            oid: ObjectId::generate(actor.at).into_string(),
                            org_id: org.id,
                            email,
                            name: format!("{key} {}", level.as_str()),
                            password_hash: hash.clone(),
                            access_level: level,
                        },
                        &actor,
                    )
                    .await
                    .unwrap();
                let secret = simgate::auth::token::generate();
                store
                    .token_create(
                        NewToken {
                            user_id: user.id,
                            token_hash: simgate::auth::token::hash(&secret),
                            label: Some("fixture".into()),
                            kind: TokenKind::Application,
                            expires_at: None,
                        },
                        &actor,
                    )
                    .await
                    .unwrap();
                users.insert((key, level), (user, secret));
            }
        }
        Fixture { orgs, users }
    }

    pub fn token(&self, org: &str, level: AccessLevel) -> &str {
        &self
            .users
            .get(&(org_key(org), level))
            .unwrap_or_else(|| panic!("no {level:?} user in {org}"))
            .1
    }

    pub fn user(&self, org: &str, level: AccessLevel) -> &User {
        &self.users[&(org_key(org), level)].0
    }

    pub fn org(&self, key: &str) -> &Org {
        &self.orgs[org_key(key)]
    }

    /// Every (org, level) that can log in.
    pub fn principals(&self) -> Vec<(&'static str, AccessLevel)> {
        let mut v: Vec<_> = self
            .users
            .keys()
            .copied()
            .filter(|(_, l)| l.can_login())
            .collect();
        v.sort();
        v
    }
}

fn org_key(key: &str) -> &'static str {
    ORG_TREE
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(k, _, _)| *k)
        .unwrap_or_else(|| panic!("unknown org {key}"))
}

/// `n` import lines `ICC;PUK1;PUK2;PIN1;PIN2;FORM_FACTOR;NETWORK;;;AUTO_ASSIGN` with ICCs from `start`.
pub fn sim_lines(
    start: u64,
    n: u64,
    form_factor: &str,
    network: &str,
    auto_assign: bool,
) -> String {
    (start..start + n)
        .map(|i| {
            format!(
                "{};12345678;87654321;1234;4321;{form_factor};{network};;;{auto_assign}",
                icc(i)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A 19-digit test ICC.
pub fn icc(i: u64) -> String {
    format!("8945{i:015}")
}

/// The unused-SIM counters equal a GROUP BY over the SIMs themselves.
pub async fn assert_counters_match(app: &TestApp) {
    let mut counters: Vec<(i64, String, String, bool, i64)> = app
        .sql("SELECT storage_org_id, network, form_factor, auto_assign, count FROM sim_inventory_counts WHERE \
             count <> 0")
        .await;
    let mut actual: Vec<(i64, String, String, bool, i64)> = app
        .sql(
            "SELECT COALESCE(in_storage_at, 0), network, form_factor, auto_assign, COUNT(*) FROM sims \
             WHERE status <> 3 AND mvno_account_id IS NULL AND endpoint_id IS NULL GROUP BY 1, 2, 3, 4",
        )
        .await;
    counters.sort();
    actual.sort();
    assert_eq!(
        counters, actual,
        "{}: counters drifted from the SIMs",
        app.backend
    );
    let mut owners: Vec<(i64, i64, i64, i64, i64, bool, i64)> = app
        .sql(
            "SELECT issuer_org_id, reseller_org_id, customer_org_id, model_id, CAST(status AS BIGINT), \
             with_endpoint, count \
             FROM sim_owner_counts WHERE count <> 0",
        )
        .await;
    let mut actual: Vec<(i64, i64, i64, i64, i64, bool, i64)> = app
        .sql(
            "SELECT COALESCE(issuer_org_id, 0), COALESCE(reseller_org_id, 0), COALESCE(customer_org_id, 0), \
             COALESCE(model_id, 0), CAST(status AS BIGINT), endpoint_id IS NOT NULL, COUNT(*) FROM sims \
             GROUP BY 1, 2, 3, 4, 5, 6",
        )
        .await;
    owners.sort();
    actual.sort();
    assert_eq!(
        owners, actual,
        "{}: owner counters drifted from the SIMs",
        app.backend
    );
    type Counted = (i64, i64, i64, i64, i64, String, i64);
    let mut devices: Vec<Counted> = app
        .sql(
            "SELECT tenant_org_id, org_id, CAST(status AS BIGINT), service_profile_id, tariff_profile_id, \
             tags, count FROM endpoint_counts WHERE count <> 0",
        )
        .await;
    let mut actual: Vec<Counted> = app
        .sql(
            "SELECT tenant_org_id, org_id, CAST(status AS BIGINT), service_profile_id, tariff_profile_id, \
             COALESCE(tags, ''), COUNT(*) FROM endpoints WHERE status <> 2 GROUP BY 1, 2, 3, 4, 5, 6",
        )
        .await;
    devices.sort();
    actual.sort();
    assert_eq!(
        devices, actual,
        "{}: device counters drifted from the devices",
        app.backend
    );
    assert_tenants_match(app).await;
}

/// Every SIM's tenant key is the top-level org all its orgs lie under (NULL: none below the
/// platform; 0: several), recomputed here from the org paths.
pub async fn assert_tenants_match(app: &TestApp) {
    let orgs: Vec<(i64, String)> = app.sql("SELECT id, path FROM organisations").await;
    let top: std::collections::HashMap<i64, Option<i64>> = orgs
        .into_iter()
        .map(|(id, path)| {
            (
                id,
                path.split('/')
                    .filter(|p| !p.is_empty())
                    .nth(1)
                    .map(|t| t.parse().unwrap()),
            )
        })
        .collect();
    type Row = (
        i64,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    );
    let sims: Vec<Row> = app
        .sql("SELECT id, issuer_org_id, reseller_org_id, customer_org_id, in_storage_at, tenant_org_id FROM sims")
        .await;
    for (id, issuer, reseller, customer, storage, tenant) in sims {
        let mut tops: Vec<i64> = [issuer, reseller, customer, storage]
            .into_iter()
            .flatten()
            .filter_map(|org| top[&org])
            .collect();
        tops.sort();
        tops.dedup();
        let expected = match tops[..] {
            [] => Some(1), // central stock
            [one] => Some(one),
            _ => Some(0),
        };
        assert_eq!(tenant, expected, "{}: tenant key of SIM {id}", app.backend);
    }
}

/// A TCP proxy in front of Postgres whose link can be cut: `Refuse` closes every connection and
/// refuses new ones (a database that went down), `BlackHole` lets connections open but carries no
/// byte either way (a network partition), `Pass` restores the link.
pub struct FaultProxy {
    pub port: u16,
    mode: tokio::sync::watch::Sender<Link>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Pass,
    Refuse,
    BlackHole,
}

impl FaultProxy {
    pub async fn start(upstream: std::net::SocketAddr) -> FaultProxy {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (mode, watch) = tokio::sync::watch::channel(Link::Pass);
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut watch = watch.clone();
                if *watch.borrow() == Link::Refuse {
                    continue; // dropped: closed at once
                }
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    let (mut a, mut b) = (vec![0u8; 16384], vec![0u8; 16384]);
                    loop {
                        let link = *watch.borrow_and_update();
                        match link {
                            Link::Refuse => return,
                            Link::BlackHole => {
                                if watch.changed().await.is_err() {
                                    return;
                                }
                            }
                            Link::Pass => tokio::select! {
                                n = client.read(&mut a) => match n {
                                    Ok(n) if n > 0 => if server.write_all(&a[..n]).await.is_err() { return },
                                    _ => return,
                                },
                                n = server.read(&mut b) => match n {
                                    Ok(n) if n > 0 => if client.write_all(&b[..n]).await.is_err() { return },
                                    _ => return,
                                },
                                changed = watch.changed() => if changed.is_err() { return },
                            },
                        }
                    }
                });
            }
        });
        FaultProxy { port, mode }
    }

    pub fn set(&self, link: Link) {
        self.mode.send_replace(link);
    }

    /// `url` with its host and port replaced by the proxy's.
    pub fn route(&self, url: &str) -> String {
        let mut u = url::Url::parse(url).unwrap();
        u.set_host(Some("127.0.0.1")).unwrap();
        u.set_port(Some(self.port)).unwrap();
        u.to_string()
    }
}

/// The address of the test Postgres.
pub fn postgres_addr() -> std::net::SocketAddr {
    let u = url::Url::parse(&postgres_url().expect("SIMGATE_TEST_DATABASE_URL")).unwrap();
    let host = u.host_str().unwrap_or("127.0.0.1").to_string();
    let port = u.port().unwrap_or(5432);
    std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
        .unwrap()
        .next()
        .unwrap()
}

/// A small deterministic generator: the same sequence on every run and backend. `next(n)` is in 0..n.
pub fn generator(mut seed: u64) -> impl FnMut(u64) -> u64 {
    move |n| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    }
}
