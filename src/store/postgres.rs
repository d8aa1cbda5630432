//! The Postgres backend (production).
use super::db::Pool;
use super::SqlStore;
use super::*;
use sqlx::postgres::PgConnectOptions;
use sqlx::ConnectOptions;
use sqlx::Postgres;
use std::str::FromStr;
use std::time::Duration;

/// Opens the Postgres store: waits for the database, folds old ICCs, migrates, and on Citus
/// distributes the tables.
pub(crate) async fn connect(
    url: &str,
    read_url: Option<&str>,
    cfg: &PoolConfig,
) -> anyhow::Result<SqlStore> {
    let options = |url: &str| -> anyhow::Result<PgConnectOptions> {
        // Statement logging is off: its lines carry the request span, and with it whatever
        // the request held (see `api::hostile::loggable_path`); slow queries show in metrics.
        let mut o = PgConnectOptions::from_str(url)?
            .application_name("simgate")
            .disable_statement_logging();
        if let Some(t) = cfg.statement_timeout {
            // A statement that runs away (or waits on a dead peer's lock) ends with 503.
            o = o.options([("statement_timeout", t.as_millis().to_string())]);
        }
        Ok(o)
    };
    let pool_options =
        || pool_options::<Postgres>(cfg.max_connections).acquire_timeout(cfg.acquire_timeout);
    let primary = options(url)?;
    reachable(&primary, cfg.connect_retry).await?;
    let pool = pool_options().connect_with(primary).await?;
    icc_fold::fold_iccs(&Pool::Pg(pool.clone())).await?;
    sqlx::migrate!("migrations/postgres").run(&pool).await?;
    let pool = Pool::Pg(pool);
    super::citus::distribute(&pool)
        .await
        .map_err(|e| anyhow::anyhow!("distributing the tables on Citus: {e}"))?;
    super::operators::seed(&pool).await?;
    let citus = super::citus::enabled(&pool).await?;
    // A replica follows the primary's schema and is never migrated from here; it connects on
    // first use, so a replica that is down does not keep the node from starting.
    let reads = match read_url {
        Some(r) => Pool::Pg(pool_options().connect_lazy_with(options(r)?)),
        None => pool.clone(),
    };
    Ok(SqlStore::new(pool, reads, cfg, citus))
}

/// Waits until the database accepts a connection, retrying with backoff for `retry` (containers
/// start before their database); then, or at once when `retry` is zero, fails naming the host,
/// the port and the cause.
async fn reachable(options: &PgConnectOptions, retry: Duration) -> anyhow::Result<()> {
    let (host, port) = (options.get_host().to_string(), options.get_port());
    let deadline = std::time::Instant::now() + retry;
    let mut delay = Duration::from_millis(250);
    loop {
        // Bounded: a black-holed host would otherwise hold the start for the TCP time-out.
        let attempt = tokio::time::timeout(Duration::from_secs(5), options.connect()).await;
        let cause = match attempt {
            Ok(Ok(conn)) => {
                let _ = sqlx::Connection::close(conn).await;
                return Ok(());
            }
            Ok(Err(e)) => match &e {
                // The server answered: retrying will not change a refusal of these credentials.
                sqlx::Error::Database(_) | sqlx::Error::Configuration(_) => {
                    anyhow::bail!("cannot connect to Postgres at {host}:{port}: {e}")
                }
                _ => e.to_string(),
            },
            Err(_) => "no answer within 5 s".to_string(),
        };
        if std::time::Instant::now() + delay > deadline {
            anyhow::bail!(
                "cannot connect to Postgres at {host}:{port}: {cause} (tried for {} s; \
                 database.connect_retry_secs)",
                retry.as_secs()
            );
        }
        tracing::warn!(%host, port, %cause, "Postgres not reachable yet; retrying");
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}
