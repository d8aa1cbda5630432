//! emnify endpoints (devices): the list with its filters and sorts, the single read, create, PATCH
//! (with the SIM put in or taken out), DELETE; and the service and tariff profiles they run under.
use super::sims::{page_or_last, q_err, Listed};
use crate::domain::access::Principal;
use crate::domain::connectivity::Connectivity;
use crate::domain::emnify::{self as rules, EmnifyPage, Fields};
use crate::domain::endpoint::{self, EndpointStatus};
use crate::domain::ids::EntityRef;
use crate::domain::sim::SimStatus;
use crate::error::{AppError, AppResult, Invalid};
use crate::state::AppState;
use crate::store::{
    EndpointCol, EndpointCond, EndpointPatch, EndpointRow, IpChoice, NetworkEvent, NewEndpoint,
    NewSms, Operator, ServiceProfile, SimAttach, SmsRow, StoreError, TariffProfile,
};
use serde_json::{json, Value};

/// The fields of an endpoint list's `q`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EndpointQ {
    Id,
    Status,
    ServiceProfile,
    TariffProfile,
    SimStatus,
    Name,
    Tags,
    IpAddress,
    Imei,
    Eid,
    Iccid,
    IccidWithLuhn,
    Imsi,
    Msisdn,
    Created,
    LastUpdated,
}

const ENDPOINT_Q: &Fields<EndpointQ> = &[
    ("id", EndpointQ::Id),
    ("status", EndpointQ::Status),
    ("service_profile", EndpointQ::ServiceProfile),
    ("tariff_profile", EndpointQ::TariffProfile),
    ("sim_status", EndpointQ::SimStatus),
    ("name", EndpointQ::Name),
    ("tags", EndpointQ::Tags),
    ("ip_address", EndpointQ::IpAddress),
    ("imei", EndpointQ::Imei),
    ("eid", EndpointQ::Eid),
    ("iccid", EndpointQ::Iccid),
    ("iccid_with_luhn", EndpointQ::IccidWithLuhn),
    ("imsi", EndpointQ::Imsi),
    ("msisdn", EndpointQ::Msisdn),
    ("created", EndpointQ::Created),
    ("last_updated", EndpointQ::LastUpdated),
];

const ENDPOINT_SORT: &Fields<EndpointCol> = &[
    ("id", EndpointCol::Id),
    ("name", EndpointCol::Name),
    ("status", EndpointCol::Status),
    ("created", EndpointCol::Created),
    ("last_updated", EndpointCol::LastUpdated),
    ("tags", EndpointCol::Tags),
    ("ip_address", EndpointCol::IpAddress),
    ("imei", EndpointCol::Imei),
    ("eid", EndpointCol::SimEid),
    ("service_profile", EndpointCol::ServiceProfile),
    ("tariff_profile", EndpointCol::TariffProfile),
];

pub(crate) fn not_found(id: i64) -> AppError {
    AppError::not_found("not_found", format!("Endpoint with id {id} not found"))
}

/// A write's answer, where "not found" means the endpoint the route addresses.
fn on_endpoint<T>(endpoint: i64, r: crate::store::StoreResult<T>) -> AppResult<T> {
    match r {
        Err(StoreError::NotFound) => Err(not_found(endpoint)),
        other => Ok(other?),
    }
}

/// `ids` separated by `|`, each one of `known` (when given).
fn id_list(field: &str, value: &str, known: Option<&dyn Fn(i64) -> bool>) -> AppResult<Vec<i64>> {
    value
        .split('|')
        .map(|v| {
            let id = rules::q_int(field, v.trim())?;
            match known {
                Some(ok) if !ok(id) => Err(q_err(format!("unknown {field} {id}"))),
                _ => Ok(id),
            }
        })
        .collect()
}

