//! Service profiles, `/api/v1/service_profile[/{id}[/service/{sid}]]` (contract:
//! spec/emnify-endpoints.md §2): read by every reader; written by write levels whose scope holds the
//! profile's owner.
use super::endpoints::IdRef;
use super::sims::IdDescription;
use crate::api::body::Lenient;
use crate::api::json::double_option;
use crate::auth::extract::{ManagersUp, Readers, Require};
use crate::domain::profile;
use crate::error::{AppError, AppResult};
use crate::service::endpoints;
use crate::service::profiles::{self, ProfileInput};
use crate::service::sims::path_id;
use crate::state::AppState;
use crate::store::ServiceProfile;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(service_profiles, create))
        .routes(routes!(service_profile, update, delete))
        .routes(routes!(add_service, remove_service))
}

/// A service profile.
#[derive(Serialize, ToSchema)]
pub struct ServiceProfileEntry {
    id: i64,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    /// Live endpoints in the caller's scope that use it.
    used_count: i64,
    allowed_3g: bool,
    allowed_4g: bool,
    allowed_nb_iot: bool,
    apply_data_quota: bool,
    apply_sms_quota: bool,
    /// Singly only: the services it lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    service: Option<Vec<IdDescription>>,
}

fn service_entry(p: ServiceProfile, services: Option<Vec<i16>>) -> ServiceProfileEntry {
    ServiceProfileEntry {
        id: p.id,
        name: p.name,
        description: p.description,
        used_count: p.used_count,
        allowed_3g: p.allowed_3g,
        allowed_4g: p.allowed_4g,
        allowed_nb_iot: p.allowed_nb_iot,
        apply_data_quota: p.apply_data_quota,
        apply_sms_quota: p.apply_sms_quota,
        service: services.map(|list| {
            list.into_iter()
                .map(|s| {
                    IdDescription::new(
                        i64::from(s),
                        profile::service_description(s).unwrap_or("Unknown"),
                    )
                })
                .collect()
        }),
    }
}

/// The service profiles the caller's org may use or manages, by id; not paged.
#[utoipa::path(operation_id = "list_service_profiles", get, path = "/api/v1/service_profile", tag = "emnify", security(("bearer" = [])),
    responses((status = 200, body = [ServiceProfileEntry])))]
async fn service_profiles(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
) -> AppResult<Json<Vec<ServiceProfileEntry>>> {
    let all = endpoints::service_profiles(&state, &p).await?;
    Ok(Json(
        all.into_iter().map(|p| service_entry(p, None)).collect(),
    ))
}

/// One service profile.
#[utoipa::path(operation_id = "get_service_profile", get, path = "/api/v1/service_profile/{profile_id}", tag = "emnify", security(("bearer" = [])),
    params(("profile_id" = i64, Path, description = "Service profile id")),
    responses(
        (status = 200, body = ServiceProfileEntry),
        (status = 400, description = "1000 non-numeric id"),
        (status = 404, description = "1201"),
    ))]
async fn service_profile(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
    Path(id): Path<String>,
) -> AppResult<Json<ServiceProfileEntry>> {
    let id = path_id(&id)?;
    let profile = endpoints::service_profile(&state, &p, id).await?;
    let services = profiles::services(&state, &p, id).await?;
    Ok(Json(service_entry(profile, Some(services))))
}

/// A service profile's fields; POST needs `name`.
#[derive(Deserialize, Serialize, ToSchema, Default)]
#[serde(default)]
pub struct ServiceProfileRequest {
    name: Option<String>,
    /// `null` or `""` clears.
    #[serde(deserialize_with = "double_option")]
    description: Option<Option<String>>,
    /// Default true.
    allowed_3g: Option<bool>,
    /// Default true.
    allowed_4g: Option<bool>,
    /// Default true.
    allowed_nb_iot: Option<bool>,
    /// Whether usage is held to the endpoints' data quotas (default false).
    apply_data_quota: Option<bool>,
    /// Whether SMS are held to the endpoints' SMS quotas (default false).
    apply_sms_quota: Option<bool>,
    /// Deprecated name of `apply_data_quota`.
    apply_quota: Option<bool>,
    /// The owner: an organisation in the caller's scope (POST only); default the caller's.
    organisation: Option<IdRef>,
}

