//! An endpoint's usage statistics, `/api/v1/endpoint/{id}/stats[/daily]` (contract:
//! spec/emnify-endpoints.md §6): the SIM forms, from the usage its SIMs had while in it.
use super::sims::DailyQuery;
use crate::auth::extract::{Readers, Require};
use crate::error::AppResult;
use crate::service::sims::path_id;
use crate::service::usage::{self, Of};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(stats))
        .routes(routes!(daily_stats))
}

/// Usage and cost of the endpoint: current month, last month, last hour (`endpoint_id` where a SIM's
/// statistics have `sim_id`).
#[utoipa::path(operation_id = "endpoint_stats", get, path = "/api/v1/endpoint/{endpoint_id}/stats", tag = "emnify", security(("bearer" = [])),
    params(("endpoint_id" = i64, Path, description = "Endpoint id")),
    responses(
        (status = 200, body = Object, description = "{current_month, last_month, last_hour}"),
        (status = 404, description = "1201"),
    ))]
async fn stats(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    Ok(Json(
        usage::stats(&state, &p, Of::Endpoint(path_id(&id)?)).await?,
    ))
}

/// Usage and cost of the endpoint per day with traffic.
#[utoipa::path(operation_id = "endpoint_daily_stats", get, path = "/api/v1/endpoint/{endpoint_id}/stats/daily", tag = "emnify", security(("bearer" = [])),
    params(("endpoint_id" = i64, Path, description = "Endpoint id"), DailyQuery),
    responses(
        (status = 200, body = [Object]),
        (status = 404, description = "1201"),
        (status = 422, description = "1403 bad date"),
    ))]
async fn daily_stats(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
    Path(id): Path<String>,
    Query(q): Query<DailyQuery>,
) -> AppResult<Json<Vec<Value>>> {
    Ok(Json(
        usage::daily(
            &state,
            &p,
            Of::Endpoint(path_id(&id)?),
            q.start_date.as_deref(),
            q.end_date.as_deref(),
        )
        .await?,
    ))
}
