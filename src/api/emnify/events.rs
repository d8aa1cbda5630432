//! The account's events, `/api/v1/event`, and the event types, `/api/v1/event/type` (contract:
//! spec/emnify-endpoints.md §6).
use super::sims::{event, paged, CollectionQuery, Event, IdDescription};
use crate::auth::extract::{Readers, Require};
use crate::domain::emnify::EmnifyPage;
use crate::domain::events::{type_description, KNOWN_TYPES};
use crate::error::AppResult;
use crate::service::events;
use crate::state::AppState;
use axum::extract::{OriginalUri, Query, State};
use axum::response::Response;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(types))
}

/// Events of every organisation in the caller's scope, newest first, paged as SIM events.
#[utoipa::path(operation_id = "list_events", get, path = "/api/v1/event", tag = "emnify", security(("bearer" = [])),
    params(CollectionQuery),
    description = "`q`: as SIM events (`type`, `source`, `severity`, `alert`, `description`, `from`+`until`) \
         and `iccid`, `iccid_with_luhn`, `imsi` (up to 6 with `|`), `endpoint` (names, up to 6), `tags`, \
         `ip_address`, `imei`, `organisation` and `user` (names, substrings), each within the caller's \
         scope. `sort`: `id`, `timestamp`, `source`, `severity`, `alert`, `type`, `iccid`, `imsi`, `endpoint`, `tags`, `ip_address`, `organisation`, `user` (default `-id`; rows without the value last).",
    responses(
        (status = 200, body = [Event]),
        (status = 422, description = "1301 / 1302"),
    ))]
async fn list(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<CollectionQuery>,
) -> AppResult<Response> {
    let page = EmnifyPage::parse(q.page.as_deref(), q.per_page.as_deref(), 100, 2500)?;
    let listed =
        events::account_events(&state, &p, q.q.as_deref(), q.sort.as_deref(), page).await?;
    Ok(paged(&uri, &q, listed.map(event), "-id"))
}

/// Every event type simgate writes, by id; not paged.
#[utoipa::path(operation_id = "list_event_types", get, path = "/api/v1/event/type", tag = "emnify", security(("bearer" = [])),
    responses((status = 200, body = [IdDescription])))]
async fn types(_caller: Require<Readers>) -> Json<Vec<IdDescription>> {
    Json(
        KNOWN_TYPES
            .iter()
            .map(|t| IdDescription::new(i64::from(*t), type_description(*t)))
            .collect(),
    )
}
