//! Storage: the traits the rest of the crate uses, and their Postgres and SQLite implementations.
//! All SQL lives here. The SQL text is shared between the backends wherever both accept it (sqlx's
//! SQLite driver takes `$1` placeholders); each area's `impl_*` macro is instantiated once per
//! backend, so both implementations come from one source and cannot drift.
//!
//! # Lock order
//! Every write takes its row locks in this order, so that no two writers wait on each other in a
//! circle (Postgres; SQLite has one writer at a time):
//! 1. the parent rows it reads under lock (an MVNO account, a SIM batch, a user, an org);
//! 2. existing `sims` rows, one at a time by the statement that names them; new `sims` rows are
//!    inserted in ICC order (overlapping imports then meet on the same first ICC instead of
//!    crossing);
//! 3. `sim_inventory_counts` rows in key order (storage org, network, form factor, auto-assign);
//!    an import takes its buckets before it inserts (an upsert of +0), as a move takes both of its
//!    buckets, sorted, before it updates the SIM;
//! 4. `sim_owner_counts`, by the statement trigger at the end of each `sims` statement, in key order;
//! 5. event and audit rows (inserts, no waits).
//!
//! An idempotency key's row is claimed and finished in transactions of their own, before and after
//! the request's, so it is never held while any of the above is waited for.
//!
//! A transaction that still loses a race (deadlock, serialization failure, SQLite busy) surfaces as
//! `StoreError::Contention` and is run again by `api::retry`.
use crate::domain::access::{AccessLevel, Scope};
use crate::domain::ids::EntityRef;
use crate::domain::inventory::Count;
use crate::domain::mvno::{AccountState, Features};
use crate::domain::org::OrgKind;
use crate::domain::paging::Page;
use crate::domain::sim::{FormFactor, ImportedSim};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::Arc;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    /// A business rule refused the change inside its transaction.
    #[error("rejected: {0}")]
    Rule(#[from] crate::domain::error::Rule),
    /// The database cannot serve now: down, unreachable, a connection lost mid-request, no free
    /// connection within the acquire time-out, a statement time-out. `lost`: a connection failed (a
    /// read may be tried once more on a fresh one).
    #[error("database unavailable: {cause}")]
    Unavailable { cause: String, lost: bool },
    /// The transaction lost a race with another (Postgres serialization failure or deadlock, SQLite
    /// busy): nothing was written, and the same transaction may simply run again.
    #[error("transaction conflict: {0}")]
    Contention(String),
    #[error("database error: {0}")]
    Database(String),
}

/// How a store's pool is sized and how long a request waits for it.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    pub max_connections: u32,
    pub acquire_timeout: std::time::Duration,
    /// How long org and model labels are reused by the single-SIM read (0: joined every time).
    pub label_cache: std::time::Duration,
    /// Postgres: how long to wait for the database to accept connections at start.
    pub connect_retry: std::time::Duration,
    /// Postgres: the `statement_timeout` of every connection (None: the server's).
    pub statement_timeout: Option<std::time::Duration>,
}

impl PoolConfig {
    /// For one-off commands (migrate, admin): one connection, no label cache.
    pub fn single() -> Self {
        PoolConfig {
            max_connections: 1,
            acquire_timeout: std::time::Duration::from_secs(10),
            label_cache: std::time::Duration::ZERO,
            connect_retry: std::time::Duration::ZERO,
            statement_timeout: None,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// When a query last failed because its connection was gone (the database restarted or dropped it),
/// in Unix milliseconds. Connections are not pinged before use when they worked a moment ago; after
/// such a failure every connection is, for a while, so that one failure is all a restart costs.
static CONNECTION_LOST_AT: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
const DISTRUST_AFTER_LOSS_MS: i64 = 10_000;

fn lost_connection(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // 08: connection exception; 57P: operator intervention (terminated, shutting down).
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}

/// Whether connections should be checked before use: they were idle for a while, or one was lost lately.
pub(crate) fn distrust_connections(idle_for: std::time::Duration) -> bool {
    let lost = CONNECTION_LOST_AT.load(std::sync::atomic::Ordering::Relaxed);
    idle_for >= std::time::Duration::from_secs(1)
        || chrono::Utc::now().timestamp_millis() - lost < DISTRUST_AFTER_LOSS_MS
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if lost_connection(&e) {
            CONNECTION_LOST_AT.store(
                chrono::Utc::now().timestamp_millis(),
                std::sync::atomic::Ordering::Relaxed,
            );
        }
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict {
                constraint: db
                    .constraint()
                    .map(str::to_string)
                    .unwrap_or_else(|| sqlite_constraint_name(db.message())),
            },
            sqlx::Error::Database(db) if db.code().as_deref().is_some_and(contention_code) => {
                StoreError::Contention(e.to_string())
            }
            // 57014: statement time-out (or a cancel).
            sqlx::Error::Database(db) if db.code().as_deref() == Some("57014") => {
                StoreError::Unavailable {
                    cause: e.to_string(),
                    lost: false,
                }
            }
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => StoreError::Unavailable {
                cause: e.to_string(),
                lost: false,
            },
            _ if lost_connection(&e) => StoreError::Unavailable {
                cause: e.to_string(),
                lost: true,
            },
            _ => StoreError::Database(e.to_string()),
        }
    }
}

/// Postgres 40001 (serialization failure) and 40P01 (deadlock detected); SQLite 5 (busy) and 6
/// (locked), with their extended codes (the low byte is the primary code). SQLite's codes have at
/// most four digits; Postgres's SQLSTATEs always five (22021 must not read as SQLite's 5).
fn contention_code(code: &str) -> bool {
    matches!(code, "40001" | "40P01")
        || (code.len() <= 4 && code.parse::<u32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6)))
}

