//! The distribution key (`tenant_org_id`) of tenant-owned rows: what it is for an org, how a write
//! finds and locks rows by it, and how a SIM that changes tenant moves (docs/scale-out.md).
//!
//! On Citus a row lock is taken only by a query that names one shard, so every locked read of a SIM
//! or an account names its key. The key is read first without a lock; a row that moved in between
//! is not found under the old key and is looked up again. Off Citus a key changes in place, so a
//! SIM's rows are locked by one read (Postgres) or not at all (SQLite's write transaction excludes
//! every other writer). The aids that route by id (`sim_keys`, the ICC registry's keys) and the move
//! itself are Citus's own ([`Backend::Citus`]).
use super::db::{query, Builder, Tx};
use super::owners::Sims;
use super::{Backend, StoreError, StoreResult};

pub(crate) use crate::domain::org::{CENTRAL_TENANT as CENTRAL, SHARED_TENANT as SHARED};

/// How often a lock is retried when its rows keep moving to another tenant.
const MOVE_RETRIES: usize = 10;

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
    let mut qb = Builder::new(format!("SELECT id, tenant_org_id FROM {table} WHERE id"));
    qb.push_in_ids(tx.dialect(), ids);
    let rows: Vec<(i64, Option<i64>)> = qb.build().fetch_all(&mut *tx).await?;
    Ok(rows.into_iter().collect())
}

