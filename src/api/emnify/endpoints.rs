//! `/api/v1/endpoint...` (devices) and the profiles they run under, `/api/v1/service_profile...` and
//! `/api/v1/tariff_profile...` (contract: shared/spec/emnify-endpoints.md).
use super::sims::{emnify_time, event, paged, CollectionQuery, Event, IdDescription, NamedId};
use crate::api::body::Lenient;
use crate::api::json::{double_option, integral_id};
use crate::auth::extract::{ManagersUp, Readers, Require};
use crate::domain::emnify::{iccid_forms, EmnifyPage};
use crate::domain::endpoint::EndpointStatus;
use crate::error::{AppError, AppResult};
use crate::service::endpoints::{self, CreateInput, PatchInput};
use crate::service::events;
use crate::service::sims::path_id;
use crate::state::AppState;
use crate::store::{EndpointRow, EventSubject, TariffProfile};
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
        .routes(routes!(list, create))
        .routes(routes!(statuses))
        .routes(routes!(get_endpoint, patch_endpoint, delete_endpoint))
        .routes(routes!(endpoint_events))
        .routes(routes!(connectivity, reset_connectivity))
        .routes(routes!(tariff_profiles, create_tariff_profile))
        .routes(routes!(
            tariff_profile,
            change_tariff_profile,
            delete_tariff_profile
        ))
}

/// The SIM in an endpoint.
#[derive(Serialize, ToSchema)]
pub struct EndpointSim {
    id: i64,
    iccid: String,
    iccid_with_luhn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    eid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    imsi: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    msisdn: Option<String>,
    status: IdDescription,
}

/// An endpoint (device), emnify style: unset values omitted; both profiles always.
#[derive(Serialize, ToSchema)]
pub struct EndpointEntry {
    id: i64,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<String>,
    created: String,
    last_updated: String,
    status: IdDescription,
    service_profile: NamedId,
    tariff_profile: NamedId,
    #[serde(skip_serializing_if = "Option::is_none")]
    imei: Option<String>,
    imei_lock: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    sim: Option<EndpointSim>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip_address: Option<String>,
    /// `{id}` in lists; with its block and IP version singly.
    #[serde(skip_serializing_if = "Option::is_none")]
    ip_address_space: Option<IpSpaceRef>,
}

#[derive(Serialize, ToSchema)]
pub struct IpSpaceRef {
    id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "10.191.216.64/28")]
    ip_address_space: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip_address_version: Option<i16>,
}

fn status(id: i32) -> IdDescription {
    let d = EndpointStatus::from_id(i64::from(id))
        .map(EndpointStatus::description)
        .unwrap_or("Unknown");
    IdDescription::new(i64::from(id), d)
}

fn entry(e: EndpointRow) -> EndpointEntry {
    let sim = e.sim_id.zip(e.sim_iccid).map(|(id, icc)| {
        let (iccid, iccid_with_luhn) = iccid_forms(&icc);
        EndpointSim {
            id,
            iccid,
            iccid_with_luhn,
            eid: e.sim_eid,
            imsi: e.sim_imsi,
            msisdn: e.sim_msisdn.map(|m| m.trim_start_matches('+').to_string()),
            status: IdDescription::status(e.sim_status.unwrap_or(0)),
        }
    });
    EndpointEntry {
        id: e.id,
        name: e.name,
        tags: e.tags,
        created: emnify_time(&e.created_at),
        last_updated: emnify_time(&e.updated_at),
        status: status(e.status),
        service_profile: NamedId {
            id: e.service_profile_id,
            name: e.service_profile_name,
        },
        tariff_profile: NamedId {
            id: e.tariff_profile_id,
            name: e.tariff_profile_name,
        },
        imei: e.imei,
        imei_lock: e.imei_lock,
        sim,
        ip_address: e.ip_address,
        ip_address_space: e.ip_address_space_id.map(|id| IpSpaceRef {
            id,
            ip_address_version: e.ip_address_space.as_deref().map(|c| {
                if c.contains(':') {
                    6
                } else {
                    4
                }
            }),
            ip_address_space: e.ip_address_space,
        }),
    }
}

