//! An endpoint's data and SMS quotas, `/api/v1/endpoint/{id}/quota/data|sms` (contract:
//! spec/emnify-endpoints.md §7).
use super::sims::{emnify_time, IdDescription};
use crate::api::body::Lenient;
use crate::api::json::integral_id;
use crate::auth::extract::{ManagersUp, Readers, Require};
use crate::domain::quota::QuotaKind;
use crate::error::AppResult;
use crate::service::quotas::{self, QuotaInput};
use crate::service::sims::path_id;
use crate::state::AppState;
use crate::store::QuotaRow;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_data, set_data, delete_data))
        .routes(routes!(get_sms, set_sms, delete_sms))
}

#[derive(Serialize, ToSchema)]
pub struct ActionEntry {
    id: i16,
    description: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    peak_throughput: Option<i32>,
}

/// A quota: `volume` left (MB of data, or SMS), counted from its assignment.
#[derive(Serialize, ToSchema)]
pub struct QuotaEntry {
    status: IdDescription,
    volume: f64,
    expiry_date: String,
    last_volume_added: f64,
    auto_refill: i16,
    #[serde(skip_serializing_if = "Option::is_none")]
    threshold_percentage: Option<i16>,
    action_on_exhaustion: ActionEntry,
}

fn entry(q: QuotaRow) -> QuotaEntry {
    let action = q.exhaustion();
    QuotaEntry {
        status: IdDescription::new(i64::from(q.status), q.status().description()),
        volume: q.volume,
        expiry_date: emnify_time(&q.expiry_date),
        last_volume_added: q.last_volume_added,
        auto_refill: q.auto_refill,
        threshold_percentage: q.threshold_percentage,
        action_on_exhaustion: ActionEntry {
            id: action.id(),
            description: action.description(),
            peak_throughput: action.peak(),
        },
    }
}

#[derive(Deserialize, Serialize, ToSchema, Default)]
pub struct StatusRef {
    #[serde(default, deserialize_with = "integral_id")]
    #[schema(value_type = Option<i64>)]
    id: Option<i64>,
}

#[derive(Deserialize, Serialize, ToSchema, Default)]
pub struct ActionRef {
    #[serde(default, deserialize_with = "integral_id")]
    #[schema(value_type = Option<i64>)]
    id: Option<i64>,
    /// bit/s: 64000, 128000, 256000 or 384000; required for Throttle.
    #[serde(default, deserialize_with = "integral_id")]
    #[schema(value_type = Option<i64>)]
    peak_throughput: Option<i64>,
}

/// A new quota of its kind (replacing the one there).
#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct QuotaRequest {
    /// 1 ACTIVE (default), 2 EXHAUSTED, 3 EXPIRED.
    status: Option<StatusRef>,
    /// MB (data) or SMS, at least 0; required.
    volume: Option<f64>,
    /// In the future; required.
    expiry_date: Option<String>,
    /// 1: refilled to `volume` at 00:00 UTC every day (stored; the refill is not run yet).
    #[serde(deserialize_with = "integral_id")]
    #[schema(value_type = Option<i64>)]
    auto_refill: Option<i64>,
    /// 0 to 100: an event when less than this share of the volume is left.
    #[serde(deserialize_with = "integral_id")]
    #[schema(value_type = Option<i64>)]
    threshold_percentage: Option<i64>,
    /// 1 Block (default); 2 Throttle (data only) with `peak_throughput`.
    action_on_exhaustion: Option<ActionRef>,
}

fn input(body: QuotaRequest) -> QuotaInput {
    let action = body.action_on_exhaustion.unwrap_or_default();
    QuotaInput {
        status: body.status.and_then(|s| s.id),
        volume: body.volume,
        expiry_date: body.expiry_date,
        auto_refill: body.auto_refill,
        threshold_percentage: body.threshold_percentage,
        action: action.id,
        peak_throughput: action.peak_throughput,
    }
}

async fn get_of(
    state: &AppState,
    p: &crate::domain::access::Principal,
    id: &str,
    kind: QuotaKind,
) -> AppResult<Json<QuotaEntry>> {
    Ok(Json(entry(
        quotas::get(state, p, path_id(id)?, kind).await?,
    )))
}

/// The endpoint's data quota; 404 1201 when it has none.
#[utoipa::path(operation_id = "get_endpoint_data_quota", get, path = "/api/v1/endpoint/{endpoint_id}/quota/data", tag = "emnify", security(("bearer" = [])),
    params(("endpoint_id" = i64, Path, description = "Endpoint id")),
    responses((status = 200, body = QuotaEntry), (status = 404, description = "1201 unknown endpoint, or no data quota")))]
