//! Bulk writes: the one place where the backends write many rows differently.
//!
//! Postgres gets each column as one array and inserts all rows with one `INSERT ... SELECT FROM UNNEST`
//! statement: one parse, one plan and one round trip per import, whatever its size (a multi-row VALUES
//! list costs a bind parameter per cell and a plan per 500 rows). SQLite runs in-process, where
//! multi-row VALUES chunks under its bind limit are as fast as it gets.
use super::*;

use super::db::Tx;
use super::keys;
use super::StoreResult;
use sqlx::Sqlite;

/// A new SIM row; what all rows of one insert share is in [`NewSimsShared`].
#[derive(Clone)]
pub(crate) struct NewSimRow<'a> {
    pub iccid: &'a str,
    pub imsi: Option<&'a str>,
    pub msisdn: Option<&'a str>,
    pub eid: Option<&'a str>,
    pub puk1: Option<&'a str>,
    pub puk2: Option<&'a str>,
    pub pin1: Option<&'a str>,
    pub pin2: Option<&'a str>,
    pub form_factor: &'static str,
    pub network: &'a str,
    pub activation_code: Option<&'a str>,
    pub tag: Option<&'a str>,
    pub auto_assign: bool,
    pub production_date: Option<chrono::NaiveDate>,
}

impl<'a> From<&'a crate::domain::sim::ImportedSim> for NewSimRow<'a> {
    fn from(s: &'a crate::domain::sim::ImportedSim) -> Self {
        NewSimRow {
            iccid: &s.iccid,
            imsi: None,
            msisdn: None,
            eid: None,
            puk1: s.puk1.as_deref(),
            puk2: s.puk2.as_deref(),
            pin1: s.pin1.as_deref(),
            pin2: s.pin2.as_deref(),
            form_factor: s.form_factor.as_str(),
            network: &s.network,
            activation_code: s.activation_code.as_deref(),
            tag: s.tag.as_deref(),
            auto_assign: s.auto_assign,
            production_date: None,
        }
    }
}

impl<'a> From<&'a BatchSim> for NewSimRow<'a> {
    fn from(s: &'a BatchSim) -> Self {
        NewSimRow {
            iccid: &s.iccid,
            imsi: s.imsi.as_deref(),
            msisdn: s.msisdn.as_deref(),
            eid: s.eid.as_deref(),
            puk1: s.puk1.as_deref(),
            puk2: s.puk2.as_deref(),
            pin1: s.pin1.as_deref(),
            pin2: s.pin2.as_deref(),
            form_factor: s.form_factor.as_str(),
            network: &s.network,
            activation_code: None,
            tag: None,
            auto_assign: false,
            production_date: s.production_date,
        }
    }
}

/// What every SIM of one insert has in common: new SIMs start in status 0 (issued).
pub(crate) struct NewSimsShared {
    pub issuer_org_id: i64,
    pub reseller_org_id: Option<i64>,
    pub customer_org_id: Option<i64>,
    pub in_storage_at: Option<i64>,
    pub model_id: Option<i64>,
    pub batch_id: Option<i64>,
    pub at: chrono::DateTime<chrono::Utc>,
    /// ICCs that exist already are skipped (TelecomX import) instead of failing the insert (batches).
    pub skip_existing: bool,
}

/// An inserted SIM: id, ICC, network, form factor, auto_assign.
pub(crate) type InsertedSim = (i64, String, String, String, bool);

/// The "SIM imported" event of each new SIM, all at one time, org and user.
pub(crate) struct ImportEvents<'a> {
    pub at: chrono::DateTime<chrono::Utc>,
    pub org_id: i64,
    pub user_id: Option<i64>,
    pub sim_ids: &'a [i64],
}

const SIM_COLUMNS: &str = "iccid, imsi, msisdn, eid, puk1, puk2, pin1, pin2, form_factor, \
    network, activation_code, \
     tag, auto_assign, production_date, status, issuer_org_id, reseller_org_id, customer_org_id, in_storage_at, \
     model_id, batch_id, created_at, updated_at, tenant_org_id";
const SIM_RETURNING: &str = " RETURNING id, iccid, network, form_factor, auto_assign";
const EVENT_COLUMNS: &str =
    "INSERT INTO events (ts, org_id, sim_id, user_id, type_id, source, severity, alert, \
        description, tenant_org_id) ";

