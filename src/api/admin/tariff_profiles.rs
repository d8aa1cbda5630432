//! Tariff profiles (spec/emnify-endpoints.md §2, §8): provider-managed, so written here and read-only
//! on the emnify dialect. ADMIN anywhere; a RESELLER_ADMIN for the orgs of its subtree.
use super::{path_id, ListQuery};
use crate::api::body::Body;
use crate::api::json::{double_option, iso_millis, Listing};
use crate::auth::extract::{AdminApi, Require};
use crate::domain::paging::Page;
use crate::error::AppResult;
use crate::service::catalog;
use crate::state::AppState;
use crate::store::TariffProfileRow;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get_profile, patch_profile, delete_profile))
}

#[derive(Serialize, ToSchema)]
pub struct TariffProfileDto {
    id: i64,
    name: String,
    description: Option<String>,
    /// The org whose subtree it serves; null: every org (the platform's).
    owner_org_id: Option<i64>,
    /// Live endpoints using it.
    used_count: i64,
    created_at: String,
}

impl From<TariffProfileRow> for TariffProfileDto {
    fn from(r: TariffProfileRow) -> Self {
        TariffProfileDto {
            id: r.id,
            name: r.name,
            description: r.description,
            owner_org_id: r.owner_org_id,
            used_count: r.used_count,
            created_at: iso_millis(&r.created_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTariffProfileRequest {
    #[schema(example = "EU 1GB")]
    name: Option<String>,
    description: Option<String>,
    /// The org (id or oid) whose subtree it serves; default: every org for ADMIN, the caller's org
    /// for a RESELLER_ADMIN.
    #[schema(value_type = Option<String>)]
    owner_org: Option<serde_json::Value>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTariffProfileRequest {
    name: Option<String>,
    /// `null` or `""` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    description: Option<Option<String>>,
}

/// Create a tariff profile.
#[utoipa::path(operation_id = "create_tariff_profile", post, path = "/admin/v1/tariff-profiles", tag = "admin", security(("bearer" = [])),
    request_body = CreateTariffProfileRequest,
    responses(
        (status = 201, body = TariffProfileDto),
        (status = 403, description = "access_denied"),
        (status = 422, description = "name / description / owner_org"),
    ))]
async fn create(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Body(req): Body<CreateTariffProfileRequest>,
) -> AppResult<(StatusCode, Json<TariffProfileDto>)> {
    let owner = super::orgs::ref_text(req.owner_org);
    let row =
        catalog::create_tariff_profile(&state, &p, req.name, req.description, owner.as_deref())
            .await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Tariff profiles by id: all for ADMIN, those owned in its subtree for a RESELLER_ADMIN.
#[utoipa::path(operation_id = "list_tariff_profiles", get, path = "/admin/v1/tariff-profiles", tag = "admin", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = Listing<TariffProfileDto>), (status = 403, description = "access_denied")))]
async fn list(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<Listing<TariffProfileDto>>> {
    let page = Page::parse(q.offset.as_deref(), q.limit.as_deref())?;
    let (rows, total) = catalog::tariff_profiles(&state, &p, q.parent.as_deref(), page).await?;
    Ok(Json(Listing {
        offset: page.offset,
        limit: page.limit,
        total,
        items: rows.into_iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(operation_id = "get_tariff_profile_admin", get, path = "/admin/v1/tariff-profiles/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "tariff profile id")),
    responses((status = 200, body = TariffProfileDto), (status = 404, description = "not_found")))]
async fn get_profile(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Path(id): Path<String>,
) -> AppResult<Json<TariffProfileDto>> {
    Ok(Json(
        catalog::tariff_profile(&state, &p, path_id(&id)?)
            .await?
            .into(),
    ))
}

/// Rename a tariff profile or change its description.
#[utoipa::path(operation_id = "update_tariff_profile", patch, path = "/admin/v1/tariff-profiles/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "tariff profile id")),
    request_body = UpdateTariffProfileRequest,
    responses((status = 200, body = TariffProfileDto), (status = 404, description = "not_found"),
        (status = 422, description = "name / description")))]
async fn patch_profile(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Path(id): Path<String>,
    Body(req): Body<UpdateTariffProfileRequest>,
) -> AppResult<Json<TariffProfileDto>> {
    let row = catalog::update_tariff_profile(&state, &p, path_id(&id)?, req.name, req.description)
        .await?;
    Ok(Json(row.into()))
}

/// Delete a tariff profile no live endpoint uses.
#[utoipa::path(operation_id = "delete_tariff_profile", delete, path = "/admin/v1/tariff-profiles/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "tariff profile id")),
    responses((status = 204, description = "deleted"), (status = 404, description = "not_found"),
        (status = 409, description = "live endpoints use it")))]
async fn delete_profile(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    catalog::delete_tariff_profile(&state, &p, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
