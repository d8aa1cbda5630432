//! A SIM's events (emnify `/api/v1/sim/{id}/events`): filters, sorts, and what the caller may see of
//! the organisations they name.
use super::sims::{page_or_last, q_err, Listed};
use crate::domain::access::{AccessLevel, Principal};
use crate::domain::emnify::{self as rules, EmnifyPage, Fields};
use crate::error::AppResult;
use crate::state::AppState;
use crate::store::{EventCond, EventRow, EventSortKey, EventSubject};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// The fields of an event list's `q`; the account-wide list has the rest too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EventQ {
    Type,
    Source,
    Severity,
    Alert,
    Description,
    From,
    Until,
    Iccid,
    IccidWithLuhn,
    Imsi,
    Endpoint,
    Tags,
    IpAddress,
    Imei,
    Organisation,
    User,
}

const EVENT_Q: &Fields<EventQ> = &[
    ("type", EventQ::Type),
    ("source", EventQ::Source),
    ("severity", EventQ::Severity),
    ("alert", EventQ::Alert),
    ("description", EventQ::Description),
    ("from", EventQ::From),
    ("until", EventQ::Until),
];

const ACCOUNT_EVENT_Q: &Fields<EventQ> = &[
    ("type", EventQ::Type),
    ("source", EventQ::Source),
    ("severity", EventQ::Severity),
    ("alert", EventQ::Alert),
    ("description", EventQ::Description),
    ("from", EventQ::From),
    ("until", EventQ::Until),
    ("iccid", EventQ::Iccid),
    ("iccid_with_luhn", EventQ::IccidWithLuhn),
    ("imsi", EventQ::Imsi),
    ("endpoint", EventQ::Endpoint),
    ("tags", EventQ::Tags),
    ("ip_address", EventQ::IpAddress),
    ("imei", EventQ::Imei),
    ("organisation", EventQ::Organisation),
    ("user", EventQ::User),
];

/// A condition the account-wide list resolves to ids first (in the caller's scope), then to
/// `ev.<column> IN ids`: no join of events with another tenant-keyed table.
#[derive(Debug, Clone)]
enum Resolve {
    /// SIMs by the account's SIM list `q` (`iccid:...`), one alternative each.
    Sims(Vec<String>),
    /// Endpoints by the endpoint list's `q`, one alternative each.
    Endpoints(Vec<String>),
    Organisation(String),
    User(String),
}

/// At most this many values in one field, `|` between (emnify's limit).
const MAX_ALTERNATIVES: usize = 6;

const EVENT_SORT: &Fields<EventSortKey> = &[
    ("id", EventSortKey::Id),
    ("timestamp", EventSortKey::Timestamp),
    ("source", EventSortKey::Source),
    ("severity", EventSortKey::Severity),
    ("alert", EventSortKey::Alert),
    ("type", EventSortKey::Type),
];

/// The account-wide list sorts by its SIMs', devices', orgs' and users' fields too.
const ACCOUNT_EVENT_SORT: &Fields<EventSortKey> = &[
    ("id", EventSortKey::Id),
    ("timestamp", EventSortKey::Timestamp),
    ("source", EventSortKey::Source),
    ("severity", EventSortKey::Severity),
    ("alert", EventSortKey::Alert),
    ("type", EventSortKey::Type),
    ("iccid", EventSortKey::Iccid),
    ("imsi", EventSortKey::Imsi),
    ("endpoint", EventSortKey::Endpoint),
    ("tags", EventSortKey::Tags),
    ("ip_address", EventSortKey::IpAddress),
    ("organisation", EventSortKey::Organisation),
    ("user", EventSortKey::User),
];

fn event_filters(q: Option<&str>) -> AppResult<Vec<EventCond>> {
    Ok(parse_filters(q, EVENT_Q)?.0)
}

fn alternatives(field: &str, value: &str) -> AppResult<Vec<String>> {
    let values: Vec<String> = value.split('|').map(|v| v.trim().to_string()).collect();
    if values.len() > MAX_ALTERNATIVES || values.iter().any(String::is_empty) {
        return Err(q_err(format!(
            "{field} takes 1 to {MAX_ALTERNATIVES} values separated by |"
        )));
    }
    Ok(values)
}