/// Endpoints the caller sees (those of orgs in its scope), paged.
#[utoipa::path(operation_id = "list_endpoints", get, path = "/api/v1/endpoint", tag = "emnify", security(("bearer" = [])),
    params(CollectionQuery),
    description = "`q`: `id`, `status`, `service_profile`, `tariff_profile`, `sim_status` (ids, `|` between); \
         `name`, `tags` (case-insensitive substring); `ip_address`, `imei` (exact); the SIM's `eid`, `iccid`, \
         `iccid_with_luhn`, `imsi`, `msisdn` (prefix); `created`, `last_updated` (the day written). `sort`: \
         `id`, `name`, `status`, `created`, `last_updated`, `tags`, `ip_address`, `imei`, `eid`, \
         `service_profile`, `tariff_profile` (a `DeviceSort.` prefix is ignored). Deleted endpoints never.",
    responses(
        (status = 200, body = [EndpointEntry], description = "With X-Total-Count, X-Total-Pages, X-Current-Page, \
             X-Count-Per-Page, X-Sort and Link"),
        (status = 422, description = "1301 bad q / 1302 bad sort"),
    ))]
async fn list(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<CollectionQuery>,
) -> AppResult<Response> {
    let page = EmnifyPage::parse(q.page.as_deref(), q.per_page.as_deref(), 1000, 1000)?;
    let listed = endpoints::list(&state, &p, q.q.as_deref(), q.sort.as_deref(), page).await?;
    Ok(paged(&uri, &q, listed.map(entry), "id"))
}

/// The three endpoint statuses.
#[utoipa::path(operation_id = "list_endpoint_statuses", get, path = "/api/v1/endpoint/status", tag = "emnify", security(("bearer" = [])),
    responses((status = 200, body = [IdDescription])))]
async fn statuses(_caller: Require<Readers>) -> Json<Vec<IdDescription>> {
    Json(
        EndpointStatus::ALL
            .iter()
            .map(|s| IdDescription::new(i64::from(s.id()), s.description()))
            .collect(),
    )
}

/// One endpoint.
#[utoipa::path(get, path = "/api/v1/endpoint/{endpoint_id}", tag = "emnify", security(("bearer" = [])),
    params(("endpoint_id" = i64, Path, description = "Endpoint id")),
    responses(
        (status = 200, body = EndpointEntry),
        (status = 400, description = "1000 non-numeric id"),
        (status = 404, description = "1201 unknown, deleted or outside the caller's scope"),
    ))]
async fn get_endpoint(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
    Path(id): Path<String>,
) -> AppResult<Json<EndpointEntry>> {
    Ok(Json(entry(
        endpoints::get(&state, &p, path_id(&id)?).await?,
    )))
}

/// Events of an endpoint (and of the SIMs while in it), newest first. An unknown or invisible
/// numeric id answers `[]`.
#[utoipa::path(operation_id = "list_endpoint_events", get, path = "/api/v1/endpoint/{endpoint_id}/event", tag = "emnify", security(("bearer" = [])),
    params(("endpoint_id" = i64, Path, description = "Endpoint id"), CollectionQuery),
    description = "As `GET /api/v1/sim/{sim_id}/event`: the same `q`, `sort` and paging; a SIM is named \
         only while the caller sees it.",
    responses(
        (status = 200, body = [Event]),
        (status = 400, description = "1000 non-numeric id"),
        (status = 422, description = "1301 / 1302"),
    ))]
async fn endpoint_events(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<CollectionQuery>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let page = EmnifyPage::parse(q.page.as_deref(), q.per_page.as_deref(), 100, 2500)?;
    let subject = EventSubject::Endpoint(id);
    let listed =
        events::events(&state, &p, subject, q.q.as_deref(), q.sort.as_deref(), page).await?;
    Ok(paged(&uri, &q, listed.map(event), "-id"))
}

