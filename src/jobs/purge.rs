//! Removes MVNO accounts whose recovery window has ended: number released, SIM retired, personal
//! fields erased. Row locks (SKIP LOCKED on Postgres) make concurrent runs on several nodes safe.
use crate::state::AppState;
use crate::store::Actor;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const BATCH: i64 = 500;

/// One pass: purges everything due now, batch by batch. Returns how many accounts were purged.
pub async fn run_once(state: &AppState) -> Result<usize, crate::store::StoreError> {
    let mut total = 0;
    loop {
        let n = state
            .store
            .mvno_purge_due(&Actor::system(state.now()), BATCH)
            .await?;
        total += n;
        if n < BATCH as usize {
            return Ok(total);
        }
    }
}

/// Runs a pass every `mvno.purge_interval_secs` until `shutdown`.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    let interval = Duration::from_secs(state.config.mvno.purge_interval_secs.max(1));
    super::every(interval, shutdown, || async {
        let started = std::time::Instant::now();
        let result = run_once(&state).await;
        crate::api::metrics::job_pass("mvno_purge", started, result.is_ok());
        match result {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                purged = n,
                "purged MVNO accounts past their recovery window"
            ),
            Err(e) => tracing::warn!(error = %e, "MVNO purge failed; retrying next interval"),
        }
    })
    .await;
}
