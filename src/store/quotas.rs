//! Data and SMS quotas of endpoints (spec/emnify-endpoints.md §7): set, read, delete under the
//! endpoint's lock; drawn down by usage ingest; expired by the job.
//!
//! Locks: a quota row is written under its endpoint's lock (step 1), or — by usage ingest and the
//! job, which take no endpoint lock — alone, each row read `FOR UPDATE` in (tenant, endpoint, kind)
//! order after the usage rows, so that a draw never loses another's.
use super::db::{query, Builder, Tx};
use super::endpoints::{lock_endpoint, recorded, Locked};
use super::journal::{self, About, POLICY_INFO, POLICY_WARNING};
use super::*;
use crate::domain::access::Scope;
use crate::domain::error::Rule;
use crate::domain::quota::{self, Exhaustion, QuotaKind, QuotaStatus};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct QuotaRow {
    pub tenant_org_id: i64,
    pub endpoint_id: i64,
    pub kind: i16,
    pub status: i16,
    pub volume: f64,
    pub last_volume_added: f64,
    pub expiry_date: DateTime<Utc>,
    pub auto_refill: i16,
    pub threshold_percentage: Option<i16>,
    pub threshold_reported: bool,
    pub action: i16,
    pub peak_throughput: Option<i32>,
    pub assigned_at: DateTime<Utc>,
}

impl QuotaRow {
    pub fn status(&self) -> QuotaStatus {
        QuotaStatus::from_id(i64::from(self.status)).unwrap_or(QuotaStatus::Active)
    }

    pub fn exhaustion(&self) -> Exhaustion {
        Exhaustion::from_parts(self.action, self.peak_throughput)
    }

    /// The quota as it stands at `now` (past its expiry date: EXPIRED, before the job marks it).
    pub fn as_of(mut self, now: DateTime<Utc>) -> Self {
        self.status = quota::status_at(self.status(), self.expiry_date, now).id();
        self
    }

    fn kind(&self) -> QuotaKind {
        QuotaKind::from_id(self.kind).unwrap_or(QuotaKind::Data)
    }

    /// The quota as its events carry it.
    fn detail(&self) -> serde_json::Value {
        json!({"quota": {
            "kind": self.kind().label(), "status": self.status().description(), "volume": self.volume,
            "last_volume_added": self.last_volume_added, "expiry_date": self.expiry_date,
            "action_on_exhaustion": self.exhaustion().description(),
        }})
    }
}

/// A quota as a POST sets it.
#[derive(Debug, Clone)]
pub struct NewQuota {
    pub status: QuotaStatus,
    pub volume: f64,
    pub expiry_date: DateTime<Utc>,
    pub auto_refill: bool,
    pub threshold_percentage: Option<i16>,
    pub exhaustion: Exhaustion,
}

/// Whether the endpoint's data and SMS are denied by its quotas now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Denial {
    pub data: bool,
    pub sms: bool,
}

const QUOTA_COLUMNS: &str = "q.tenant_org_id, q.endpoint_id, q.kind, q.status, q.volume, \
    q.last_volume_added, q.expiry_date, q.auto_refill, q.threshold_percentage, q.threshold_reported, \
    q.action, q.peak_throughput, q.assigned_at";

async fn read(
    ex: impl Into<super::db::Ex<'_>>,
    tenant: i64,
    endpoint: i64,
    kind: Option<QuotaKind>,
    lock: &str,
) -> StoreResult<Vec<QuotaRow>> {
    let mut qb = Builder::new(format!(
        "SELECT {QUOTA_COLUMNS} FROM endpoint_quotas q WHERE q.tenant_org_id = "
    ));
    qb.push_bind(tenant)
        .push(" AND q.endpoint_id = ")
        .push_bind(endpoint);
    if let Some(k) = kind {
        qb.push(" AND q.kind = ").push_bind(k.id());
    }
    qb.push(" ORDER BY q.kind").push(lock);
    qb.build().fetch_all(ex).await
}

