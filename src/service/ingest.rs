//! Usage and network-event ingest (ADMIN): records arrive one by one and are refused one by one; what
//! is accepted is written in one transaction.
use crate::domain::dates;
use crate::domain::sim::parse_iccid;
use crate::error::AppResult;
use crate::state::AppState;
use crate::store::{NewEvent, UsageRecord};
use std::collections::{HashMap, HashSet};

/// Which SIM a record is about: `sim_id`, else `iccid`.
pub struct SimKey {
    pub sim_id: Option<i64>,
    pub iccid: Option<String>,
}

pub struct UsageInput {
    pub sim: SimKey,
    pub timestamp: String,
    /// `domain::usage::DATA` or `SMS`.
    pub traffic_type: i16,
    pub volume_tx: f64,
    pub volume_rx: f64,
    pub cost: Option<f64>,
    pub currency: Option<String>,
}

pub struct EventInput {
    pub sim: SimKey,
    pub timestamp: String,
    pub type_id: i64,
    pub severity: Option<i64>,
    pub description: String,
    pub detail: Option<serde_json::Value>,
}

/// What came of an ingest: how many records were accepted, and each refused one by index.
pub struct Ingested {
    pub accepted: usize,
    pub rejected: Vec<(usize, String)>,
}

/// Adds usage records into their SIMs' hourly buckets.
pub async fn usage(
    state: &AppState,
    p: &crate::domain::access::Principal,
    records: Vec<Result<UsageInput, String>>,
) -> AppResult<Ingested> {
    let (ok, rejected) = split(state, records, |r| &r.sim, usage_record).await?;
    if !ok.is_empty() {
        state.store.usage_ingest(&ok, &state.actor(p)).await?;
    }
    Ok(Ingested {
        accepted: ok.len(),
        rejected,
    })
}

/// Records network events of SIMs.
pub async fn events(
    state: &AppState,
    p: &crate::domain::access::Principal,
    records: Vec<Result<EventInput, String>>,
) -> AppResult<Ingested> {
    let (ok, rejected) = split(state, records, |r| &r.sim, network_event).await?;
    if !ok.is_empty() {
        state.store.events_ingest(&ok, &state.actor(p)).await?;
    }
    Ok(Ingested {
        accepted: ok.len(),
        rejected,
    })
}

/// Resolves every record's SIM and converts it with `convert`; what fails is refused by index.
async fn split<I, T>(
    state: &AppState,
    records: Vec<Result<I, String>>,
    key: impl Fn(&I) -> &SimKey,
    convert: impl Fn(I, i64) -> Result<T, String>,
) -> AppResult<(Vec<T>, Vec<(usize, String)>)> {
    let (ok, rejected) = split_indexed(state, records, key, convert).await?;
    Ok((ok.into_iter().map(|(_, t)| t).collect(), rejected))
}

/// As [`split`], each accepted record with its index.
async fn split_indexed<I, T>(
    state: &AppState,
    records: Vec<Result<I, String>>,
    key: impl Fn(&I) -> &SimKey,
    convert: impl Fn(I, i64) -> Result<T, String>,
) -> AppResult<(Vec<(usize, T)>, Vec<(usize, String)>)> {
    let keys: Vec<&SimKey> = records
        .iter()
        .filter_map(|r| r.as_ref().ok().map(&key))
        .collect();
    let sims = Sims::resolve(state, &keys).await?;
    let (mut ok, mut rejected) = (Vec::new(), Vec::new());
    for (index, r) in records.into_iter().enumerate() {
        let converted = r.and_then(|rec| {
            let sim_id = sims.of(key(&rec))?;
            convert(rec, sim_id)
        });
        match converted {
            Ok(item) => ok.push((index, item)),
            Err(reason) => rejected.push((index, reason)),
        }
    }
    Ok((ok, rejected))
}

/// The SIMs the records name: ICCs to ids, and which ids exist.
struct Sims {
    by_iccid: HashMap<String, i64>,
    existing: HashSet<i64>,
}

impl Sims {
    async fn resolve(state: &AppState, keys: &[&SimKey]) -> AppResult<Sims> {
        let iccids: Vec<String> = keys
            .iter()
            .filter_map(|k| k.iccid.as_deref().and_then(|icc| parse_iccid(icc).ok()))
            .collect();
        let ids: Vec<i64> = keys.iter().filter_map(|k| k.sim_id).collect();
        let by_iccid = state
            .store
            .sim_ids_by_iccid(&iccids)
            .await?
            .into_iter()
            .collect();
        let existing = state.store.sims_exist(&ids).await?.into_iter().collect();
        Ok(Sims { by_iccid, existing })
    }

    fn of(&self, key: &SimKey) -> Result<i64, String> {
        if let Some(id) = key.sim_id {
            return self
                .existing
                .contains(&id)
                .then_some(id)
                .ok_or_else(|| format!("unknown sim_id {id}"));
        }
        let icc = key.iccid.as_deref().ok_or("sim_id or iccid is required")?;
        let canonical = parse_iccid(icc).map_err(|e| format!("iccid: {e}"))?;
        self.by_iccid
            .get(&canonical)
            .copied()
            .ok_or_else(|| format!("unknown iccid {icc}"))
    }
}

