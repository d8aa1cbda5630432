//! Data and SMS quotas of an endpoint (spec/emnify-endpoints.md §7): read, set, delete. Reading is
//! for every reader of the endpoint, writing for its writers; an endpoint outside the scope is 404.
use super::endpoints::not_found;
use crate::domain::access::Principal;
use crate::domain::quota::{self, Exhaustion, QuotaKind, QuotaStatus};
use crate::error::{AppError, AppResult, Invalid};
use crate::state::AppState;
use crate::store::{NewQuota, QuotaRow, StoreError, StoreResult};

fn on_endpoint<T>(endpoint: i64, r: StoreResult<T>) -> AppResult<T> {
    match r {
        Err(StoreError::NotFound) => Err(not_found(endpoint)),
        other => Ok(other?),
    }
}

pub async fn get(
    state: &AppState,
    p: &Principal,
    endpoint: i64,
    kind: QuotaKind,
) -> AppResult<QuotaRow> {
    let row = on_endpoint(
        endpoint,
        state.store.quota_get(&p.scope(), endpoint, kind).await,
    )?;
    Ok(row.as_of(state.now()))
}

/// A quota as the body gave it.
#[derive(Debug, Default)]
pub struct QuotaInput {
    pub status: Option<i64>,
    pub volume: Option<f64>,
    pub expiry_date: Option<String>,
    pub auto_refill: Option<i64>,
    pub threshold_percentage: Option<i64>,
    pub action: Option<i64>,
    pub peak_throughput: Option<i64>,
}

pub async fn set(
    state: &AppState,
    p: &Principal,
    endpoint: i64,
    kind: QuotaKind,
    input: QuotaInput,
) -> AppResult<()> {
    // The endpoint first: an unknown one is 404 whatever the body says.
    super::endpoints::get(state, p, endpoint).await?;
    let volume = quota::volume(input.volume.ok_or_else(|| AppError::required("volume"))?)?;
    let raw = input
        .expiry_date
        .ok_or_else(|| AppError::required("expiry_date"))?;
    let expiry_date = crate::domain::dates::emnify_timestamp("expiry_date", &raw)
        .map_err(|m| AppError::invalid("expiry_date", m))?;
    if expiry_date <= state.now() {
        return Err(AppError::invalid("expiry_date", "must be in the future"));
    }
    let status = match input.status {
        None => QuotaStatus::Active,
        Some(id) => QuotaStatus::from_id(id).ok_or_else(|| {
            AppError::invalid_as(
                Invalid::Value,
                "status",
                format!("{id} is not a quota status: 1 ACTIVE, 2 EXHAUSTED or 3 EXPIRED"),
            )
        })?,
    };
    let auto_refill = match input.auto_refill {
        None | Some(0) => false,
        Some(1) => true,
        Some(_) => return Err(AppError::invalid("auto_refill", "must be 0 or 1")),
    };
    let threshold_percentage = input
        .threshold_percentage
        .map(quota::threshold)
        .transpose()?;
    let exhaustion = match input.action {
        None => Exhaustion::Block,
        Some(id) => Exhaustion::parse(kind, id, input.peak_throughput)?,
    };
    let new = NewQuota {
        status,
        volume,
        expiry_date,
        auto_refill,
        threshold_percentage,
        exhaustion,
    };
    on_endpoint(
        endpoint,
        state
            .store
            .quota_set(&p.scope(), endpoint, kind, new, &state.actor(p))
            .await,
    )
}

pub async fn delete(
    state: &AppState,
    p: &Principal,
    endpoint: i64,
    kind: QuotaKind,
) -> AppResult<()> {
    on_endpoint(
        endpoint,
        state
            .store
            .quota_delete(&p.scope(), endpoint, kind, &state.actor(p))
            .await,
    )
}
