//! API tokens of users.
use super::path_ref;
use crate::api::body::Body;
use crate::api::json::{iso_millis, Listing, NoStore, NO_STORE};
use crate::auth::extract::{AdminApi, Require};
use crate::domain::paging::Page;
use crate::error::AppResult;
use crate::service::tokens;
use crate::state::AppState;
use crate::store::Token;
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
        .routes(routes!(revoke))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    label: Option<String>,
    /// 1..3650; without it the token does not expire.
    expires_in_days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    id: i64,
    /// Shown this once; only its hash is stored.
    token: String,
    label: Option<String>,
    expires_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenDto {
    id: i64,
    label: Option<String>,
    created_at: String,
    expires_at: Option<String>,
    last_used_at: Option<String>,
    revoked_at: Option<String>,
}

impl From<Token> for TokenDto {
    fn from(t: Token) -> Self {
        TokenDto {
            id: t.id,
            label: t.label,
            created_at: iso_millis(&t.created_at),
            expires_at: t.expires_at.as_ref().map(iso_millis),
            last_used_at: t.last_used_at.as_ref().map(iso_millis),
            revoked_at: t.revoked_at.as_ref().map(iso_millis),
        }
    }
}

/// Create an API token acting as the user. The token is in this answer only.
#[utoipa::path(operation_id = "create_token", post, path = "/admin/v1/users/{ref}/tokens", tag = "admin", security(("bearer" = [])),
    request_body = CreateTokenRequest,
    params(("ref" = String, Path, description = "user id or oid")),
    responses(
        (status = 201, body = CreatedToken),
        (status = 403, description = "access_denied / id"),
        (status = 404, description = "not_found"),
    ))]
async fn create(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Path(r): Path<String>,
    body: Option<Body<CreateTokenRequest>>,
) -> AppResult<(StatusCode, NoStore, Json<CreatedToken>)> {
    let req = body.map(|Body(b)| b).unwrap_or_default();
    let (t, secret) =
        tokens::create(&state, &p, &path_ref(&r)?, req.label, req.expires_in_days).await?;
    Ok((
        StatusCode::CREATED,
        NO_STORE,
        Json(CreatedToken {
            id: t.id,
            token: secret,
            label: t.label,
            expires_at: t.expires_at.as_ref().map(iso_millis),
        }),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    #[param(value_type = Option<i64>, minimum = 0)]
    offset: Option<String>,
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    limit: Option<String>,
}

/// The user's API tokens (never their values).
#[utoipa::path(operation_id = "list_tokens", get, path = "/admin/v1/users/{ref}/tokens", tag = "admin", security(("bearer" = [])),
    params(("ref" = String, Path, description = "user id or oid"), PageQuery),
    responses((status = 200, body = Listing<TokenDto>), (status = 404, description = "not_found")))]
async fn list(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Path(r): Path<String>,
    Query(q): Query<PageQuery>,
) -> AppResult<Json<Listing<TokenDto>>> {
    let page = Page::parse(q.offset.as_deref(), q.limit.as_deref())?;
    let (tokens, total) = tokens::list(&state, &p, &path_ref(&r)?, page).await?;
    Ok(Json(Listing {
        offset: page.offset,
        limit: page.limit,
        total,
        items: tokens.into_iter().map(Into::into).collect(),
    }))
}

/// Revoke a token.
#[utoipa::path(operation_id = "revoke_token", delete, path = "/admin/v1/tokens/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "token id")),
    responses((status = 204, description = "revoked"), (status = 404, description = "not_found")))]
async fn revoke(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    tokens::revoke(&state, &p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
