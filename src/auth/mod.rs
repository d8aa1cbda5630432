//! Credentials (passwords, opaque tokens, JWTs) and turning a bearer token into a `Principal`.
pub mod extract;
pub mod jwt;
pub mod password;
pub mod throttle;
pub mod token;

use crate::clock::Clock;
use crate::config::AuthConfig;
use crate::domain::access::Principal;
use crate::error::{AppError, AuthFailure};
use crate::store::{DynStore, Identity, TokenKind};
use chrono::Duration;
use std::sync::Arc;

/// Resolves bearer tokens to principals.
pub struct Authenticator {
    store: DynStore,
    clock: Arc<dyn Clock>,
    pub jwt: jwt::JwtKeys,
    pub passwords: password::Passwords,
    pub config: AuthConfig,
    /// Verified when the login name is unknown, so that a miss costs what a hit costs.
    dummy_hash: String,
    /// Recently authenticated bearers, for `auth.principal_cache_secs`. Keyed by the bearer itself:
    /// its SHA-256 (the database's key) cost a tenth of a cached read's instructions, and the map's
    /// hash is keyed per process (no collisions to aim for) and compares the whole token.
    cache: std::sync::Mutex<std::collections::HashMap<Box<str>, Cached>>,
}

struct Cached {
    principal: Principal,
    /// The store's access epoch when the principal was read: a write since then that can change
    /// access (a user's level or state, a revoked token) makes the entry stale.
    epoch: u64,
    at: chrono::DateTime<chrono::Utc>,
    expires: Option<chrono::DateTime<chrono::Utc>>,
}

/// Past this many entries the cache starts over rather than grow.
const CACHE_MAX: usize = 100_000;

impl Authenticator {
    pub fn new(
        store: DynStore,
        clock: Arc<dyn Clock>,
        jwt_secret: &str,
        config: AuthConfig,
    ) -> Self {
        let passwords =
            password::Passwords::new(config.argon2_memory_kib, config.argon2_iterations);
        let dummy_hash = passwords.hash_plain(&token::generate());
        Authenticator {
            store,
            clock,
            jwt: jwt::JwtKeys::new(jwt_secret.as_bytes()),
            passwords,
            config,
            dummy_hash,
            cache: Default::default(),
        }
    }

