//! emnify SIM operations behind `/api/v1/sim...` and `/api/v1/sim_batch...`.
use crate::domain::access::{AccessLevel, Principal};
use crate::domain::emnify::{self as rules, EmnifyPage, OrgAt, SimField};
use crate::domain::error::Rule;
use crate::domain::ids::EntityRef;
use crate::domain::org::OrgKind;
use crate::domain::sim::SimStatus;
use crate::domain::usage::{self, Bucket};
use crate::error::{AppError, AppResult, Invalid};
use crate::state::AppState;
use crate::store::{
    EmnifySim, EmnifySimPatch, EventCond, EventRow, EventSortKey, SimBatch, SimCol, SimCond,
    SimSortKey, StoreError,
};
use chrono::{DateTime, Utc};
use serde_json::Value;

pub const SIM_Q: &[&str] = &[
    "id",
    "issuer_org",
    "reseller_org",
    "customer_org",
    "iccid",
    "iccid_with_luhn",
    "imsi",
    "msisdn",
    "status",
    "production_date",
    "model",
    "eid",
    "endpoint",
];
pub const SIM_SORT: &[&str] = &[
    "id",
    "issuer_org",
    "reseller_org",
    "customer_org",
    "iccid",
    "eid",
    "status",
    "production_date",
    "endpoint",
    "model",
];
pub const EVENT_Q: &[&str] = &[
    "type",
    "source",
    "severity",
    "alert",
    "description",
    "from",
    "until",
];
pub const EVENT_SORT: &[&str] = &["id", "timestamp", "source", "severity", "alert", "type"];

fn not_found(id: i64) -> AppError {
    AppError::not_found("not_found", format!("SIM with id {id} not found"))
}

/// A non-numeric path id is 400.
pub fn path_id(raw: &str) -> AppResult<i64> {
    raw.trim()
        .parse()
        .map_err(|_| AppError::bad_request(format!("'{raw}' is not a numeric id")))
}

fn sees(p: &Principal, path: &Option<String>) -> bool {
    path.as_deref().is_some_and(|path| {
        crate::domain::org::path_ids(path)
            .last()
            .is_some_and(|id| p.sees_org(*id, path))
    })
}

/// A SIM the caller sees through its issuer, reseller or customer org; deleted SIMs never.
pub async fn visible_sim(state: &AppState, p: &Principal, id: i64) -> AppResult<EmnifySim> {
    match state.store.esim_get(id).await? {
        Some(s)
            if s.status != SimStatus::Deleted.id()
                && (p.level == AccessLevel::Admin
                    || sees(p, &s.issuer_path)
                    || sees(p, &s.reseller_path)
                    || sees(p, &s.customer_path)) =>
        {
            Ok(s)
        }
        _ => Err(not_found(id)),
    }
}

fn q_err(msg: String) -> AppError {
    AppError::invalid_as(Invalid::Query, "q", msg)
}

fn sim_filters(q: Option<&str>) -> AppResult<Vec<SimCond>> {
    let Some(q) = q else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for (field, value) in rules::parse_q(q, SIM_Q)? {
        let int = |v: &str| rules::q_int(&field, v);
        out.push(match field.as_str() {
            "id" => SimCond::Eq(SimCol::Id, int(value)?),
            "issuer_org" => SimCond::Eq(SimCol::IssuerOrg, int(value)?),
            "reseller_org" => SimCond::Eq(SimCol::ResellerOrg, int(value)?),
            "customer_org" => SimCond::Eq(SimCol::CustomerOrg, int(value)?),
            "model" => SimCond::Eq(SimCol::Model, int(value)?),
            "endpoint" if value.eq_ignore_ascii_case("null") => SimCond::IsNull(SimCol::Endpoint),
            "endpoint" => SimCond::Eq(SimCol::Endpoint, int(value)?),
            "iccid" | "iccid_with_luhn" => {
                if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(q_err(format!("{field} must be digits")));
                }
                let stored = rules::stored_for_iccid(value, field == "iccid_with_luhn");
                SimCond::TextIn(SimCol::Iccid, vec![stored])
            }
            "imsi" => SimCond::TextIn(SimCol::Imsi, vec![value.to_string()]),
            "eid" => SimCond::TextIn(SimCol::Eid, vec![value.to_string()]),
            "msisdn" => SimCond::Prefix(SimCol::Msisdn, value.trim_start_matches('+').to_string()),
            "status" => SimCond::StatusIn(
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
            "production_date" => {
                SimCond::Date(crate::domain::dates::date("production_date", value).map_err(q_err)?)
            }
            _ => return Err(q_err(format!("'{field}' is not a filter field"))),
        });
    }
    Ok(out)
}

