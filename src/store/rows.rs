//! What the store reads and writes: rows, inputs, patches, filters and sort keys, the actor of a
//! write.
use super::StoreResult;
use crate::domain::access::AccessLevel;
use crate::domain::mvno::{AccountState, Features};
use crate::domain::org::OrgKind;
use crate::domain::sim::FormFactor;
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    /// Postgres with the tables distributed by Citus (docs/scale-out.md): the same SQL, and the
    /// routing aids (`sim_keys`, the registries' keys, moves instead of key updates) kept.
    Citus,
    Sqlite,
}

/// What the business gauges of `/metrics` show.
#[derive(Debug, Clone, Default)]
pub struct BusinessCounts {
    /// (network, SIMs in storage anywhere, central stock included).
    pub in_storage: Vec<(String, i64)>,
    /// (state, accounts), purged ones included.
    pub mvno_accounts: Vec<(String, i64)>,
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

/// Which of a user's tokens: by id (admin API) or by its hash (the TelecomX employee route names the
/// token itself).
#[derive(Debug, Clone, Copy)]
pub enum TokenKey<'a> {
    Id(i64),
    Hash(&'a str),
}

/// Read from one row holding the token's and the user's columns.
impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for TokenIdentity
where
    Token: sqlx::FromRow<'r, R>,
    Identity: sqlx::FromRow<'r, R>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        Ok(TokenIdentity {
            token: Token::from_row(row)?,
            identity: Identity::from_row(row)?,
        })
    }
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

/// Where an MVNO account lives: its id and its distribution key (accounts never change tenant, so a
/// key read without a lock stays true). Writes name both, so that on Citus they reach one shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountKey {
    pub id: i64,
    pub tenant: i64,
}

/// An MVNO account with what its views need: customer, rate plan, employee and SIM. Read from the
/// columns of `mvno::ACCOUNT_SELECT`, in this order.
#[derive(Debug, Clone, Serialize)]
pub struct MvnoRecord {
    pub id: i64,
    /// The account's distribution key (its customer's tenant).
    #[serde(skip)]
    pub tenant_org_id: i64,
    pub oid: String,
    pub customer_org_id: i64,
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

super::by_position::from_row_by_position!(MvnoRecord {
    id,
    tenant_org_id,
    oid,
    customer_org_id,
    state as String => AccountState,
    number,
    sim_id,
    rate_plan_id,
    name,
    employee_user_id,
    device_type,
    imei,
    notes,
    features,
    data_disabled,
    usage_block,
    number_state,
    dnd,
    updating,
    pbx,
    extension,
    extension_number,
    porting,
    top_up,
    socs,
    socs_override,
    soc_limit,
    start_date,
    delete_date,
    deleted_at,
    preterminate_until,
    created_at,
    updated_at,
    version,
    customer_oid,
    customer_name,
    customer_path,
    rate_plan_oid,
    rate_plan_name,
    employee_oid,
    employee_name,
    sim_iccid,
    sim_imsi,
    sim_network,
    sim_form_factor,
});

impl MvnoRecord {
    pub fn key(&self) -> AccountKey {
        AccountKey {
            id: self.id,
            tenant: self.tenant_org_id,
        }
    }
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

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
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

    pub(crate) fn time_column(self) -> &'static str {
        match self {
            TimeTable::Events => "ts",
            TimeTable::UsageHourly => "hour",
        }
    }
}
