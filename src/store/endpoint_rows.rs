//! What the endpoint side of the store reads and writes: endpoints with their profiles and SIM, their
//! filters and sort keys, the changes a PATCH asks for, and the profiles.
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// An endpoint as the emnify dialect shows it: with its profiles' names and its SIM. Read from the
/// columns of `endpoint_select!` (store/endpoints.rs), in that order.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointRow {
    pub id: i64,
    pub org_id: i64,
    /// The org's path (the scope check of a batched single read).
    #[serde(skip)]
    pub org_path: String,
    pub tenant_org_id: i64,
    pub name: String,
    pub status: i32,
    pub imei: Option<String>,
    pub imei_lock: bool,
    pub tags: Option<String>,
    pub ip_address: Option<String>,
    pub ip_address_space_id: Option<i64>,
    /// The block of that space (single reads only; not a column).
    pub ip_address_space: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub service_profile_id: i64,
    pub service_profile_name: String,
    pub tariff_profile_id: i64,
    pub tariff_profile_name: String,
    pub sim_id: Option<i64>,
    pub sim_iccid: Option<String>,
    pub sim_eid: Option<String>,
    pub sim_imsi: Option<String>,
    pub sim_msisdn: Option<String>,
    pub sim_status: Option<i16>,
}

super::by_position::from_row_by_position!(EndpointRow {
    id,
    org_id,
    org_path,
    tenant_org_id,
    name,
    status,
    imei,
    imei_lock,
    tags,
    ip_address,
    ip_address_space_id,
    created_at,
    updated_at,
    service_profile_id,
    service_profile_name,
    tariff_profile_id,
    tariff_profile_name,
    sim_id,
    sim_iccid,
    sim_eid,
    sim_imsi,
    sim_msisdn,
    sim_status,
} default ip_address_space);

/// Which SIM to put in an endpoint, and whether to activate it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimAttach {
    pub sim_id: i64,
    pub activate: bool,
}

#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub org_id: i64,
    pub name: String,
    pub status: i16,
    pub tags: Option<String>,
    pub imei: Option<String>,
    pub imei_lock: bool,
    pub service_profile_id: i64,
    pub tariff_profile_id: i64,
    pub sim: Option<SimAttach>,
    pub ip: super::IpChoice,
}

/// The changes of a PATCH: `None` leaves a field; for `tags`, `imei` and `sim`, `Some(None)` clears.
#[derive(Debug, Clone, Default)]
pub struct EndpointPatch {
    pub name: Option<String>,
    pub status: Option<i16>,
    pub tags: Option<Option<String>>,
    pub imei: Option<Option<String>>,
    pub imei_lock: Option<bool>,
    pub service_profile_id: Option<i64>,
    pub tariff_profile_id: Option<i64>,
    pub sim: Option<Option<SimAttach>>,
    /// A new address (the old one is freed).
    pub ip: Option<super::IpChoice>,
}

/// An endpoint column a list filters or sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointCol {
    Id,
    Name,
    Status,
    Created,
    LastUpdated,
    Tags,
    IpAddress,
    Imei,
    ServiceProfile,
    TariffProfile,
    SimStatus,
    SimEid,
    SimIccid,
    SimImsi,
    SimMsisdn,
}

impl EndpointCol {
    pub fn column(self) -> &'static str {
        match self {
            EndpointCol::Id => "e.id",
            EndpointCol::Name => "e.name",
            EndpointCol::Status => "e.status",
            EndpointCol::Created => "e.created_at",
            EndpointCol::LastUpdated => "e.updated_at",
            EndpointCol::Tags => "e.tags",
            EndpointCol::IpAddress => "e.ip_address",
            EndpointCol::Imei => "e.imei",
            EndpointCol::ServiceProfile => "e.service_profile_id",
            EndpointCol::TariffProfile => "e.tariff_profile_id",
            EndpointCol::SimStatus => "s.status",
            EndpointCol::SimEid => "s.eid",
            EndpointCol::SimIccid => "s.iccid",
            EndpointCol::SimImsi => "s.imsi",
            EndpointCol::SimMsisdn => "s.msisdn",
        }
    }

    /// Whether a row may have no value in it (the SIM's columns: an endpoint may have no SIM).
    pub fn nullable(self) -> bool {
        !matches!(
            self,
            EndpointCol::Id
                | EndpointCol::Name
                | EndpointCol::Status
                | EndpointCol::Created
                | EndpointCol::LastUpdated
                | EndpointCol::ServiceProfile
                | EndpointCol::TariffProfile
        )
    }

    /// Whether the column is the SIM's (the query then needs the SIM joined).
    pub fn of_sim(self) -> bool {
        matches!(
            self,
            EndpointCol::SimStatus
                | EndpointCol::SimEid
                | EndpointCol::SimIccid
                | EndpointCol::SimImsi
                | EndpointCol::SimMsisdn
        )
    }

    pub fn is_text(self) -> bool {
        matches!(
            self,
            EndpointCol::Name
                | EndpointCol::Tags
                | EndpointCol::IpAddress
                | EndpointCol::Imei
                | EndpointCol::SimEid
                | EndpointCol::SimIccid
                | EndpointCol::SimImsi
                | EndpointCol::SimMsisdn
        )
    }
}

