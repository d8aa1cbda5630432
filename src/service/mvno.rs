//! MVNO account operations behind the TelecomX `/mvno` routes. Who may see and change what is
//! decided through `domain::access`; the rules of the account itself live in `domain::mvno`.
use super::access::{self, InScope};
use crate::domain::access::Scope;
use crate::domain::access::{AccessLevel, Principal};
use crate::domain::ids::{EntityRef, ObjectId};
use crate::domain::mvno::{self, AccountState, Features, SimChoice};
use crate::domain::org::{path_ids, OrgKind};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{
    AccountRef, MvnoFilter, MvnoPatch, MvnoRecord, NewAccount, Org, RatePlan, SimPick, SimRecord,
};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

/// What a create request carries, already in Rust types.
#[derive(Default)]
pub struct CreateInput {
    pub customer: Option<String>,
    pub number: Option<String>,
    pub rate_plan: Option<String>,
    pub sim_number: Option<String>,
    pub esim: bool,
    pub auto_assign: bool,
    pub name: Option<String>,
    pub employee: Option<String>,
    pub device_type: Option<String>,
    pub imei: Option<String>,
    pub notes: Option<String>,
    pub start_date: Option<String>,
    pub feature: Option<Value>,
}

/// An org named in a request body: 422 naming the field when unknown or outside the caller's scope.
async fn scoped_org(
    state: &AppState,
    p: &Principal,
    field: &'static str,
    raw: &str,
) -> AppResult<Org> {
    access::org(state, p, raw).await?.or_invalid(
        field,
        format!("{field} must be an organisation in your scope"),
    )
}

/// The holders a customer's SIMs may come from: the customer, then its reseller ancestors, nearest first.
async fn storage_chain(state: &AppState, customer: &Org) -> AppResult<Vec<i64>> {
    let ids = path_ids(&customer.path);
    let orgs: HashMap<i64, Org> = state
        .store
        .orgs_by_ids(&ids)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    Ok(ids
        .iter()
        .rev()
        .filter(|id| **id == customer.id || orgs.get(id).is_some_and(|o| o.kind.is_reseller()))
        .copied()
        .collect())
}

/// A rate plan the customer may use: offered to all, or owned by the customer or an ancestor.
async fn rate_plan_for(state: &AppState, customer: &Org, raw: &str) -> AppResult<RatePlan> {
    let missing = || AppError::not_found("ratePlan", "Rate plan not found");
    let r = EntityRef::parse(raw).ok_or_else(missing)?;
    let plan = state.store.rate_plan_find(&r).await?.ok_or_else(missing)?;
    match plan.owner_org_id {
        Some(owner) if !path_ids(&customer.path).contains(&owner) => Err(missing()),
        _ => Ok(plan),
    }
}

fn pick(choice: &SimChoice, chain: Vec<i64>) -> SimPick {
    SimPick {
        chain,
        iccid: match choice {
            SimChoice::Icc(icc) => Some(icc.clone()),
            _ => None,
        },
        esim_only: *choice == SimChoice::ESim,
        auto_only: *choice == SimChoice::AutoAssign,
    }
}

fn text(field: &'static str, v: Option<String>, max: usize) -> AppResult<Option<String>> {
    match v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > max => Err(AppError::invalid(
            field,
            format!("{field} is longer than {max} characters"),
        )),
        other => Ok(other),
    }
}

/// An employee of the customer, by user id.
async fn employee_of(state: &AppState, customer: &Org, raw: &str) -> AppResult<i64> {
    let user = match ObjectId::parse(raw) {
        Some(oid) => {
            let customer_scope = Scope::Org {
                org_id: customer.id,
                path: customer.path.clone(),
            };
            state
                .store
                .user_find(&customer_scope, &EntityRef::Oid(oid))
                .await?
        }
        None => None,
    };
    user.filter(|u| u.state != "DELETED")
        .map(|u| u.id)
        .ok_or_else(|| AppError::invalid("employee", "employee must be a user of the customer"))
}

