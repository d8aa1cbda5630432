//! A SIM's usage statistics (emnify `/stats` and `/stats/daily`) from its hourly buckets.
use super::sims::visible_sim;
use crate::domain::access::Principal;
use crate::domain::usage::{self, Bucket};
use crate::error::AppResult;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use serde_json::Value;

async fn buckets(
    state: &AppState,
    sim_id: i64,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> AppResult<Vec<Bucket>> {
    Ok(state.store.usage_rows(sim_id, from, until).await?)
}

pub async fn stats(state: &AppState, p: &Principal, sim_id: i64) -> AppResult<Value> {
    visible_sim(state, p, sim_id).await?;
    let now = state.now();
    let (from, until) = usage::stats_window(now);
    Ok(usage::stats(
        sim_id,
        now,
        &buckets(state, sim_id, from, until).await?,
    ))
}

pub async fn daily(
    state: &AppState,
    p: &Principal,
    sim_id: i64,
    start: Option<&str>,
    end: Option<&str>,
) -> AppResult<Vec<Value>> {
    visible_sim(state, p, sim_id).await?;
    let (from, to) = usage::daily_range(start, end, state.now().date_naive())?;
    let (from, until) = usage::day_bounds(from, to);
    Ok(usage::daily(&buckets(state, sim_id, from, until).await?))
}
