//! `/api/v1/operator` and an endpoint's operator blacklist,
//! `/api/v1/endpoint/{id}/operator_blacklist[/{operator_id}]` (contract: spec/emnify-endpoints.md §3).
use crate::auth::extract::{ManagersUp, Readers, Require};
use crate::domain::operator::name_and_country;
use crate::error::AppResult;
use crate::service::endpoints;
use crate::service::sims::path_id;
use crate::state::AppState;
use crate::store::Operator;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(blacklist))
        .routes(routes!(blacklist_add, blacklist_remove))
}

#[derive(Serialize, ToSchema)]
pub struct OperatorCountry {
    id: i64,
    name: String,
    /// The international calling code, digits only.
    country_code: String,
    mcc: String,
    iso_code: String,
}

#[derive(Serialize, ToSchema)]
pub struct Tapcode {
    id: i64,
    tapcode: String,
}

#[derive(Serialize, ToSchema)]
pub struct Mnc {
    id: i64,
    mnc: String,
}

/// A mobile network operator.
#[derive(Serialize, ToSchema)]
pub struct OperatorEntry {
    id: i64,
    name: String,
    country: OperatorCountry,
    tapcode: Vec<Tapcode>,
    mnc: Vec<Mnc>,
    /// `Country / Operator`.
    name_and_country: String,
}

pub(crate) fn entry(o: Operator) -> OperatorEntry {
    OperatorEntry {
        name_and_country: name_and_country(&o.country_name, &o.name),
        id: o.id,
        name: o.name,
        country: OperatorCountry {
            id: o.country_id,
            name: o.country_name,
            country_code: o.country_code,
            mcc: o.mcc,
            iso_code: o.iso_code,
        },
        tapcode: o
            .tapcodes
            .into_iter()
            .map(|(id, tapcode)| Tapcode { id, tapcode })
            .collect(),
        mnc: o
            .mncs
            .into_iter()
            .map(|(id, mnc)| Mnc { id, mnc })
            .collect(),
    }
}

/// Every operator, by country name then id; not paged.
#[utoipa::path(operation_id = "list_operators", get, path = "/api/v1/operator", tag = "emnify", security(("bearer" = [])),
    responses((status = 200, body = [OperatorEntry])))]
async fn list(
    State(state): State<AppState>,
    _caller: Require<Readers>,
) -> AppResult<Json<Vec<OperatorEntry>>> {
    let all = endpoints::operators(&state).await?;
    Ok(Json(all.into_iter().map(entry).collect()))
}

/// The operators an endpoint is barred from, by id.
#[utoipa::path(operation_id = "list_endpoint_operator_blacklist", get, path = "/api/v1/endpoint/{endpoint_id}/operator_blacklist", tag = "emnify", security(("bearer" = [])),
    params(("endpoint_id" = i64, Path, description = "Endpoint id")),
    responses(
        (status = 200, body = [OperatorEntry]),
        (status = 400, description = "1000 non-numeric id"),
        (status = 404, description = "1201 unknown endpoint"),
    ))]
async fn blacklist(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<OperatorEntry>>> {
    let listed = endpoints::blacklist(&state, &p, path_id(&id)?).await?;
    Ok(Json(listed.into_iter().map(entry).collect()))
}

/// Bar the endpoint from an operator; 204, no body.
#[utoipa::path(operation_id = "add_endpoint_operator_blacklist", put, path = "/api/v1/endpoint/{endpoint_id}/operator_blacklist/{operator_id}", tag = "emnify", security(("bearer" = [])),
    params(
        ("endpoint_id" = i64, Path, description = "Endpoint id"),
        ("operator_id" = i64, Path, description = "Operator id"),
    ),
    responses(
        (status = 204, description = "added"),
        (status = 400, description = "1000 non-numeric id"),
        (status = 403, description = "1104 below MANAGER"),
        (status = 404, description = "1201 unknown endpoint or operator"),
        (status = 409, description = "1405 listed already"),
    ))]
async fn blacklist_add(
    State(state): State<AppState>,
    Require(p, ..): Require<ManagersUp>,
    Path((id, operator)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    let id = path_id(&id)?;
    endpoints::blacklist_change(&state, &p, id, path_id(&operator)?, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lift an operator's bar; 204, no body.
#[utoipa::path(operation_id = "remove_endpoint_operator_blacklist", delete, path = "/api/v1/endpoint/{endpoint_id}/operator_blacklist/{operator_id}", tag = "emnify", security(("bearer" = [])),
    params(
        ("endpoint_id" = i64, Path, description = "Endpoint id"),
        ("operator_id" = i64, Path, description = "Operator id"),
    ),
    responses(
        (status = 204, description = "removed"),
        (status = 400, description = "1000 non-numeric id"),
        (status = 403, description = "1104 below MANAGER"),
        (status = 404, description = "1201 unknown endpoint or operator, or not listed"),
    ))]
async fn blacklist_remove(
    State(state): State<AppState>,
    Require(p, ..): Require<ManagersUp>,
    Path((id, operator)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    let id = path_id(&id)?;
    endpoints::blacklist_change(&state, &p, id, path_id(&operator)?, false).await?;
    Ok(StatusCode::NO_CONTENT)
}
