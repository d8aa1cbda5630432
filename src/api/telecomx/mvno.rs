//! `/mvno`: MVNO accounts, their soft delete with recovery window, restore and SIM change.
use crate::api::body::Body;
use crate::api::conditional::{tagged, IfMatchHeader};
use crate::api::json::{double_option, iso_millis, Success};
use crate::auth::extract::{ManagersUp, OwnersUp, Readers, Require, ResellerAdminOrAdmin};
use crate::domain::access::{AccessLevel, Principal};
use crate::domain::mvno::{AccountState, Features};
use crate::domain::paging::Page;
use crate::error::{AppError, AppResult};
use crate::service::mvno::{self, CreateInput, ListQuery, UpdateInput};
use crate::state::AppState;
use crate::store::MvnoRecord;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(list_deleted))
        .routes(routes!(get_deleted))
        .routes(routes!(restore))
        .routes(routes!(get_account, update, delete))
        .routes(routes!(change_sim))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MvnoSim {
    sim_number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    imsi: Option<String>,
    network: String,
    form_factor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    puk1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    puk2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pin1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pin2: Option<String>,
}

/// An MVNO account (absent values are omitted). `socs`, `socsOverride`, `socLimit` for ADMIN only;
/// `deleted` and `preterminateUntil` on deleted accounts.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MvnoAccount {
    #[serde(rename = "_id")]
    id: String,
    state: AccountState,
    #[serde(skip_serializing_if = "Option::is_none")]
    number: Option<String>,
    customer: String,
    customer_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reseller: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reseller_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_plan: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_plan_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pbx: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extension: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extension_number: Option<String>,
    dnd: bool,
    data_disabled: bool,
    updating: bool,
    number_state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    employee: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    employee_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    porting: Option<String>,
    usage_block: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delete_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sim_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    imei: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    notes: Option<String>,
    feature: Features,
    #[serde(skip_serializing_if = "Option::is_none")]
    mvno_sim: Option<MvnoSim>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    top_up: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    socs: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<SocOverride>>)]
    socs_override: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<SocLimit>)]
    soc_limit: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    preterminate_until: Option<String>,
}

fn account(r: MvnoRecord, resellers: &HashMap<i64, (String, String)>, admin: bool) -> MvnoAccount {
    let reseller = resellers.get(&r.customer_org_id).cloned();
    let mvno_sim = match (&r.sim_iccid, &r.sim_network, &r.sim_form_factor) {
        (Some(icc), Some(network), Some(ff)) => Some(MvnoSim {
            sim_number: icc.clone(),
            imsi: r.sim_imsi.clone(),
            network: network.clone(),
            form_factor: ff.clone(),
            puk1: None,
            puk2: None,
            pin1: None,
            pin2: None,
        }),
        _ => None,
    };
    let admin_only =
        |v: Option<sqlx::types::Json<Value>>| if admin { v.map(|j| j.0) } else { None };
    MvnoAccount {
        id: r.oid,
        state: r.state,
        number: r.number,
        customer: r.customer_oid,
        customer_name: r.customer_name,
        reseller: reseller.as_ref().map(|x| x.0.clone()),
        reseller_name: reseller.map(|x| x.1),
        rate_plan: r.rate_plan_oid,
        rate_plan_name: r.rate_plan_name,
        pbx: r.pbx,
        extension: r.extension,
        extension_number: r.extension_number,
        dnd: r.dnd,
        data_disabled: r.data_disabled,
        updating: r.updating,
        number_state: r.number_state,
        employee: r.employee_oid,
        employee_name: r.employee_name,
        name: r.name,
        porting: r.porting,
        usage_block: r.usage_block,
        device_type: r.device_type,
        start_date: r.start_date.as_ref().map(iso_millis),
        delete_date: r.delete_date.as_ref().map(iso_millis),
        sim_number: r.sim_iccid,
        imei: r.imei,
        notes: r.notes,
        feature: r.features.0,
        mvno_sim,
        top_up: r.top_up.map(|j| j.0),
        socs: admin_only(r.socs),
        socs_override: admin_only(r.socs_override),
        soc_limit: admin_only(r.soc_limit),
        deleted: r.deleted_at.as_ref().map(iso_millis),
        preterminate_until: r.preterminate_until.as_ref().map(iso_millis),
    }
}

async fn render(
    state: &AppState,
    p: &Principal,
    recs: Vec<MvnoRecord>,
) -> AppResult<Vec<MvnoAccount>> {
    let resellers = mvno::resellers(state, &recs).await?;
    let admin = p.level == AccessLevel::Admin;
    Ok(recs
        .into_iter()
        .map(|r| account(r, &resellers, admin))
        .collect())
}