fn sim_sort(sort: Option<&str>) -> AppResult<Vec<(SimSortKey, bool)>> {
    rules::parse_sort(sort.unwrap_or("id"), SIM_SORT)?
        .into_iter()
        .map(|(f, desc)| {
            let key = match f.as_str() {
                "id" => SimSortKey::Id,
                "issuer_org" => SimSortKey::IssuerOrg,
                "reseller_org" => SimSortKey::ResellerOrg,
                "customer_org" => SimSortKey::CustomerOrg,
                "iccid" => SimSortKey::Iccid,
                "eid" => SimSortKey::Eid,
                "status" => SimSortKey::Status,
                "production_date" => SimSortKey::ProductionDate,
                "endpoint" => SimSortKey::Endpoint,
                _ => SimSortKey::Model,
            };
            Ok((key, desc))
        })
        .collect()
}

pub struct Listed<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: EmnifyPage,
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
async fn page_or_last<T, F, Fut>(page: EmnifyPage, read: F) -> AppResult<Listed<T>>
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

fn org_ref(v: &Value) -> Result<Option<i64>, AppError> {
    match v.get("id") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| AppError::invalid("id", "organisation id must be an integer")),
        Some(Value::String(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| AppError::invalid("id", "organisation id must be an integer")),
        Some(_) => Err(AppError::invalid(
            "id",
            "organisation id must be an integer",
        )),
    }
}

