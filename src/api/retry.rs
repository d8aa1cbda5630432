//! Transient database errors are met by running the request again, here, once for every route: a
//! transaction that lost a race (deadlock, serialization failure, SQLite busy) wrote nothing, so the
//! whole request runs again, up to [`ATTEMPTS`] times with jittered backoff; a read whose connection
//! failed runs once more (on a fresh connection: the failed one was closed). Only when that does not
//! help does the client see 503 with `Retry-After`. Every handler writes in one transaction, so a
//! request that failed this way had no effect and may run again.
use crate::error::{AppError, ErrorSlot, Retry};
use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tower::{Layer, Service, ServiceExt};

/// Runs of one request at most when its transaction keeps losing races.
pub const ATTEMPTS: u32 = 6;

#[derive(Clone)]
pub struct RetryLayer {
    /// The body is kept to run the request again; larger bodies are refused (413) as the limit
    /// layer would.
    pub body_limit: usize,
}

impl<S> Layer<S> for RetryLayer {
    type Service = RetryService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RetryService {
            inner,
            body_limit: self.body_limit,
        }
    }
}

#[derive(Clone)]
pub struct RetryService<S> {
    inner: S,
    body_limit: usize,
}

/// Whether the answer asks for another run, given the run it came from.
fn again(res: &Response, method: &Method, attempt: u32) -> bool {
    let retry = res
        .extensions()
        .get::<ErrorSlot>()
        .and_then(|slot| match &*slot.0 {
            AppError::Unavailable { retry, .. } => Some(*retry),
            _ => None,
        });
    match retry {
        Some(Retry::Transaction) => attempt < ATTEMPTS,
        Some(Retry::Read) => (method == Method::GET || method == Method::HEAD) && attempt < 2,
        _ => false,
    }
}

/// 5–25 ms, then longer with each attempt: racing transactions spread out.
fn backoff(attempt: u32) -> Duration {
    let base = 5 * u64::from(attempt);
    Duration::from_millis(base + rand::random::<u64>() % (base * 4 + 1))
}

impl<S> Service<Request> for RetryService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let inner = self.inner.clone();
        let limit = self.body_limit;
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let Ok(bytes) = to_bytes(body, limit).await else {
                let too_large = super::envelope::rejection(StatusCode::PAYLOAD_TOO_LARGE, "");
                return Ok(too_large.into_response());
            };
            let mut attempt = 1;
            loop {
                let req = Request::from_parts(parts.clone(), Body::from(bytes.clone()));
                let res = inner.clone().oneshot(req).await?;
                if !again(&res, &parts.method, attempt) {
                    return Ok(res);
                }
                metrics::counter!("simgate_request_retries_total").increment(1);
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(retry: Retry) -> Response {
        AppError::Unavailable {
            message: "x".into(),
            retry,
        }
        .into_response()
    }

    #[test]
    fn lost_races_run_again_a_bounded_number_of_times_and_failed_reads_once() {
        let busy = answer(Retry::Transaction);
        assert!(again(&busy, &Method::POST, 1));
        assert!(again(&busy, &Method::POST, ATTEMPTS - 1));
        assert!(!again(&busy, &Method::POST, ATTEMPTS));
        let lost = answer(Retry::Read);
        assert!(again(&lost, &Method::GET, 1));
        assert!(!again(&lost, &Method::GET, 2));
        assert!(
            !again(&lost, &Method::POST, 1),
            "a write may have reached the database"
        );
        assert!(!again(&answer(Retry::No), &Method::GET, 1));
        assert!(!again(
            &AppError::access_denied().into_response(),
            &Method::GET,
            1
        ));
        assert!(backoff(1) <= Duration::from_millis(30) && backoff(5) >= Duration::from_millis(25));
    }
}
