//! Expires SMS still waiting past their expiry date (status 6, event 1014), every
//! `sms.expiry_check_secs`. Each in a transaction of its own under its row lock: concurrent runs on
//! several nodes expire each once.
use crate::state::AppState;
use crate::store::Actor;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The store expires at most this many a call.
const BATCH: u64 = 1000;

/// One pass: expires everything due now. Returns how many SMS expired.
pub async fn run_once(state: &AppState) -> Result<u64, crate::store::StoreError> {
    let mut total = 0;
    loop {
        let n = state
            .store
            .sms_expire(state.now(), &Actor::system(state.now()))
            .await?;
        total += n;
        if n < BATCH {
            return Ok(total);
        }
    }
}

pub async fn run(state: AppState, shutdown: CancellationToken) {
    let interval = Duration::from_secs(state.config.sms.expiry_check_secs.max(1));
    super::every(interval, shutdown, || async {
        let started = std::time::Instant::now();
        let result = run_once(&state).await;
        crate::api::metrics::job_pass("sms_expiry", started, result.is_ok());
        match result {
            Ok(0) => {}
            Ok(n) => tracing::info!(expired = n, "expired SMS past their expiry date"),
            Err(e) => tracing::warn!(error = %e, "SMS expiry failed; retrying next interval"),
        }
    })
    .await;
}