/// Inserts the SIMs (skipping ICCs that exist when `shared.skip_existing`); returns the inserted rows.
pub(crate) async fn insert_sims(
    tx: &mut Tx,
    backend: Backend,
    rows: &[NewSimRow<'_>],
    shared: &NewSimsShared,
) -> StoreResult<Vec<InsertedSim>> {
    let sim_orgs = [
        Some(shared.issuer_org_id),
        shared.reseller_org_id,
        shared.customer_org_id,
        shared.in_storage_at,
    ];
    let orgs = keys::of_many(tx, "organisations", sim_orgs.into_iter().flatten()).await?;
    let tenant = keys::sim_tenant(&orgs, sim_orgs);
    match tx {
        Tx::Pg(t) => pg_insert_sims(t, rows, shared, tenant, backend == Backend::Citus).await,
        Tx::Lite(t) => lite_insert_sims(t, rows, shared, tenant).await,
    }
}

/// The "SIM imported" event of each new SIM.
pub(crate) async fn insert_import_events(
    tx: &mut Tx,
    events: &ImportEvents<'_>,
) -> StoreResult<()> {
    let tenant = keys::of_org(tx, Some(events.org_id)).await?;
    match tx {
        Tx::Pg(t) => pg_import_events(t, events, tenant).await?,
        Tx::Lite(t) => lite_import_events(t, events, tenant).await?,
    }
    Ok(())
}

async fn pg_insert_sims(
    conn: &mut sqlx::PgConnection,
    rows: &[NewSimRow<'_>],
    shared: &NewSimsShared,
    tenant: i64,
    keyed: bool,
) -> StoreResult<Vec<InsertedSim>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // The ICC registry keeps ICCs unique across tenants (docs/scale-out.md, rule 1): a taken ICC
    // fails there under `sims_iccid_key`, or is skipped with the rows that carry it. On Citus each
    // new SIM's key goes to `sim_keys`.
    let iccids: Vec<&str> = rows.iter().map(|r| r.iccid).collect();
    let fresh: Vec<String> = sqlx::query_scalar(&format!(
        "INSERT INTO sim_iccids (iccid, tenant_org_id) SELECT UNNEST($1::text[]), $2{} RETURNING iccid",
        if shared.skip_existing {
            " ON CONFLICT DO NOTHING"
        } else {
            ""
        }
    ))
    .bind(&iccids)
    .bind(tenant)
    .fetch_all(&mut *conn)
    .await?;
    let owned;
    let rows = if fresh.len() == rows.len() {
        rows
    } else {
        let mut fresh: std::collections::HashSet<String> = fresh.into_iter().collect();
        owned = rows
            .iter()
            .filter(|r| fresh.remove(r.iccid))
            .cloned()
            .collect::<Vec<_>>();
        &owned[..]
    };
    fn text<'a>(
        rows: &[NewSimRow<'a>],
        f: impl Fn(&NewSimRow<'a>) -> Option<&'a str>,
    ) -> Vec<Option<&'a str>> {
        rows.iter().map(f).collect()
    }
    let sql = format!(
        "INSERT INTO sims ({SIM_COLUMNS}) \
         SELECT u.*, 0, $15, $16, $17, $18, $19, $20, $21, $21, $22 FROM UNNEST(\
         $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], \
         $9::text[], $10::text[], $11::text[], $12::text[], $13::bool[], $14::date[]) AS u{SIM_RETURNING}"
    );
    let inserted: Vec<InsertedSim> = sqlx::query_as(&sql)
        .bind(text(rows, |r| Some(r.iccid)))
        .bind(text(rows, |r| r.imsi))
        .bind(text(rows, |r| r.msisdn))
        .bind(text(rows, |r| r.eid))
        .bind(text(rows, |r| r.puk1))
        .bind(text(rows, |r| r.puk2))
        .bind(text(rows, |r| r.pin1))
        .bind(text(rows, |r| r.pin2))
        .bind(text(rows, |r| Some(r.form_factor)))
        .bind(text(rows, |r| Some(r.network)))
        .bind(text(rows, |r| r.activation_code))
        .bind(text(rows, |r| r.tag))
        .bind(rows.iter().map(|r| r.auto_assign).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.production_date).collect::<Vec<_>>())
        .bind(shared.issuer_org_id)
        .bind(shared.reseller_org_id)
        .bind(shared.customer_org_id)
        .bind(shared.in_storage_at)
        .bind(shared.model_id)
        .bind(shared.batch_id)
        .bind(shared.at)
        .bind(tenant)
        .fetch_all(&mut *conn)
        .await?;
    if keyed {
        let ids: Vec<i64> = inserted.iter().map(|r| r.0).collect();
        sqlx::query("INSERT INTO sim_keys (id, tenant_org_id) SELECT UNNEST($1::bigint[]), $2")
            .bind(&ids)
            .bind(tenant)
            .execute(conn)
            .await?;
    }
    Ok(inserted)
}

