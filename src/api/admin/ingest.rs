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
