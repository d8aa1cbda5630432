//! Opening a store: pool sizing and time-outs, the connection check before use, the backend the URL
//! names.
use super::db::Pool;
use super::labels::Labels;
use super::point_reads::{self, PointReads};
use super::{distrust_connections, postgres, sqlite, DynStore};
use std::sync::Arc;

/// The store: one implementation of every trait for both backends.
pub struct SqlStore {
    pub(crate) pool: Pool,
    /// List and statistics reads: a replica's pool when `database.read_url` is set, else `pool`.
    pub(crate) reads: Pool,
    pub(crate) labels: Labels,
    pub(crate) point_reads: PointReads<super::EmnifySim>,
    /// Single-endpoint reads, batched likewise (not on Citus, where a read by id names its tenant).
    pub(crate) endpoint_reads: PointReads<super::EndpointRow>,
    /// See [`super::MetaStore::access_epoch`]; bumped after the commit of such a write.
    pub(crate) access_epoch: std::sync::atomic::AtomicU64,
    /// The database is a Citus coordinator: a tenant's list names its tenant with `=`, which routes
    /// it to one shard (see [`super::tenancy::push_tenant`]), and reads by id go through `sim_keys`.
    pub(crate) citus: bool,
    /// IP address spaces' blocks by id (they never change).
    pub(crate) spaces: super::ip_spaces::SpaceCache,
}

impl SqlStore {
    pub(crate) fn new(pool: Pool, reads: Pool, cfg: &PoolConfig, citus: bool) -> Self {
        let keep = point_read_keep(cfg.max_connections);
        let fetch = point_reads::sim_fetcher(pool.clone(), cfg.label_cache.is_zero(), keep, citus);
        // As many as the SIM reads keep (a quarter of the pool, at most one per batch in flight): with
        // fewer, every other batch takes a pooled connection and gives it back, and sqlx pings a
        // connection it is given back (a round trip and a task per batch).
        let endpoints =
            point_reads::endpoint_fetcher(pool.clone(), cfg.label_cache.is_zero(), keep);
        SqlStore {
            pool,
            reads,
            labels: Labels::new(cfg.label_cache),
            point_reads: PointReads::new(fetch),
            endpoint_reads: PointReads::new(endpoints),
            access_epoch: Default::default(),
            citus,
            spaces: Default::default(),
        }
    }

    /// Marks a committed change to access (see [`super::MetaStore::access_epoch`]).
    pub(crate) fn access_changed(&self) {
        self.access_epoch
            .fetch_add(1, std::sync::atomic::Ordering::Release);
    }
}

/// How a store's pool is sized and how long a request waits for it.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    pub max_connections: u32,
    pub acquire_timeout: std::time::Duration,
    /// How long org and model labels are reused by the single-SIM read (0: joined every time).
    pub label_cache: std::time::Duration,
    /// Postgres: how long to wait for the database to accept connections at start.
    pub connect_retry: std::time::Duration,
    /// Postgres: the `statement_timeout` of every connection (None: the server's).
    pub statement_timeout: Option<std::time::Duration>,
}

impl PoolConfig {
    /// For one-off commands (migrate, admin): one connection, no label cache.
    pub fn single() -> Self {
        PoolConfig {
            max_connections: 1,
            acquire_timeout: std::time::Duration::from_secs(10),
            label_cache: std::time::Duration::ZERO,
            connect_retry: std::time::Duration::ZERO,
            statement_timeout: None,
        }
    }
}

/// Pool options shared by both backends. sqlx pings every connection before handing it out by
/// default: one extra round trip per query, measured at about half of the single-SIM read's time.
/// A connection used within the last second is taken to work and one idle for longer is pinged
/// (HikariCP's rule); after a lost connection every one is pinged for a while ([`distrust_connections`]),
/// so a database restart costs the queries in flight on dead connections, not one per pooled connection.
pub(crate) fn pool_options<DB: sqlx::Database>(
    max_connections: u32,
) -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::<DB>::new()
        .max_connections(max_connections)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if distrust_connections(meta.idle_for) {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// Opens the store the URL names (`postgres://` or `sqlite://`) and applies migrations. `read_url`
/// (Postgres only): a replica for list and statistics reads.
pub async fn connect(
    url: &str,
    read_url: Option<&str>,
    pool: &PoolConfig,
) -> anyhow::Result<DynStore> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::connect(url, read_url, pool).await?))
    } else if url.starts_with("sqlite:") {
        if read_url.is_some() {
            anyhow::bail!(
                "database.read_url needs Postgres; an embedded SQLite database has no replicas"
            );
        }
        Ok(Arc::new(sqlite::connect(url, pool).await?))
    } else {
        anyhow::bail!("unsupported database URL scheme (expected postgres:// or sqlite://)")
    }
}

/// Where the database is, for a banner or an error: a Postgres URL without user, password and
/// parameters (which may hold a password too); a SQLite file as an absolute path.
pub fn redacted_url(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let path = rest.trim_start_matches("//");
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() || path.starts_with(':') {
            return format!("sqlite:{path}");
        }
        let abs = std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.into());
        return abs.display().to_string();
    }
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_password(None);
            let _ = u.set_username("");
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => "(an unreadable database URL)".into(),
    }
}

/// Connections the single-SIM reads keep between batches: none in a small pool, where every
/// connection must stay free for the other requests (a pool of 2 would otherwise be theirs alone).
pub(crate) fn point_read_keep(max_connections: u32) -> usize {
    (max_connections as usize / 4).min(point_reads::IN_FLIGHT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_locations_leave_credentials_out() {
        assert_eq!(
            redacted_url("postgres://simgate:s3cret@db:5432/simgate?password=x&sslmode=require"),
            "postgres://db:5432/simgate"
        );
        assert_eq!(redacted_url("postgresql://u@h/d"), "postgresql://h/d");
        let here = std::env::current_dir().unwrap();
        assert_eq!(
            redacted_url("sqlite://data/simgate.db?mode=rwc"),
            here.join("data/simgate.db").display().to_string()
        );
        assert_eq!(redacted_url("sqlite:///var/lib/s.db"), "/var/lib/s.db");
        assert_eq!(redacted_url("sqlite::memory:"), "sqlite::memory:");
        assert!(!redacted_url("postgres://a:pw@[bad").contains("pw"));
    }

    #[test]
    fn small_pools_keep_no_connection_for_point_reads() {
        assert_eq!(point_read_keep(2), 0);
        assert_eq!(point_read_keep(4), 1);
        assert_eq!(point_read_keep(10), 2);
    }
}