#[derive(Serialize, ToSchema)]
pub struct ConnectivityStatus {
    /// ONLINE, ATTACHED or OFFLINE.
    description: String,
}

/// An endpoint's connectivity, as its SIM's network events left it.
#[derive(Serialize, ToSchema)]
pub struct ConnectivityEntry {
    status: ConnectivityStatus,
    /// `{operator?, country?, last_updated}` while attached.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    location: Option<serde_json::Value>,
    /// The data session's `{apn, rat_type, ...}` as the network reported it, while online.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pdp_context: Option<serde_json::Value>,
    /// `SMS`, `GPRS`.
    services: Vec<String>,
}

/// Connectivity: OFFLINE without a SIM or a network event since it went in.
#[utoipa::path(operation_id = "get_endpoint_connectivity", get, path = "/api/v1/endpoint/{endpoint_id}/connectivity", tag = "emnify", security(("bearer" = [])),
    params(("endpoint_id" = i64, Path, description = "Endpoint id")),
    description = "From the network events ingested through `POST /admin/v1/events` for the endpoint's SIM \
         since it went in: types 1 and 2 attach (location set, `SMS` / `GPRS`), 3 opens a data session \
         (ONLINE, `pdp_context` from the event's detail), 5 ends it, 15, 16 and 49 detach (OFFLINE).",
    responses(
        (status = 200, body = ConnectivityEntry),
        (status = 400, description = "1000 non-numeric id"),
        (status = 404, description = "1201"),
    ))]
async fn connectivity(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
    Path(id): Path<String>,
) -> AppResult<Json<ConnectivityEntry>> {
    let c = endpoints::connectivity(&state, &p, path_id(&id)?).await?;
    Ok(Json(ConnectivityEntry {
        status: ConnectivityStatus {
            description: c.state.description().into(),
        },
        location: c.location,
        pdp_context: c.pdp_context,
        services: c.services.into_iter().map(str::to_string).collect(),
    }))
}

/// `{"location": null}` and/or `{"pdp_context": null}`.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectivityReset {
    /// `null`: reset the network registration.
    #[serde(deserialize_with = "double_option")]
    #[schema(value_type = Option<Object>, nullable)]
    location: Option<Option<serde_json::Value>>,
    /// `null`: reset the data session.
    #[serde(deserialize_with = "double_option")]
    #[schema(value_type = Option<Object>, nullable)]
    pdp_context: Option<Option<serde_json::Value>>,
}

/// Ask for a reset of the endpoint's network registration and/or data session; 204. Recorded as
/// the endpoint's event 1011 (no core-network adapter ships to carry it out).
#[utoipa::path(operation_id = "reset_endpoint_connectivity", patch, path = "/api/v1/endpoint/{endpoint_id}/connectivity", tag = "emnify", security(("bearer" = [])),
    params(("endpoint_id" = i64, Path, description = "Endpoint id")),
    request_body = ConnectivityReset,
    responses(
        (status = 204, description = "recorded"),
        (status = 403, description = "1104 below MANAGER"),
        (status = 404, description = "1201"),
        (status = 422, description = "1400 neither `location: null` nor `pdp_context: null`"),
    ))]
