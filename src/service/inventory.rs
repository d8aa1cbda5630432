//! SIM inventory operations behind the TelecomX `/sim` routes and `simgate admin import-sims`.
use super::access::{self, InScope};
use crate::domain::access::{AccessLevel, Principal};
use crate::domain::ids::EntityRef;
use crate::domain::inventory::{self, HolderInfo};
use crate::domain::org::{path_ids, OrgKind};
use crate::domain::sim::{self, ImportPlan, SkippedLine};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{Holder, Org, SimRecord, StorageFilter};
use std::collections::{BTreeMap, HashSet};

/// The extension value of `customer` that names central stock (ADMIN only).
pub const CENTRAL: &str = "central";

/// Which holders a `customer` query parameter selects for the caller. Customer levels are held
/// to their own org; anything outside the caller's scope is 403, whether or not it exists.
pub async fn storage_filter(
    state: &AppState,
    p: &Principal,
    customer: Option<&str>,
) -> AppResult<StorageFilter> {
    let Some(raw) = customer.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(match p.level {
            AccessLevel::Admin => StorageFilter::Any,
            AccessLevel::Reseller | AccessLevel::ResellerAdmin => {
                StorageFilter::Subtree(p.org_path.clone())
            }
            _ => StorageFilter::Org(p.org_id),
        });
    };
    if raw.eq_ignore_ascii_case(CENTRAL) {
        return match p.level {
            AccessLevel::Admin => Ok(StorageFilter::Central),
            _ => Err(AppError::access_denied()),
        };
    }
    let r = EntityRef::parse(raw)
        .ok_or_else(|| AppError::invalid("customer", "customer must be an organisation id"))?;
    match state.store.org_find(&p.scope(), &r).await? {
        Some(org) => Ok(StorageFilter::Org(org.id)),
        None if p.level == AccessLevel::Admin => Ok(StorageFilter::Org(-1)),
        None => Err(AppError::access_denied()),
    }
}

/// The orgs on the path of each given org (itself included), by id.
async fn chains(state: &AppState, orgs: &[&Org]) -> AppResult<BTreeMap<i64, Org>> {
    let ids: HashSet<i64> = orgs.iter().flat_map(|o| path_ids(&o.path)).collect();
    let ids: Vec<i64> = ids.into_iter().collect();
    Ok(state
        .store
        .orgs_by_ids(&ids)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect())
}

fn reseller_in(chain: &BTreeMap<i64, Org>, org: &Org) -> Option<Org> {
    let path: Vec<(&Org, OrgKind)> = path_ids(&org.path)
        .iter()
        .filter_map(|id| chain.get(id))
        .map(|o| (o, o.kind))
        .collect();
    inventory::reseller_of(&path).map(|o| (*o).clone())
}

/// Storage at `org`: a reseller holds SIMs as their reseller; a customer as their customer, under
/// its nearest reseller. The platform org is central stock.
pub async fn holder_for(state: &AppState, org: &Org) -> AppResult<Option<Holder>> {
    if org.kind == OrgKind::Platform {
        return Ok(None);
    }
    let chain = chains(state, &[org]).await?;
    let reseller = reseller_in(&chain, org);
    Ok(Some(if org.kind.is_reseller() {
        Holder {
            org_id: org.id,
            reseller_org_id: Some(org.id),
            customer_org_id: None,
        }
    } else {
        Holder {
            org_id: org.id,
            reseller_org_id: reseller.map(|r| r.id),
            customer_org_id: Some(org.id),
        }
    }))
}

pub struct ImportOutcome {
    pub imported: usize,
    pub skipped: Vec<SkippedLine>,
}

/// Imports the valid lines of a plan; lines whose ICC exists already are skipped, never overwritten.
pub async fn import_plan(
    state: &AppState,
    by: &Principal,
    plan: ImportPlan,
    holder: Option<&Holder>,
) -> AppResult<ImportOutcome> {
    let inserted: HashSet<String> = state
        .store
        .sim_import(&plan.sims, holder, by.org_id, &state.actor(by))
        .await?
        .into_iter()
        .collect();
    let mut skipped = plan.skipped;
    skipped.extend(
        plan.sims
            .iter()
            .filter(|s| !inserted.contains(&s.iccid))
            .map(|s| SkippedLine {
                line: s.line,
                reason: format!("SIM {} already exists", s.iccid),
            }),
    );
    skipped.sort_by_key(|s| s.line);
    Ok(ImportOutcome {
        imported: inserted.len(),
        skipped,
    })
}

