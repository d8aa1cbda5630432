//! HTTP: the two dialects, the admin API and the ops routes, with the layers they share.
pub mod admin;
pub mod body;
pub mod conditional;
pub mod contract;
pub mod emnify;
pub mod envelope;
pub mod hostile;
pub mod idempotency;
pub mod json;
pub mod metrics;
pub mod ops;
pub mod retry;
pub mod telecomx;

use crate::state::AppState;
use axum::http::{HeaderName, HeaderValue, Method, Request};
use axum::Router;
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(OpenApi)]
#[openapi(
    info(
        title = "simgate",
        description = "SIM inventory and MVNO subscription management: TelecomX-style routes at the root, \
                       emnify-style routes under /api/v1, the admin API under /admin/v1."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "telecomx", description = "TelecomX-style routes"),
        (name = "emnify", description = "emnify-style routes"),
        (name = "admin", description = "simgate's admin API"),
        (name = "ops", description = "Health, readiness, metrics, API docs"),
    )
)]
struct ApiDoc;

struct BearerAuth;
impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document as served: generated from the routes, then completed by `contract`. Kept as
/// JSON: utoipa's types cannot read back every schema they write (an "any value" schema, `{}`).
pub struct Document(pub serde_json::Value);

impl Document {
    pub fn to_json(&self) -> serde_json::Result<String> {
        serde_json::to_string(&self.0)
    }

    pub fn to_pretty_json(&self) -> serde_json::Result<String> {
        serde_json::to_string_pretty(&self.0)
    }
}

/// Every documented route, and the OpenAPI document describing exactly them.
pub fn routes() -> (Router<AppState>, Document) {
    let (router, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(telecomx::routes())
        .merge(emnify::routes())
        .merge(admin::routes())
        .merge(ops::routes())
        .split_for_parts();
    idempotency::document(&mut openapi);
    let mut doc = serde_json::to_value(&openapi).expect("the OpenAPI document serializes");
    contract::complete(&mut doc);
    (router, Document(doc))
}

#[derive(Clone, Default)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let id = hex::encode(rand::random::<[u8; 12]>());
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

pub fn router(state: AppState) -> Router {
    let (api, openapi) = routes();
    let http = state.config.http.clone();
    let app = api
        .fallback(envelope::fallback)
        .with_state(state.clone())
        .merge(ops::docs(openapi))
        .route_layer(metrics::RouteLabelLayer);
    let app = wrap(inner_layers(app, &http)).layer(axum::middleware::from_fn_with_state(
        state,
        idempotency::guard,
    ));
    outer_layers(app, &http)
}

/// The layers every route shares but idempotency keys (which need the state); public so tests can
/// wrap a router of their own in them.
pub fn with_layers(app: Router, http: &crate::config::HttpConfig) -> Router {
    outer_layers(wrap(inner_layers(app, http)), http)
}

/// A service as a router of its own (its one route is the fallback).
///
/// The shared layers wrap the router once, as one service, rather than through `Router::layer`,
/// which wraps every route in each layer, each in a box of its own: a request then cloned the boxes
/// below each layer it went through (hundreds of allocations for the dozen layers here). Measured
/// on GET /api/v1/endpoint/{id}: about a fifth less server time per request (BENCHMARKS.md).
fn wrap<S>(service: S) -> Router
where
    S: tower::Service<Request<axum::body::Body>, Error = std::convert::Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Response: axum::response::IntoResponse,
    S::Future: Send + 'static,
{
    Router::new().fallback_service(service)
}

/// From the inside out: NUL refusal, body limits, retries of transient database errors (inside the
/// time-out, so that it bounds them all), timeout, panic catcher; then (in `router`) idempotency
/// keys, outside the retries and the time-out, so that one key is one logical run however often it
/// is retried.
fn inner_layers(
    app: Router,
    http: &crate::config::HttpConfig,
) -> impl tower::Service<
    Request<axum::body::Body>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future: Send + 'static,
> + Clone
       + Send
       + Sync
       + 'static {
    use axum::response::IntoResponse;
    ServiceBuilder::new()
        .map_response(IntoResponse::into_response)
        .layer(CatchPanicLayer::custom(envelope::panic_response))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(http.request_timeout_secs),
        ))
        .layer(retry::RetryLayer {
            body_limit: http.body_limit_bytes,
        })
        .map_response(IntoResponse::into_response)
        .layer(RequestBodyLimitLayer::new(http.body_limit_bytes))
        .map_request(|req: Request<_>| req.map(axum::body::Body::new))
        .layer(axum::extract::DefaultBodyLimit::max(http.body_limit_bytes))
        .layer(axum::middleware::from_fn(hostile::reject_nul))
        .service(app)
}

/// From the inside out: CORS, the JSON envelope (sees every error above), metrics, tracing, request id.
fn outer_layers(app: Router, http: &crate::config::HttpConfig) -> Router {
    metrics::handle();
    let cors = {
        let origins = &http.cors_allowed_origins;
        let allow = if origins.iter().any(|o| o == "*") {
            AllowOrigin::any()
        } else {
            AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
        };
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PATCH,
                Method::PUT,
                Method::DELETE,
                Method::OPTIONS,
            ])
            .allow_headers(Any)
            .expose_headers(
                [
                    "x-request-id",
                    "x-total-count",
                    "x-total-pages",
                    "x-current-page",
                    "x-count-per-page",
                    "x-sort",
                    "link",
                    "etag",
                    "idempotent-replayed",
                ]
                .map(HeaderName::from_static),
            )
    };
    use axum::response::IntoResponse;
    wrap(
        ServiceBuilder::new()
            .map_response(IntoResponse::into_response)
            .layer(SetRequestIdLayer::new(REQUEST_ID, RandomRequestId))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                let path = hostile::loggable_path(req.uri().path());
                tracing::info_span!("request", method = %req.method(), path = %path, request_id = %id)
            }))
            .map_response(IntoResponse::into_response)
            .layer(axum::middleware::from_fn(metrics::track))
            .layer(axum::middleware::from_fn(envelope::envelope))
            .layer(cors)
            .service(app),
    )
}
