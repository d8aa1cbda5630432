//! Every error leaves in the envelope of the dialect its path belongs to: `/api/v1/...` is
//! emnify, everything else TelecomX. This also catches what never reached a handler (unknown
//! route, wrong method, extractor rejections, body limit, timeout, panic) and turns axum's plain
//! text into JSON.
use crate::error::{AppError, ErrorSlot, Invalid, Retry};
use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    TelecomX,
    Emnify,
}

impl Dialect {
    pub fn for_path(path: &str) -> Dialect {
        if path == "/api" || path.starts_with("/api/") {
            Dialect::Emnify
        } else {
            Dialect::TelecomX
        }
    }

    pub fn body(self, err: &AppError) -> Value {
        match self {
            Dialect::TelecomX => telecomx_body(err),
            Dialect::Emnify => emnify_body(err),
        }
    }

    pub fn render(self, err: &AppError) -> Response {
        if let AppError::Internal(cause) = err {
            tracing::error!(cause = %cause, "internal error");
        }
        let mut res = (err.status(), axum::Json(self.body(err))).into_response();
        if err.status() == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        let retry_after = match err {
            AppError::Throttled { retry_after_secs } => Some(*retry_after_secs),
            AppError::Unavailable { retry, .. } => {
                Some(if *retry == Retry::Transaction { 1 } else { 2 })
            }
            _ => None,
        };
        if let Some(secs) = retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

fn telecomx_body(err: &AppError) -> Value {
    json!({"error": {"code": err.code(), "message": err.public_message(), "status": err.status().as_u16()}})
}

fn emnify_body(err: &AppError) -> Value {
    use crate::error::AuthFailure::*;
    let message = err.public_message();
    let (code, token) = match err {
        AppError::Unauthenticated(Credentials) => (1101, "InvalidCredentials"),
        AppError::Unauthenticated(Expired) => (1103, "TokenExpired"),
        AppError::Unauthenticated(_) => (1102, "InvalidToken"),
        AppError::BadRequest { .. } => (1000, "BadRequest"),
        AppError::Forbidden { .. } => (1104, "Forbidden"),
        AppError::NotFound { code, .. } if code == "unavailable" => (1601, "Unavailable"),
        AppError::NotFound { .. } => (1201, "NotFound"),
        AppError::Conflict { code, .. } if code == "duplicated" => (1405, "Duplicated"),
        AppError::Conflict { .. } => (1409, "Conflict"),
        AppError::Invalid {
            kind,
            code: field,
            message: msg,
        } => {
            let entry = problem(*kind, field, msg);
            return if matches!(kind, Invalid::Value | Invalid::Required) {
                validation_failed(vec![entry])
            } else {
                entry
            };
        }
        AppError::Problems(all) => {
            let entries = all
                .iter()
                .map(|p| match p {
                    AppError::Invalid {
                        kind,
                        code: field,
                        message: msg,
                    } => problem(*kind, field, msg),
                    other => emnify_body(other),
                })
                .collect();
            return validation_failed(entries);
        }
        AppError::Unavailable { .. } => (1503, "ServiceUnavailable"),
        AppError::Throttled { .. } => (1105, "TooManyRequests"),
        AppError::Internal(_) => (1500, "InternalServerError"),
        AppError::Http { status, .. } => match *status {
            StatusCode::BAD_REQUEST => (1000, "BadRequest"),
            StatusCode::NOT_FOUND => (1201, "NotFound"),
            StatusCode::METHOD_NOT_ALLOWED => (1000, "MethodNotAllowed"),
            StatusCode::PAYLOAD_TOO_LARGE => (1000, "PayloadTooLarge"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (1000, "UnsupportedMediaType"),
            StatusCode::REQUEST_TIMEOUT => (1000, "RequestTimeout"),
            StatusCode::TOO_MANY_REQUESTS => (1105, "TooManyRequests"),
            StatusCode::PRECONDITION_FAILED => (1412, "PreconditionFailed"),
            StatusCode::UNPROCESSABLE_ENTITY => (1422, "UnprocessableEntity"),
            s if s.is_server_error() => (1500, "InternalServerError"),
            _ => (1000, "BadRequest"),
        },
    };
    json!({"error_code": code, "error_token": token, "message": message})
}

/// One invalid value as emnify reports it: a value's or a required field's problem names the field
/// in its message (it goes inside a 1400); the others stand alone or inside one.
fn problem(kind: Invalid, field: &str, msg: &str) -> Value {
    let (code, token, message) = match kind {
        Invalid::Value => (1403, "InvalidFormat", format!("{field} - {msg}")),
        Invalid::Required => (1402, "Required", format!("{field} - {msg}")),
        Invalid::Format => (1403, "InvalidFormat", msg.to_string()),
        Invalid::Reference => (1401, "InvalidReference", msg.to_string()),
        Invalid::Query => (1301, "InvalidQueryCriteria", msg.to_string()),
        Invalid::Sort => (1302, "InvalidSortCriteria", msg.to_string()),
    };
    json!({"error_code": code, "error_token": token, "message": message})
}

/// 422 1400 with every problem of the body.
fn validation_failed(errors: Vec<Value>) -> Value {
    json!({"error_code": 1400, "error_token": "InputValidationFailed", "message": "Input validation failed",
           "errors": errors})
}

/// The middleware. Outermost of the error-producing layers so it sees all of them.
pub async fn envelope(req: Request, next: Next) -> Response {
    let dialect = Dialect::for_path(req.uri().path());
    let mut res = next.run(req).await;
    if let Some(ErrorSlot(err)) = res.extensions_mut().remove::<ErrorSlot>() {
        return dialect.render(&err);
    }
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(&res) {
        return res;
    }
    let (_, body) = res.into_parts();
    let text = to_bytes(body, 16 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    dialect.render(&rejection(status, &text))
}

fn is_json(res: &Response) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json") || ct.contains("+json"))
}

/// An error produced outside a handler, from its status and axum's text.
pub fn rejection(status: StatusCode, text: &str) -> AppError {
    let text = text.trim();
    let message = |fallback: &'static str| {
        if text.is_empty() {
            fallback.to_string()
        } else {
            text.to_string()
        }
    };
    let (code, message): (String, String) = match status {
        StatusCode::BAD_REQUEST => ("bad_request".into(), message("Malformed request")),
        StatusCode::NOT_FOUND => ("not_found".into(), message("Not found")),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed".into(),
            message("Method not allowed on this route"),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => {
            ("payload_too_large".into(), "Request body too large".into())
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "content_type".into(),
            message("Expected Content-Type: application/json"),
        ),
        StatusCode::REQUEST_TIMEOUT => ("timeout".into(), "Request timed out".into()),
        // The request time-out: the server could not answer in time; the client may retry.
        StatusCode::SERVICE_UNAVAILABLE => {
            return AppError::Unavailable {
                message: "The request timed out on the server; retry later".into(),
                retry: Retry::No,
            }
        }
        StatusCode::UNPROCESSABLE_ENTITY => {
            // Bodies are parsed by `api::body`, which names the field; this is any other refusal.
            return AppError::invalid("body", message("Invalid request body"));
        }
        s if s.is_server_error() => return AppError::internal(format!("{s}: {text}")),
        _ => ("bad_request".into(), message("Request rejected")),
    };
    AppError::Http {
        status,
        code: code.into(),
        message: message.into(),
    }
}

/// Unknown routes.
pub async fn fallback(req: Request<Body>) -> AppError {
    AppError::not_found(
        "not_found",
        format!("No route for {} {}", req.method(), req.uri().path()),
    )
}

/// Panics become a 500 with nothing internal in the body; the cause goes to the log.
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into());
    AppError::internal(format!("panic: {detail}")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialect_follows_the_path_prefix() {
        assert_eq!(Dialect::for_path("/api/v1/sim"), Dialect::Emnify);
        assert_eq!(Dialect::for_path("/sim/status"), Dialect::TelecomX);
        assert_eq!(Dialect::for_path("/admin/v1/users"), Dialect::TelecomX);
        assert_eq!(Dialect::for_path("/apiary"), Dialect::TelecomX);
    }

    #[test]
    fn an_unprocessable_rejection_is_a_body_refusal() {
        let e = rejection(StatusCode::UNPROCESSABLE_ENTITY, "something refused");
        assert_eq!(e.code(), "body");
        assert_eq!(Dialect::Emnify.body(&e)["errors"][0]["error_code"], 1403);
    }

    #[test]
    fn internal_errors_say_nothing_internal() {
        let e = AppError::internal("connection refused to 10.0.0.5 password=x");
        let body = Dialect::TelecomX.body(&e).to_string();
        assert!(!body.contains("10.0.0.5") && !body.contains("password"));
        assert_eq!(
            Dialect::TelecomX.body(&e)["error"]["code"],
            "internal_error"
        );
    }
}
