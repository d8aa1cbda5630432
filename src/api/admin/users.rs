//! Users.
use super::orgs::ref_text;
use super::{path_ref, ListQuery};
use crate::api::body::Body;
use crate::api::json::{iso_millis, Listing};
use crate::auth::extract::{AdminApi, Require};
use crate::domain::access::AccessLevel;
use crate::domain::paging::Page;
use crate::error::AppResult;
use crate::service::users::{self, CreateUser, UpdateUser};
use crate::state::AppState;
use crate::store::User;
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
pub struct UserDto {
    id: i64,
    oid: String,
    org_id: i64,
    email: String,
    name: String,
    access_level: AccessLevel,
    /// ENABLED, DISABLED or DELETED.
    state: String,
    created_at: String,
}

impl From<User> for UserDto {
    fn from(u: User) -> Self {
        UserDto {
            id: u.id,
            oid: u.oid,
            org_id: u.org_id,
            email: u.email,
            name: u.name,
            access_level: u.access_level,
            state: u.state,
            created_at: iso_millis(&u.created_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// Organisation: integer id or 24-hex oid.
    #[schema(value_type = String, example = "2")]
    org: serde_json::Value,
    /// Login name.
    #[schema(example = "ra@reseller.example")]
    email: String,
    #[schema(example = "Reseller Admin")]
    name: String,
    /// At least 8 characters.
    #[schema(example = "change-me-now")]
    password: String,
    /// NO_LOGIN, PERSONAL, VIEWER, MANAGER, OWNER, RESELLER, RESELLER_ADMIN or ADMIN (see `simgate --help`).
    #[schema(example = "RESELLER_ADMIN")]
    access_level: String,
}

/// Create a user in an organisation the caller can see, at a level the caller holds or below.
#[utoipa::path(operation_id = "create_user", post, path = "/admin/v1/users", tag = "admin", security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, body = UserDto),
        (status = 403, description = "access_denied / access_level"),
        (status = 409, description = "email"),
        (status = 422, description = "org / email / name / password / access_level"),
    ))]
async fn create(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Body(req): Body<CreateUserRequest>,
) -> AppResult<(StatusCode, Json<UserDto>)> {
    let input = CreateUser {
        org: ref_text(Some(req.org)).unwrap_or_default(),
        email: req.email,
        name: req.name,
        password: req.password,
        access_level: req.access_level,
    };
    let user = users::create_user(&state, &p, input).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Users in the caller's scope, optionally of one organisation (`org`).
#[utoipa::path(operation_id = "list_users", get, path = "/admin/v1/users", tag = "admin", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = Listing<UserDto>), (status = 403, description = "access_denied")))]
async fn list(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<Listing<UserDto>>> {
    let page = Page::parse(q.offset.as_deref(), q.limit.as_deref())?;
    let (users, total) = users::list(&state, &p, q.parent.as_deref(), page).await?;
    Ok(Json(Listing {
        offset: page.offset,
        limit: page.limit,
        total,
        items: users.into_iter().map(Into::into).collect(),
    }))
}

/// One user (404 outside the caller's scope).
#[utoipa::path(operation_id = "get_user", get, path = "/admin/v1/users/{ref}", tag = "admin", security(("bearer" = [])),
    params(("ref" = String, Path, description = "id or oid")),
    responses((status = 200, body = UserDto), (status = 404, description = "not_found")))]
async fn get(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Path(r): Path<String>,
) -> AppResult<Json<UserDto>> {
    Ok(Json(
        users::visible_user(&state, &p, &path_ref(&r)?)
            .await?
            .0
            .into(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    name: Option<String>,
    access_level: Option<String>,
    /// ENABLED, DISABLED or DELETED. Anything but ENABLED revokes the user's tokens.
    state: Option<String>,
    password: Option<String>,
}

/// Change a user's name, level, state or password.
#[utoipa::path(operation_id = "update_user", patch, path = "/admin/v1/users/{ref}", tag = "admin", security(("bearer" = [])),
    request_body = UpdateUserRequest,
    params(("ref" = String, Path, description = "id or oid")),
    responses(
        (status = 200, body = UserDto),
        (status = 403, description = "id / access_level"),
        (status = 404, description = "not_found"),
        (status = 422, description = "name / access_level / state / password"),
    ))]
async fn update(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Path(r): Path<String>,
    Body(req): Body<UpdateUserRequest>,
) -> AppResult<Json<UserDto>> {
    let input = UpdateUser {
        name: req.name,
        access_level: req.access_level,
        state: req.state,
        password: req.password,
    };
    Ok(Json(
        users::update_user(&state, &p, &path_ref(&r)?, input)
            .await?
            .into(),
    ))
}
