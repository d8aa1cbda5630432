//! The embedded SQLite backend: zero set-up, one file, WAL mode, foreign keys on.
use super::db::Pool;
use super::SqlStore;
use super::*;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::ConnectOptions;
use sqlx::Sqlite;
use std::str::FromStr;
use std::time::Duration;

/// Opens the embedded store: creates the file and its folder if missing, folds old ICCs, migrates.
pub(crate) async fn connect(url: &str, cfg: &PoolConfig) -> anyhow::Result<SqlStore> {
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
    let pool = pool_options::<Sqlite>(cfg.max_connections)
        .acquire_timeout(cfg.acquire_timeout)
        .connect_with(options)
        .await?;
    icc_fold::fold_iccs(&Pool::Lite(pool.clone())).await?;
    sqlx::migrate!("migrations/sqlite").run(&pool).await?;
    Ok(SqlStore::new(
        Pool::Lite(pool.clone()),
        Pool::Lite(pool),
        cfg,
        false,
    ))
}
