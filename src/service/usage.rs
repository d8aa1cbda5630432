//! Usage statistics of a SIM or an endpoint (emnify `/stats` and `/stats/daily`) from their hourly
//! buckets.
use crate::domain::access::Principal;
pub use crate::domain::usage::Of;
use crate::domain::usage::{self, Bucket};
use crate::error::AppResult;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// The buckets in `[from, until)`; a SIM or endpoint outside the caller's scope is 404.
async fn buckets(
    state: &AppState,
    p: &Principal,
    of: Of,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> AppResult<Vec<Bucket>> {
    match of {
        Of::Sim(id) => state
            .store
            .usage_rows(&p.scope(), id, from, until)
            .await?
            .ok_or_else(|| super::sims::not_found(id)),
        Of::Endpoint(id) => state
            .store
            .endpoint_usage_rows(&p.scope(), id, from, until)
            .await?
            .ok_or_else(|| super::endpoints::not_found(id)),
    }
}

pub async fn stats(state: &AppState, p: &Principal, of: Of) -> AppResult<Value> {
    let now = state.now();
    let (from, until) = usage::stats_window(now);
    Ok(usage::stats_of(
        of,
        now,
        &buckets(state, p, of, from, until).await?,
    ))
}

pub async fn daily(
    state: &AppState,
    p: &Principal,
    of: Of,
    start: Option<&str>,
    end: Option<&str>,
) -> AppResult<Vec<Value>> {
    let (from, to) = usage::daily_range(start, end, state.now().date_naive())?;
    let (from, until) = usage::day_bounds(from, to);
    Ok(usage::daily(&buckets(state, p, of, from, until).await?))
}
