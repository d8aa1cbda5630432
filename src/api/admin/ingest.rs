//! Usage and network-event ingest (ADMIN): a JSON array or NDJSON, with per-record rejections.
use crate::auth::extract::{Admin, Require};
use crate::domain::sim::parse_iccid;
use crate::domain::usage::{DATA, SMS};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{NewEvent, UsageRecord};
use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
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
    fn new(accepted: usize, mut rejected: Vec<Rejected>) -> Json<IngestResult> {
        let rejected_count = rejected.len();
        rejected.truncate(MAX_LISTED_REJECTIONS);
        Json(IngestResult {
            accepted,
            rejected_count,
            rejected,
        })
    }
}

/// The records of a JSON array or of NDJSON; a line that is not JSON is rejected by index.
fn records(body: &Bytes) -> AppResult<Vec<Result<Value, String>>> {
    let text =
        std::str::from_utf8(body).map_err(|_| AppError::bad_request("the body must be UTF-8"))?;
    if text.trim_start().starts_with('[') {
        let all: Vec<Value> = serde_json::from_str(text)
            .map_err(|e| AppError::bad_request(format!("Malformed JSON array: {e}")))?;
        return Ok(all.into_iter().map(without_nul).collect());
    }
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .map_err(|e| format!("not JSON: {e}"))
                .and_then(without_nul)
        })
        .collect())
}

/// A record with a NUL character anywhere is rejected on its own (no database stores it alike).
fn without_nul(v: Value) -> Result<Value, String> {
    match crate::api::hostile::nul_path(&v) {
        Some(path) => Err(format!("{path} contains a NUL character")),
        None => Ok(v),
    }
}

/// Parses every record with `parse` (given the record's SIM id); what fails is rejected by index.
async fn split<T>(
    state: &AppState,
    body: &Bytes,
    parse: impl Fn(&Value, i64) -> Result<T, String>,
) -> AppResult<(Vec<T>, Vec<Rejected>)> {
    let recs = records(body)?;
    let (by_iccid, existing) = sim_ids(state, &recs).await?;
    let (mut ok, mut rejected) = (Vec::new(), Vec::new());
    for (index, r) in recs.iter().enumerate() {
        match r
            .clone()
            .and_then(|v| parse(&v, sim_of(&v, &by_iccid, &existing)?))
        {
            Ok(item) => ok.push(item),
            Err(reason) => rejected.push(Rejected { index, reason }),
        }
    }
    Ok((ok, rejected))
}

/// Resolves each record's `sim_id` or `iccid` to a SIM id.
async fn sim_ids(
    state: &AppState,
    recs: &[Result<Value, String>],
) -> AppResult<(HashMap<String, i64>, std::collections::HashSet<i64>)> {
    let iccids: Vec<String> = recs
        .iter()
        .filter_map(|r| {
            r.as_ref()
                .ok()?
                .get("iccid")?
                .as_str()
                .and_then(|icc| parse_iccid(icc).ok())
        })
        .collect();
    let ids: Vec<i64> = recs
        .iter()
        .filter_map(|r| r.as_ref().ok()?.get("sim_id")?.as_i64())
        .collect();
    let by_iccid = state
        .store
        .sim_ids_by_iccid(&iccids)
        .await?
        .into_iter()
        .collect();
    let existing = state.store.sims_exist(&ids).await?.into_iter().collect();
    Ok((by_iccid, existing))
}

fn sim_of(
    v: &Value,
    by_iccid: &HashMap<String, i64>,
    existing: &std::collections::HashSet<i64>,
) -> Result<i64, String> {
    if let Some(id) = v.get("sim_id").and_then(Value::as_i64) {
        return existing
            .contains(&id)
            .then_some(id)
            .ok_or_else(|| format!("unknown sim_id {id}"));
    }
    let icc = v
        .get("iccid")
        .and_then(Value::as_str)
        .ok_or("sim_id or iccid is required")?;
    parse_iccid(icc)
        .map_err(|e| format!("iccid: {e}"))
        .and_then(|c| {
            by_iccid
                .get(&c)
                .copied()
                .ok_or_else(|| format!("unknown iccid {icc}"))
        })
}

fn timestamp(v: &Value) -> Result<DateTime<Utc>, String> {
    let t = v
        .get("timestamp")
        .and_then(Value::as_str)
        .ok_or("timestamp is required")?;
    crate::domain::dates::timestamp("timestamp", t)
}