pub async fn create(state: &AppState, p: &Principal, input: CreateInput) -> AppResult<MvnoRecord> {
    let customer_raw = input
        .customer
        .as_deref()
        .ok_or_else(|| AppError::required("customer"))?;
    let customer = scoped_org(state, p, "customer", customer_raw).await?;
    let number = input
        .number
        .as_deref()
        .ok_or_else(|| AppError::required("number"))?;
    let number = mvno::parse_e164(number).ok_or_else(|| {
        AppError::invalid("number", "number must be in E.164 format, e.g. +4512345678")
    })?;
    let plan_raw = input
        .rate_plan
        .as_deref()
        .ok_or_else(|| AppError::required("ratePlan"))?;
    let plan = rate_plan_for(state, &customer, plan_raw).await?;
    let choice =
        SimChoice::from_request(input.sim_number.as_deref(), input.esim, input.auto_assign)?;
    let features = match &input.feature {
        Some(f) => Features::default().apply(f)?,
        None => Features::default(),
    };
    let employee = match input.employee.as_deref() {
        Some(raw) => Some(employee_of(state, &customer, raw).await?),
        None => None,
    };
    let new = NewAccount {
        oid: ObjectId::generate(state.now()).into_string(),
        customer_org_id: customer.id,
        number,
        rate_plan_id: Some(plan.id),
        name: text("name", input.name, 200)?,
        employee_user_id: employee,
        device_type: text("deviceType", input.device_type, 200)?,
        imei: input.imei.as_deref().map(mvno::parse_imei).transpose()?,
        notes: text("notes", input.notes, 2000)?,
        features,
        start_date: input
            .start_date
            .as_deref()
            .map(mvno::parse_start_date)
            .transpose()?,
    };
    let chain = storage_chain(state, &customer).await?;
    // No SIM to pick: Rule::NoSim, answered as the contract words it (eSIM or not).
    Ok(state
        .store
        .mvno_create(new, &pick(&choice, chain), &state.actor(p))
        .await?)
}

/// `{id}`: the 24-hex id or the E.164 number.
fn account_ref(raw: &str) -> AppResult<AccountRef> {
    if let Some(oid) = ObjectId::parse(raw) {
        return Ok(AccountRef::Oid(oid.into_string()));
    }
    mvno::parse_e164(raw)
        .map(AccountRef::Number)
        .ok_or_else(|| AppError::not_found("not_found", "MVNO account not found"))
}

/// A live (or, with `deleted`, a deleted and still restorable) account the caller can see; else 404.
pub async fn visible(
    state: &AppState,
    p: &Principal,
    raw: &str,
    deleted: bool,
    code: &'static str,
) -> AppResult<MvnoRecord> {
    let missing = || AppError::not_found(code, "MVNO account not found");
    let rec = state
        .store
        .mvno_find(
            &p.scope(),
            &account_ref(raw).map_err(|_| missing())?,
            deleted,
        )
        .await?
        .ok_or_else(missing)?;
    let live_enough = !deleted
        || rec
            .preterminate_until
            .is_some_and(|u| mvno::restorable(state.now(), u));
    if live_enough {
        Ok(rec)
    } else {
        Err(missing())
    }
}

pub struct ListQuery<'a> {
    pub customer: Option<&'a str>,
    pub filter: Option<&'a str>,
    pub rate_plan: Option<&'a str>,
    pub network: Option<&'a str>,
}

pub async fn list(
    state: &AppState,
    p: &Principal,
    q: ListQuery<'_>,
    deleted: bool,
    page: crate::domain::paging::Page,
) -> AppResult<(Vec<MvnoRecord>, i64)> {
    let storage = super::inventory::storage_filter(state, p, q.customer).await?;
    let rate_plan_id = match q.rate_plan.map(str::trim).filter(|r| !r.is_empty()) {
        Some(raw) => {
            let r = EntityRef::parse(raw)
                .ok_or_else(|| AppError::invalid("ratePlan", "ratePlan must be a rate plan id"))?;
            Some(state.store.rate_plan_find(&r).await?.map_or(-1, |rp| rp.id))
        }
        None => None,
    };
    let networks = &state.config.inventory.networks;
    let network = q
        .network
        .map(|n| crate::domain::sim::network_param(n, networks))
        .transpose()?;
    let filter = MvnoFilter {
        storage,
        text: q
            .filter
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_string),
        rate_plan_id,
        network,
        deleted_restorable_at: deleted.then(|| state.now()),
    };
    Ok(state.store.mvno_list(&filter, page).await?)
}

/// A partial update as the request gave it.
#[derive(Default)]
pub struct UpdateInput {
    pub state: Option<String>,
    pub feature: Option<Value>,
    pub name: Option<Option<String>>,
    pub employee: Option<Option<String>>,
    pub device_type: Option<Option<String>>,
    pub imei: Option<Option<String>>,
    pub notes: Option<Option<String>>,
    pub dnd: Option<bool>,
    pub data_disabled: Option<bool>,
    pub rate_plan: Option<String>,
    pub socs_override: Option<Value>,
    pub soc_limit: Option<Value>,
}