async fn pg_import_events(
    conn: &mut sqlx::PgConnection,
    e: &ImportEvents<'_>,
    tenant: i64,
) -> Result<(), sqlx::Error> {
    use crate::domain::events::*;
    sqlx::query(&format!(
        "{EVENT_COLUMNS} SELECT $1, $2, id, $3, $4, $5, $6, FALSE, $7, $9 FROM \
                UNNEST($8::bigint[]) AS u(id)"
    ))
    .bind(e.at)
    .bind(e.org_id)
    .bind(e.user_id)
    .bind(SIM_IMPORTED)
    .bind(SOURCE_API)
    .bind(SEVERITY_INFO)
    .bind("SIM imported")
    .bind(e.sim_ids)
    .bind(tenant)
    .execute(conn)
    .await?;
    Ok(())
}

/// Rows per multi-row INSERT on SQLite: 24 columns × 400 rows stays under its 32,766 bind parameters.
const SQLITE_CHUNK: usize = 400;

async fn lite_insert_sims(
    conn: &mut sqlx::SqliteConnection,
    rows: &[NewSimRow<'_>],
    shared: &NewSimsShared,
    tenant: i64,
) -> StoreResult<Vec<InsertedSim>> {
    let mut inserted = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(SQLITE_CHUNK) {
        let mut qb =
            sqlx::QueryBuilder::<Sqlite>::new(format!("INSERT INTO sims ({SIM_COLUMNS}) "));
        qb.push_values(chunk, |mut b, r| {
            b.push_bind(r.iccid)
                .push_bind(r.imsi)
                .push_bind(r.msisdn)
                .push_bind(r.eid)
                .push_bind(r.puk1)
                .push_bind(r.puk2)
                .push_bind(r.pin1)
                .push_bind(r.pin2)
                .push_bind(r.form_factor)
                .push_bind(r.network)
                .push_bind(r.activation_code)
                .push_bind(r.tag)
                .push_bind(r.auto_assign)
                .push_bind(r.production_date)
                .push_bind(0i16)
                .push_bind(shared.issuer_org_id)
                .push_bind(shared.reseller_org_id)
                .push_bind(shared.customer_org_id)
                .push_bind(shared.in_storage_at)
                .push_bind(shared.model_id)
                .push_bind(shared.batch_id)
                .push_bind(shared.at)
                .push_bind(shared.at)
                .push_bind(tenant);
        });
        if shared.skip_existing {
            qb.push(" ON CONFLICT (iccid) DO NOTHING");
        }
        qb.push(SIM_RETURNING);
        inserted.extend(
            qb.build_query_as::<InsertedSim>()
                .fetch_all(&mut *conn)
                .await?,
        );
    }
    Ok(inserted)
}

async fn lite_import_events(
    conn: &mut sqlx::SqliteConnection,
    e: &ImportEvents<'_>,
    tenant: i64,
) -> Result<(), sqlx::Error> {
    use crate::domain::events::*;
    for chunk in e.sim_ids.chunks(SQLITE_CHUNK) {
        let mut qb = sqlx::QueryBuilder::<Sqlite>::new(EVENT_COLUMNS);
        qb.push_values(chunk, |mut b, id| {
            b.push_bind(e.at)
                .push_bind(e.org_id)
                .push_bind(*id)
                .push_bind(e.user_id)
                .push_bind(SIM_IMPORTED)
                .push_bind(SOURCE_API)
                .push_bind(SEVERITY_INFO)
                .push_bind(false)
                .push_bind("SIM imported")
                .push_bind(tenant);
        });
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// One column of the rows, as an array bound to an `UNNEST` (Postgres).
fn column<T, U>(rows: &[T], f: impl Fn(&T) -> U) -> Vec<U> {
    rows.iter().map(f).collect()
}

/// Usage added to one hourly bucket of a SIM or an endpoint (which, `UsageOf` says).
pub(crate) struct UsageAdd<'a> {
    pub key: i64,
    pub hour: chrono::DateTime<chrono::Utc>,
    pub traffic_type: i16,
    pub volume_tx: f64,
    pub volume_rx: f64,
    pub cost: f64,
    pub currency: &'a str,
    pub tenant: i64,
}

/// Whose hourly usage: a SIM's or an endpoint's.
#[derive(Debug, Clone, Copy)]
pub(crate) enum UsageOf {
    Sims,
    Endpoints,
}

impl UsageOf {
    fn table_and_key(self) -> (&'static str, &'static str) {
        match self {
            UsageOf::Sims => ("usage_hourly", "sim_id"),
            UsageOf::Endpoints => ("usage_endpoint_hourly", "endpoint_id"),
        }
    }
}

/// Adds each row's volumes and cost into its bucket (a row per bucket: one statement may not
/// upsert a key twice), stamped `at`.
pub(crate) async fn add_usage(
    tx: &mut Tx,
    of: UsageOf,
    rows: &[UsageAdd<'_>],
    at: chrono::DateTime<chrono::Utc>,
) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let (table, key) = of.table_and_key();
    let upsert = format!(
        " ON CONFLICT ({key}, hour, traffic_type, tenant_org_id) DO UPDATE SET \
         volume_tx = {table}.volume_tx + excluded.volume_tx, \
         volume_rx = {table}.volume_rx + excluded.volume_rx, \
         cost = {table}.cost + excluded.cost, \
         currency = excluded.currency, updated_at = excluded.updated_at"
    );
    let columns = format!(
        "INSERT INTO {table} ({key}, hour, traffic_type, volume_tx, volume_rx, cost, currency, \
         tenant_org_id, updated_at) "
    );
    match tx {
        Tx::Pg(t) => {
            sqlx::query(&format!(
                "{columns} SELECT u.*, $9 FROM UNNEST($1::bigint[], $2::timestamptz[], \
                 $3::smallint[], $4::float8[], $5::float8[], $6::float8[], $7::text[], \
                 $8::bigint[]) AS u{upsert}"
            ))
            .bind(column(rows, |r| r.key))
            .bind(column(rows, |r| r.hour))
            .bind(column(rows, |r| r.traffic_type))
            .bind(column(rows, |r| r.volume_tx))
            .bind(column(rows, |r| r.volume_rx))
            .bind(column(rows, |r| r.cost))
            .bind(column(rows, |r| r.currency))
            .bind(column(rows, |r| r.tenant))
            .bind(at)
            .execute(&mut **t)
            .await?;
        }
        Tx::Lite(t) => {
            for chunk in rows.chunks(SQLITE_CHUNK) {
                let mut qb = sqlx::QueryBuilder::<Sqlite>::new(&columns);
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(r.key)
                        .push_bind(r.hour)
                        .push_bind(r.traffic_type)
                        .push_bind(r.volume_tx)
                        .push_bind(r.volume_rx)
                        .push_bind(r.cost)
                        .push_bind(r.currency)
                        .push_bind(r.tenant)
                        .push_bind(at);
                });
                qb.push(&upsert);
                qb.build().execute(&mut **t).await?;
            }
        }
    }
    Ok(())
}

