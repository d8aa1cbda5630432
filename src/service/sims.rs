//! emnify SIM operations: the list with its filters and sorts, the single read, PATCH and DELETE.
use super::access::{self};
use crate::domain::access::Principal;
use crate::domain::emnify::{self as rules, EmnifyPage, Fields, OrgAt, SimField};
use crate::domain::ids::EntityRef;
use crate::domain::org::OrgKind;
use crate::domain::sim::SimStatus;
use crate::error::{AppError, AppResult, Invalid};
use crate::state::AppState;
use crate::store::{EmnifySim, EmnifySimPatch, SimCol, SimCond, SimSortKey, StoreError};

/// The fields of an emnify SIM list's `q`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SimQ {
    Id,
    IssuerOrg,
    ResellerOrg,
    CustomerOrg,
    Iccid,
    IccidWithLuhn,
    Imsi,
    Msisdn,
    Status,
    ProductionDate,
    Model,
    Eid,
    Endpoint,
}

const SIM_Q: &Fields<SimQ> = &[
    ("id", SimQ::Id),
    ("issuer_org", SimQ::IssuerOrg),
    ("reseller_org", SimQ::ResellerOrg),
    ("customer_org", SimQ::CustomerOrg),
    ("iccid", SimQ::Iccid),
    ("iccid_with_luhn", SimQ::IccidWithLuhn),
    ("imsi", SimQ::Imsi),
    ("msisdn", SimQ::Msisdn),
    ("status", SimQ::Status),
    ("production_date", SimQ::ProductionDate),
    ("model", SimQ::Model),
    ("eid", SimQ::Eid),
    ("endpoint", SimQ::Endpoint),
];

const SIM_SORT: &Fields<SimSortKey> = &[
    ("id", SimSortKey::Id),
    ("issuer_org", SimSortKey::IssuerOrg),
    ("reseller_org", SimSortKey::ResellerOrg),
    ("customer_org", SimSortKey::CustomerOrg),
    ("iccid", SimSortKey::Iccid),
    ("eid", SimSortKey::Eid),
    ("status", SimSortKey::Status),
    ("production_date", SimSortKey::ProductionDate),
    ("endpoint", SimSortKey::Endpoint),
    // The Python SDK's `SimSort.customer_org` sends this name.
    ("customer_prg", SimSortKey::CustomerOrg),
    ("model", SimSortKey::Model),
];

pub(crate) fn not_found(id: i64) -> AppError {
    AppError::not_found("not_found", format!("SIM with id {id} not found"))
}

/// A non-numeric path id is 400.
pub fn path_id(raw: &str) -> AppResult<i64> {
    raw.trim()
        .parse()
        .map_err(|_| AppError::bad_request(format!("'{raw}' is not a numeric id")))
}

/// A SIM the caller sees through its issuer, reseller or customer org; deleted SIMs never.
pub async fn visible_sim(state: &AppState, p: &Principal, id: i64) -> AppResult<EmnifySim> {
    state
        .store
        .esim_get(&p.scope(), id)
        .await?
        .ok_or_else(|| not_found(id))
}

pub(crate) fn q_err(msg: String) -> AppError {
    AppError::invalid_as(Invalid::Query, "q", msg)
}

fn sim_filters(q: Option<&str>) -> AppResult<Vec<SimCond>> {
    let Some(q) = q else { return Ok(Vec::new()) };
    let q = rules::sdk_q(q);
    let mut out = Vec::new();
    for (field, key, value) in rules::parse_q(&q, SIM_Q)? {
        let int = |v: &str| rules::q_int(field, v);
        out.push(match key {
            SimQ::Id => SimCond::Eq(SimCol::Id, int(value)?),
            SimQ::IssuerOrg => SimCond::Eq(SimCol::IssuerOrg, int(value)?),
            SimQ::ResellerOrg => SimCond::Eq(SimCol::ResellerOrg, int(value)?),
            SimQ::CustomerOrg => SimCond::Eq(SimCol::CustomerOrg, int(value)?),
            SimQ::Model => SimCond::Eq(SimCol::Model, int(value)?),
            SimQ::Endpoint if value.eq_ignore_ascii_case("null") => {
                SimCond::IsNull(SimCol::Endpoint)
            }
            SimQ::Endpoint => SimCond::Eq(SimCol::Endpoint, int(value)?),
            SimQ::Iccid | SimQ::IccidWithLuhn => {
                if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(q_err(format!("{field} must be digits")));
                }
                let stored = rules::stored_for_iccid(value, key == SimQ::IccidWithLuhn);
                SimCond::TextIn(SimCol::Iccid, vec![stored])
            }
            SimQ::Imsi => SimCond::TextIn(SimCol::Imsi, vec![value.to_string()]),
            SimQ::Eid => SimCond::TextIn(SimCol::Eid, vec![value.to_string()]),
            SimQ::Msisdn => {
                SimCond::Prefix(SimCol::Msisdn, value.trim_start_matches('+').to_string())
            }
            SimQ::Status => SimCond::StatusIn(
                value
                    .split('|')
                    .map(|v| {
                        int(v)
                            .ok()
                            .and_then(SimStatus::from_id)
                            .map(SimStatus::id)
                            .ok_or_else(|| q_err(format!("unknown status {v}")))
                    })
                    .collect::<AppResult<_>>()?,
            ),
            SimQ::ProductionDate => {
                SimCond::Date(crate::domain::dates::date("production_date", value).map_err(q_err)?)
            }
        });
    }
    Ok(out)
}

