//! Operations: health, readiness (down and back), metrics, request ids, CORS, OpenAPI and docs.

use crate::common::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};

backends!(health_and_readiness);
async fn health_and_readiness(app: TestApp) {
    let r = app.request(Method::GET, "/healthz", None, None).await;
    assert_eq!(
        (r.status, r.body.clone()),
        (StatusCode::OK, serde_json::json!({"status": "ok"}))
    );
    let r = app.request(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["checks"]["database"], "up");

    if app.backend == "postgres" {
        // The database drops every connection (as in a restart): the pool reconnects by itself.
        drop_all_connections(&app).await;
        let mut ready = false;
        for _ in 0..20 {
            if app.request(Method::GET, "/readyz", None, None).await.status == StatusCode::OK {
                ready = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(
            ready,
            "readiness recovers after the database dropped its connections"
        );
    }

    // Database gone: 503 with a JSON body naming the failed check.
    app.state.store.close().await;
    let r = app.request(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.body["status"], "unavailable");
    assert_eq!(r.body["checks"]["database"], "down");
    // Liveness does not depend on the database.
    assert_eq!(
        app.request(Method::GET, "/healthz", None, None)
            .await
            .status,
        StatusCode::OK
    );
}

backends!(metrics_count_requests_by_route_and_status);
async fn metrics_count_requests_by_route_and_status(app: TestApp) {
    app.request(Method::GET, "/healthz", None, None).await;
    app.request(Method::GET, "/auth/logout", None, None).await;
    let r = app.request(Method::GET, "/metrics", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert!(
        r.text
            .contains(r#"simgate_http_requests_total{method="GET",route="/healthz",status="200"}"#),
        "{}",
        r.text
    );
    assert!(
        r.text.contains(
            r#"simgate_http_requests_total{method="GET",route="/auth/logout",status="401"}"#
        ),
        "{}",
        r.text
    );
    assert!(
        r.text
            .contains("simgate_http_request_duration_seconds_bucket"),
        "{}",
        r.text
    );
    assert!(
        r.text
            .contains(r#"simgate_db_pool_connections{state="idle"}"#),
        "{}",
        r.text
    );
}

backends!(request_ids_are_generated_or_propagated_and_cors_exposes_paging_headers);
async fn request_ids_are_generated_or_propagated_and_cors_exposes_paging_headers(app: TestApp) {
    let r = app.request(Method::GET, "/healthz", None, None).await;
    let generated = r.headers["x-request-id"].to_str().unwrap();
    assert_eq!(generated.len(), 24);
    let req = Request::get("/healthz")
        .header("x-request-id", "abc-123")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(req).await.headers["x-request-id"], "abc-123");
    // Errors carry it too.
    let req = Request::get("/nope")
        .header("x-request-id", "req-404")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(req).await.headers["x-request-id"], "req-404");

    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri("/api/v1/authenticate")
        .header("origin", "https://portal.example")
        .header("access-control-request-method", "POST")
        .body(Body::empty())
        .unwrap();
    let r = app.send(preflight).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["access-control-allow-origin"], "*");
    let req = Request::get("/healthz")
        .header("origin", "https://portal.example")
        .body(Body::empty())
        .unwrap();
    let exposed = app.send(req).await.headers["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_string();
    for h in ["x-total-count", "x-total-pages", "link", "x-request-id"] {
        assert!(exposed.contains(h), "{exposed}");
    }
}

backends!(
    cors_origins_come_from_config,
    tweak = |c| c.http.cors_allowed_origins = vec!["https://ok.example".into()]
);
async fn cors_origins_come_from_config(app: TestApp) {
    let ask = |origin: &'static str| {
        Request::get("/healthz")
            .header("origin", origin)
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        app.send(ask("https://ok.example")).await.headers["access-control-allow-origin"],
        "https://ok.example"
    );
    assert!(app
        .send(ask("https://evil.example"))
        .await
        .headers
        .get("access-control-allow-origin")
        .is_none());
}

backends!(openapi_documents_every_route_and_docs_are_served_from_bundled_assets);
async fn openapi_documents_every_route_and_docs_are_served_from_bundled_assets(app: TestApp) {
    let r = app.request(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let paths = r.body["paths"].as_object().unwrap();
    let expected = [
        ("/auth/login", "post"),
        ("/auth/login", "get"),
        ("/auth/logout", "get"),
        ("/auth/validateToken", "get"),
        ("/employee/{id}/token", "post"),
        ("/employee/{id}/token/{token}", "delete"),
        ("/api/v1/authenticate", "post"),
        ("/admin/v1/organisations", "post"),
        ("/admin/v1/organisations", "get"),
        ("/admin/v1/organisations/{ref}", "get"),
        ("/admin/v1/organisations/{ref}", "patch"),
        ("/admin/v1/users", "post"),
        ("/admin/v1/users", "get"),
        ("/admin/v1/users/{ref}", "patch"),
        ("/admin/v1/users/{ref}/tokens", "post"),
        ("/admin/v1/users/{ref}/tokens", "get"),
        ("/admin/v1/tokens/{id}", "delete"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/sim", "get"),
        ("/sim", "post"),
        ("/sim/{icc}", "get"),
        ("/sim/status", "get"),
        ("/sim/simstatus", "get"),
        ("/sim/{icc}/assign", "get"),
        ("/sim/{icc}/assign", "post"),
        ("/mvno", "get"),
        ("/mvno", "post"),
        ("/mvno/{id}", "get"),
        ("/mvno/{id}", "post"),
        ("/mvno/{id}", "delete"),
        ("/mvno/deleted", "get"),
        ("/mvno/deleted/{id}", "get"),
        ("/mvno/deleted/{id}/restore", "post"),
        ("/mvno/{id}/changesim/{new}", "get"),
        ("/admin/v1/rate-plans", "get"),
        ("/admin/v1/rate-plans", "post"),
        ("/admin/v1/sim-models", "get"),
        ("/admin/v1/sim-models", "post"),
        ("/admin/v1/sim-batches", "post"),
        ("/admin/v1/usage", "post"),
        ("/admin/v1/events", "post"),
        ("/api/v1/sim", "get"),
        ("/api/v1/sim/status", "get"),
        ("/api/v1/sim/{sim_id}", "get"),
        ("/api/v1/sim/{sim_id}", "patch"),
        ("/api/v1/sim/{sim_id}", "delete"),
        ("/api/v1/sim/{sim_id}/event", "get"),
        ("/api/v1/sim/{sim_id}/stats", "get"),
        ("/api/v1/sim/{sim_id}/stats/daily", "get"),
        ("/api/v1/sim_batch/bic/{bic}", "get"),
        ("/api/v1/sim_batch/bic/{bic}", "patch"),
    ];
    for (path, method) in expected {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
    let schemas = r.body["components"]["schemas"].as_object().unwrap();
    for s in [
        "LoginResponse",
        "AuthenticateRequest",
        "OrgDto",
        "UserDto",
        "CreatedToken",
    ] {
        assert!(schemas.contains_key(s), "schema {s} missing");
    }
    let docs = app.request(Method::GET, "/docs", None, None).await;
    assert_eq!(docs.status, StatusCode::OK, "{}", docs.text);
    assert!(docs.text.contains("/openapi.json"), "{}", docs.text);
    assert!(
        docs.text.contains(r#"src="/docs/swagger-ui-bundle.js""#),
        "{}",
        docs.text
    );
    let bundle = app
        .request(Method::GET, "/docs/swagger-ui-bundle.js", None, None)
        .await;
    assert_eq!(bundle.status, StatusCode::OK);
    assert!(
        bundle.text.len() > 100_000,
        "the bundled Swagger UI script is served"
    );
}

/// The OpenAPI document as committed: every change to a route, a parameter or a schema shows up in
/// review as a change to tests/it/snapshots/openapi.json. After an intended change, write the new
/// document with `SIMGATE_UPDATE_SNAPSHOTS=1 cargo test openapi_matches` and commit it.
#[test]
fn openapi_matches_its_snapshot() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/snapshots/openapi.json");
    let (_, doc) = simgate::api::routes();
    let now = doc.to_pretty_json().unwrap() + "\n";
    if std::env::var_os("SIMGATE_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &now).unwrap();
        return;
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    if kept != now {
        let first = kept
            .lines()
            .zip(now.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(kept.lines().count().min(now.lines().count()));
        let show = |text: &str| {
            text.lines()
                .skip(first.saturating_sub(3))
                .take(8)
                .collect::<Vec<_>>()
                .join("\n")
        };
        panic!(
            "the OpenAPI document changed at line {}:\n--- snapshot\n{}\n--- now\n{}\n\
             If intended: SIMGATE_UPDATE_SNAPSHOTS=1 cargo test openapi_matches, and commit the file.",
            first + 1,
            show(&kept),
            show(&now)
        );
    }
}