/// SQLite does not report constraint names ("UNIQUE constraint failed: users.email"); every unique
/// constraint is named `<table>_<columns>_key`, so the name follows from the columns.
fn sqlite_constraint_name(message: &str) -> String {
    let Some(cols) = message.strip_prefix("UNIQUE constraint failed: ") else {
        return message.to_string();
    };
    if let Some(index) = cols.strip_prefix("index '") {
        return index.trim_end_matches('\'').to_string();
    }
    let mut parts = cols.split(", ").filter_map(|c| c.split_once('.'));
    let Some((table, first)) = parts.next() else {
        return message.to_string();
    };
    let mut name = format!("{table}_{first}");
    for (_, col) in parts {
        name.push('_');
        name.push_str(col);
    }
    name.push_str("_key");
    name
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Who performs a mutation and when; written to the audit row of that mutation.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub org_id: Option<i64>,
    pub request_id: Option<String>,
    pub at: DateTime<Utc>,
    /// The request's `If-Match`: the writes of a single SIM or account compare it with the row's
    /// version as they read it under its lock, and refuse with `Rule::Stale` (412).
    pub if_match: Option<crate::domain::etag::IfMatch>,
}

impl Actor {
    /// The If-Match check of a row read under its lock.
    pub(crate) fn check_version(&self, version: i64) -> StoreResult<()> {
        match &self.if_match {
            Some(m) if !m.matches(version) => Err(crate::domain::error::Rule::Stale.into()),
            _ => Ok(()),
        }
    }
}