/// A policy event of the endpoint (its SIM now named, if any).
async fn policy_event(
    tx: &mut Tx,
    actor: &Actor,
    org_id: i64,
    q: &QuotaRow,
    type_id: i32,
    description: String,
    warning: bool,
) -> StoreResult<()> {
    let sim: Option<i64> =
        query("SELECT id FROM sims WHERE tenant_org_id = $1 AND endpoint_id = $2")
            .bind(q.tenant_org_id)
            .bind(q.endpoint_id)
            .scalar_optional(&mut *tx)
            .await?;
    let about = About {
        org_id: Some(org_id),
        endpoint_id: Some(q.endpoint_id),
        sim_id: sim,
    };
    let origin = if warning { POLICY_WARNING } else { POLICY_INFO };
    journal::write_event(
        tx,
        actor,
        about,
        origin,
        type_id,
        description,
        Some(&q.detail()),
    )
    .await
}

/// A quota read for a draw, with its endpoint's org (its events are the org's).
#[derive(sqlx::FromRow)]
struct Drawable {
    #[sqlx(flatten)]
    quota: QuotaRow,
    org_id: i64,
}

/// Draws ingested usage (each record with the endpoint it went to and that endpoint's key) from the
/// ACTIVE quotas it falls under (quotas the endpoint's service profile enforces, records not older
/// than the quota), with their threshold and used-up events.
///
/// Batched per tenant (one shard on Citus): the quotas are read `FOR UPDATE` in (endpoint, kind)
/// order by one statement, joined to their endpoints and profiles, then written together
/// (`bulk::update_quotas`); tenants in ascending order, so that the store's lock order holds
/// across a batch.
pub(crate) async fn draw(
    tx: &mut Tx,
    backend: Backend,
    placed: &[((i64, i64), &UsageRecord)],
    actor: &Actor,
) -> StoreResult<()> {
    // What each (endpoint, kind) was sent: (when, how much) per record; the endpoints by tenant.
    type Sent = Vec<(DateTime<Utc>, f64)>;
    let mut sent: HashMap<(i64, QuotaKind), Sent> = HashMap::new();
    let mut found: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for ((endpoint, tenant), r) in placed {
        if let Some(kind) = QuotaKind::of_traffic(r.traffic_type) {
            let volume = r.volume_tx + r.volume_rx;
            sent.entry((*endpoint, kind))
                .or_default()
                .push((r.at, volume));
            found.entry(*tenant).or_default().push(*endpoint);
        }
    }
    for (tenant, endpoints) in found {
        let mut qb = Builder::new(format!(
            "SELECT {QUOTA_COLUMNS}, e.org_id FROM endpoint_quotas q \
             JOIN endpoints e ON e.id = q.endpoint_id AND e.tenant_org_id = q.tenant_org_id \
             JOIN service_profiles sp ON sp.id = e.service_profile_id \
             WHERE q.status = 1 AND ((q.kind = 1 AND sp.apply_data_quota) OR \
             (q.kind = 2 AND sp.apply_sms_quota)) AND q.tenant_org_id = "
        ));
        qb.push_bind(tenant).push(" AND q.endpoint_id");
        qb.push_in_ids(backend, endpoints);
        qb.push(" ORDER BY q.endpoint_id, q.kind")
            .push(backend.lock_quota());
        let locked: Vec<Drawable> = qb.build().fetch_all(&mut *tx).await?;
        let mut changed: Vec<(QuotaRow, i64, quota::Drawn)> = Vec::new();
        for Drawable {
            quota: mut q,
            org_id: org,
        } in locked
        {
            if q.status() != QuotaStatus::Active {
                continue;
            }
            let used: f64 = sent
                .get(&(q.endpoint_id, q.kind()))
                .into_iter()
                .flatten()
                .filter(|(at, _)| *at >= q.assigned_at && *at < q.expiry_date)
                .map(|(_, volume)| volume)
                .sum();
            if used <= 0.0 {
                continue;
            }
            let drawn = quota::draw(
                q.volume,
                q.last_volume_added,
                q.threshold_percentage,
                q.threshold_reported,
                used,
            );
            q.volume = drawn.left;
            q.threshold_reported |= drawn.threshold_reached;
            if drawn.used_up {
                q.status = QuotaStatus::Exhausted.id();
            }
            changed.push((q, org, drawn));
        }
        let left: Vec<super::bulk::QuotaLeft> = changed
            .iter()
            .map(|(q, _, _)| super::bulk::QuotaLeft {
                endpoint_id: q.endpoint_id,
                kind: q.kind,
                volume: q.volume,
                threshold_reported: q.threshold_reported,
                status: q.status,
            })
            .collect();
        super::bulk::update_quotas(tx, tenant, &left).await?;
        for (q, org, drawn) in &changed {
            let kind = q.kind();
            if drawn.threshold_reached {
                let words = format!(
                    "{} quota threshold of {}% reached",
                    kind.label(),
                    q.threshold_percentage.unwrap_or(0)
                );
                policy_event(tx, actor, *org, q, kind.threshold_event(), words, true).await?;
            }
            if drawn.used_up {
                let words = format!("{} quota used up", kind.label());
                policy_event(tx, actor, *org, q, kind.used_up_event(), words, true).await?;
            }
        }
    }
    Ok(())
}

