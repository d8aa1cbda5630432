//! The distribution key (`tenant_org_id`) of tenant-owned rows: what it is for an org, how a write
//! finds and locks rows by it, and how a SIM that changes tenant moves (docs/scale-out.md).
//!
//! On Citus a row lock is taken only by a query that names one shard, so every locked read of a SIM
//! or an account names its key. The key is read first without a lock; a row that moved in between
//! is not found under the old key and is looked up again. On Postgres and SQLite the same statements
//! run, so there is one mechanism to test.
use super::db::{query, Builder, Tx};
use super::owners::Sims;
use super::{Backend, StoreError, StoreResult};

pub(crate) use crate::domain::org::{CENTRAL_TENANT as CENTRAL, SHARED_TENANT as SHARED};

/// How often a lock is retried when its rows keep moving to another tenant.
const MOVE_RETRIES: usize = 5;

/// The key of rows owned by `org`: its top-level org, [`CENTRAL`] for the platform and for none.
/// Orgs never move, so the answer never changes.
pub(crate) async fn of_org(tx: &mut Tx, org: Option<i64>) -> StoreResult<i64> {
    let Some(org) = org else { return Ok(CENTRAL) };
    let tenant: Option<Option<i64>> =
        query("SELECT tenant_org_id FROM organisations WHERE id = $1")
            .bind(org)
            .scalar_optional(tx)
            .await?;
    Ok(tenant.flatten().unwrap_or(CENTRAL))
}

/// The `tenant_org_id` of many orgs or SIMs (`table` is `organisations` or `sims`), for bulk writes;
/// `None` for the platform, an id that does not exist is absent.
pub(crate) async fn of_many(
    tx: &mut Tx,
    table: &str,
    ids: impl IntoIterator<Item = i64>,
) -> StoreResult<std::collections::HashMap<i64, Option<i64>>> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(super::sims::INSERT_CHUNK) {
        let mut qb = Builder::new(format!(
            "SELECT id, tenant_org_id FROM {table} WHERE id IN "
        ));
        qb.push_list(chunk.iter().copied());
        let rows: Vec<(i64, Option<i64>)> = qb.build().fetch_all(&mut *tx).await?;
        out.extend(rows);
    }
    Ok(out)
}

/// Locks the SIMs `which` names, in (key, id) order (lock order step 2), and returns the keys they
/// have under the lock.
pub(crate) async fn pin_sims(tx: &mut Tx, backend: Backend, which: Sims) -> StoreResult<Vec<i64>> {
    let (condition, id) = which.condition();
    for _ in 0..MOVE_RETRIES {
        let seen: Vec<(i64, i64)> = query(format!(
            "SELECT s.tenant_org_id, s.id FROM sims s WHERE {condition} ORDER BY 1, 2"
        ))
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        let mut tenants: Vec<i64> = seen.iter().map(|r| r.0).collect();
        tenants.dedup();
        let lock = backend.lock_rows();
        if lock.is_empty() {
            // SQLite: the write transaction already excludes every other writer.
            return Ok(tenants);
        }
        let mut locked = Vec::with_capacity(seen.len());
        for t in &tenants {
            let rows: Vec<(i64, i64)> = query(format!(
                "SELECT s.tenant_org_id, s.id FROM sims s WHERE {condition} \
                 AND s.tenant_org_id = $2 ORDER BY s.id{lock}"
            ))
            .bind(id)
            .bind(*t)
            .fetch_all(&mut *tx)
            .await?;
            locked.extend(rows);
        }
        if locked == seen {
            return Ok(tenants);
        }
    }
    Err(StoreError::Database(
        "SIMs kept moving between tenants while being locked".into(),
    ))
}

/// Locks one SIM; its key, or `None` when it does not exist.
pub(crate) async fn pin_sim(tx: &mut Tx, backend: Backend, id: i64) -> StoreResult<Option<i64>> {
    Ok(pin_sims(tx, backend, Sims::One(id)).await?.first().copied())
}

