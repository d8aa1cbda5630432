//! `/api/v1/sim...` and `/api/v1/sim_batch/bic/{bic}`.
use crate::api::body::Lenient;
use crate::api::conditional::{tagged, IfMatchHeader};
use crate::api::json::double_option;
use crate::api::json::iso_millis;
use crate::auth::extract::{ManagersUp, Readers, Require};
use crate::domain::emnify::{iccid_forms, EmnifyPage};
use crate::domain::sim::SimStatus;
use crate::error::{AppError, AppResult};
use crate::service::sims::{path_id, Listed};
use crate::service::{batches, events, sims, usage};
use crate::state::AppState;
use crate::store::{EmnifySim, EventRow, EventSubject, SimBatch};
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(statuses))
        .routes(routes!(get_sim, patch_sim, delete_sim))
        .routes(routes!(events))
        .routes(routes!(stats))
        .routes(routes!(daily_stats))
        .routes(routes!(validate_batch, register_batch))
}

pub(crate) use crate::domain::dates::emnify_time;

#[derive(Serialize, ToSchema)]
pub struct IdDescription {
    id: i64,
    description: String,
}

impl IdDescription {
    pub(crate) fn new(id: i64, description: &str) -> IdDescription {
        IdDescription {
            id,
            description: description.to_string(),
        }
    }

