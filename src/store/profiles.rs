//! Service-profile writes (spec/emnify-endpoints.md §2): create, change, delete, and the services a
//! profile lists. Each change writes event 1016 (under the owner org) and its audit row.
//!
//! Locks: a change or delete holds the profile exclusively ([`hold`]) and a delete then counts its
//! endpoints; an endpoint that takes the profile holds it shared (`endpoints::check_profile`), so a
//! profile is never deleted under a new endpoint.
use super::db::{query, Tx};
use super::journal;
use super::*;
use crate::domain::error::Rule;
use crate::domain::events::SERVICE_PROFILE_CHANGED;
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

/// Holds a profile until the transaction ends: shared by an endpoint that takes it, exclusively by
/// its change or delete. An advisory lock rather than a row lock: Citus turns a row lock on a
/// reference table into a lock on the whole table on every node, taken in steps, and concurrent
/// endpoint creates deadlocked on it. SQLite needs none (one writer at a time).
pub(crate) async fn hold(
    tx: &mut Tx,
    backend: Backend,
    kind: ProfileKind,
    id: i64,
    exclusive: bool,
) -> StoreResult<()> {
    if backend == Backend::Sqlite {
        return Ok(());
    }
    let function = if exclusive {
        "pg_advisory_xact_lock"
    } else {
        "pg_advisory_xact_lock_shared"
    };
    // Ids past 2^31 share a key with a smaller one: a needless wait at worst.
    query(format!(
        "SELECT 1 FROM (SELECT {function}(hashtext($1), CAST($2 % 2147483647 AS INTEGER))) l"
    ))
    .bind(kind.table())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn locked(tx: &mut Tx, backend: Backend, id: i64) -> StoreResult<ServiceProfile> {
    hold(tx, backend, ProfileKind::Service, id, true).await?;
    query(format!(
        "SELECT {COLUMNS} FROM service_profiles WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)
}

async fn changed(
    tx: &mut Tx,
    actor: &Actor,
    profile: &ServiceProfile,
    action: &str,
    detail: serde_json::Value,
) -> StoreResult<()> {
    journal::insert_event(
        tx,
        actor,
        profile.owner_org_id,
        None,
        None,
        SERVICE_PROFILE_CHANGED,
        format!("Service profile {} {action}", profile.id),
        Some(&detail),
    )
    .await?;
    journal::audit(
        tx,
        actor,
        action,
        "service_profile",
        profile.id,
        None::<&()>,
        Some(&detail),
    )
    .await
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
            &row,
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
            &after,
            "updated",
            json!({"from": before, "to": after}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn service_profile_delete(&self, id: i64, actor: &Actor) -> StoreResult<()> {
        let mut tx = self.pool.begin_write().await?;
        let row = locked(&mut tx, MetaStore::backend(self), id).await?;
        // Deleted before the count, which rolls it back when endpoints use it: on Citus a write to a
        // reference table with a foreign key to it may not follow a read across shards.
        query("DELETE FROM service_profile_services WHERE profile_id = $1")
            .bind(id)
            .execute(&mut tx)
            .await?;
        query("DELETE FROM service_profiles WHERE id = $1")
            .bind(id)
            .execute(&mut tx)
            .await?;
        let used: i64 =
            query("SELECT COUNT(*) FROM endpoints WHERE service_profile_id = $1 AND status <> 2")
                .bind(id)
                .scalar(&mut tx)
                .await?;
        if used > 0 {
            return Err(
                Rule::Held(format!("Service profile {id} is used by {used} endpoints")).into(),
            );
        }
        changed(
            &mut tx,
            actor,
            &row,
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
        changed(&mut tx, actor, &row, "updated", detail).await?;
        tx.commit().await?;
        Ok(())
    }
}