impl Actor {
    pub fn system(at: DateTime<Utc>) -> Self {
        Actor {
            user_id: None,
            org_id: None,
            request_id: None,
            at,
            if_match: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Org {
    pub id: i64,
    pub oid: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: OrgKind,
    pub parent_id: Option<i64>,
    pub path: String,
    pub country: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewOrg {
    pub oid: String,
    pub name: String,
    pub kind: OrgKind,
    pub parent_id: Option<i64>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct OrgPatch {
    pub name: Option<String>,
    pub country: Option<Option<String>>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub oid: String,
    pub org_id: i64,
    pub email: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub access_level: AccessLevel,
    pub state: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub oid: String,
    pub org_id: i64,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub access_level: AccessLevel,
}

#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub name: Option<String>,
    pub access_level: Option<AccessLevel>,
    pub state: Option<String>,
    pub password_hash: Option<String>,
}

/// A user with its org, as authentication needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Identity {
    pub user_id: i64,
    pub user_oid: String,
    pub email: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub access_level: AccessLevel,
    pub state: String,
    pub password_hash: String,
    pub org_id: i64,
    pub org_oid: String,
    #[sqlx(try_from = "String")]
    pub org_kind: OrgKind,
    pub org_path: String,
    /// Sessions, refresh tokens and user JWTs issued at or before this instant are void (set by a
    /// password change and by a disable).
    pub tokens_valid_after: Option<DateTime<Utc>>,
}

impl Identity {
    /// Whether a credential issued at `issued` (a session, a refresh token, a user JWT) still counts.
    pub fn issued_in_time(&self, issued: DateTime<Utc>) -> bool {
        self.tokens_valid_after.is_none_or(|after| issued > after)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TokenKind {
    /// Login session, expires after inactivity.
    Session,
    /// Login with `persist`: valid until logout.
    Persistent,
    /// Long-lived API token; survives logout.
    Application,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Session => "SESSION",
            TokenKind::Persistent => "PERSISTENT",
            TokenKind::Application => "APPLICATION",
        }
    }
}

impl TryFrom<String> for TokenKind {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        [
            TokenKind::Session,
            TokenKind::Persistent,
            TokenKind::Application,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| format!("unknown token kind {s:?}"))
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Token {
    pub id: i64,
    pub user_id: i64,
    pub label: Option<String>,
    #[sqlx(try_from = "String")]
    pub kind: TokenKind,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewToken {
    pub user_id: i64,
    pub token_hash: String,
    pub label: Option<String>,
    pub kind: TokenKind,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A token together with the identity it acts as.
#[derive(Debug, Clone)]
pub struct TokenIdentity {
    pub token: Token,
    pub identity: Identity,
}

/// A SIM row, with its holder's oid and path and (when in use) its MVNO account's org path.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SimRecord {
    pub id: i64,
    pub iccid: String,
    pub imsi: Option<String>,
    pub msisdn: Option<String>,
    pub eid: Option<String>,
    // Secrets stay out of audit rows.
    #[serde(skip)]
    pub puk1: Option<String>,
    #[serde(skip)]
    pub puk2: Option<String>,
    #[serde(skip)]
    pub pin1: Option<String>,
    #[serde(skip)]
    pub pin2: Option<String>,
    #[sqlx(try_from = "String")]
    pub form_factor: FormFactor,
    pub network: String,
    pub model_id: Option<i64>,
    pub batch_id: Option<i64>,
    pub status: i16,
    pub issuer_org_id: Option<i64>,
    pub reseller_org_id: Option<i64>,
    pub customer_org_id: Option<i64>,
    pub in_storage_at: Option<i64>,
    pub auto_assign: bool,
    pub activation_code: Option<String>,
    pub tag: Option<String>,
    pub endpoint_id: Option<i64>,
    pub mvno_account_id: Option<i64>,
    pub production_date: Option<chrono::NaiveDate>,
    pub activation_date: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    pub storage_oid: Option<String>,
    pub storage_path: Option<String>,
    pub account_path: Option<String>,
}

impl SimRecord {
    /// In storage: not deleted, on no MVNO account, in no device.
    pub fn is_unused(&self) -> bool {
        self.status != crate::domain::sim::SimStatus::Deleted.id()
            && self.mvno_account_id.is_none()
            && self.endpoint_id.is_none()
    }
}

/// Where a SIM is stored and which orgs that makes its reseller and customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub org_id: i64,
    pub reseller_org_id: Option<i64>,
    pub customer_org_id: Option<i64>,
}

/// Which holders' SIMs a query covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageFilter {
    /// Every holder, central stock included (ADMIN).
    Any,
    /// Central stock only.
    Central,
    /// One org.
    Org(i64),
    /// Every org in the subtree at this path (not central stock).
    Subtree(String),
}

#[derive(Debug, Clone)]
pub struct UnusedSimFilter {
    pub storage: StorageFilter,
    pub form_factor: Option<FormFactor>,
    pub network: Option<String>,
    pub iccid_contains: Option<String>,
    pub auto_assign: Option<bool>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RatePlan {
    pub id: i64,
    pub oid: String,
    pub name: String,
    pub owner_org_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewRatePlan {
    pub oid: String,
    pub name: String,
    pub owner_org_id: Option<i64>,
}

/// An MVNO account with what its views need: customer, rate plan, employee and SIM.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MvnoRecord {
    pub id: i64,
    pub oid: String,
    pub customer_org_id: i64,
    #[sqlx(try_from = "String")]
    pub state: AccountState,
    pub number: Option<String>,
    pub sim_id: Option<i64>,
    pub rate_plan_id: Option<i64>,
    pub name: Option<String>,
    pub employee_user_id: Option<i64>,
    pub device_type: Option<String>,
    pub imei: Option<String>,
    pub notes: Option<String>,
    pub features: sqlx::types::Json<Features>,
    pub data_disabled: bool,
    pub usage_block: bool,
    pub number_state: String,
    pub dnd: bool,
    pub updating: bool,
    pub pbx: Option<i64>,
    pub extension: Option<String>,
    pub extension_number: Option<String>,
    pub porting: Option<String>,
    pub top_up: Option<sqlx::types::Json<serde_json::Value>>,
    pub socs: Option<sqlx::types::Json<serde_json::Value>>,
    pub socs_override: Option<sqlx::types::Json<serde_json::Value>>,
    pub soc_limit: Option<sqlx::types::Json<serde_json::Value>>,
    pub start_date: Option<DateTime<Utc>>,
    pub delete_date: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub preterminate_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    pub customer_oid: String,
    pub customer_name: String,
    pub customer_path: String,
    pub rate_plan_oid: Option<String>,
    pub rate_plan_name: Option<String>,
    pub employee_oid: Option<String>,
    pub employee_name: Option<String>,
    pub sim_iccid: Option<String>,
    pub sim_imsi: Option<String>,
    pub sim_network: Option<String>,
    pub sim_form_factor: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub oid: String,
    pub customer_org_id: i64,
    pub number: String,
    pub rate_plan_id: Option<i64>,
    pub name: Option<String>,
    pub employee_user_id: Option<i64>,
    pub device_type: Option<String>,
    pub imei: Option<String>,
    pub notes: Option<String>,
    pub features: Features,
    pub start_date: Option<DateTime<Utc>>,
}

/// Which unused SIM to take: from these holders (nearest first), optionally one ICC, eSIMs or
/// autoAssign SIMs only.
#[derive(Debug, Clone)]
pub struct SimPick {
    pub chain: Vec<i64>,
    pub iccid: Option<String>,
    pub esim_only: bool,
    pub auto_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountRef {
    Oid(String),
    Number(String),
}

#[derive(Debug, Clone)]
pub struct MvnoFilter {
    /// Customers whose accounts are listed.
    pub storage: StorageFilter,
    pub text: Option<String>,
    pub rate_plan_id: Option<i64>,
    pub network: Option<String>,
    /// None: live accounts. Some(now): deleted accounts still restorable at `now`.
    pub deleted_restorable_at: Option<DateTime<Utc>>,
}

/// A partial update; `Some(None)` clears a field.
#[derive(Debug, Clone, Default)]
pub struct MvnoPatch {
    pub state: Option<AccountState>,
    /// Applied to the features as read under the row lock.
    pub features: Option<crate::domain::mvno::FeaturePatch>,
    pub name: Option<Option<String>>,
    pub employee_user_id: Option<Option<i64>>,
    pub device_type: Option<Option<String>>,
    pub imei: Option<Option<String>>,
    pub notes: Option<Option<String>>,
    pub dnd: Option<bool>,
    pub data_disabled: Option<bool>,
    pub rate_plan_id: Option<i64>,
    pub socs_override: Option<serde_json::Value>,
    pub soc_limit: Option<serde_json::Value>,
}

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
}

impl EventSortKey {
    pub fn column(self) -> &'static str {
        match self {
            EventSortKey::Id => "id",
            EventSortKey::Timestamp => "ts",
            EventSortKey::Source => "source",
            EventSortKey::Severity => "severity",
            EventSortKey::Alert => "alert",
            EventSortKey::Type => "type_id",
        }
    }
}

#[derive(Debug, Clone)]
pub struct UsageRecord {
    pub sim_id: i64,
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

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
}

#[async_trait]
pub trait MetaStore: Send + Sync {
    fn backend(&self) -> Backend;
    async fn ping(&self) -> StoreResult<()>;
    fn pool_stats(&self) -> PoolStats;
    /// Returns the stored value, storing `value` first if the key is new (first writer wins).
    async fn setting_get_or_init(&self, key: &str, value: &str) -> StoreResult<String>;
    /// Postgres: creates the monthly partitions of the time-partitioned tables for these months
    /// (rows already in the DEFAULT partition move in). Returns how many were created; SQLite: 0.
    async fn ensure_partitions(&self, months: &[chrono::NaiveDate]) -> StoreResult<u32>;
    /// Removes what `table` holds from before `before` (a month start): whole partitions on
    /// Postgres, rows on SQLite. Returns partitions dropped (Postgres) or rows deleted (SQLite).
    async fn drop_before(&self, table: TimeTable, before: chrono::NaiveDate) -> StoreResult<u64>;
    async fn close(&self);
}

/// A request's claim on an idempotency key (see `api::idempotency`).
pub struct IdempotencyClaim<'a> {
    pub user_id: i64,
    pub key_hash: &'a str,
    pub fingerprint: &'a str,
    pub at: DateTime<Utc>,
    /// Answers kept from before this are forgotten: the key is new again.
    pub expired_before: DateTime<Utc>,
    /// A run started before this that never finished was abandoned (its node stopped).
    pub abandoned_before: DateTime<Utc>,
}

/// What a key held when a request claimed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    /// The key is this request's: run it, then finish the key.
    Started,
    /// The key was used for a different request.
    Mismatch,
    /// The first request with this key is still running.
    Running,
    /// The first request's answer, to be replayed.
    Done(StoredAnswer),
}

/// A kept answer: status, headers (a JSON array of `[name, value]`), body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    pub status: i32,
    pub headers: String,
    pub body: Vec<u8>,
}