fn parse_filters(
    q: Option<&str>,
    fields: &Fields<EventQ>,
) -> AppResult<(Vec<EventCond>, Vec<Resolve>)> {
    let Some(q) = q else {
        return Ok((Vec::new(), Vec::new()));
    };
    let mut out = Vec::new();
    let mut resolve = Vec::new();
    let (mut from, mut until) = (None, None);
    let stamp = |name: &str, v: &str| -> AppResult<DateTime<Utc>> {
        crate::domain::dates::timestamp(name, v).map_err(q_err)
    };
    for (field, key, value) in rules::parse_q(q, fields)? {
        let each = |q_field: &str| -> AppResult<Vec<String>> {
            Ok(alternatives(field, value)?
                .into_iter()
                .map(|v| format!("{q_field}:{v}"))
                .collect())
        };
        let ints = |col: &'static str| -> AppResult<EventCond> {
            Ok(EventCond::In(
                col,
                value
                    .split('|')
                    .map(|v| rules::q_int(field, v))
                    .collect::<Result<_, _>>()?,
            ))
        };
        match key {
            EventQ::Type => out.push(ints("type_id")?),
            EventQ::Source => out.push(ints("source")?),
            EventQ::Severity => out.push(ints("severity")?),
            EventQ::Alert => out.push(EventCond::Alert(
                crate::domain::paging::parse_bool("alert", value)
                    .map_err(|_| q_err("alert must be true or false".into()))?,
            )),
            EventQ::Description => out.push(EventCond::Description(value.to_string())),
            EventQ::From => from = Some(stamp("from", value)?),
            EventQ::Until => until = Some(stamp("until", value)?),
            EventQ::Iccid => resolve.push(Resolve::Sims(each("iccid")?)),
            EventQ::IccidWithLuhn => resolve.push(Resolve::Sims(each("iccid_with_luhn")?)),
            EventQ::Imsi => resolve.push(Resolve::Sims(each("imsi")?)),
            // An endpoint by its exact name (the endpoint list's `name` is a substring).
            EventQ::Endpoint => resolve.push(Resolve::Endpoints(
                alternatives(field, value)?
                    .into_iter()
                    .map(|v| format!("name:{v}"))
                    .collect(),
            )),
            EventQ::Tags => resolve.push(Resolve::Endpoints(vec![format!("tags:{value}")])),
            EventQ::IpAddress => {
                resolve.push(Resolve::Endpoints(vec![format!("ip_address:{value}")]))
            }
            EventQ::Imei => resolve.push(Resolve::Endpoints(vec![format!("imei:{value}")])),
            EventQ::Organisation => resolve.push(Resolve::Organisation(value.to_lowercase())),
            EventQ::User => resolve.push(Resolve::User(value.to_lowercase())),
        }
    }
    match (from, until) {
        (Some(f), Some(u)) => out.push(EventCond::Between(f, u)),
        (None, None) => {}
        _ => return Err(q_err("from and until go together".into())),
    }
    Ok((out, resolve))
}

/// How many objects one filter of the account-wide list may name at most.
const RESOLVE_CAP: i64 = 10_000;
const EVERY: crate::domain::paging::Page = crate::domain::paging::Page {
    offset: 0,
    limit: RESOLVE_CAP,
};

/// The ids a resolved condition names in the caller's scope; None: nothing matches.
async fn resolve(
    state: &AppState,
    p: &Principal,
    r: &Resolve,
) -> AppResult<(&'static str, Vec<i64>)> {
    let all = EmnifyPage {
        page: 1,
        per_page: RESOLVE_CAP,
    };
    let mut ids = Vec::new();
    let column = match r {
        Resolve::Sims(qs) => {
            for q in qs {
                let found = super::sims::list(state, p, Some(q), None, all).await?;
                ids.extend(found.items.iter().map(|s| s.id));
            }
            "sim_id"
        }
        Resolve::Endpoints(qs) => {
            for q in qs {
                let found = super::endpoints::list(state, p, Some(q), None, all).await?;
                ids.extend(found.items.iter().map(|e| e.id));
            }
            "endpoint_id"
        }
        Resolve::Organisation(name) => {
            let (orgs, _) = state.store.org_list(&p.scope(), None, EVERY).await?;
            ids.extend(
                orgs.iter()
                    .filter(|o| o.name.to_lowercase().contains(name))
                    .map(|o| o.id),
            );
            "org_id"
        }
        Resolve::User(name) => {
            let (users, _) = state.store.user_list(&p.scope(), None, EVERY).await?;
            ids.extend(
                users
                    .iter()
                    .filter(|u| u.name.to_lowercase().contains(name))
                    .map(|u| u.id),
            );
            "user_id"
        }
    };
    ids.sort_unstable();
    ids.dedup();
    Ok((column, ids))
}

/// Every event of the orgs in the caller's scope (`GET /api/v1/event`), newest first.
pub async fn account_events(
    state: &AppState,
    p: &Principal,
    q: Option<&str>,
    sort: Option<&str>,
    page: EmnifyPage,
) -> AppResult<Listed<EventRow>> {
    let (mut filters, resolves) = parse_filters(q, ACCOUNT_EVENT_Q)?;
    let sort = event_sort(sort, ACCOUNT_EVENT_SORT)?;
    for r in &resolves {
        let (column, ids) = resolve(state, p, r).await?;
        if ids.is_empty() {
            return Ok(Listed {
                items: Vec::new(),
                total: 0,
                page,
            });
        }
        filters.push(EventCond::In(column, ids));
    }
    let scope = p.scope();
    let mut listed = page_or_last(page, |page| {
        state.store.events_list(
            &scope,
            EventSubject::Scope,
            &filters,
            &sort,
            page.per_page,
            page.offset(),
        )
    })
    .await?;
    redact_events(state, p, &mut listed.items).await?;
    Ok(listed)
}

fn event_sort(
    sort: Option<&str>,
    fields: &Fields<EventSortKey>,
) -> AppResult<Vec<(EventSortKey, bool)>> {
    let Some(sort) = sort else {
        return Ok(vec![(EventSortKey::Id, true)]);
    };
    Ok(rules::parse_sort(sort, fields)?)
}

/// Events of a SIM; an unknown or invisible SIM has none (vendor behaviour: 200 `[]`).
pub async fn events(
    state: &AppState,
    p: &Principal,
    subject: EventSubject,
    q: Option<&str>,
    sort: Option<&str>,
    page: EmnifyPage,
) -> AppResult<Listed<EventRow>> {
    let filters = event_filters(q)?;
    let sort = event_sort(sort, EVENT_SORT)?;
    let scope = p.scope();
    let mut listed = page_or_last(page, |page| {
        state.store.events_list(
            &scope,
            subject,
            &filters,
            &sort,
            page.per_page,
            page.offset(),
        )
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
