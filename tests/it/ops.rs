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

backends!(version_root_redirect_and_metrics_help);
async fn version_root_redirect_and_metrics_help(app: TestApp) {
    let v = app.request(Method::GET, "/version", None, None).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text);
    assert_eq!(v.body["version"], env!("CARGO_PKG_VERSION"));
    assert!(v.body.get("git_sha").is_none_or(|s| s.is_string()));
    let root = app.request(Method::GET, "/", None, None).await;
    assert!(root.status.is_redirection(), "{}", root.status);
    assert_eq!(root.headers["location"], "/docs");

    // A replayed write and a failed login are counted; the business gauges read the counters.
    let admin = app.admin_token().await;
    let imported = app
        .post(
            "/sim",
            &admin,
            serde_json::json!({"data": sim_lines(0, 3, "NANO", "TDC", false)}),
        )
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text);
    app.request(
        Method::POST,
        "/auth/login",
        None,
        Some(serde_json::json!({"username": "admin@localhost", "password": "wrong-password"})),
    )
    .await;
    let plan = serde_json::json!({"name": "metrics plan"});
    for _ in 0..2 {
        let req = axum::http::Request::post("/admin/v1/rate-plans")
            .header("authorization", format!("Bearer {admin}"))
            .header("content-type", "application/json")
            .header("idempotency-key", "metrics-replay-1")
            .body(axum::body::Body::from(plan.to_string()))
            .unwrap();
        app.send(req).await;
    }
    let m = app.request(Method::GET, "/metrics", None, None).await;
    assert_eq!(m.status, StatusCode::OK);
    let text = &m.text;
    // Every metric family has its HELP line.
    let families: std::collections::BTreeSet<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split(['{', ' ']).next().unwrap())
        .map(|n| {
            ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| n.strip_suffix(s))
                .unwrap_or(n)
        })
        .collect();
    for f in &families {
        assert!(
            text.contains(&format!("# HELP {f} ")),
            "no HELP line for {f}"
        );
    }
    let build_info = format!(
        r#"simgate_build_info{{version="{}""#,
        env!("CARGO_PKG_VERSION")
    );
    for needle in [
        build_info.as_str(),
        "process_resident_memory_bytes ",
        "process_open_fds ",
        "process_cpu_seconds_total ",
        "simgate_login_failures_total ",
        "simgate_idempotent_replays_total ",
        r#"simgate_sims_in_storage{network="TDC"}"#,
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
}

backends!(background_jobs_report_their_passes_in_the_metrics);
async fn background_jobs_report_their_passes_in_the_metrics(app: TestApp) {
    let shutdown = tokio_util::sync::CancellationToken::new();
    let jobs = simgate::jobs::spawn_all(&app.state, &shutdown);
    // Each job makes its first pass at once.
    let mut text = String::new();
    for _ in 0..100 {
        text = app.request(Method::GET, "/metrics", None, None).await.text;
        if text.contains(r#"simgate_job_runs_total{job="maintenance""#)
            && text.contains(r#"simgate_job_runs_total{job="mvno_purge""#)
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    shutdown.cancel();
    for j in jobs {
        j.await.unwrap();
    }
    for job in ["maintenance", "mvno_purge"] {
        for family in [
            "simgate_job_runs_total",
            "simgate_job_last_run_timestamp_seconds",
            "simgate_job_last_duration_seconds",
        ] {
            let needle = format!(r#"{family}{{job="{job}""#);
            assert!(text.contains(&needle), "{needle} missing:\n{text}");
        }
    }
}

/// The document is a contract clients generate code from: unique operation ids, 401 with the
/// dialect's error schema on every secured operation, an error schema on every error answer,
/// integer paging, the fields a create needs marked required.
#[test]
fn openapi_operations_are_unique_and_every_error_answer_has_its_schema() {
    let (_, doc) = simgate::api::routes();
    let doc: serde_json::Value = serde_json::from_str(&doc.to_json().unwrap()).unwrap();
    let mut ids = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_string()), "operationId {id} twice");
            let secured = op["security"].as_array().is_some_and(|s| {
                s.iter()
                    .all(|r| r.as_object().is_some_and(|o| !o.is_empty()))
            });
            let responses = op["responses"].as_object().unwrap();
            if secured {
                assert!(responses.contains_key("401"), "{method} {path}: no 401");
            }
            let error_schema = if path.starts_with("/api/") {
                "#/components/schemas/EmnifyError"
            } else {
                "#/components/schemas/TelecomXError"
            };
            for (status, answer) in responses {
                if status.starts_with('4') || (status.starts_with('5') && path != "/readyz") {
                    assert_eq!(
                        answer["content"]["application/json"]["schema"]["$ref"], error_schema,
                        "{method} {path} {status}"
                    );
                }
            }
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                if ["offset", "limit", "page", "per_page"].contains(&name) {
                    let t = &p["schema"]["type"];
                    assert!(
                        t == "integer"
                            || t.as_array().is_some_and(|a| a.contains(&"integer".into())),
                        "{method} {path} {name}: {t}"
                    );
                }
                assert!(
                    !(path == "/auth/validateToken" && p["in"] == "path"),
                    "validateToken's token is a query parameter"
                );
            }
        }
    }
    let schemas = &doc["components"]["schemas"];
    let required = |s: &str| {
        schemas[s]["required"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    for (schema, field) in [
        ("CreateAccountRequest", "customer"),
        ("CreateAccountRequest", "number"),
        ("CreateAccountRequest", "ratePlan"),
        ("ImportRequest", "data"),
        ("LoginRequest", "username"),
        ("LoginRequest", "password"),
    ] {
        assert!(
            required(schema).contains(&field.into()),
            "{schema}.{field} is not required"
        );
    }
    assert_eq!(
        schemas["UpdateAccountRequest"]["properties"]["socLimit"]["oneOf"][1]["$ref"],
        "#/components/schemas/SocLimit",
        "{}",
        schemas["UpdateAccountRequest"]["properties"]["socLimit"]
    );
}
