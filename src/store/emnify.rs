//! emnify-side storage: SIM models, batches and their registration, the SIM view with its orgs,
//! model and endpoint, status/org changes, events, usage buckets.
use super::db::{query, Builder};
use super::*;

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
        "LEFT JOIN endpoints e ON e.id = s.endpoint_id"
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

pub(crate) const MODEL_COLUMNS: &str =
    "id, description, memory_size, form_factor, manufacturer, created_at";
pub(crate) const BATCH_COLUMNS: &str =
    "id, bic, issuer_org_id, model_id, quantity, created_at, registered_at, registered_by_org_id";
pub(crate) const EVENT_SELECT: &str = "SELECT ev.id, ev.ts, ev.org_id, ev.sim_id, ev.endpoint_id, ev.user_id, \
     ev.type_id, ev.source, ev.severity, ev.alert, ev.description, ev.detail, o.name AS org_name, o.path AS org_path, \
     s.iccid AS sim_iccid, s.imsi AS sim_imsi, s.production_date AS sim_production_date, s.created_at AS sim_created, \
     u.name AS user_name, u.email AS user_email, uo.id AS user_org_id, uo.path AS user_org_path \
     FROM events ev LEFT JOIN organisations o ON o.id = ev.org_id LEFT JOIN sims s ON s.id = ev.sim_id \
     LEFT JOIN users u ON u.id = ev.user_id LEFT JOIN organisations uo ON uo.id = u.org_id";

#[async_trait::async_trait]
impl EmnifyStore for SqlStore {
    async fn sim_model_create(&self, new: NewSimModel, actor: &Actor) -> StoreResult<SimModel> {
        let mut tx = self.pool.begin_write().await?;
        let m: SimModel = query(format!(
                    "INSERT INTO sim_models (description, memory_size, form_factor, manufacturer, created_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING {MODEL_COLUMNS}"
                ))
                .bind(&new.description)
                .bind(new.memory_size)
                .bind(new.form_factor.as_str())
                .bind(&new.manufacturer)
                .bind(actor.at)
                .fetch_one(&mut tx)
                .await?;
        journal::audit(
            &mut tx,
            actor,
            "create",
            "sim_model",
            m.id,
            None::<&()>,
            Some(&m),
        )
        .await?;
        tx.commit().await?;
        Ok(m)
    }

    async fn sim_model_list(
        &self,
        page: crate::domain::paging::Page,
    ) -> StoreResult<(Vec<SimModel>, i64)> {
        let total: i64 = query("SELECT COUNT(*) FROM sim_models")
            .scalar(&self.pool)
            .await?;
        let items = query(format!(
            "SELECT {MODEL_COLUMNS} FROM sim_models ORDER BY id LIMIT $1 OFFSET $2"
        ))
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await?;
        Ok((items, total))
    }

