//! What every mutation writes beside its change, inside its transaction: the audit row and the event,
//! each under the tenant key of its org (the acting org for the audit row).
use super::db::{query, Tx};
use super::keys;
use super::{Actor, StoreResult};
use crate::domain::events::{SEVERITY_INFO, SOURCE_API};
use serde::Serialize;
use sqlx::types::Json;

/// The audit row of a mutation: who, what, and the entity before and after.
pub(crate) async fn audit<B: Serialize, A: Serialize>(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    entity: &str,
    entity_id: impl ToString,
    before: Option<&B>,
    after: Option<&A>,
) -> StoreResult<()> {
    let json = |v: Option<serde_json::Value>| v.map(Json);
    let tenant = keys::of_org(tx, actor.org_id).await?;
    query(
        "INSERT INTO audit_log (ts, actor_user_id, actor_org_id, action, entity, entity_id, \
            before, after, \
         request_id, tenant_org_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(actor.at)
    .bind(actor.user_id)
    .bind(actor.org_id)
    .bind(action)
    .bind(entity)
    .bind(entity_id.to_string())
    .bind(json(
        before.map(|b| serde_json::to_value(b).unwrap_or_default()),
    ))
    .bind(json(
        after.map(|a| serde_json::to_value(a).unwrap_or_default()),
    ))
    .bind(actor.request_id.as_deref())
    .bind(tenant)
    .execute(tx)
    .await?;
    Ok(())
}

/// An event (source API, severity info) recording a change to an org's SIM.
pub(crate) async fn event(
    tx: &mut Tx,
    actor: &Actor,
    org_id: impl Into<Option<i64>>,
    sim_id: Option<i64>,
    type_id: i32,
    description: impl Into<String>,
    detail: Option<&serde_json::Value>,
) -> StoreResult<()> {
    insert_event(
        tx,
        actor,
        org_id.into(),
        None,
        sim_id,
        type_id,
        description.into(),
        detail,
    )
    .await
}

/// An event about an endpoint (and the SIM in it, if any), under its org.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn endpoint_event(
    tx: &mut Tx,
    actor: &Actor,
    org_id: i64,
    endpoint_id: i64,
    sim_id: Option<i64>,
    type_id: i32,
    description: String,
    detail: Option<&serde_json::Value>,
) -> StoreResult<()> {
    insert_event(
        tx,
        actor,
        Some(org_id),
        Some(endpoint_id),
        sim_id,
        type_id,
        description,
        detail,
    )
    .await
}

/// An event of a SIM in an endpoint or not (`endpoint_id`): every event about a SIM in an endpoint
/// names it.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_event(
    tx: &mut Tx,
    actor: &Actor,
    org_id: Option<i64>,
    endpoint_id: Option<i64>,
    sim_id: Option<i64>,
    type_id: i32,
    description: String,
    detail: Option<&serde_json::Value>,
) -> StoreResult<()> {
    let about = About {
        org_id,
        endpoint_id,
        sim_id,
    };
    write_event(tx, actor, about, API_INFO, type_id, description, detail).await
}

/// Whom an event is about.
#[derive(Debug, Clone, Copy)]
pub(crate) struct About {
    pub org_id: Option<i64>,
    pub endpoint_id: Option<i64>,
    pub sim_id: Option<i64>,
}

/// Where an event comes from, how grave it is, whether it alerts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origin {
    pub source: i16,
    pub severity: i16,
    pub alert: bool,
}

pub(crate) const API_INFO: Origin = Origin {
    source: SOURCE_API,
    severity: SEVERITY_INFO,
    alert: false,
};

/// A policy's warning (a quota's threshold or end): source Policy, severity Warn, an alert.
pub(crate) const POLICY_WARNING: Origin = Origin {
    source: crate::domain::events::SOURCE_POLICY,
    severity: crate::domain::events::SEVERITY_WARN,
    alert: true,
};

/// A policy's routine change (a quota expired or refilled by the job).
pub(crate) const POLICY_INFO: Origin = Origin {
    source: crate::domain::events::SOURCE_POLICY,
    severity: SEVERITY_INFO,
    alert: false,
};

pub(crate) async fn write_event(
    tx: &mut Tx,
    actor: &Actor,
    about: About,
    origin: Origin,
    type_id: i32,
    description: String,
    detail: Option<&serde_json::Value>,
) -> StoreResult<()> {
    let About {
        org_id,
        endpoint_id,
        sim_id,
    } = about;
    let tenant = keys::of_org(tx, org_id).await?;
    query(
        "INSERT INTO events (ts, org_id, sim_id, endpoint_id, user_id, type_id, source, severity, \
            alert, description, detail, tenant_org_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(actor.at)
    .bind(org_id)
    .bind(sim_id)
    .bind(endpoint_id)
    .bind(actor.user_id)
    .bind(type_id)
    .bind(origin.source)
    .bind(origin.severity)
    .bind(origin.alert)
    .bind(description)
    .bind(detail.cloned().map(Json))
    .bind(tenant)
    .execute(tx)
    .await?;
    Ok(())
}