/// Drops the endpoint's quota of that kind (under the endpoint's lock).
async fn remove(tx: &mut Tx, ep: &Locked, kind: QuotaKind) -> StoreResult<()> {
    query(
        "DELETE FROM endpoint_quotas WHERE tenant_org_id = $1 AND endpoint_id = $2 AND kind = $3",
    )
    .bind(ep.tenant_org_id)
    .bind(ep.id)
    .bind(kind.id())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

fn no_quota(kind: QuotaKind, endpoint: i64) -> StoreError {
    let word = match kind {
        QuotaKind::Data => "data",
        QuotaKind::Sms => "SMS",
    };
    Rule::Missing(format!("No {word} quota set for endpoint {endpoint}")).into()
}

#[async_trait::async_trait]
impl QuotaStore for SqlStore {
    async fn quota_get(
        &self,
        scope: &Scope,
        endpoint: i64,
        kind: QuotaKind,
    ) -> StoreResult<QuotaRow> {
        let ep = self
            .endpoint_get(scope, endpoint)
            .await?
            .ok_or(StoreError::NotFound)?;
        read(&self.reads, ep.tenant_org_id, endpoint, Some(kind), "")
            .await?
            .pop()
            .ok_or_else(|| no_quota(kind, endpoint))
    }

    async fn quota_set(
        &self,
        scope: &Scope,
        endpoint: i64,
        kind: QuotaKind,
        new: NewQuota,
        actor: &Actor,
    ) -> StoreResult<()> {
        let backend = MetaStore::backend(self);
        let mut tx = self.pool.begin_write().await?;
        let ep: Locked = lock_endpoint(&mut tx, backend, scope, endpoint).await?;
        remove(&mut tx, &ep, kind).await?;
        query(
            "INSERT INTO endpoint_quotas (tenant_org_id, endpoint_id, kind, status, volume, \
             last_volume_added, expiry_date, auto_refill, threshold_percentage, threshold_reported, \
             action, peak_throughput, assigned_at) \
             VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, FALSE, $9, $10, $11)",
        )
        .bind(ep.tenant_org_id)
        .bind(ep.id)
        .bind(kind.id())
        .bind(new.status.id())
        .bind(new.volume)
        .bind(new.expiry_date)
        .bind(i16::from(new.auto_refill))
        .bind(new.threshold_percentage)
        .bind(new.exhaustion.id())
        .bind(new.exhaustion.peak())
        .bind(actor.at)
        .execute(&mut tx)
        .await?;
        let q = read(&mut tx, ep.tenant_org_id, ep.id, Some(kind), "")
            .await?
            .pop()
            .ok_or(StoreError::NotFound)?;
        recorded(
            &mut tx,
            actor,
            &ep,
            kind.assigned_event(),
            kind.assigned_message(new.volume),
            "quota",
            &q.detail(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn quota_delete(
        &self,
        scope: &Scope,
        endpoint: i64,
        kind: QuotaKind,
        actor: &Actor,
    ) -> StoreResult<()> {
        let backend = MetaStore::backend(self);
        let mut tx = self.pool.begin_write().await?;
        let ep = lock_endpoint(&mut tx, backend, scope, endpoint).await?;
        let q = read(&mut tx, ep.tenant_org_id, ep.id, Some(kind), "")
            .await?
            .pop()
            .ok_or_else(|| no_quota(kind, endpoint))?;
        remove(&mut tx, &ep, kind).await?;
        recorded(
            &mut tx,
            actor,
            &ep,
            kind.deleted_event(),
            format!("{} quota deleted", kind.label()),
            "quota",
            &q.detail(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn quota_denial(
        &self,
        scope: &Scope,
        endpoint: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Denial>> {
        let Some(ep) = self.endpoint_get(scope, endpoint).await? else {
            return Ok(None);
        };
        let (data, sms): (bool, bool) =
            query("SELECT apply_data_quota, apply_sms_quota FROM service_profiles WHERE id = $1")
                .bind(ep.service_profile_id)
                .fetch_one(&self.reads)
                .await?;
        if !data && !sms {
            return Ok(Some(Denial::default()));
        }
        let quotas = read(&self.reads, ep.tenant_org_id, endpoint, None, "").await?;
        let state = |kind: QuotaKind| {
            quotas
                .iter()
                .find(|q| q.kind == kind.id())
                .map(|q| (q.clone().as_of(now).status(), q.exhaustion()))
        };
        Ok(Some(Denial {
            data: quota::denies(data, state(QuotaKind::Data)),
            sms: quota::denies(sms, state(QuotaKind::Sms)),
        }))
    }

    async fn quotas_expire(&self, now: DateTime<Utc>, actor: &Actor) -> StoreResult<u64> {
        let due = "q.status <> 3 AND q.expiry_date <= $1";
        self.quota_pass(due, now, actor, |q| {
            if q.status() == QuotaStatus::Expired || q.expiry_date > now {
                return None;
            }
            q.status = QuotaStatus::Expired.id();
            let kind = q.kind();
            Some((
                kind.expired_event(),
                format!("{} quota expired", kind.label()),
            ))
        })
        .await
    }

    async fn quotas_refill(&self, day: DateTime<Utc>, actor: &Actor) -> StoreResult<u64> {
        let due = "q.auto_refill = 1 AND q.status IN (1, 2) AND q.assigned_at < $1 \
                   AND q.expiry_date > $1";
        self.quota_pass(due, day, actor, |q| {
            if !quota::refill_due(
                q.auto_refill == 1,
                q.status(),
                q.assigned_at,
                q.expiry_date,
                day,
            ) {
                return None;
            }
            q.status = QuotaStatus::Active.id();
            q.volume = q.last_volume_added;
            q.threshold_reported = false;
            q.assigned_at = day;
            let kind = q.kind();
            Some((
                kind.assigned_event(),
                kind.assigned_message(q.last_volume_added),
            ))
        })
        .await
    }
}

impl SqlStore {
    /// Changes up to a thousand quotas that `due` (a condition on `q` with `$1` = `at`) selects, each
    /// in a transaction of its own under its row lock: `change` sees it as it is then and answers the
    /// event to write, or None when it is no longer due (another node changed it first). Returns how
    /// many changed.
    async fn quota_pass(
        &self,
        due: &str,
        at: DateTime<Utc>,
        actor: &Actor,
        change: impl Fn(&mut QuotaRow) -> Option<(i32, String)> + Send + Sync,
    ) -> StoreResult<u64> {
        let backend = MetaStore::backend(self);
        let rows: Vec<(i64, i64, i16, i64)> = query(format!(
            "SELECT q.tenant_org_id, q.endpoint_id, q.kind, e.org_id FROM endpoint_quotas q \
             JOIN endpoints e ON e.id = q.endpoint_id AND e.tenant_org_id = q.tenant_org_id \
             WHERE {due} ORDER BY q.tenant_org_id, q.endpoint_id, q.kind LIMIT 1000"
        ))
        .bind(at)
        .fetch_all(&self.pool)
        .await?;
        let mut changed = 0;
        for (tenant, endpoint, kind, org) in rows {
            let Some(kind) = QuotaKind::from_id(kind) else {
                continue;
            };
            let mut tx = self.pool.begin_write().await?;
            let Some(mut q) = read(&mut tx, tenant, endpoint, Some(kind), backend.lock_rows())
                .await?
                .pop()
            else {
                continue;
            };
            let Some((event, words)) = change(&mut q) else {
                continue;
            };
            query(
                "UPDATE endpoint_quotas SET status = $1, volume = $2, threshold_reported = $3, \
                 assigned_at = $4 WHERE tenant_org_id = $5 AND endpoint_id = $6 AND kind = $7",
            )
            .bind(q.status)
            .bind(q.volume)
            .bind(q.threshold_reported)
            .bind(q.assigned_at)
            .bind(tenant)
            .bind(endpoint)
            .bind(kind.id())
            .execute(&mut tx)
            .await?;
            let warning = false;
            policy_event(&mut tx, actor, org, &q, event, words, warning).await?;
            tx.commit().await?;
            changed += 1;
        }
        Ok(changed)
    }
}
