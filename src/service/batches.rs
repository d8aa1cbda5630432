//! SIM batches by BIC: the check and the registration (emnify `/api/v1/sim_batch/bic/{bic}`).
use crate::domain::access::{AccessLevel, Principal};
use crate::domain::error::Rule;
use crate::domain::org::OrgKind;
use crate::domain::sim::SimStatus;
use crate::error::{AppError, AppResult, Invalid};
use crate::state::AppState;
use crate::store::{EmnifySim, SimBatch, StoreError};

/// Whether the caller may register the batch: known, not registered, and no SIM of it already
/// sold to an organisation outside the caller's line.
pub async fn batch_check(state: &AppState, p: &Principal, raw_bic: &str) -> AppResult<SimBatch> {
    let bic = raw_bic.trim().trim_start_matches('#').to_string();
    let unknown = || AppError::not_found("bic", format!("SIM batch with BIC {bic} not found"));
    let (batch, owners) = state.store.batch_by_bic(&bic).await?.ok_or_else(unknown)?;
    // A batch exists only inside the subtree of the org that issued it (ADMIN: everywhere), so
    // a BIC of another tenant answers exactly as an unknown one.
    let in_issuer_subtree =
        crate::domain::org::path_ids(&p.org_path).contains(&batch.issuer_org_id);
    if !(p.level == AccessLevel::Admin || in_issuer_subtree) {
        return Err(unknown());
    }
    if batch.registered_at.is_some() {
        return Err(AppError::conflict(
            "bic",
            format!("SIM batch {bic} is registered already"),
        ));
    }
    let own_line = crate::domain::org::path_ids(&p.org_path);
    let foreign = owners.iter().any(|(reseller, customer)| {
        customer.is_some_and(|c| c != p.org_id) || reseller.is_some_and(|r| !own_line.contains(&r))
    });
    if foreign {
        return Err(AppError::invalid_as(
            Invalid::Reference,
            "bic",
            format!("SIM batch {bic} holds SIMs of another organisation"),
        ));
    }
    Ok(batch)
}

/// Registers the batch to the caller's org with `status` (1 or 4).
pub async fn batch_register(
    state: &AppState,
    p: &Principal,
    raw_bic: &str,
    status: i64,
) -> AppResult<Vec<EmnifySim>> {
    let status = match SimStatus::from_id(status) {
        Some(s @ (SimStatus::Activated | SimStatus::FactoryTest)) => s,
        _ => {
            return Err(AppError::invalid(
                "sim_status",
                "status must be 1 (Activated) or 4 (Factory Test)",
            ))
        }
    };
    // For registration a refusal is 422 (the SDK reads any 4xx as "invalid bic"), except a batch
    // that does not exist for the caller: 404, as for validation, so the status is no oracle.
    let batch = batch_check(state, p, raw_bic).await.map_err(|e| match e {
        AppError::Invalid { .. } | AppError::NotFound { .. } => e,
        other => AppError::invalid_as(Invalid::Reference, "bic", other.to_string()),
    })?;
    let (reseller, customer) = match p.org_kind {
        OrgKind::Enterprise => (None, Some(p.org_id)),
        k if k.is_reseller() => (Some(p.org_id), None),
        _ => (None, None),
    };
    match state
        .store
        .batch_register(
            batch.id,
            reseller,
            customer,
            status,
            p.org_id,
            &state.actor(p),
        )
        .await
    {
        Err(StoreError::Rule(Rule::BatchRegistered)) => Err(AppError::invalid_as(
            Invalid::Reference,
            "bic",
            format!("SIM batch {} is registered already", batch.bic),
        )),
        other => Ok(other?),
    }
}

/// SIM models, a page of them and the total.
pub async fn models(
    state: &AppState,
    page: crate::domain::paging::Page,
) -> AppResult<(Vec<crate::store::SimModel>, i64)> {
    Ok(state.store.sim_model_list(page).await?)
}

/// A SIM model by id, if it exists.
pub async fn model(state: &AppState, id: i64) -> AppResult<Option<crate::store::SimModel>> {
    Ok(state.store.sim_model_get(id).await?)
}
