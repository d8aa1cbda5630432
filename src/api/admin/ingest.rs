//! Usage and network-event ingest (ADMIN): a JSON array or NDJSON, with per-record rejections.
use crate::api::body::Records;
use crate::auth::extract::{Admin, Require};
use crate::domain::usage::{DATA, SMS};
use crate::error::AppResult;
use crate::service::ingest;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(usage))
        .routes(routes!(events))
        .routes(routes!(waiting_sms))
        .routes(routes!(sms_reports))
        .routes(routes!(sms_mo))
}

#[derive(Serialize, ToSchema)]
pub struct Rejected {
    index: usize,
    reason: String,
}

/// How many rejected records are listed with their reason (all are counted).
pub const MAX_LISTED_REJECTIONS: usize = 100;

#[derive(Serialize, ToSchema)]
pub struct IngestResult {
    accepted: usize,
    /// Every rejected record, counted.
    rejected_count: usize,
    /// The first 100 rejected records with their reason.
    rejected: Vec<Rejected>,
}

impl IngestResult {
    fn new(done: ingest::Ingested) -> Json<IngestResult> {
        let rejected_count = done.rejected.len();
        let rejected = done.rejected.into_iter().take(MAX_LISTED_REJECTIONS);
        Json(IngestResult {
            accepted: done.accepted,
            rejected_count,
            rejected: rejected
                .map(|(index, reason)| Rejected { index, reason })
                .collect(),
        })
    }
}

/// Which SIM: `sim_id`, else `iccid`.
#[derive(Deserialize, ToSchema)]
pub struct SimKeyDto {
    sim_id: Option<i64>,
    iccid: Option<String>,
}

impl From<SimKeyDto> for ingest::SimKey {
    fn from(k: SimKeyDto) -> Self {
        ingest::SimKey {
            sim_id: k.sim_id,
            iccid: k.iccid,
        }
    }
}

/// `data` or `sms` (any case), or their codes 0 and 1.
#[derive(Deserialize, ToSchema)]
#[serde(try_from = "TrafficTypeText")]
#[schema(value_type = String, example = "data")]
pub struct TrafficType(i16);

#[derive(Deserialize)]
#[serde(untagged)]
enum TrafficTypeText {
    Text(String),
    Code(i64),
}

impl TryFrom<TrafficTypeText> for TrafficType {
    type Error = &'static str;
    fn try_from(t: TrafficTypeText) -> Result<Self, Self::Error> {
        match t {
            TrafficTypeText::Text(s) if s.eq_ignore_ascii_case("data") => Ok(TrafficType(DATA)),
            TrafficTypeText::Text(s) if s.eq_ignore_ascii_case("sms") => Ok(TrafficType(SMS)),
            TrafficTypeText::Code(c) if c == DATA as i64 || c == SMS as i64 => {
                Ok(TrafficType(c as i16))
            }
            _ => Err("traffic_type must be \"data\" or \"sms\""),
        }
    }
}

/// One usage record: data volumes in MB, SMS as counts.
#[derive(Deserialize, ToSchema)]
pub struct UsageLine {
    #[serde(flatten)]
    sim: SimKeyDto,
    /// RFC 3339.
    timestamp: String,
    traffic_type: TrafficType,
    volume_tx: f64,
    volume_rx: f64,
    cost: Option<f64>,
    /// ISO 4217, default EUR.
    currency: Option<String>,
}

/// One network event of a SIM.
#[derive(Deserialize, ToSchema)]
pub struct EventLine {
    #[serde(flatten)]
    sim: SimKeyDto,
    /// RFC 3339.
    timestamp: String,
    type_id: i64,
    /// 0 info, 1 warning, 2 critical (an alert).
    severity: Option<i64>,
    description: String,
    detail: Option<serde_json::Value>,
}

/// Usage records (data volumes in MB, SMS as counts) added into hourly buckets.
#[utoipa::path(operation_id = "ingest_usage", post, path = "/admin/v1/usage", tag = "admin", security(("bearer" = [])),
    request_body(content = [UsageLine], description = "A JSON array of records, or NDJSON (one per line)"),
    responses((status = 200, body = IngestResult), (status = 400, description = "bad_request"),
              (status = 403, description = "access_denied")))]
async fn usage(
    State(state): State<AppState>,
    Require(p, ..): Require<Admin>,
    Records(lines): Records<UsageLine>,
) -> AppResult<Json<IngestResult>> {
    let records = lines.into_iter().map(|l| {
        l.map(|l| ingest::UsageInput {
            sim: l.sim.into(),
            timestamp: l.timestamp,
            traffic_type: l.traffic_type.0,
            volume_tx: l.volume_tx,
            volume_rx: l.volume_rx,
            cost: l.cost,
            currency: l.currency,
        })
    });
    Ok(IngestResult::new(
        ingest::usage(&state, &p, records.collect()).await?,
    ))
}

/// Network events for SIMs.
#[utoipa::path(operation_id = "ingest_events", post, path = "/admin/v1/events", tag = "admin", security(("bearer" = [])),
    request_body(content = [EventLine], description = "A JSON array of records, or NDJSON (one per line)"),
    responses((status = 200, body = IngestResult), (status = 400, description = "bad_request"),
              (status = 403, description = "access_denied")))]
