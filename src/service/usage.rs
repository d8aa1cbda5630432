//! A SIM's usage statistics (emnify `/stats` and `/stats/daily`) from its hourly buckets.
use crate::domain::access::Principal;
use crate::domain::usage::{self, Bucket};
use crate::error::AppResult;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// The SIM's buckets in `[from, until)`; a SIM outside the caller's scope is 404.
async fn buckets(
    state: &AppState,
    p: &Principal,
    sim_id: i64,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> AppResult<Vec<Bucket>> {
    let rows = state
        .store
        .usage_rows(&p.scope(), sim_id, from, until)
        .await?;
    rows.ok_or_else(|| super::sims::not_found(sim_id))
}

pub async fn stats(state: &AppState, p: &Principal, sim_id: i64) -> AppResult<Value> {
    let now = state.now();
    let (from, until) = usage::stats_window(now);
    Ok(usage::stats(
        sim_id,
        now,
        &buckets(state, p, sim_id, from, until).await?,
    ))
}

pub async fn daily(
    state: &AppState,
    p: &Principal,
    sim_id: i64,
    start: Option<&str>,
    end: Option<&str>,
) -> AppResult<Vec<Value>> {
    let (from, to) = usage::daily_range(start, end, state.now().date_naive())?;
    let (from, until) = usage::day_bounds(from, to);
    Ok(usage::daily(&buckets(state, p, sim_id, from, until).await?))
}
