//! Profile writes (spec/emnify-endpoints.md §2, §8): service profiles (create, change, delete, the
//! services a profile lists) by their owners, tariff profiles by the admin API. Each change writes
//! event 1016 or 1017 (under the owner org) and its audit row.
//!
//! Locks: a change or delete holds the profile exclusively (`db::hold_reference`) and a delete then counts its
//! endpoints; an endpoint that takes the profile holds it shared (`endpoints::check_profile`), so a
//! profile is never deleted under a new endpoint.
use super::db::{hold_reference, query, Tx};
use super::journal;
use super::*;
use crate::domain::error::Rule;
use crate::domain::events::{SERVICE_PROFILE_CHANGED, TARIFF_PROFILE_CHANGED};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

/// A new service profile (values checked).
#[derive(Debug, Clone)]
pub struct NewServiceProfile {
    pub owner_org_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub allowed_3g: bool,
    pub allowed_4g: bool,
    pub allowed_nb_iot: bool,
    pub apply_data_quota: bool,
    pub apply_sms_quota: bool,
}

/// The changes of a PATCH; `description: Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ServiceProfilePatch {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub allowed_3g: Option<bool>,
    pub allowed_4g: Option<bool>,
    pub allowed_nb_iot: Option<bool>,
    pub apply_data_quota: Option<bool>,
    pub apply_sms_quota: Option<bool>,
}

const COLUMNS: &str =
    "id, name, description, owner_org_id, allowed_3g, allowed_4g, allowed_nb_iot, \
    apply_data_quota, apply_sms_quota, CAST(0 AS BIGINT) AS used_count";

