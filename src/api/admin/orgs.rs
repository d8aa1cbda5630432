//! Organisations.
use super::{path_ref, ListQuery};
use crate::api::body::Body;
use crate::api::json::{iso_millis, Listing};
use crate::auth::extract::{AdminApi, Require};
use crate::domain::org::OrgKind;
use crate::domain::paging::Page;
use crate::error::AppResult;
use crate::service::orgs::{self, CreateOrg};
use crate::state::AppState;
use crate::store::Org;
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
        .routes(routes!(get, update))
}

#[derive(Serialize, ToSchema)]
pub struct OrgDto {
    id: i64,
    oid: String,
    name: String,
    kind: OrgKind,
    parent_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    country: Option<String>,
    created_at: String,
}

impl From<Org> for OrgDto {
    fn from(o: Org) -> Self {
        OrgDto {
            id: o.id,
            oid: o.oid,
            name: o.name,
            kind: o.kind,
            parent_id: o.parent_id,
            country: o.country,
            created_at: iso_millis(&o.created_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgRequest {
    #[schema(example = "Mobile Reseller ApS")]
    name: String,
    /// MNO, SERVICE_PROVIDER, RESELLER or ENTERPRISE.
    #[schema(example = "RESELLER")]
    kind: String,
    /// Parent organisation: integer id or 24-hex oid.
    #[schema(value_type = String, example = "1")]
    parent: Option<serde_json::Value>,
    /// ISO 3166-1 alpha-2.
    #[schema(example = "DK")]
    country: Option<String>,
}

/// A reference given as a JSON number or string.
pub fn ref_text(v: Option<serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// Create an organisation under a parent the caller can see.
#[utoipa::path(operation_id = "create_organisation", post, path = "/admin/v1/organisations", tag = "admin", security(("bearer" = [])),
    request_body = CreateOrgRequest,
    responses(
        (status = 201, body = OrgDto),
        (status = 403, description = "access_denied"),
        (status = 422, description = "name / kind / parent"),
    ))]
async fn create(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Body(req): Body<CreateOrgRequest>,
) -> AppResult<(StatusCode, Json<OrgDto>)> {
    let input = CreateOrg {
        name: req.name,
        kind: req.kind,
        parent: ref_text(req.parent),
        country: req.country,
    };
    let org = orgs::create_org(&state, &p, input).await?;
    Ok((StatusCode::CREATED, Json(org.into())))
}

/// Organisations in the caller's scope, optionally the children of `parent`.
#[utoipa::path(operation_id = "list_organisations", get, path = "/admin/v1/organisations", tag = "admin", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = Listing<OrgDto>), (status = 403, description = "access_denied")))]
async fn list(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<Listing<OrgDto>>> {
    let page = Page::parse(q.offset.as_deref(), q.limit.as_deref())?;
    let (orgs, total) = orgs::list(&state, &p, q.parent.as_deref(), page).await?;
    Ok(Json(Listing {
        offset: page.offset,
        limit: page.limit,
        total,
        items: orgs.into_iter().map(Into::into).collect(),
    }))
}

/// One organisation (404 outside the caller's scope).
#[utoipa::path(operation_id = "get_organisation", get, path = "/admin/v1/organisations/{ref}", tag = "admin", security(("bearer" = [])),
    params(("ref" = String, Path, description = "id or oid")),
    responses((status = 200, body = OrgDto), (status = 404, description = "not_found")))]
async fn get(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Path(r): Path<String>,
) -> AppResult<Json<OrgDto>> {
    Ok(Json(
        orgs::visible_org(&state, &p, &path_ref(&r)?).await?.into(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrgRequest {
    name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "crate::api::json::double_option")]
    #[schema(value_type = Option<String>)]
    country: Option<Option<String>>,
}

/// Rename an organisation or change its country.
#[utoipa::path(operation_id = "update_organisation", patch, path = "/admin/v1/organisations/{ref}", tag = "admin", security(("bearer" = [])),
    request_body = UpdateOrgRequest,
    params(("ref" = String, Path, description = "id or oid")),
    responses(
        (status = 200, body = OrgDto),
        (status = 404, description = "not_found"),
        (status = 422, description = "name / country"),
    ))]
async fn update(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Path(r): Path<String>,
    Body(req): Body<UpdateOrgRequest>,
) -> AppResult<Json<OrgDto>> {
    Ok(Json(
        orgs::update_org(&state, &p, &path_ref(&r)?, req.name, req.country)
            .await?
            .into(),
    ))
}
