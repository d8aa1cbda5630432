//! `/sim`, `/sim/{icc}`, `/sim/status` (and `/sim/simstatus`), `POST /sim`, `/sim/{icc}/assign`.
use crate::api::body::Body;
use crate::auth::extract::{Admin, Readers, Require, ResellerAdminOrAdmin, Resellers};
use crate::domain::paging::{parse_bool, Page};
use crate::domain::sim::{FormFactor, SkippedLine};
use crate::error::{AppError, AppResult};
use crate::service::inventory;
use crate::state::AppState;
use crate::store::{SimRecord, UnusedSimFilter};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, import))
        .routes(routes!(status))
        .routes(routes!(simstatus))
        .routes(routes!(get_sim))
        .routes(routes!(assign))
}

/// A SIM card, TelecomX style.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SimDto {
    /// The ICC number.
    #[serde(rename = "_id")]
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    puk1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    puk2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pin1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pin2: Option<String>,
    form_factor: FormFactor,
    network: String,
    /// The org holding the SIM; null = central stock.
    in_storage_at: Option<String>,
    auto_assign: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    activation_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<String>,
}

impl From<SimRecord> for SimDto {
    fn from(s: SimRecord) -> Self {
        SimDto {
            id: s.iccid,
            puk1: s.puk1,
            puk2: s.puk2,
            pin1: s.pin1,
            pin2: s.pin2,
            form_factor: s.form_factor,
            network: s.network,
            in_storage_at: s.storage_oid,
            auto_assign: s.auto_assign,
            activation_code: s.activation_code,
            tag: s.tag,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct SimListQuery {
    /// Holder org id; `central` = central stock (ADMIN). Customer levels: their own org only.
    customer: Option<String>,
    /// MINI_MICRO, NANO, MINI_MICRO_NANO or eSIM.
    form_factor: Option<String>,
    /// One of the configured networks.
    network: Option<String>,
    /// Substring of the ICC.
    filter: Option<String>,
    /// true / false; absent = both.
    #[param(value_type = Option<bool>)]
    auto_assign: Option<String>,
    /// Default 0.
    #[param(value_type = Option<i64>, minimum = 0)]
    offset: Option<String>,
    /// 1..500, default 100.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    limit: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SimList {
    offset: i64,
    limit: i64,
    total: i64,
    sims: Vec<SimDto>,
}

/// Unused SIMs in the caller's storage scope, ordered by ICC.
#[utoipa::path(operation_id = "list_sims", get, path = "/sim", tag = "telecomx", security(("bearer" = [])), params(SimListQuery),
    responses((status = 200, body = SimList), (status = 403, description = "access_denied"),
              (status = 422, description = "customer / formFactor / network / filter / autoAssign / offset / \
                   limit")))]
async fn list(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
    Query(q): Query<SimListQuery>,
) -> AppResult<Json<SimList>> {
    let page = Page::parse(q.offset.as_deref(), q.limit.as_deref())?;
    let form_factor = q
        .form_factor
        .as_deref()
        .map(|f| {
            FormFactor::parse(f).ok_or_else(|| {
                AppError::invalid(
                    "formFactor",
                    "formFactor must be MINI_MICRO, NANO, MINI_MICRO_NANO or eSIM",
                )
            })
        })
        .transpose()?;
    let networks = &state.config.inventory.networks;
    let network = q
        .network
        .as_deref()
        .map(|n| crate::domain::sim::network_param(n, networks))
        .transpose()?;
    let iccid_contains = match q.filter.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        Some(f)
            if f.bytes()
                .all(|b| b.is_ascii_digit() || b == b'F' || b == b'f') =>
        {
            // ICCs are stored without their F padding; a filter written with it means the digits.
            Some(f.trim_end_matches(['F', 'f']).to_string()).filter(|f| !f.is_empty())
        }
        Some(_) => {
            return Err(AppError::invalid(
                "filter",
                "filter is a part of an ICC: digits and F",
            ))
        }
        None => None,
    };
    let auto_assign = q
        .auto_assign
        .as_deref()
        .map(|a| parse_bool("autoAssign", a))
        .transpose()?;
    let filter = |storage| UnusedSimFilter {
        storage,
        form_factor,
        network,
        iccid_contains,
        auto_assign,
    };
    let (sims, total) =
        inventory::list_unused(&state, &p, q.customer.as_deref(), filter, page).await?;
    Ok(Json(SimList {
        offset: page.offset,
        limit: page.limit,
        total,
        sims: sims.into_iter().map(Into::into).collect(),
    }))
}

/// One SIM. A SIM in use is visible to whoever can see its MVNO account.
#[utoipa::path(get, path = "/sim/{icc}", tag = "telecomx", security(("bearer" = [])),
    params(("icc" = String, Path, description = "ICC number")),
    responses((status = 200, body = SimDto, description = "With ETag (the SIM's version) for If-Match on its assign"),
              (status = 403, description = "access_denied"), (status = 404, description = "not_found"),
              (status = 422, description = "sim: not an ICC")))]