    pub(crate) fn status(id: i16) -> IdDescription {
        let d = SimStatus::from_id(id as i64)
            .map(SimStatus::description)
            .unwrap_or("Unknown");
        IdDescription {
            id: id as i64,
            description: d.to_string(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Country {
    id: i64,
    name: String,
}

#[derive(Serialize, ToSchema)]
pub struct OrgRef {
    id: i64,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    country: Option<Country>,
}

fn org(id: Option<i64>, name: &Option<String>, country: &Option<String>) -> Option<OrgRef> {
    Some(OrgRef {
        id: id?,
        name: name.clone()?,
        country: country.clone().map(|c| Country { id: 0, name: c }),
    })
}

#[derive(Serialize, ToSchema)]
pub struct NamedId {
    pub(crate) id: i64,
    pub(crate) name: String,
}

#[derive(Serialize, ToSchema)]
pub struct SimModelDto {
    id: i64,
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    memory_size: Option<i32>,
    formfactor: NamedId,
    #[serde(skip_serializing_if = "Option::is_none")]
    manufacturer: Option<NamedId>,
}

#[derive(Serialize, ToSchema)]
pub struct EndpointRef {
    id: i64,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    imei: Option<String>,
    created: String,
    last_updated: String,
    organisation_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_profile_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tariff_profile_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip_address: Option<String>,
}

/// A SIM, emnify style (absent values omitted).
#[derive(Serialize, ToSchema)]
pub struct SimEntry {
    id: i64,
    /// 19 digits, without the Luhn digit.
    iccid: String,
    iccid_with_luhn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    eid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    production_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    activation_date: Option<String>,
    status: IdDescription,
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer_org: Option<OrgRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reseller_org: Option<OrgRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer_org: Option<OrgRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint: Option<EndpointRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    imsi: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    msisdn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<SimModelDto>,
}

fn form_factor_id(name: &str) -> i64 {
    match name {
        "MINI_MICRO" => 1,
        "NANO" => 2,
        "MINI_MICRO_NANO" => 3,
        _ => 4,
    }
}

pub fn sim_entry(s: EmnifySim) -> SimEntry {
    let (iccid, iccid_with_luhn) = iccid_forms(&s.iccid);
    let model = match (s.model_id, s.model_description) {
        (Some(id), Some(description)) => {
            let ff = s.model_form_factor.unwrap_or_default();
            Some(SimModelDto {
                id,
                description,
                memory_size: s.model_memory_size,
                formfactor: NamedId {
                    id: form_factor_id(&ff),
                    name: ff,
                },
                manufacturer: s.model_manufacturer.map(|m| NamedId { id: 0, name: m }),
            })
        }
        _ => None,
    };
    let endpoint = match (
        s.endpoint_id,
        s.endpoint_name,
        s.endpoint_created,
        s.endpoint_updated,
        s.endpoint_org_id,
    ) {
        (Some(id), Some(name), Some(created), Some(updated), Some(org)) => Some(EndpointRef {
            id,
            name,
            imei: s.endpoint_imei,
            created: emnify_time(&created),
            last_updated: emnify_time(&updated),
            organisation_id: org,
            service_profile_id: s.service_profile_id,
            tariff_profile_id: s.tariff_profile_id,
            tags: s.endpoint_tags,
            ip_address: s.endpoint_ip,
        }),
        _ => None,
    };
    SimEntry {
        id: s.id,
        iccid,
        iccid_with_luhn,
        eid: s.eid,
        production_date: s
            .production_date
            .map(|d| format!("{}T00:00:00.000+0000", d.format("%Y-%m-%d"))),
        activation_date: s.activation_date.as_ref().map(emnify_time),
        status: IdDescription::status(s.status),
        issuer_org: org(s.issuer_org_id, &s.issuer_name, &s.issuer_country),
        reseller_org: org(s.reseller_org_id, &s.reseller_name, &s.reseller_country),
        customer_org: org(s.customer_org_id, &s.customer_name, &s.customer_country),
        endpoint,
        imsi: s.imsi,
        msisdn: s.msisdn.map(|m| m.trim_start_matches('+').to_string()),
        model,
    }
}

#[derive(Deserialize, IntoParams)]
pub struct CollectionQuery {
    /// 1-based page.
    #[param(value_type = Option<i64>, minimum = 1)]
    pub(crate) page: Option<String>,
    #[param(value_type = Option<i64>, minimum = 1)]
    pub(crate) per_page: Option<String>,
    /// `field:value,...`
    pub(crate) q: Option<String>,
    /// `-status,id` (`-` descending). SIM lists break ties by id, in the direction of the last field.
    pub(crate) sort: Option<String>,
}

/// The paging headers of every emnify list, `Link` keeping `q` and `sort`.
pub(crate) fn paged<T: Serialize>(
    uri: &axum::http::Uri,
    q: &CollectionQuery,
    listed: Listed<T>,
    default_sort: &str,
) -> Response {
    let pages = EmnifyPage::pages(listed.total, listed.page.per_page);
    let link = |page: i64| {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        url.append_pair("page", &page.to_string())
            .append_pair("per_page", &listed.page.per_page.to_string());
        if let Some(v) = &q.q {
            url.append_pair("q", v);
        }
        if let Some(v) = &q.sort {
            url.append_pair("sort", v);
        }
        format!("<{}?{}>", uri.path(), url.finish())
    };
    let current = listed.page.page;
    let mut links = vec![format!("{}; rel=\"first\"", link(1))];
    if current > 1 {
        links.push(format!("{}; rel=\"prev\"", link(current - 1)));
    }
    if current < pages {
        links.push(format!("{}; rel=\"next\"", link(current + 1)));
    }
    links.push(format!("{}; rel=\"last\"", link(pages)));
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    };
    set("x-total-count", listed.total.to_string());
    set("x-total-pages", pages.to_string());
    set("x-current-page", current.to_string());
    set("x-count-per-page", listed.page.per_page.to_string());
    set(
        "x-sort",
        q.sort.clone().unwrap_or_else(|| default_sort.to_string()),
    );
    set("link", links.join(", "));
    (headers, Json(listed.items)).into_response()
}

/// SIMs the caller sees (issuer, reseller or customer side), paged.
#[utoipa::path(operation_id = "list_sims", get, path = "/api/v1/sim", tag = "emnify", security(("bearer" = [])),
    params(CollectionQuery),
    responses(
        (status = 200, body = [SimEntry], description = "With X-Total-Count, X-Total-Pages, X-Current-Page, \
             X-Count-Per-Page, X-Sort and Link"),
        (status = 422, description = "1301 bad q / 1302 bad sort"),
    ))]
async fn list(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<CollectionQuery>,
) -> AppResult<Response> {
    let page = EmnifyPage::parse(q.page.as_deref(), q.per_page.as_deref(), 2000, 2500)?;
    let listed = sims::list(&state, &p, q.q.as_deref(), q.sort.as_deref(), page).await?;
    Ok(paged(&uri, &q, listed.map(sim_entry), "id"))
}

/// The five SIM statuses.
#[utoipa::path(operation_id = "list_sim_statuses", get, path = "/api/v1/sim/status", tag = "emnify", security(("bearer" = [])),
    responses((status = 200, body = [IdDescription])))]
async fn statuses(_caller: Require<Readers>) -> Json<Vec<IdDescription>> {
    Json(
        SimStatus::ALL
            .iter()
            .map(|s| IdDescription::status(s.id()))
            .collect(),
    )
}