/// `POST /sim`: at most 10,000 lines, all valid lines in one transaction.
pub async fn import(
    state: &AppState,
    by: &Principal,
    data: &str,
    in_storage_at: Option<&str>,
) -> AppResult<ImportOutcome> {
    let lines = sim::count_lines(data);
    if lines > sim::MAX_IMPORT_LINES {
        return Err(AppError::conflict(
            "data",
            format!(
                "{lines} lines; at most {} per import",
                sim::MAX_IMPORT_LINES
            ),
        ));
    }
    let holder = match in_storage_at {
        None => None,
        Some(raw) => {
            let org = access::org(state, by, raw).await?.or_invalid(
                "inStorageAt",
                "inStorageAt must be the id of an existing organisation",
            )?;
            holder_for(state, &org).await?
        }
    };
    let plan = sim::plan_import(data, &state.config.inventory.networks);
    if plan.sims.is_empty() {
        let first = plan
            .skipped
            .first()
            .map(|s| format!(" (line {}: {})", s.line, s.reason))
            .unwrap_or_default();
        return Err(AppError::invalid(
            "data",
            format!("No valid line to import{first}"),
        ));
    }
    import_plan(state, by, plan, holder.as_ref()).await
}

/// A SIM the caller can see, or 404.
pub async fn visible_sim(state: &AppState, p: &Principal, icc: &str) -> AppResult<SimRecord> {
    let iccid = sim::parse_iccid(icc).map_err(|e| AppError::invalid("sim", e))?;
    state
        .store
        .sim_by_iccid(&p.scope(), &iccid)
        .await?
        .or_not_found("not_found", format!("SIM {iccid} not found"))
}

/// Puts a SIM in storage at `customer`. Resellers move SIMs held in their subtree to orgs in it.
pub async fn assign(
    state: &AppState,
    p: &Principal,
    icc: &str,
    customer: Option<&str>,
    auto_assign: Option<bool>,
    if_match: Option<crate::domain::etag::IfMatch>,
) -> AppResult<SimRecord> {
    let sim = visible_sim(state, p, icc).await?;
    let raw = customer
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| AppError::required("customer"))?;
    let holder = if raw.eq_ignore_ascii_case(CENTRAL) && p.level == AccessLevel::Admin {
        None
    } else {
        let org = access::org(state, p, raw)
            .await?
            .or_invalid("customer", "customer must be an organisation in your scope")?;
        holder_for(state, &org).await?
    };
    Ok(state
        .store
        .sim_assign(
            &p.scope(),
            sim.id,
            holder,
            auto_assign,
            &state.actor_if(p, if_match),
        )
        .await?)
}

/// `/sim/status`: the counters of the caller's scope, shaped by `domain::inventory`.
pub async fn status(
    state: &AppState,
    p: &Principal,
    network: Option<&str>,
    customer: Option<&str>,
) -> AppResult<Vec<serde_json::Value>> {
    let network = network
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| sim::network_param(n, &state.config.inventory.networks))
        .transpose()?;
    let storage = storage_filter(state, p, customer).await?;
    let counts = state
        .store
        .inventory_counts(&storage, network.as_deref())
        .await?;
    let holder_ids: Vec<i64> = counts
        .iter()
        .filter_map(|c| c.holder)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let holders = state.store.orgs_by_ids(&holder_ids).await?;
    let chain = chains(state, &holders.iter().collect::<Vec<_>>()).await?;
    let infos: BTreeMap<i64, HolderInfo> = holders
        .iter()
        .map(|h| {
            let reseller = reseller_in(&chain, h).map(|r| (r.oid, r.name));
            (
                h.id,
                HolderInfo {
                    oid: h.oid.clone(),
                    name: h.name.clone(),
                    reseller,
                },
            )
        })
        .collect();
    Ok(inventory::status(
        &counts,
        &infos,
        &state.config.inventory.central_stock_name,
    ))
}

/// The unused SIMs of a holder the caller may see (`customer`: one org in scope; none: all it sees),
/// narrowed by `filter`'s other fields.
pub async fn list_unused(
    state: &AppState,
    p: &Principal,
    customer: Option<&str>,
    filter: impl FnOnce(StorageFilter) -> crate::store::UnusedSimFilter,
    page: crate::domain::paging::Page,
) -> AppResult<(Vec<SimRecord>, i64)> {
    let storage = storage_filter(state, p, customer).await?;
    Ok(state.store.sim_list_unused(&filter(storage), page).await?)
}
