//! IP address spaces: CIDR blocks an org's endpoints (and its subtree's) take addresses from.
use super::{path_id, ListQuery};
use crate::api::body::Body;
use crate::api::json::{iso_millis, Listing};
use crate::auth::extract::{AdminApi, Require};
use crate::domain::paging::Page;
use crate::error::AppResult;
use crate::service::ip_spaces;
use crate::state::AppState;
use crate::store::IpSpaceRow;
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
        .routes(routes!(get_space, delete_space))
}

#[derive(Serialize, ToSchema)]
pub struct IpSpaceDto {
    id: i64,
    #[schema(example = "10.191.216.64/28")]
    ip_address_space: String,
    /// 4 or 6.
    ip_address_version: i16,
    org_id: i64,
    /// Addresses endpoints may get (IPv4 blocks below /31 lose network and broadcast).
    size: i64,
    /// Addresses endpoints hold.
    used: i64,
    created_at: String,
}

impl From<IpSpaceRow> for IpSpaceDto {
    fn from(r: IpSpaceRow) -> Self {
        IpSpaceDto {
            id: r.id,
            size: r.space().size(),
            ip_address_space: r.cidr,
            ip_address_version: r.version,
            org_id: r.org_id,
            used: r.used,
            created_at: iso_millis(&r.created_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIpSpaceRequest {
    /// A CIDR block with its host bits zero; IPv4 /8 to /32, IPv6 /64 to /128.
    #[schema(example = "10.191.216.64/28")]
    ip_address_space: String,
    /// The org (id or oid) whose endpoints, and its subtree's, draw from it.
    #[schema(value_type = String)]
    org: serde_json::Value,
}

/// Create an IP address space (ADMIN; a RESELLER_ADMIN for an org of its subtree).
#[utoipa::path(operation_id = "create_ip_address_space", post, path = "/admin/v1/ip-address-spaces", tag = "admin", security(("bearer" = [])),
    request_body = CreateIpSpaceRequest,
    responses(
        (status = 201, body = IpSpaceDto),
        (status = 403, description = "access_denied"),
        (status = 409, description = "it overlaps an existing space"),
        (status = 422, description = "ip_address_space / org"),
    ))]
async fn create(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Body(req): Body<CreateIpSpaceRequest>,
) -> AppResult<(StatusCode, Json<IpSpaceDto>)> {
    let org = super::orgs::ref_text(Some(req.org));
    let row = ip_spaces::create(&state, &p, &req.ip_address_space, org.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// IP address spaces by id: all for ADMIN, those of its subtree's orgs for a RESELLER_ADMIN.
#[utoipa::path(operation_id = "list_ip_address_spaces", get, path = "/admin/v1/ip-address-spaces", tag = "admin", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = Listing<IpSpaceDto>), (status = 403, description = "access_denied")))]
async fn list(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<Listing<IpSpaceDto>>> {
    let page = Page::parse(q.offset.as_deref(), q.limit.as_deref())?;
    let (rows, total) = ip_spaces::list(&state, &p, q.parent.as_deref(), page).await?;
    Ok(Json(Listing {
        offset: page.offset,
        limit: page.limit,
        total,
        items: rows.into_iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(operation_id = "get_ip_address_space", get, path = "/admin/v1/ip-address-spaces/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "space id")),
    responses((status = 200, body = IpSpaceDto), (status = 404, description = "not_found")))]
async fn get_space(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Path(id): Path<String>,
) -> AppResult<Json<IpSpaceDto>> {
    Ok(Json(
        ip_spaces::get(&state, &p, path_id(&id)?).await?.into(),
    ))
}

/// Delete a space no endpoint holds an address in.
#[utoipa::path(operation_id = "delete_ip_address_space", delete, path = "/admin/v1/ip-address-spaces/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "space id")),
    responses((status = 204, description = "deleted"), (status = 404, description = "not_found"),
        (status = 409, description = "endpoints hold addresses in it")))]
async fn delete_space(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    ip_spaces::delete(&state, &p, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
