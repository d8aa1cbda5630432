//! API tokens of users.
use super::path_ref;
use crate::api::json::{iso_millis, Listing, NoStore, NO_STORE};
use crate::auth::extract::{AdminApi, Require};
use crate::domain::paging::Page;
use crate::error::{AppError, AppResult};
use crate::service::{tokens, users};
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

/// The user in the path, if the caller may act for it (in scope, not above the caller's level).
async fn target_user(
    state: &AppState,
    p: &crate::domain::access::Principal,
    r: &str,
) -> AppResult<crate::store::User> {
    let (user, org) = users::visible_user(state, p, &path_ref(r)?).await?;
    if !p.may_manage(user.id, org.id, &org.path, user.access_level) {
        return Err(AppError::forbidden(
            "id",
            "You cannot act for a user at or above your own level",
        ));
    }
    Ok(user)
}

/// Create an API token acting as the user. The token is in this answer only.
#[utoipa::path(post, path = "/admin/v1/users/{ref}/tokens", tag = "admin", security(("bearer" = [])), request_body = CreateTokenRequest,
    params(("ref" = String, Path, description = "user id or oid")),
    responses((status = 201, body = CreatedToken), (status = 403, description = "access_denied / id"), (status = 404, description = "not_found")))]
async fn create(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Path(r): Path<String>,
    body: Option<Json<CreateTokenRequest>>,
) -> AppResult<(StatusCode, NoStore, Json<CreatedToken>)> {
    let req = body.map(|Json(b)| b).unwrap_or_default();
    let user = target_user(&state, &p, &r).await?;
    let (t, secret) =
        tokens::issue_token(&state, &p, &user, req.label, req.expires_in_days).await?;
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
    offset: Option<String>,
    limit: Option<String>,
}

/// The user's API tokens (never their values).
#[utoipa::path(get, path = "/admin/v1/users/{ref}/tokens", tag = "admin", security(("bearer" = [])),
    params(("ref" = String, Path, description = "user id or oid"), PageQuery),
    responses((status = 200, body = Listing<TokenDto>), (status = 404, description = "not_found")))]
async fn list(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Path(r): Path<String>,
    Query(q): Query<PageQuery>,
) -> AppResult<Json<Listing<TokenDto>>> {
    let page = Page::parse(q.offset.as_deref(), q.limit.as_deref())?;
    let (user, _) = users::visible_user(&state, &p, &path_ref(&r)?).await?;
    let tokens = state.store.token_list(user.id).await?;
    let total = tokens.len() as i64;
    let items = tokens
        .into_iter()
        .skip(page.offset as usize)
        .take(page.limit as usize)
        .map(Into::into)
        .collect();
    Ok(Json(Listing {
        offset: page.offset,
        limit: page.limit,
        total,
        items,
    }))
}

/// Revoke a token.
#[utoipa::path(delete, path = "/admin/v1/tokens/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "token id")),
    responses((status = 204, description = "revoked"), (status = 404, description = "not_found")))]
async fn revoke(
    State(state): State<AppState>,
    Require(p, ..): Require<AdminApi>,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    let missing = || AppError::not_found("not_found", "Token not found");
    let id: i64 = id.parse().map_err(|_| missing())?;
    let token = state
        .store
        .token_get(id)
        .await?
        .filter(|t| t.revoked_at.is_none())
        .ok_or_else(missing)?;
    target_user(&state, &p, &token.user_id.to_string())
        .await
        .map_err(|e| match e {
            AppError::Forbidden { .. } => e,
            _ => missing(),
        })?;
    state.store.token_revoke(token.id, &state.actor(&p)).await?;
    state.auth.forget_all();
    Ok(StatusCode::NO_CONTENT)
}