/// Locks one MVNO account (lock order step 1); its key, or `None` when it does not exist.
/// Accounts never change tenant, so no retry is needed.
pub(crate) async fn pin_account(
    tx: &mut Tx,
    backend: Backend,
    id: i64,
) -> StoreResult<Option<i64>> {
    let tenant: Option<i64> = query("SELECT tenant_org_id FROM mvno_accounts WHERE id = $1")
        .bind(id)
        .scalar_optional(&mut *tx)
        .await?;
    let (Some(t), lock) = (tenant, backend.lock_rows()) else {
        return Ok(None);
    };
    if !lock.is_empty() {
        query(format!(
            "SELECT id FROM mvno_accounts WHERE id = $1 AND tenant_org_id = $2{lock}"
        ))
        .bind(id)
        .bind(t)
        .scalar_optional::<i64>(&mut *tx)
        .await?;
    }
    Ok(Some(t))
}

/// The key of a SIM with these orgs, their tenants looked up in `orgs`.
pub(crate) fn sim_tenant(
    orgs: &std::collections::HashMap<i64, Option<i64>>,
    sim_orgs: [Option<i64>; 4],
) -> i64 {
    crate::domain::org::sim_tenant(
        sim_orgs.map(|o| o.and_then(|o| orgs.get(&o).copied().flatten())),
    )
}

/// Every column of `sims`, in table order, for a move.
const SIM_COLUMNS: &str = "id, iccid, imsi, msisdn, eid, puk1, puk2, pin1, pin2, form_factor, \
    network, model_id, batch_id, status, issuer_org_id, reseller_org_id, customer_org_id, in_storage_at, \
    auto_assign, activation_code, tag, endpoint_id, mvno_account_id, production_date, activation_date, \
    created_at, updated_at, version";

/// After a write that changed the orgs of the (locked) SIMs `which` names: each SIM whose orgs now
/// share another tenant moves there. Postgres (and Citus) insert the row under its new key, delete the
/// old one and update `sim_keys`, in this transaction; SQLite updates the column.
pub(crate) async fn relocate(tx: &mut Tx, backend: Backend, which: Sims) -> StoreResult<()> {
    let (condition, id) = which.condition();
    type Row = (i64, i64, [Option<i64>; 4]);
    type Read = (i64, i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>);
    let rows: Vec<Read> = query(format!(
        "SELECT s.id, s.tenant_org_id, s.issuer_org_id, s.reseller_org_id, s.customer_org_id, \
         s.in_storage_at FROM sims s WHERE {condition} ORDER BY s.id"
    ))
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    let rows: Vec<Row> = rows
        .into_iter()
        .map(|(id, t, a, b, c, d)| (id, t, [a, b, c, d]))
        .collect();
    let orgs = of_many(
        tx,
        "organisations",
        rows.iter().flat_map(|r| r.2.into_iter().flatten()),
    )
    .await?;
    let mut moves: std::collections::BTreeMap<(i64, i64), Vec<i64>> = Default::default();
    for (id, from, sim_orgs) in rows {
        let to = sim_tenant(&orgs, sim_orgs);
        if to != from {
            moves.entry((from, to)).or_default().push(id);
        }
    }
    for ((from, to), ids) in moves {
        for chunk in ids.chunks(super::sims::INSERT_CHUNK) {
            let mut statements = Vec::new();
            let mut push = |head: String, set: bool| {
                let mut qb = Builder::new(head.clone());
                if set {
                    qb.push_bind(to).push(if head.starts_with("INSERT") {
                        " AS BIGINT) FROM sims WHERE tenant_org_id = "
                    } else {
                        " WHERE tenant_org_id = "
                    });
                }
                qb.push_bind(from)
                    .push(" AND id IN ")
                    .push_list(chunk.iter().copied());
                statements.push(qb);
            };
            match backend {
                Backend::Sqlite => push("UPDATE sims SET tenant_org_id = ".into(), true),
                Backend::Postgres => {
                    push(
                        format!(
                            "INSERT INTO sims ({SIM_COLUMNS}, tenant_org_id) \
                             SELECT {SIM_COLUMNS}, CAST("
                        ),
                        true,
                    );
                    push("DELETE FROM sims WHERE tenant_org_id = ".into(), false);
                    push("UPDATE sim_keys SET tenant_org_id = ".into(), true);
                }
            }
            for qb in statements {
                qb.build().execute(&mut *tx).await?;
            }
        }
    }
    Ok(())
}