fn non_negative(name: &str, v: f64) -> Result<f64, String> {
    if v >= 0.0 && v.is_finite() {
        Ok(v)
    } else {
        Err(format!("{name} must be a number >= 0"))
    }
}

fn usage_record(r: UsageInput, sim_id: i64) -> Result<UsageRecord, String> {
    let ts = dates::timestamp("timestamp", &r.timestamp)?;
    let currency = match r.currency {
        None => "EUR".to_string(),
        Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()) => {
            c.to_ascii_uppercase()
        }
        Some(_) => return Err("currency must be a 3-letter code".into()),
    };
    Ok(UsageRecord {
        sim_id,
        at: ts,
        hour: dates::hour_start(ts),
        traffic_type: r.traffic_type,
        volume_tx: non_negative("volume_tx", r.volume_tx)?,
        volume_rx: non_negative("volume_rx", r.volume_rx)?,
        cost: non_negative("cost", r.cost.unwrap_or(0.0))?,
        currency,
    })
}

fn network_event(r: EventInput, sim_id: i64) -> Result<NewEvent, String> {
    let ts = dates::timestamp("timestamp", &r.timestamp)?;
    let type_id = i32::try_from(r.type_id)
        .ok()
        .filter(|t| *t > 0)
        .ok_or("type_id must be a positive integer")?;
    let severity = match r.severity {
        None => 0,
        Some(s) if (0..=2).contains(&s) => s as i16,
        Some(_) => return Err("severity must be 0, 1 or 2".into()),
    };
    if r.description.trim().is_empty() {
        return Err("description is required".into());
    }
    Ok(NewEvent {
        ts,
        org_id: None,
        sim_id,
        type_id,
        severity,
        description: r.description,
        detail: r.detail.filter(|d| !d.is_null()),
    })
}

/// A delivery report as a gateway sends it.
pub struct ReportInput {
    pub sms_id: i64,
    pub status: i64,
    pub timestamp: String,
    pub gsm_map_error: Option<i64>,
}

/// A mobile-originated SMS as a gateway hands it in.
pub struct MoInput {
    pub sim: SimKey,
    pub timestamp: String,
    pub payload: String,
    pub destination_address: Option<String>,
    pub dcs: Option<i64>,
    pub udh: Option<String>,
}

/// A store refusal that concerns one record (refused by index), or a failure of the whole call.
fn refusal(e: crate::store::StoreError) -> AppResult<String> {
    match e {
        crate::store::StoreError::Rule(rule) => Ok(rule.to_string()),
        crate::store::StoreError::NotFound => Ok("not found".into()),
        other => Err(other.into()),
    }
}

/// Delivery reports: each moves its SMS as the contract allows, in a transaction of its own.
pub async fn sms_reports(
    state: &AppState,
    p: &crate::domain::access::Principal,
    records: Vec<Result<ReportInput, String>>,
) -> AppResult<Ingested> {
    use crate::domain::sms::SmsStatus;
    let actor = state.actor(p);
    let (mut accepted, mut rejected) = (0, Vec::new());
    for (index, r) in records.into_iter().enumerate() {
        let report = r.and_then(|r| {
            let status = SmsStatus::from_id(r.status)
                .filter(|s| (2..=5).contains(&s.id()))
                .ok_or_else(|| format!("status {} is not 2, 3, 4 or 5", r.status))?;
            let gsm_map_error = r
                .gsm_map_error
                .map(|e| i32::try_from(e).map_err(|_| "gsm_map_error out of range".to_string()))
                .transpose()?;
            Ok(crate::store::SmsReport {
                sms_id: r.sms_id,
                status,
                at: dates::timestamp("timestamp", &r.timestamp)?,
                gsm_map_error,
            })
        });
        match report {
            Err(reason) => rejected.push((index, reason)),
            Ok(report) => match state.store.sms_report(&report, &actor).await {
                Ok(()) => accepted += 1,
                Err(e) => rejected.push((index, refusal(e)?)),
            },
        }
    }
    Ok(Ingested { accepted, rejected })
}

/// MO SMS: each is filed, delivered (4), under the endpoint its SIM was in at its time.
pub async fn sms_mo(
    state: &AppState,
    p: &crate::domain::access::Principal,
    records: Vec<Result<MoInput, String>>,
) -> AppResult<Ingested> {
    use crate::domain::sms;
    let (ok, mut rejected) = split_indexed(
        state,
        records,
        |r| &r.sim,
        |r, sim_id| {
            let err = |e: crate::domain::error::DomainError| e.to_string();
            Ok(crate::store::NewMo {
                sim_id,
                at: dates::timestamp("timestamp", &r.timestamp)?,
                payload: sms::payload(&r.payload).map_err(err)?,
                destination_address: r.destination_address,
                dcs: r.dcs.map(sms::dcs).transpose().map_err(err)?.unwrap_or(0),
                udh: r.udh.as_deref().map(sms::udh).transpose().map_err(err)?,
            })
        },
    )
    .await?;
    let actor = state.actor(p);
    let mut accepted = 0;
    for (index, mo) in ok {
        match state.store.sms_receive(&mo, &actor).await {
            Ok(_) => accepted += 1,
            Err(e) => rejected.push((index, refusal(e)?)),
        }
    }
    rejected.sort_by_key(|r| r.0);
    Ok(Ingested { accepted, rejected })
}
