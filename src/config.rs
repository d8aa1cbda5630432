//! Configuration: `config/default.toml` (compiled in) < `--config FILE` < `SIMGATE_*` environment.
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// An address, or a bare port (which the environment hands over as a number).
    #[serde(deserialize_with = "string_or_number")]
    pub listen: String,
    pub database: DatabaseConfig,
    pub admin: AdminConfig,
    pub auth: AuthConfig,
    pub http: HttpConfig,
    pub log: LogConfig,
    pub inventory: InventoryConfig,
    pub mvno: MvnoConfig,
    pub endpoint: EndpointConfig,
    pub sms: SmsConfig,
    pub quota: QuotaConfig,
    pub retention: RetentionConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseConfig {
    pub url: String,
    /// Empty: no replica.
    #[serde(default)]
    pub read_url: String,
    pub label_cache_secs: u64,
    pub max_connections: u32,
    /// Seconds a request waits for a pooled connection before it is answered 503.
    pub acquire_timeout_secs: u64,
    /// Postgres: seconds to keep trying to reach the database at start.
    pub connect_retry_secs: u64,
    /// Postgres: the statement time-out of every connection, in seconds (0: the server's).
    pub statement_timeout_secs: u64,
}

impl DatabaseConfig {
    pub fn pool(&self) -> crate::store::PoolConfig {
        crate::store::PoolConfig {
            max_connections: self.max_connections,
            acquire_timeout: std::time::Duration::from_secs(self.acquire_timeout_secs.max(1)),
            label_cache: std::time::Duration::from_secs(self.label_cache_secs),
            connect_retry: std::time::Duration::from_secs(self.connect_retry_secs),
            statement_timeout: (self.statement_timeout_secs > 0)
                .then(|| std::time::Duration::from_secs(self.statement_timeout_secs)),
        }
    }

    /// A server needs two connections at least: one for a write while another waits (the single-SIM
    /// reads, the token and label lookups). Refused at start rather than wedged under load.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.max_connections < 2 {
            anyhow::bail!(
                "database.max_connections = {} is too small to serve: simgate needs at least 2 connections \
                 (set SIMGATE_DATABASE__MAX_CONNECTIONS=2 or more; 10 is the default)",
                self.max_connections
            );
        }
        Ok(())
    }
}

#[derive(Clone, Serialize, Deserialize)]
pub struct AdminConfig {
    pub email: String,
    pub password: String,
    pub platform_name: String,
}

impl std::fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminConfig")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .field("platform_name", &self.platform_name)
            .finish()
    }
}

#[derive(Clone, Serialize, Deserialize)]
pub struct AuthConfig {
    pub jwt_secret: String,
    pub session_minutes: i64,
    pub app_jwt_minutes: i64,
    pub user_jwt_minutes: i64,
    pub refresh_token_minutes: i64,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub principal_cache_secs: i64,
    /// Failed logins of one username within `login_window_secs` before it is throttled.
    pub login_failures_per_user: i64,
    /// Failed logins from one client address within the window before it is throttled.
    pub login_failures_per_address: i64,
    pub login_window_secs: i64,
    /// Take the client address from the first `X-Forwarded-For` entry (behind a trusted proxy).
    pub trust_forwarded_for: bool,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("jwt_secret", &"<redacted>")
            .field("session_minutes", &self.session_minutes)
            .field("app_jwt_minutes", &self.app_jwt_minutes)
            .field("user_jwt_minutes", &self.user_jwt_minutes)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HttpConfig {
    pub body_limit_bytes: usize,
    pub request_timeout_secs: u64,
    pub cors_allowed_origins: Vec<String>,
    /// After SIGTERM: how long in-flight requests may take before the server stops regardless.
    pub shutdown_grace_secs: u64,
    /// How long the answer to a request sent with `Idempotency-Key` is kept for its repeats.
    pub idempotency_key_ttl_secs: u64,
    /// A connection must send a complete request head within this of opening (or of its first byte).
    pub header_read_timeout_secs: u64,
    /// A kept-alive connection with no request and no traffic for this long is closed.
    pub keep_alive_idle_secs: u64,
    /// Open connections at most; at the cap new ones wait in the backlog.
    pub max_connections: usize,
}

impl HttpConfig {
    /// How long an idempotency key's answer is kept (the job expires keys older than this).
    pub fn idempotency_key_ttl(&self) -> chrono::Duration {
        seconds(self.idempotency_key_ttl_secs)
    }