/// One SIM.
#[utoipa::path(get, path = "/api/v1/sim/{sim_id}", tag = "emnify", security(("bearer" = [])),
    params(("sim_id" = i64, Path, description = "SIM id")),
    responses(
        (status = 200, body = SimEntry, description = "With ETag (the SIM's version) for If-Match on PATCH \
             and DELETE"),
        (status = 400, description = "1000 non-numeric id"),
        (status = 404, description = "1201"),
    ))]
async fn get_sim(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
    Path(id): Path<String>,
) -> AppResult<axum::response::Response> {
    let sim = sims::visible_sim(&state, &p, path_id(&id)?).await?;
    Ok(tagged(sim.version, Json(sim_entry(sim))))
}

/// `{"id": …}`: a status by its id.
#[derive(Deserialize, Serialize, ToSchema, Default)]
pub struct StatusRef {
    #[serde(default)]
    id: Option<i64>,
}

/// `{"id": …}`: an organisation by its id (an integer, or digits in a string); `null`, `{}` or
/// `{"id": null}` empties the field.
#[derive(Deserialize, Serialize, ToSchema, Default)]
pub struct OrgIdRef {
    #[serde(default, deserialize_with = "int_or_digits")]
    #[schema(value_type = Option<i64>)]
    id: Option<i64>,
}

fn int_or_digits<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Int(i64),
        Text(String),
    }
    match Option::<Id>::deserialize(d)? {
        None => Ok(None),
        Some(Id::Int(i)) => Ok(Some(i)),
        Some(Id::Text(t)) => t
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom("organisation id must be an integer")),
    }
}

/// The changes of `PATCH /api/v1/sim/{id}`: at least one of them.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct SimPatchRequest {
    status: Option<StatusRef>,
    #[serde(alias = "issuer_organisation", deserialize_with = "double_option")]
    issuer_org: Option<Option<OrgIdRef>>,
    #[serde(alias = "reseller_organisation", deserialize_with = "double_option")]
    reseller_org: Option<Option<OrgIdRef>>,
    #[serde(alias = "customer_organisation", deserialize_with = "double_option")]
    customer_org: Option<Option<OrgIdRef>>,
}

impl SimPatchRequest {
    fn input(self) -> sims::PatchInput {
        let org = |o: Option<Option<OrgIdRef>>| o.map(|o| o.and_then(|o| o.id));
        sims::PatchInput {
            status: self.status.map(|s| s.id),
            issuer_org: org(self.issuer_org),
            reseller_org: org(self.reseller_org),
            customer_org: org(self.customer_org),
        }
    }
}

/// Change status (0→1, 0→4, 4→1, 1→2, 2→1) and organisations; 204 with no body.
#[utoipa::path(patch, path = "/api/v1/sim/{sim_id}", tag = "emnify", security(("bearer" = [])),
    params(("sim_id" = i64, Path, description = "SIM id")),
    request_body = SimPatchRequest,
    responses(
        (status = 204, description = "updated"),
        (status = 403, description = "1104"),
        (status = 404, description = "1201"),
        (status = 409, description = "1409 transition not allowed; or the SIM is in use (MVNO account, \
             device) and an org would leave its holder's tenant"),
        (status = 412, description = "1412 If-Match names an older version"),
        (status = 422, description = "1400 / 1401"),
    ))]
async fn patch_sim(
    State(state): State<AppState>,
    Require(p, ..): Require<ManagersUp>,
    Path(id): Path<String>,
    IfMatchHeader(if_match): IfMatchHeader,
    Lenient(body): Lenient<Option<SimPatchRequest>>,
) -> AppResult<StatusCode> {
    let id = path_id(&id)?;
    let body = body.ok_or_else(|| AppError::invalid("body", "a JSON object is required"))?;
    sims::patch(&state, &p, id, body.input(), if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete a SIM (status 3, kept for history); 204.
#[utoipa::path(delete, path = "/api/v1/sim/{sim_id}", tag = "emnify", security(("bearer" = [])),
    params(("sim_id" = i64, Path, description = "SIM id")),
    responses(
        (status = 204, description = "deleted"),
        (status = 403, description = "1104"),
        (status = 404, description = "1201"),
        (status = 409, description = "1409 endpoint or account attached"),
        (status = 412, description = "1412 If-Match names an older version"),
    ))]
