//! The store's interface, one trait per area; `Store` is all of them.
use super::emnify_rows::*;
use super::endpoint_rows::*;
use super::ip_spaces::IpSpaceRow;
use super::operators::{Country, NewOperator, OperatorPatch};
use super::profiles::{NewServiceProfile, NewTariffProfile, ServiceProfilePatch, TariffProfileRow};
use super::quotas::{Denial, NewQuota, QuotaRow};
use super::rows::*;
use super::sms_gateway::{GatewaySms, NewMo, SmsReport};
use super::StoreResult;
use crate::domain::access::Scope;
use crate::domain::ids::EntityRef;
use crate::domain::inventory::Count;
use crate::domain::paging::Page;
use crate::domain::sim::ImportedSim;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;

#[async_trait]
pub trait MetaStore: Send + Sync {
    fn backend(&self) -> Backend;
    async fn ping(&self) -> StoreResult<()>;
    fn pool_stats(&self) -> PoolStats;
    /// Counts the committed writes that can change what a credential may do (a user's level or
    /// state, a revoked token): caches of principals compare it instead of being flushed by callers.
    fn access_epoch(&self) -> u64;
    /// Returns the stored value, storing `value` first if the key is new (first writer wins).
    async fn setting_get_or_init(&self, key: &str, value: &str) -> StoreResult<String>;
    /// Postgres: creates the monthly partitions of the time-partitioned tables for these months
    /// (rows already in the DEFAULT partition move in). Returns how many were created; SQLite: 0.
    async fn ensure_partitions(&self, months: &[chrono::NaiveDate]) -> StoreResult<u32>;
    /// Removes what `table` holds from before `before` (a month start): whole partitions on
    /// Postgres, rows on SQLite. Returns partitions dropped (Postgres) or rows deleted (SQLite).
    async fn drop_before(&self, table: TimeTable, before: chrono::NaiveDate) -> StoreResult<u64>;
    /// For the metrics: SIMs in storage per network (from the counters) and MVNO accounts per state.
    async fn business_counts(&self) -> StoreResult<BusinessCounts>;
    /// SQLite: a consistent copy of the live database in a new file (`VACUUM INTO`).
    async fn backup_into(&self, file: &str) -> StoreResult<()>;
    /// After a bulk load: the planner's statistics brought up to date (Postgres and Citus), so that
    /// what follows is planned for the rows now there, not for the empty tables, whether or not
    /// autovacuum runs (or has caught up yet). SQLite: nothing.
    async fn analyze(&self) -> StoreResult<()>;
    async fn close(&self);
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

#[async_trait]
pub trait OrgStore: Send + Sync {
    async fn org_create(&self, new: NewOrg, actor: &Actor) -> StoreResult<Org>;
    async fn org_find(&self, scope: &Scope, r: &EntityRef) -> StoreResult<Option<Org>>;
    async fn org_list(
        &self,
        scope: &Scope,
        parent_id: Option<i64>,
        page: Page,
    ) -> StoreResult<(Vec<Org>, i64)>;
    async fn org_update(
        &self,
        scope: &Scope,
        id: i64,
        patch: OrgPatch,
        actor: &Actor,
    ) -> StoreResult<Org>;
    async fn org_count(&self) -> StoreResult<i64>;
}

#[async_trait]
pub trait UserStore: Send + Sync {
    async fn user_create(&self, new: NewUser, actor: &Actor) -> StoreResult<User>;
    async fn user_find(&self, scope: &Scope, r: &EntityRef) -> StoreResult<Option<User>>;
    async fn user_list(
        &self,
        scope: &Scope,
        org_id: Option<i64>,
        page: Page,
    ) -> StoreResult<(Vec<User>, i64)>;
    async fn user_update(
        &self,
        scope: &Scope,
        id: i64,
        patch: UserPatch,
        actor: &Actor,
    ) -> StoreResult<User>;
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
    /// Revokes the user's live token the key names; false when the user has no such live token.
    async fn token_revoke(
        &self,
        user_id: i64,
        key: TokenKey<'_>,
        actor: &Actor,
    ) -> StoreResult<bool>;
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
    async fn sim_by_iccid(&self, scope: &Scope, iccid: &str) -> StoreResult<Option<SimRecord>>;
    async fn sim_list_unused(
        &self,
        filter: &UnusedSimFilter,
        page: Page,
    ) -> StoreResult<(Vec<SimRecord>, i64)>;
    /// Puts an unused SIM in storage at `holder` (None = central stock). `Conflict{sim_in_use}` when
    /// the SIM is in use at the time of the change.
    async fn sim_assign(
        &self,
        scope: &Scope,
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
    /// A rate plan by id or oid.
    async fn rate_plan_find(&self, r: &EntityRef) -> StoreResult<Option<RatePlan>>;
    /// `Rule::NoSim` when no SIM satisfies the pick.
    async fn mvno_create(
        &self,
        new: NewAccount,
        pick: &SimPick,
        actor: &Actor,
    ) -> StoreResult<MvnoRecord>;
    /// A live account, or (`deleted`) a deleted one not yet purged.
    async fn mvno_find(
        &self,
        scope: &Scope,
        r: &AccountRef,
        deleted: bool,
    ) -> StoreResult<Option<MvnoRecord>>;
    async fn mvno_list(
        &self,
        filter: &MvnoFilter,
        page: Page,
    ) -> StoreResult<(Vec<MvnoRecord>, i64)>;
    /// `Rule::AccountDeleted` for a deleted account.
    async fn mvno_update(
        &self,
        scope: &Scope,
        account: AccountKey,
        patch: MvnoPatch,
        actor: &Actor,
    ) -> StoreResult<MvnoRecord>;
    /// NotFound when already deleted.
    async fn mvno_delete(
        &self,
        scope: &Scope,
        account: AccountKey,
        preterminate_until: DateTime<Utc>,
        actor: &Actor,
    ) -> StoreResult<MvnoRecord>;
    /// `Rule::NotRestorable` unless deleted and inside the window at `actor.at`.
    async fn mvno_restore(
        &self,
        scope: &Scope,
        account: AccountKey,
        rate_plan_id: Option<i64>,
        actor: &Actor,
    ) -> StoreResult<MvnoRecord>;
    /// `Rule::AccountState` unless ACTIVE or BLOCKED; `Rule::NoSim`.
    async fn mvno_change_sim(
        &self,
        scope: &Scope,
        account: AccountKey,
        pick: &SimPick,
        actor: &Actor,
    ) -> StoreResult<(MvnoRecord, SimRecord)>;
    /// Purges up to `limit` accounts past their window at `actor.at`; safe to run on many nodes.
    async fn mvno_purge_due(&self, actor: &Actor, limit: i64) -> StoreResult<usize>;
}

#[async_trait]
pub trait BatchStore: Send + Sync {
    async fn sim_model_create(&self, new: NewSimModel, actor: &Actor) -> StoreResult<SimModel>;
    async fn sim_model_list(&self, page: Page) -> StoreResult<(Vec<SimModel>, i64)>;
    async fn sim_model_get(&self, id: i64) -> StoreResult<Option<SimModel>>;
    /// The batch and its SIMs (status Issued, issuer set, central stock) with counters and events.
    async fn batch_create(&self, new: NewBatch, actor: &Actor) -> StoreResult<SimBatch>;
    /// The batch and the distinct (reseller, customer) orgs its SIMs have.
    async fn batch_by_bic(
        &self,
        scope: &Scope,
        bic: &str,
    ) -> StoreResult<Option<(SimBatch, Vec<(Option<i64>, Option<i64>)>)>>;
    /// `Rule::BatchRegistered` when registered already (also when another registration won).
    async fn batch_register(
        &self,
        scope: &Scope,
        batch_id: i64,
        to: Registration,
        actor: &Actor,
    ) -> StoreResult<Vec<EmnifySim>>;
}

#[async_trait]
pub trait EmnifySimStore: Send + Sync {
    async fn esim_get(&self, scope: &Scope, id: i64) -> StoreResult<Option<EmnifySim>>;
    async fn esim_list(
        &self,
        scope: &crate::domain::access::Scope,
        filters: &[SimCond],
        sort: &[(SimSortKey, bool)],
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<EmnifySim>, i64)>;
    /// Applies a status transition (checked against the locked row) and org changes.
    async fn esim_patch(
        &self,
        scope: &Scope,
        id: i64,
        patch: EmnifySimPatch,
        actor: &Actor,
    ) -> StoreResult<()>;
    /// Status 3, kept for history. `Rule::SimAttached` with an endpoint or MVNO account.
    async fn esim_delete(&self, scope: &Scope, id: i64, actor: &Actor) -> StoreResult<()>;
}

#[async_trait]
pub trait ProfileStore: Send + Sync {
    /// The new profile's id.
    async fn service_profile_create(
        &self,
        new: NewServiceProfile,
        actor: &Actor,
    ) -> StoreResult<i64>;
    /// `NotFound` for an unknown profile (the service checked the caller may write it).
    async fn service_profile_update(
        &self,
        id: i64,
        patch: ServiceProfilePatch,
        actor: &Actor,
    ) -> StoreResult<()>;
    /// `Rule::Held` while live endpoints use it.
    async fn service_profile_delete(&self, id: i64, actor: &Actor) -> StoreResult<()>;
    /// The services it lists, by id.
    async fn service_profile_services(&self, id: i64) -> StoreResult<Vec<i16>>;
    /// Adds (removes) a service: `Rule::Duplicated` when listed (`Rule::Missing` when not).
    async fn service_profile_service(
        &self,
        id: i64,
        service: i16,
        add: bool,
        actor: &Actor,
    ) -> StoreResult<()>;
}

/// Countries and operators, the same for every tenant (spec/emnify-endpoints.md §3, §8). Admin
/// writes, each with its audit row.
#[async_trait]
pub trait CatalogStore: Send + Sync {
    /// All, by name.
    async fn countries(&self) -> StoreResult<Vec<Country>>;
    /// By id, of one country or all, with the total.
    async fn operator_page(
        &self,
        country: Option<i64>,
        page: Page,
    ) -> StoreResult<(Vec<Operator>, i64)>;
    async fn operator_get(&self, id: i64) -> StoreResult<Option<Operator>>;
    /// `Rule::Collides` on a taken id, or a name another operator of the country has.
    async fn operator_create(&self, new: NewOperator, actor: &Actor) -> StoreResult<Operator>;
    /// `NotFound`, or `Rule::Collides` as above.
    async fn operator_update(
        &self,
        id: i64,
        patch: OperatorPatch,
        actor: &Actor,
    ) -> StoreResult<Operator>;
    /// `NotFound`, or `Rule::Held` while a blacklist names it.
    async fn operator_delete(&self, id: i64, actor: &Actor) -> StoreResult<()>;
}

/// Tariff profiles, managed through the admin API (spec/emnify-endpoints.md §2, §8).
#[async_trait]
pub trait TariffStore: Send + Sync {
    /// With event 1017 of the owner.
    async fn tariff_profile_create(
        &self,
        new: NewTariffProfile,
        actor: &Actor,
    ) -> StoreResult<TariffProfileRow>;
    /// By id; `within` a subtree (by path: the owner in it), of one owner.
    async fn tariff_profile_list(
        &self,
        within: Option<&str>,
        owner: Option<i64>,
        page: Page,
    ) -> StoreResult<(Vec<TariffProfileRow>, i64)>;
    async fn tariff_profile_get(&self, id: i64) -> StoreResult<Option<TariffProfileRow>>;
    /// Name and description (`Some(None)` clears it); `NotFound` for an unknown profile.
    async fn tariff_profile_update(
        &self,
        id: i64,
        name: Option<String>,
        description: Option<Option<String>>,
        actor: &Actor,
    ) -> StoreResult<TariffProfileRow>;
    /// `NotFound`, or `Rule::Held` while live endpoints use it.
    async fn tariff_profile_delete(&self, id: i64, actor: &Actor) -> StoreResult<()>;
}

#[async_trait]
pub trait SmsGatewayStore: Send + Sync {
    /// MT SMS waiting (1) or buffered (3) on endpoints with a SIM, oldest first.
    async fn sms_waiting(&self, limit: i64) -> StoreResult<Vec<GatewaySms>>;
    /// A delivery report: `Rule::Missing` for an unknown SMS, `Rule::Held` for a move the
    /// contract does not allow (or an MO SMS).
    async fn sms_report(&self, report: &SmsReport, actor: &Actor) -> StoreResult<()>;
    /// An MO SMS, filed under the endpoint its SIM was in at its time (`Rule::Missing` if none);
    /// its id.
    async fn sms_receive(&self, mo: &NewMo, actor: &Actor) -> StoreResult<i64>;
    /// Expires SMS past their expiry date (up to a thousand a call).
    async fn sms_expire(&self, now: DateTime<Utc>, actor: &Actor) -> StoreResult<u64>;
}

#[async_trait]
pub trait QuotaStore: Send + Sync {
    /// The endpoint's quota of that kind: `NotFound` for an endpoint outside the scope,
    /// `Rule::Missing` when it has none.
    async fn quota_get(
        &self,
        scope: &Scope,
        endpoint: i64,
        kind: crate::domain::quota::QuotaKind,
    ) -> StoreResult<QuotaRow>;
    /// Replaces the quota of that kind (counting from now), with its event.
    async fn quota_set(
        &self,
        scope: &Scope,
        endpoint: i64,
        kind: crate::domain::quota::QuotaKind,
        new: NewQuota,
        actor: &Actor,
    ) -> StoreResult<()>;
    /// `Rule::Missing` when there is none.
    async fn quota_delete(
        &self,
        scope: &Scope,
        endpoint: i64,
        kind: crate::domain::quota::QuotaKind,
        actor: &Actor,
    ) -> StoreResult<()>;
    /// Whether quotas deny the endpoint's data and SMS now; None outside the scope.
    async fn quota_denial(
        &self,
        scope: &Scope,
        endpoint: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Denial>>;
    /// Expires quotas past their expiry date (up to a thousand a call), with their events.
    async fn quotas_expire(&self, now: DateTime<Utc>, actor: &Actor) -> StoreResult<u64>;
    /// Refills the `auto_refill` quotas due their refill of the UTC day starting at `day` (up to a
    /// thousand a call): volume back to `last_volume_added`, ACTIVE, counting from `day`; events
    /// 56 / 58.
    async fn quotas_refill(&self, day: DateTime<Utc>, actor: &Actor) -> StoreResult<u64>;
}

#[async_trait]
pub trait IpSpaceStore: Send + Sync {
    /// First start's default space, owned by `org_id`: made once in the database's life (true then),
    /// never again, even after it is deleted.
    async fn ip_space_seed(
        &self,
        org_id: i64,
        space: &crate::domain::ip::Space,
        actor: &Actor,
    ) -> StoreResult<bool>;
    /// `Rule::Held` when it overlaps a space that exists.
    async fn ip_space_create(
        &self,
        org_id: i64,
        space: &crate::domain::ip::Space,
        actor: &Actor,
    ) -> StoreResult<IpSpaceRow>;
    /// By id; `within` a subtree (by path), of one org.
    async fn ip_space_list(
        &self,
        within: Option<&str>,
        org: Option<i64>,
        page: Page,
    ) -> StoreResult<(Vec<IpSpaceRow>, i64)>;
    async fn ip_space_get(&self, id: i64) -> StoreResult<Option<IpSpaceRow>>;
    /// `Rule::Held` while endpoints hold addresses in it.
    async fn ip_space_delete(&self, id: i64, actor: &Actor) -> StoreResult<()>;
}

#[async_trait]
pub trait EndpointStore: Send + Sync {
    /// A live endpoint the scope holds.
    async fn endpoint_get(&self, scope: &Scope, id: i64) -> StoreResult<Option<EndpointRow>>;
    async fn endpoint_list(
        &self,
        scope: &Scope,
        filters: &[EndpointCond],
        sort: &[(EndpointCol, bool)],
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<EndpointRow>, i64)>;
    /// The endpoint in `new.org_id` (which the service checked is in the caller's scope), its SIM
    /// put in if one is named (a SIM the scope holds). `Rule::Unusable` for a profile or SIM the org
    /// may not use, `Rule::Held` for a SIM in use.
    async fn endpoint_create(
        &self,
        new: NewEndpoint,
        scope: &Scope,
        actor: &Actor,
    ) -> StoreResult<EndpointRow>;
    /// All of the patch or nothing, under the endpoint's lock.
    async fn endpoint_update(
        &self,
        scope: &Scope,
        id: i64,
        patch: EndpointPatch,
        actor: &Actor,
    ) -> StoreResult<EndpointRow>;
    /// Status 2, kept for history. `Rule::Held` while it holds a SIM.
    async fn endpoint_delete(&self, scope: &Scope, id: i64, actor: &Actor) -> StoreResult<()>;
    /// The operators the endpoint is barred from, by id; None when the scope does not hold it.
    async fn blacklist(&self, scope: &Scope, endpoint: i64) -> StoreResult<Option<Vec<Operator>>>;
    /// Adds (or removes) an operator to (from) the endpoint's blacklist. `Rule::Missing` for an
    /// unknown operator (or one not listed, to remove), `Rule::Duplicated` for one listed already.
    async fn blacklist_change(
        &self,
        scope: &Scope,
        endpoint: i64,
        operator: i64,
        add: bool,
        actor: &Actor,
    ) -> StoreResult<()>;
    /// The network events of the endpoint's SIM since it went in, oldest first (none without a
    /// SIM); None when the scope does not hold the endpoint.
    async fn network_events(
        &self,
        scope: &Scope,
        endpoint: i64,
    ) -> StoreResult<Option<Vec<NetworkEvent>>>;
    /// Records a connectivity reset request (`location`, `pdp_context`) as the endpoint's event.
    async fn connectivity_reset(
        &self,
        scope: &Scope,
        endpoint: i64,
        reset: &[&'static str],
        actor: &Actor,
    ) -> StoreResult<()>;
    /// Submits an MT SMS to the endpoint (status 1); its id.
    async fn sms_send(
        &self,
        scope: &Scope,
        endpoint: i64,
        new: NewSms,
        actor: &Actor,
    ) -> StoreResult<i64>;
    /// The endpoint's SMS (one, with `sms`), newest first, and their total; None when the scope does
    /// not hold the endpoint.
    async fn sms_list(
        &self,
        scope: &Scope,
        endpoint: i64,
        sms: Option<i64>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Option<(Vec<SmsRow>, i64)>>;
    /// Cancels an MT SMS waiting (1) or buffered (3); false when the endpoint has no such SMS;
    /// `Rule::Held` in any other status.
    async fn sms_cancel(
        &self,
        scope: &Scope,
        endpoint: i64,
        sms: i64,
        actor: &Actor,
    ) -> StoreResult<bool>;
    /// Every operator, by country name then id.
    async fn operators(&self) -> StoreResult<Vec<Operator>>;
    /// The service profiles the scope sees (one with `id`), by id, with their use in the scope.
    async fn service_profiles(
        &self,
        scope: &Scope,
        id: Option<i64>,
    ) -> StoreResult<Vec<ServiceProfile>>;
    async fn tariff_profiles(
        &self,
        scope: &Scope,
        id: Option<i64>,
    ) -> StoreResult<Vec<TariffProfile>>;
}

#[async_trait]
pub trait ActivityStore: Send + Sync {
    /// The events of a SIM or an endpoint the scope holds (none for one it does not).
    async fn events_list(
        &self,
        scope: &Scope,
        subject: EventSubject,
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
    /// The SIM's hourly buckets in `[from, until)`; None when the scope does not hold the SIM.
    async fn usage_rows(
        &self,
        scope: &Scope,
        sim_id: i64,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<Option<Vec<UsageRow>>>;
    /// An endpoint's hourly buckets in `[from, until)`; None when the scope does not hold it.
    async fn endpoint_usage_rows(
        &self,
        scope: &Scope,
        endpoint: i64,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<Option<Vec<UsageRow>>>;
}

/// Everything simgate stores.
pub trait Store:
    MetaStore
    + OrgStore
    + UserStore
    + TokenStore
    + SimStore
    + MvnoStore
    + BatchStore
    + EmnifySimStore
    + EndpointStore
    + IpSpaceStore
    + QuotaStore
    + ProfileStore
    + CatalogStore
    + TariffStore
    + SmsGatewayStore
    + ActivityStore
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
            + BatchStore
            + EmnifySimStore
            + EndpointStore
            + IpSpaceStore
            + QuotaStore
            + ProfileStore
            + CatalogStore
            + TariffStore
            + TariffStore
            + SmsGatewayStore
            + ActivityStore
            + IdempotencyStore,
    > Store for T
{
}

pub type DynStore = Arc<dyn Store>;