#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims the key for a run, or says what it holds, in one transaction of its own (it takes the
    /// key's row before any other lock and holds it only for this call).
    async fn idempotency_claim(&self, claim: &IdempotencyClaim<'_>) -> StoreResult<Claimed>;
    /// Keeps the run's answer, or with `None` gives the key up so that a repeat runs again.
    async fn idempotency_finish(
        &self,
        user_id: i64,
        key_hash: &str,
        answer: Option<&StoredAnswer>,
    ) -> StoreResult<()>;
    /// Forgets keys claimed before `before`.
    async fn idempotency_expire(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// The tables that grow with time: range-partitioned by month on Postgres.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeTable {
    Events,
    UsageHourly,
}

impl TimeTable {
    pub const ALL: [TimeTable; 2] = [TimeTable::Events, TimeTable::UsageHourly];

    pub fn name(self) -> &'static str {
        match self {
            TimeTable::Events => "events",
            TimeTable::UsageHourly => "usage_hourly",
        }
    }

    fn time_column(self) -> &'static str {
        match self {
            TimeTable::Events => "ts",
            TimeTable::UsageHourly => "hour",
        }
    }
}

#[async_trait]
pub trait OrgStore: Send + Sync {
    async fn org_create(&self, new: NewOrg, actor: &Actor) -> StoreResult<Org>;
    async fn org_find(&self, r: &EntityRef) -> StoreResult<Option<Org>>;
    async fn org_list(
        &self,
        scope: &Scope,
        parent_id: Option<i64>,
        page: Page,
    ) -> StoreResult<(Vec<Org>, i64)>;
    async fn org_update(&self, id: i64, patch: OrgPatch, actor: &Actor) -> StoreResult<Org>;
    async fn org_count(&self) -> StoreResult<i64>;
}

