//! Input no backend stores alike, refused at the edge: a NUL character fails a Postgres text column
//! (a 500) and is stored silently by SQLite, so it never gets past this layer — in the URL (a
//! percent-encoded `%00` in a path segment or query value) or anywhere in a request body. The
//! ingest routes take records one by one and reject only the record that carries one.
use crate::error::AppError;
use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// Routes that read records one by one and reject a record with a NUL on its own.
const PER_RECORD: [&str; 2] = ["/admin/v1/usage", "/admin/v1/events"];

pub async fn reject_nul(req: Request, next: Next) -> Response {
    let uri = req.uri();
    let raw = uri.path_and_query().map_or("", |pq| pq.as_str());
    if has_percent_nul(raw) {
        return AppError::bad_request("The URL contains a NUL character (%00)").into_response();
    }
    let has_body = matches!(
        *req.method(),
        Method::POST | Method::PATCH | Method::PUT | Method::DELETE
    );
    if !has_body || PER_RECORD.contains(&uri.path()) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(_) => {
            return super::envelope::rejection(StatusCode::PAYLOAD_TOO_LARGE, "").into_response()
        }
    };
    if let Some(err) = body_nul(&bytes) {
        return err.into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn has_percent_nul(s: &str) -> bool {
    s.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

/// A raw NUL byte (400), or a JSON `\u0000` escape (422 naming the field when the body is JSON).
fn body_nul(bytes: &[u8]) -> Option<AppError> {
    if bytes.contains(&0) {
        return Some(AppError::bad_request("The body contains a NUL byte"));
    }
    if !has_nul_escape(bytes) {
        return None;
    }
    let field = serde_json::from_slice::<Value>(bytes)
        .ok()
        .and_then(|v| nul_path(&v))
        .unwrap_or_else(|| "body".to_string());
    let name = field.rsplit('.').next().unwrap_or("body").to_string();
    Some(AppError::invalid(
        name,
        format!("{field} must not contain a NUL character"),
    ))
}

/// `\u0000` preceded by an odd number of backslashes (an even number is an escaped backslash
/// followed by the text `u0000`).
fn has_nul_escape(bytes: &[u8]) -> bool {
    let needle = b"\\u0000";
    bytes.windows(needle.len()).enumerate().any(|(i, w)| {
        w == needle
            && bytes[..=i]
                .iter()
                .rev()
                .take_while(|b| **b == b'\\')
                .count()
                % 2
                == 1
    })
}

/// The path (`a.b[2].c`) of the first string or key in `v` that holds a NUL character.
pub fn nul_path(v: &Value) -> Option<String> {
    fn walk(v: &Value, path: &mut String) -> bool {
        match v {
            Value::String(s) => s.contains('\0'),
            Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = walk(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            Value::Object(map) => map.iter().any(|(k, item)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&k.replace('\0', "\\u0000"));
                let found = k.contains('\0') || walk(item, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            _ => false,
        }
    }
    let mut path = String::new();
    walk(v, &mut path).then(|| {
        if path.is_empty() {
            "body".to_string()
        } else {
            path
        }
    })
}

/// The request path as logged: the secret segment of token routes is replaced.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    // `/employee/{id}/token/{token}` carries an API token in clear.
    match path.split_once("/token/") {
        Some((head, tail)) if head.starts_with("/employee/") && !tail.is_empty() => {
            format!("{head}/token/[redacted]").into()
        }
        _ => path.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nul_in_urls_and_bodies_is_found() {
        assert!(has_percent_nul("/api/v1/sim_batch/bic/a%00b"));
        assert!(has_percent_nul("/sim?filter=%00"));
        assert!(!has_percent_nul("/sim?filter=1000%20"));
        assert!(has_nul_escape(br#"{"a":"x\u0000"}"#));
        assert!(
            !has_nul_escape(br#"{"a":"x\\u0000"}"#),
            "an escaped backslash"
        );
        assert!(has_nul_escape(br#"{"a":"x\\\u0000"}"#));
        assert_eq!(
            nul_path(&json!({"feature": {"data": "a\u{0}"}})).as_deref(),
            Some("feature.data")
        );
        assert_eq!(
            nul_path(&json!({"sims": [{"iccid": "1"}, {"iccid": "\u{0}"}]})).as_deref(),
            Some("sims[1].iccid")
        );
        assert_eq!(nul_path(&json!({"ok": ["fine"]})), None);
        let e = body_nul(br#"{"username":"a\u0000"}"#).unwrap();
        assert_eq!((e.status().as_u16(), e.code()), (422, "username"));
        assert_eq!(body_nul(b"{\"a\":1}\0").unwrap().status().as_u16(), 400);
        assert!(body_nul(br#"{"a":"b"}"#).is_none());
    }

    #[test]
    fn token_segments_are_not_logged() {
        assert_eq!(
            loggable_path("/employee/5/token/abcdef"),
            "/employee/5/token/[redacted]"
        );
        assert_eq!(loggable_path("/employee/5/token"), "/employee/5/token");
        assert_eq!(loggable_path("/sim/123"), "/sim/123");
    }
}