fn sim_sort(sort: Option<&str>) -> AppResult<Vec<(SimSortKey, bool)>> {
    Ok(rules::parse_sort(sort.unwrap_or("id"), SIM_SORT)?)
}

pub struct Listed<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: EmnifyPage,
}

impl<T> Listed<T> {
    /// The same page with each item rendered by `f`.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Listed<U> {
        Listed {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            page: self.page,
        }
    }
}

pub async fn list(
    state: &AppState,
    p: &Principal,
    q: Option<&str>,
    sort: Option<&str>,
    page: EmnifyPage,
) -> AppResult<Listed<EmnifySim>> {
    let filters = sim_filters(q)?;
    let sort = sim_sort(sort)?;
    let scope = p.scope();
    page_or_last(page, |page| {
        state
            .store
            .esim_list(&scope, &filters, &sort, page.per_page, page.offset())
    })
    .await
}

/// Reads `page` with its total; a page past the end serves the last page (a second read, only then).
pub(crate) async fn page_or_last<T, F, Fut>(page: EmnifyPage, read: F) -> AppResult<Listed<T>>
where
    F: Fn(EmnifyPage) -> Fut,
    Fut: std::future::Future<Output = crate::store::StoreResult<(Vec<T>, i64)>>,
{
    let (items, total) = read(page).await?;
    let last = page.clamp(total);
    if last.page == page.page {
        return Ok(Listed { items, total, page });
    }
    let (items, total) = read(last).await?;
    Ok(Listed {
        items,
        total,
        page: last,
    })
}

fn org_at(id: Option<i64>, path: &Option<String>) -> Option<OrgAt<'_>> {
    id.zip(path.as_deref()).map(|(id, path)| OrgAt { id, path })
}

/// What a PATCH of a SIM asks for. `status`: `Some(None)` when the status was given without an id;
/// an org: `Some(None)` empties it, `Some(Some(id))` sets it.
pub struct PatchInput {
    pub status: Option<Option<i64>>,
    pub issuer_org: Option<Option<i64>>,
    pub reseller_org: Option<Option<i64>>,
    pub customer_org: Option<Option<i64>>,
}

/// PATCH: status and org changes, each checked against the caller's relation to the SIM.
pub async fn patch(
    state: &AppState,
    p: &Principal,
    id: i64,
    input: PatchInput,
    if_match: Option<crate::domain::etag::IfMatch>,
) -> AppResult<()> {
    let sim = visible_sim(state, p, id).await?;
    let rel = rules::relation(
        p,
        org_at(sim.issuer_org_id, &sim.issuer_path),
        org_at(sim.reseller_org_id, &sim.reseller_path),
        org_at(sim.customer_org_id, &sim.customer_path),
    );
    let mut patch = EmnifySimPatch::default();
    let mut any = false;
    if let Some(status) = input.status {
        any = true;
        if !rules::may_change(rel, SimField::Status) {
            return Err(AppError::forbidden(
                "status",
                "You may not change the status of this SIM",
            ));
        }
        let sid = status.ok_or_else(|| AppError::required("sim_status - id"))?;
        patch.status = Some(
            SimStatus::from_id(sid)
                .ok_or_else(|| AppError::invalid("status", format!("unknown status id {sid}")))?,
        );
    }
    let fields = [
        (SimField::IssuerOrg, "issuer_org", input.issuer_org),
        (SimField::ResellerOrg, "reseller_org", input.reseller_org),
        (SimField::CustomerOrg, "customer_org", input.customer_org),
    ];
    for (field, name, target) in fields {
        let Some(target) = target else {
            continue;
        };
        any = true;
        if !rules::may_change(rel, field) {
            return Err(AppError::forbidden(
                name,
                format!("You may not change {name} of this SIM"),
            ));
        }
        if target.is_none() && field == SimField::IssuerOrg {
            return Err(AppError::invalid_as(
                Invalid::Reference,
                "issuer_org",
                "issuer_org cannot be emptied",
            ));
        }
        if let Some(tid) = target {
            // An unknown org answers as one the caller may not use: ids of other tenants' orgs
            // are not to be probed through this route. The rule, not the scope, decides here: the
            // target is a child of the caller's org, which a customer-level scope does not hold.
            match state
                .store
                .org_find(&access::SYSTEM, &EntityRef::Id(tid))
                .await?
            {
                Some(org) => rules::valid_target(p, field, org.kind, org.id, org.parent_id)?,
                None => rules::valid_target(p, field, OrgKind::Platform, tid, None)?,
            }
        }
        match field {
            SimField::IssuerOrg => patch.issuer_org_id = Some(target),
            SimField::ResellerOrg => patch.reseller_org_id = Some(target),
            _ => patch.customer_org_id = Some(target),
        }
    }
    if !any {
        return Err(AppError::required("status"));
    }
    match state
        .store
        .esim_patch(&p.scope(), id, patch, &state.actor_if(p, if_match))
        .await
    {
        Err(StoreError::NotFound) => Err(not_found(id)),
        other => Ok(other?),
    }
}

pub async fn delete(
    state: &AppState,
    p: &Principal,
    id: i64,
    if_match: Option<crate::domain::etag::IfMatch>,
) -> AppResult<()> {
    let sim = visible_sim(state, p, id).await?;
    if sim.reseller_org_id == Some(p.org_id) {
        return Err(AppError::forbidden(
            "access_denied",
            "Resellers cannot delete SIMs they have sold",
        ));
    }
    match state
        .store
        .esim_delete(&p.scope(), id, &state.actor_if(p, if_match))
        .await
    {
        Err(StoreError::NotFound) => Err(not_found(id)),
        other => Ok(other?),
    }
}