    pub fn request_timeout(&self) -> chrono::Duration {
        seconds(self.request_timeout_secs)
    }
}

/// Seconds from the config as a duration, saturating far beyond any real setting.
fn seconds(secs: u64) -> chrono::Duration {
    chrono::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 1000))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogConfig {
    pub format: String,
    pub level: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InventoryConfig {
    pub central_stock_name: String,
    pub networks: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RetentionConfig {
    pub events_months: u32,
    pub usage_months: u32,
    pub partition_months_ahead: u32,
    pub interval_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MvnoConfig {
    pub recovery_days: i64,
    pub purge_interval_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndpointConfig {
    /// The address space first start gives the PLATFORM (every org's endpoints draw from it when
    /// nothing nearer serves them). Empty: none.
    #[serde(default)]
    pub default_ip_address_space: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QuotaConfig {
    /// Seconds between runs of the job that expires endpoint quotas and refills auto-refill ones
    /// once a UTC day.
    pub check_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmsConfig {
    pub default_source_address: String,
    pub validity_hours: i64,
    /// Seconds between runs of the job that expires SMS past their expiry date.
    pub expiry_check_secs: u64,
}

/// The documented short environment names and the keys they set.
pub const SHORT_ENV: [(&str, &str); 6] = [
    ("SIMGATE_LISTEN", "listen"),
    ("SIMGATE_DATABASE_URL", "database.url"),
    ("SIMGATE_ADMIN_EMAIL", "admin.email"),
    ("SIMGATE_ADMIN_PASSWORD", "admin.password"),
    ("SIMGATE_JWT_SECRET", "auth.jwt_secret"),
    ("SIMGATE_LOG_FORMAT", "log.format"),
];

fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Text {
        S(String),
        N(u64),
    }
    Ok(match Text::deserialize(d)? {
        Text::S(s) => s,
        Text::N(n) => n.to_string(),
    })
}

/// `SIMGATE_*` variables that are not settings but are read by the binary itself.
pub const OTHER_ENV: [&str; 2] = ["SIMGATE_CONFIG", "SIMGATE_NEW_USER_PASSWORD"];

/// `SIMGATE_*` prefixes of variables read by the test suite and the scripts, never by the server.
const TOOL_ENV_PREFIXES: [&str; 4] = [
    "SIMGATE_TEST_",
    "SIMGATE_UPDATE_",
    "SIMGATE_CITUS_",
    "SIMGATE_BENCH_",
];

/// The environment variable that sets a dotted key (`http.request_timeout_secs` →
/// `SIMGATE_HTTP__REQUEST_TIMEOUT_SECS`).
pub fn env_name(key: &str) -> String {
    format!("SIMGATE_{}", key.replace('.', "__").to_ascii_uppercase())
}

/// Every setting's dotted key, in the order of the default file.
pub fn setting_keys() -> Vec<String> {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut Vec<String>) {
        if let serde_json::Value::Object(map) = v {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                if v.is_object() {
                    walk(&key, v, out);
                } else {
                    out.push(key);
                }
            }
        }
    }
    let mut keys = Vec::new();
    let defaults = serde_json::to_value(Config::defaults()).expect("the config serializes");
    walk("", &defaults, &mut keys);
    keys
}

/// The `SIMGATE_*` variables among `vars` that set nothing (a typo such as
/// `SIMGATE_HTTP__REQUEST_TIMEOUT`), so that the server can name them at start.
pub fn unknown_env<I: IntoIterator<Item = String>>(vars: I) -> Vec<String> {
    let known: std::collections::HashSet<String> = setting_keys()
        .iter()
        .map(|k| env_name(k))
        .chain(SHORT_ENV.iter().map(|(env, _)| env.to_string()))
        .chain(OTHER_ENV.iter().map(|e| e.to_string()))
        .collect();
    let mut unknown: Vec<String> = vars
        .into_iter()
        .filter(|v| v.to_ascii_uppercase().starts_with("SIMGATE_"))
        .filter(|v| {
            !TOOL_ENV_PREFIXES
                .iter()
                .any(|p| v.to_ascii_uppercase().starts_with(p))
        })
        .filter(|v| !known.contains(&v.to_ascii_uppercase()))
        .collect();
    unknown.sort();
    unknown
}

/// A bare port (`8080`) keeps the host of `base`, the address the config files set (127.0.0.1 by
/// default, 0.0.0.0 in the container image's file); anything else is an address as given.
pub fn listen_address(listen: &str, base: &str) -> String {
    let listen = listen.trim();
    if listen.parse::<u16>().is_ok() {
        let host = base
            .rsplit_once(':')
            .map(|(h, _)| h)
            .filter(|h| !h.is_empty())
            .unwrap_or("127.0.0.1");
        format!("{host}:{listen}")
    } else {
        listen.to_string()
    }
}

impl Config {
    /// Defaults only: what tests start from.
    pub fn defaults() -> Config {
        Figment::from(Toml::string(DEFAULT_TOML))
            .extract()
            .expect("config/default.toml is valid")
    }

    /// Defaults < `file` < environment; a bare port in `listen` keeps the files' host.
    pub fn load(file: Option<&Path>) -> Result<Config, Box<figment::Error>> {
        let mut fig = Figment::from(Toml::string(DEFAULT_TOML));
        if let Some(file) = file {
            if !file.exists() {
                return Err(Box::new(figment::Error::from(format!(
                    "config file {} not found",
                    file.display()
                ))));
            }
            fig = fig.merge(Toml::file(file));
        }
        let base_listen: String = fig.extract_inner("listen").map_err(Box::new)?;
        let short: Vec<&str> = SHORT_ENV.iter().map(|(env, _)| *env).collect();
        fig = fig
            .merge(
                Env::prefixed("SIMGATE_")
                    .split("__")
                    .filter(|k| !k.as_str().starts_with("test_") && k.as_str().contains('.')),
            )
            .merge(Env::raw().only(&short).map(|k| {
                SHORT_ENV
                    .iter()
                    .find(|(env, _)| k.as_str().eq_ignore_ascii_case(env))
                    .map(|(_, key)| (*key).into())
                    .unwrap_or_else(|| k.into())
            }));
        let mut config: Config = fig.extract().map_err(Box::new)?;
        config.listen = listen_address(&config.listen, &base_listen);
        Ok(config)
    }

    /// Figment's view of this config, for tests that override a few keys.
    pub fn figment(&self) -> Figment {
        Figment::from(Serialized::defaults(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_match_the_documented_values() {
        let c = Config::defaults();
        assert_eq!(c.listen, "127.0.0.1:8080");
        assert_eq!(c.database.url, "sqlite://data/simgate.db");
        assert_eq!(c.admin.email, "admin@localhost");
        assert_eq!(c.auth.session_minutes, 15);
        assert_eq!(c.inventory.central_stock_name, "Centrallager");
        assert_eq!(c.mvno.recovery_days, 30);
        assert_eq!(c.sms.default_source_address, "simgate");
        assert_eq!(c.sms.validity_hours, 24);
        assert_eq!(c.endpoint.default_ip_address_space, "10.192.0.0/16");
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's signature
    fn file_then_env_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "simgate.toml",
                "listen = \"0.0.0.0:9000\"\n[http]\nrequest_timeout_secs = 5\n",
            )?;
            jail.set_env("SIMGATE_DATABASE_URL", "postgres://db/simgate");
            jail.set_env("SIMGATE_HTTP__REQUEST_TIMEOUT_SECS", "7");
            jail.set_env("SIMGATE_LOG_FORMAT", "json");
            let c = Config::load(Some(Path::new("simgate.toml"))).map_err(|e| *e)?;
            assert_eq!(c.listen, "0.0.0.0:9000");
            assert_eq!(c.database.url, "postgres://db/simgate");
            assert_eq!(c.http.request_timeout_secs, 7);
            assert_eq!(c.log.format, "json");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's signature
    fn a_bare_port_keeps_the_host_of_the_configured_address() {
        assert_eq!(listen_address("8080", "127.0.0.1:8080"), "127.0.0.1:8080");
        assert_eq!(listen_address(" 9000 ", "0.0.0.0:8080"), "0.0.0.0:9000");
        assert_eq!(listen_address("9000", "[::]:8080"), "[::]:9000");
        assert_eq!(listen_address("10.0.0.1:81", "0.0.0.0:8080"), "10.0.0.1:81");
        assert_eq!(listen_address("70000", "0.0.0.0:8080"), "70000");
        figment::Jail::expect_with(|jail| {
            jail.set_env("SIMGATE_LISTEN", "9090");
            assert_eq!(Config::load(None).map_err(|e| *e)?.listen, "127.0.0.1:9090");
            jail.create_file("container.toml", "listen = \"0.0.0.0:8080\"\n")?;
            let c = Config::load(Some(Path::new("container.toml"))).map_err(|e| *e)?;
            assert_eq!(c.listen, "0.0.0.0:9090");
            Ok(())
        });
    }

    #[test]
    fn unknown_simgate_variables_are_named_and_settings_are_not() {
        let vars = [
            "SIMGATE_HTTP__REQUEST_TIMEOUT",
            "SIMGATE_HTTP__REQUEST_TIMEOUT_SECS",
            "SIMGATE_LISTEN",
            "SIMGATE_DATABASE__URL",
            "SIMGATE_DATABSE_URL",
            "SIMGATE_CONFIG",
            "SIMGATE_TEST_DATABASE_URL",
            "SIMGATE_INVENTORY__NETWORKS",
            "PATH",
        ]
        .map(String::from);
        assert_eq!(
            unknown_env(vars),
            ["SIMGATE_DATABSE_URL", "SIMGATE_HTTP__REQUEST_TIMEOUT"]
        );
        let keys = setting_keys();
        assert!(keys.contains(&"retention.partition_months_ahead".to_string()));
        assert!(keys
            .iter()
            .all(|k| DEFAULT_TOML.contains(k.rsplit('.').next().unwrap())));
    }

    #[test]
    fn secrets_are_not_printed_by_debug() {
        let mut c = Config::defaults();
        c.admin.password = "hunter2-secret".into();
        c.auth.jwt_secret = "jwt-very-secret".into();
        let printed = format!("{c:?}");
        assert!(!printed.contains("hunter2-secret"));
        assert!(!printed.contains("jwt-very-secret"));
    }
}
