//! Countries and mobile operators (spec/emnify-endpoints.md §3, §8): the admin API's callers read
//! them, ADMIN adds, changes and deletes operators. Operators take emnify's shape
//! (`GET /api/v1/operator` lists the same).
use super::{path_id, ListQuery};
use crate::api::body::Body;
use crate::api::emnify::operators::{entry, OperatorEntry};
use crate::api::json::Listing;
use crate::auth::extract::{AdminApi, Require};
use crate::domain::paging::Page;
use crate::error::AppResult;
use crate::service::catalog::{self, OperatorInput};
use crate::state::AppState;
use crate::store::Country;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_countries))
        .routes(routes!(create, list))
        .routes(routes!(get_operator, patch_operator, delete_operator))
}

#[derive(Serialize, ToSchema)]
pub struct CountryDto {
    id: i64,
    name: String,
    #[schema(example = "af")]
    iso_code: String,
    /// The international calling code, digits only.
    country_code: String,
    mcc: String,
}

impl From<Country> for CountryDto {
    fn from(c: Country) -> Self {
        CountryDto {
            id: c.id,
            name: c.name,
            iso_code: c.iso_code,
            country_code: c.country_code,
            mcc: c.mcc,
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct OperatorQuery {
    /// Index of the first item (default 0).
    #[param(value_type = Option<i64>, minimum = 0)]
    pub offset: Option<String>,
    /// Items per page, 1..500 (default 100).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
    /// Operators of this country (ISO 3166-1 alpha-2, e.g. `af`).
    pub country: Option<String>,
}

/// An operator to add; PATCH gives any of its fields but `id` (a list given replaces the operator's).
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OperatorRequest {
    /// Below 100,000, to mirror emnify's numbering; without it the next id from 100,000 up.
    id: Option<i64>,
    #[schema(example = "MTN")]
    name: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[schema(example = "af")]
    country: Option<String>,
    /// Mobile network codes, two or three digits each.
    #[schema(example = json!(["40"]))]
    mnc: Option<Vec<String>>,
    /// TAP codes, five letters or digits each.
    #[schema(example = json!(["AFGAR"]))]
    tapcode: Option<Vec<String>>,
}

impl From<OperatorRequest> for OperatorInput {
    fn from(r: OperatorRequest) -> Self {
        OperatorInput {
            id: r.id,
            name: r.name,
            country: r.country,
            mnc: r.mnc,
            tapcode: r.tapcode,
        }
    }
}

/// Countries by name (ISO 3166-1), with calling code and MCC.
#[utoipa::path(operation_id = "list_countries", get, path = "/admin/v1/countries", tag = "admin", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = Listing<CountryDto>), (status = 403, description = "access_denied")))]
async fn list_countries(
    State(state): State<AppState>,
    _caller: Require<AdminApi>,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<Listing<CountryDto>>> {
    let page = Page::parse(q.offset.as_deref(), q.limit.as_deref())?;
    let (rows, total) = catalog::countries(&state, page).await?;
    Ok(Json(Listing {
        offset: page.offset,
        limit: page.limit,
        total,
        items: rows.into_iter().map(Into::into).collect(),
    }))
}

/// Add an operator (ADMIN).
#[utoipa::path(operation_id = "create_operator", post, path = "/admin/v1/operators", tag = "admin", security(("bearer" = [])),
    request_body = OperatorRequest,
    responses(
        (status = 201, body = OperatorEntry),
        (status = 403, description = "access_denied"),
        (status = 409, description = "the id is taken, or the country has an operator of that name"),
        (status = 422, description = "id / name / country / mnc / tapcode"),
    ))]
async fn create(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Body(req): Body<OperatorRequest>,
) -> AppResult<(StatusCode, Json<OperatorEntry>)> {
    let row = catalog::create_operator(&state, &p, req.into()).await?;
    Ok((StatusCode::CREATED, Json(entry(row))))
}

/// Operators by id, of one country or all.
#[utoipa::path(operation_id = "list_admin_operators", get, path = "/admin/v1/operators", tag = "admin", security(("bearer" = [])),
    params(OperatorQuery),
    responses((status = 200, body = Listing<OperatorEntry>), (status = 403, description = "access_denied"),
        (status = 422, description = "country is no ISO code")))]
async fn list(
    State(state): State<AppState>,
    _caller: Require<AdminApi>,
    Query(q): Query<OperatorQuery>,
) -> AppResult<Json<Listing<OperatorEntry>>> {
    let page = Page::parse(q.offset.as_deref(), q.limit.as_deref())?;
    let (rows, total) = catalog::operators(&state, q.country.as_deref(), page).await?;
    Ok(Json(Listing {
        offset: page.offset,
        limit: page.limit,
        total,
        items: rows.into_iter().map(entry).collect(),
    }))
}

#[utoipa::path(operation_id = "get_admin_operator", get, path = "/admin/v1/operators/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "operator id")),
    responses((status = 200, body = OperatorEntry), (status = 404, description = "not_found")))]
async fn get_operator(
    State(state): State<AppState>,
    _caller: Require<AdminApi>,
    Path(id): Path<String>,
) -> AppResult<Json<OperatorEntry>> {
    Ok(Json(entry(catalog::operator(&state, path_id(&id)?).await?)))
}

/// Change an operator (ADMIN): the fields given; `mnc` and `tapcode` replace the lists.
#[utoipa::path(operation_id = "update_operator", patch, path = "/admin/v1/operators/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "operator id")),
    request_body = OperatorRequest,
    responses(
        (status = 200, body = OperatorEntry),
        (status = 403, description = "access_denied"),
        (status = 404, description = "not_found"),
        (status = 409, description = "the country has an operator of that name"),
        (status = 422, description = "name / country / mnc / tapcode; id may not change"),
    ))]
async fn patch_operator(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Path(id): Path<String>,
    Body(req): Body<OperatorRequest>,
) -> AppResult<Json<OperatorEntry>> {
    let id = path_id(&id)?;
    if req.id.is_some_and(|given| given != id) {
        return Err(crate::error::AppError::invalid("id", "id may not change"));
    }
    let row = catalog::update_operator(&state, &p, id, req.into()).await?;
    Ok(Json(entry(row)))
}

/// Delete an operator no endpoint's blacklist names (ADMIN).
#[utoipa::path(operation_id = "delete_operator", delete, path = "/admin/v1/operators/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "operator id")),
    responses((status = 204, description = "deleted"), (status = 403, description = "access_denied"),
        (status = 404, description = "not_found"),
        (status = 409, description = "an endpoint's blacklist names it")))]
async fn delete_operator(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    catalog::delete_operator(&state, &p, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
