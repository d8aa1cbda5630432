//! Every `quota.check_secs`: expires endpoint quotas past their expiry date (status 3, events 60 /
//! 1018), and refills the `auto_refill` ones once a UTC day, from its first pass after 00:00
//! (events 56 / 58). Each quota changes in a transaction of its own under its row lock, so
//! concurrent runs on several nodes change each once.
use crate::state::AppState;
use crate::store::Actor;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The store expires at most this many a call.
const BATCH: u64 = 1000;

/// One pass: expires everything due now, then refills what is due today's refill. Returns how many
/// quotas changed.
pub async fn run_once(state: &AppState) -> Result<u64, crate::store::StoreError> {
    let now = state.now();
    let actor = Actor::system(now);
    let day = crate::domain::quota::day_start(now);
    let mut total = 0;
    loop {
        let n = state.store.quotas_expire(now, &actor).await?;
        total += n;
        if n < BATCH {
            break;
        }
    }
    loop {
        let n = state.store.quotas_refill(day, &actor).await?;
        total += n;
        if n < BATCH {
            return Ok(total);
        }
    }
}

pub async fn run(state: AppState, shutdown: CancellationToken) {
    let interval = Duration::from_secs(state.config.quota.check_secs.max(1));
    super::every(interval, shutdown, || async {
        let started = std::time::Instant::now();
        let result = run_once(&state).await;
        crate::api::metrics::job_pass("quota_expiry", started, result.is_ok());
        match result {
            Ok(0) => {}
            Ok(n) => tracing::info!(changed = n, "expired or refilled endpoint quotas"),
            Err(e) => tracing::warn!(error = %e, "quota expiry failed; retrying next interval"),
        }
    })
    .await;
}