async fn reset_connectivity(
    State(state): State<AppState>,
    Require(p, ..): Require<ManagersUp>,
    Path(id): Path<String>,
    Lenient(body): Lenient<Option<ConnectivityReset>>,
) -> AppResult<StatusCode> {
    let id = path_id(&id)?;
    // The endpoint first: an unknown one is 404 whatever the body says.
    endpoints::get(&state, &p, id).await?;
    let body = body.unwrap_or_default();
    let mut reset = Vec::new();
    for (name, field) in [
        ("location", &body.location),
        ("pdp_context", &body.pdp_context),
    ] {
        match field {
            None => {}
            Some(None) => reset.push(name),
            Some(Some(_)) => {
                return Err(AppError::invalid(
                    name,
                    format!("{name} may only be reset: send null"),
                ))
            }
        }
    }
    if reset.is_empty() {
        return Err(AppError::invalid(
            "body",
            "send {\"location\": null} and/or {\"pdp_context\": null}",
        ));
    }
    endpoints::connectivity_reset(&state, &p, id, &reset).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{"id": …}`: an object by its id (an integer, or an integral float as the SDK sends).
#[derive(Deserialize, Serialize, ToSchema, Default)]
pub struct IdRef {
    #[serde(default, deserialize_with = "integral_id")]
    #[schema(value_type = Option<i64>)]
    id: Option<i64>,
}

impl IdRef {
    pub fn id(&self) -> Option<i64> {
        self.id
    }
}

/// `{"id": …, "activate": …}`: the SIM to put in the endpoint.
#[derive(Deserialize, Serialize, ToSchema, Default)]
pub struct SimRef {
    #[serde(default, deserialize_with = "integral_id")]
    #[schema(value_type = Option<i64>)]
    id: Option<i64>,
    /// Activate the SIM (status 1): default true on create, false on PATCH.
    #[serde(default)]
    activate: Option<bool>,
}

/// A new endpoint.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct EndpointCreateRequest {
    /// Required, non-empty.
    name: Option<String>,
    /// 0 Enabled (default) or 1 Disabled.
    status: Option<IdRef>,
    tags: Option<String>,
    /// 14 to 16 digits.
    imei: Option<String>,
    imei_lock: Option<bool>,
    /// Required: one usable by the endpoint's organisation.
    service_profile: Option<IdRef>,
    /// Required: one usable by the endpoint's organisation.
    tariff_profile: Option<IdRef>,
    /// A SIM the caller sees, not in use; activated unless `activate` is false.
    sim: Option<SimRef>,
    /// An organisation in the caller's scope; default the caller's own.
    organisation: Option<IdRef>,
    /// An address of a space the endpoint's organisation may use (in `ip_address_space` when that is
    /// given too); default: the lowest free address of the nearest such space.
    #[serde(deserialize_with = "double_option")]
    ip_address: Option<Option<String>>,
    /// The space to take the address from.
    ip_address_space: Option<IdRef>,
}

/// The space a body names; `{"id": null}` is a missing id.
fn space_id(r: Option<IdRef>) -> AppResult<Option<i64>> {
    match r {
        None => Ok(None),
        Some(IdRef { id: Some(id) }) => Ok(Some(id)),
        Some(IdRef { id: None }) => Err(AppError::required("ip_address_space")),
    }
}

/// Create an endpoint: 201, empty body, `Location: /api/v1/endpoint/{id}`.
#[utoipa::path(operation_id = "create_endpoint", post, path = "/api/v1/endpoint", tag = "emnify", security(("bearer" = [])),
    request_body = EndpointCreateRequest,
    responses(
        (status = 201, description = "created; Location names the new endpoint"),
        (status = 403, description = "1104 below MANAGER"),
        (status = 409, description = "1409 the SIM is in use (another endpoint, an MVNO account); its status \
             cannot become Activated"),
        (status = 422, description = "1400 (1402 required, 1403 bad value) / 1401 a profile, SIM or \
             organisation the endpoint's organisation may not use"),
    ))]
async fn create(
    State(state): State<AppState>,
    Require(p, ..): Require<ManagersUp>,
    Lenient(body): Lenient<Option<EndpointCreateRequest>>,
) -> AppResult<Response> {
    let body = body.ok_or_else(|| AppError::required("name"))?;
    let input = CreateInput {
        name: body.name,
        status: body.status.and_then(|s| s.id),
        tags: body.tags,
        imei: body.imei,
        imei_lock: body.imei_lock,
        service_profile: body.service_profile.and_then(|s| s.id),
        tariff_profile: body.tariff_profile.and_then(|s| s.id),
        sim: match body.sim {
            Some(SimRef {
                id: Some(id),
                activate,
            }) => Some((id, activate)),
            _ => None,
        },
        organisation: body.organisation.and_then(|o| o.id),
        ip_address: body.ip_address,
        ip_address_space: space_id(body.ip_address_space)?,
    };
    let id = endpoints::create(&state, &p, input).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/endpoint/{id}"))],
    )
        .into_response())
}

/// The changes of `PATCH /api/v1/endpoint/{id}`: at least one.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct EndpointPatchRequest {
    name: Option<String>,
    /// 0 Enabled or 1 Disabled.
    status: Option<IdRef>,
    /// `""` or `null` clears.
    #[serde(deserialize_with = "double_option")]
    tags: Option<Option<String>>,
    /// `null` clears.
    #[serde(deserialize_with = "double_option")]
    imei: Option<Option<String>>,
    imei_lock: Option<bool>,
    service_profile: Option<IdRef>,
    tariff_profile: Option<IdRef>,
    /// `{"id": 7}` puts SIM 7 in (replacing the one there; activated only with `"activate": true`);
    /// `{"id": null}`, `{}` or `null` takes the SIM out.
    #[serde(deserialize_with = "double_option")]
    sim: Option<Option<SimRef>>,
    /// A new address (in `ip_address_space` when that is given too); the old one is freed.
    #[serde(deserialize_with = "double_option")]
    ip_address: Option<Option<String>>,
    /// Alone: the lowest free address of this space.
    ip_address_space: Option<IdRef>,
}

/// Change an endpoint, all or nothing; 204.
#[utoipa::path(patch, path = "/api/v1/endpoint/{endpoint_id}", tag = "emnify", security(("bearer" = [])),
    params(("endpoint_id" = i64, Path, description = "Endpoint id")),
    request_body = EndpointPatchRequest,
    responses(
        (status = 204, description = "updated"),
        (status = 403, description = "1104 below MANAGER"),
        (status = 404, description = "1201"),
        (status = 409, description = "1409 the SIM is in use elsewhere; its status cannot become Activated"),
        (status = 422, description = "1400 nothing to change or a bad value / 1401 a profile or SIM the \
             endpoint's organisation may not use"),
    ))]
async fn patch_endpoint(
    State(state): State<AppState>,
    Require(p, ..): Require<ManagersUp>,
    Path(id): Path<String>,
    Lenient(body): Lenient<Option<EndpointPatchRequest>>,
) -> AppResult<StatusCode> {
    let id = path_id(&id)?;
    let body = body.unwrap_or_default();
    let required_id = |r: Option<IdRef>, field: &'static str| -> AppResult<Option<i64>> {
        match r {
            None => Ok(None),
            Some(IdRef { id: Some(id) }) => Ok(Some(id)),
            Some(IdRef { id: None }) => Err(AppError::required(field)),
        }
    };
    let input = PatchInput {
        name: body.name,
        status: required_id(body.status, "status")?,
        tags: body.tags.map(|t| t.filter(|t| !t.trim().is_empty())),
        imei: body.imei,
        imei_lock: body.imei_lock,
        service_profile: required_id(body.service_profile, "service_profile")?,
        tariff_profile: required_id(body.tariff_profile, "tariff_profile")?,
        sim: body.sim.map(|s| match s {
            Some(SimRef {
                id: Some(id),
                activate,
            }) => Some((id, activate)),
            _ => None,
        }),
        ip_address: body.ip_address,
        ip_address_space: space_id(body.ip_address_space)?,
    };
    endpoints::patch(&state, &p, id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete an endpoint (status 2, kept for history); 204. Its SIM must be taken out first.
#[utoipa::path(delete, path = "/api/v1/endpoint/{endpoint_id}", tag = "emnify", security(("bearer" = [])),
    params(("endpoint_id" = i64, Path, description = "Endpoint id")),
    responses(
        (status = 204, description = "deleted"),
        (status = 403, description = "1104 below MANAGER"),
        (status = 404, description = "1201"),
        (status = 409, description = "1409 the endpoint holds a SIM"),
    ))]
async fn delete_endpoint(
    State(state): State<AppState>,
    Require(p, ..): Require<ManagersUp>,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    endpoints::delete(&state, &p, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A tariff profile.
#[derive(Serialize, ToSchema)]
pub struct TariffProfileEntry {
    id: i64,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    /// Live endpoints in the caller's scope that use it.
    used_count: i64,
}

fn tariff_entry(p: TariffProfile) -> TariffProfileEntry {
    TariffProfileEntry {
        id: p.id,
        name: p.name,
        description: p.description,
        used_count: p.used_count,
    }
}

/// The tariff profiles the caller's org may use or manages, by id; not paged.
#[utoipa::path(operation_id = "list_tariff_profiles", get, path = "/api/v1/tariff_profile", tag = "emnify", security(("bearer" = [])),
    responses((status = 200, body = [TariffProfileEntry])))]
async fn tariff_profiles(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
) -> AppResult<Json<Vec<TariffProfileEntry>>> {
    let all = endpoints::tariff_profiles(&state, &p).await?;
    Ok(Json(all.into_iter().map(tariff_entry).collect()))
}

/// One tariff profile.
#[utoipa::path(operation_id = "get_tariff_profile", get, path = "/api/v1/tariff_profile/{profile_id}", tag = "emnify", security(("bearer" = [])),
    params(("profile_id" = i64, Path, description = "Tariff profile id")),
    responses(
        (status = 200, body = TariffProfileEntry),
        (status = 400, description = "1000 non-numeric id"),
        (status = 404, description = "1201"),
    ))]
async fn tariff_profile(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
    Path(id): Path<String>,
) -> AppResult<Json<TariffProfileEntry>> {
    let profile = endpoints::tariff_profile(&state, &p, path_id(&id)?).await?;
    Ok(Json(tariff_entry(profile)))
}

/// Tariff profiles are the provider's: managed through the admin API, never here.
fn provider_managed() -> AppError {
    AppError::forbidden(
        "access_denied",
        "Tariff profiles are managed by the service provider",
    )
}

/// Refused: tariff profiles are provider-managed (403 1104 for every caller).
#[utoipa::path(operation_id = "create_tariff_profile", post, path = "/api/v1/tariff_profile", tag = "emnify", security(("bearer" = [])),
    responses((status = 403, description = "1104 provider-managed")))]
async fn create_tariff_profile(_caller: Require<Readers>) -> AppResult<StatusCode> {
    Err(provider_managed())
}

/// Refused: tariff profiles are provider-managed (403 1104 for every caller).
#[utoipa::path(operation_id = "change_tariff_profile", patch, path = "/api/v1/tariff_profile/{profile_id}", tag = "emnify", security(("bearer" = [])),
    params(("profile_id" = i64, Path, description = "Tariff profile id")),
    responses((status = 403, description = "1104 provider-managed")))]
async fn change_tariff_profile(_caller: Require<Readers>) -> AppResult<StatusCode> {
    Err(provider_managed())
}

/// Refused: tariff profiles are provider-managed (403 1104 for every caller).
#[utoipa::path(operation_id = "delete_tariff_profile", delete, path = "/api/v1/tariff_profile/{profile_id}", tag = "emnify", security(("bearer" = [])),
    params(("profile_id" = i64, Path, description = "Tariff profile id")),
    responses((status = 403, description = "1104 provider-managed")))]
async fn delete_tariff_profile(_caller: Require<Readers>) -> AppResult<StatusCode> {
    Err(provider_managed())
}
