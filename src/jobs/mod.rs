//! Background work, stopped by the server's shutdown token.
pub mod maintenance;
pub mod purge;
pub mod quotas;
pub mod sms;

use crate::state::AppState;
use std::future::Future;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Starts every background job; each stops when `shutdown` is cancelled.
pub fn spawn_all(
    state: &AppState,
    shutdown: &CancellationToken,
) -> Vec<tokio::task::JoinHandle<()>> {
    vec![
        tokio::spawn(purge::run(state.clone(), shutdown.clone())),
        tokio::spawn(maintenance::run(state.clone(), shutdown.clone())),
        tokio::spawn(quotas::run(state.clone(), shutdown.clone())),
        tokio::spawn(sms::run(state.clone(), shutdown.clone())),
    ]
}

/// Runs `pass` now and then every `every` until `shutdown`; a failed pass is retried at the next one.
async fn every<F, Fut>(every: Duration, shutdown: CancellationToken, mut pass: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    loop {
        pass().await;
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}
