//! SIMs and the unused-SIM counters. Every change of a SIM's storage or use adjusts
//! `sim_inventory_counts` in the same transaction, so `/sim/status` never scans `sims`.
use super::bulk::{self, ImportEvents, InsertedSim, NewSimsShared};
use super::db::{query, Builder, Tx};
use super::keys;
use super::owners::{self, Sims};
use super::scope::{self, Owner};
use super::*;
use crate::domain::access::Scope;
use std::collections::BTreeMap;

pub(crate) const SIM_SELECT: &str = "SELECT s.id, s.iccid, s.imsi, s.msisdn, s.eid, s.puk1, \
    s.puk2, s.pin1, s.pin2, \
     s.form_factor, s.network, s.model_id, s.batch_id, s.status, s.issuer_org_id, s.reseller_org_id, \
     s.customer_org_id, s.in_storage_at, s.auto_assign, s.activation_code, s.tag, s.endpoint_id, \
     s.mvno_account_id, s.production_date, s.activation_date, s.created_at, s.updated_at, s.version, \
     so.oid AS storage_oid, so.path AS storage_path, ao.path AS account_path \
     FROM sims s LEFT JOIN organisations so ON so.id = s.in_storage_at \
     LEFT JOIN mvno_accounts m ON m.tenant_org_id = s.tenant_org_id AND m.id = s.mvno_account_id \
     LEFT JOIN organisations ao ON ao.id = m.customer_org_id";

/// A SIM is unused (in storage) when it is not deleted and has neither an MVNO account nor an endpoint.
pub(crate) const UNUSED: &str =
    "s.status <> 3 AND s.mvno_account_id IS NULL AND s.endpoint_id IS NULL";

/// Rows per multi-row INSERT: far below both backends' bind-parameter limits.
pub(crate) const INSERT_CHUNK: usize = 500;

/// Moves `delta` SIMs into (or out of) one inventory bucket; central stock is storage 0 (NULL cannot be
/// part of the key).
pub(crate) async fn adjust_count(
    tx: &mut Tx,
    storage: Option<i64>,
    network: &str,
    form_factor: &str,
    auto_assign: bool,
    delta: i64,
) -> StoreResult<()> {
    query(
        "INSERT INTO sim_inventory_counts (storage_org_id, network, form_factor, auto_assign, \
            count) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (storage_org_id, network, form_factor, auto_assign) \
         DO UPDATE SET count = sim_inventory_counts.count + excluded.count",
    )
    .bind(storage.unwrap_or(0))
    .bind(network)
    .bind(form_factor)
    .bind(auto_assign)
    .bind(delta)
    .execute(tx)
    .await?;
    Ok(())
}

