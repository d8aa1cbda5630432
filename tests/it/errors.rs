//! Every rejection is JSON in the envelope of its path prefix (DESIGN.md §5), per dialect.

use crate::common::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::routing::get;
use axum::Router;
use serde_json::json;
use tower::ServiceExt;

fn raw(method: Method, path: &str, content_type: Option<&str>, body: &str) -> Request<Body> {
    let mut r = Request::builder().method(method).uri(path);
    if let Some(ct) = content_type {
        r = r.header("content-type", ct);
    }
    r.body(Body::from(body.to_string())).unwrap()
}

backends!(
    telecomx_envelope_for_every_kind_of_rejection,
    tweak = |c| c.http.body_limit_bytes = 2048
);
async fn telecomx_envelope_for_every_kind_of_rejection(app: TestApp) {
    let token = app.admin_token().await;
    let authed = |mut r: Request<Body>| {
        r.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        r
    };
    // Malformed JSON.
    app.send(raw(
        Method::POST,
        "/auth/login",
        Some("application/json"),
        "{nope",
    ))
    .await
    .assert_telecomx_error(400, "bad_request");
    // Wrong content type.
    app.send(raw(Method::POST, "/auth/login", Some("text/plain"), "{}"))
        .await
        .assert_telecomx_error(415, "content_type");
    // A JSON value of the wrong type names the field.
    app.send(raw(
        Method::POST,
        "/auth/login",
        Some("application/json"),
        r#"{"username": 5, "password": "x"}"#,
    ))
    .await
    .assert_telecomx_error(422, "username");
    // Bad query string.
    app.send(raw(Method::GET, "/auth/login?persist=maybe", None, ""))
        .await
        .assert_telecomx_error(400, "bad_request");
    app.send(authed(raw(
        Method::GET,
        "/admin/v1/organisations?limit=abc",
        None,
        "",
    )))
    .await
    .assert_telecomx_error(422, "limit");
    // Unknown route, wrong method.
    app.send(raw(Method::GET, "/no/such/route", None, ""))
        .await
        .assert_telecomx_error(404, "not_found");
    app.send(raw(Method::PUT, "/auth/login", None, ""))
        .await
        .assert_telecomx_error(405, "method_not_allowed");
    // Body over the limit, with and without a content length.
    let big = json!({"username": "x".repeat(4096), "password": "y"}).to_string();
    app.send(raw(
        Method::POST,
        "/auth/login",
        Some("application/json"),
        &big,
    ))
    .await
    .assert_telecomx_error(413, "payload_too_large");
    let stream = Body::from_stream(futures_stream(big.clone()));
    let req = Request::post("/auth/login")
        .header("content-type", "application/json")
        .body(stream)
        .unwrap();
    app.send(req)
        .await
        .assert_telecomx_error(413, "payload_too_large");
    // Admin API uses the TelecomX envelope too.
    app.send(raw(Method::GET, "/admin/v1/nothing", None, ""))
        .await
        .assert_telecomx_error(404, "not_found");
}

fn futures_stream(
    s: String,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        s.into_bytes().chunks(512).map(|c| Ok(c.to_vec())).collect();
    tokio_stream::iter(chunks)
}

backends!(
    emnify_envelope_for_every_kind_of_rejection,
    tweak = |c| c.http.body_limit_bytes = 2048
);
async fn emnify_envelope_for_every_kind_of_rejection(app: TestApp) {
    app.send(raw(
        Method::POST,
        "/api/v1/authenticate",
        Some("application/json"),
        "{nope",
    ))
    .await
    .assert_emnify_error(400, 1000);
    app.send(raw(Method::GET, "/api/v1/no/such/route", None, ""))
        .await
        .assert_emnify_error(404, 1201);
    app.send(raw(Method::DELETE, "/api/v1/authenticate", None, ""))
        .await
        .assert_emnify_error(405, 1000);
    let big = json!({"application_token": "x".repeat(4096)}).to_string();
    app.send(raw(
        Method::POST,
        "/api/v1/authenticate",
        Some("application/json"),
        &big,
    ))
    .await
    .assert_emnify_error(413, 1000);
    // 401s on a protected emnify route are 1102 / 1103.
    let r = app
        .request(Method::GET, "/api/v1/no/such/route", Some("sg_bad"), None)
        .await;
    r.assert_emnify_error(404, 1201);
}

/// The production layers around a slow route; time is paused, so the timeout fires at once. A
/// request the server could not finish in time is 503 with Retry-After (the client did nothing wrong).
#[tokio::test(start_paused = true)]
async fn timeouts_answer_json_503_with_retry_after() {
    let mut config = test_config();
    config.http.request_timeout_secs = 1;
    let slow = || async {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        "too late"
    };
    let app = simgate::api::with_layers(
        Router::new()
            .route("/slow", get(slow))
            .route("/api/v1/slow", get(slow)),
        &config.http,
    );
    for (path, emnify) in [("/slow", false), ("/api/v1/slow", true)] {
        let res = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(res.headers().contains_key("retry-after"));
        let bytes = http_body_util::BodyExt::collect(res.into_body())
            .await
            .unwrap()
            .to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        if emnify {
            assert_eq!(body["error_code"], 1503);
        } else {
            assert_eq!(body["error"]["code"], "unavailable");
        }
    }
}

#[tokio::test]
async fn panics_answer_json_500_without_internals() {
    let config = test_config();
    let boom = || async {
        if std::hint::black_box(true) {
            panic!("secret internal detail");
        }
        "unreachable"
    };
    let app = simgate::api::with_layers(
        Router::new()
            .route("/boom", get(boom))
            .route("/api/v1/boom", get(boom)),
        &config.http,
    );
    for (path, emnify) in [("/boom", false), ("/api/v1/boom", true)] {
        let res = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let bytes = http_body_util::BodyExt::collect(res.into_body())
            .await
            .unwrap()
            .to_bytes();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("secret internal detail"), "{text}");
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        if emnify {
            assert_eq!(body["error_code"], 1500);
        } else {
            assert_eq!(body["error"]["code"], "internal_error");
        }
    }
}