async fn get_sim(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
    Path(icc): Path<String>,
) -> AppResult<axum::response::Response> {
    let sim = inventory::visible_sim(&state, &p, &icc).await?;
    let version = sim.version;
    Ok(crate::api::conditional::tagged(
        version,
        Json(SimDto::from(sim)),
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct StatusQuery {
    /// Only this network (extension).
    network: Option<String>,
    /// Only this holder (extension): org id, or `central`.
    customer: Option<String>,
}

/// Per holder network stats: `total`, `autoAssign`, `nonAutoAssign`, then form factors with a count.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HolderStatus {
    reseller: Option<String>,
    reseller_name: Option<String>,
    in_storage_at: Option<String>,
    in_storage_at_name: Option<String>,
    #[schema(value_type = Object)]
    network: serde_json::Value,
}

async fn status_of(
    state: AppState,
    p: crate::domain::access::Principal,
    q: StatusQuery,
) -> AppResult<Json<Vec<serde_json::Value>>> {
    Ok(Json(
        inventory::status(&state, &p, q.network.as_deref(), q.customer.as_deref()).await?,
    ))
}

/// Inventory statistics: unused SIMs per holder and network, read from counters.
#[utoipa::path(operation_id = "sim_status", get, path = "/sim/status", tag = "telecomx", security(("bearer" = [])), params(StatusQuery),
    responses((status = 200, body = [HolderStatus]), (status = 403, description = "access_denied")))]
async fn status(
    State(state): State<AppState>,
    Require(p, ..): Require<ResellerAdminOrAdmin>,
    Query(q): Query<StatusQuery>,
) -> AppResult<Json<Vec<serde_json::Value>>> {
    status_of(state, p, q).await
}

/// The same as `/sim/status` (the vendor's example path).
#[utoipa::path(operation_id = "sim_status_alias", get, path = "/sim/simstatus", tag = "telecomx", security(("bearer" = [])), params(StatusQuery),
    responses((status = 200, body = [HolderStatus]), (status = 403, description = "access_denied")))]
async fn simstatus(
    State(state): State<AppState>,
    Require(p, ..): Require<ResellerAdminOrAdmin>,
    Query(q): Query<StatusQuery>,
) -> AppResult<Json<Vec<serde_json::Value>>> {
    status_of(state, p, q).await
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportRequest {
    /// One SIM per line: `SIM_CARD_NUMBER;PUK1;PUK2;PIN1;PIN2;FORM_FACTOR;NETWORK[;ACTIVATION_CODE;TAG;AUTO_ASSIGN]`.
    #[schema(
        required = true,
        example = "8945000000000000001;12345678;87654321;1234;4321;NANO;TDC"
    )]
    data: Option<String>,
    /// Org to store the SIMs at; default central stock.
    in_storage_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ImportResponse {
    success: bool,
    imported: usize,
    /// The first 100 skipped lines and why.
    skipped: Vec<SkippedLine>,
}

/// Import SIMs (ADMIN): up to 10,000 lines in one transaction; bad lines and existing ICCs are skipped.
#[utoipa::path(operation_id = "import_sims", post, path = "/sim", tag = "telecomx", security(("bearer" = [])), request_body = ImportRequest,
    responses((status = 200, body = ImportResponse), (status = 400, description = "bad_request: no data"),
              (status = 403, description = "access_denied"), (status = 409, description = "data: over 10,000 lines"),
              (status = 422, description = "data: no valid line / inStorageAt: unknown org")))]
async fn import(
    State(state): State<AppState>,
    Require(p, ..): Require<Admin>,
    Body(req): Body<ImportRequest>,
) -> AppResult<Json<ImportResponse>> {
    let data = req
        .data
        .ok_or_else(|| AppError::bad_request("data is required"))?;
    let outcome = inventory::import(&state, &p, &data, req.in_storage_at.as_deref()).await?;
    let skipped = outcome.skipped.into_iter().take(100).collect();
    Ok(Json(ImportResponse {
        success: true,
        imported: outcome.imported,
        skipped,
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct AssignQuery {
    /// The org to store the SIM at (`central`: central stock, ADMIN only).
    customer: Option<String>,
    /// Set autoAssign; unchanged when absent.
    #[param(value_type = Option<bool>)]
    auto_assign: Option<String>,
}

/// Put a SIM in storage at an org (GET and POST alike).
#[utoipa::path(operation_id = "assign_sim", method(get, post), path = "/sim/{icc}/assign", tag = "telecomx", security(("bearer" = [])),
    params(("icc" = String, Path, description = "ICC number"), AssignQuery),
    responses(
        (status = 200, body = crate::api::json::Success),
        (status = 403, description = "access_denied"),
        (status = 404, description = "not_found"),
        (status = 409, description = "sim: in use"),
        (status = 412, description = "precondition_failed: If-Match names an older version of the SIM"),
        (status = 422, description = "customer"),
    ))]
async fn assign(
    State(state): State<AppState>,
    Require(p, ..): Require<Resellers>,
    Path(icc): Path<String>,
    Query(q): Query<AssignQuery>,
    crate::api::conditional::IfMatchHeader(if_match): crate::api::conditional::IfMatchHeader,
) -> AppResult<Json<crate::api::json::Success>> {
    let auto_assign = q
        .auto_assign
        .as_deref()
        .map(|a| parse_bool("autoAssign", a))
        .transpose()?;
    inventory::assign(
        &state,
        &p,
        &icc,
        q.customer.as_deref(),
        auto_assign,
        if_match,
    )
    .await?;
    Ok(crate::api::json::Success::ok())
}
