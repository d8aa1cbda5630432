//! The emnify view of a SIM: with its orgs, model and endpoint; its list, status and org changes,
//! deletion.
use super::db::{query, Builder};
use super::keys;
use super::owners::{self, Sims};
use super::scope::{self, Owner};
use super::*;
use crate::domain::access::Scope;
use crate::domain::sim::SimStatus;

/// The SIM's own columns, then its orgs' and model's (joined or, in [`ESIM_SELECT_UNLABELLED`], left
/// NULL for the label cache to fill), then its endpoint's.
macro_rules! esim_columns {
    (sim) => {
        "SELECT s.id, s.iccid, s.imsi, s.msisdn, s.eid, s.status, s.production_date, \
         s.activation_date, s.issuer_org_id, s.reseller_org_id, s.customer_org_id, s.in_storage_at, s.endpoint_id, \
         s.mvno_account_id, s.network, s.form_factor, s.auto_assign, s.version, s.model_id, \
         e.name AS endpoint_name, e.imei AS endpoint_imei, e.created_at AS endpoint_created, \
         e.updated_at AS endpoint_updated, e.org_id AS endpoint_org_id, e.service_profile_id, e.tariff_profile_id, \
         e.tags AS endpoint_tags, e.ip_address AS endpoint_ip, "
    };
    (labels) => {
        "io.name AS issuer_name, io.country AS issuer_country, io.path AS issuer_path, \
         ro.name AS reseller_name, ro.country AS reseller_country, ro.path AS reseller_path, \
         co.name AS customer_name, co.country AS customer_country, co.path AS customer_path, \
         sm.description AS model_description, sm.memory_size AS model_memory_size, \
         sm.form_factor AS model_form_factor, sm.manufacturer AS model_manufacturer \
         FROM sims s LEFT JOIN organisations io ON io.id = s.issuer_org_id \
         LEFT JOIN organisations ro ON ro.id = s.reseller_org_id \
         LEFT JOIN organisations co ON co.id = s.customer_org_id \
         LEFT JOIN sim_models sm ON sm.id = s.model_id "
    };
    (no_labels) => {
        "NULL AS issuer_name, NULL AS issuer_country, NULL AS issuer_path, \
         NULL AS reseller_name, NULL AS reseller_country, NULL AS reseller_path, \
         NULL AS customer_name, NULL AS customer_country, NULL AS customer_path, \
         NULL AS model_description, NULL AS model_memory_size, NULL AS model_form_factor, \
         NULL AS model_manufacturer FROM sims s "
    };
    (endpoint) => {
        "LEFT JOIN endpoints e ON e.tenant_org_id = s.tenant_org_id AND e.id = s.endpoint_id"
    };
}

pub(crate) const ESIM_SELECT: &str = concat!(
    esim_columns!(sim),
    esim_columns!(labels),
    esim_columns!(endpoint)
);
/// A single-table read (plus the endpoint, NULL for most SIMs) whose orgs and model come from
/// [`labels::Labels`].
pub(crate) const ESIM_SELECT_UNLABELLED: &str = concat!(
    esim_columns!(sim),
    esim_columns!(no_labels),
    esim_columns!(endpoint)
);

#[async_trait::async_trait]
impl EmnifySimStore for SqlStore {
    async fn esim_get(&self, scope: &Scope, id: i64) -> StoreResult<Option<EmnifySim>> {
        let sim = self.esim_labelled(id).await?;
        Ok(sim.filter(|s| s.status != SimStatus::Deleted.id() && scope::holds_sim(scope, s)))
    }

