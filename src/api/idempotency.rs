//! `Idempotency-Key` on every POST, PUT, PATCH and DELETE: the first request with a key runs and its
//! answer is kept (in the database, so every node agrees) for `http.idempotency_key_ttl_secs`; a
//! repeat of the same request gets that answer with `Idempotent-Replayed: true`, a different request
//! under the key is 422, a repeat while the first still runs is 409. Keys belong to the authenticated
//! user; requests that authenticate no one (login) pass through untouched.
//!
//! The first run is spawned, so a client that hangs up does not cancel it half-way: its answer is
//! still kept for the retry. Outside the retry and time-out layers: one key, one logical run.
use crate::domain::access::Principal;
use crate::domain::idempotency;
use crate::error::{AppError, ErrorSlot};
use crate::state::AppState;
use crate::store::{Claimed, IdempotencyClaim, StoredAnswer};
use axum::body::{to_bytes, Body};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// A run that has not finished this long after the request time-out was abandoned (its node
/// stopped); the key is then free again.
const ABANDONED_AFTER_SECS: i64 = 60;

pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let writes = matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let Some(raw) = req.headers().get(IDEMPOTENCY_KEY).filter(|_| writes) else {
        return next.run(req).await;
    };
    let key_hash = match idempotency::key_hash(raw.as_bytes()) {
        Ok(h) => h,
        Err(message) => {
            return AppError::BadRequest {
                code: "idempotency_key".into(),
                message: message.into(),
            }
            .into_response()
        }
    };
    let (mut parts, body) = req.into_parts();
    // The handler finds the principal in the extensions and does not authenticate again.
    let Ok(principal) = Principal::from_request_parts(&mut parts, &state).await else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let Ok(bytes) = to_bytes(body, state.config.http.body_limit_bytes).await else {
        return super::envelope::rejection(StatusCode::PAYLOAD_TOO_LARGE, "").into_response();
    };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let fingerprint = idempotency::fingerprint(parts.method.as_str(), path, &bytes);
    let http = &state.config.http;
    let at = state.now();
    let claim = IdempotencyClaim {
        user_id: principal.user_id,
        key_hash: &key_hash,
        fingerprint: &fingerprint,
        at,
        expired_before: at - http.idempotency_key_ttl(),
        abandoned_before: at
            - http.request_timeout()
            - chrono::Duration::seconds(ABANDONED_AFTER_SECS),
    };
    match state.store.idempotency_claim(&claim).await {
        Err(e) => AppError::from(e).into_response(),
        Ok(Claimed::Mismatch) => AppError::Http {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "idempotency_key_reused".into(),
            message: "This Idempotency-Key was used for a different request".into(),
        }
        .into_response(),
        Ok(Claimed::Running) => AppError::conflict(
            "idempotency_key_in_use",
            "A request with this Idempotency-Key is still running; retry later",
        )
        .into_response(),
        Ok(Claimed::Done(answer)) => replay(answer),
        Ok(Claimed::Started) => {
            let dialect = super::envelope::Dialect::for_path(parts.uri.path());
            let user_id = principal.user_id;
            let req = Request::from_parts(parts, Body::from(bytes));
            let run = async move {
                let mut res = next.run(req).await;
                // Rendered here, as the envelope would, so that what is kept is what was sent.
                if let Some(ErrorSlot(err)) = res.extensions_mut().remove::<ErrorSlot>() {
                    res = dialect.render(&err);
                }
                finish(&state, user_id, &key_hash, res).await
            };
            // In the request's span, so that its log lines keep the request id.
            let run = tokio::spawn(tracing::Instrument::instrument(
                run,
                tracing::Span::current(),
            ));
            run.await.unwrap_or_else(|_| {
                AppError::internal("idempotent request failed to complete").into_response()
            })
        }
    }
}

/// Keeps the answer (or gives the key up) and returns it to the client.
async fn finish(state: &AppState, user_id: i64, key_hash: &str, res: Response) -> Response {
    let (parts, body) = res.into_parts();
    let no_store = parts
        .headers
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("no-store"));
    // Answers are built in memory; an error here is a body that failed as it was produced.
    let bytes = match to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            release(state, user_id, key_hash).await;
            return AppError::internal(format!("answer body failed: {e}")).into_response();
        }
    };
    let status = parts.status.as_u16();
    if idempotency::keeps(status, no_store, bytes.len()) {
        let headers: Vec<(&str, &str)> = parts
            .headers
            .iter()
            .filter(|(name, _)| *name != header::CONTENT_LENGTH)
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
            .collect();
        let answer = StoredAnswer {
            status: i32::from(status),
            headers: serde_json::to_string(&headers).unwrap_or_else(|_| "[]".into()),
            body: bytes.to_vec(),
        };
        if let Err(e) = state
            .store
            .idempotency_finish(user_id, key_hash, Some(&answer))
            .await
        {
            // The request did run; its key stays claimed until it counts as abandoned.
            tracing::warn!(error = %e, "idempotency key answer not kept");
        }
    } else {
        release(state, user_id, key_hash).await;
    }
    Response::from_parts(parts, Body::from(bytes))
}

async fn release(state: &AppState, user_id: i64, key_hash: &str) {
    if let Err(e) = state
        .store
        .idempotency_finish(user_id, key_hash, None)
        .await
    {
        tracing::warn!(error = %e, "idempotency key not given up");
    }
}

fn replay(answer: StoredAnswer) -> Response {
    metrics::counter!("simgate_idempotent_replays_total").increment(1);
    let status = u16::try_from(answer.status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut res = (status, answer.body).into_response();
    let headers: Vec<(String, String)> = serde_json::from_str(&answer.headers).unwrap_or_default();
    let out = res.headers_mut();
    out.remove(header::CONTENT_TYPE);
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            out.append(name, value);
        }
    }
    out.insert(REPLAYED, HeaderValue::from_static("true"));
    res
}

/// Documents the header, and the answers it adds, on every authenticated write of the document.
pub fn document(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{ObjectBuilder, Required, Type};
    let param = ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Runs this request once per user and key: a repeat of the same request (method, path, \
             body) within `http.idempotency_key_ttl_secs` (default 24 h) gets the first answer again, \
             with `Idempotent-Replayed: true`. 1-255 visible ASCII characters, e.g. a UUID. Answers \
             that are 5xx or 429, or carry a credential, are not kept: a repeat runs again.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(idempotency::MAX_KEY_LEN))
                .pattern(Some("^[ -~]+$")),
        ))
        .build();
    let answer = |text: &str| utoipa::openapi::Response::new(text).into();
    for item in openapi.paths.paths.values_mut() {
        let writes = [
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for op in writes.into_iter().flatten() {
            if op.security.as_ref().is_none_or(Vec::is_empty) {
                continue;
            }
            op.parameters
                .get_or_insert_with(Vec::new)
                .push(param.clone());
            let responses = &mut op.responses.responses;
            responses.entry("400".into()).or_insert_with(|| {
                answer("idempotency_key: an Idempotency-Key that is not 1-255 visible characters")
            });
            responses.entry("409".into()).or_insert_with(|| {
                answer("idempotency_key_in_use: the first request with this Idempotency-Key is still running")
            });
            responses.entry("422".into()).or_insert_with(|| {
                answer(
                    "idempotency_key_reused: this Idempotency-Key was used for a different request",
                )
            });
        }
    }
}
