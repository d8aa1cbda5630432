//! An endpoint's SMS, `/api/v1/endpoint/{id}/sms[/{sms_id}]` (contract: spec/emnify-endpoints.md §5).
use super::sims::{emnify_time, paged, CollectionQuery, IdDescription, NamedId};
use crate::api::body::Lenient;
use crate::auth::extract::{ManagersUp, Readers, Require};
use crate::domain::emnify::EmnifyPage;
use crate::domain::sms::{address_type_description, type_description, SmsStatus};
use crate::error::AppResult;
use crate::service::endpoints::{self, SmsInput};
use crate::service::sims::path_id;
use crate::state::AppState;
use crate::store::SmsRow;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, send))
        .routes(routes!(get_sms, cancel))
}

/// An SMS to (MT) or from (MO) an endpoint; unset values omitted. Field types as emnify's OpenAPI
/// gives them (`retry_count`, `sim_id` strings).
#[derive(Serialize, ToSchema)]
pub struct SmsEntry {
    id: i64,
    submit_date: String,
    expiry_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    delivery_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    final_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_delivery_attempt: Option<String>,
    retry_count: String,
    status: IdDescription,
    sms_type: IdDescription,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_address_type: Option<IdDescription>,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination_address: Option<String>,
    payload: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    udh: Option<String>,
    dcs: i32,
    pid: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    gsm_map_error: Option<String>,
    endpoint: NamedId,
    #[serde(skip_serializing_if = "Option::is_none")]
    sim_id: Option<String>,
}

fn entry(m: SmsRow) -> SmsEntry {
    let status = SmsStatus::from_id(i64::from(m.status)).unwrap_or(SmsStatus::Pending);
    SmsEntry {
        id: m.id,
        submit_date: emnify_time(&m.submit_date),
        expiry_date: emnify_time(&m.expiry_date),
        delivery_date: m.delivery_date.as_ref().map(emnify_time),
        final_date: m.final_date.as_ref().map(emnify_time),
        last_delivery_attempt: m.last_delivery_attempt.as_ref().map(emnify_time),
        retry_count: m.retry_count.to_string(),
        status: IdDescription::new(i64::from(status.id()), status.description()),
        sms_type: IdDescription::new(i64::from(m.sms_type), type_description(m.sms_type)),
        source_address: m.source_address,
        source_address_type: m
            .source_address_type
            .map(|t| IdDescription::new(i64::from(t), address_type_description(t))),
        destination_address: m.destination_address,
        payload: m.payload,
        udh: m.udh,
        dcs: m.dcs,
        pid: m.pid,
        gsm_map_error: m.gsm_map_error.map(|e| e.to_string()),
        endpoint: NamedId {
            id: m.endpoint_id,
            name: m.endpoint_name,
        },
        sim_id: m.sim_id.map(|s| s.to_string()),
    }
}

/// The endpoint's SMS, MT and MO, newest first, paged (default 1000, at most 2500).
#[utoipa::path(operation_id = "list_endpoint_sms", get, path = "/api/v1/endpoint/{endpoint_id}/sms", tag = "emnify", security(("bearer" = [])),
    params(("endpoint_id" = i64, Path, description = "Endpoint id"), CollectionQuery),
    responses(
        (status = 200, body = [SmsEntry], description = "With the paging headers of every emnify list"),
        (status = 400, description = "1000 non-numeric id"),
        (status = 404, description = "1201 unknown endpoint"),
    ))]
async fn list(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<CollectionQuery>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let page = EmnifyPage::parse(q.page.as_deref(), q.per_page.as_deref(), 1000, 2500)?;
    let listed = endpoints::sms_list(&state, &p, id, page).await?;
    Ok(paged(&uri, &q, listed.map(entry), "-id"))
}

/// `source_address_type` as `{"id": 145}`.
#[derive(Deserialize, Serialize, ToSchema, Default)]
pub struct AddressType {
    #[serde(default)]
    id: Option<i64>,
}

/// An SMS to send to the endpoint.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct SmsRequest {
    /// 1 to 1000 characters; required.
    payload: Option<String>,
    /// Default: the server's `sms.default_source_address`.
    source_address: Option<String>,
    /// 145 International, 161 National, 208 Alphanumeric; default from the address.
    source_address_type: Option<AddressType>,
    /// In the future; default: now plus `sms.validity_hours`.
    expiry_date: Option<String>,
    /// User data header, hex.
    udh: Option<String>,
    /// Data coding scheme, 0 to 255.
    dcs: Option<i64>,
}

/// Send an SMS to the endpoint: 201, `Location: /api/v1/endpoint/{id}/sms/{sms_id}`. Accepted
/// without a SIM (it waits for one).
#[utoipa::path(operation_id = "send_endpoint_sms", post, path = "/api/v1/endpoint/{endpoint_id}/sms", tag = "emnify", security(("bearer" = [])),
    params(("endpoint_id" = i64, Path, description = "Endpoint id")),
    request_body = SmsRequest,
    responses(
        (status = 201, description = "submitted, status 1; Location names it"),
        (status = 403, description = "1104 below MANAGER"),
        (status = 404, description = "1201 unknown endpoint"),
        (status = 422, description = "1400 payload missing or a bad value"),
    ))]
async fn send(
    State(state): State<AppState>,
    Require(p, ..): Require<ManagersUp>,
    Path(id): Path<String>,
    Lenient(body): Lenient<SmsRequest>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let input = SmsInput {
        payload: body.payload,
        source_address: body.source_address,
        source_address_type: body.source_address_type.and_then(|t| t.id),
        expiry_date: body.expiry_date,
        udh: body.udh,
        dcs: body.dcs,
    };
    let sms = endpoints::sms_send(&state, &p, id, input).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/endpoint/{id}/sms/{sms}"))],
    )
        .into_response())
}

/// One SMS of the endpoint.
#[utoipa::path(operation_id = "get_endpoint_sms", get, path = "/api/v1/endpoint/{endpoint_id}/sms/{sms_id}", tag = "emnify", security(("bearer" = [])),
    params(
        ("endpoint_id" = i64, Path, description = "Endpoint id"),
        ("sms_id" = i64, Path, description = "SMS id"),
    ),
    responses(
        (status = 200, body = SmsEntry),
        (status = 400, description = "1000 non-numeric id"),
        (status = 404, description = "1201 unknown endpoint or SMS"),
    ))]
async fn get_sms(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
    Path((id, sms)): Path<(String, String)>,
) -> AppResult<Json<SmsEntry>> {
    let id = path_id(&id)?;
    let sms = endpoints::sms_get(&state, &p, id, path_id(&sms)?).await?;
    Ok(Json(entry(sms)))
}

/// Cancel an MT SMS still waiting (1) or buffered (3); 204.
#[utoipa::path(operation_id = "cancel_endpoint_sms", delete, path = "/api/v1/endpoint/{endpoint_id}/sms/{sms_id}", tag = "emnify", security(("bearer" = [])),
    params(
        ("endpoint_id" = i64, Path, description = "Endpoint id"),
        ("sms_id" = i64, Path, description = "SMS id"),
    ),
    responses(
        (status = 204, description = "canceled (status 7)"),
        (status = 403, description = "1104 below MANAGER"),
        (status = 404, description = "1201 unknown endpoint or SMS"),
        (status = 409, description = "1409 in another status, or an MO SMS"),
    ))]
async fn cancel(
    State(state): State<AppState>,
    Require(p, ..): Require<ManagersUp>,
    Path((id, sms)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    let id = path_id(&id)?;
    endpoints::sms_cancel(&state, &p, id, path_id(&sms)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