/// Takes the inventory counters of these buckets (storage, network, form factor, auto-assign) in key
/// order before the SIM rows they count are written (lock order step 3, before the owner counters' step 4).
pub(crate) async fn lock_counts(
    tx: &mut Tx,
    mut keys: Vec<(i64, String, &'static str, bool)>,
) -> StoreResult<()> {
    keys.sort();
    keys.dedup();
    for (storage, network, ff, auto) in keys {
        adjust_count(tx, Some(storage).filter(|s| *s != 0), &network, ff, auto, 0).await?;
    }
    Ok(())
}

/// New SIMs enter the counters of their holder and of their owners, and each gets its "SIM imported"
/// event.
pub(crate) async fn record_new_sims(
    tx: &mut Tx,
    actor: &Actor,
    shared: &NewSimsShared,
    event_org: i64,
    rows: &[InsertedSim],
) -> StoreResult<()> {
    let storage = shared.in_storage_at;
    owners::added(tx, shared, rows.len()).await?;
    let mut buckets: BTreeMap<(&str, &str, bool), i64> = BTreeMap::new();
    for (_, _, network, ff, auto) in rows {
        *buckets
            .entry((network.as_str(), ff.as_str(), *auto))
            .or_default() += 1;
    }
    for ((network, ff, auto), n) in buckets {
        adjust_count(tx, storage, network, ff, auto, n).await?;
    }
    let sim_ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let events = ImportEvents {
        at: actor.at,
        org_id: event_org,
        user_id: actor.user_id,
        sim_ids: &sim_ids,
    };
    bulk::insert_import_events(tx, &events).await
}

#[async_trait::async_trait]
impl SimStore for SqlStore {
    async fn sim_import(
        &self,
        sims: &[crate::domain::sim::ImportedSim],
        holder: Option<&Holder>,
        issuer_org_id: i64,
        actor: &Actor,
    ) -> StoreResult<Vec<String>> {
        use bulk::{NewSimRow, NewSimsShared};
        let mut tx = self.pool.begin_write().await?;
        let mut rows: Vec<NewSimRow<'_>> = sims.iter().map(NewSimRow::from).collect();
        rows.sort_by(|a, b| a.iccid.cmp(b.iccid));
        let storage = holder.map(|h| h.org_id);
        lock_counts(
            &mut tx,
            rows.iter()
                .map(|r| {
                    (
                        storage.unwrap_or(0),
                        r.network.to_string(),
                        r.form_factor,
                        r.auto_assign,
                    )
                })
                .collect(),
        )
        .await?;
        let shared = NewSimsShared {
            issuer_org_id,
            reseller_org_id: holder.and_then(|h| h.reseller_org_id),
            customer_org_id: holder.and_then(|h| h.customer_org_id),
            in_storage_at: holder.map(|h| h.org_id),
            model_id: None,
            batch_id: None,
            at: actor.at,
            skip_existing: true,
        };
        let inserted = bulk::insert_sims(&mut tx, MetaStore::backend(self), &rows, &shared).await?;
        record_new_sims(
            &mut tx,
            actor,
            &shared,
            storage.unwrap_or(issuer_org_id),
            &inserted,
        )
        .await?;
        let summary = serde_json::json!({
            "imported": inserted.len(),
            "in_storage_at": storage,
            "first_sim_id": inserted.iter().map(|r| r.0).min(),
            "last_sim_id": inserted.iter().map(|r| r.0).max(),
        });
        journal::audit(
            &mut tx,
            actor,
            "import",
            "sim",
            "import",
            None::<&()>,
            Some(&summary),
        )
        .await?;
        tx.commit().await?;
        Ok(inserted.into_iter().map(|r| r.1).collect())
    }

    async fn sim_by_iccid(&self, scope: &Scope, iccid: &str) -> StoreResult<Option<SimRecord>> {
        let read = |tenant: Option<i64>| {
            let mut qb = Builder::new(format!("{SIM_SELECT} WHERE s.iccid = "));
            qb.push_bind(iccid.to_string());
            if let Some(t) = tenant {
                qb.push(" AND s.tenant_org_id = ").push_bind(t);
            }
            scope::push_scope(&mut qb, scope, Owner::Stock);
            qb.build()
        };
        if MetaStore::backend(self) != Backend::Citus {
            return read(None).fetch_optional(&self.pool).await;
        }
        // The ICC registry holds the SIM's key: the read then asks one shard. A SIM that moved
        // between the two reads is read again by its ICC alone.
        let tenant: Option<Option<i64>> =
            query("SELECT tenant_org_id FROM sim_iccids WHERE iccid = $1")
                .bind(iccid.to_string())
                .scalar_optional(&self.pool)
                .await?;
        let Some(tenant) = tenant else {
            return Ok(None);
        };
        match read(tenant).fetch_optional(&self.pool).await? {
            Some(sim) => Ok(Some(sim)),
            None if tenant.is_some() => read(None).fetch_optional(&self.pool).await,
            None => Ok(None),
        }
    }

    async fn sim_list_unused(
        &self,
        f: &UnusedSimFilter,
        page: crate::domain::paging::Page,
    ) -> StoreResult<(Vec<SimRecord>, i64)> {
        use tenancy::PageRead;
        use StorageFilter;
        let tenant = self
            .list_tenant(match &f.storage {
                StorageFilter::Subtree(path) => Some(path.as_str()),
                _ => None,
            })
            .await?;
        let filters = |qb: &mut Builder<'_>, walk: bool| {
            tenancy::push_tenant(qb, tenant, walk && !self.citus);
            scope::push_storage(qb, &f.storage, "s.in_storage_at");
            if let Some(ff) = f.form_factor {
                qb.push(" AND s.form_factor = ").push_bind(ff.as_str());
            }
            if let Some(n) = &f.network {
                qb.push(" AND s.network = ").push_bind(n.clone());
            }
            if let Some(a) = f.auto_assign {
                qb.push(" AND s.auto_assign = ").push_bind(a);
            }
            if let Some(sub) = &f.iccid_contains {
                qb.push(" AND s.iccid LIKE ")
                    .push_bind(format!("%{}%", like_literal(sub)))
                    .push(MetaStore::backend(self).like_escape());
            }
        };
        // The counters hold exactly the unused SIMs per holder, network, form factor and
        // autoAssign, so unless an ICC substring is asked for, the total is their sum.
        let total: i64 = if f.iccid_contains.is_none() {
            let mut count = Builder::new(
                "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM \
                            sim_inventory_counts WHERE 1=1",
            );
            match &f.storage {
                StorageFilter::Central => {
                    count.push(" AND storage_org_id = 0");
                }
                other => scope::push_storage(&mut count, other, "storage_org_id"),
            }
            if let Some(ff) = f.form_factor {
                count.push(" AND form_factor = ").push_bind(ff.as_str());
            }
            if let Some(n) = &f.network {
                count.push(" AND network = ").push_bind(n.clone());
            }
            if let Some(a) = f.auto_assign {
                count.push(" AND auto_assign = ").push_bind(a);
            }
            count.build().scalar(&self.reads).await?
        } else {
            let mut count = Builder::new(format!("SELECT COUNT(*) FROM sims s WHERE {UNUSED}"));
            filters(&mut count, false);
            count.build().scalar(&self.reads).await?
        };
        if page.offset >= total {
            return Ok((Vec::new(), total));
        }
        // Every unused SIM of one holder, of the central stock, of the whole stock or of a tenant is
        // one range of an index in ICC order.
        let only_storage = f.form_factor.is_none()
            && f.network.is_none()
            && f.auto_assign.is_none()
            && f.iccid_contains.is_none();
        let read = PageRead::choose(
            only_storage && !matches!(f.storage, StorageFilter::Subtree(_) if tenant.is_none()),
            total,
        );
        // The whole stock in ICC order: the backend may need to be told which index gives that order.
        let hint = match f.storage {
            _ if read == PageRead::FilterFirst => "",
            StorageFilter::Any => MetaStore::backend(self).whole_stock_index(),
            _ if tenant.is_some() => MetaStore::backend(self).tenant_stock_index(),
            _ => "",
        };
        let (head, tail) = tenancy::page_select(SIM_SELECT);
        let mut list = Builder::new(format!(
            "{head}FROM (SELECT s.* FROM sims s{hint} WHERE {UNUSED}"
        ));
        filters(&mut list, read == PageRead::Walk);
        list.push(" ORDER BY ")
            .push(read.tenant_first(tenant, false));
        list.push(read.order_term("s.iccid", true));
        list.push(" LIMIT ")
            .push_bind(page.limit)
            .push(" OFFSET ")
            .push_bind(page.offset);
        list.push(") s").push(tail).push(" ORDER BY s.iccid");
        let items = list.build().fetch_all(&self.reads).await?;
        Ok((items, total))
    }

    async fn sim_assign(
        &self,
        scope: &Scope,
        sim_id: i64,
        holder: Option<Holder>,
        auto_assign: Option<bool>,
        actor: &Actor,
    ) -> StoreResult<SimRecord> {
        use {SimRecord, StoreError};
        let mut tx = self.pool.begin_write().await?;
        let backend = MetaStore::backend(self);
        let tenant = keys::pin_sim(&mut tx, backend, sim_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let mut qb = Builder::new(format!("{SIM_SELECT} WHERE s.id = "));
        qb.push_bind(sim_id)
            .push(" AND s.tenant_org_id = ")
            .push_bind(tenant);
        scope::push_scope(&mut qb, scope, Owner::Stock);
        let before: SimRecord = qb
            .build()
            .fetch_optional(&mut tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        actor.check_version(before.version)?;
        if !before.is_unused() {
            return Err(StoreError::Conflict {
                constraint: "sim_in_use".into(),
            });
        }
        let auto = auto_assign.unwrap_or(before.auto_assign);
        let storage = holder.as_ref().map(|h| h.org_id);
        // Both buckets, in key order (the lock order).
        let mut moves = [
            (before.in_storage_at.unwrap_or(0), before.auto_assign, -1i64),
            (storage.unwrap_or(0), auto, 1i64),
        ];
        moves.sort();
        for (holder_id, auto_assign, delta) in moves {
            adjust_count(
                &mut tx,
                Some(holder_id).filter(|h| *h != 0),
                &before.network,
                before.form_factor.as_str(),
                auto_assign,
                delta,
            )
            .await?;
        }
        owners::update(
            &mut tx,
            MetaStore::backend(self),
            Sims::One(sim_id),
            query(
                "UPDATE sims SET in_storage_at = $1, reseller_org_id = $2, customer_org_id = $3, \
                     auto_assign = $4, updated_at = $5, version = version + 1 \
                 WHERE id = $6 AND tenant_org_id = $7",
            )
            .bind(storage)
            .bind(holder.as_ref().and_then(|h| h.reseller_org_id))
            .bind(holder.as_ref().and_then(|h| h.customer_org_id))
            .bind(auto)
            .bind(actor.at)
            .bind(sim_id)
            .bind(tenant),
        )
        .await?;
        keys::relocate(&mut tx, backend, Sims::One(sim_id)).await?;
        let after: SimRecord = query(format!("{SIM_SELECT} WHERE s.id = $1"))
            .bind(sim_id)
            .fetch_one(&mut tx)
            .await?;
        let detail = serde_json::json!({
            "from": {"in_storage_at": before.in_storage_at, "auto_assign": before.auto_assign},
            "to": {"in_storage_at": storage, "auto_assign": auto},
        });
        journal::event(
            &mut tx,
            actor,
            storage.or(actor.org_id),
            Some(sim_id),
            crate::domain::events::SIM_MOVED_TO_STORAGE,
            "SIM moved to storage",
            Some(&detail),
        )
        .await?;
        journal::audit(
            &mut tx,
            actor,
            "assign",
            "sim",
            sim_id,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn inventory_counts(
        &self,
        storage: &StorageFilter,
        network: Option<&str>,
    ) -> StoreResult<Vec<crate::domain::inventory::Count>> {
        let mut qb = Builder::new(
            "SELECT storage_org_id, network, form_factor, auto_assign, count FROM \
                     sim_inventory_counts WHERE count > 0",
        );
        match storage {
            // Central stock is stored as 0: NULL cannot be part of the key.
            StorageFilter::Central => {
                qb.push(" AND storage_org_id = 0");
            }
            other => scope::push_storage(&mut qb, other, "storage_org_id"),
        }
        if let Some(n) = network {
            qb.push(" AND network = ").push_bind(n.to_string());
        }
        let rows: Vec<(i64, String, String, bool, i64)> = qb.build().fetch_all(&self.reads).await?;
        Ok(rows
            .into_iter()
            .filter_map(|(storage, network, ff, auto, count)| {
                Some(crate::domain::inventory::Count {
                    holder: (storage != 0).then_some(storage),
                    network,
                    form_factor: crate::domain::sim::FormFactor::parse(&ff)?,
                    auto_assign: auto,
                    count,
                })
            })
            .collect())
    }

    async fn orgs_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<Org>> {
        use orgs::ORG_COLUMNS;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = Builder::new(format!(
            "SELECT {ORG_COLUMNS} FROM organisations WHERE id IN "
        ));
        qb.push_list(ids.iter().copied());
        Ok(qb.build().fetch_all(&self.pool).await?)
    }
}