async fn delete_sim(
    State(state): State<AppState>,
    Require(p, ..): Require<ManagersUp>,
    Path(id): Path<String>,
    IfMatchHeader(if_match): IfMatchHeader,
) -> AppResult<StatusCode> {
    sims::delete(&state, &p, path_id(&id)?, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Event {
    id: i64,
    timestamp: String,
    alert: bool,
    description: String,
    event_type: IdDescription,
    event_source: IdDescription,
    event_severity: IdDescription,
    #[serde(skip_serializing_if = "Option::is_none")]
    organisation: Option<NamedId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    sim: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    imsi: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    user: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    detail: Option<Value>,
}

pub(crate) fn event(e: EventRow) -> Event {
    use crate::domain::events::type_description;
    let source = match e.source {
        0 => "Network",
        1 => "Policy Control",
        _ => "API",
    };
    let severity = match e.severity {
        0 => "Info",
        1 => "Warn",
        _ => "Critical",
    };
    let sim = e.sim_id.zip(e.sim_iccid.clone()).map(|(id, icc)| {
        let mut v = json!({"id": id, "iccid": iccid_forms(&icc).0});
        if let Some(d) = e.sim_production_date {
            v["production_date"] = json!(format!("{}T00:00:00.000+0000", d.format("%Y-%m-%d")));
        }
        v
    });
    let imported = e.sim_created.as_ref().map(emnify_time);
    let imsi = e
        .sim_imsi
        .clone()
        .map(|i| json!({"id": e.sim_id, "imsi": i, "import_date": imported}));
    Event {
        id: e.id,
        timestamp: iso_millis(&e.ts),
        alert: e.alert,
        description: e.description,
        event_type: IdDescription {
            id: e.type_id as i64,
            description: type_description(e.type_id).into(),
        },
        event_source: IdDescription {
            id: e.source as i64,
            description: source.into(),
        },
        event_severity: IdDescription {
            id: e.severity as i64,
            description: severity.into(),
        },
        organisation: e
            .org_id
            .zip(e.org_name)
            .map(|(id, name)| NamedId { id, name }),
        sim,
        imsi,
        user: e
            .user_id
            .map(|id| json!({"id": id, "name": e.user_name, "username": e.user_email})),
        detail: e.detail.map(|d| d.0),
    }
}

/// Events of a SIM, newest first. An unknown or invisible numeric id answers `[]`.
#[utoipa::path(operation_id = "list_sim_events", get, path = "/api/v1/sim/{sim_id}/event", tag = "emnify", security(("bearer" = [])),
    params(("sim_id" = i64, Path, description = "SIM id"), CollectionQuery),
    description = "Every event of the SIM, newest first; an unknown or invisible SIM has none (200 []). The \
         history stays with the SIM when it changes hands, but names no one the caller may not know: a user \
         outside the caller's scope is left out (platform and parent-reseller staff show as their organisation \
         only), an organisation outside its scope that is not one of its ancestors is left out, also as null in \
         an org change's detail.",
    responses(
        (status = 200, body = [Event]),
        (status = 400, description = "1000 non-numeric id"),
        (status = 422, description = "1301 / 1302"),
    ))]
async fn events(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<CollectionQuery>,
) -> AppResult<Response> {
    let id = path_id(&id)?;
    let page = EmnifyPage::parse(q.page.as_deref(), q.per_page.as_deref(), 100, 2500)?;
    let listed = events::events(
        &state,
        &p,
        EventSubject::Sim(id),
        q.q.as_deref(),
        q.sort.as_deref(),
        page,
    )
    .await?;
    Ok(paged(&uri, &q, listed.map(event), "-id"))
}

/// Usage and cost: current month, last month, last hour.
#[utoipa::path(operation_id = "sim_stats", get, path = "/api/v1/sim/{sim_id}/stats", tag = "emnify", security(("bearer" = [])),
    params(("sim_id" = i64, Path, description = "SIM id")),
    responses(
        (status = 200, body = Object, description = "{current_month, last_month, last_hour}"),
        (status = 404, description = "1201"),
    ))]
