//! Background work, stopped by the server's shutdown token.
pub mod maintenance;
pub mod purge;

use crate::state::AppState;
use tokio_util::sync::CancellationToken;

/// Starts every background job; each stops when `shutdown` is cancelled.
pub fn spawn_all(
    state: &AppState,
    shutdown: &CancellationToken,
) -> Vec<tokio::task::JoinHandle<()>> {
    vec![
        tokio::spawn(purge::run(state.clone(), shutdown.clone())),
        tokio::spawn(maintenance::run(state.clone(), shutdown.clone())),
    ]
}