/// The day a `created`/`last_updated` value names: its date part (the SDK sends
/// `2022-03-27 00:00:00`; time and offset are ignored).
fn day(field: &str, value: &str) -> AppResult<chrono::NaiveDate> {
    let date = value.get(..10).unwrap_or(value);
    crate::domain::dates::date(field, date).map_err(q_err)
}

fn filters(q: Option<&str>) -> AppResult<Vec<EndpointCond>> {
    let Some(q) = q else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for (field, key, value) in rules::parse_q(q, ENDPOINT_Q)? {
        let text = |col| EndpointCond::Text(col, value.to_string());
        out.push(match key {
            EndpointQ::Id => EndpointCond::In(EndpointCol::Id, id_list(field, value, None)?),
            EndpointQ::Status => EndpointCond::In(
                EndpointCol::Status,
                id_list(
                    field,
                    value,
                    Some(&|id| EndpointStatus::from_id(id).is_some()),
                )?,
            ),
            EndpointQ::ServiceProfile => {
                EndpointCond::In(EndpointCol::ServiceProfile, id_list(field, value, None)?)
            }
            EndpointQ::TariffProfile => {
                EndpointCond::In(EndpointCol::TariffProfile, id_list(field, value, None)?)
            }
            EndpointQ::SimStatus => EndpointCond::In(
                EndpointCol::SimStatus,
                id_list(field, value, Some(&|id| SimStatus::from_id(id).is_some()))?,
            ),
            EndpointQ::Name => EndpointCond::Contains(EndpointCol::Name, value.to_string()),
            EndpointQ::Tags => EndpointCond::Contains(EndpointCol::Tags, value.to_string()),
            EndpointQ::IpAddress => text(EndpointCol::IpAddress),
            EndpointQ::Imei => text(EndpointCol::Imei),
            EndpointQ::Eid => EndpointCond::Prefix(EndpointCol::SimEid, value.to_string()),
            EndpointQ::Iccid | EndpointQ::IccidWithLuhn => {
                if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(q_err(format!("{field} must be digits")));
                }
                // A prefix of the ICC body (the Luhn digit of a whole ICC dropped).
                let body = if key == EndpointQ::IccidWithLuhn && value.len() == 20 {
                    &value[..19]
                } else {
                    value
                };
                EndpointCond::Prefix(EndpointCol::SimIccid, body.to_string())
            }
            EndpointQ::Imsi => EndpointCond::Prefix(EndpointCol::SimImsi, value.to_string()),
            EndpointQ::Msisdn => EndpointCond::Prefix(
                EndpointCol::SimMsisdn,
                value.trim_start_matches('+').to_string(),
            ),
            EndpointQ::Created => EndpointCond::Day(EndpointCol::Created, day(field, value)?),
            EndpointQ::LastUpdated => {
                EndpointCond::Day(EndpointCol::LastUpdated, day(field, value)?)
            }
        });
    }
    Ok(out)
}

pub async fn list(
    state: &AppState,
    p: &Principal,
    q: Option<&str>,
    sort: Option<&str>,
    page: EmnifyPage,
) -> AppResult<Listed<EndpointRow>> {
    let filters = filters(q)?;
    let sort = rules::parse_sort(sort.unwrap_or("id"), ENDPOINT_SORT)?;
    let scope = p.scope();
    page_or_last(page, |page| {
        state
            .store
            .endpoint_list(&scope, &filters, &sort, page.per_page, page.offset())
    })
    .await
}

pub async fn get(state: &AppState, p: &Principal, id: i64) -> AppResult<EndpointRow> {
    state
        .store
        .endpoint_get(&p.scope(), id)
        .await?
        .ok_or_else(|| not_found(id))
}

/// What a create asks for, as the body said it (values checked here).
#[derive(Debug, Default)]
pub struct CreateInput {
    pub name: Option<String>,
    pub status: Option<i64>,
    pub tags: Option<String>,
    pub imei: Option<String>,
    pub imei_lock: Option<bool>,
    pub service_profile: Option<i64>,
    pub tariff_profile: Option<i64>,
    /// The SIM and whether to activate it (default: yes).
    pub sim: Option<(i64, Option<bool>)>,
    pub organisation: Option<i64>,
    /// `Some(None)`: `null` given (refused).
    pub ip_address: Option<Option<String>>,
    pub ip_address_space: Option<i64>,
}