pub async fn update(
    state: &AppState,
    p: &Principal,
    raw: &str,
    input: UpdateInput,
    if_match: Option<mvno::IfMatch>,
) -> AppResult<MvnoRecord> {
    let rec = match visible(state, p, raw, false, "not_found").await {
        // A deleted account is there, but cannot be changed.
        Err(AppError::NotFound { .. })
            if visible(state, p, raw, true, "not_found").await.is_ok() =>
        {
            return Err(AppError::conflict("state", "The account is deleted"))
        }
        other => other?,
    };
    if (input.socs_override.is_some() || input.soc_limit.is_some()) && p.level != AccessLevel::Admin
    {
        let field = if input.socs_override.is_some() {
            "socsOverride"
        } else {
            "socLimit"
        };
        return Err(AppError::forbidden(
            field,
            format!("{field} is for ADMIN only"),
        ));
    }
    let customer = access::org_of(state, p, rec.customer_org_id).await?;
    let employee_user_id = match input.employee {
        Some(Some(raw)) => Some(Some(employee_of(state, &customer, &raw).await?)),
        Some(None) => Some(None),
        None => None,
    };
    let optional_text = |field: &'static str,
                         v: Option<Option<String>>,
                         max: usize|
     -> AppResult<Option<Option<String>>> {
        v.map(|inner| text(field, inner, max)).transpose()
    };
    let patch = MvnoPatch {
        state: input
            .state
            .map(|s| {
                AccountState::settable(&s)
                    .ok_or_else(|| AppError::invalid("state", "state must be ACTIVE or BLOCKED"))
            })
            .transpose()?,
        features: input
            .feature
            .map(|f| mvno::FeaturePatch::parse(&f))
            .transpose()?,
        name: optional_text("name", input.name, 200)?,
        employee_user_id,
        device_type: optional_text("deviceType", input.device_type, 200)?,
        imei: input
            .imei
            .map(|i| i.map(|v| mvno::parse_imei(&v)).transpose())
            .transpose()?,
        notes: optional_text("notes", input.notes, 2000)?,
        dnd: input.dnd,
        data_disabled: input.data_disabled,
        rate_plan_id: match input.rate_plan {
            Some(raw) => Some(rate_plan_for(state, &customer, &raw).await?.id),
            None => None,
        },
        socs_override: input.socs_override,
        soc_limit: input.soc_limit,
    };
    Ok(state
        .store
        .mvno_update(&p.scope(), rec.key(), patch, &state.actor_if(p, if_match))
        .await?)
}

pub async fn delete(
    state: &AppState,
    p: &Principal,
    raw: &str,
    if_match: Option<mvno::IfMatch>,
) -> AppResult<MvnoRecord> {
    let rec = visible(state, p, raw, false, "not_found").await?;
    let until = mvno::preterminate_until(state.now(), state.config.mvno.recovery_days);
    Ok(state
        .store
        .mvno_delete(&p.scope(), rec.key(), until, &state.actor_if(p, if_match))
        .await?)
}

pub async fn restore(
    state: &AppState,
    p: &Principal,
    raw: &str,
    rate_plan: Option<&str>,
) -> AppResult<MvnoRecord> {
    let rec = visible(state, p, raw, true, "id").await?;
    let rate_plan_id = match rate_plan {
        Some(raw) => {
            let customer = access::org_of(state, p, rec.customer_org_id).await?;
            Some(rate_plan_for(state, &customer, raw).await?.id)
        }
        None => None,
    };
    Ok(state
        .store
        .mvno_restore(&p.scope(), rec.key(), rate_plan_id, &state.actor(p))
        .await?)
}

pub async fn change_sim(
    state: &AppState,
    p: &Principal,
    raw: &str,
    new: &str,
) -> AppResult<(MvnoRecord, SimRecord)> {
    let rec = visible(state, p, raw, false, "mvnoAccount").await?;
    let choice = SimChoice::from_path(new)?;
    let customer = access::org_of(state, p, rec.customer_org_id).await?;
    let chain = storage_chain(state, &customer).await?;
    Ok(state
        .store
        .mvno_change_sim(
            &p.scope(),
            rec.key(),
            &pick(&choice, chain),
            &state.actor(p),
        )
        .await?)
}

/// Each account's reseller (nearest reseller ancestor of its customer): oid and name.
pub async fn resellers(
    state: &AppState,
    recs: &[MvnoRecord],
) -> AppResult<HashMap<i64, (String, String)>> {
    let ids: HashSet<i64> = recs
        .iter()
        .flat_map(|r| path_ids(&r.customer_path))
        .collect();
    let orgs: BTreeMap<i64, Org> = state
        .store
        .orgs_by_ids(&ids.into_iter().collect::<Vec<_>>())
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    Ok(recs
        .iter()
        .filter_map(|r| {
            let chain: Vec<(&Org, OrgKind)> = path_ids(&r.customer_path)
                .iter()
                .filter_map(|id| orgs.get(id))
                .map(|o| (o, o.kind))
                .collect();
            crate::domain::inventory::reseller_of(&chain)
                .map(|o| (r.customer_org_id, (o.oid.clone(), o.name.clone())))
        })
        .collect())
}