/// PATCH: status and org changes, each checked against the caller's relation to the SIM.
pub async fn patch(
    state: &AppState,
    p: &Principal,
    id: i64,
    body: &Value,
    if_match: Option<crate::domain::etag::IfMatch>,
) -> AppResult<()> {
    let obj = body
        .as_object()
        .ok_or_else(|| AppError::invalid("body", "a JSON object is required"))?;
    let sim = visible_sim(state, p, id).await?;
    let rel = rules::relation(
        p,
        org_at(sim.issuer_org_id, &sim.issuer_path),
        org_at(sim.reseller_org_id, &sim.reseller_path),
        org_at(sim.customer_org_id, &sim.customer_path),
    );
    let mut patch = EmnifySimPatch::default();
    let mut any = false;
    if let Some(status) = obj.get("status") {
        any = true;
        if !rules::may_change(rel, SimField::Status) {
            return Err(AppError::forbidden(
                "status",
                "You may not change the status of this SIM",
            ));
        }
        let sid = status
            .get("id")
            .and_then(Value::as_i64)
            .ok_or_else(|| AppError::required("sim_status - id"))?;
        patch.status = Some(
            SimStatus::from_id(sid)
                .ok_or_else(|| AppError::invalid("status", format!("unknown status id {sid}")))?,
        );
    }
    let fields = [
        (SimField::IssuerOrg, ["issuer_org", "issuer_organisation"]),
        (
            SimField::ResellerOrg,
            ["reseller_org", "reseller_organisation"],
        ),
        (
            SimField::CustomerOrg,
            ["customer_org", "customer_organisation"],
        ),
    ];
    for (field, keys) in fields {
        let Some(v) = keys.iter().find_map(|k| obj.get(*k)) else {
            continue;
        };
        any = true;
        if !rules::may_change(rel, field) {
            return Err(AppError::forbidden(
                keys[0],
                format!("You may not change {} of this SIM", keys[0]),
            ));
        }
        let target = org_ref(v)?;
        if target.is_none() && field == SimField::IssuerOrg {
            return Err(AppError::invalid_as(
                Invalid::Reference,
                "issuer_org",
                "issuer_org cannot be emptied",
            ));
        }
        if let Some(tid) = target {
            // An unknown org answers as one the caller may not use: ids of other tenants' orgs
            // are not to be probed through this route.
            match state.store.org_find(&EntityRef::Id(tid)).await? {
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
        .esim_patch(id, patch, &state.actor_if(p, if_match))
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
        .esim_delete(id, &state.actor_if(p, if_match))
        .await
    {
        Err(StoreError::NotFound) => Err(not_found(id)),
        other => Ok(other?),
    }
}

fn event_filters(q: Option<&str>) -> AppResult<Vec<EventCond>> {
    let Some(q) = q else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    let (mut from, mut until) = (None, None);
    let stamp = |name: &str, v: &str| -> AppResult<DateTime<Utc>> {
        crate::domain::dates::timestamp(name, v).map_err(q_err)
    };
    for (field, value) in rules::parse_q(q, EVENT_Q)? {
        let ints = |col: &'static str| -> AppResult<EventCond> {
            Ok(EventCond::In(
                col,
                value
                    .split('|')
                    .map(|v| rules::q_int(&field, v))
                    .collect::<Result<_, _>>()?,
            ))
        };
        match field.as_str() {
            "type" => out.push(ints("type_id")?),
            "source" => out.push(ints("source")?),
            "severity" => out.push(ints("severity")?),
            "alert" => out.push(EventCond::Alert(
                crate::domain::paging::parse_bool("alert", value)
                    .map_err(|_| q_err("alert must be true or false".into()))?,
            )),
            "description" => out.push(EventCond::Description(value.to_string())),
            "from" => from = Some(stamp("from", value)?),
            _ => until = Some(stamp("until", value)?),
        }
    }
    match (from, until) {
        (Some(f), Some(u)) => out.push(EventCond::Between(f, u)),
        (None, None) => {}
        _ => return Err(q_err("from and until go together".into())),
    }
    Ok(out)
}

fn event_sort(sort: Option<&str>) -> AppResult<Vec<(EventSortKey, bool)>> {
    let Some(sort) = sort else {
        return Ok(vec![(EventSortKey::Id, true)]);
    };
    rules::parse_sort(sort, EVENT_SORT)?
        .into_iter()
        .map(|(f, desc)| {
            let key = match f.as_str() {
                "id" => EventSortKey::Id,
                "timestamp" => EventSortKey::Timestamp,
                "source" => EventSortKey::Source,
                "severity" => EventSortKey::Severity,
                "alert" => EventSortKey::Alert,
                _ => EventSortKey::Type,
            };
            Ok((key, desc))
        })
        .collect()
}

/// Events of a SIM; an unknown or invisible SIM has none (vendor behaviour: 200 `[]`).
pub async fn events(
    state: &AppState,
    p: &Principal,
    sim_id: i64,
    q: Option<&str>,
    sort: Option<&str>,
    page: EmnifyPage,
) -> AppResult<Listed<EventRow>> {
    let filters = event_filters(q)?;
    let sort = event_sort(sort)?;
    if visible_sim(state, p, sim_id).await.is_err() {
        return Ok(Listed {
            items: Vec::new(),
            total: 0,
            page: page.clamp(0),
        });
    }
    let mut listed = page_or_last(page, |page| {
        state
            .store
            .events_list(sim_id, &filters, &sort, page.per_page, page.offset())
    })
    .await?;
    redact_events(state, p, &mut listed.items).await?;
    Ok(listed)
}

/// The org keys of an org-change event's detail.
const DETAIL_ORGS: [&str; 3] = ["issuer_org", "reseller_org", "customer_org"];

/// A SIM's history outlives its changes of hands: whoever holds it now sees every event, but no
/// user or organisation it may not know — an org outside its scope and not one of its own
/// ancestors is left out (also from an org change's detail), and a user outside its scope is left
/// out (platform or parent-reseller staff then show as their organisation only, never by name or
/// e-mail).
async fn redact_events(state: &AppState, p: &Principal, events: &mut [EventRow]) -> AppResult<()> {
    if p.level == AccessLevel::Admin {
        return Ok(());
    }
    let detail_org = |e: &EventRow, key: &str, end: &str| -> Option<i64> {
        e.detail
            .as_ref()?
            .0
            .pointer(&format!("/transition/sim/{key}/{end}"))?
            .as_i64()
    };
    let mut ids: Vec<i64> = events
        .iter()
        .flat_map(|e| {
            DETAIL_ORGS
                .iter()
                .flat_map(move |k| [detail_org(e, k, "from"), detail_org(e, k, "to")])
        })
        .flatten()
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let known: std::collections::HashSet<i64> = if ids.is_empty() {
        Default::default()
    } else {
        state
            .store
            .orgs_by_ids(&ids)
            .await?
            .into_iter()
            .filter(|o| p.knows_org(o.id, &o.path))
            .map(|o| o.id)
            .collect()
    };
    for e in events.iter_mut() {
        let org_known = e
            .org_id
            .zip(e.org_path.as_deref())
            .is_some_and(|(id, path)| p.knows_org(id, path));
        if !org_known {
            (e.org_id, e.org_name) = (None, None);
        }
        let user_in_scope = e
            .user_org_id
            .zip(e.user_org_path.as_deref())
            .is_some_and(|(id, path)| p.sees_org(id, path));
        if !user_in_scope {
            (e.user_id, e.user_name, e.user_email) = (None, None, None);
        }
        if let Some(detail) = e.detail.as_mut() {
            for key in DETAIL_ORGS {
                for end in ["from", "to"] {
                    let slot = detail
                        .0
                        .pointer_mut(&format!("/transition/sim/{key}/{end}"));
                    if let Some(slot) = slot {
                        if slot.as_i64().is_some_and(|id| !known.contains(&id)) {
                            *slot = Value::Null;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

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
