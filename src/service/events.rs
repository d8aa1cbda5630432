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

/// The fields of a SIM event list's `q`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EventQ {
    Type,
    Source,
    Severity,
    Alert,
    Description,
    From,
    Until,
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

const EVENT_SORT: &Fields<EventSortKey> = &[
    ("id", EventSortKey::Id),
    ("timestamp", EventSortKey::Timestamp),
    ("source", EventSortKey::Source),
    ("severity", EventSortKey::Severity),
    ("alert", EventSortKey::Alert),
    ("type", EventSortKey::Type),
];

fn event_filters(q: Option<&str>) -> AppResult<Vec<EventCond>> {
    let Some(q) = q else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    let (mut from, mut until) = (None, None);
    let stamp = |name: &str, v: &str| -> AppResult<DateTime<Utc>> {
        crate::domain::dates::timestamp(name, v).map_err(q_err)
    };
    for (field, key, value) in rules::parse_q(q, EVENT_Q)? {
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
    Ok(rules::parse_sort(sort, EVENT_SORT)?)
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
    let sort = event_sort(sort)?;
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