    /// A cached principal, unless it is older than `auth.principal_cache_secs` or the store wrote a
    /// change to access since it was read (in this process; other nodes notice within the TTL).
    fn cached(&self, bearer: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Principal> {
        let ttl = Duration::seconds(self.config.principal_cache_secs);
        let epoch = self.store.access_epoch();
        let cache = self.cache.lock().expect("auth cache");
        let c = cache.get(bearer)?;
        let fresh = now - c.at < ttl && now >= c.at && c.epoch == epoch;
        (fresh && c.expires.is_none_or(|e| e > now)).then(|| c.principal.clone())
    }

    fn remember(
        &self,
        bearer: &str,
        principal: &Principal,
        epoch: u64,
        now: chrono::DateTime<chrono::Utc>,
        expires: Option<chrono::DateTime<chrono::Utc>>,
    ) {
        if self.config.principal_cache_secs <= 0 {
            return;
        }
        let mut cache = self.cache.lock().expect("auth cache");
        if cache.len() >= CACHE_MAX {
            cache.clear();
        }
        cache.insert(
            bearer.into(),
            Cached {
                principal: principal.clone(),
                epoch,
                at: now,
                expires,
            },
        );
    }

    /// Username and SHA-1 hex of the password -> the identity, or 401 `credentials_invalid`.
    /// Disabled users and NO_LOGIN users cannot log in. A username or client address with too
    /// many recent failures gets 429 before its password is looked at.
    pub async fn login(
        &self,
        email: &str,
        sha1_hex: &str,
        client: Option<std::net::IpAddr>,
    ) -> Result<Identity, AppError> {
        let email = email.trim().to_ascii_lowercase();
        let now = self.clock.now();
        let limits = throttle::Limits {
            per_user: self.config.login_failures_per_user,
            per_address: self.config.login_failures_per_address,
            window: Duration::seconds(self.config.login_window_secs.max(1)),
        };
        let keys = throttle::keys(&email, client);
        let since = now - limits.window;
        let counts = self.store.login_failures(&keys, since).await?;
        if let Some(retry_after_secs) = throttle::retry_after(&counts, &limits, now) {
            metrics::counter!("simgate_login_throttled_total").increment(1);
            return Err(AppError::Throttled { retry_after_secs });
        }
        let result = self.verify_login(&email, sha1_hex).await;
        if matches!(result, Err(AppError::Unauthenticated(_))) {
            metrics::counter!("simgate_login_failures_total").increment(1);
            self.store.login_failed(&keys, now, since).await?;
        }
        result
    }

    async fn verify_login(&self, email: &str, sha1_hex: &str) -> Result<Identity, AppError> {
        let identity = self.store.identity_by_email(email).await?;
        let stored = identity
            .as_ref()
            .map_or_else(|| self.dummy_hash.clone(), |i| i.password_hash.clone());
        let verified = self
            .passwords
            .verify_async(sha1_hex.to_string(), stored)
            .await;
        match identity {
            Some(i) if verified && i.state == "ENABLED" && i.access_level.can_login() => Ok(i),
            _ => Err(AppError::Unauthenticated(AuthFailure::Credentials)),
        }
    }

    /// A new session token for a logged-in identity; `persist` keeps it until logout.
    pub async fn open_session(
        &self,
        i: &Identity,
        persist: bool,
        request_id: Option<String>,
    ) -> Result<String, AppError> {
        let now = self.clock.now();
        let secret = token::generate();
        let (kind, expires_at) = if persist {
            (TokenKind::Persistent, None)
        } else {
            (
                TokenKind::Session,
                Some(now + Duration::minutes(self.config.session_minutes)),
            )
        };
        let actor = crate::store::Actor {
            user_id: Some(i.user_id),
            org_id: Some(i.org_id),
            request_id,
            at: now,
            if_match: None,
        };
        let new = crate::store::NewToken {
            user_id: i.user_id,
            token_hash: token::hash(&secret),
            label: None,
            kind,
            expires_at,
        };
        self.store.token_create(new, &actor).await?;
        Ok(secret)
    }

    /// An application token presented to `POST /api/v1/authenticate`: its id and identity.
    pub async fn application_token(&self, secret: &str) -> Result<(i64, Identity), AppError> {
        let now = self.clock.now();
        let bad = AppError::Unauthenticated(AuthFailure::Credentials);
        let found = self
            .store
            .token_by_hash(&token::hash(secret))
            .await?
            .ok_or(bad.clone())?;
        let t = &found.token;
        let usable = t.kind == TokenKind::Application
            && t.revoked_at.is_none()
            && t.expires_at.is_none_or(|e| e > now)
            && found.identity.state == "ENABLED"
            && found.identity.access_level.can_login();
        if !usable {
            return Err(bad);
        }
        Ok((t.id, found.identity))
    }

    /// An emnify JWT for the identity (`app` = the application token it came from).
    pub fn issue_jwt(&self, i: &Identity, app: Option<i64>, token_use: jwt::TokenUse) -> String {
        let minutes = match (token_use, app) {
            (jwt::TokenUse::Refresh, _) => self.config.refresh_token_minutes,
            (jwt::TokenUse::Auth, Some(_)) => self.config.app_jwt_minutes,
            (jwt::TokenUse::Auth, None) => self.config.user_jwt_minutes,
        };
        let esc = jwt::Esc {
            org: i.org_id,
            app,
            usr: i.user_id,
        };
        self.jwt
            .issue(esc, token_use, self.clock.now(), Duration::minutes(minutes))
    }

    /// A refresh token -> the identity it was issued to, still allowed to log in.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Identity, AppError> {
        let bad = AppError::Unauthenticated(AuthFailure::Credentials);
        let claims = self
            .jwt
            .verify(refresh_token, jwt::TokenUse::Refresh, self.clock.now())
            .map_err(|_| bad.clone())?;
        match self.store.identity_by_user(claims.esc.usr).await? {
            Some(i)
                if i.state == "ENABLED"
                    && i.access_level.can_login()
                    && i.issued_in_time(claims.issued_at()) =>
            {
                Ok(i)
            }
            _ => Err(bad),
        }
    }

