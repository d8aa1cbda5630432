//! `sim_owner_counts`: the SIMs counted by who may see them (issuer, reseller, customer), model, status
//! and whether a device is attached, so that the emnify list's total is a SUM over a few thousand rows.
//!
//! The store keeps it, in the transaction of every write that changes one of those columns (the
//! triggers that kept it before are gone: Citus does not run statement triggers with transition tables
//! on distributed tables, and one mechanism on every backend is one to test; docs/scale-out.md, rule 3).
//! A write counts the keys of the SIMs it changes before and after the change, under the rows' locks,
//! and applies the difference in key order (lock order step 4). A write outside simgate (a DBA's
//! UPDATE) must do the same or the totals drift; `tests/it/common.rs::assert_counters_match` checks them.
use super::bulk::NewSimsShared;
use super::db::{query, Builder, Query, Tx};
use super::{Backend, StoreResult};
use std::collections::BTreeMap;

/// (issuer, reseller, customer, model, status, with endpoint); absent ids are 0.
type OwnerKey = (i64, i64, i64, i64, i16, bool);

const KEY_COLUMNS: &str = "COALESCE(s.issuer_org_id, 0), COALESCE(s.reseller_org_id, 0), \
     COALESCE(s.customer_org_id, 0), COALESCE(s.model_id, 0), s.status, s.endpoint_id IS NOT NULL";

/// Which SIMs a write changes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sims {
    One(i64),
    Batch(i64),
}

impl Sims {
    /// `s.<column> = $1` and the value.
    pub(crate) fn condition(self) -> (&'static str, i64) {
        match self {
            Sims::One(id) => ("s.id = $1", id),
            Sims::Batch(id) => ("s.batch_id = $1", id),
        }
    }
}

/// `SELECT {columns} FROM sims s` of the SIMs `which` names under these keys (routed on Citus).
pub(crate) fn select<'q>(columns: &str, which: Sims, tenants: &[i64]) -> Builder<'q> {
    let (condition, id) = which.condition();
    let column = condition.trim_end_matches(" = $1");
    let mut qb = Builder::new(format!("SELECT {columns} FROM sims s WHERE {column} = "));
    qb.push_bind(id)
        .push(" AND s.tenant_org_id IN ")
        .push_list(tenants.to_vec());
    qb
}

async fn keys(tx: &mut Tx, which: Sims, tenants: &[i64]) -> StoreResult<Vec<OwnerKey>> {
    if tenants.is_empty() {
        return Ok(Vec::new());
    }
    select(KEY_COLUMNS, which, tenants)
        .build()
        .fetch_all(tx)
        .await
}

async fn apply(tx: &mut Tx, deltas: BTreeMap<OwnerKey, i64>) -> StoreResult<()> {
    for ((issuer, reseller, customer, model, status, endpoint), delta) in deltas {
        if delta == 0 {
            continue;
        }
        query(
            "INSERT INTO sim_owner_counts (issuer_org_id, reseller_org_id, customer_org_id, \
                model_id, status, \
             with_endpoint, count) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (issuer_org_id, reseller_org_id, customer_org_id, model_id, status, with_endpoint) \
             DO UPDATE SET count = sim_owner_counts.count + excluded.count",
        )
        .bind(issuer)
        .bind(reseller)
        .bind(customer)
        .bind(model)
        .bind(status)
        .bind(endpoint)
        .bind(delta)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Runs `update`, a statement that changes the SIMs `which` names, and moves them between counters.
pub(crate) async fn update(
    tx: &mut Tx,
    backend: Backend,
    which: Sims,
    update: Query<'_>,
) -> StoreResult<u64> {
    let mut deltas: BTreeMap<OwnerKey, i64> = BTreeMap::new();
    let tenants = super::keys::pin_sims(tx, backend, which).await?;
    for key in keys(tx, which, &tenants).await? {
        *deltas.entry(key).or_default() -= 1;
    }
    let changed = update.execute(&mut *tx).await?;
    // Off Citus an update may set the key itself (a batch registration): read the keys again.
    let mut tenants: Vec<i64> = super::keys::keys_of(tx, backend, which)
        .await?
        .into_iter()
        .map(|k| k.0)
        .collect();
    tenants.dedup();
    for key in keys(tx, which, &tenants).await? {
        *deltas.entry(key).or_default() += 1;
    }
    apply(tx, deltas).await?;
    Ok(changed)
}

/// New SIMs (status 0, no device) enter the counter of what they share.
pub(crate) async fn added(tx: &mut Tx, shared: &NewSimsShared, n: usize) -> StoreResult<()> {
    let key = (
        shared.issuer_org_id,
        shared.reseller_org_id.unwrap_or(0),
        shared.customer_org_id.unwrap_or(0),
        shared.model_id.unwrap_or(0),
        0,
        false,
    );
    apply(tx, BTreeMap::from([(key, n as i64)])).await
}