/// One condition of an endpoint list's `q`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointCond {
    /// The column is one of these numbers.
    In(EndpointCol, Vec<i64>),
    /// Case-insensitive substring.
    Contains(EndpointCol, String),
    /// The exact text.
    Text(EndpointCol, String),
    /// Starts with.
    Prefix(EndpointCol, String),
    /// The time falls on this day (UTC).
    Day(EndpointCol, NaiveDate),
}

impl EndpointCond {
    pub fn col(&self) -> EndpointCol {
        match self {
            EndpointCond::In(c, _)
            | EndpointCond::Contains(c, _)
            | EndpointCond::Text(c, _)
            | EndpointCond::Prefix(c, _)
            | EndpointCond::Day(c, _) => *c,
        }
    }
}

/// A service profile, with how many live endpoints use it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ServiceProfile {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub owner_org_id: Option<i64>,
    pub allowed_3g: bool,
    pub allowed_4g: bool,
    pub allowed_nb_iot: bool,
    pub apply_data_quota: bool,
    pub apply_sms_quota: bool,
    pub used_count: i64,
}

/// A tariff profile, with how many live endpoints use it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TariffProfile {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub owner_org_id: Option<i64>,
    pub used_count: i64,
}

/// Which of the two kinds of profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileKind {
    Service,
    Tariff,
}

impl ProfileKind {
    pub(crate) fn table(self) -> &'static str {
        match self {
            ProfileKind::Service => "service_profiles",
            ProfileKind::Tariff => "tariff_profiles",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ProfileKind::Service => "Service profile",
            ProfileKind::Tariff => "Tariff profile",
        }
    }

    pub fn field(self) -> &'static str {
        match self {
            ProfileKind::Service => "service_profile",
            ProfileKind::Tariff => "tariff_profile",
        }
    }
}

/// An operator with its country, MNCs and TAP codes (each `(id, value)`).
#[derive(Debug, Clone, Serialize)]
pub struct Operator {
    pub id: i64,
    pub name: String,
    pub country_id: i64,
    pub country_name: String,
    pub country_code: String,
    pub mcc: String,
    pub iso_code: String,
    pub mncs: Vec<(i64, String)>,
    pub tapcodes: Vec<(i64, String)>,
}

/// A network event of an endpoint's SIM, for its connectivity.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NetworkEvent {
    pub ts: DateTime<Utc>,
    pub type_id: i32,
    pub detail: Option<sqlx::types::Json<serde_json::Value>>,
}

/// An SMS to or from an endpoint, with the endpoint's name.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SmsRow {
    pub id: i64,
    pub endpoint_id: i64,
    pub endpoint_name: String,
    pub sim_id: Option<i64>,
    pub sms_type: i16,
    pub status: i16,
    pub submit_date: DateTime<Utc>,
    pub expiry_date: DateTime<Utc>,
    pub delivery_date: Option<DateTime<Utc>>,
    pub final_date: Option<DateTime<Utc>>,
    pub last_delivery_attempt: Option<DateTime<Utc>>,
    pub retry_count: i32,
    pub source_address: Option<String>,
    pub source_address_type: Option<i16>,
    pub destination_address: Option<String>,
    pub payload: String,
    pub udh: Option<String>,
    pub dcs: i32,
    pub pid: i32,
    pub gsm_map_error: Option<i32>,
}

/// An MT SMS to submit.
#[derive(Debug, Clone)]
pub struct NewSms {
    pub source_address: String,
    pub source_address_type: i16,
    pub payload: String,
    pub udh: Option<String>,
    pub dcs: i32,
    pub expiry_date: DateTime<Utc>,
}