    async fn sim_model_get(&self, id: i64) -> StoreResult<Option<SimModel>> {
        Ok(query(format!(
            "SELECT {MODEL_COLUMNS} FROM sim_models WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn batch_create(&self, new: NewBatch, actor: &Actor) -> StoreResult<SimBatch> {
        use bulk::{NewSimRow, NewSimsShared};
        let mut tx = self.pool.begin_write().await?;
        let batch: SimBatch = query(format!(
                    "INSERT INTO sim_batches (bic, issuer_org_id, model_id, quantity, created_at) VALUES ($1, \
                     $2, $3, $4, $5) RETURNING {BATCH_COLUMNS}"
                ))
                .bind(&new.bic)
                .bind(new.issuer_org_id)
                .bind(new.model_id)
                .bind(new.sims.len() as i32)
                .bind(actor.at)
                .fetch_one(&mut tx)
                .await?;
        let mut rows: Vec<NewSimRow<'_>> = new.sims.iter().map(NewSimRow::from).collect();
        rows.sort_by(|a, b| a.iccid.cmp(b.iccid));
        sims::lock_counts(
            &mut tx,
            rows.iter()
                .map(|r| (0i64, r.network.to_string(), r.form_factor, r.auto_assign))
                .collect(),
        )
        .await?;
        let shared = NewSimsShared {
            issuer_org_id: new.issuer_org_id,
            reseller_org_id: None,
            customer_org_id: None,
            in_storage_at: None,
            model_id: new.model_id,
            batch_id: Some(batch.id),
            at: actor.at,
            skip_existing: false,
        };
        let ids = bulk::insert_sims(&mut tx, &rows, &shared).await?;
        // New SIMs are unused and held by nobody: central stock.
        sims::record_new_sims(&mut tx, actor, None::<i64>, new.issuer_org_id, &ids).await?;
        journal::audit(
            &mut tx,
            actor,
            "create",
            "sim_batch",
            batch.id,
            None::<&()>,
            Some(&batch),
        )
        .await?;
        tx.commit().await?;
        Ok(batch)
    }

    async fn batch_by_bic(
        &self,
        bic: &str,
    ) -> StoreResult<Option<(SimBatch, Vec<(Option<i64>, Option<i64>)>)>> {
        let batch: Option<SimBatch> = query(format!(
            "SELECT {BATCH_COLUMNS} FROM sim_batches WHERE bic = $1"
        ))
        .bind(bic)
        .fetch_optional(&self.pool)
        .await?;
        let Some(batch) = batch else { return Ok(None) };
        let owners: Vec<(Option<i64>, Option<i64>)> =
            query("SELECT DISTINCT reseller_org_id, customer_org_id FROM sims WHERE batch_id = $1")
                .bind(batch.id)
                .fetch_all(&self.pool)
                .await?;
        Ok(Some((batch, owners)))
    }

    async fn batch_register(
        &self,
        batch_id: i64,
        reseller_org_id: Option<i64>,
        customer_org_id: Option<i64>,
        status: crate::domain::sim::SimStatus,
        by_org: i64,
        actor: &Actor,
    ) -> StoreResult<Vec<EmnifySim>> {
        let mut tx = self.pool.begin_write().await?;
        let batch: SimBatch = query(format!(
            "SELECT {BATCH_COLUMNS} FROM sim_batches WHERE id = $1{}",
            self.pool.backend().lock_rows()
        ))
        .bind(batch_id)
        .fetch_optional(&mut tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        if batch.registered_at.is_some() {
            return Err(crate::domain::error::Rule::BatchRegistered.into());
        }
        let activation = (status == crate::domain::sim::SimStatus::Activated).then_some(actor.at);
        query(format!(
                    "UPDATE sims SET reseller_org_id = COALESCE($1, reseller_org_id), \
                     customer_org_id = COALESCE($2, customer_org_id), status = $3, \
                     activation_date = COALESCE(activation_date, $4), updated_at = $5, version = version + 1, \
                     tenant_org_id = {} WHERE batch_id = $6",
                    tenancy::shared_tenant_sql(
                        "issuer_org_id",
                        "COALESCE($1, reseller_org_id)",
                        "COALESCE($2, customer_org_id)",
                        "in_storage_at"
                    )
                ))
                .bind(reseller_org_id)
                .bind(customer_org_id)
                .bind(status.id())
                .bind(activation)
                .bind(actor.at)
                .bind(batch_id)
                .execute(&mut tx)
                .await?;
        query("UPDATE sim_batches SET registered_at = $1, registered_by_org_id = $2 WHERE id = $3")
            .bind(actor.at)
            .bind(by_org)
            .bind(batch_id)
            .execute(&mut tx)
            .await?;
        let n = batch.quantity;
        let detail =
            serde_json::json!({"batch": {"id": batch.id, "bic": batch.bic}, "status": status.id()});
        journal::event(
            &mut tx,
            actor,
            by_org,
            None::<i64>,
            crate::domain::events::SIM_REGISTRATION,
            format!("Batch of {n} SIM(s) registered."),
            Some(&detail),
        )
        .await?;
        journal::audit(
            &mut tx,
            actor,
            "register",
            "sim_batch",
            batch_id,
            Some(&batch),
            Some(&detail),
        )
        .await?;
        let sims = query(format!("{ESIM_SELECT} WHERE s.batch_id = $1 ORDER BY s.id"))
            .bind(batch_id)
            .fetch_all(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(sims)
    }

    async fn esim_get(&self, id: i64) -> StoreResult<Option<EmnifySim>> {
        let Some(mut sim) = self.point_reads.get(id).await? else {
            return Ok(None);
        };
        if !self.labels.enabled() {
            return Ok(Some(sim));
        }
        let (mut found, orgs, model) = self.labels.lookup(&sim);
        if !orgs.is_empty() {
            let mut qb =
                Builder::new("SELECT id, name, country, path FROM organisations WHERE id IN ");
            qb.push_list(orgs.iter().copied());
            let loaded: Vec<labels::OrgLabel> = qb.build().fetch_all(&self.pool).await?;
            for org in loaded {
                self.labels.put_org(org.clone());
                found.orgs.push(org);
            }
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
                tenancy::push_tenant(qb, tenant, walk);
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
                            .push(self.pool.backend().like_escape());
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
            "SELECT CAST(COALESCE(SUM(s.count), 0) AS BIGINT) FROM sim_owner_counts s WHERE s.status <> 3"
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

    async fn esim_patch(&self, id: i64, patch: EmnifySimPatch, actor: &Actor) -> StoreResult<()> {
        use crate::domain::sim::SimStatus;
        let mut tx = self.pool.begin_write().await?;
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
        let row: Option<Locked> = query(format!(
            "SELECT status, issuer_org_id, reseller_org_id, customer_org_id, mvno_account_id, \
                     endpoint_id, version \
                     FROM sims WHERE id = $1 AND status <> 3{}",
            self.pool.backend().lock_rows()
        ))
        .bind(id)
        .fetch_optional(&mut tx)
        .await?;
        let (status, issuer, reseller, customer, account, endpoint, version) =
            row.ok_or(StoreError::NotFound)?;
        actor.check_version(version)?;
        let current = SimStatus::from_id(status as i64)
            .ok_or_else(|| StoreError::Database("bad status".into()))?;
        let next = match patch.status {
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
                             JOIN organisations o ON o.id = m.customer_org_id WHERE m.id = $1",
                    )
                    .bind(account_id)
                    .fetch_one(&mut tx)
                    .await?
                }
                None => {
                    query(
                        "SELECT 'endpoint ' || CAST(e.id AS TEXT), o.path FROM endpoints e \
                             JOIN organisations o ON o.id = e.org_id WHERE e.id = $1",
                    )
                    .bind(endpoint)
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
        query(format!(
                    "UPDATE sims SET status = $1, issuer_org_id = $2, reseller_org_id = $3, customer_org_id = $4, \
                     activation_date = COALESCE(activation_date, $5), updated_at = $6, version = version + 1, \
                     tenant_org_id = {} WHERE id = $7",
                    tenancy::shared_tenant_sql("$2", "$3", "$4", "in_storage_at")
                ))
                .bind(new_status.id())
                .bind(new_issuer)
                .bind(new_reseller)
                .bind(new_customer)
                .bind(activation)
                .bind(actor.at)
                .bind(id)
                .execute(&mut tx)
                .await?;
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
            journal::event(
                &mut tx,
                actor,
                actor.org_id,
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
            journal::event(
                &mut tx,
                actor,
                actor.org_id,
                Some(id),
                type_id,
                text,
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

    async fn esim_delete(&self, id: i64, actor: &Actor) -> StoreResult<()> {
        use sims::SIM_SELECT;
        use SimRecord;
        let mut tx = self.pool.begin_write().await?;
        let sim: SimRecord = query(format!(
            "{SIM_SELECT} WHERE s.id = $1 AND s.status <> 3{}",
            self.pool.backend().lock_sim()
        ))
        .bind(id)
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
        query("UPDATE sims SET status = 3, updated_at = $1, version = version + 1 WHERE id = $2")
            .bind(actor.at)
            .bind(id)
            .execute(&mut tx)
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

    async fn events_list(
        &self,
        sim_id: i64,
        filters: &[EventCond],
        sort: &[(EventSortKey, bool)],
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<EventRow>, i64)> {
        use EventCond;
        let push = |qb: &mut Builder<'_>| {
            qb.push(" WHERE ev.sim_id = ").push_bind(sim_id);
            for f in filters {
                match f {
                    EventCond::In(col, values) => {
                        qb.push(format!(" AND ev.{col} IN "));
                        qb.push_list(values.iter().copied());
                    }
                    EventCond::Alert(a) => {
                        qb.push(" AND ev.alert = ").push_bind(*a);
                    }
                    EventCond::Description(text) => {
                        qb.push(" AND LOWER(ev.description) LIKE ")
                            .push_bind(format!("%{}%", like_literal(&text.to_lowercase())))
                            .push(self.pool.backend().like_escape());
                    }
                    EventCond::Between(from, until) => {
                        qb.push(" AND ev.ts >= ")
                            .push_bind(*from)
                            .push(" AND ev.ts <= ")
                            .push_bind(*until);
                    }
                }
            }
        };
        let mut count = Builder::new("SELECT COUNT(*) FROM events ev");
        push(&mut count);
        let total: i64 = count.build().scalar(&self.reads).await?;
        let mut list = Builder::new(EVENT_SELECT);
        push(&mut list);
        list.push(" ORDER BY ");
        for (key, desc) in sort {
            list.push(format!(
                "ev.{} {}, ",
                key.column(),
                if *desc { "DESC" } else { "ASC" }
            ));
        }
        list.push("ev.id DESC LIMIT ")
            .push_bind(limit)
            .push(" OFFSET ")
            .push_bind(offset);
        Ok((list.build().fetch_all(&self.reads).await?, total))
    }

    async fn sim_ids_by_iccid(&self, iccids: &[String]) -> StoreResult<Vec<(String, i64)>> {
        let mut out = Vec::new();
        for chunk in iccids.chunks(sims::INSERT_CHUNK) {
            let mut qb = Builder::new("SELECT iccid, id FROM sims WHERE iccid IN ");
            qb.push_list(chunk.iter().map(String::as_str));
            out.extend(qb.build().fetch_all::<(String, i64)>(&self.pool).await?);
        }
        Ok(out)
    }

    async fn sims_exist(&self, ids: &[i64]) -> StoreResult<Vec<i64>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(sims::INSERT_CHUNK) {
            let mut qb = Builder::new("SELECT id FROM sims WHERE id IN ");
            qb.push_list(chunk.iter().copied());
            out.extend(qb.build().scalars::<i64>(&self.pool).await?);
        }
        Ok(out)
    }

    async fn usage_ingest(&self, records: &[UsageRecord], actor: &Actor) -> StoreResult<()> {
        // One row per bucket: a statement may not upsert the same key twice.
        let mut merged: std::collections::BTreeMap<
            (i64, chrono::DateTime<chrono::Utc>, i16),
            UsageRecord,
        > = std::collections::BTreeMap::new();
        for r in records {
            merged
                .entry((r.sim_id, r.hour, r.traffic_type))
                .and_modify(|m| {
                    m.volume_tx += r.volume_tx;
                    m.volume_rx += r.volume_rx;
                    m.cost += r.cost;
                    m.currency = r.currency.clone();
                })
                .or_insert_with(|| r.clone());
        }
        let merged: Vec<UsageRecord> = merged.into_values().collect();
        let mut tx = self.pool.begin_write().await?;
        for chunk in merged.chunks(sims::INSERT_CHUNK) {
            let mut qb = Builder::new(
                        "INSERT INTO usage_hourly (sim_id, hour, traffic_type, volume_tx, volume_rx, cost, \
                         currency, updated_at) ",
                    );
            qb.push_values(chunk, |b, r| {
                b.push_bind(r.sim_id)
                    .push_bind(r.hour)
                    .push_bind(r.traffic_type)
                    .push_bind(r.volume_tx)
                    .push_bind(r.volume_rx)
                    .push_bind(r.cost)
                    .push_bind(&r.currency)
                    .push_bind(actor.at);
            });
            qb.push(
                " ON CONFLICT (sim_id, hour, traffic_type) DO UPDATE SET \
                         volume_tx = usage_hourly.volume_tx + excluded.volume_tx, \
                         volume_rx = usage_hourly.volume_rx + excluded.volume_rx, \
                         cost = usage_hourly.cost + excluded.cost, \
                         currency = excluded.currency, updated_at = excluded.updated_at",
            );
            qb.build().execute(&mut tx).await?;
        }
        journal::audit(
            &mut tx,
            actor,
            "ingest",
            "usage",
            "usage",
            None::<&()>,
            Some(&serde_json::json!({"records": records.len()})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn events_ingest(&self, events: &[NewEvent], actor: &Actor) -> StoreResult<()> {
        let mut tx = self.pool.begin_write().await?;
        for chunk in events.chunks(sims::INSERT_CHUNK) {
            let mut qb = Builder::new(
                "INSERT INTO events (ts, org_id, sim_id, type_id, source, severity, alert, \
                         description, detail) ",
            );
            qb.push_values(chunk, |b, e| {
                b.push_bind(e.ts)
                    .push_bind(e.org_id)
                    .push_bind(e.sim_id)
                    .push_bind(e.type_id)
                    .push_bind(crate::domain::events::SOURCE_NETWORK)
                    .push_bind(e.severity)
                    .push_bind(e.severity >= crate::domain::events::SEVERITY_CRITICAL)
                    .push_bind(&e.description)
                    .push_bind(e.detail.as_ref().map(sqlx::types::Json));
            });
            qb.build().execute(&mut tx).await?;
        }
        journal::audit(
            &mut tx,
            actor,
            "ingest",
            "event",
            "events",
            None::<&()>,
            Some(&serde_json::json!({"events": events.len()})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn usage_rows(
        &self,
        sim_id: i64,
        from: chrono::DateTime<chrono::Utc>,
        until: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<Vec<UsageRow>> {
        type Row = (
            chrono::DateTime<chrono::Utc>,
            i16,
            f64,
            f64,
            f64,
            String,
            chrono::DateTime<chrono::Utc>,
        );
        let rows: Vec<Row> = query(
                    "SELECT hour, traffic_type, volume_tx, volume_rx, cost, currency, updated_at FROM usage_hourly \
                     WHERE sim_id = $1 AND hour >= $2 AND hour < $3 ORDER BY hour",
                )
                .bind(sim_id)
                .bind(from)
                .bind(until)
                .fetch_all(&self.reads)
                .await?;
        Ok(rows
            .into_iter()
            .map(
                |(hour, traffic_type, volume_tx, volume_rx, cost, currency, updated_at)| {
                    crate::domain::usage::Bucket {
                        hour,
                        traffic_type,
                        volume_tx,
                        volume_rx,
                        cost,
                        currency,
                        updated_at,
                    }
                },
            )
            .collect())
    }
}
