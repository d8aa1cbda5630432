//! Endpoints: their list and single read, create, PATCH (with the SIM put in or taken out), DELETE,
//! and the profiles they run under (spec/emnify-endpoints.md §1, §2).
//!
//! An endpoint never moves: its key is its org's tenant, which a caller below the platform knows
//! from its own scope, so its reads and locks route to one shard. A SIM in an endpoint shares that
//! key (one that would not is refused), as an MVNO account and its SIM do.
use super::db::{query, Builder, Tx};
use super::endpoint_counts;
use super::ip_spaces;
use super::keys;
use super::owners::{self, Sims};
use super::scope::{self, Owner};
use super::*;
use crate::domain::access::Scope;
use crate::domain::endpoint::{sim_fits, EndpointStatus, SimOrgs};
use crate::domain::error::Rule;
use crate::domain::events;
use crate::domain::org::{path_ids, subtree_range, tenant_of_path};
use crate::domain::sim::SimStatus;
use crate::domain::sms::SmsStatus;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

/// An endpoint's columns with its org's path and its profiles' names (joined, or in
/// [`ENDPOINT_SELECT_UNLABELLED`] left empty for the label cache to fill), then its SIM's.
macro_rules! endpoint_select {
    ($org_path:literal, $sp_name:literal, $tp_name:literal, $from:literal) => {
        concat!(
            "SELECT e.id, e.org_id, ",
            $org_path,
            " AS org_path, e.tenant_org_id, e.name, e.status, e.imei, e.imei_lock, e.tags, \
             e.ip_address, e.ip_address_space_id, e.created_at, e.updated_at, \
             e.service_profile_id, ",
            $sp_name,
            " AS service_profile_name, e.tariff_profile_id, ",
            $tp_name,
            " AS tariff_profile_name, s.id AS sim_id, s.iccid AS sim_iccid, s.eid AS sim_eid, \
             s.imsi AS sim_imsi, s.msisdn AS sim_msisdn, s.status AS sim_status FROM endpoints e",
            $from,
            " LEFT JOIN sims s ON s.tenant_org_id = e.tenant_org_id AND s.endpoint_id = e.id"
        )
    };
}

pub(crate) const ENDPOINT_SELECT: &str = endpoint_select!(
    "o.path",
    "sp.name",
    "tp.name",
    " JOIN organisations o ON o.id = e.org_id \
     JOIN service_profiles sp ON sp.id = e.service_profile_id \
     JOIN tariff_profiles tp ON tp.id = e.tariff_profile_id"
);
/// Two tables: the single-endpoint read, whose org path and profile names come from
/// [`super::labels::Labels`] (the three joins cost the database half its throughput on that read).
pub(crate) const ENDPOINT_SELECT_UNLABELLED: &str = endpoint_select!("''", "''", "''", "");

const SIM_JOIN: &str =
    " LEFT JOIN sims s ON s.tenant_org_id = e.tenant_org_id AND s.endpoint_id = e.id";

/// How an endpoint is in a scope: by its org (`o`).
const ENDPOINT: Owner = Owner::Org {
    id: "e.org_id",
    path: "o.path",
};

/// A SIM's stay in an endpoint: (SIM, endpoint, the endpoint's key, from, until; open while it is
/// there).
type Stay = (i64, i64, i64, DateTime<Utc>, Option<DateTime<Utc>>);

/// The stays in endpoints of some SIMs, by SIM, so that placing each of a batch's records is a
/// lookup rather than a scan of every stay.
#[derive(Debug, Default)]
pub(crate) struct Stays(std::collections::HashMap<i64, Vec<Stay>>);

impl Stays {
    /// The endpoint the SIM was in at `at`.
    pub(crate) fn at(&self, sim: i64, at: DateTime<Utc>) -> Option<i64> {
        self.keyed_at(sim, at).map(|(endpoint, _)| endpoint)
    }

    /// The endpoint the SIM was in at `at`, with the endpoint's key.
    pub(crate) fn keyed_at(&self, sim: i64, at: DateTime<Utc>) -> Option<(i64, i64)> {
        self.0
            .get(&sim)?
            .iter()
            .find(|(_, _, _, from, until)| *from <= at && until.is_none_or(|u| at < u))
            .map(|s| (s.1, s.2))
    }
}

/// The stays in endpoints of these SIMs (for records that follow the SIM's endpoint at their time).
pub(crate) async fn stays(tx: &mut Tx, sims: impl Iterator<Item = i64>) -> StoreResult<Stays> {
    let mut out = Stays::default();
    let mut qb = Builder::new(
        "SELECT sim_id, endpoint_id, tenant_org_id, from_at, until_at FROM endpoint_sims \
         WHERE sim_id",
    );
    qb.push_in_ids(tx.dialect(), sims);
    for stay in qb.build().fetch_all::<Stay>(&mut *tx).await? {
        out.0.entry(stay.0).or_default().push(stay);
    }
    Ok(out)
}

/// The key of every endpoint a caller below the platform can see: its own tenant's.
pub(crate) fn scope_tenant(scope: &Scope) -> Option<i64> {
    match scope {
        Scope::All => None,
        Scope::Subtree { path, .. } | Scope::Org { path, .. } => tenant_of_path(path),
    }
}

/// The scope and the live-endpoint condition of every read.
fn push_visible(qb: &mut Builder<'_>, scope: &Scope) {
    if let Some(tenant) = scope_tenant(scope) {
        qb.push(" AND e.tenant_org_id = ").push_bind(tenant);
    }
    scope::push_scope(qb, scope, ENDPOINT);
}

/// An endpoint read under its lock inside a write.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub(crate) struct Locked {
    pub(crate) id: i64,
    pub(crate) org_id: i64,
    pub(crate) tenant_org_id: i64,
    status: i32,
    name: String,
    tags: Option<String>,
    imei: Option<String>,
    imei_lock: bool,
    service_profile_id: i64,
    tariff_profile_id: i64,
    ip_address: Option<String>,
    ip_address_space_id: Option<i64>,
    #[serde(skip)]
    path: String,
    pub(crate) sim_id: Option<i64>,
}

