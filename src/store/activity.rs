//! What happens to SIMs over time: their events (listed per SIM, ingested from the network) and their
//! hourly usage buckets.
use super::bulk;
use super::db::{query, Builder};
use super::endpoints;
use super::keys;
use super::scope::{self, Owner};
use super::*;
use crate::domain::access::Scope;

/// Events of one SIM; its own fields (`sim_*`) are filled from the SIM after the read: an event lives
/// under the tenant of its org, which need not be the SIM's (docs/scale-out.md).
pub(crate) const EVENT_SELECT: &str = "SELECT ev.id, ev.ts, ev.org_id, ev.sim_id, \
    ev.endpoint_id, ev.user_id, \
     ev.type_id, ev.source, ev.severity, ev.alert, ev.description, ev.detail, o.name AS org_name, o.path AS org_path, \
     NULL AS sim_iccid, NULL AS sim_imsi, NULL AS sim_production_date, NULL AS sim_created, \
     u.name AS user_name, u.email AS user_email, uo.id AS user_org_id, uo.path AS user_org_path \
     FROM events ev LEFT JOIN organisations o ON o.id = ev.org_id \
     LEFT JOIN users u ON u.id = ev.user_id LEFT JOIN organisations uo ON uo.id = u.org_id";
/// Adds records to the hourly usage of the endpoints they went to, under each endpoint's key.
async fn endpoint_usage(
    tx: &mut super::db::Tx,
    placed: &[((i64, i64), &UsageRecord)],
    actor: &Actor,
) -> StoreResult<()> {
    // (endpoint and its key, hour, traffic type) -> (tx, rx, cost, currency)
    type Key = ((i64, i64), chrono::DateTime<chrono::Utc>, i16);
    type Sums = (f64, f64, f64, String);
    let mut merged: std::collections::BTreeMap<Key, Sums> = Default::default();
    for (endpoint, r) in placed {
        let m = merged
            .entry((*endpoint, r.hour, r.traffic_type))
            .or_insert_with(|| (0.0, 0.0, 0.0, r.currency.clone()));
        (m.0, m.1, m.2) = (m.0 + r.volume_tx, m.1 + r.volume_rx, m.2 + r.cost);
        m.3 = r.currency.clone();
    }
    if merged.is_empty() {
        return Ok(());
    }
    let rows: Vec<bulk::UsageAdd<'_>> = merged
        .iter()
        .map(
            |(((endpoint, tenant), hour, traffic), (tx_, rx, cost, currency))| bulk::UsageAdd {
                key: *endpoint,
                hour: *hour,
                traffic_type: *traffic,
                volume_tx: *tx_,
                volume_rx: *rx,
                cost: *cost,
                currency,
                tenant: *tenant,
            },
        )
        .collect();
    bulk::add_usage(tx, bulk::UsageOf::Endpoints, &rows, actor.at).await?;
    Ok(())
}

/// How an event is in a scope: by its org (`o`, joined by every event read).
const EVENT_ORG: Owner = Owner::Org {
    id: "ev.org_id",
    path: "o.path",
};

