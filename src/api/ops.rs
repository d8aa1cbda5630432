//! Liveness, readiness, metrics and the API documentation.
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(version))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    status: &'static str,
    checks: Checks,
}

#[derive(Serialize, ToSchema)]
pub struct Checks {
    database: &'static str,
}

/// Liveness: the process is up and serving.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Readiness: the database answers. 503 while it does not; the pool reconnects by itself.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
async fn readyz(State(state): State<AppState>) -> Response {
    let ok = matches!(
        tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await,
        Ok(Ok(()))
    );
    let (status, code, db) = if ok {
        (StatusCode::OK, "ready", "up")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable", "down")
    };
    (
        status,
        Json(Readiness {
            status: code,
            checks: Checks { database: db },
        }),
    )
        .into_response()
}

/// The running version (no authentication: it is in the banner and the metrics too).
#[utoipa::path(get, path = "/version", tag = "ops", responses((status = 200, body = crate::banner::Version)))]
async fn version() -> Json<crate::banner::Version> {
    Json(crate::banner::Version::current())
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
async fn metrics(State(state): State<AppState>) -> Response {
    let pool = state.store.pool_stats();
    metrics::gauge!("simgate_db_pool_connections", "state" => "idle").set(pool.idle as f64);
    metrics::gauge!("simgate_db_pool_connections", "state" => "busy")
        .set(pool.size.saturating_sub(pool.idle) as f64);
    super::metrics::record_process();
    super::metrics::record_business(&state).await;
    let body = super::metrics::handle().render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// `/openapi.json` and the Swagger UI at `/docs`, from assets compiled into the binary.
pub fn docs(openapi: super::Document) -> Router {
    let spec = std::sync::Arc::new(openapi.to_json().expect("OpenAPI serializes"));
    let ui = swagger_ui_dist::ApiDefinition {
        uri_prefix: "/docs",
        api_definition: swagger_ui_dist::OpenApiSource::Uri("/openapi.json"),
        title: Some("simgate API"),
    };
    Router::new()
        .route(
            "/",
            get(|| async { axum::response::Redirect::temporary("/docs") }),
        )
        .route(
            "/openapi.json",
            get(move || {
                let spec = spec.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        spec.as_str().to_owned(),
                    )
                }
            }),
        )
        .merge(swagger_ui_dist::generate_routes(ui))
}