impl Locked {
    /// Its key in `endpoint_counts`.
    fn counted(&self) -> Option<endpoint_counts::Key> {
        endpoint_counts::key(
            self.tenant_org_id,
            self.org_id,
            self.status,
            self.service_profile_id,
            self.tariff_profile_id,
            self.tags.as_deref(),
        )
    }
}

pub(crate) async fn lock_endpoint(
    tx: &mut Tx,
    backend: Backend,
    scope: &Scope,
    id: i64,
) -> StoreResult<Locked> {
    let tenant = match scope_tenant(scope) {
        Some(t) => t,
        None => query("SELECT tenant_org_id FROM endpoints WHERE id = $1")
            .bind(id)
            .scalar_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?,
    };
    let mut qb = Builder::new(
        "SELECT e.id, e.org_id, e.tenant_org_id, e.status, e.name, e.tags, e.imei, e.imei_lock, \
         e.service_profile_id, e.tariff_profile_id, e.ip_address, e.ip_address_space_id, o.path, \
         CAST(NULL AS BIGINT) AS sim_id \
         FROM endpoints e JOIN organisations o ON o.id = e.org_id WHERE e.status <> 2 AND e.id = ",
    );
    qb.push_bind(id)
        .push(" AND e.tenant_org_id = ")
        .push_bind(tenant);
    scope::push_scope(&mut qb, scope, ENDPOINT);
    qb.push(backend.lock_endpoint());
    let mut ep: Locked = qb
        .build()
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    // Which SIM is in it changes only under this lock.
    ep.sim_id = query("SELECT id FROM sims WHERE tenant_org_id = $1 AND endpoint_id = $2")
        .bind(ep.tenant_org_id)
        .bind(ep.id)
        .scalar_optional(&mut *tx)
        .await?;
    Ok(ep)
}

/// Refuses a profile the endpoint's org may not use: one owned by the platform or an ancestor. The
/// profile is held shared to the end of the transaction (`db::hold_reference`): it is not deleted under
/// the endpoint.
async fn check_profile(
    tx: &mut Tx,
    backend: Backend,
    kind: ProfileKind,
    id: i64,
    org_path: &str,
) -> StoreResult<()> {
    super::db::hold_reference(tx, backend, kind.table(), id, false).await?;
    let mut qb = Builder::new(format!("SELECT p.id FROM {} p WHERE p.id = ", kind.table()));
    qb.push_bind(id)
        .push(" AND (p.owner_org_id IS NULL OR p.owner_org_id IN ")
        .push_list(path_ids(org_path))
        .push(")");
    let found: Option<i64> = qb.build().scalar_optional(&mut *tx).await?;
    if found.is_none() {
        return Err(Rule::Unusable {
            field: kind.field(),
            message: format!("{} with Id '{id}' not found.", kind.label()),
        }
        .into());
    }
    Ok(())
}

/// A SIM read under its lock for a move into or out of an endpoint.
#[derive(Debug, sqlx::FromRow)]
struct HeldSim {
    id: i64,
    tenant_org_id: i64,
    status: i16,
    issuer_org_id: Option<i64>,
    reseller_org_id: Option<i64>,
    customer_org_id: Option<i64>,
    in_storage_at: Option<i64>,
    endpoint_id: Option<i64>,
    mvno_account_id: Option<i64>,
    network: String,
    form_factor: String,
    auto_assign: bool,
    issuer_path: Option<String>,
    reseller_path: Option<String>,
    customer_path: Option<String>,
}

impl HeldSim {
    fn bucket(&self) -> (i64, String, &'static str, bool) {
        let ff = crate::domain::sim::FormFactor::parse(&self.form_factor)
            .map(|f| f.as_str())
            .unwrap_or("NANO");
        (
            self.in_storage_at.unwrap_or(0),
            self.network.clone(),
            ff,
            self.auto_assign,
        )
    }
}

async fn read_sim(
    tx: &mut Tx,
    scope: &Scope,
    id: i64,
    tenant: i64,
) -> StoreResult<Option<HeldSim>> {
    let mut qb = Builder::new(
        "SELECT s.id, s.tenant_org_id, s.status, s.issuer_org_id, s.reseller_org_id, \
         s.customer_org_id, s.in_storage_at, s.endpoint_id, s.mvno_account_id, s.network, \
         s.form_factor, s.auto_assign, io.path AS issuer_path, ro.path AS reseller_path, \
         co.path AS customer_path FROM sims s \
         LEFT JOIN organisations io ON io.id = s.issuer_org_id \
         LEFT JOIN organisations ro ON ro.id = s.reseller_org_id \
         LEFT JOIN organisations co ON co.id = s.customer_org_id \
         WHERE s.status <> 3 AND s.id = ",
    );
    qb.push_bind(id)
        .push(" AND s.tenant_org_id = ")
        .push_bind(tenant);
    scope::push_scope(&mut qb, scope, Owner::Sim { narrowed: false });
    qb.build().fetch_optional(tx).await
}

fn sim_not_found(id: i64) -> StoreError {
    Rule::Unusable {
        field: "sim",
        message: format!("SIM with Id '{id}' not found."),
    }
    .into()
}

