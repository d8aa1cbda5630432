//! The Postgres backend (production).
use sqlx::postgres::PgConnectOptions;
use sqlx::ConnectOptions;
use sqlx::{PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;

pub struct PgStore {
    pub(crate) pool: PgPool,
    /// List and statistics reads: a replica's pool when `database.read_url` is set, else `pool`.
    pub(crate) labels: crate::store::labels::Labels,
    pub(crate) point_reads: crate::store::point_reads::PointReads,
    pub(crate) reads: PgPool,
}

impl PgStore {
    pub async fn connect(
        url: &str,
        read_url: Option<&str>,
        cfg: &crate::store::PoolConfig,
    ) -> anyhow::Result<Self> {
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
        let pool_options = || {
            crate::store::pool_options::<Postgres>(cfg.max_connections)
                .acquire_timeout(cfg.acquire_timeout)
        };
        let primary = options(url)?;
        reachable(&primary, cfg.connect_retry).await?;
        let pool = pool_options().connect_with(primary).await?;
        fold_iccs!(&pool, Postgres)?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        // A replica follows the primary's schema and is never migrated from here; it connects on
        // first use, so a replica that is down does not keep the node from starting.
        let reads = match read_url {
            Some(r) => pool_options().connect_lazy_with(options(r)?),
            None => pool.clone(),
        };
        let point_reads = crate::store::point_reads::PointReads::new(Self::esim_fetcher(
            pool.clone(),
            cfg.label_cache.is_zero(),
            crate::store::point_read_keep(cfg.max_connections),
        ));
        Ok(PgStore {
            pool,
            reads,
            labels: crate::store::labels::Labels::new(cfg.label_cache),
            point_reads,
        })
    }

    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }
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

impl_list_tenant!(PgStore);
impl_meta_store!(PgStore, crate::store::Backend::Postgres);
impl_org_store!(PgStore, Postgres);
impl_user_store!(PgStore, Postgres);
impl_token_store!(PgStore, Postgres);
impl_idempotency_store!(PgStore, Postgres);
impl_sim_store!(
    PgStore,
    Postgres,
    " FOR UPDATE OF s",
    whole_stock_index = "",
    tenant_stock_index = ""
);
impl_mvno_store!(
    PgStore,
    Postgres,
    lock_account = " FOR UPDATE OF m",
    lock_pick = " FOR UPDATE OF s SKIP LOCKED",
    lock_rows = " FOR UPDATE SKIP LOCKED",
    ilike = "ILIKE"
);
impl_emnify_store!(
    PgStore,
    Postgres,
    lock_sim = " FOR UPDATE OF s",
    lock_rows = " FOR UPDATE"
);
