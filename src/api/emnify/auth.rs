//! `POST /api/v1/authenticate`: application token, username + SHA-1 password, or refresh token.
use crate::api::body::Lenient;
use crate::api::json::{NoStore, NO_STORE};
use crate::auth::jwt::TokenUse;
use crate::auth::password::is_sha1_hex;
use crate::error::{AppError, AppResult, AuthFailure};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(authenticate))
}

/// One of: `application_token`; `username` + `password` (SHA-1 hex); `refresh_token`.
#[derive(Deserialize, ToSchema, Default)]
pub struct AuthenticateRequest {
    application_token: Option<String>,
    username: Option<String>,
    password: Option<String>,
    refresh_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuthenticateResponse {
    /// A JWT; its `exp` claim says when it expires.
    auth_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
}

/// Exchange credentials for a JWT. Any Authorization header is ignored.
#[utoipa::path(post, path = "/api/v1/authenticate", tag = "emnify",
    request_body = AuthenticateRequest,
    responses(
        (status = 200, body = AuthenticateResponse),
        (status = 401, description = "1101 InvalidCredentials"),
        (status = 422, description = "no credentials given"),
        (status = 429, description = "1105 TooManyRequests: too many failed logins of this username or from \
             this address; see Retry-After"),
    ))]
async fn authenticate(
    State(state): State<AppState>,
    client: crate::auth::extract::ClientIp,
    Lenient(req): Lenient<AuthenticateRequest>,
) -> AppResult<(NoStore, Json<AuthenticateResponse>)> {
    Ok((NO_STORE, credentials(&state, client, req).await?))
}

async fn credentials(
    state: &AppState,
    client: crate::auth::extract::ClientIp,
    req: AuthenticateRequest,
) -> AppResult<Json<AuthenticateResponse>> {
    let auth = &state.auth;
    if let Some(secret) = req.application_token {
        let (app, identity) = auth.application_token(&secret).await?;
        return Ok(Json(AuthenticateResponse {
            auth_token: auth.issue_jwt(&identity, Some(app), TokenUse::Auth),
            refresh_token: None,
        }));
    }
    if let Some(refresh) = req.refresh_token {
        let identity = auth.refresh(&refresh).await?;
        return Ok(Json(AuthenticateResponse {
            auth_token: auth.issue_jwt(&identity, None, TokenUse::Auth),
            refresh_token: None,
        }));
    }
    match (req.username, req.password) {
        (Some(username), Some(password)) => {
            // The dialect sends the SHA-1 hex (emnify's SDK hashes before it sends); a plain
            // password is told so rather than guessed at.
            if !is_sha1_hex(&password) {
                return Err(AppError::invalid(
                    "password",
                    "the emnify dialect expects the SHA-1 hex digest of the password (40 hex \
                     characters, e.g. from: printf %s 'PASSWORD' | sha1sum), not the password itself",
                ));
            }
            let identity = auth.login(&username, &password, client.0).await?;
            Ok(Json(AuthenticateResponse {
                auth_token: auth.issue_jwt(&identity, None, TokenUse::Auth),
                refresh_token: Some(auth.issue_jwt(&identity, None, TokenUse::Refresh)),
            }))
        }
        (Some(_), None) => Err(AppError::Unauthenticated(AuthFailure::Credentials)),
        (None, _) => Err(AppError::required("application_token")),
    }
}
