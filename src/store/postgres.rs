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
        max_connections: u32,
        label_cache: Duration,
    ) -> anyhow::Result<Self> {
        let options = |url: &str| -> anyhow::Result<_> {
            // Statement logging is off: its lines carry the request span, and with it whatever
            // the request held (see `api::hostile::loggable_path`); slow queries show in metrics.
            Ok(PgConnectOptions::from_str(url)?
                .application_name("simgate")
                .disable_statement_logging())
        };
        let pool_options = || {
            crate::store::pool_options::<Postgres>(max_connections)
                .acquire_timeout(Duration::from_secs(5))
        };
        let pool = pool_options().connect_with(options(url)?).await?;
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
            label_cache.is_zero(),
        ));
        Ok(PgStore {
            pool,
            reads,
            labels: crate::store::labels::Labels::new(label_cache),
            point_reads,
        })
    }

    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }
}

impl_list_tenant!(PgStore);
impl_meta_store!(PgStore, crate::store::Backend::Postgres);
impl_org_store!(PgStore, Postgres);
impl_user_store!(PgStore, Postgres);
impl_token_store!(PgStore, Postgres);
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