async fn render_one(
    state: &AppState,
    p: &Principal,
    rec: MvnoRecord,
) -> AppResult<Json<MvnoAccount>> {
    Ok(Json(render(state, p, vec![rec]).await?.remove(0)))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct AccountListQuery {
    /// Customer org id (customer levels: their own org only).
    customer: Option<String>,
    /// Case-insensitive part of number, deviceType, simNumber, IMSI or notes.
    filter: Option<String>,
    /// Rate plan id.
    rate_plan: Option<String>,
    /// SIM network.
    network: Option<String>,
    #[param(value_type = Option<i64>, minimum = 0)]
    offset: Option<String>,
    /// 1..500, default 100.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    limit: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountList {
    offset: i64,
    limit: i64,
    total: i64,
    mvno_accounts: Vec<MvnoAccount>,
}

async fn listing(
    state: AppState,
    p: Principal,
    q: AccountListQuery,
    deleted: bool,
) -> AppResult<Json<AccountList>> {
    let page = Page::parse(q.offset.as_deref(), q.limit.as_deref())?;
    let query = ListQuery {
        customer: q.customer.as_deref(),
        filter: q.filter.as_deref(),
        rate_plan: q.rate_plan.as_deref(),
        network: q.network.as_deref(),
    };
    let (recs, total) = mvno::list(&state, &p, query, deleted, page).await?;
    let mvno_accounts = render(&state, &p, recs).await?;
    Ok(Json(AccountList {
        offset: page.offset,
        limit: page.limit,
        total,
        mvno_accounts,
    }))
}

/// Live MVNO accounts in the caller's scope, by id.
#[utoipa::path(operation_id = "list_accounts", get, path = "/mvno", tag = "telecomx", security(("bearer" = [])),
    params(AccountListQuery),
    responses(
        (status = 200, body = AccountList),
        (status = 403, description = "access_denied"),
        (status = 422, description = "customer / ratePlan / network / offset / limit"),
    ))]
async fn list(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
    Query(q): Query<AccountListQuery>,
) -> AppResult<Json<AccountList>> {
    listing(state, p, q, false).await
}

/// Deleted accounts that can still be recovered, newest deletion first.
#[utoipa::path(operation_id = "list_deleted_accounts", get, path = "/mvno/deleted", tag = "telecomx", security(("bearer" = [])), params(AccountListQuery),
    responses((status = 200, body = AccountList), (status = 403, description = "access_denied")))]
async fn list_deleted(
    State(state): State<AppState>,
    Require(p, ..): Require<ResellerAdminOrAdmin>,
    Query(q): Query<AccountListQuery>,
) -> AppResult<Json<AccountList>> {
    listing(state, p, q, true).await
}

/// One deleted, still recoverable account, by id or number.
#[utoipa::path(operation_id = "get_deleted_account", get, path = "/mvno/deleted/{id}", tag = "telecomx", security(("bearer" = [])),
    params(("id" = String, Path, description = "Account id or E.164 number")),
    responses(
        (status = 200, body = MvnoAccount),
        (status = 403, description = "access_denied"),
        (status = 404, description = "not_found"),
    ))]
async fn get_deleted(
    State(state): State<AppState>,
    Require(p, ..): Require<ResellerAdminOrAdmin>,
    Path(id): Path<String>,
) -> AppResult<Json<MvnoAccount>> {
    let rec = mvno::visible(&state, &p, &id, true, "not_found").await?;
    render_one(&state, &p, rec).await
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestoreRequest {
    /// Use this rate plan after the restore.
    rate_plan: Option<String>,
    /// The same, under the vendor's other name (wins when both are given).
    new_rate_plan: Option<String>,
}

/// Restore a deleted account inside its recovery window: same number, same SIM.
#[utoipa::path(operation_id = "restore_account", post, path = "/mvno/deleted/{id}/restore", tag = "telecomx", security(("bearer" = [])),
    request_body = RestoreRequest,
    params(("id" = String, Path, description = "Account id or E.164 number")),
    responses(
        (status = 200, body = Success),
        (status = 403, description = "access_denied"),
        (status = 404, description = "id / ratePlan"),
        (status = 409, description = "number"),
    ))]
async fn restore(
    State(state): State<AppState>,
    Require(p, ..): Require<ResellerAdminOrAdmin>,
    Path(id): Path<String>,
    body: Option<Body<RestoreRequest>>,
) -> AppResult<Json<Success>> {
    let req = body.map(|Body(b)| b).unwrap_or_default();
    mvno::restore(
        &state,
        &p,
        &id,
        req.new_rate_plan.or(req.rate_plan).as_deref(),
    )
    .await?;
    Ok(Success::ok())
}

