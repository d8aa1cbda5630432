//! Typed request bodies. Every body is parsed into its DTO by serde through `serde_path_to_error`, so
//! a value the DTO refuses is 422 naming the field (the last segment of its path) and saying why,
//! malformed JSON is 400, and no handler sees raw bytes or untyped JSON.
//!
//! - [`Body`]: a JSON body (`Content-Type: application/json` or `+json`, else 415).
//! - [`Lenient`]: the emnify routes, whose clients differ in what they send: any content type, and an
//!   empty body or `null` is the DTO's default.
//! - [`Records`]: a JSON array or NDJSON, each record parsed on its own and refused on its own.
use crate::api::envelope::rejection;
use crate::error::{AppError, AppResult};
use axum::body::Bytes;
use axum::extract::{FromRequest, OptionalFromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

/// A JSON request body of type `T`.
pub struct Body<T>(pub T);

/// A request body of type `T` in any content type; empty or `null`: `T::default()`.
pub struct Lenient<T>(pub T);

/// The records of a JSON array or of NDJSON, each parsed into `T` or refused with its reason.
pub struct Records<T>(pub Vec<Result<T, String>>);

/// `application/json` or `application/*+json`, parameters aside.
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

async fn bytes<S: Send + Sync>(req: Request, state: &S) -> AppResult<Bytes> {
    Bytes::from_request(req, state)
        .await
        .map_err(|e| rejection(e.status(), &e.body_text()))
}

/// Parses a JSON document into `T`, naming the field a refusal is about.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> AppResult<T> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(refusal)
}

fn refusal(e: serde_path_to_error::Error<serde_json::Error>) -> AppError {
    use serde_json::error::Category;
    let path = e.path().to_string();
    let inner = e.inner();
    match inner.classify() {
        Category::Data => {
            let message = inner.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message);
            let field = field_of(&path, message);
            let message = if path == "." {
                message.to_string()
            } else {
                format!("{path}: {message}")
            };
            AppError::invalid(field, message)
        }
        _ => AppError::bad_request(format!("Malformed JSON body: {inner}")),
    }
}

/// The field a refusal names: the last identifier of its path, or for a field missing from (or unknown
/// to) an object, that field; else `body`.
fn field_of(path: &str, message: &str) -> String {
    let ident = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
    ["missing field `", "unknown field `"]
        .iter()
        .find_map(|m| message.split_once(m).and_then(|(_, r)| r.split('`').next()))
        .filter(|f| ident(f))
        .or_else(|| {
            path.rsplit('.')
                .find(|s| ident(s) && !s.chars().all(|c| c.is_ascii_digit()))
        })
        .unwrap_or("body")
        .to_string()
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> AppResult<Self> {
        if !json_content_type(req.headers()) {
            return Err(rejection(StatusCode::UNSUPPORTED_MEDIA_TYPE, ""));
        }
        Ok(Body(parse(&bytes(req, state).await?)?))
    }
}

/// An optional JSON body: absent when the request names no content type.
impl<S: Send + Sync, T: DeserializeOwned> OptionalFromRequest<S> for Body<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> AppResult<Option<Self>> {
        if !req.headers().contains_key(header::CONTENT_TYPE) {
            return Ok(None);
        }
        <Body<T> as FromRequest<S>>::from_request(req, state)
            .await
            .map(Some)
    }
}

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for Lenient<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> AppResult<Self> {
        let body = bytes(req, state).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Lenient(T::default()));
        }
        let value: Option<T> = parse(&body)?;
        Ok(Lenient(value.unwrap_or_default()))
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Records<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> AppResult<Self> {
        let body = bytes(req, state).await?;
        let text = std::str::from_utf8(&body)
            .map_err(|_| AppError::bad_request("the body must be UTF-8"))?;
        if text.trim_start().starts_with('[') {
            let all: Vec<serde_json::Value> = serde_json::from_str(text)
                .map_err(|e| AppError::bad_request(format!("Malformed JSON array: {e}")))?;
            return Ok(Records(all.into_iter().map(record).collect()));
        }
        let lines = text.lines().filter(|l| !l.trim().is_empty());
        let parsed = lines.map(|l| {
            serde_json::from_str(l)
                .map_err(|e| format!("not JSON: {e}"))
                .and_then(record)
        });
        Ok(Records(parsed.collect()))
    }
}

/// One record: a NUL character anywhere refuses it (no database stores it alike), then its type.
fn record<T: DeserializeOwned>(v: serde_json::Value) -> Result<T, String> {
    if let Some(path) = crate::api::hostile::nul_path(&v) {
        return Err(format!("{path} contains a NUL character"));
    }
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            e.inner().to_string()
        } else {
            format!("{path}: {}", e.inner())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Login {
        username: String,
        feature: Option<Feature>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Feature {
        data: bool,
    }

    fn code(r: AppResult<Login>) -> String {
        match r {
            Err(AppError::Invalid { code, .. }) => code.to_string(),
            Err(AppError::BadRequest { code, .. }) => format!("400 {code}"),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn refusals_name_the_field() {
        assert_eq!(code(parse(br#"{"username": 5}"#)), "username");
        assert_eq!(code(parse(br#"{}"#)), "username");
        assert_eq!(
            code(parse(br#"{"username": "a", "feature": {"data": 1}}"#)),
            "data"
        );
        assert_eq!(code(parse(br#"{"username": "a", "feature": {}}"#)), "data");
        assert_eq!(code(parse(b"{\"username\": ")), "400 bad_request");
        assert_eq!(code(parse(b"[1]")), "body");
    }

    #[test]
    fn records_are_refused_one_by_one() {
        let ok: Result<Feature, String> = record(serde_json::json!({"data": true}));
        assert!(ok.is_ok());
        let bad: Result<Feature, String> = record(serde_json::json!({"data": "x"}));
        assert!(bad.unwrap_err().starts_with("data: invalid type"));
        let nul: Result<Feature, String> = record(serde_json::json!({"data": "a\u{0}"}));
        assert!(nul.unwrap_err().contains("NUL"));
    }
}
