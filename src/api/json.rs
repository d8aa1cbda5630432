//! Helpers shared by the dialects' DTOs.
use chrono::{DateTime, SecondsFormat, Utc};

/// `2024-03-01T10:00:00.000Z`: TelecomX, the admin API and emnify event timestamps.
pub fn iso_millis(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Headers of an answer that carries a credential: never cached (RFC 6749 §5.1), and so never kept
/// for an `Idempotency-Key` replay either.
pub type NoStore = [(axum::http::HeaderName, &'static str); 1];
pub const NO_STORE: NoStore = [(axum::http::header::CACHE_CONTROL, "no-store")];

/// `{offset, limit, total, items}`: the admin API's list shape.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Listing<T: utoipa::ToSchema> {
    pub offset: i64,
    pub limit: i64,
    pub total: i64,
    pub items: Vec<T>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Success {
    pub success: bool,
}

impl Success {
    pub fn ok() -> axum::Json<Success> {
        axum::Json(Success { success: true })
    }
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`); use with `#[serde(default)]`.
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

/// An id as the emnify SDK sends it: an integer, or an integral float (`{"id": 1.0}`); `null` is
/// none. `1.5` or a string is refused.
pub fn integral_id<'de, D>(d: D) -> Result<Option<i64>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error;
    let Some(n) = <Option<serde_json::Number> as serde::Deserialize>::deserialize(d)? else {
        return Ok(None);
    };
    if let Some(i) = n.as_i64() {
        return Ok(Some(i));
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
        _ => Err(D::Error::custom(format!("id must be an integer, not {n}"))),
    }
}