/// One live account, by id or E.164 number.
#[utoipa::path(get, path = "/mvno/{id}", tag = "telecomx", security(("bearer" = [])),
    params(("id" = String, Path, description = "Account id or E.164 number")),
    responses(
        (status = 200, body = MvnoAccount, description = "With ETag (the account's version) for If-Match on \
             its update and delete"),
        (status = 403, description = "access_denied"),
        (status = 404, description = "not_found"),
    ))]
async fn get_account(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
    Path(id): Path<String>,
) -> AppResult<axum::response::Response> {
    let rec = mvno::visible(&state, &p, &id, false, "not_found").await?;
    let version = rec.version;
    Ok(tagged(version, render_one(&state, &p, rec).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateAccountRequest {
    /// Customer org id or oid.
    #[schema(required = true, example = "3")]
    customer: Option<String>,
    /// E.164, e.g. +4512345678.
    #[schema(required = true, example = "+4512345678")]
    number: Option<String>,
    /// Rate plan id or oid.
    #[schema(required = true, example = "1")]
    rate_plan: Option<String>,
    /// An unused SIM at the customer or one of its reseller ancestors...
    sim_number: Option<String>,
    /// ...or any unused eSIM of that chain...
    e_sim: Option<bool>,
    /// ...or any unused autoAssign SIM of that chain.
    auto_assign: Option<bool>,
    name: Option<String>,
    /// Employee (user) id of the customer.
    employee: Option<String>,
    device_type: Option<String>,
    imei: Option<String>,
    notes: Option<String>,
    /// YYYY-MM-DD or ISO-8601.
    start_date: Option<String>,
    /// Partial feature object; defaults per the contract.
    #[schema(value_type = Option<Object>)]
    feature: Option<Value>,
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    success: bool,
    #[serde(rename = "_id")]
    id: String,
}

/// Create an account; its SIM leaves storage in the same transaction.
#[utoipa::path(operation_id = "create_account", post, path = "/mvno", tag = "telecomx", security(("bearer" = [])), request_body = CreateAccountRequest,
    responses((status = 200, body = Created), (status = 403, description = "access_denied"),
              (status = 404, description = "sim / esim / ratePlan"), (status = 409, description = "number"),
              (status = 422, description = "customer / number / sim / feature / ...")))]
async fn create(
    State(state): State<AppState>,
    Require(p, ..): Require<OwnersUp>,
    Body(req): Body<CreateAccountRequest>,
) -> AppResult<Json<Created>> {
    let input = CreateInput {
        customer: req.customer,
        number: req.number,
        rate_plan: req.rate_plan,
        sim_number: req.sim_number,
        esim: req.e_sim.unwrap_or(false),
        auto_assign: req.auto_assign.unwrap_or(false),
        name: req.name,
        employee: req.employee,
        device_type: req.device_type,
        imei: req.imei,
        notes: req.notes,
        start_date: req.start_date,
        feature: req.feature,
    };
    let rec = mvno::create(&state, &p, input).await?;
    Ok(Json(Created {
        success: true,
        id: rec.oid,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateAccountRequest {
    /// ACTIVE or BLOCKED.
    state: Option<String>,
    #[schema(value_type = Option<Object>)]
    feature: Option<Value>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    employee: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    device_type: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    imei: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    notes: Option<Option<String>>,
    dnd: Option<bool>,
    data_disabled: Option<bool>,
    rate_plan: Option<String>,
    /// ADMIN only: replaces the account's SOC overrides.
    socs_override: Option<Vec<SocOverride>>,
    /// ADMIN only: replaces the account's SOC limit.
    soc_limit: Option<SocLimit>,
}

/// One SOC (service option code) replaced by another on this account (ADMIN only).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SocOverride {
    /// The SOC replaced.
    #[schema(example = "DATA5GB")]
    soc: String,
    /// The SOC in its place.
    #[schema(example = "DATA20GB")]
    new_soc: String,
    /// The override ends at the end of the month.
    #[serde(rename = "expireEOM", default, skip_serializing_if = "Option::is_none")]
    expire_eom: Option<bool>,
    /// The override starts at the end of the month.
    #[serde(rename = "startEOM", default, skip_serializing_if = "Option::is_none")]
    start_eom: Option<bool>,
}

/// Usage limits of the account's SOCs (ADMIN only); absent: no limit.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SocLimit {
    /// Data volume limit, 0 or more (kept as given: 1000 stays an integer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>, example = 10)]
    data: Option<serde_json::Number>,
    /// Voice minutes limit, 0 or more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>, example = 600)]
    minutes: Option<serde_json::Number>,
}

/// The SOC fields, checked, as the service keeps them.
fn soc_values(
    overrides: Option<Vec<SocOverride>>,
    limit: Option<SocLimit>,
) -> AppResult<(Option<Value>, Option<Value>)> {
    for o in overrides.iter().flatten() {
        for (field, v) in [("soc", &o.soc), ("newSoc", &o.new_soc)] {
            if v.trim().is_empty() || v.len() > 64 {
                return Err(AppError::invalid(
                    "socsOverride",
                    format!("{field} must be a SOC of 1 to 64 characters"),
                ));
            }
        }
    }
    if let Some(l) = &limit {
        for (field, v) in [("data", &l.data), ("minutes", &l.minutes)] {
            if v.as_ref().and_then(|n| n.as_f64()).is_some_and(|v| v < 0.0) {
                return Err(AppError::invalid(
                    "socLimit",
                    format!("{field} must be a number of 0 or more"),
                ));
            }
        }
    }
    Ok((
        overrides.map(|o| serde_json::to_value(o).expect("SOC overrides serialize")),
        limit.map(|l| serde_json::to_value(l).expect("a SOC limit serializes")),
    ))
}

/// Change an account (number and SIM are not changed here).
#[utoipa::path(operation_id = "update_account", post, path = "/mvno/{id}", tag = "telecomx", security(("bearer" = [])),
    request_body = UpdateAccountRequest,
    params(("id" = String, Path, description = "Account id or E.164 number")),
    responses(
        (status = 200, body = Success),
        (status = 403, description = "access_denied / socsOverride"),
        (status = 404, description = "not_found"),
        (status = 409, description = "state: deleted"),
        (status = 412, description = "precondition_failed: If-Match names an older version"),
        (status = 422, description = "<field>"),
    ))]
async fn update(
    State(state): State<AppState>,
    Require(p, ..): Require<ManagersUp>,
    Path(id): Path<String>,
    IfMatchHeader(if_match): IfMatchHeader,
    Body(req): Body<UpdateAccountRequest>,
) -> AppResult<Json<Success>> {
    let (socs_override, soc_limit) = soc_values(req.socs_override, req.soc_limit)?;
    let input = UpdateInput {
        state: req.state,
        feature: req.feature,
        name: req.name,
        employee: req.employee,
        device_type: req.device_type,
        imei: req.imei,
        notes: req.notes,
        dnd: req.dnd,
        data_disabled: req.data_disabled,
        rate_plan: req.rate_plan,
        socs_override,
        soc_limit,
    };
    mvno::update(&state, &p, &id, input, if_match).await?;
    Ok(Success::ok())
}

/// Soft delete: recoverable for `mvno.recovery_days` (30), keeping its number and SIM.
#[utoipa::path(operation_id = "delete_account", delete, path = "/mvno/{id}", tag = "telecomx", security(("bearer" = [])),
    params(("id" = String, Path, description = "Account id or E.164 number")),
    responses(
        (status = 200, body = Success),
        (status = 403, description = "access_denied"),
        (status = 404, description = "not_found"),
        (status = 412, description = "precondition_failed: If-Match names an older version"),
    ))]