fn input(body: ServiceProfileRequest) -> AppResult<ProfileInput> {
    Ok(ProfileInput {
        name: body.name,
        description: body.description,
        allowed_3g: body.allowed_3g,
        allowed_4g: body.allowed_4g,
        allowed_nb_iot: body.allowed_nb_iot,
        apply_data_quota: body.apply_data_quota,
        apply_sms_quota: body.apply_sms_quota,
        apply_quota: body.apply_quota,
        organisation: match body.organisation {
            None => None,
            Some(r) => Some(r.id().ok_or_else(|| AppError::required("organisation"))?),
        },
    })
}

/// Create a service profile (no services listed yet, as emnify): 201, `Location`.
#[utoipa::path(operation_id = "create_service_profile", post, path = "/api/v1/service_profile", tag = "emnify", security(("bearer" = [])),
    request_body = ServiceProfileRequest,
    responses(
        (status = 201, description = "created; Location names it"),
        (status = 403, description = "1104 below MANAGER"),
        (status = 422, description = "1400 name missing or a bad value / 1401 an organisation outside the scope"),
    ))]
async fn create(
    State(state): State<AppState>,
    Require(p, ..): Require<ManagersUp>,
    Lenient(body): Lenient<Option<ServiceProfileRequest>>,
) -> AppResult<Response> {
    let body = body.ok_or_else(|| AppError::required("name"))?;
    let id = profiles::create(&state, &p, input(body)?).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/service_profile/{id}"))],
    )
        .into_response())
}

/// Change a service profile its caller's scope owns: 204.
#[utoipa::path(operation_id = "update_service_profile", patch, path = "/api/v1/service_profile/{profile_id}", tag = "emnify", security(("bearer" = [])),
    params(("profile_id" = i64, Path, description = "Service profile id")),
    request_body = ServiceProfileRequest,
    responses(
        (status = 204, description = "updated"),
        (status = 403, description = "1104 below MANAGER, or a profile of an organisation above the caller's"),
        (status = 404, description = "1201"),
        (status = 422, description = "1400 nothing to change or a bad value"),
    ))]
async fn update(
    State(state): State<AppState>,
    Require(p, ..): Require<ManagersUp>,
    Path(id): Path<String>,
    Lenient(body): Lenient<Option<ServiceProfileRequest>>,
) -> AppResult<StatusCode> {
    let id = path_id(&id)?;
    profiles::update(&state, &p, id, input(body.unwrap_or_default())?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete a service profile no live endpoint uses: 204.
#[utoipa::path(operation_id = "delete_service_profile", delete, path = "/api/v1/service_profile/{profile_id}", tag = "emnify", security(("bearer" = [])),
    params(("profile_id" = i64, Path, description = "Service profile id")),
    responses(
        (status = 204, description = "deleted"),
        (status = 403, description = "1104 below MANAGER, or a profile of an organisation above the caller's"),
        (status = 404, description = "1201"),
        (status = 409, description = "1409 endpoints use it"),
    ))]
async fn delete(
    State(state): State<AppState>,
    Require(p, ..): Require<ManagersUp>,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    profiles::delete(&state, &p, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List a service on the profile (0 USSD, 3 Voice, 6 SMS MT, 32 SMS MO, 38 Data): 204.
#[utoipa::path(operation_id = "add_service_profile_service", put, path = "/api/v1/service_profile/{profile_id}/service/{service_id}", tag = "emnify", security(("bearer" = [])),
    params(("profile_id" = i64, Path, description = "Service profile id"), ("service_id" = i64, Path, description = "Service id")),
    responses(
        (status = 204, description = "listed"),
        (status = 403, description = "1104"),
        (status = 404, description = "1201 unknown profile or service"),
        (status = 409, description = "1405 listed already"),
    ))]
async fn add_service(
    State(state): State<AppState>,
    Require(p, ..): Require<ManagersUp>,
    Path((id, service)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    profiles::service(&state, &p, path_id(&id)?, path_id(&service)?, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take a service off the profile: 204.
#[utoipa::path(operation_id = "remove_service_profile_service", delete, path = "/api/v1/service_profile/{profile_id}/service/{service_id}", tag = "emnify", security(("bearer" = [])),
    params(("profile_id" = i64, Path, description = "Service profile id"), ("service_id" = i64, Path, description = "Service id")),
    responses(
        (status = 204, description = "removed"),
        (status = 403, description = "1104"),
        (status = 404, description = "1201 unknown profile or service, or not listed"),
    ))]
async fn remove_service(
    State(state): State<AppState>,
    Require(p, ..): Require<ManagersUp>,
    Path((id, service)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    profiles::service(&state, &p, path_id(&id)?, path_id(&service)?, false).await?;
    Ok(StatusCode::NO_CONTENT)
}