/// A quota after a draw: what the draw changes.
pub(crate) struct QuotaLeft {
    pub endpoint_id: i64,
    pub kind: i16,
    pub volume: f64,
    pub threshold_reported: bool,
    pub status: i16,
}

/// Writes the drawn quotas of one tenant (their rows held by the caller).
pub(crate) async fn update_quotas(tx: &mut Tx, tenant: i64, rows: &[QuotaLeft]) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let set = "UPDATE endpoint_quotas SET volume = u.volume, threshold_reported = u.reported, \
               status = u.status FROM ";
    let matched = " WHERE endpoint_quotas.tenant_org_id = ";
    let keys = " AND endpoint_quotas.endpoint_id = u.endpoint_id AND endpoint_quotas.kind = u.kind";
    match tx {
        Tx::Pg(t) => {
            sqlx::query(&format!(
                "{set}UNNEST($1::bigint[], $2::smallint[], $3::float8[], $4::bool[], \
                 $5::smallint[]) AS u(endpoint_id, kind, volume, reported, status){matched}$6{keys}"
            ))
            .bind(column(rows, |r| r.endpoint_id))
            .bind(column(rows, |r| r.kind))
            .bind(column(rows, |r| r.volume))
            .bind(column(rows, |r| r.threshold_reported))
            .bind(column(rows, |r| r.status))
            .bind(tenant)
            .execute(&mut **t)
            .await?;
        }
        Tx::Lite(t) => {
            for chunk in rows.chunks(SQLITE_CHUNK) {
                // A VALUES list's columns are column1, column2, ...: named in a select over it.
                let mut qb = sqlx::QueryBuilder::<Sqlite>::new(format!(
                    "{set}(SELECT column1 AS endpoint_id, column2 AS kind, column3 AS volume, \
                     column4 AS reported, column5 AS status FROM ("
                ));
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(r.endpoint_id)
                        .push_bind(r.kind)
                        .push_bind(r.volume)
                        .push_bind(r.threshold_reported)
                        .push_bind(r.status);
                });
                qb.push(format!(")) AS u{matched}"))
                    .push_bind(tenant)
                    .push(keys);
                qb.build().execute(&mut **t).await?;
            }
        }
    }
    Ok(())
}