async fn delete(
    State(state): State<AppState>,
    Require(p, ..): Require<ManagersUp>,
    Path(id): Path<String>,
    IfMatchHeader(if_match): IfMatchHeader,
) -> AppResult<Json<Success>> {
    mvno::delete(&state, &p, &id, if_match).await?;
    Ok(Success::ok())
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangedSim {
    success: bool,
    mvno_sim: MvnoSim,
}

/// Replace the account's SIM; the old SIM is retired.
///
/// The new SIM: an ICC, any eSIM (`eSim`) or any autoAssign SIM (`autoAssign`).
#[utoipa::path(operation_id = "change_account_sim", get, path = "/mvno/{id}/changesim/{new}", tag = "telecomx", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Account id or E.164 number"),
        ("new" = String, Path, description = "ICC, eSim or autoAssign"),
    ),
    responses(
        (status = 200, body = ChangedSim),
        (status = 403, description = "access_denied / state"),
        (status = 404, description = "mvnoAccount / sim / esim"),
    ))]
async fn change_sim(
    State(state): State<AppState>,
    Require(p, ..): Require<OwnersUp>,
    Path((id, new)): Path<(String, String)>,
) -> AppResult<Json<ChangedSim>> {
    let (_, sim) = mvno::change_sim(&state, &p, &id, &new).await?;
    Ok(Json(ChangedSim {
        success: true,
        mvno_sim: MvnoSim {
            sim_number: sim.iccid,
            imsi: sim.imsi,
            network: sim.network,
            form_factor: sim.form_factor.as_str().to_string(),
            puk1: sim.puk1,
            puk2: sim.puk2,
            pin1: sim.pin1,
            pin2: sim.pin2,
        },
    }))
}
