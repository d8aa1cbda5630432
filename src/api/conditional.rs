//! Conditional requests: `ETag` on the reads of a single SIM or MVNO account, `If-Match` on their
//! updates and deletes (checked by the store under the row lock; stale: 412 in the dialect's
//! envelope). Clients that send no `If-Match` (the emnify SDK) are not affected.
use crate::domain::etag::{etag, IfMatch};
use axum::extract::FromRequestParts;
use axum::http::header::{ETAG, IF_MATCH};
use axum::http::request::Parts;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};

/// The request's `If-Match`, if any.
pub struct IfMatchHeader(pub Option<IfMatch>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatchHeader {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(IfMatchHeader(parts.headers.get(IF_MATCH).map(|v| {
            // A header that is not text matches nothing.
            IfMatch::parse(v.to_str().unwrap_or("\"invalid\""))
        })))
    }
}

/// `body` with the `ETag` of the row version it shows.
pub fn tagged(version: i64, body: impl IntoResponse) -> Response {
    let mut res = body.into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(version)) {
        res.headers_mut().insert(ETAG, v);
    }
    res
}
