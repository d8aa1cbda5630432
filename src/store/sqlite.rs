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
    let file = std::path::Path::new(options.get_filename());
    if let Some(dir) = file.parent() {
        if !dir.as_os_str().is_empty() && !dir.exists() {
            create_private_dir(dir)?;
        }
    }
    if !file.as_os_str().is_empty() && !file.exists() && !url.contains(":memory:") {
        // Created here, before SQLite does, so that it (and the WAL files SQLite gives the same
        // mode) is the owner's alone: it holds password hashes and token hashes.
        create_private_file(file)?;
    }
    let pool = pool_options::<Sqlite>(cfg.max_connections)
        .acquire_timeout(cfg.acquire_timeout)
        .connect_with(options)
        .await?;
    icc_fold::fold_iccs(&Pool::Lite(pool.clone())).await?;
    sqlx::migrate!("migrations/sqlite").run(&pool).await?;
    super::operators::seed(&Pool::Lite(pool.clone())).await?;
    Ok(SqlStore::new(
        Pool::Lite(pool.clone()),
        Pool::Lite(pool),
        cfg,
        false,
    ))
}

/// The data folder: owner only (0700).
fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// An empty database file, owner read/write only (0600).
fn create_private_file(file: &std::path::Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(file) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Makes a file the owner's alone (0600), e.g. a backup copy.
pub fn restrict_file(file: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}