#[async_trait]
pub trait UserStore: Send + Sync {
    async fn user_create(&self, new: NewUser, actor: &Actor) -> StoreResult<User>;
    async fn user_find(&self, r: &EntityRef) -> StoreResult<Option<User>>;
    async fn user_list(
        &self,
        scope: &Scope,
        org_id: Option<i64>,
        page: Page,
    ) -> StoreResult<(Vec<User>, i64)>;
    async fn user_update(&self, id: i64, patch: UserPatch, actor: &Actor) -> StoreResult<User>;
    async fn identity_by_email(&self, email: &str) -> StoreResult<Option<Identity>>;
    async fn identity_by_user(&self, user_id: i64) -> StoreResult<Option<Identity>>;
    /// The failed-login counts of `keys` whose window started after `since`: (key, window start, failures).
    async fn login_failures(
        &self,
        keys: &[String],
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<(String, DateTime<Utc>, i64)>>;
    /// Counts a failed login against each key; a window that started at or before `since` starts over at `at`.
    async fn login_failed(
        &self,
        keys: &[String],
        at: DateTime<Utc>,
        since: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Forgets windows that started at or before `before`. Returns how many.
    async fn login_failures_expire(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn token_create(&self, new: NewToken, actor: &Actor) -> StoreResult<Token>;
    async fn token_get(&self, id: i64) -> StoreResult<Option<Token>>;
    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<TokenIdentity>>;
    /// Records use; moves a session's expiry forward when `expires_at` is given.
    async fn token_touch(
        &self,
        id: i64,
        at: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()>;
    async fn token_revoke(&self, id: i64, actor: &Actor) -> StoreResult<bool>;
    /// Revokes every SESSION and PERSISTENT token of the user (not APPLICATION tokens).
    async fn token_revoke_sessions(&self, user_id: i64, actor: &Actor) -> StoreResult<u64>;
    async fn token_list(&self, user_id: i64) -> StoreResult<Vec<Token>>;
}

#[async_trait]
pub trait SimStore: Send + Sync {
    /// Inserts the SIMs whose ICC is new (others are left untouched) with their counters, events
    /// and audit row, in one transaction. Returns the ICCs inserted.
    async fn sim_import(
        &self,
        sims: &[ImportedSim],
        holder: Option<&Holder>,
        issuer_org_id: i64,
        actor: &Actor,
    ) -> StoreResult<Vec<String>>;
    async fn sim_by_iccid(&self, iccid: &str) -> StoreResult<Option<SimRecord>>;
    async fn sim_list_unused(
        &self,
        filter: &UnusedSimFilter,
        page: Page,
    ) -> StoreResult<(Vec<SimRecord>, i64)>;
    /// Puts an unused SIM in storage at `holder` (None = central stock). `Conflict{sim_in_use}` when
    /// the SIM is in use at the time of the change.
    async fn sim_assign(
        &self,
        sim_id: i64,
        holder: Option<Holder>,
        auto_assign: Option<bool>,
        actor: &Actor,
    ) -> StoreResult<SimRecord>;
    async fn inventory_counts(
        &self,
        storage: &StorageFilter,
        network: Option<&str>,
    ) -> StoreResult<Vec<Count>>;
    async fn orgs_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<Org>>;
}

#[async_trait]
pub trait MvnoStore: Send + Sync {
    async fn rate_plan_create(&self, new: NewRatePlan, actor: &Actor) -> StoreResult<RatePlan>;
    /// None: every plan. Some(path): the plans an org at `path` and its subtree can see.
    async fn rate_plan_list(
        &self,
        visible_to: Option<&str>,
        page: Page,
    ) -> StoreResult<(Vec<RatePlan>, i64)>;
    async fn rate_plan_find(&self, oid: &str) -> StoreResult<Option<RatePlan>>;
    /// `Rule::NoSim` when no SIM satisfies the pick.
    async fn mvno_create(
        &self,
        new: NewAccount,
        pick: &SimPick,
        actor: &Actor,
    ) -> StoreResult<MvnoRecord>;
    /// A live account, or (`deleted`) a deleted one not yet purged.
    async fn mvno_find(&self, r: &AccountRef, deleted: bool) -> StoreResult<Option<MvnoRecord>>;
    async fn mvno_list(
        &self,
        filter: &MvnoFilter,
        page: Page,
    ) -> StoreResult<(Vec<MvnoRecord>, i64)>;
    /// `Rule::AccountDeleted` for a deleted account.
    async fn mvno_update(
        &self,
        id: i64,
        patch: MvnoPatch,
        actor: &Actor,
    ) -> StoreResult<MvnoRecord>;
    /// NotFound when already deleted.
    async fn mvno_delete(
        &self,
        id: i64,
        preterminate_until: DateTime<Utc>,
        actor: &Actor,
    ) -> StoreResult<MvnoRecord>;
    /// `Rule::NotRestorable` unless deleted and inside the window at `actor.at`.
    async fn mvno_restore(
        &self,
        id: i64,
        rate_plan_id: Option<i64>,
        actor: &Actor,
    ) -> StoreResult<MvnoRecord>;
    /// `Rule::AccountState` unless ACTIVE or BLOCKED; `Rule::NoSim`.
    async fn mvno_change_sim(
        &self,
        id: i64,
        pick: &SimPick,
        actor: &Actor,
    ) -> StoreResult<(MvnoRecord, SimRecord)>;
    /// Purges up to `limit` accounts past their window at `actor.at`; safe to run on many nodes.
    async fn mvno_purge_due(&self, actor: &Actor, limit: i64) -> StoreResult<usize>;
}

#[async_trait]
pub trait EmnifyStore: Send + Sync {
    async fn sim_model_create(&self, new: NewSimModel, actor: &Actor) -> StoreResult<SimModel>;
    async fn sim_model_list(&self, page: Page) -> StoreResult<(Vec<SimModel>, i64)>;
    async fn sim_model_get(&self, id: i64) -> StoreResult<Option<SimModel>>;
    /// The batch and its SIMs (status Issued, issuer set, central stock) with counters and events.
    async fn batch_create(&self, new: NewBatch, actor: &Actor) -> StoreResult<SimBatch>;
    /// The batch and the distinct (reseller, customer) orgs its SIMs have.
    async fn batch_by_bic(
        &self,
        bic: &str,
    ) -> StoreResult<Option<(SimBatch, Vec<(Option<i64>, Option<i64>)>)>>;
    /// `Rule::BatchRegistered` when registered already (also when another registration won).
    async fn batch_register(
        &self,
        batch_id: i64,
        reseller_org_id: Option<i64>,
        customer_org_id: Option<i64>,
        status: crate::domain::sim::SimStatus,
        by_org: i64,
        actor: &Actor,
    ) -> StoreResult<Vec<EmnifySim>>;
    async fn esim_get(&self, id: i64) -> StoreResult<Option<EmnifySim>>;
    async fn esim_list(
        &self,
        scope: &crate::domain::access::Scope,
        filters: &[SimCond],
        sort: &[(SimSortKey, bool)],
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<EmnifySim>, i64)>;
    /// Applies a status transition (checked against the locked row) and org changes.
    async fn esim_patch(&self, id: i64, patch: EmnifySimPatch, actor: &Actor) -> StoreResult<()>;
    /// Status 3, kept for history. `Rule::SimAttached` with an endpoint or MVNO account.
    async fn esim_delete(&self, id: i64, actor: &Actor) -> StoreResult<()>;
    async fn events_list(
        &self,
        sim_id: i64,
        filters: &[EventCond],
        sort: &[(EventSortKey, bool)],
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<EventRow>, i64)>;
    async fn sim_ids_by_iccid(&self, iccids: &[String]) -> StoreResult<Vec<(String, i64)>>;
    async fn sims_exist(&self, ids: &[i64]) -> StoreResult<Vec<i64>>;
    /// Adds the records into their hourly buckets.
    async fn usage_ingest(&self, records: &[UsageRecord], actor: &Actor) -> StoreResult<()>;
    async fn events_ingest(&self, events: &[NewEvent], actor: &Actor) -> StoreResult<()>;
    async fn usage_rows(
        &self,
        sim_id: i64,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<UsageRow>>;
}

/// Everything simgate stores.
pub trait Store:
    MetaStore
    + OrgStore
    + UserStore
    + TokenStore
    + SimStore
    + MvnoStore
    + EmnifyStore
    + IdempotencyStore
{
}
impl<
        T: MetaStore
            + OrgStore
            + UserStore
            + TokenStore
            + SimStore
            + MvnoStore
            + EmnifyStore
            + IdempotencyStore,
    > Store for T
{
}

pub type DynStore = Arc<dyn Store>;

/// A LIKE pattern that matches `text` literally (`%`, `_` and `\` escaped with `\`).
pub(crate) fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The ESCAPE clause that makes `\` the LIKE escape: Postgres has it by default (and plans prefix
/// patterns through indexes only without an explicit clause); SQLite has no default.
pub(crate) trait LikeEscape {
    const ESCAPE: &'static str;
}
impl LikeEscape for sqlx::Postgres {
    const ESCAPE: &'static str = "";
}
impl LikeEscape for sqlx::Sqlite {
    const ESCAPE: &'static str = " ESCAPE '\\'";
}

/// The row lock of a read-modify-write: `FOR UPDATE` on Postgres; SQLite has none and needs none
/// (a write transaction there is IMMEDIATE: it holds the database's one write lock from its start).
pub(crate) trait RowLock {
    const FOR_UPDATE: &'static str;
}
impl RowLock for sqlx::Postgres {
    const FOR_UPDATE: &'static str = " FOR UPDATE";
}
impl RowLock for sqlx::Sqlite {
    const FOR_UPDATE: &'static str = "";
}

/// Writes the audit row of a mutation inside its transaction.
macro_rules! audit {
    ($tx:expr, $actor:expr, $action:expr, $entity:expr, $entity_id:expr, $before:expr, $after:expr) => {{
        let before: Option<serde_json::Value> = $before.map(|b| serde_json::to_value(b).unwrap_or_default());
        let after: Option<serde_json::Value> = $after.map(|a| serde_json::to_value(a).unwrap_or_default());
        sqlx::query(
            "INSERT INTO audit_log (ts, actor_user_id, actor_org_id, action, entity, entity_id, before, after, request_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind($actor.at)
        .bind($actor.user_id)
        .bind($actor.org_id)
        .bind($action)
        .bind($entity)
        .bind($entity_id.to_string())
        .bind(before.map(sqlx::types::Json))
        .bind(after.map(sqlx::types::Json))
        .bind($actor.request_id.as_deref())
        .execute(&mut *$tx)
        .await?;
    }};
}

/// Writes an event (source API, severity info) inside the transaction of the change it records.
macro_rules! write_event {
    ($tx:expr, $actor:expr, $org:expr, $sim:expr, $type_id:expr, $description:expr, $detail:expr) => {{
        sqlx::query(
            "INSERT INTO events (ts, org_id, sim_id, user_id, type_id, source, severity, alert, description, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind($actor.at)
        .bind($org)
        .bind($sim)
        .bind($actor.user_id)
        .bind($type_id)
        .bind(crate::domain::events::SOURCE_API)
        .bind(crate::domain::events::SEVERITY_INFO)
        .bind(false)
        .bind($description)
        .bind($detail.map(sqlx::types::Json))
        .execute(&mut *$tx)
        .await?;
    }};
}

/// Appends the scope filter for a column holding an org's path.
macro_rules! push_scope {
    ($qb:expr, $scope:expr, $org_id_col:expr, $path_col:expr) => {{
        match $scope {
            crate::domain::access::Scope::All => {}
            crate::domain::access::Scope::Subtree { path, .. } => {
                let (lo, hi) = crate::domain::org::subtree_range(path);
                $qb.push(concat!(" AND ", $path_col, " >= ")).push_bind(lo);
                $qb.push(concat!(" AND ", $path_col, " < ")).push_bind(hi);
            }
            crate::domain::access::Scope::Org { org_id } => {
                $qb.push(concat!(" AND ", $org_id_col, " = "))
                    .push_bind(*org_id);
            }
        }
    }};
}

#[macro_use]
pub(crate) mod icc_fold;
#[macro_use]
mod meta;
#[macro_use]
mod orgs;
#[macro_use]
mod users;
#[macro_use]
mod tokens;
#[macro_use]
mod idempotency;
mod bulk;
pub(crate) mod labels;
#[macro_use]
pub(crate) mod tenancy;
pub(crate) mod point_reads;
#[macro_use]
mod sims;
#[macro_use]
mod mvno;
#[macro_use]
mod emnify;
pub mod postgres;
pub mod sqlite;

/// Pool options shared by both backends. sqlx pings every connection before handing it out by
/// default: one extra round trip per query, measured at about half of the single-SIM read's time.
/// A connection used within the last second is taken to work and one idle for longer is pinged
/// (HikariCP's rule); after a lost connection every one is pinged for a while ([`distrust_connections`]),
/// so a database restart costs the queries in flight on dead connections, not one per pooled connection.
pub(crate) fn pool_options<DB: sqlx::Database>(
    max_connections: u32,
) -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::<DB>::new()
        .max_connections(max_connections)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if distrust_connections(meta.idle_for) {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// Opens the store the URL names (`postgres://` or `sqlite://`) and applies migrations. `read_url`
/// (Postgres only): a replica for list and statistics reads.
pub async fn connect(
    url: &str,
    read_url: Option<&str>,
    pool: &PoolConfig,
) -> anyhow::Result<DynStore> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(
            postgres::PgStore::connect(url, read_url, pool).await?,
        ))
    } else if url.starts_with("sqlite:") {
        if read_url.is_some() {
            anyhow::bail!(
                "database.read_url needs Postgres; an embedded SQLite database has no replicas"
            );
        }
        Ok(Arc::new(sqlite::SqliteStore::connect(url, pool).await?))
    } else {
        anyhow::bail!("unsupported database URL scheme (expected postgres:// or sqlite://)")
    }
}

/// Connections the single-SIM reads keep between batches: none in a small pool, where every
/// connection must stay free for the other requests (a pool of 2 would otherwise be theirs alone).
pub(crate) fn point_read_keep(max_connections: u32) -> usize {
    (max_connections as usize / 4).min(point_reads::IN_FLIGHT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_pools_keep_no_connection_for_point_reads() {
        assert_eq!(point_read_keep(2), 0);
        assert_eq!(point_read_keep(4), 1);
        assert_eq!(point_read_keep(10), 2);
    }

    #[test]
    fn contention_is_told_from_other_errors() {
        for code in ["40001", "40P01", "5", "6", "517", "262"] {
            assert!(contention_code(code), "{code}");
        }
        // Every numeric SQLSTATE whose low byte is 5 or 6 (from Postgres's errcodes.txt) stays out.
        for code in ["23505", "57014", "19", "1", "2067", "22021", "22022"] {
            assert!(!contention_code(code), "{code}");
        }
    }

    #[test]
    fn like_patterns_match_literally() {
        assert_eq!(like_literal("a%b_c\\d"), "a\\%b\\_c\\\\d");
        assert_eq!(like_literal("4512"), "4512");
    }

    #[test]
    fn sqlite_constraint_names_follow_the_convention() {
        assert_eq!(
            sqlite_constraint_name("UNIQUE constraint failed: users.email"),
            "users_email_key"
        );
        assert_eq!(
            sqlite_constraint_name("UNIQUE constraint failed: sim_inventory_counts.storage_org_id, sim_inventory_counts.network"),
            "sim_inventory_counts_storage_org_id_network_key"
        );
        assert_eq!(
            sqlite_constraint_name("UNIQUE constraint failed: index 'mvno_accounts_number_key'"),
            "mvno_accounts_number_key"
        );
    }
}