    pub async fn authenticate(
        &self,
        bearer: &str,
        request_id: Option<String>,
    ) -> Result<Principal, AppError> {
        let now = self.clock.now();
        if let Some(mut p) = self.cached(bearer, now) {
            p.request_id = request_id;
            return Ok(p);
        }
        // Read before the principal is: a change written meanwhile leaves the entry stale.
        let epoch = self.store.access_epoch();
        let (principal, expires) = self.resolve(bearer, now, request_id).await?;
        self.remember(bearer, &principal, epoch, now, expires);
        Ok(principal)
    }

    /// The principal of a bearer token and when the token expires, from the database.
    async fn resolve(
        &self,
        bearer: &str,
        now: chrono::DateTime<chrono::Utc>,
        request_id: Option<String>,
    ) -> Result<(Principal, Option<chrono::DateTime<chrono::Utc>>), AppError> {
        if jwt::looks_like_jwt(bearer) {
            let claims = self.jwt.verify(bearer, jwt::TokenUse::Auth, now)?;
            let identity = self
                .store
                .identity_by_user(claims.esc.usr)
                .await?
                .ok_or(AppError::Unauthenticated(AuthFailure::InvalidToken))?;
            // A user JWT dies with a password change or a disable after it was issued; a JWT
            // obtained with an application token dies with that token.
            if claims.esc.app.is_none() && !identity.issued_in_time(claims.issued_at()) {
                return Err(AppError::Unauthenticated(AuthFailure::InvalidToken));
            }
            if let Some(app) = claims.esc.app {
                let live = self.store.token_get(app).await?.is_some_and(|t| {
                    t.revoked_at.is_none() && t.expires_at.is_none_or(|e| e > now)
                });
                if !live {
                    return Err(AppError::Unauthenticated(AuthFailure::InvalidToken));
                }
            }
            let exp = chrono::DateTime::from_timestamp(claims.exp, 0);
            return Ok((principal_for(identity, claims.esc.app, request_id)?, exp));
        }

        let found = self
            .store
            .token_by_hash(&token::hash(bearer))
            .await?
            .ok_or(AppError::Unauthenticated(AuthFailure::InvalidToken))?;
        let t = &found.token;
        let voided =
            t.kind != TokenKind::Application && !found.identity.issued_in_time(t.created_at);
        if t.revoked_at.is_some() || voided {
            return Err(AppError::Unauthenticated(AuthFailure::InvalidToken));
        }
        if t.expires_at.is_some_and(|e| e <= now) {
            return Err(AppError::Unauthenticated(AuthFailure::Expired));
        }
        // Sessions slide: each use moves the expiry. Writes are skipped within a short window so
        // that a burst of requests costs one update, not one per request.
        let stale = t
            .last_used_at
            .is_none_or(|u| now - u > Duration::seconds(30));
        let mut expires = t.expires_at;
        if stale {
            let slid = (t.kind == TokenKind::Session)
                .then(|| now + Duration::minutes(self.config.session_minutes));
            self.store.token_touch(t.id, now, slid).await?;
            expires = slid.or(expires);
        }
        Ok((
            principal_for(found.identity, Some(t.id), request_id)?,
            expires,
        ))
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}

/// Only enabled users whose level allows login act through a token.
pub fn principal_for(
    i: Identity,
    token_id: Option<i64>,
    request_id: Option<String>,
) -> Result<Principal, AppError> {
    if i.state != "ENABLED" || !i.access_level.can_login() {
        return Err(AppError::Unauthenticated(AuthFailure::InvalidToken));
    }
    Ok(Principal {
        user_id: i.user_id,
        user_oid: i.user_oid,
        email: i.email,
        name: i.name,
        level: i.access_level,
        org_id: i.org_id,
        org_oid: i.org_oid,
        org_kind: i.org_kind,
        org_path: i.org_path,
        token_id,
        request_id,
    })
}
