//! The embedded SQLite backend: zero set-up, one file, WAL mode, foreign keys on.
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::ConnectOptions;
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    /// The same pool: an embedded database has no replicas (WAL lets readers run beside the writer).
    pub(crate) labels: crate::store::labels::Labels,
    pub(crate) point_reads: crate::store::point_reads::PointReads,
    pub(crate) reads: SqlitePool,
}

impl SqliteStore {
    pub async fn connect(url: &str, cfg: &crate::store::PoolConfig) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .disable_statement_logging();
        if let Some(dir) = std::path::Path::new(options.get_filename()).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)?;
            }
        }
        let pool = crate::store::pool_options::<Sqlite>(cfg.max_connections)
            .acquire_timeout(cfg.acquire_timeout)
            .connect_with(options)
            .await?;
        fold_iccs!(&pool, Sqlite)?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        let point_reads = crate::store::point_reads::PointReads::new(Self::esim_fetcher(
            pool.clone(),
            cfg.label_cache.is_zero(),
            crate::store::point_read_keep(cfg.max_connections),
        ));
        Ok(SqliteStore {
            reads: pool.clone(),
            pool,
            labels: crate::store::labels::Labels::new(cfg.label_cache),
            point_reads,
        })
    }

    /// SQLite allows one writer. A deferred transaction that reads before it writes fails with
    /// SQLITE_BUSY when another writer got in between; IMMEDIATE takes the write lock up front so
    /// concurrent writers queue on the busy timeout instead.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }
}

impl_list_tenant!(SqliteStore);
impl_meta_store!(SqliteStore, crate::store::Backend::Sqlite);
impl_org_store!(SqliteStore, Sqlite);
impl_user_store!(SqliteStore, Sqlite);
impl_token_store!(SqliteStore, Sqlite);
impl_idempotency_store!(SqliteStore, Sqlite);
// The planner picks the mvno_account_id index for the whole stock and sorts (migration 0003).
impl_sim_store!(
    SqliteStore,
    Sqlite,
    "",
    whole_stock_index = " INDEXED BY sims_unused_iccid_idx",
    tenant_stock_index = " INDEXED BY sims_tenant_unused_idx"
);
// One writer at a time: no row locks needed. LIKE is case-insensitive for ASCII.
impl_mvno_store!(
    SqliteStore,
    Sqlite,
    lock_account = "",
    lock_pick = "",
    lock_rows = "",
    ilike = "LIKE"
);
impl_emnify_store!(SqliteStore, Sqlite, lock_sim = "", lock_rows = "");