/// Every problem of a body at once (emnify lists them all in one 1400).
#[derive(Default)]
struct Problems(Vec<AppError>);

impl Problems {
    fn check<T>(&mut self, r: Result<T, crate::domain::error::DomainError>) -> Option<T> {
        r.map_err(|e| self.0.push(e.into())).ok()
    }

    /// Every problem found, or none: one is reported as it is, several together (emnify 1400).
    fn done(mut self) -> AppResult<()> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(self.0.remove(0)),
            _ => Err(AppError::Problems(self.0)),
        }
    }
}

fn required(field: &'static str) -> AppError {
    AppError::required(field)
}

/// Where the address comes from: `ip_address` (in `ip_address_space` if named), or the lowest free
/// one of `ip_address_space` alone; None when the body names neither.
fn ip_choice(
    problems: &mut Problems,
    address: &Option<Option<String>>,
    space: Option<i64>,
) -> Option<IpChoice> {
    match address {
        Some(Some(raw)) => problems
            .check(crate::domain::ip::address(raw))
            .map(|address| IpChoice::Address { address, space }),
        Some(None) => {
            problems.0.push(AppError::invalid_as(
                Invalid::Format,
                "ip_address",
                "ip_address must not be null",
            ));
            None
        }
        None => space.map(IpChoice::Space),
    }
}

/// The org a body's `organisation {id}` names (one in the caller's scope, else 1401), or the
/// caller's own.
pub(crate) async fn owner_org(
    state: &AppState,
    p: &Principal,
    organisation: Option<i64>,
) -> AppResult<i64> {
    match organisation {
        None => Ok(p.org_id),
        Some(id) => Ok(state
            .store
            .org_find(&p.scope(), &EntityRef::Id(id))
            .await?
            .map(|o| o.id)
            .ok_or_else(|| {
                AppError::invalid_as(
                    Invalid::Reference,
                    "organisation",
                    format!("Organisation with Id '{id}' not found."),
                )
            })?),
    }
}

pub async fn create(state: &AppState, p: &Principal, input: CreateInput) -> AppResult<i64> {
    let mut problems = Problems::default();
    let name = match &input.name {
        Some(n) => problems.check(endpoint::name(n)),
        None => {
            problems.0.push(required("name"));
            None
        }
    };
    let status = problems.check(EndpointStatus::settable(input.status.unwrap_or(0)));
    let tags = match &input.tags {
        Some(t) => problems.check(endpoint::tags(t)).flatten(),
        None => None,
    };
    let imei = match &input.imei {
        Some(i) => problems.check(endpoint::imei(i)),
        None => None,
    };
    let service = input.service_profile;
    let tariff = input.tariff_profile;
    if service.is_none() {
        problems.0.push(required("service_profile"));
    }
    if tariff.is_none() {
        problems.0.push(required("tariff_profile"));
    }
    let ip = ip_choice(&mut problems, &input.ip_address, input.ip_address_space);
    problems.done()?;
    let org_id = owner_org(state, p, input.organisation).await?;
    let new = NewEndpoint {
        org_id,
        name: name.unwrap_or_default(),
        status: status.map(EndpointStatus::id).unwrap_or(0),
        tags,
        imei,
        imei_lock: input.imei_lock.unwrap_or(false),
        service_profile_id: service.unwrap_or_default(),
        tariff_profile_id: tariff.unwrap_or_default(),
        sim: input.sim.map(|(sim_id, activate)| SimAttach {
            sim_id,
            activate: activate.unwrap_or(true),
        }),
        ip: ip.unwrap_or(IpChoice::Auto),
    };
    Ok(state
        .store
        .endpoint_create(new, &p.scope(), &state.actor(p))
        .await?
        .id)
}