/// Locks the SIMs `which` names, in (key, id) order (lock order step 2), and returns the keys they
/// have under the lock.
pub(crate) async fn pin_sims(tx: &mut Tx, backend: Backend, which: Sims) -> StoreResult<Vec<i64>> {
    let (condition, id) = which.condition();
    if backend == Backend::Postgres {
        // Off Citus a row lock needs no key, and a key changes in place: one locked read.
        let rows: Vec<(i64, i64)> = query(format!(
            "SELECT s.tenant_org_id, s.id FROM sims s WHERE {condition} ORDER BY 1, 2 FOR UPDATE"
        ))
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        let mut tenants: Vec<i64> = rows.into_iter().map(|r| r.0).collect();
        tenants.dedup();
        return Ok(tenants);
    }
    for attempt in 0..MOVE_RETRIES {
        if attempt > 0 {
            // A move commits on two workers one after the other (Citus's two-phase commit): give
            // the second a moment rather than reading the half-done move again at once.
            tokio::time::sleep(std::time::Duration::from_millis(2 << attempt.min(6))).await;
        }
        let seen = keys_of(tx, backend, which).await?;
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
    // Lost to other movers: the request runs again (api::retry), or answers 503, never 500.
    Err(StoreError::Contention(
        "SIMs kept moving between tenants while being locked".into(),
    ))
}

/// The (key, id) of the SIMs `which` names, read without a lock, in that order: one SIM's from
/// `sim_keys` on Citus (a router query, where `sims` by id alone asks every shard).
pub(crate) async fn keys_of(
    tx: &mut Tx,
    backend: Backend,
    which: Sims,
) -> StoreResult<Vec<(i64, i64)>> {
    let sql = match (which, backend) {
        (Sims::One(_), Backend::Citus) => {
            "SELECT tenant_org_id, id FROM sim_keys WHERE id = $1".into()
        }
        _ => {
            let (condition, _) = which.condition();
            format!("SELECT s.tenant_org_id, s.id FROM sims s WHERE {condition} ORDER BY 1, 2")
        }
    };
    query(sql).bind(which.condition().1).fetch_all(tx).await
}

/// Locks one SIM; its key, or `None` when it does not exist.
pub(crate) async fn pin_sim(tx: &mut Tx, backend: Backend, id: i64) -> StoreResult<Option<i64>> {
    Ok(pin_sims(tx, backend, Sims::One(id)).await?.first().copied())
}

/// The one key all SIMs of a batch will have once registered to (reseller, customer) (`None` keeps
/// an org), or `None` when they will not share one.
pub(crate) async fn batch_tenant(
    tx: &mut Tx,
    batch_id: i64,
    (reseller, customer): (Option<i64>, Option<i64>),
) -> StoreResult<Option<i64>> {
    type Orgs = (Option<i64>, Option<i64>, Option<i64>, Option<i64>);
    let combos: Vec<Orgs> = query(
        "SELECT DISTINCT issuer_org_id, COALESCE($1, reseller_org_id), COALESCE($2, customer_org_id), \
         in_storage_at FROM sims WHERE batch_id = $3",
    )
    .bind(reseller)
    .bind(customer)
    .bind(batch_id)
    .fetch_all(&mut *tx)
    .await?;
    let orgs = of_many(
        tx,
        "organisations",
        combos
            .iter()
            .flat_map(|c| [c.0, c.1, c.2, c.3].into_iter().flatten()),
    )
    .await?;
    let mut tenants: Vec<i64> = combos
        .iter()
        .map(|c| sim_tenant(&orgs, [c.0, c.1, c.2, c.3]))
        .collect();
    tenants.sort_unstable();
    tenants.dedup();
    Ok(match tenants[..] {
        [one] => Some(one),
        _ => None,
    })
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

/// A move's INSERT: every column of `sims` but the key, copied under the new key.
const MOVE_INSERT: &str = "INSERT INTO sims (id, iccid, imsi, msisdn, eid, puk1, puk2, pin1, pin2, \
    form_factor, network, model_id, batch_id, status, issuer_org_id, reseller_org_id, customer_org_id, \
    in_storage_at, auto_assign, activation_code, tag, endpoint_id, mvno_account_id, production_date, \
    activation_date, created_at, updated_at, version, tenant_org_id) \
    SELECT id, iccid, imsi, msisdn, eid, puk1, puk2, pin1, pin2, form_factor, network, model_id, batch_id, \
    status, issuer_org_id, reseller_org_id, customer_org_id, in_storage_at, auto_assign, activation_code, \
    tag, endpoint_id, mvno_account_id, production_date, activation_date, created_at, updated_at, version, \
    CAST(";

/// After a write that changed the orgs of the (locked) SIMs `which` names: each SIM whose orgs now
/// share another tenant moves there. On Citus the row is inserted under its new key and deleted under
/// the old one, and `sim_keys` and the ICC registry follow, in this transaction; elsewhere the column
/// is updated.
pub(crate) async fn relocate(tx: &mut Tx, backend: Backend, which: Sims) -> StoreResult<()> {
    let mut tenants: Vec<i64> = keys_of(tx, backend, which)
        .await?
        .into_iter()
        .map(|k| k.0)
        .collect();
    tenants.dedup();
    if tenants.is_empty() {
        return Ok(());
    }
    type Read = (
        i64,
        i64,
        String,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    );
    let rows: Vec<Read> = super::owners::select(
        "s.id, s.tenant_org_id, s.iccid, s.issuer_org_id, s.reseller_org_id, s.customer_org_id, \
         s.in_storage_at",
        which,
        &tenants,
    )
    .build()
    .fetch_all(&mut *tx)
    .await?;
    let orgs = of_many(
        tx,
        "organisations",
        rows.iter()
            .flat_map(|r| [r.3, r.4, r.5, r.6].into_iter().flatten()),
    )
    .await?;
    let mut moves: std::collections::BTreeMap<(i64, i64), Vec<(i64, String)>> = Default::default();
    for (id, from, iccid, a, b, c, d) in rows {
        let to = sim_tenant(&orgs, [a, b, c, d]);
        if to != from {
            moves.entry((from, to)).or_default().push((id, iccid));
        }
    }
    for ((from, to), sims) in moves {
        for chunk in sims.chunks(super::sims::INSERT_CHUNK) {
            // (head, whether it sets the new key first, the column the chunk is named by)
            let statements: &[(&str, bool, &str)] = match backend {
                // Off Citus the key is an ordinary column.
                Backend::Sqlite | Backend::Postgres => {
                    &[("UPDATE sims SET tenant_org_id = ", true, "id")]
                }
                Backend::Citus => &[
                    (MOVE_INSERT, true, "id"),
                    ("DELETE FROM sims WHERE tenant_org_id = ", false, "id"),
                    ("UPDATE sim_keys SET tenant_org_id = ", true, "id"),
                    ("UPDATE sim_iccids SET tenant_org_id = ", true, "iccid"),
                ],
            };
            for (head, set, by) in statements {
                let mut qb = Builder::new(*head);
                if *set {
                    qb.push_bind(to).push(if head.starts_with("INSERT") {
                        " AS BIGINT) FROM sims WHERE tenant_org_id = "
                    } else {
                        " WHERE tenant_org_id = "
                    });
                }
                qb.push_bind(from).push(format!(" AND {by} IN "));
                if *by == "id" {
                    qb.push_list(chunk.iter().map(|c| c.0));
                } else {
                    qb.push_list(chunk.iter().map(|c| c.1.clone()));
                }
                qb.build().execute(&mut *tx).await?;
            }
        }
    }
    Ok(())
}