    async fn esim_list(
        &self,
        scope: &crate::domain::access::Scope,
        filters: &[SimCond],
        sort: &[(SimSortKey, bool)],
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<EmnifySim>, i64)> {
        use crate::domain::access::Scope;
        use tenancy::{page_select, PageRead};
        use SimCond;
        let tenant = self
            .list_tenant(match scope {
                Scope::Subtree { path, .. } => Some(path.as_str()),
                _ => None,
            })
            .await?;
        // `counters`: the conditions go to `sim_owner_counts`, whose NULL ids are 0.
        let push = |qb: &mut Builder<'_>, counters: bool, walk: bool| {
            if !counters {
                tenancy::push_tenant(qb, tenant, walk && !self.citus);
            }
            scope::push_scope(
                qb,
                scope,
                scope::Owner::Sim {
                    narrowed: walk && tenant.is_some(),
                },
            );
            for f in filters {
                match f {
                    SimCond::Eq(col, v) => {
                        qb.push(format!(" AND s.{} = ", col.column())).push_bind(*v);
                    }
                    SimCond::IsNull(SimCol::Endpoint) if counters => {
                        qb.push(" AND NOT s.with_endpoint");
                    }
                    SimCond::IsNull(col) if counters => {
                        qb.push(format!(" AND s.{} = 0", col.column()));
                    }
                    SimCond::IsNull(col) => {
                        qb.push(format!(" AND s.{} IS NULL", col.column()));
                    }
                    SimCond::TextIn(col, values) => {
                        qb.push(format!(" AND s.{} IN ", col.column()));
                        qb.push_list(values.iter().cloned());
                    }
                    SimCond::Prefix(col, v) => {
                        qb.push(format!(" AND s.{} LIKE ", col.column()))
                            .push_bind(format!("{}%", like_literal(v)))
                            .push(MetaStore::backend(self).like_escape());
                    }
                    SimCond::StatusIn(values) => {
                        qb.push(" AND s.status IN ");
                        qb.push_list(values.iter().copied());
                    }
                    SimCond::Date(d) => {
                        qb.push(" AND s.production_date = ").push_bind(*d);
                    }
                }
            }
        };
        // The total comes from `sim_owner_counts` whenever every condition is one of its key columns
        // (scope, status, orgs, model, with/without device); only selective filters (ICCID, IMSI, ...,
        // production date) count SIM rows, through their indexes.
        let counters = filters.iter().all(SimCond::countable);
        let mut count = Builder::new(if counters {
            "SELECT CAST(COALESCE(SUM(s.count), 0) AS BIGINT) FROM sim_owner_counts s WHERE \
                s.status <> 3"
        } else {
            "SELECT COUNT(*) FROM sims s WHERE s.status <> 3"
        });
        push(&mut count, counters, false);
        let total: i64 = count.build().scalar(&self.reads).await?;
        if offset >= total {
            return Ok((Vec::new(), total));
        }
        let read = PageRead::choose(
            filters.is_empty() && (matches!(scope, Scope::All) || tenant.is_some()),
            total,
        );
        let (head, tail) = page_select(ESIM_SELECT);
        let mut list = Builder::new(format!(
            "{head}FROM (SELECT s.* FROM sims s WHERE s.status <> 3"
        ));
        push(&mut list, false, read == PageRead::Walk);
        let dir = |desc: bool| if desc { "DESC" } else { "ASC" };
        let order = |read: PageRead| {
            let mut terms: String = sort
                .iter()
                .map(|(key, desc)| {
                    format!(
                        "{} {}, ",
                        read.order_term(&format!("s.{}", key.column()), key.is_text()),
                        dir(*desc)
                    )
                })
                .collect();
            // Ties by id in the direction of the last key, so that one index, read forwards or
            // backwards, gives the whole order (`-production_date` with ties ascending sorted every
            // SIM without a date).
            terms.push_str(&format!(
                "{} {}",
                read.order_term("s.id", false),
                dir(sort.last().is_some_and(|s| s.1))
            ));
            terms
        };
        list.push(" ORDER BY ")
            .push(read.tenant_first(tenant, sort.first().is_some_and(|s| s.1)));
        list.push(order(read))
            .push(" LIMIT ")
            .push_bind(limit)
            .push(" OFFSET ")
            .push_bind(offset);
        list.push(") s")
            .push(tail)
            .push(" ORDER BY ")
            .push(order(PageRead::Walk));
        Ok((list.build().fetch_all(&self.reads).await?, total))
    }

    async fn esim_patch(
        &self,
        scope: &Scope,
        id: i64,
        patch: EmnifySimPatch,
        actor: &Actor,
    ) -> StoreResult<()> {
        use crate::domain::sim::SimStatus;
        let mut tx = self.pool.begin_write().await?;
        let backend = MetaStore::backend(self);
        let tenant = keys::pin_sim(&mut tx, backend, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        // The transition is checked against the row as it is now, under its lock.
        type Locked = (
            i16,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            i64,
        );
        let mut qb = Builder::new(
            "SELECT s.status, s.issuer_org_id, s.reseller_org_id, s.customer_org_id, \
                s.mvno_account_id, \
             s.endpoint_id, s.version FROM sims s WHERE s.status <> 3 AND s.id = ",
        );
        qb.push_bind(id)
            .push(" AND s.tenant_org_id = ")
            .push_bind(tenant);
        scope::push_scope(&mut qb, scope, Owner::Sim { narrowed: false });
        let row: Option<Locked> = qb.build().fetch_optional(&mut tx).await?;
        let (status, issuer, reseller, customer, account, endpoint, version) =
            row.ok_or(StoreError::NotFound)?;
        actor.check_version(version)?;
        let current = SimStatus::from_id(status as i64)
            .ok_or_else(|| StoreError::Database("bad status".into()))?;
        let next = match patch.status {
            Some(to) if endpoint.is_some() => {
                crate::domain::emnify::transition_in_endpoint(current, to)?
            }
            Some(to) => crate::domain::emnify::transition(current, to)?,
            None => None,
        };
        let new_issuer = patch.issuer_org_id.unwrap_or(issuer);
        let new_reseller = patch.reseller_org_id.unwrap_or(reseller);
        let new_customer = patch.customer_org_id.unwrap_or(customer);
        let orgs_changed = (new_issuer, new_reseller, new_customer) != (issuer, reseller, customer);
        if next.is_none() && !orgs_changed {
            return Ok(());
        }
        // A SIM in use changes hands only within the tenant of the account or device holding it.
        let moved: Vec<i64> = [
            (issuer, new_issuer),
            (reseller, new_reseller),
            (customer, new_customer),
        ]
        .into_iter()
        .filter_map(|(old, new)| new.filter(|n| Some(*n) != old))
        .collect();
        if !moved.is_empty() && (account.is_some() || endpoint.is_some()) {
            let (holder, holder_path): (String, String) = match account {
                Some(account_id) => {
                    query(
                        "SELECT 'MVNO account ' || m.oid, o.path FROM mvno_accounts m \
                             JOIN organisations o ON o.id = m.customer_org_id \
                             WHERE m.id = $1 AND m.tenant_org_id = $2",
                    )
                    .bind(account_id)
                    .bind(tenant)
                    .fetch_one(&mut tx)
                    .await?
                }
                None => {
                    query(
                        "SELECT 'endpoint ' || CAST(e.id AS TEXT), o.path FROM endpoints e \
                             JOIN organisations o ON o.id = e.org_id \
                             WHERE e.id = $1 AND e.tenant_org_id = $2",
                    )
                    .bind(endpoint)
                    .bind(tenant)
                    .fetch_one(&mut tx)
                    .await?
                }
            };
            let mut qb = Builder::new("SELECT path FROM organisations WHERE id IN ");
            qb.push_list(moved.iter().copied());
            let paths: Vec<String> = qb.build().scalars(&mut tx).await?;
            if paths
                .iter()
                .any(|p| !crate::domain::org::same_tenant(p, &holder_path))
            {
                return Err(crate::domain::error::Rule::InUseElsewhere { sim: id, holder }.into());
            }
        }
        let new_status = next.unwrap_or(current);
        let activation = (next == Some(SimStatus::Activated)).then_some(actor.at);
        let change = query(
            "UPDATE sims SET status = $1, issuer_org_id = $2, reseller_org_id = $3, \
             customer_org_id = $4, activation_date = COALESCE(activation_date, $5), updated_at = $6, \
             version = version + 1 WHERE id = $7 AND tenant_org_id = $8",
        )
        .bind(new_status.id())
        .bind(new_issuer)
        .bind(new_reseller)
        .bind(new_customer)
        .bind(activation)
        .bind(actor.at)
        .bind(id)
        .bind(tenant);
        owners::update(&mut tx, backend, Sims::One(id), change).await?;
        if orgs_changed {
            keys::relocate(&mut tx, backend, Sims::One(id)).await?;
        }
        if let Some(to) = next {
            let status =
                |s: SimStatus| serde_json::json!({"id": s.id(), "description": s.description()});
            let detail = serde_json::json!({"transition": {"sim": {"status": {
                "from": status(current),
                "to": status(to)
            }}}});
            let description = format!(
                "Status of SIM changed from '{}' to '{}'",
                current.description(),
                to.description()
            );
            journal::insert_event(
                &mut tx,
                actor,
                actor.org_id,
                endpoint,
                Some(id),
                crate::domain::emnify::status_event(to),
                description,
                Some(&detail),
            )
            .await?;
        }
        if orgs_changed {
            let detail = serde_json::json!({"transition": {"sim": {
                        "issuer_org": {"from": issuer, "to": new_issuer},
                        "reseller_org": {"from": reseller, "to": new_reseller},
                        "customer_org": {"from": customer, "to": new_customer}}}});
            let released = new_reseller.is_none() && reseller.is_some()
                || new_customer.is_none() && customer.is_some();
            let (type_id, text) = if released {
                (
                    crate::domain::events::SIM_RELEASED,
                    "SIM released from organisation",
                )
            } else {
                (
                    crate::domain::events::SIM_ASSIGNED,
                    "SIM assigned to organisation",
                )
            };
            journal::insert_event(
                &mut tx,
                actor,
                actor.org_id,
                endpoint,
                Some(id),
                type_id,
                text.into(),
                Some(&detail),
            )
            .await?;
        }
        let before = serde_json::json!({
            "status": current.id(),
            "issuer_org_id": issuer,
            "reseller_org_id": reseller,
            "customer_org_id": customer
        });
        let after = serde_json::json!({
            "status": new_status.id(),
            "issuer_org_id": new_issuer,
            "reseller_org_id": new_reseller,
            "customer_org_id": new_customer
        });
        journal::audit(
            &mut tx,
            actor,
            "update",
            "sim",
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn esim_delete(&self, scope: &Scope, id: i64, actor: &Actor) -> StoreResult<()> {
        use sims::SIM_SELECT;
        use SimRecord;
        let mut tx = self.pool.begin_write().await?;
        let tenant = keys::pin_sim(&mut tx, MetaStore::backend(self), id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let mut qb = Builder::new(format!("{SIM_SELECT} WHERE s.status <> 3 AND s.id = "));
        qb.push_bind(id)
            .push(" AND s.tenant_org_id = ")
            .push_bind(tenant);
        scope::push_scope(&mut qb, scope, Owner::Sim { narrowed: false });
        let sim: SimRecord = qb
            .build()
            .fetch_optional(&mut tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        actor.check_version(sim.version)?;
        if sim.endpoint_id.is_some() || sim.mvno_account_id.is_some() {
            return Err(crate::domain::error::Rule::SimAttached.into());
        }
        sims::adjust_count(
            &mut tx,
            sim.in_storage_at,
            &sim.network,
            sim.form_factor.as_str(),
            sim.auto_assign,
            -1i64,
        )
        .await?;
        owners::update(
            &mut tx,
            MetaStore::backend(self),
            Sims::One(id),
            query(
                "UPDATE sims SET status = 3, updated_at = $1, version = version + 1 \
                 WHERE id = $2 AND tenant_org_id = $3",
            )
            .bind(actor.at)
            .bind(id)
            .bind(tenant),
        )
        .await?;
        let from = crate::domain::sim::SimStatus::from_id(sim.status as i64)
            .map(|s| s.description())
            .unwrap_or("Unknown");
        let detail = serde_json::json!({"transition": {"sim": {"status": {
            "from": {"id": sim.status, "description": from},
            "to": {"id": 3, "description": "Deleted"}
        }}}});
        journal::event(
            &mut tx,
            actor,
            actor.org_id,
            Some(id),
            crate::domain::events::SIM_DELETION,
            format!("Status of SIM changed from '{from}' to 'Deleted'"),
            Some(&detail),
        )
        .await?;
        journal::audit(&mut tx, actor, "delete", "sim", id, Some(&sim), None::<&()>).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl SqlStore {
    /// One SIM by id, through the batched point reads, its org and model labels from the cache.
    async fn esim_labelled(&self, id: i64) -> StoreResult<Option<EmnifySim>> {
        let Some(mut sim) = self.point_reads.get(id).await? else {
            return Ok(None);
        };
        if !self.labels.enabled() {
            return Ok(Some(sim));
        }
        let (mut found, orgs, model) = self.labels.lookup(&sim);
        if !orgs.is_empty() {
            found.orgs.extend(self.load_orgs(&orgs).await?);
        }
        if let Some(model) = model {
            let loaded: Option<labels::ModelLabel> = query(
                "SELECT id, description, memory_size, form_factor, manufacturer FROM sim_models \
                             WHERE id = $1",
            )
            .bind(model)
            .fetch_optional(&self.pool)
            .await?;
            if let Some(m) = loaded {
                self.labels.put_model(m.clone());
                found.model = Some(m);
            }
        }
        labels::Labels::fill(&mut sim, found);
        Ok(Some(sim))
    }
}
