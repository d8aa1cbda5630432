//! What the emnify side of the store reads and writes: SIM models and batches, emnify SIMs with
//! their filters and sort keys, events, usage.
use crate::domain::sim::FormFactor;
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SimModel {
    pub id: i64,
    pub description: String,
    pub memory_size: Option<i32>,
    #[sqlx(try_from = "String")]
    pub form_factor: FormFactor,
    pub manufacturer: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewSimModel {
    pub description: String,
    pub memory_size: Option<i32>,
    pub form_factor: FormFactor,
    pub manufacturer: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SimBatch {
    pub id: i64,
    pub bic: String,
    pub issuer_org_id: i64,
    pub model_id: Option<i64>,
    pub quantity: i32,
    pub created_at: DateTime<Utc>,
    pub registered_at: Option<DateTime<Utc>>,
    pub registered_by_org_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct BatchSim {
    pub iccid: String,
    pub imsi: Option<String>,
    pub msisdn: Option<String>,
    pub eid: Option<String>,
    pub puk1: Option<String>,
    pub puk2: Option<String>,
    pub pin1: Option<String>,
    pub pin2: Option<String>,
    pub network: String,
    pub form_factor: FormFactor,
    pub production_date: Option<chrono::NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct NewBatch {
    pub bic: String,
    pub issuer_org_id: i64,
    pub model_id: Option<i64>,
    pub sims: Vec<BatchSim>,
}

/// A SIM as emnify shows it: with its orgs, model and endpoint.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EmnifySim {
    pub id: i64,
    pub iccid: String,
    pub imsi: Option<String>,
    pub msisdn: Option<String>,
    pub eid: Option<String>,
    pub status: i16,
    pub production_date: Option<chrono::NaiveDate>,
    pub activation_date: Option<DateTime<Utc>>,
    pub issuer_org_id: Option<i64>,
    pub reseller_org_id: Option<i64>,
    pub customer_org_id: Option<i64>,
    pub in_storage_at: Option<i64>,
    pub endpoint_id: Option<i64>,
    pub mvno_account_id: Option<i64>,
    pub network: String,
    pub form_factor: String,
    pub auto_assign: bool,
    pub version: i64,
    pub issuer_name: Option<String>,
    pub issuer_country: Option<String>,
    pub issuer_path: Option<String>,
    pub reseller_name: Option<String>,
    pub reseller_country: Option<String>,
    pub reseller_path: Option<String>,
    pub customer_name: Option<String>,
    pub customer_country: Option<String>,
    pub customer_path: Option<String>,
    pub model_id: Option<i64>,
    pub model_description: Option<String>,
    pub model_memory_size: Option<i32>,
    pub model_form_factor: Option<String>,
    pub model_manufacturer: Option<String>,
    pub endpoint_name: Option<String>,
    pub endpoint_imei: Option<String>,
    pub endpoint_created: Option<DateTime<Utc>>,
    pub endpoint_updated: Option<DateTime<Utc>>,
    pub endpoint_org_id: Option<i64>,
    pub service_profile_id: Option<i64>,
    pub tariff_profile_id: Option<i64>,
    pub endpoint_tags: Option<String>,
    pub endpoint_ip: Option<String>,
}

/// Columns an emnify SIM filter compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimCol {
    Id,
    IssuerOrg,
    ResellerOrg,
    CustomerOrg,
    Model,
    Endpoint,
    Iccid,
    Imsi,
    Msisdn,
    Eid,
}

impl SimCol {
    pub fn column(self) -> &'static str {
        match self {
            SimCol::Id => "id",
            SimCol::IssuerOrg => "issuer_org_id",
            SimCol::ResellerOrg => "reseller_org_id",
            SimCol::CustomerOrg => "customer_org_id",
            SimCol::Model => "model_id",
            SimCol::Endpoint => "endpoint_id",
            SimCol::Iccid => "iccid",
            SimCol::Imsi => "imsi",
            SimCol::Msisdn => "msisdn",
            SimCol::Eid => "eid",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SimCond {
    Eq(SimCol, i64),
    IsNull(SimCol),
    TextIn(SimCol, Vec<String>),
    Prefix(SimCol, String),
    StatusIn(Vec<i16>),
    Date(chrono::NaiveDate),
}

impl SimCond {
    /// Whether `sim_owner_counts` can answer this condition: its key is issuer, reseller, customer, model,
    /// status and whether an endpoint is attached.
    pub fn countable(&self) -> bool {
        match self {
            // Ids start at 1; 0 stands for NULL in the counters, so `= 0` must go to the rows.
            SimCond::Eq(col, v) => {
                *v > 0
                    && matches!(
                        col,
                        SimCol::IssuerOrg
                            | SimCol::ResellerOrg
                            | SimCol::CustomerOrg
                            | SimCol::Model
                    )
            }
            SimCond::IsNull(col) => matches!(
                col,
                SimCol::IssuerOrg
                    | SimCol::ResellerOrg
                    | SimCol::CustomerOrg
                    | SimCol::Model
                    | SimCol::Endpoint
            ),
            SimCond::StatusIn(_) => true,
            SimCond::TextIn(..) | SimCond::Prefix(..) | SimCond::Date(_) => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimSortKey {
    Id,
    IssuerOrg,
    ResellerOrg,
    CustomerOrg,
    Iccid,
    Eid,
    Status,
    ProductionDate,
    Endpoint,
    Model,
}

impl SimSortKey {
    pub fn column(self) -> &'static str {
        match self {
            SimSortKey::Id => "id",
            SimSortKey::IssuerOrg => "issuer_org_id",
            SimSortKey::ResellerOrg => "reseller_org_id",
            SimSortKey::CustomerOrg => "customer_org_id",
            SimSortKey::Iccid => "iccid",
            SimSortKey::Eid => "eid",
            SimSortKey::Status => "status",
            SimSortKey::ProductionDate => "production_date",
            SimSortKey::Endpoint => "endpoint_id",
            SimSortKey::Model => "model_id",
        }
    }

    /// Text or date (ordered as text); the other keys are numbers.
    pub fn is_text(self) -> bool {
        matches!(
            self,
            SimSortKey::Iccid | SimSortKey::Eid | SimSortKey::ProductionDate
        )
    }
}

/// A PATCH of a SIM: `Some(None)` clears an org.
#[derive(Debug, Clone, Default)]
pub struct EmnifySimPatch {
    pub status: Option<crate::domain::sim::SimStatus>,
    pub issuer_org_id: Option<Option<i64>>,
    pub reseller_org_id: Option<Option<i64>>,
    pub customer_org_id: Option<Option<i64>>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub ts: DateTime<Utc>,
    pub org_id: Option<i64>,
    pub sim_id: Option<i64>,
    pub endpoint_id: Option<i64>,
    pub user_id: Option<i64>,
    pub type_id: i32,
    pub source: i16,
    pub severity: i16,
    pub alert: bool,
    pub description: String,
    pub detail: Option<sqlx::types::Json<serde_json::Value>>,
    pub org_name: Option<String>,
    pub org_path: Option<String>,
    pub sim_iccid: Option<String>,
    pub sim_imsi: Option<String>,
    pub sim_production_date: Option<chrono::NaiveDate>,
    pub sim_created: Option<DateTime<Utc>>,
    pub user_name: Option<String>,
    pub user_email: Option<String>,
    pub user_org_id: Option<i64>,
    pub user_org_path: Option<String>,
}

/// Whose events a list reads: a SIM's or an endpoint's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSubject {
    Sim(i64),
    Endpoint(i64),
    /// Every event of the orgs in the caller's scope (org-less ones: ADMIN only).
    Scope,
}

/// One condition of an event list's `q`.
#[derive(Debug, Clone, PartialEq)]
pub enum EventCond {
    /// `type_id`, `source` or `severity` among the values.
    In(&'static str, Vec<i64>),
    Alert(bool),
    Description(String),
    Between(DateTime<Utc>, DateTime<Utc>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSortKey {
    Id,
    Timestamp,
    Source,
    Severity,
    Alert,
    Type,
    /// Of the event's SIM (`s`), while its org still holds it.
    Iccid,
    Imsi,
    /// Of the event's endpoint (`e`).
    Endpoint,
    Tags,
    IpAddress,
    /// The event's org's name.
    Organisation,
    /// The name of the user who caused it.
    User,
}

impl EventSortKey {
    /// The expression it sorts by, in the event list's aliases.
    pub fn column(self) -> &'static str {
        match self {
            EventSortKey::Id => "ev.id",
            EventSortKey::Timestamp => "ev.ts",
            EventSortKey::Source => "ev.source",
            EventSortKey::Severity => "ev.severity",
            EventSortKey::Alert => "ev.alert",
            EventSortKey::Type => "ev.type_id",
            EventSortKey::Iccid => "s.iccid",
            EventSortKey::Imsi => "s.imsi",
            EventSortKey::Endpoint => "e.name",
            EventSortKey::Tags => "e.tags",
            EventSortKey::IpAddress => "e.ip_address",
            EventSortKey::Organisation => "o.name",
            EventSortKey::User => "u.name",
        }
    }

    /// Whether the value may be missing (no SIM, no device, no user): those rows sort last.
    pub fn nullable(self) -> bool {
        self.column().starts_with("s.")
            || self.column().starts_with("e.")
            || matches!(self, EventSortKey::Organisation | EventSortKey::User)
    }
}

#[derive(Debug, Clone)]
pub struct UsageRecord {
    pub sim_id: i64,
    /// When it was used (quotas count records from their assignment on).
    pub at: DateTime<Utc>,
    pub hour: DateTime<Utc>,
    pub traffic_type: i16,
    pub volume_tx: f64,
    pub volume_rx: f64,
    pub cost: f64,
    pub currency: String,
}

/// An hourly usage bucket as stored.
pub type UsageRow = crate::domain::usage::Bucket;

#[derive(Debug, Clone)]
pub struct NewEvent {
    pub ts: DateTime<Utc>,
    pub org_id: Option<i64>,
    pub sim_id: i64,
    pub type_id: i32,
    pub severity: i16,
    pub description: String,
    pub detail: Option<serde_json::Value>,
}

/// Whom a batch is registered to: the registering org as reseller or customer, and its SIMs' status.
#[derive(Debug, Clone, Copy)]
pub struct Registration {
    pub reseller_org_id: Option<i64>,
    pub customer_org_id: Option<i64>,
    pub status: crate::domain::sim::SimStatus,
    pub by_org: i64,
}