/// What a PATCH asks for. For `tags`, `imei`: `Some(None)` clears. `sim`: `Some(None)` takes the SIM
/// out, `Some(Some((id, activate)))` puts one in (not activated unless asked).
#[derive(Debug, Default)]
pub struct PatchInput {
    pub name: Option<String>,
    pub status: Option<i64>,
    pub tags: Option<Option<String>>,
    pub imei: Option<Option<String>>,
    pub imei_lock: Option<bool>,
    pub service_profile: Option<i64>,
    pub tariff_profile: Option<i64>,
    pub sim: Option<Option<(i64, Option<bool>)>>,
    pub ip_address: Option<Option<String>>,
    pub ip_address_space: Option<i64>,
}

impl PatchInput {
    fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.status.is_none()
            && self.tags.is_none()
            && self.imei.is_none()
            && self.imei_lock.is_none()
            && self.service_profile.is_none()
            && self.tariff_profile.is_none()
            && self.sim.is_none()
            && self.ip_address.is_none()
            && self.ip_address_space.is_none()
    }
}

pub async fn patch(state: &AppState, p: &Principal, id: i64, input: PatchInput) -> AppResult<()> {
    // The endpoint first: an unknown one is 404 whatever the body says.
    get(state, p, id).await?;
    if input.is_empty() {
        return Err(AppError::invalid(
            "body",
            "nothing to change: give at least one field",
        ));
    }
    let mut problems = Problems::default();
    let mut patch = EndpointPatch {
        imei_lock: input.imei_lock,
        service_profile_id: input.service_profile,
        tariff_profile_id: input.tariff_profile,
        ..EndpointPatch::default()
    };
    if let Some(n) = &input.name {
        patch.name = problems.check(endpoint::name(n));
    }
    if let Some(s) = input.status {
        patch.status = problems
            .check(EndpointStatus::settable(s))
            .map(EndpointStatus::id);
    }
    if let Some(t) = &input.tags {
        patch.tags = match t {
            Some(t) => problems.check(endpoint::tags(t)),
            None => Some(None),
        };
    }
    if let Some(i) = &input.imei {
        patch.imei = match i {
            Some(i) => problems.check(endpoint::imei(i)).map(Some),
            None => Some(None),
        };
    }
    patch.ip = ip_choice(&mut problems, &input.ip_address, input.ip_address_space);
    problems.done()?;
    patch.sim = input.sim.map(|s| {
        s.map(|(sim_id, activate)| SimAttach {
            sim_id,
            activate: activate.unwrap_or(false),
        })
    });
    let updated = state
        .store
        .endpoint_update(&p.scope(), id, patch, &state.actor(p))
        .await;
    on_endpoint(id, updated).map(|_| ())
}

pub async fn delete(state: &AppState, p: &Principal, id: i64) -> AppResult<()> {
    let deleted = state
        .store
        .endpoint_delete(&p.scope(), id, &state.actor(p))
        .await;
    on_endpoint(id, deleted)
}

fn profile_not_found(label: &str, id: i64) -> AppError {
    AppError::not_found("not_found", format!("{label} with id {id} not found"))
}

pub async fn service_profiles(state: &AppState, p: &Principal) -> AppResult<Vec<ServiceProfile>> {
    Ok(state.store.service_profiles(&p.scope(), None).await?)
}

pub async fn service_profile(
    state: &AppState,
    p: &Principal,
    id: i64,
) -> AppResult<ServiceProfile> {
    state
        .store
        .service_profiles(&p.scope(), Some(id))
        .await?
        .pop()
        .ok_or_else(|| profile_not_found("Service profile", id))
}

pub async fn tariff_profiles(state: &AppState, p: &Principal) -> AppResult<Vec<TariffProfile>> {
    Ok(state.store.tariff_profiles(&p.scope(), None).await?)
}

