//! SIM batches by BIC: the check and the registration (emnify `/api/v1/sim_batch/bic/{bic}`).
use super::access::{self, InScope};
use crate::domain::access::Principal;
use crate::domain::batch;
use crate::domain::error::Rule;
use crate::domain::org::OrgKind;
use crate::domain::sim::SimStatus;
use crate::error::{AppError, AppResult, Invalid};
use crate::state::AppState;
use crate::store::{EmnifySim, Registration, SimBatch, StoreError};

/// Whether the caller may register the batch: known, not registered, and no SIM of it already
/// sold to an organisation outside the caller's line.
pub async fn batch_check(state: &AppState, p: &Principal, raw_bic: &str) -> AppResult<SimBatch> {
    let bic = raw_bic.trim().trim_start_matches('#').to_string();
    let unknown = || AppError::not_found("bic", format!("SIM batch with BIC {bic} not found"));
    // A batch exists only inside the subtree of the org that issued it (ADMIN: everywhere), so
    // a BIC of another tenant answers exactly as an unknown one.
    let (batch, owners) = state
        .store
        .batch_by_bic(&p.scope(), &bic)
        .await?
        .ok_or_else(unknown)?;
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
            &p.scope(),
            batch.id,
            Registration {
                reseller_org_id: reseller,
                customer_org_id: customer,
                status,
                by_org: p.org_id,
            },
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

/// A SIM batch to create: its BIC, the issuer (an org reference), the model, and its SIMs.
pub struct BatchSpec {
    pub bic: String,
    pub issuer_org: Option<String>,
    pub model: Option<i64>,
    pub sims: Vec<BatchSimSpec>,
}

/// One SIM of a batch, as given: the service checks and normalises every field.
pub struct BatchSimSpec {
    pub iccid: String,
    pub imsi: Option<String>,
    pub msisdn: Option<String>,
    pub eid: Option<String>,
    pub puk1: Option<String>,
    pub puk2: Option<String>,
    pub pin1: Option<String>,
    pub pin2: Option<String>,
    pub network: Option<String>,
    pub form_factor: Option<String>,
    pub production_date: Option<String>,
}

/// Creates a batch with its SIMs (status Issued, issuer set, central stock), all or nothing.
pub async fn create(state: &AppState, p: &Principal, spec: BatchSpec) -> AppResult<SimBatch> {
    use crate::domain::sim::{parse_iccid, parse_network, FormFactor};
    use crate::store::{BatchSim, NewBatch};
    let bic = batch::bic(&spec.bic)?;
    let issuer = match spec.issuer_org.as_deref() {
        Some(raw) => access::org(state, p, raw).await?,
        None => None,
    }
    .or_invalid("issuer_org", "issuer_org must be an existing organisation")?;
    let model = match spec.model {
        Some(id) => Some(
            state
                .store
                .sim_model_get(id)
                .await?
                .ok_or_else(|| AppError::invalid("model", "unknown SIM model"))?,
        ),
        None => None,
    };
    batch::size(spec.sims.len())?;
    let networks = &state.config.inventory.networks;
    let mut seen = std::collections::HashSet::new();
    let mut sims = Vec::with_capacity(spec.sims.len());
    for (i, s) in spec.sims.into_iter().enumerate() {
        let field = |name: &str| format!("sims[{i}].{name}");
        let iccid = parse_iccid(&s.iccid).map_err(|e| AppError::invalid(field("iccid"), e))?;
        batch::once(&mut seen, &iccid, || field("iccid"))?;
        let network = match s.network.as_deref() {
            Some(n) => parse_network(n, networks)
                .ok_or_else(|| AppError::invalid(field("network"), "unknown network"))?
                .to_string(),
            None => networks.first().cloned().unwrap_or_default(),
        };
        let form_factor = match s.form_factor.as_deref() {
            Some(f) => FormFactor::parse(f)
                .ok_or_else(|| AppError::invalid(field("form_factor"), "unknown form factor"))?,
            None => model.as_ref().map_or(FormFactor::Nano, |m| m.form_factor),
        };
        let production_date = s
            .production_date
            .as_deref()
            .map(|d| {
                let name = field("production_date");
                crate::domain::dates::date(&name, d).map_err(|e| AppError::invalid(name, e))
            })
            .transpose()?;
        sims.push(BatchSim {
            iccid,
            imsi: s.imsi,
            msisdn: s.msisdn.as_deref().map(batch::msisdn),
            eid: s.eid,
            puk1: s.puk1,
            puk2: s.puk2,
            pin1: s.pin1,
            pin2: s.pin2,
            network,
            form_factor,
            production_date,
        });
    }
    let new = NewBatch {
        bic,
        issuer_org_id: issuer.id,
        model_id: model.map(|m| m.id),
        sims,
    };
    Ok(state.store.batch_create(new, &state.actor(p)).await?)
}