/// Puts `new` in the endpoint (taking out the SIM there) or, with `None`, takes its SIM out: the
/// SIMs locked in (key, id) order, then their inventory counters, then the SIM rows, the history and
/// the events (lock order, `store/mod.rs`).
async fn set_sim(
    tx: &mut Tx,
    backend: Backend,
    scope: &Scope,
    ep: &Locked,
    new: Option<SimAttach>,
    actor: &Actor,
) -> StoreResult<()> {
    let old = ep.sim_id;
    if let (Some(n), Some(o)) = (new, old) {
        if n.sim_id == o {
            return activate_in_place(tx, backend, ep, o, n.activate, actor).await;
        }
    }
    let mut order: Vec<(i64, i64)> = Vec::new();
    for id in old.into_iter().chain(new.map(|n| n.sim_id)) {
        order.extend(keys::keys_of(tx, backend, Sims::One(id)).await?);
    }
    order.sort_unstable();
    let mut pinned = std::collections::HashMap::new();
    for (_, id) in order {
        if let Some(tenant) = keys::pin_sim(tx, backend, id).await? {
            pinned.insert(id, tenant);
        }
    }
    let released = match old {
        Some(id) => {
            let tenant = *pinned.get(&id).ok_or(StoreError::NotFound)?;
            Some(
                read_sim(tx, &Scope::All, id, tenant)
                    .await?
                    .ok_or(StoreError::NotFound)?,
            )
        }
        None => None,
    };
    let taken = match new {
        Some(attach) => {
            let id = attach.sim_id;
            let tenant = *pinned.get(&id).ok_or_else(|| sim_not_found(id))?;
            let sim = read_sim(tx, scope, id, tenant)
                .await?
                .ok_or_else(|| sim_not_found(id))?;
            Some((check_sim(tx, ep, &sim, attach.activate).await?, sim))
        }
        None => None,
    };
    // Counters before the rows they count: the released SIM is unused again, the taken one no more.
    let mut buckets = Vec::new();
    buckets.extend(released.iter().map(HeldSim::bucket));
    buckets.extend(taken.iter().map(|(_, s)| s.bucket()));
    super::sims::lock_counts(tx, buckets).await?;
    if let Some(sim) = &released {
        let (storage, network, ff, auto) = sim.bucket();
        super::sims::adjust_count(tx, Some(storage).filter(|s| *s != 0), &network, ff, auto, 1)
            .await?;
        let release = query(
            "UPDATE sims SET endpoint_id = NULL, updated_at = $1, version = version + 1 \
             WHERE id = $2 AND tenant_org_id = $3",
        )
        .bind(actor.at)
        .bind(sim.id)
        .bind(sim.tenant_org_id);
        owners::update(tx, backend, Sims::One(sim.id), release).await?;
        query(
            "UPDATE endpoint_sims SET until_at = $1 WHERE endpoint_id = $2 AND sim_id = $3 \
             AND tenant_org_id = $4 AND until_at IS NULL",
        )
        .bind(actor.at)
        .bind(ep.id)
        .bind(sim.id)
        .bind(ep.tenant_org_id)
        .execute(&mut *tx)
        .await?;
        event(
            tx,
            actor,
            ep,
            Some(sim.id),
            events::SIM_RELEASED,
            format!("SIM {} released from endpoint {}", sim.id, ep.id),
            None,
        )
        .await?;
    }
    if let Some((activation, sim)) = &taken {
        let (storage, network, ff, auto) = sim.bucket();
        super::sims::adjust_count(
            tx,
            Some(storage).filter(|s| *s != 0),
            &network,
            ff,
            auto,
            -1,
        )
        .await?;
        let current = SimStatus::from_id(i64::from(sim.status)).unwrap_or(SimStatus::Issued);
        let status = activation.unwrap_or(current);
        let assign = query(
            "UPDATE sims SET endpoint_id = $1, customer_org_id = $2, in_storage_at = $3, \
             status = $4, activation_date = COALESCE(activation_date, $5), updated_at = $6, \
             version = version + 1 WHERE id = $7 AND tenant_org_id = $8",
        )
        .bind(ep.id)
        .bind(sim.customer_org_id.unwrap_or(ep.org_id))
        .bind(ep.org_id)
        .bind(status.id())
        .bind(activation.is_some().then_some(actor.at))
        .bind(actor.at)
        .bind(sim.id)
        .bind(sim.tenant_org_id);
        owners::update(tx, backend, Sims::One(sim.id), assign).await?;
        keys::relocate(tx, backend, Sims::One(sim.id)).await?;
        query(
            "INSERT INTO endpoint_sims (tenant_org_id, endpoint_id, sim_id, from_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(ep.tenant_org_id)
        .bind(ep.id)
        .bind(sim.id)
        .bind(actor.at)
        .execute(&mut *tx)
        .await?;
        if let Some(to) = activation {
            status_event(tx, actor, ep, sim.id, current, *to).await?;
        }
        event(
            tx,
            actor,
            ep,
            Some(sim.id),
            events::SIM_ASSIGNED,
            format!("SIM {} assigned to endpoint {}", sim.id, ep.id),
            None,
        )
        .await?;
    }
    Ok(())
}

/// The rules a SIM must meet to go into the endpoint (§1.1); the status it is activated to, if any.
async fn check_sim(
    tx: &mut Tx,
    ep: &Locked,
    sim: &HeldSim,
    activate: bool,
) -> StoreResult<Option<SimStatus>> {
    if let Some(other) = sim.endpoint_id.filter(|e| *e != ep.id) {
        return Err(Rule::Held(format!(
            "SIM {} is already assigned to endpoint {other}",
            sim.id
        ))
        .into());
    }
    if sim.mvno_account_id.is_some() {
        return Err(Rule::Held(format!(
            "SIM {} is already assigned to an MVNO account",
            sim.id
        ))
        .into());
    }
    let orgs = SimOrgs {
        issuer: sim.issuer_path.as_deref(),
        reseller: sim.reseller_path.as_deref(),
        customer: sim.customer_path.as_deref(),
    };
    let unusable = |why: &str| -> StoreError {
        Rule::Unusable {
            field: "sim",
            message: format!("SIM with Id '{}' {why}.", sim.id),
        }
        .into()
    };
    if !sim_fits(orgs, &ep.path) {
        return Err(unusable("cannot be used by the endpoint's organisation"));
    }
    // The SIM's orgs once in the endpoint must share the endpoint's key (docs/scale-out.md).
    let after = [
        sim.issuer_org_id,
        sim.reseller_org_id,
        Some(sim.customer_org_id.unwrap_or(ep.org_id)),
        Some(ep.org_id),
    ];
    let tenants = keys::of_many(tx, "organisations", after.iter().flatten().copied()).await?;
    let tenant = crate::domain::org::sim_tenant(
        after
            .iter()
            .map(|o| o.and_then(|o| tenants.get(&o).copied().flatten())),
    );
    if tenant != ep.tenant_org_id {
        return Err(unusable("belongs to organisations of another tenant"));
    }
    if !activate {
        return Ok(None);
    }
    let current = SimStatus::from_id(i64::from(sim.status)).unwrap_or(SimStatus::Issued);
    Ok(crate::domain::emnify::transition(
        current,
        SimStatus::Activated,
    )?)
}

/// `{"sim": {"id": <the SIM there>, "activate": true}}`: only the activation.
async fn activate_in_place(
    tx: &mut Tx,
    backend: Backend,
    ep: &Locked,
    sim_id: i64,
    activate: bool,
    actor: &Actor,
) -> StoreResult<()> {
    if !activate {
        return Ok(());
    }
    let tenant = keys::pin_sim(tx, backend, sim_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let sim = read_sim(tx, &Scope::All, sim_id, tenant)
        .await?
        .ok_or(StoreError::NotFound)?;
    let current = SimStatus::from_id(i64::from(sim.status)).unwrap_or(SimStatus::Issued);
    let Some(to) = crate::domain::emnify::transition(current, SimStatus::Activated)? else {
        return Ok(());
    };
    let change = query(
        "UPDATE sims SET status = $1, activation_date = COALESCE(activation_date, $2), \
         updated_at = $2, version = version + 1 WHERE id = $3 AND tenant_org_id = $4",
    )
    .bind(to.id())
    .bind(actor.at)
    .bind(sim_id)
    .bind(tenant);
    owners::update(tx, backend, Sims::One(sim_id), change).await?;
    status_event(tx, actor, ep, sim_id, current, to).await
}

async fn status_event(
    tx: &mut Tx,
    actor: &Actor,
    ep: &Locked,
    sim_id: i64,
    from: SimStatus,
    to: SimStatus,
) -> StoreResult<()> {
    let status = |s: SimStatus| json!({"id": s.id(), "description": s.description()});
    let detail =
        json!({"transition": {"sim": {"status": {"from": status(from), "to": status(to)}}}});
    event(
        tx,
        actor,
        ep,
        Some(sim_id),
        crate::domain::emnify::status_event(to),
        format!(
            "Status of SIM changed from '{}' to '{}'",
            from.description(),
            to.description()
        ),
        Some(&detail),
    )
    .await
}

async fn event(
    tx: &mut Tx,
    actor: &Actor,
    ep: &Locked,
    sim_id: Option<i64>,
    type_id: i32,
    description: String,
    detail: Option<&serde_json::Value>,
) -> StoreResult<()> {
    journal::endpoint_event(
        tx,
        actor,
        ep.org_id,
        ep.id,
        sim_id,
        type_id,
        description,
        detail,
    )
    .await
}

/// The event of a change to what hangs off an endpoint (its SIM named, if any) and the audit row
/// holding the same detail.
pub(crate) async fn recorded(
    tx: &mut Tx,
    actor: &Actor,
    ep: &Locked,
    type_id: i32,
    description: String,
    action: &str,
    detail: &serde_json::Value,
) -> StoreResult<()> {
    event(tx, actor, ep, ep.sim_id, type_id, description, Some(detail)).await?;
    journal::audit(
        tx,
        actor,
        action,
        "endpoint",
        ep.id,
        None::<&()>,
        Some(detail),
    )
    .await
}

async fn reload(tx: &mut Tx, id: i64, tenant: i64) -> StoreResult<EndpointRow> {
    query(format!(
        "{ENDPOINT_SELECT} WHERE e.id = $1 AND e.tenant_org_id = $2"
    ))
    .bind(id)
    .bind(tenant)
    .fetch_one(tx)
    .await
}

#[async_trait::async_trait]
impl EndpointStore for SqlStore {
    async fn endpoint_get(&self, scope: &Scope, id: i64) -> StoreResult<Option<EndpointRow>> {
        let mut row = if self.citus {
            // The caller's tenant routes the read to one shard; a batch of many callers' reads
            // would ask every shard.
            let mut qb = Builder::new(format!("{ENDPOINT_SELECT} WHERE e.status <> 2 AND e.id = "));
            qb.push_bind(id);
            push_visible(&mut qb, scope);
            qb.build().fetch_optional(&self.reads).await?
        } else {
            // Batched with the reads that arrive together (see point_reads.rs); the scope is
            // checked here, as `push_visible` would in the query.
            let row = match self.endpoint_reads.get(id).await? {
                Some(r) if self.labels.enabled() => self.label_endpoint(r).await?,
                r => r,
            };
            row.filter(|r| scope.contains(r.org_id, &r.org_path))
        };
        if let Some(r) = row.as_mut() {
            if let Some(space) = r.ip_address_space_id {
                r.ip_address_space = self.space_cidr(space).await?;
            }
        }
        Ok(row)
    }

    async fn endpoint_list(
        &self,
        scope: &Scope,
        filters: &[EndpointCond],
        sort: &[(EndpointCol, bool)],
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<EndpointRow>, i64)> {
        let backend = MetaStore::backend(self);
        let push = |qb: &mut Builder<'_>| {
            push_visible(qb, scope);
            for f in filters {
                let col = f.col().column();
                match f {
                    EndpointCond::In(_, values) => {
                        qb.push(format!(" AND {col} IN "))
                            .push_list(values.iter().copied());
                    }
                    EndpointCond::Contains(_, v) => {
                        qb.push(format!(" AND LOWER({col}) LIKE "))
                            .push_bind(format!("%{}%", like_literal(&v.to_lowercase())))
                            .push(backend.like_escape());
                    }
                    EndpointCond::Text(_, v) => {
                        qb.push(format!(" AND {col} = ")).push_bind(v.clone());
                    }
                    EndpointCond::Prefix(_, v) => {
                        qb.push(format!(" AND {col} LIKE "))
                            .push_bind(format!("{}%", like_literal(v)))
                            .push(backend.like_escape());
                    }
                    EndpointCond::Day(_, day) => {
                        let from = day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
                        qb.push(format!(" AND {col} >= "))
                            .push_bind(from)
                            .push(format!(" AND {col} < "))
                            .push_bind(from + chrono::Duration::days(1));
                    }
                }
            }
        };
        // The total comes from `endpoint_counts` (aliased as the rows are) whenever every condition
        // is one of its key columns; other filters count the rows.
        let with_sim = filters.iter().any(|f| f.col().of_sim());
        let mut count = Builder::new(if filters.iter().all(endpoint_counts::countable) {
            "SELECT CAST(COALESCE(SUM(e.count), 0) AS BIGINT) FROM endpoint_counts e \
             JOIN organisations o ON o.id = e.org_id WHERE e.status <> 2"
                .to_owned()
        } else {
            format!(
                "SELECT COUNT(*) FROM endpoints e JOIN organisations o ON o.id = e.org_id{} \
                 WHERE e.status <> 2",
                if with_sim { SIM_JOIN } else { "" }
            )
        });
        push(&mut count);
        let total: i64 = count.build().scalar(&self.reads).await?;
        if offset >= total {
            return Ok((Vec::new(), total));
        }
        let mut list = Builder::new(format!("{ENDPOINT_SELECT} WHERE e.status <> 2"));
        push(&mut list);
        let dir = |desc: bool| if desc { "DESC" } else { "ASC" };
        list.push(" ORDER BY ");
        for (col, desc) in sort {
            if *col != EndpointCol::Id {
                // Unset values last on both backends; a column that is never unset sorts by itself,
                // so that its index gives the order.
                let c = col.column();
                if col.nullable() {
                    list.push(format!("({c} IS NULL), "));
                }
                list.push(format!("{c} {}, ", dir(*desc)));
            }
        }
        let last_desc = sort.last().is_some_and(|s| s.1);
        list.push(format!("e.id {}", dir(last_desc)))
            .push(" LIMIT ")
            .push_bind(limit)
            .push(" OFFSET ")
            .push_bind(offset);
        Ok((list.build().fetch_all(&self.reads).await?, total))
    }

    async fn endpoint_create(
        &self,
        new: NewEndpoint,
        scope: &Scope,
        actor: &Actor,
    ) -> StoreResult<EndpointRow> {
        let backend = MetaStore::backend(self);
        let mut tx = self.pool.begin_write().await?;
        let path: String = query("SELECT path FROM organisations WHERE id = $1")
            .bind(new.org_id)
            .scalar_optional(&mut tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let tenant = keys::of_org(&mut tx, Some(new.org_id)).await?;
        check_profile(
            &mut tx,
            backend,
            ProfileKind::Service,
            new.service_profile_id,
            &path,
        )
        .await?;
        check_profile(
            &mut tx,
            backend,
            ProfileKind::Tariff,
            new.tariff_profile_id,
            &path,
        )
        .await?;
        let id: i64 = query(
            "INSERT INTO endpoints (org_id, name, status, imei, imei_lock, tags, \
             service_profile_id, tariff_profile_id, created_at, updated_at, tenant_org_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) RETURNING id",
        )
        .bind(new.org_id)
        .bind(&new.name)
        .bind(i32::from(new.status))
        .bind(&new.imei)
        .bind(new.imei_lock)
        .bind(&new.tags)
        .bind(new.service_profile_id)
        .bind(new.tariff_profile_id)
        .bind(actor.at)
        .bind(tenant)
        .scalar(&mut tx)
        .await?;
        let ep = Locked {
            id,
            org_id: new.org_id,
            tenant_org_id: tenant,
            status: i32::from(new.status),
            name: new.name.clone(),
            tags: new.tags.clone(),
            imei: new.imei.clone(),
            imei_lock: new.imei_lock,
            service_profile_id: new.service_profile_id,
            tariff_profile_id: new.tariff_profile_id,
            ip_address: None,
            ip_address_space_id: None,
            path,
            sim_id: None,
        };
        let ip = ip_spaces::assign(&mut tx, backend, &ep.path, tenant, id, &new.ip).await?;
        query(
            "UPDATE endpoints SET ip_address = $1, ip_address_space_id = $2 \
             WHERE id = $3 AND tenant_org_id = $4",
        )
        .bind(&ip.address)
        .bind(ip.space_id)
        .bind(id)
        .bind(tenant)
        .execute(&mut tx)
        .await?;
        event(
            &mut tx,
            actor,
            &ep,
            None,
            events::ENDPOINT_CREATED,
            format!("Endpoint {id} created"),
            Some(&json!({"endpoint": {"id": id, "name": new.name, "ip_address": ip.address}})),
        )
        .await?;
        if new.sim.is_some() {
            set_sim(&mut tx, backend, scope, &ep, new.sim, actor).await?;
        }
        endpoint_counts::moved(&mut tx, None, ep.counted()).await?;
        let row = reload(&mut tx, id, tenant).await?;
        journal::audit(
            &mut tx,
            actor,
            "create",
            "endpoint",
            id,
            None::<&()>,
            Some(&row),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    async fn endpoint_update(
        &self,
        scope: &Scope,
        id: i64,
        patch: EndpointPatch,
        actor: &Actor,
    ) -> StoreResult<EndpointRow> {
        let backend = MetaStore::backend(self);
        let mut tx = self.pool.begin_write().await?;
        let ep = lock_endpoint(&mut tx, backend, scope, id).await?;
        if let Some(p) = patch.service_profile_id {
            check_profile(&mut tx, backend, ProfileKind::Service, p, &ep.path).await?;
        }
        if let Some(p) = patch.tariff_profile_id {
            check_profile(&mut tx, backend, ProfileKind::Tariff, p, &ep.path).await?;
        }
        let before = reload(&mut tx, ep.id, ep.tenant_org_id).await?;
        // The fields event 1009 reports, each from and to.
        let mut changes = serde_json::Map::new();
        let mut note = |name: &str, from: serde_json::Value, to: serde_json::Value| {
            if from != to {
                changes.insert(name.into(), json!({"from": from, "to": to}));
            }
        };
        let name = patch.name.clone().unwrap_or_else(|| ep.name.clone());
        note("name", json!(ep.name), json!(name));
        let tags = patch.tags.clone().unwrap_or_else(|| ep.tags.clone());
        note("tags", json!(ep.tags), json!(tags));
        let imei = patch.imei.clone().unwrap_or_else(|| ep.imei.clone());
        note("imei", json!(ep.imei), json!(imei));
        let imei_lock = patch.imei_lock.unwrap_or(ep.imei_lock);
        note("imei_lock", json!(ep.imei_lock), json!(imei_lock));
        let service = patch.service_profile_id.unwrap_or(ep.service_profile_id);
        note(
            "service_profile",
            json!({"id": ep.service_profile_id}),
            json!({"id": service}),
        );
        let tariff = patch.tariff_profile_id.unwrap_or(ep.tariff_profile_id);
        note(
            "tariff_profile",
            json!({"id": ep.tariff_profile_id}),
            json!({"id": tariff}),
        );
        let (ip_address, ip_space) = match &patch.ip {
            Some(choice) => {
                ip_spaces::release(&mut tx, ep.ip_address_space_id, ep.id).await?;
                let ip =
                    ip_spaces::assign(&mut tx, backend, &ep.path, ep.tenant_org_id, ep.id, choice)
                        .await?;
                (Some(ip.address), Some(ip.space_id))
            }
            None => (ep.ip_address.clone(), ep.ip_address_space_id),
        };
        note("ip_address", json!(ep.ip_address), json!(ip_address));
        note(
            "ip_address_space",
            json!({"id": ep.ip_address_space_id}),
            json!({"id": ip_space}),
        );
        let status = patch.status.map(i32::from).unwrap_or(ep.status);
        query(
            "UPDATE endpoints SET name = $1, tags = $2, imei = $3, imei_lock = $4, \
             service_profile_id = $5, tariff_profile_id = $6, status = $7, updated_at = $8, \
             ip_address = $11, ip_address_space_id = $12 \
             WHERE id = $9 AND tenant_org_id = $10",
        )
        .bind(&name)
        .bind(&tags)
        .bind(&imei)
        .bind(imei_lock)
        .bind(service)
        .bind(tariff)
        .bind(status)
        .bind(actor.at)
        .bind(ep.id)
        .bind(ep.tenant_org_id)
        .bind(&ip_address)
        .bind(ip_space)
        .execute(&mut tx)
        .await?;
        if !changes.is_empty() {
            event(
                &mut tx,
                actor,
                &ep,
                ep.sim_id,
                events::ENDPOINT_UPDATED,
                format!("Endpoint {} updated", ep.id),
                Some(&json!({ "changes": changes })),
            )
            .await?;
        }
        if status != ep.status {
            let (type_id, word) = if status == i32::from(EndpointStatus::Enabled.id()) {
                (events::ENDPOINT_ENABLED, "enabled")
            } else {
                (events::ENDPOINT_DISABLED, "disabled")
            };
            event(
                &mut tx,
                actor,
                &ep,
                ep.sim_id,
                type_id,
                format!("Endpoint {} {word}", ep.id),
                None,
            )
            .await?;
        }
        if let Some(sim) = patch.sim {
            if sim.is_some() || ep.sim_id.is_some() {
                set_sim(&mut tx, backend, scope, &ep, sim, actor).await?;
            }
        }
        let counted = endpoint_counts::key(
            ep.tenant_org_id,
            ep.org_id,
            status,
            service,
            tariff,
            tags.as_deref(),
        );
        endpoint_counts::moved(&mut tx, ep.counted(), counted).await?;
        let after = reload(&mut tx, ep.id, ep.tenant_org_id).await?;
        journal::audit(
            &mut tx,
            actor,
            "update",
            "endpoint",
            ep.id,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn endpoint_delete(&self, scope: &Scope, id: i64, actor: &Actor) -> StoreResult<()> {
        let backend = MetaStore::backend(self);
        let mut tx = self.pool.begin_write().await?;
        let ep = lock_endpoint(&mut tx, backend, scope, id).await?;
        if let Some(sim) = ep.sim_id {
            return Err(Rule::Held(format!("Endpoint {} has SIM {sim} assigned", ep.id)).into());
        }
        let before = reload(&mut tx, ep.id, ep.tenant_org_id).await?;
        // Its SMS still waiting are canceled; the rest stays as history.
        query(
            "UPDATE sms SET status = $1, final_date = $2 WHERE endpoint_id = $3 \
             AND tenant_org_id = $4 AND status IN (1, 2, 3)",
        )
        .bind(SmsStatus::Canceled.id())
        .bind(actor.at)
        .bind(ep.id)
        .bind(ep.tenant_org_id)
        .execute(&mut tx)
        .await?;
        query("DELETE FROM endpoint_quotas WHERE endpoint_id = $1 AND tenant_org_id = $2")
            .bind(ep.id)
            .bind(ep.tenant_org_id)
            .execute(&mut tx)
            .await?;
        query(
            "DELETE FROM endpoint_operator_blacklist WHERE endpoint_id = $1 AND tenant_org_id = $2",
        )
        .bind(ep.id)
        .bind(ep.tenant_org_id)
        .execute(&mut tx)
        .await?;
        ip_spaces::release(&mut tx, ep.ip_address_space_id, ep.id).await?;
        query(
            "UPDATE endpoints SET status = 2, ip_address = NULL, ip_address_space_id = NULL, \
             updated_at = $1 WHERE id = $2 AND tenant_org_id = $3",
        )
        .bind(actor.at)
        .bind(ep.id)
        .bind(ep.tenant_org_id)
        .execute(&mut tx)
        .await?;
        endpoint_counts::moved(&mut tx, ep.counted(), None).await?;
        event(
            &mut tx,
            actor,
            &ep,
            None,
            events::ENDPOINT_DELETED,
            format!("Endpoint {} deleted", ep.id),
            None,
        )
        .await?;
        journal::audit(
            &mut tx,
            actor,
            "delete",
            "endpoint",
            ep.id,
            Some(&before),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn blacklist(&self, scope: &Scope, endpoint: i64) -> StoreResult<Option<Vec<Operator>>> {
        if self.endpoint_get(scope, endpoint).await?.is_none() {
            return Ok(None);
        }
        let mut qb = Builder::new(
            "SELECT b.operator_id FROM endpoint_operator_blacklist b WHERE b.endpoint_id = ",
        );
        qb.push_bind(endpoint);
        if let Some(tenant) = scope_tenant(scope) {
            qb.push(" AND b.tenant_org_id = ").push_bind(tenant);
        }
        let ids: Vec<i64> = qb.build().scalars(&self.reads).await?;
        Ok(Some(
            super::operators::operators(&self.reads, Some(&ids)).await?,
        ))
    }

    async fn blacklist_change(
        &self,
        scope: &Scope,
        endpoint: i64,
        operator: i64,
        add: bool,
        actor: &Actor,
    ) -> StoreResult<()> {
        let backend = MetaStore::backend(self);
        let mut tx = self.pool.begin_write().await?;
        let ep = lock_endpoint(&mut tx, backend, scope, endpoint).await?;
        // Held shared: the admin does not delete it under the new entry.
        super::db::hold_reference(&mut tx, backend, "operators", operator, false).await?;
        let name: String = query("SELECT name FROM operators WHERE id = $1")
            .bind(operator)
            .scalar_optional(&mut tx)
            .await?
            .ok_or_else(|| Rule::Missing(format!("Operator with Id '{operator}' not found.")))?;
        let listed: i64 = query(
            "SELECT COUNT(*) FROM endpoint_operator_blacklist WHERE endpoint_id = $1 \
             AND tenant_org_id = $2 AND operator_id = $3",
        )
        .bind(ep.id)
        .bind(ep.tenant_org_id)
        .bind(operator)
        .scalar(&mut tx)
        .await?;
        match (add, listed > 0) {
            (true, true) => {
                return Err(Rule::Duplicated(format!(
                "Operator with Id '{operator}' is already blacklisted on Endpoint with Id '{}'.",
                ep.id
            ))
                .into())
            }
            (false, false) => {
                return Err(Rule::Missing(format!(
                    "Operator with Id '{operator}' is not blacklisted on Endpoint with Id '{}'.",
                    ep.id
                ))
                .into())
            }
            (true, false) => {
                query(
                    "INSERT INTO endpoint_operator_blacklist (tenant_org_id, endpoint_id, \
                     operator_id, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(ep.tenant_org_id)
                .bind(ep.id)
                .bind(operator)
                .bind(actor.at)
                .execute(&mut tx)
                .await?;
            }
            (false, true) => {
                query(
                    "DELETE FROM endpoint_operator_blacklist WHERE endpoint_id = $1 \
                     AND tenant_org_id = $2 AND operator_id = $3",
                )
                .bind(ep.id)
                .bind(ep.tenant_org_id)
                .bind(operator)
                .execute(&mut tx)
                .await?;
            }
        }
        let action = if add { "added" } else { "removed" };
        let detail = json!({"operator": {"id": operator, "name": name}, "action": action});
        recorded(
            &mut tx,
            actor,
            &ep,
            events::OPERATOR_BLACKLIST_CHANGED,
            format!(
                "Operator {name} {action} on the blacklist of endpoint {}",
                ep.id
            ),
            if add {
                "blacklist_add"
            } else {
                "blacklist_remove"
            },
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn network_events(
        &self,
        scope: &Scope,
        endpoint: i64,
    ) -> StoreResult<Option<Vec<NetworkEvent>>> {
        if self.endpoint_get(scope, endpoint).await?.is_none() {
            return Ok(None);
        }
        let stay: Option<(i64, DateTime<Utc>)> = query(
            "SELECT sim_id, from_at FROM endpoint_sims WHERE endpoint_id = $1 AND until_at IS NULL",
        )
        .bind(endpoint)
        .fetch_optional(&self.reads)
        .await?;
        let Some((sim, since)) = stay else {
            return Ok(Some(Vec::new()));
        };
        // The newest few hundred are plenty: a detach clears everything before it.
        let mut qb = Builder::new(
            "SELECT ev.ts, ev.type_id, ev.detail FROM events ev WHERE ev.endpoint_id = ",
        );
        qb.push_bind(endpoint)
            .push(" AND ev.sim_id = ")
            .push_bind(sim)
            .push(" AND ev.source = ")
            .push_bind(crate::domain::events::SOURCE_NETWORK)
            .push(" AND ev.ts >= ")
            .push_bind(since)
            .push(" AND ev.type_id IN ")
            .push_list(crate::domain::connectivity::TYPES)
            .push(" ORDER BY ev.ts DESC, ev.id DESC LIMIT 500");
        let mut rows: Vec<NetworkEvent> = qb.build().fetch_all(&self.reads).await?;
        rows.reverse();
        Ok(Some(rows))
    }

    async fn connectivity_reset(
        &self,
        scope: &Scope,
        endpoint: i64,
        reset: &[&'static str],
        actor: &Actor,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin_write().await?;
        let ep = lock_endpoint(&mut tx, MetaStore::backend(self), scope, endpoint).await?;
        let detail = json!({ "reset": reset });
        recorded(
            &mut tx,
            actor,
            &ep,
            events::CONNECTIVITY_RESET,
            format!("Connectivity reset requested for endpoint {}", ep.id),
            "connectivity_reset",
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn sms_send(
        &self,
        scope: &Scope,
        endpoint: i64,
        new: NewSms,
        actor: &Actor,
    ) -> StoreResult<i64> {
        let mut tx = self.pool.begin_write().await?;
        let ep = lock_endpoint(&mut tx, MetaStore::backend(self), scope, endpoint).await?;
        let id: i64 = query(
            "INSERT INTO sms (tenant_org_id, endpoint_id, sms_type, status, submit_date, \
             expiry_date, source_address, source_address_type, payload, udh, dcs) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(ep.tenant_org_id)
        .bind(ep.id)
        .bind(crate::domain::sms::MT)
        .bind(SmsStatus::Pending.id())
        .bind(actor.at)
        .bind(new.expiry_date)
        .bind(&new.source_address)
        .bind(new.source_address_type)
        .bind(&new.payload)
        .bind(&new.udh)
        .bind(new.dcs)
        .scalar(&mut tx)
        .await?;
        let detail = json!({ "sms_id": id });
        recorded(
            &mut tx,
            actor,
            &ep,
            events::SMS_SUBMITTED,
            format!("SMS {id} submitted to endpoint {}", ep.id),
            "sms_submit",
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn sms_list(
        &self,
        scope: &Scope,
        endpoint: i64,
        sms: Option<i64>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Option<(Vec<SmsRow>, i64)>> {
        let Some(ep) = self.endpoint_get(scope, endpoint).await? else {
            return Ok(None);
        };
        let push = |qb: &mut Builder<'_>| {
            qb.push(" WHERE m.endpoint_id = ")
                .push_bind(ep.id)
                .push(" AND m.tenant_org_id = ")
                .push_bind(ep.tenant_org_id);
            if let Some(id) = sms {
                qb.push(" AND m.id = ").push_bind(id);
            }
        };
        let mut count = Builder::new("SELECT COUNT(*) FROM sms m");
        push(&mut count);
        let total: i64 = count.build().scalar(&self.reads).await?;
        let mut list = Builder::new(
            "SELECT m.id, m.endpoint_id, e.name AS endpoint_name, m.sim_id, m.sms_type, m.status, \
             m.submit_date, m.expiry_date, m.delivery_date, m.final_date, m.last_delivery_attempt, \
             m.retry_count, m.source_address, m.source_address_type, m.destination_address, \
             m.payload, m.udh, m.dcs, m.pid, m.gsm_map_error FROM sms m \
             JOIN endpoints e ON e.tenant_org_id = m.tenant_org_id AND e.id = m.endpoint_id",
        );
        push(&mut list);
        list.push(" ORDER BY m.submit_date DESC, m.id DESC LIMIT ")
            .push_bind(limit)
            .push(" OFFSET ")
            .push_bind(offset);
        Ok(Some((list.build().fetch_all(&self.reads).await?, total)))
    }

    async fn sms_cancel(
        &self,
        scope: &Scope,
        endpoint: i64,
        sms: i64,
        actor: &Actor,
    ) -> StoreResult<bool> {
        let backend = MetaStore::backend(self);
        let mut tx = self.pool.begin_write().await?;
        let ep = lock_endpoint(&mut tx, backend, scope, endpoint).await?;
        let row: Option<(i16, i16)> = query(format!(
            "SELECT sms_type, status FROM sms WHERE id = $1 AND endpoint_id = $2 \
             AND tenant_org_id = $3{}",
            backend.lock_rows()
        ))
        .bind(sms)
        .bind(ep.id)
        .bind(ep.tenant_org_id)
        .fetch_optional(&mut tx)
        .await?;
        let Some((sms_type, status)) = row else {
            return Ok(false);
        };
        let from = SmsStatus::from_id(i64::from(status)).unwrap_or(SmsStatus::Pending);
        if sms_type != crate::domain::sms::MT || !from.cancelable() {
            return Err(Rule::Held(format!(
                "SMS {sms} cannot be canceled in status '{}'",
                from.description()
            ))
            .into());
        }
        query("UPDATE sms SET status = $1, final_date = $2 WHERE id = $3 AND tenant_org_id = $4")
            .bind(SmsStatus::Canceled.id())
            .bind(actor.at)
            .bind(sms)
            .bind(ep.tenant_org_id)
            .execute(&mut tx)
            .await?;
        let detail = json!({"sms_id": sms, "from": from.id(), "to": SmsStatus::Canceled.id()});
        recorded(
            &mut tx,
            actor,
            &ep,
            events::SMS_STATUS_CHANGED,
            format!("SMS {sms} canceled"),
            "sms_cancel",
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn operators(&self) -> StoreResult<Vec<Operator>> {
        super::operators::operators(&self.reads, None).await
    }

    async fn service_profiles(
        &self,
        scope: &Scope,
        id: Option<i64>,
    ) -> StoreResult<Vec<ServiceProfile>> {
        let mut qb = Builder::new(
            "SELECT p.id, p.name, p.description, p.owner_org_id, p.allowed_3g, p.allowed_4g, \
             p.allowed_nb_iot, p.apply_data_quota, p.apply_sms_quota, CAST(0 AS BIGINT) AS used_count \
             FROM service_profiles p WHERE 1 = 1",
        );
        push_profile_scope(&mut qb, scope, id);
        let mut rows: Vec<ServiceProfile> = qb.build().fetch_all(&self.reads).await?;
        let used = self
            .profile_use(scope, ProfileKind::Service, rows.iter().map(|r| r.id))
            .await?;
        for r in &mut rows {
            r.used_count = used.get(&r.id).copied().unwrap_or(0);
        }
        Ok(rows)
    }

    async fn tariff_profiles(
        &self,
        scope: &Scope,
        id: Option<i64>,
    ) -> StoreResult<Vec<TariffProfile>> {
        let mut qb = Builder::new(
            "SELECT p.id, p.name, p.description, p.owner_org_id, CAST(0 AS BIGINT) AS used_count \
             FROM tariff_profiles p WHERE 1 = 1",
        );
        push_profile_scope(&mut qb, scope, id);
        let mut rows: Vec<TariffProfile> = qb.build().fetch_all(&self.reads).await?;
        let used = self
            .profile_use(scope, ProfileKind::Tariff, rows.iter().map(|r| r.id))
            .await?;
        for r in &mut rows {
            r.used_count = used.get(&r.id).copied().unwrap_or(0);
        }
        Ok(rows)
    }
}

/// Profiles a caller sees: the platform's, its own org's and its ancestors' (they serve it), and
/// those of orgs in its scope. By id.
fn push_profile_scope(qb: &mut Builder<'_>, scope: &Scope, id: Option<i64>) {
    if let Some(id) = id {
        qb.push(" AND p.id = ").push_bind(id);
    }
    match scope {
        Scope::All => {}
        Scope::Org { path, .. } => {
            qb.push(" AND (p.owner_org_id IS NULL OR p.owner_org_id IN ")
                .push_list(path_ids(path))
                .push(")");
        }
        Scope::Subtree { path, .. } => {
            let (lo, hi) = subtree_range(path);
            qb.push(" AND (p.owner_org_id IS NULL OR p.owner_org_id IN ")
                .push_list(path_ids(path))
                .push(" OR p.owner_org_id IN (SELECT id FROM organisations WHERE path >= ")
                .push_bind(lo)
                .push(" AND path < ")
                .push_bind(hi)
                .push("))");
        }
    }
    qb.push(" ORDER BY p.id");
}

impl SqlStore {
    /// How many live endpoints the caller sees use each of these profiles (a count never includes
    /// another tenant's endpoints).
    async fn profile_use(
        &self,
        scope: &Scope,
        kind: ProfileKind,
        ids: impl Iterator<Item = i64>,
    ) -> StoreResult<std::collections::HashMap<i64, i64>> {
        let ids: Vec<i64> = ids.collect();
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let col = match kind {
            ProfileKind::Service => "e.service_profile_id",
            ProfileKind::Tariff => "e.tariff_profile_id",
        };
        let mut qb = Builder::new(format!(
            "SELECT {col}, COUNT(*) FROM endpoints e JOIN organisations o ON o.id = e.org_id \
             WHERE e.status <> 2 AND {col} IN "
        ));
        qb.push_list(ids);
        push_visible(&mut qb, scope);
        qb.push(format!(" GROUP BY {col}"));
        let rows: Vec<(i64, i64)> = qb.build().fetch_all(&self.reads).await?;
        Ok(rows.into_iter().collect())
    }
}