pub async fn tariff_profile(state: &AppState, p: &Principal, id: i64) -> AppResult<TariffProfile> {
    state
        .store
        .tariff_profiles(&p.scope(), Some(id))
        .await?
        .pop()
        .ok_or_else(|| profile_not_found("Tariff profile", id))
}

pub async fn operators(state: &AppState) -> AppResult<Vec<Operator>> {
    Ok(state.store.operators().await?)
}

/// The operators the endpoint is barred from.
pub async fn blacklist(state: &AppState, p: &Principal, id: i64) -> AppResult<Vec<Operator>> {
    state
        .store
        .blacklist(&p.scope(), id)
        .await?
        .ok_or_else(|| not_found(id))
}

/// Bars the endpoint from an operator (`add`), or lifts the bar.
pub async fn blacklist_change(
    state: &AppState,
    p: &Principal,
    endpoint: i64,
    operator: i64,
    add: bool,
) -> AppResult<()> {
    on_endpoint(
        endpoint,
        state
            .store
            .blacklist_change(&p.scope(), endpoint, operator, add, &state.actor(p))
            .await,
    )
}

/// An endpoint's connectivity: its state from the network events of its SIM since it went in (no
/// SIM, or no event yet: OFFLINE); the location names the operator and country when the event did
/// (`detail.operator.id`, or `detail.mcc` with `detail.mnc`).
pub async fn connectivity(
    state: &AppState,
    p: &Principal,
    id: i64,
) -> AppResult<Connectivity<Value, Value>> {
    use crate::domain::connectivity::{fold, signal};
    let events = state
        .store
        .network_events(&p.scope(), id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let needs_operators = events.iter().any(|e| {
        e.detail
            .as_ref()
            .is_some_and(|d| d.0.get("operator").is_some() || d.0.get("mcc").is_some())
    });
    let operators = if needs_operators {
        state.store.operators().await?
    } else {
        Vec::new()
    };
    let location = |e: &NetworkEvent| {
        let detail = e.detail.as_ref().map(|d| &d.0);
        let field = |k: &str| detail.and_then(|d| d.get(k));
        let operator = match field("operator")
            .and_then(|o| o.get("id"))
            .and_then(Value::as_i64)
        {
            Some(op) => operators.iter().find(|o| o.id == op),
            None => {
                let text = |v: Option<&Value>| {
                    v.map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    })
                };
                let (mcc, mnc) = (text(field("mcc")), text(field("mnc")));
                operators.iter().find(|o| {
                    Some(&o.mcc) == mcc.as_ref()
                        && o.mncs.iter().any(|(_, m)| Some(m) == mnc.as_ref())
                })
            }
        };
        let mut l = json!({"last_updated": crate::domain::dates::emnify_time(&e.ts)});
        if let Some(o) = operator {
            l["operator"] = json!({"id": o.id, "name": o.name});
            l["country"] = json!({"id": o.country_id, "name": o.country_name});
        }
        l
    };
    let denial = state
        .store
        .quota_denial(&p.scope(), id, state.now())
        .await?
        .unwrap_or_default();
    Ok(fold(events.iter().filter_map(|e| {
        signal(
            e.type_id,
            || location(e),
            || {
                e.detail
                    .as_ref()
                    .and_then(|d| d.0.get("pdp_context").cloned())
            },
        )
    }))
    .denied(denial.data, denial.sms))
}