fn non_negative(v: &Value, name: &str, required: bool) -> Result<f64, String> {
    match v.get(name) {
        None | Some(Value::Null) if !required => Ok(0.0),
        Some(x) => x
            .as_f64()
            .filter(|f| *f >= 0.0 && f.is_finite())
            .ok_or_else(|| format!("{name} must be a number >= 0")),
        None => Err(format!("{name} is required")),
    }
}

fn usage_record(v: &Value, sim_id: i64) -> Result<UsageRecord, String> {
    let ts = timestamp(v)?;
    let traffic_type = match v.get("traffic_type") {
        Some(Value::String(s)) if s.eq_ignore_ascii_case("data") => DATA,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("sms") => SMS,
        Some(Value::Number(n)) if n.as_i64() == Some(DATA as i64) => DATA,
        Some(Value::Number(n)) if n.as_i64() == Some(SMS as i64) => SMS,
        _ => return Err("traffic_type must be \"data\" or \"sms\"".into()),
    };
    let currency = match v.get("currency") {
        None | Some(Value::Null) => "EUR".to_string(),
        Some(Value::String(c)) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()) => {
            c.to_ascii_uppercase()
        }
        Some(_) => return Err("currency must be a 3-letter code".into()),
    };
    Ok(UsageRecord {
        sim_id,
        hour: crate::domain::dates::hour_start(ts),
        traffic_type,
        volume_tx: non_negative(v, "volume_tx", true)?,
        volume_rx: non_negative(v, "volume_rx", true)?,
        cost: non_negative(v, "cost", false)?,
        currency,
    })
}

/// Usage records (data volumes in MB, SMS as counts) added into hourly buckets.
#[utoipa::path(post, path = "/admin/v1/usage", tag = "admin", security(("bearer" = [])),
    request_body(content = Object, description = "JSON array or NDJSON of {iccid | sim_id, timestamp, traffic_type: data|sms, volume_tx, volume_rx, cost?, currency?}"),
    responses((status = 200, body = IngestResult), (status = 400, description = "bad_request"), (status = 403, description = "access_denied")))]
async fn usage(
    State(state): State<AppState>,
    Require(p, ..): Require<Admin>,
    body: Bytes,
) -> AppResult<Json<IngestResult>> {
    let (ok, rejected) = split(&state, &body, usage_record).await?;
    if !ok.is_empty() {
        state.store.usage_ingest(&ok, &state.actor(&p)).await?;
    }
    Ok(IngestResult::new(ok.len(), rejected))
}

fn network_event(v: &Value, sim_id: i64) -> Result<NewEvent, String> {
    let ts = timestamp(v)?;
    let type_id = v
        .get("type_id")
        .and_then(Value::as_i64)
        .and_then(|t| i32::try_from(t).ok())
        .filter(|t| *t > 0)
        .ok_or("type_id must be a positive integer")?;
    let severity = match v.get("severity") {
        None | Some(Value::Null) => 0,
        Some(s) => s
            .as_i64()
            .filter(|s| (0..=2).contains(s))
            .ok_or("severity must be 0, 1 or 2")? as i16,
    };
    let description = v
        .get("description")
        .and_then(Value::as_str)
        .filter(|d| !d.trim().is_empty())
        .ok_or("description is required")?;
    Ok(NewEvent {
        ts,
        org_id: None,
        sim_id,
        type_id,
        severity,
        description: description.to_string(),
        detail: v.get("detail").cloned().filter(|d| !d.is_null()),
    })
}

/// Network events for SIMs.
#[utoipa::path(post, path = "/admin/v1/events", tag = "admin", security(("bearer" = [])),
    request_body(content = Object, description = "JSON array or NDJSON of {iccid | sim_id, timestamp, type_id, severity?, description, detail?}"),
    responses((status = 200, body = IngestResult), (status = 400, description = "bad_request"), (status = 403, description = "access_denied")))]
async fn events(
    State(state): State<AppState>,
    Require(p, ..): Require<Admin>,
    body: Bytes,
) -> AppResult<Json<IngestResult>> {
    let (ok, rejected) = split(&state, &body, network_event).await?;
    if !ok.is_empty() {
        state.store.events_ingest(&ok, &state.actor(&p)).await?;
    }
    Ok(IngestResult::new(ok.len(), rejected))
}