async fn locked(tx: &mut Tx, backend: Backend, id: i64) -> StoreResult<ServiceProfile> {
    hold_reference(tx, backend, ProfileKind::Service.table(), id, true).await?;
    query(format!(
        "SELECT {COLUMNS} FROM service_profiles WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Event 1016 or 1017 of the profile's owner, with its audit row.
async fn changed(
    tx: &mut Tx,
    actor: &Actor,
    kind: ProfileKind,
    (id, owner): (i64, Option<i64>),
    action: &str,
    detail: serde_json::Value,
) -> StoreResult<()> {
    let type_id = match kind {
        ProfileKind::Service => SERVICE_PROFILE_CHANGED,
        ProfileKind::Tariff => TARIFF_PROFILE_CHANGED,
    };
    journal::insert_event(
        tx,
        actor,
        owner,
        None,
        None,
        type_id,
        format!("{} {id} {action}", kind.label()),
        Some(&detail),
    )
    .await?;
    journal::audit(
        tx,
        actor,
        action,
        kind.field(),
        id,
        None::<&()>,
        Some(&detail),
    )
    .await
}

/// Deletes a held profile, and refuses (rolling the delete back) while live endpoints use it.
/// Deleted before the count: on Citus a write to a reference table with a foreign key to it may not
/// follow a read across shards.
async fn delete_unused(tx: &mut Tx, kind: ProfileKind, id: i64) -> StoreResult<()> {
    if kind == ProfileKind::Service {
        query("DELETE FROM service_profile_services WHERE profile_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    query(format!("DELETE FROM {} WHERE id = $1", kind.table()))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let used: i64 = query(format!(
        "SELECT COUNT(*) FROM endpoints WHERE {}_id = $1 AND status <> 2",
        kind.field()
    ))
    .bind(id)
    .scalar(&mut *tx)
    .await?;
    if used > 0 {
        return Err(
            Rule::Held(format!("{} {id} is used by {used} endpoints", kind.label())).into(),
        );
    }
    Ok(())
}

#[async_trait::async_trait]
impl ProfileStore for SqlStore {
    async fn service_profile_create(
        &self,
        new: NewServiceProfile,
        actor: &Actor,
    ) -> StoreResult<i64> {
        let mut tx = self.pool.begin_write().await?;
        let id: i64 = query(
            "INSERT INTO service_profiles (name, description, owner_org_id, allowed_3g, allowed_4g, \
             allowed_nb_iot, apply_data_quota, apply_sms_quota, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(&new.name)
        .bind(&new.description)
        .bind(new.owner_org_id)
        .bind(new.allowed_3g)
        .bind(new.allowed_4g)
        .bind(new.allowed_nb_iot)
        .bind(new.apply_data_quota)
        .bind(new.apply_sms_quota)
        .bind(actor.at)
        .scalar(&mut tx)
        .await?;
        let row = locked(&mut tx, MetaStore::backend(self), id).await?;
        changed(
            &mut tx,
            actor,
            ProfileKind::Service,
            (row.id, row.owner_org_id),
            "created",
            json!({"service_profile": row}),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn service_profile_update(
        &self,
        id: i64,
        patch: ServiceProfilePatch,
        actor: &Actor,
    ) -> StoreResult<()> {
        let backend = MetaStore::backend(self);
        let mut tx = self.pool.begin_write().await?;
        let before = locked(&mut tx, backend, id).await?;
        query(
            "UPDATE service_profiles SET name = $1, description = $2, allowed_3g = $3, \
             allowed_4g = $4, allowed_nb_iot = $5, apply_data_quota = $6, apply_sms_quota = $7, \
             updated_at = $8 WHERE id = $9",
        )
        .bind(patch.name.unwrap_or_else(|| before.name.clone()))
        .bind(
            patch
                .description
                .unwrap_or_else(|| before.description.clone()),
        )
        .bind(patch.allowed_3g.unwrap_or(before.allowed_3g))
        .bind(patch.allowed_4g.unwrap_or(before.allowed_4g))
        .bind(patch.allowed_nb_iot.unwrap_or(before.allowed_nb_iot))
        .bind(patch.apply_data_quota.unwrap_or(before.apply_data_quota))
        .bind(patch.apply_sms_quota.unwrap_or(before.apply_sms_quota))
        .bind(actor.at)
        .bind(id)
        .execute(&mut tx)
        .await?;
        let after = locked(&mut tx, backend, id).await?;
        changed(
            &mut tx,
            actor,
            ProfileKind::Service,
            (after.id, after.owner_org_id),
            "updated",
            json!({"from": before, "to": after}),
        )
        .await?;
        tx.commit().await?;
        // The single-endpoint read shows the new name at once on this node (labels.rs).
        self.labels.forget_profile(ProfileKind::Service, id);
        Ok(())
    }

    async fn service_profile_delete(&self, id: i64, actor: &Actor) -> StoreResult<()> {
        let mut tx = self.pool.begin_write().await?;
        let row = locked(&mut tx, MetaStore::backend(self), id).await?;
        delete_unused(&mut tx, ProfileKind::Service, id).await?;
        changed(
            &mut tx,
            actor,
            ProfileKind::Service,
            (row.id, row.owner_org_id),
            "deleted",
            json!({"service_profile": row}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn service_profile_services(&self, id: i64) -> StoreResult<Vec<i16>> {
        query("SELECT service_id FROM service_profile_services WHERE profile_id = $1 ORDER BY service_id")
            .bind(id)
            .scalars(&self.reads)
            .await
    }

    async fn service_profile_service(
        &self,
        id: i64,
        service: i16,
        add: bool,
        actor: &Actor,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin_write().await?;
        let row = locked(&mut tx, MetaStore::backend(self), id).await?;
        let sql = if add {
            "INSERT INTO service_profile_services (profile_id, service_id) VALUES ($1, $2) \
             ON CONFLICT (profile_id, service_id) DO NOTHING"
        } else {
            "DELETE FROM service_profile_services WHERE profile_id = $1 AND service_id = $2"
        };
        let n = query(sql).bind(id).bind(service).execute(&mut tx).await?;
        if n == 0 {
            return Err(if add {
                Rule::Duplicated(format!(
                    "Service with Id '{service}' is already on Service profile with Id '{id}'."
                ))
            } else {
                Rule::Missing(format!(
                    "Service with Id '{service}' is not on Service profile with Id '{id}'."
                ))
            }
            .into());
        }
        let action = if add { "added" } else { "removed" };
        let detail = json!({"service": {"id": service}, "action": action});
        changed(
            &mut tx,
            actor,
            ProfileKind::Service,
            (row.id, row.owner_org_id),
            "updated",
            detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A new tariff profile (values checked); no owner: the platform's, serving every org.
#[derive(Debug, Clone)]
pub struct NewTariffProfile {
    pub owner_org_id: Option<i64>,
    pub name: String,
    pub description: Option<String>,
}

/// A tariff profile as the admin API shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TariffProfileRow {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub owner_org_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// Live endpoints using it.
    #[sqlx(default)]
    pub used_count: i64,
}

const TARIFF_COLUMNS: &str = "p.id, p.name, p.description, p.owner_org_id, p.created_at";

/// The rows with their live endpoints counted.
async fn tariff_use(
    ex: &super::db::Pool,
    mut rows: Vec<TariffProfileRow>,
) -> StoreResult<Vec<TariffProfileRow>> {
    if rows.is_empty() {
        return Ok(rows);
    }
    let mut qb = super::db::Builder::new(
        "SELECT tariff_profile_id, COUNT(*) FROM endpoints WHERE status <> 2 AND tariff_profile_id IN ",
    );
    qb.push_list(rows.iter().map(|r| r.id))
        .push(" GROUP BY tariff_profile_id");
    let used: std::collections::HashMap<i64, i64> = qb
        .build()
        .fetch_all::<(i64, i64)>(ex)
        .await?
        .into_iter()
        .collect();
    for r in &mut rows {
        r.used_count = used.get(&r.id).copied().unwrap_or(0);
    }
    Ok(rows)
}

async fn tariff_locked(tx: &mut Tx, backend: Backend, id: i64) -> StoreResult<TariffProfileRow> {
    hold_reference(tx, backend, ProfileKind::Tariff.table(), id, true).await?;
    query(format!(
        "SELECT {TARIFF_COLUMNS} FROM tariff_profiles p WHERE p.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)
}

#[async_trait::async_trait]
impl TariffStore for SqlStore {
    async fn tariff_profile_create(
        &self,
        new: NewTariffProfile,
        actor: &Actor,
    ) -> StoreResult<TariffProfileRow> {
        let mut tx = self.pool.begin_write().await?;
        let id: i64 = query(
            "INSERT INTO tariff_profiles (name, description, owner_org_id, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(new.name)
        .bind(new.description)
        .bind(new.owner_org_id)
        .bind(actor.at)
        .scalar(&mut tx)
        .await?;
        let row = tariff_locked(&mut tx, MetaStore::backend(self), id).await?;
        changed(
            &mut tx,
            actor,
            ProfileKind::Tariff,
            (id, row.owner_org_id),
            "created",
            json!({"tariff_profile": row}),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    async fn tariff_profile_list(
        &self,
        within: Option<&str>,
        owner: Option<i64>,
        page: crate::domain::paging::Page,
    ) -> StoreResult<(Vec<TariffProfileRow>, i64)> {
        let push = |qb: &mut super::db::Builder<'_>| {
            if let Some(path) = within {
                let (lo, hi) = crate::domain::org::subtree_range(path);
                qb.push(" AND o.path >= ")
                    .push_bind(lo)
                    .push(" AND o.path < ")
                    .push_bind(hi);
            }
            if let Some(owner) = owner {
                qb.push(" AND p.owner_org_id = ").push_bind(owner);
            }
        };
        let from = " FROM tariff_profiles p LEFT JOIN organisations o ON o.id = p.owner_org_id \
                    WHERE 1 = 1";
        let (rows, total) =
            super::db::counted_page(&self.reads, (TARIFF_COLUMNS, from, "p.id"), push, page)
                .await?;
        Ok((tariff_use(&self.reads, rows).await?, total))
    }

    async fn tariff_profile_get(&self, id: i64) -> StoreResult<Option<TariffProfileRow>> {
        let row: Option<TariffProfileRow> = query(format!(
            "SELECT {TARIFF_COLUMNS} FROM tariff_profiles p WHERE p.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(tariff_use(&self.pool, row.into_iter().collect())
            .await?
            .pop())
    }

    async fn tariff_profile_update(
        &self,
        id: i64,
        name: Option<String>,
        description: Option<Option<String>>,
        actor: &Actor,
    ) -> StoreResult<TariffProfileRow> {
        let backend = MetaStore::backend(self);
        let mut tx = self.pool.begin_write().await?;
        let before = tariff_locked(&mut tx, backend, id).await?;
        query("UPDATE tariff_profiles SET name = $1, description = $2 WHERE id = $3")
            .bind(name.unwrap_or_else(|| before.name.clone()))
            .bind(description.unwrap_or_else(|| before.description.clone()))
            .bind(id)
            .execute(&mut tx)
            .await?;
        let after = tariff_locked(&mut tx, backend, id).await?;
        changed(
            &mut tx,
            actor,
            ProfileKind::Tariff,
            (id, after.owner_org_id),
            "updated",
            json!({"from": before, "to": after}),
        )
        .await?;
        tx.commit().await?;
        self.labels.forget_profile(ProfileKind::Tariff, id);
        Ok(tariff_use(&self.pool, vec![after]).await?.remove(0))
    }

    async fn tariff_profile_delete(&self, id: i64, actor: &Actor) -> StoreResult<()> {
        let mut tx = self.pool.begin_write().await?;
        let row = tariff_locked(&mut tx, MetaStore::backend(self), id).await?;
        delete_unused(&mut tx, ProfileKind::Tariff, id).await?;
        changed(
            &mut tx,
            actor,
            ProfileKind::Tariff,
            (id, row.owner_org_id),
            "deleted",
            json!({"tariff_profile": row}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