/// Records a reset of the endpoint's location and/or data session. No core-network adapter ships:
/// the request is recorded (event 1011), the state is not changed.
pub async fn connectivity_reset(
    state: &AppState,
    p: &Principal,
    id: i64,
    reset: &[&'static str],
) -> AppResult<()> {
    on_endpoint(
        id,
        state
            .store
            .connectivity_reset(&p.scope(), id, reset, &state.actor(p))
            .await,
    )
}

fn sms_not_found(id: i64) -> AppError {
    AppError::not_found("not_found", format!("SMS with id {id} not found"))
}

/// What an SMS submission says, as the body said it.
#[derive(Debug, Default)]
pub struct SmsInput {
    pub payload: Option<String>,
    pub source_address: Option<String>,
    pub source_address_type: Option<i64>,
    pub expiry_date: Option<String>,
    pub udh: Option<String>,
    pub dcs: Option<i64>,
}

/// Submits an MT SMS to the endpoint. Accepted without a SIM: it waits for one.
pub async fn sms_send(
    state: &AppState,
    p: &Principal,
    endpoint: i64,
    input: SmsInput,
) -> AppResult<i64> {
    use crate::domain::sms;
    get(state, p, endpoint).await?;
    let denial = state
        .store
        .quota_denial(&p.scope(), endpoint, state.now())
        .await?;
    if denial.is_some_and(|d| d.sms) {
        return Err(AppError::conflict(
            "sms",
            format!("SMS to endpoint {endpoint} are blocked: its SMS quota is missing, used up or expired"),
        ));
    }
    let payload = sms::payload(
        input
            .payload
            .as_deref()
            .ok_or_else(|| AppError::required("payload"))?,
    )?;
    let source = sms::source_address(
        input
            .source_address
            .as_deref()
            .unwrap_or(&state.config.sms.default_source_address),
    )?;
    let source_type = match input.source_address_type {
        None => sms::default_address_type(&source),
        Some(t @ (145 | 161 | 208)) => t as i16,
        Some(t) => {
            return Err(AppError::invalid(
                "source_address_type",
                format!("{t} is not 145 (International), 161 (National) or 208 (Alphanumeric)"),
            ))
        }
    };
    let now = state.now();
    let expiry_date = match input.expiry_date.as_deref() {
        None => now + chrono::Duration::hours(state.config.sms.validity_hours),
        Some(raw) => {
            let at = crate::domain::dates::emnify_timestamp("expiry_date", raw)
                .map_err(|m| AppError::invalid("expiry_date", m))?;
            if at <= now {
                return Err(AppError::invalid("expiry_date", "must be in the future"));
            }
            at
        }
    };
    let new = NewSms {
        source_address: source,
        source_address_type: source_type,
        payload,
        udh: input.udh.as_deref().map(sms::udh).transpose()?,
        dcs: input.dcs.map(sms::dcs).transpose()?.unwrap_or(0),
        expiry_date,
    };
    on_endpoint(
        endpoint,
        state
            .store
            .sms_send(&p.scope(), endpoint, new, &state.actor(p))
            .await,
    )
}

/// The endpoint's SMS, MT and MO, newest first.
pub async fn sms_list(
    state: &AppState,
    p: &Principal,
    endpoint: i64,
    page: EmnifyPage,
) -> AppResult<Listed<SmsRow>> {
    let scope = p.scope();
    let scope = &scope;
    page_or_last(page, |page| async move {
        state
            .store
            .sms_list(scope, endpoint, None, page.per_page, page.offset())
            .await?
            .ok_or(StoreError::NotFound)
    })
    .await
    .map_err(|e| match e {
        AppError::NotFound { .. } => not_found(endpoint),
        e => e,
    })
}

pub async fn sms_get(state: &AppState, p: &Principal, endpoint: i64, id: i64) -> AppResult<SmsRow> {
    let (mut rows, _) = state
        .store
        .sms_list(&p.scope(), endpoint, Some(id), 1, 0)
        .await?
        .ok_or_else(|| not_found(endpoint))?;
    rows.pop().ok_or_else(|| sms_not_found(id))
}

/// Cancels an MT SMS still waiting or buffered.
pub async fn sms_cancel(state: &AppState, p: &Principal, endpoint: i64, id: i64) -> AppResult<()> {
    let canceled = state
        .store
        .sms_cancel(&p.scope(), endpoint, id, &state.actor(p))
        .await;
    match on_endpoint(endpoint, canceled)? {
        true => Ok(()),
        false => Err(sms_not_found(id)),
    }
}
