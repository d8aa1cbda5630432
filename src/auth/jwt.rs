//! emnify-style JWTs (HS256, signed with the server secret). Clients decode `exp` themselves.
use crate::error::{AppError, AuthFailure};
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenUse {
    Auth,
    Refresh,
}

/// emnify's `esc` claim: the organisation, the application token (if any) and the user.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Esc {
    pub org: i64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub app: Option<i64>,
    pub usr: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iat: i64,
    /// `iat` in milliseconds: a password change or disable voids the JWTs issued before it, and
    /// whole seconds cannot tell "just before" from "just after".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat_ms: Option<i64>,
    pub exp: i64,
    pub iss: String,
    #[serde(rename = "use")]
    pub token_use: TokenUse,
    pub esc: Esc,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

pub fn looks_like_jwt(token: &str) -> bool {
    token.bytes().filter(|b| *b == b'.').count() == 2
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    pub fn issue(
        &self,
        esc: Esc,
        token_use: TokenUse,
        now: DateTime<Utc>,
        lifetime: Duration,
    ) -> String {
        let claims = Claims {
            sub: esc.usr.to_string(),
            iat: now.timestamp(),
            iat_ms: Some(now.timestamp_millis()),
            exp: (now + lifetime).timestamp(),
            iss: "simgate".into(),
            token_use,
            esc,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).expect("HS256 signing")
    }

    /// Checks signature and use, then expiry against the server clock (not the OS clock, so tests
    /// can move time).
    pub fn verify(
        &self,
        token: &str,
        expected: TokenUse,
        now: DateTime<Utc>,
    ) -> Result<Claims, AppError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let claims = decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| AppError::Unauthenticated(AuthFailure::InvalidToken))?
            .claims;
        if claims.token_use != expected {
            return Err(AppError::Unauthenticated(AuthFailure::InvalidToken));
        }
        if claims.exp <= now.timestamp() {
            return Err(AppError::Unauthenticated(AuthFailure::Expired));
        }
        Ok(claims)
    }
}

impl Claims {
    /// When the token was issued, to the millisecond where the token says so.
    pub fn issued_at(&self) -> DateTime<Utc> {
        self.iat_ms
            .and_then(DateTime::from_timestamp_millis)
            .or_else(|| DateTime::from_timestamp(self.iat, 0))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc() -> Esc {
        Esc {
            org: 7,
            app: Some(3),
            usr: 11,
        }
    }

    #[test]
    fn issued_tokens_verify_until_exp() {
        let keys = JwtKeys::new(b"secret");
        let now = Utc::now();
        let t = keys.issue(esc(), TokenUse::Auth, now, Duration::minutes(240));
        assert!(looks_like_jwt(&t));
        let c = keys
            .verify(&t, TokenUse::Auth, now + Duration::minutes(239))
            .unwrap();
        assert_eq!(c.esc, esc());
        assert_eq!(c.sub, "11");
        assert_eq!(c.exp - c.iat, 240 * 60);
        let expired = keys
            .verify(&t, TokenUse::Auth, now + Duration::minutes(241))
            .unwrap_err();
        assert!(matches!(
            expired,
            AppError::Unauthenticated(AuthFailure::Expired)
        ));
    }

    #[test]
    fn wrong_secret_or_use_is_rejected() {
        let now = Utc::now();
        let t = JwtKeys::new(b"secret").issue(esc(), TokenUse::Refresh, now, Duration::minutes(5));
        let bad = JwtKeys::new(b"other")
            .verify(&t, TokenUse::Refresh, now)
            .unwrap_err();
        assert!(matches!(
            bad,
            AppError::Unauthenticated(AuthFailure::InvalidToken)
        ));
        let wrong_use = JwtKeys::new(b"secret")
            .verify(&t, TokenUse::Auth, now)
            .unwrap_err();
        assert!(matches!(
            wrong_use,
            AppError::Unauthenticated(AuthFailure::InvalidToken)
        ));
    }
}
