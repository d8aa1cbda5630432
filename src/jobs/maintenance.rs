//! Keeps the time-partitioned tables in shape: monthly partitions ahead of time (Postgres) and the
//! retention of events and hourly usage. Safe on several nodes at once (the store serialises it).
use crate::domain::retention;
use crate::state::AppState;
use crate::store::{StoreError, TimeTable};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub partitions_created: u32,
    /// Per table: partitions dropped (Postgres) or rows deleted (SQLite).
    pub removed: Vec<(TimeTable, u64)>,
}

pub async fn run_once(state: &AppState) -> Result<Report, StoreError> {
    let now = state.now();
    let cfg = &state.config.retention;
    let partitions_created = state
        .store
        .ensure_partitions(&retention::months_to_prepare(
            now,
            cfg.partition_months_ahead,
        ))
        .await?;
    let mut removed = Vec::new();
    for (table, keep) in [
        (TimeTable::Events, cfg.events_months),
        (TimeTable::UsageHourly, cfg.usage_months),
    ] {
        if let Some(before) = retention::cutoff(now, keep) {
            removed.push((table, state.store.drop_before(table, before).await?));
        }
    }
    // Failed-login windows that have passed count for nothing any more.
    let window = chrono::Duration::seconds(state.config.auth.login_window_secs.max(1));
    state.store.login_failures_expire(now - window).await?;
    // Idempotency keys whose answers are past keeping.
    let ttl = state.config.http.idempotency_key_ttl();
    state.store.idempotency_expire(now - ttl).await?;
    Ok(Report {
        partitions_created,
        removed,
    })
}

/// Runs a pass every `retention.interval_secs` until `shutdown`.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    let interval = Duration::from_secs(state.config.retention.interval_secs.max(1));
    super::every(interval, shutdown, || async {
        let started = std::time::Instant::now();
        let result = run_once(&state).await;
        crate::api::metrics::job_pass("maintenance", started, result.is_ok());
        match result {
            Ok(r) if r == Report::default() => {}
            Ok(r) => tracing::info!(created = r.partitions_created, removed = ?r.removed, "maintenance pass"),
            Err(e) => tracing::warn!(error = %e, "maintenance failed; retrying next interval"),
        }
    })
    .await;
}