#[async_trait::async_trait]
impl ActivityStore for SqlStore {
    async fn events_list(
        &self,
        scope: &Scope,
        subject: EventSubject,
        filters: &[EventCond],
        sort: &[(EventSortKey, bool)],
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<EventRow>, i64)> {
        use EventCond;
        // A SIM or endpoint outside the scope has no events for the caller.
        let subject_of = match subject {
            EventSubject::Sim(id) => {
                if self.held_sim(scope, id).await?.is_none() {
                    return Ok((Vec::new(), 0));
                }
                Some(("ev.sim_id", id))
            }
            EventSubject::Endpoint(id) => {
                if self.endpoint_get(scope, id).await?.is_none() {
                    return Ok((Vec::new(), 0));
                }
                Some(("ev.endpoint_id", id))
            }
            EventSubject::Scope => None,
        };
        let push = |qb: &mut Builder<'_>| {
            match subject_of {
                Some((column, id)) => {
                    qb.push(format!(" WHERE {column} = ")).push_bind(id);
                }
                None => {
                    qb.push(" WHERE 1 = 1");
                    // An org below the platform sees its own tenant's events only: one shard.
                    if let Some(tenant) = endpoints::scope_tenant(scope) {
                        qb.push(" AND ev.tenant_org_id = ").push_bind(tenant);
                    }
                    if !matches!(scope, Scope::All) {
                        qb.push(" AND ev.org_id IS NOT NULL");
                    }
                    scope::push_scope(qb, scope, EVENT_ORG);
                }
            }
            for f in filters {
                match f {
                    EventCond::In(col, values) => {
                        qb.push(format!(" AND ev.{col} IN "));
                        qb.push_list(values.iter().copied());
                    }
                    EventCond::Alert(a) => {
                        qb.push(" AND ev.alert = ").push_bind(*a);
                    }
                    EventCond::Description(text) => {
                        qb.push(" AND LOWER(ev.description) LIKE ")
                            .push_bind(format!("%{}%", like_literal(&text.to_lowercase())))
                            .push(MetaStore::backend(self).like_escape());
                    }
                    EventCond::Between(from, until) => {
                        qb.push(" AND ev.ts >= ")
                            .push_bind(*from)
                            .push(" AND ev.ts <= ")
                            .push_bind(*until);
                    }
                }
            }
        };
        // The scope of the account-wide list is its events' orgs (`o`).
        let mut count = Builder::new(if subject_of.is_some() {
            "SELECT COUNT(*) FROM events ev"
        } else {
            "SELECT COUNT(*) FROM events ev LEFT JOIN organisations o ON o.id = ev.org_id"
        });
        push(&mut count);
        let total: i64 = count.build().scalar(&self.reads).await?;
        if offset >= total {
            // Past the end (Citus would also add a huge offset to the limit it sends each shard).
            return Ok((Vec::new(), total));
        }
        let mut list = Builder::new(EVENT_SELECT);
        let sorts_by = |alias: &str| sort.iter().any(|(k, _)| k.column().starts_with(alias));
        // A SIM's fields while the event's org still holds it (it is in the caller's scope then), a
        // device's (it never leaves its org): never a value of an object the caller cannot see.
        if sorts_by("s.") {
            list.push(
                " LEFT JOIN sims s ON s.id = ev.sim_id AND s.tenant_org_id = ev.tenant_org_id \
                 AND (s.customer_org_id = ev.org_id OR s.reseller_org_id = ev.org_id \
                 OR s.in_storage_at = ev.org_id)",
            );
        }
        if sorts_by("e.") {
            list.push(
                " LEFT JOIN endpoints e ON e.id = ev.endpoint_id \
                 AND e.tenant_org_id = ev.tenant_org_id AND e.org_id = ev.org_id",
            );
        }
        push(&mut list);
        list.push(" ORDER BY ");
        for (key, desc) in sort {
            let (col, dir) = (key.column(), if *desc { "DESC" } else { "ASC" });
            if key.nullable() {
                // Missing values last on both backends (they disagree by default).
                list.push(format!("CASE WHEN {col} IS NULL THEN 1 ELSE 0 END, "));
            }
            list.push(format!("{col} {dir}, "));
        }
        list.push("ev.id DESC LIMIT ")
            .push_bind(limit)
            .push(" OFFSET ")
            .push_bind(offset);
        let mut rows: Vec<EventRow> = list.build().fetch_all(&self.reads).await?;
        // Each SIM's own fields, read once from the SIM: only for SIMs the caller sees now (an
        // endpoint's history may name a SIM that has since gone to another tenant).
        let mut sims: std::collections::HashMap<i64, Option<HeldSim>> = Default::default();
        for row in &mut rows {
            let Some(sim_id) = row.sim_id else { continue };
            if let std::collections::hash_map::Entry::Vacant(e) = sims.entry(sim_id) {
                e.insert(self.held_sim(scope, sim_id).await?);
            }
            if let Some(Some(sim)) = sims.get(&sim_id) {
                (row.sim_iccid, row.sim_imsi) = (Some(sim.0.clone()), sim.1.clone());
                (row.sim_production_date, row.sim_created) = (sim.2, Some(sim.3));
            }
        }
        Ok((rows, total))
    }

    async fn sim_ids_by_iccid(&self, iccids: &[String]) -> StoreResult<Vec<(String, i64)>> {
        let mut out = Vec::new();
        for chunk in iccids.chunks(sims::INSERT_CHUNK) {
            let mut qb = Builder::new("SELECT iccid, id FROM sims WHERE iccid IN ");
            qb.push_list(chunk.iter().map(String::as_str));
            out.extend(qb.build().fetch_all::<(String, i64)>(&self.pool).await?);
        }
        Ok(out)
    }

    async fn sims_exist(&self, ids: &[i64]) -> StoreResult<Vec<i64>> {
        let mut qb = Builder::new("SELECT id FROM sims WHERE id");
        qb.push_in_ids(MetaStore::backend(self), ids.iter().copied());
        qb.build().scalars::<i64>(&self.pool).await
    }

    async fn usage_ingest(&self, records: &[UsageRecord], actor: &Actor) -> StoreResult<()> {
        // One row per bucket: a statement may not upsert the same key twice.
        let mut merged: std::collections::BTreeMap<
            (i64, chrono::DateTime<chrono::Utc>, i16),
            UsageRecord,
        > = std::collections::BTreeMap::new();
        for r in records {
            merged
                .entry((r.sim_id, r.hour, r.traffic_type))
                .and_modify(|m| {
                    m.volume_tx += r.volume_tx;
                    m.volume_rx += r.volume_rx;
                    m.cost += r.cost;
                    m.currency = r.currency.clone();
                })
                .or_insert_with(|| r.clone());
        }
        let merged: Vec<UsageRecord> = merged.into_values().collect();
        let mut tx = self.pool.begin_write().await?;
        // Usage is kept under its SIM's key at ingest.
        let tenants = keys::of_many(&mut tx, "sims", merged.iter().map(|r| r.sim_id)).await?;
        let rows: Vec<bulk::UsageAdd<'_>> = merged
            .iter()
            .map(|r| bulk::UsageAdd {
                key: r.sim_id,
                hour: r.hour,
                traffic_type: r.traffic_type,
                volume_tx: r.volume_tx,
                volume_rx: r.volume_rx,
                cost: r.cost,
                currency: &r.currency,
                tenant: tenants
                    .get(&r.sim_id)
                    .copied()
                    .flatten()
                    .unwrap_or(keys::CENTRAL),
            })
            .collect();
        bulk::add_usage(&mut tx, bulk::UsageOf::Sims, &rows, actor.at).await?;
        // Each record goes to the endpoint its SIM was in at its time, if any: that endpoint's hourly
        // usage, then its quotas.
        let stays = endpoints::stays(&mut tx, records.iter().map(|r| r.sim_id)).await?;
        let placed: Vec<((i64, i64), &UsageRecord)> = records
            .iter()
            .filter_map(|r| Some((stays.keyed_at(r.sim_id, r.at)?, r)))
            .collect();
        endpoint_usage(&mut tx, &placed, actor).await?;
        super::quotas::draw(&mut tx, MetaStore::backend(self), &placed, actor).await?;
        journal::audit(
            &mut tx,
            actor,
            "ingest",
            "usage",
            "usage",
            None::<&()>,
            Some(&serde_json::json!({"records": records.len()})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn events_ingest(&self, events: &[NewEvent], actor: &Actor) -> StoreResult<()> {
        let mut tx = self.pool.begin_write().await?;
        let tenants = keys::of_many(
            &mut tx,
            "organisations",
            events.iter().filter_map(|e| e.org_id),
        )
        .await?;
        // Each event goes to the endpoint its SIM was in at the event's time.
        let stays = endpoints::stays(&mut tx, events.iter().map(|e| e.sim_id)).await?;
        for chunk in events.chunks(sims::INSERT_CHUNK) {
            let mut qb = Builder::new(
                "INSERT INTO events (ts, org_id, sim_id, endpoint_id, type_id, source, severity, \
                         alert, description, detail, tenant_org_id) ",
            );
            qb.push_values(chunk, |b, e| {
                b.push_bind(e.ts)
                    .push_bind(e.org_id)
                    .push_bind(e.sim_id)
                    .push_bind(stays.at(e.sim_id, e.ts))
                    .push_bind(e.type_id)
                    .push_bind(crate::domain::events::SOURCE_NETWORK)
                    .push_bind(e.severity)
                    .push_bind(e.severity >= crate::domain::events::SEVERITY_CRITICAL)
                    .push_bind(&e.description)
                    .push_bind(e.detail.as_ref().map(sqlx::types::Json))
                    .push_bind(
                        e.org_id
                            .and_then(|o| tenants.get(&o).copied().flatten())
                            .unwrap_or(keys::CENTRAL),
                    );
            });
            qb.build().execute(&mut tx).await?;
        }
        journal::audit(
            &mut tx,
            actor,
            "ingest",
            "event",
            "events",
            None::<&()>,
            Some(&serde_json::json!({"events": events.len()})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn usage_rows(
        &self,
        scope: &Scope,
        sim_id: i64,
        from: chrono::DateTime<chrono::Utc>,
        until: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<Option<Vec<UsageRow>>> {
        if self.held_sim(scope, sim_id).await?.is_none() {
            return Ok(None);
        }
        let rows: Vec<BucketRow> = query(
            // A SIM that changed tenant within an hour has that bucket under both keys.
            "SELECT hour, traffic_type, SUM(volume_tx), SUM(volume_rx), SUM(cost), MAX(currency), \
                        MAX(updated_at) FROM usage_hourly \
                     WHERE sim_id = $1 AND hour >= $2 AND hour < $3 \
                     GROUP BY hour, traffic_type ORDER BY hour, traffic_type",
        )
        .bind(sim_id)
        .bind(from)
        .bind(until)
        .fetch_all(&self.reads)
        .await?;
        Ok(Some(buckets(rows)))
    }

    async fn endpoint_usage_rows(
        &self,
        scope: &Scope,
        endpoint: i64,
        from: chrono::DateTime<chrono::Utc>,
        until: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<Option<Vec<UsageRow>>> {
        let Some(ep) = self.endpoint_get(scope, endpoint).await? else {
            return Ok(None);
        };
        let rows: Vec<BucketRow> = query(
            "SELECT hour, traffic_type, volume_tx, volume_rx, cost, currency, updated_at \
             FROM usage_endpoint_hourly WHERE tenant_org_id = $1 AND endpoint_id = $2 \
             AND hour >= $3 AND hour < $4 ORDER BY hour, traffic_type",
        )
        .bind(ep.tenant_org_id)
        .bind(endpoint)
        .bind(from)
        .bind(until)
        .fetch_all(&self.reads)
        .await?;
        Ok(Some(buckets(rows)))
    }
}

/// An hourly bucket as read: hour, traffic type, volumes, cost, currency, when last added to.
type BucketRow = (
    chrono::DateTime<chrono::Utc>,
    i16,
    f64,
    f64,
    f64,
    String,
    chrono::DateTime<chrono::Utc>,
);

fn buckets(rows: Vec<BucketRow>) -> Vec<UsageRow> {
    rows.into_iter()
        .map(
            |(hour, traffic_type, volume_tx, volume_rx, cost, currency, updated_at)| {
                crate::domain::usage::Bucket {
                    hour,
                    traffic_type,
                    volume_tx,
                    volume_rx,
                    cost,
                    currency,
                    updated_at,
                }
            },
        )
        .collect()
}

/// A SIM's ICC, IMSI, production date and creation time.
type HeldSim = (
    String,
    Option<String>,
    Option<chrono::NaiveDate>,
    chrono::DateTime<chrono::Utc>,
);

impl SqlStore {
    /// The (not deleted) SIM, when the scope holds it.
    async fn held_sim(&self, scope: &Scope, sim_id: i64) -> StoreResult<Option<HeldSim>> {
        let mut qb = Builder::new(
            "SELECT s.iccid, s.imsi, s.production_date, s.created_at FROM sims s \
             WHERE s.status <> 3 AND s.id = ",
        );
        qb.push_bind(sim_id);
        scope::push_scope(&mut qb, scope, Owner::Sim { narrowed: false });
        qb.build().fetch_optional(&self.reads).await
    }
}