async fn stats(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    Ok(Json(
        usage::stats(&state, &p, usage::Of::Sim(path_id(&id)?)).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct DailyQuery {
    /// YYYY-MM-DD; alone: until the end of its month.
    pub start_date: Option<String>,
    /// YYYY-MM-DD; alone: from the start of its month.
    pub end_date: Option<String>,
}

/// Usage and cost per day with traffic.
#[utoipa::path(operation_id = "sim_daily_stats", get, path = "/api/v1/sim/{sim_id}/stats/daily", tag = "emnify", security(("bearer" = [])),
    params(("sim_id" = i64, Path, description = "SIM id"), DailyQuery),
    responses(
        (status = 200, body = [Object]),
        (status = 404, description = "1201"),
        (status = 422, description = "1403 bad date"),
    ))]
async fn daily_stats(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
    Path(id): Path<String>,
    Query(q): Query<DailyQuery>,
) -> AppResult<Json<Vec<Value>>> {
    Ok(Json(
        usage::daily(
            &state,
            &p,
            usage::Of::Sim(path_id(&id)?),
            q.start_date.as_deref(),
            q.end_date.as_deref(),
        )
        .await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct BatchDto {
    id: i64,
    bic: String,
    quantity: i32,
    sim_batch_status_id: i64,
    issuer_org_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer_org_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reseller_org_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sim_model_id: Option<i64>,
    status: IdDescription,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<SimModelDto>,
}

async fn batch_dto(state: &AppState, b: SimBatch) -> AppResult<BatchDto> {
    let model = match b.model_id {
        Some(id) => batches::model(state, id).await?.map(|m| SimModelDto {
            id: m.id,
            description: m.description,
            memory_size: m.memory_size,
            formfactor: NamedId {
                id: form_factor_id(m.form_factor.as_str()),
                name: m.form_factor.as_str().into(),
            },
            manufacturer: m.manufacturer.map(|n| NamedId { id: 0, name: n }),
        }),
        None => None,
    };
    Ok(BatchDto {
        id: b.id,
        bic: b.bic,
        quantity: b.quantity,
        sim_batch_status_id: 1,
        issuer_org_id: b.issuer_org_id,
        customer_org_id: None,
        reseller_org_id: None,
        sim_model_id: b.model_id,
        status: IdDescription {
            id: 1,
            description: "Ready for registration".into(),
        },
        model,
    })
}

/// Can the caller register this batch? 404 unknown, 409 registered, 422 another org's SIMs.
#[utoipa::path(operation_id = "validate_sim_batch", get, path = "/api/v1/sim_batch/bic/{bic}", tag = "emnify", security(("bearer" = [])),
    params(("bic" = String, Path, description = "BIC (a leading # is ignored)")),
    description = "A batch exists only inside the subtree of the organisation that issued it (ADMIN: \
         everywhere); elsewhere it is 404 as an unknown BIC.",
    responses(
        (status = 200, body = BatchDto),
        (status = 404, description = "1201 unknown, or issued outside the caller's line"),
        (status = 409, description = "1409 registered already"),
        (status = 422, description = "1401 holds SIMs of another organisation"),
    ))]
async fn validate_batch(
    State(state): State<AppState>,
    Require(p, ..): Require<Readers>,
    Path(bic): Path<String>,
) -> AppResult<Json<BatchDto>> {
    let batch = batches::batch_check(&state, &p, &bic).await?;
    Ok(Json(batch_dto(&state, batch).await?))
}

/// The status the batch's SIMs get: `{"sim_status": {"id": 1}}` or a bare `{"id": 1}`; default 1.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct RegisterRequest {
    sim_status: Option<StatusRef>,
    id: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct Registered {
    sim: Vec<SimEntry>,
}

/// Register the batch to the caller's organisation with status 1 (default) or 4.
#[utoipa::path(operation_id = "register_sim_batch", patch, path = "/api/v1/sim_batch/bic/{bic}", tag = "emnify", security(("bearer" = [])),
    params(("bic" = String, Path, description = "BIC")),
    request_body(content = RegisterRequest, description = "{\"sim_status\": {\"id\": 1}}, a bare status \
         {\"id\": 1}, {}, null or nothing"),
    description = "A batch exists only inside the subtree of the organisation that issued it (ADMIN: \
         everywhere); elsewhere it is 404 as an unknown BIC.",
    responses(
        (status = 200, body = Registered),
        (status = 404, description = "1201 unknown, or issued outside the caller's line"),
        (status = 422, description = "registered already, or holding SIMs of another organisation; bad status"),
    ))]
async fn register_batch(
    State(state): State<AppState>,
    Require(p, ..): Require<ManagersUp>,
    Path(bic): Path<String>,
    Lenient(body): Lenient<RegisterRequest>,
) -> AppResult<Json<Registered>> {
    let status = body.sim_status.and_then(|s| s.id).or(body.id).unwrap_or(1);
    let sims = batches::batch_register(&state, &p, &bic, status).await?;
    Ok(Json(Registered {
        sim: sims.into_iter().map(sim_entry).collect(),
    }))
}