async fn events(
    State(state): State<AppState>,
    Require(p, ..): Require<Admin>,
    Records(lines): Records<EventLine>,
) -> AppResult<Json<IngestResult>> {
    let records = lines.into_iter().map(|l| {
        l.map(|l| ingest::EventInput {
            sim: l.sim.into(),
            timestamp: l.timestamp,
            type_id: l.type_id,
            severity: l.severity,
            description: l.description,
            detail: l.detail,
        })
    });
    Ok(IngestResult::new(
        ingest::events(&state, &p, records.collect()).await?,
    ))
}

/// A delivery report of an MT SMS.
#[derive(Deserialize, ToSchema)]
pub struct SmsReportLine {
    sms_id: i64,
    /// 2 IN PROGRESS, 3 BUFFERED (a retry), 4 DELIVERED, 5 FAILED.
    status: i64,
    /// RFC 3339.
    timestamp: String,
    gsm_map_error: Option<i64>,
}

/// A mobile-originated SMS from a SIM (`sim_id` or `iccid`).
#[derive(Deserialize, ToSchema)]
pub struct SmsMoLine {
    #[serde(flatten)]
    sim: SimKeyDto,
    /// RFC 3339.
    timestamp: String,
    payload: String,
    destination_address: Option<String>,
    dcs: Option<i64>,
    udh: Option<String>,
}

/// An MT SMS a gateway may deliver now.
#[derive(Serialize, ToSchema)]
pub struct WaitingSms {
    id: i64,
    endpoint_id: i64,
    /// 1 or 3.
    status: i16,
    submit_date: String,
    expiry_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_address_type: Option<i16>,
    payload: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    udh: Option<String>,
    dcs: i32,
    sim_id: i64,
    iccid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    imsi: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    msisdn: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct WaitingQuery {
    /// At most this many (1 to 1000, default 100).
    #[param(value_type = Option<i64>)]
    limit: Option<String>,
}

/// MT SMS waiting (1) or buffered (3) on endpoints with a SIM, oldest first, with the SIM they go to
/// (ADMIN: the delivery gateway's view).
#[utoipa::path(operation_id = "list_waiting_sms", get, path = "/admin/v1/sms", tag = "admin", security(("bearer" = [])),
    params(WaitingQuery),
    responses((status = 200, body = [WaitingSms]), (status = 403, description = "access_denied"),
              (status = 422, description = "limit")))]
async fn waiting_sms(
    State(state): State<AppState>,
    _admin: Require<Admin>,
    axum::extract::Query(q): axum::extract::Query<WaitingQuery>,
) -> AppResult<Json<Vec<WaitingSms>>> {
    let limit = match q.limit.as_deref() {
        None => 100,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=1000).contains(l))
            .ok_or_else(|| crate::error::AppError::invalid("limit", "limit must be 1 to 1000"))?,
    };
    let time = crate::api::json::iso_millis;
    Ok(Json(
        state
            .store
            .sms_waiting(limit)
            .await?
            .into_iter()
            .map(|m| WaitingSms {
                id: m.id,
                endpoint_id: m.endpoint_id,
                status: m.status,
                submit_date: time(&m.submit_date),
                expiry_date: time(&m.expiry_date),
                source_address: m.source_address,
                source_address_type: m.source_address_type,
                payload: m.payload,
                udh: m.udh,
                dcs: m.dcs,
                sim_id: m.sim_id,
                iccid: m.iccid,
                imsi: m.imsi,
                msisdn: m.msisdn,
            })
            .collect(),
    ))
}

/// Delivery reports (ADMIN): each moves its SMS as spec §5 allows (1→2/3/4/5, 2→3/4/5, 3→2/4/5);
/// others are refused by index.
#[utoipa::path(operation_id = "ingest_sms_reports", post, path = "/admin/v1/sms/reports", tag = "admin", security(("bearer" = [])),
    request_body(content = [SmsReportLine], description = "A JSON array of records, or NDJSON (one per line)"),
    responses((status = 200, body = IngestResult), (status = 400, description = "bad_request"),
              (status = 403, description = "access_denied")))]
async fn sms_reports(
    State(state): State<AppState>,
    Require(p, ..): Require<Admin>,
    Records(lines): Records<SmsReportLine>,
) -> AppResult<Json<IngestResult>> {
    let records = lines.into_iter().map(|l| {
        l.map(|l| ingest::ReportInput {
            sms_id: l.sms_id,
            status: l.status,
            timestamp: l.timestamp,
            gsm_map_error: l.gsm_map_error,
        })
    });
    Ok(IngestResult::new(
        ingest::sms_reports(&state, &p, records.collect()).await?,
    ))
}

/// Mobile-originated SMS (ADMIN): each is filed as delivered under the endpoint its SIM was in at
/// its time (event 1015).
#[utoipa::path(operation_id = "ingest_sms_mo", post, path = "/admin/v1/sms/mo", tag = "admin", security(("bearer" = [])),
    request_body(content = [SmsMoLine], description = "A JSON array of records, or NDJSON (one per line)"),
    responses((status = 200, body = IngestResult), (status = 400, description = "bad_request"),
              (status = 403, description = "access_denied")))]
async fn sms_mo(
    State(state): State<AppState>,
    Require(p, ..): Require<Admin>,
    Records(lines): Records<SmsMoLine>,
) -> AppResult<Json<IngestResult>> {
    let records = lines.into_iter().map(|l| {
        l.map(|l| ingest::MoInput {
            sim: l.sim.into(),
            timestamp: l.timestamp,
            payload: l.payload,
            destination_address: l.destination_address,
            dcs: l.dcs,
            udh: l.udh,
        })
    });
    Ok(IngestResult::new(
        ingest::sms_mo(&state, &p, records.collect()).await?,
    ))
}
