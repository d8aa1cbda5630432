//! SIM models and batches: a batch's SIMs enter central stock together, and registration hands the
//! whole batch to an org at once.
use super::db::{query, Builder};
use super::owners::{self, Sims};
use super::scope::{self, Owner};
use super::*;
use crate::domain::access::Scope;

pub(crate) const MODEL_COLUMNS: &str =
    "id, description, memory_size, form_factor, manufacturer, created_at";
pub(crate) const BATCH_COLUMNS: &str =
    "id, bic, issuer_org_id, model_id, quantity, created_at, registered_at, registered_by_org_id";
/// How a batch is in a scope: through the org that issued it.
const ISSUED: Owner = Owner::Issuer {
    id: "issuer_org_id",
};

#[async_trait::async_trait]
impl BatchStore for SqlStore {
    async fn sim_model_create(&self, new: NewSimModel, actor: &Actor) -> StoreResult<SimModel> {
        let mut tx = self.pool.begin_write().await?;
        let m: SimModel = query(format!(
            "INSERT INTO sim_models (description, memory_size, form_factor, \
                        manufacturer, created_at) \
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
            "INSERT INTO sim_batches (bic, issuer_org_id, model_id, quantity, \
                        created_at) VALUES ($1, \
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
        let ids = bulk::insert_sims(&mut tx, MetaStore::backend(self), &rows, &shared).await?;
        // New SIMs are unused and held by nobody: central stock.
        sims::record_new_sims(&mut tx, actor, &shared, new.issuer_org_id, &ids).await?;
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
        scope: &Scope,
        bic: &str,
    ) -> StoreResult<Option<(SimBatch, Vec<(Option<i64>, Option<i64>)>)>> {
        let mut qb = Builder::new(format!(
            "SELECT {BATCH_COLUMNS} FROM sim_batches WHERE bic = "
        ));
        qb.push_bind(bic);
        scope::push_scope(&mut qb, scope, ISSUED);
        let batch: Option<SimBatch> = qb.build().fetch_optional(&self.pool).await?;
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
        scope: &Scope,
        batch_id: i64,
        to: Registration,
        actor: &Actor,
    ) -> StoreResult<Vec<EmnifySim>> {
        let Registration {
            reseller_org_id,
            customer_org_id,
            status,
            by_org,
        } = to;
        let mut tx = self.pool.begin_write().await?;
        let mut qb = Builder::new(format!(
            "SELECT {BATCH_COLUMNS} FROM sim_batches WHERE id = "
        ));
        qb.push_bind(batch_id);
        scope::push_scope(&mut qb, scope, ISSUED);
        qb.push(MetaStore::backend(self).lock_rows());
        let batch: SimBatch = qb
            .build()
            .fetch_optional(&mut tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        if batch.registered_at.is_some() {
            return Err(crate::domain::error::Rule::BatchRegistered.into());
        }
        let activation = (status == crate::domain::sim::SimStatus::Activated).then_some(actor.at);
        let backend = MetaStore::backend(self);
        // Where the batch's SIMs will live. Off Citus, when that is one tenant (the usual case), the
        // registration writes the key in the same UPDATE: a move would write every SIM twice.
        let in_place = match backend {
            Backend::Citus => None,
            _ => {
                let after = (reseller_org_id, customer_org_id);
                keys::batch_tenant(&mut tx, batch_id, after).await?
            }
        };
        // Citus refuses any assignment to the key, even of its own value: the column is named only
        // when it changes here.
        let set_key = if in_place.is_some() {
            ", tenant_org_id = $7"
        } else {
            ""
        };
        let mut register = query(format!(
            "UPDATE sims SET reseller_org_id = COALESCE($1, reseller_org_id), \
             customer_org_id = COALESCE($2, customer_org_id), status = $3, \
             activation_date = COALESCE(activation_date, $4), updated_at = $5, \
             version = version + 1{set_key} WHERE batch_id = $6"
        ))
        .bind(reseller_org_id)
        .bind(customer_org_id)
        .bind(status.id())
        .bind(activation)
        .bind(actor.at)
        .bind(batch_id);
        if let Some(tenant) = in_place {
            register = register.bind(tenant);
        }
        // The batch row first: on Citus a reference table cannot be written after a statement that
        // wrote shards of `sims` in parallel in the same transaction.
        query("UPDATE sim_batches SET registered_at = $1, registered_by_org_id = $2 WHERE id = $3")
            .bind(actor.at)
            .bind(by_org)
            .bind(batch_id)
            .execute(&mut tx)
            .await?;
        owners::update(&mut tx, backend, Sims::Batch(batch_id), register).await?;
        if in_place.is_none() {
            keys::relocate(&mut tx, backend, Sims::Batch(batch_id)).await?;
        }
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
        let sims = query(format!(
            "{} WHERE s.batch_id = $1 ORDER BY s.id",
            emnify::ESIM_SELECT
        ))
        .bind(batch_id)
        .fetch_all(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(sims)
    }
}