async fn get_data(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
    Path(id): Path<String>,
) -> AppResult<Json<QuotaEntry>> {
    get_of(&state, &p, &id, QuotaKind::Data).await
}

/// The endpoint's SMS quota; 404 1201 when it has none.
#[utoipa::path(operation_id = "get_endpoint_sms_quota", get, path = "/api/v1/endpoint/{endpoint_id}/quota/sms", tag = "emnify", security(("bearer" = [])),
    params(("endpoint_id" = i64, Path, description = "Endpoint id")),
    responses((status = 200, body = QuotaEntry), (status = 404, description = "1201 unknown endpoint, or no SMS quota")))]
async fn get_sms(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
    Path(id): Path<String>,
) -> AppResult<Json<QuotaEntry>> {
    get_of(&state, &p, &id, QuotaKind::Sms).await
}

/// Set the data quota (replacing the one there, counting from now; lifts a block): 201.
#[utoipa::path(operation_id = "set_endpoint_data_quota", post, path = "/api/v1/endpoint/{endpoint_id}/quota/data", tag = "emnify", security(("bearer" = [])),
    params(("endpoint_id" = i64, Path, description = "Endpoint id")), request_body = QuotaRequest,
    responses((status = 201, description = "set"), (status = 403, description = "1104 below MANAGER"),
        (status = 404, description = "1201 unknown endpoint"), (status = 422, description = "1400 a missing or bad value")))]
async fn set_data(
    State(state): State<AppState>,
    Require(p, ..): Require<ManagersUp>,
    Path(id): Path<String>,
    Lenient(body): Lenient<QuotaRequest>,
) -> AppResult<StatusCode> {
    quotas::set(&state, &p, path_id(&id)?, QuotaKind::Data, input(body)).await?;
    Ok(StatusCode::CREATED)
}

/// Set the SMS quota (replacing the one there, counting from now; lifts a block): 201.
#[utoipa::path(operation_id = "set_endpoint_sms_quota", post, path = "/api/v1/endpoint/{endpoint_id}/quota/sms", tag = "emnify", security(("bearer" = [])),
    params(("endpoint_id" = i64, Path, description = "Endpoint id")), request_body = QuotaRequest,
    responses((status = 201, description = "set"), (status = 403, description = "1104 below MANAGER"),
        (status = 404, description = "1201 unknown endpoint"), (status = 422, description = "1400 a missing or bad value")))]
async fn set_sms(
    State(state): State<AppState>,
    Require(p, ..): Require<ManagersUp>,
    Path(id): Path<String>,
    Lenient(body): Lenient<QuotaRequest>,
) -> AppResult<StatusCode> {
    quotas::set(&state, &p, path_id(&id)?, QuotaKind::Sms, input(body)).await?;
    Ok(StatusCode::CREATED)
}

/// Delete the data quota: 204; 404 1201 when there is none.
#[utoipa::path(operation_id = "delete_endpoint_data_quota", delete, path = "/api/v1/endpoint/{endpoint_id}/quota/data", tag = "emnify", security(("bearer" = [])),
    params(("endpoint_id" = i64, Path, description = "Endpoint id")),
    responses((status = 204, description = "deleted"), (status = 403, description = "1104 below MANAGER"),
        (status = 404, description = "1201 unknown endpoint, or no data quota")))]
async fn delete_data(
    State(state): State<AppState>,
    Require(p, ..): Require<ManagersUp>,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    quotas::delete(&state, &p, path_id(&id)?, QuotaKind::Data).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete the SMS quota: 204; 404 1201 when there is none.
#[utoipa::path(operation_id = "delete_endpoint_sms_quota", delete, path = "/api/v1/endpoint/{endpoint_id}/quota/sms", tag = "emnify", security(("bearer" = [])),
    params(("endpoint_id" = i64, Path, description = "Endpoint id")),
    responses((status = 204, description = "deleted"), (status = 403, description = "1104 below MANAGER"),
        (status = 404, description = "1201 unknown endpoint, or no SMS quota")))]
async fn delete_sms(
    State(state): State<AppState>,
    Require(p, ..): Require<ManagersUp>,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    quotas::delete(&state, &p, path_id(&id)?, QuotaKind::Sms).await?;
    Ok(StatusCode::NO_CONTENT)
}
