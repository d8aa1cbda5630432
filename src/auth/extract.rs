//! The `Principal` extractor and level guards: permissions in the handler signature.
use crate::domain::access::{AccessLevel, Principal};
use crate::error::{AppError, AuthFailure};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use std::marker::PhantomData;

/// The bearer token of a request: `Authorization: Bearer <t>`, or `?token=<t>`.
pub fn bearer(parts: &Parts) -> Result<String, AppError> {
    if let Some(value) = parts.headers.get(AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| AppError::Unauthenticated(AuthFailure::Format))?;
        let (scheme, token) = value
            .trim()
            .split_once(' ')
            .ok_or(AppError::Unauthenticated(AuthFailure::Format))?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AppError::Unauthenticated(AuthFailure::Format));
        }
        let token = token.trim();
        // The emnify SDK sends "Bearer None" before it has authenticated.
        if token.is_empty() || token == "None" || token == "null" {
            return Err(AppError::Unauthenticated(AuthFailure::InvalidToken));
        }
        return Ok(token.to_string());
    }
    query_token(parts.uri.query()).ok_or(AppError::Unauthenticated(AuthFailure::Missing))
}

fn query_token(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

pub fn request_id(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Where the request log line finds who made the request: the middleware that writes the line puts
/// an empty slot in the request, the first successful authentication fills it with the user id.
#[derive(Clone, Default)]
pub struct RequestUser(std::sync::Arc<std::sync::OnceLock<i64>>);

impl RequestUser {
    pub fn get(&self) -> Option<i64> {
        self.0.get().copied()
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(p) = parts.extensions.get::<Principal>() {
            return Ok(p.clone());
        }
        let token = bearer(parts)?;
        let principal = state.auth.authenticate(&token, request_id(parts)).await?;
        if let Some(slot) = parts.extensions.get::<RequestUser>() {
            let _ = slot.0.set(principal.user_id);
        }
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}

/// A set of access levels allowed on a route.
pub trait Levels: Send + Sync + 'static {
    const ALLOWED: &'static [AccessLevel];
}

/// An authenticated principal whose level is in `L`; anything else is 403 `access_denied`.
pub struct Require<L: Levels>(pub Principal, pub PhantomData<L>);

impl<L: Levels> FromRequestParts<AppState> for Require<L> {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let p = Principal::from_request_parts(parts, state).await?;
        p.require(L::ALLOWED)?;
        Ok(Require(p, PhantomData))
    }
}

macro_rules! levels {
    ($(#[$doc:meta])* $name:ident = [$($level:ident),*]) => {
        $(#[$doc])*
        pub struct $name;
        impl Levels for $name {
            const ALLOWED: &'static [AccessLevel] = &[$(AccessLevel::$level),*];
        }
    };
}

/// Admin API: ADMIN everywhere, RESELLER_ADMIN inside its subtree.
pub type AdminApi = ResellerAdminOrAdmin;

levels!(
    /// MANAGER and up: employee tokens, MVNO account updates and deletes.
    ManagersUp = [Manager, Owner, Reseller, ResellerAdmin, Admin]
);
levels!(
    /// Reads of SIMs and MVNO accounts: customer levels (own org), reseller levels (subtree), ADMIN.
    Readers = [Viewer, Manager, Owner, Reseller, ResellerAdmin, Admin]
);
levels!(
    /// `/sim/status`, `/mvno/deleted`.
    ResellerAdminOrAdmin = [ResellerAdmin, Admin]
);
levels!(
    /// Reseller levels and ADMIN.
    Resellers = [Reseller, ResellerAdmin, Admin]
);
levels!(
    /// ADMIN only.
    Admin = [Admin]
);
levels!(
    /// Creating MVNO accounts and changing their SIM: OWNER, reseller levels, ADMIN.
    OwnersUp = [Owner, Reseller, ResellerAdmin, Admin]
);

/// The client's address, for login throttling: the TCP peer, or — with `auth.trust_forwarded_for`,
/// behind a proxy that sets it — the first `X-Forwarded-For` entry. None when unknown (in-process).
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.config.auth.trust_forwarded_for {
            let forwarded = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|ip| ip.trim().parse().ok());
            if forwarded.is_some() {
                return Ok(ClientIp(forwarded));
            }
        }
        Ok(ClientIp(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}
