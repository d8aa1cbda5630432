//! `/auth/login`, `/auth/logout`, `/auth/validateToken`, `/employee/{id}/token`.
use crate::api::body::Body;
use crate::api::json::{NoStore, Success, NO_STORE};
use crate::auth::extract::ClientIp;
use crate::auth::extract::{request_id, ManagersUp, Require};
use crate::auth::password::sha1_hex;
use crate::domain::access::{AccessLevel, Principal};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login_post, login_get))
        .routes(routes!(logout))
        .routes(routes!(validate_token))
        .routes(routes!(create_employee_token))
        .routes(routes!(revoke_employee_token))
}

#[derive(Deserialize, ToSchema, IntoParams)]
pub struct LoginRequest {
    /// The user's email address.
    #[schema(required = true, example = "admin@localhost")]
    #[param(required = true)]
    username: Option<String>,
    /// The password in plain text.
    #[schema(required = true, example = "change-me-admin-1")]
    #[param(required = true)]
    password: Option<String>,
    /// `true`: the token stays valid until logout.
    #[serde(default, deserialize_with = "lenient_bool")]
    #[param(value_type = Option<bool>)]
    #[schema(value_type = Option<bool>)]
    persist: Option<bool>,
}

/// `persist` arrives as a JSON boolean in bodies and as text in query strings.
fn lenient_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Text(String),
    }
    match Option::<B>::deserialize(d)? {
        None => Ok(None),
        Some(B::Bool(b)) => Ok(Some(b)),
        Some(B::Text(t)) => match t.as_str() {
            "true" | "1" => Ok(Some(true)),
            "false" | "0" | "" => Ok(Some(false)),
            _ => Err(serde::de::Error::custom("persist must be true or false")),
        },
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    token: String,
    /// 15 by default (sliding), -1 for a persistent login.
    expires_in_minutes: i64,
    /// The user's id.
    employee: String,
    /// The user's organisation id.
    customer: String,
    access_level: AccessLevel,
}

async fn login(
    state: &AppState,
    headers: &HeaderMap,
    client: ClientIp,
    req: LoginRequest,
) -> AppResult<Json<LoginResponse>> {
    let username = req
        .username
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| AppError::required("username"))?;
    let password = req
        .password
        .filter(|p| !p.is_empty())
        .ok_or_else(|| AppError::required("password"))?;
    let identity = state
        .auth
        .login(&username, &sha1_hex(&password), client.0)
        .await?;
    let persist = req.persist.unwrap_or(false);
    let rid = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let token = state.auth.open_session(&identity, persist, rid).await?;
    Ok(Json(LoginResponse {
        token,
        expires_in_minutes: if persist {
            -1
        } else {
            state.config.auth.session_minutes
        },
        employee: identity.user_oid,
        customer: identity.org_oid,
        access_level: identity.access_level,
    }))
}

/// Log in with username and password; answers a session token.
#[utoipa::path(post, path = "/auth/login", tag = "telecomx",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "credentials_invalid"),
        (status = 429, description = "too_many_requests: too many failed logins of this username or from this \
             address; see Retry-After"),
    ))]
async fn login_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: ClientIp,
    Body(req): Body<LoginRequest>,
) -> AppResult<(NoStore, Json<LoginResponse>)> {
    Ok((NO_STORE, login(&state, &headers, client, req).await?))
}

/// Log in with username and password in the query string.
#[utoipa::path(get, path = "/auth/login", tag = "telecomx",
    params(LoginRequest),
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "credentials_invalid"),
        (status = 429, description = "too_many_requests: too many failed logins of this username or from this \
             address; see Retry-After"),
    ))]
async fn login_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: ClientIp,
    Query(req): Query<LoginRequest>,
) -> AppResult<(NoStore, Json<LoginResponse>)> {
    Ok((NO_STORE, login(&state, &headers, client, req).await?))
}

/// Invalidate all of the caller's session tokens (API tokens stay valid).
#[utoipa::path(get, path = "/auth/logout", tag = "telecomx", security(("bearer" = [])),
    responses((status = 200, body = Success), (status = 401, description = "not logged in")))]
async fn logout(State(state): State<AppState>, p: Principal) -> AppResult<Json<Success>> {
    state
        .store
        .token_revoke_sessions(p.user_id, &state.actor(&p))
        .await?;
    Ok(Success::ok())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// The token to check (else the Authorization header's).
    token: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    success: bool,
    employee: String,
    customer: String,
    access_level: AccessLevel,
}

/// Check a token and tell whom it belongs to.
#[utoipa::path(get, path = "/auth/validateToken", tag = "telecomx", params(TokenQuery),
    security((), ("bearer" = [])),
    responses((status = 200, body = TokenInfo), (status = 401, description = "invalid_token / expired")))]
async fn validate_token(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
) -> AppResult<Json<TokenInfo>> {
    let token = match Query::<TokenQuery>::try_from_uri(&parts.uri)
        .ok()
        .and_then(|q| q.0.token)
    {
        Some(t) => t,
        None => crate::auth::extract::bearer(&parts)?,
    };
    let p = state.auth.authenticate(&token, request_id(&parts)).await?;
    Ok(Json(TokenInfo {
        success: true,
        employee: p.user_oid,
        customer: p.org_oid,
        access_level: p.level,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct EmployeeToken {
    success: bool,
    /// Shown once; only its hash is stored.
    token: String,
}

/// Create a persistent API token acting as the employee.
#[utoipa::path(post, path = "/employee/{id}/token", tag = "telecomx", security(("bearer" = [])),
    params(("id" = String, Path, description = "Employee (user) id")),
    responses(
        (status = 200, body = EmployeeToken),
        (status = 403, description = "access_denied / id"),
        (status = 404, description = "id"),
    ))]
async fn create_employee_token(
    State(state): State<AppState>,
    Require(p, ..): Require<ManagersUp>,
    Path(id): Path<String>,
) -> AppResult<(NoStore, Json<EmployeeToken>)> {
    let secret = crate::service::tokens::issue_for_employee(&state, &p, &id).await?;
    Ok((
        NO_STORE,
        Json(EmployeeToken {
            success: true,
            token: secret,
        }),
    ))
}

/// Revoke an API token of the employee.
#[utoipa::path(delete, path = "/employee/{id}/token/{token}", tag = "telecomx", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Employee (user) id"),
        ("token" = String, Path, description = "The token"),
    ),
    responses((status = 200, body = Success), (status = 404, description = "id / token")))]
async fn revoke_employee_token(
    State(state): State<AppState>,
    Require(p, ..): Require<ManagersUp>,
    Path((id, secret)): Path<(String, String)>,
) -> AppResult<Json<Success>> {
    crate::service::tokens::revoke_for_employee(&state, &p, &id, &secret).await?;
    Ok(Success::ok())
}
