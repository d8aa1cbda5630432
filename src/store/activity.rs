//! What happens to SIMs over time: their events (listed per SIM, ingested from the network) and their
//! hourly usage buckets.
use super::db::{query, Builder};
use super::scope::{self, Owner};
use super::*;
use crate::domain::access::Scope;

pub(crate) const EVENT_SELECT: &str = "SELECT ev.id, ev.ts, ev.org_id, ev.sim_id, \
    ev.endpoint_id, ev.user_id, \
     ev.type_id, ev.source, ev.severity, ev.alert, ev.description, ev.detail, o.name AS org_name, o.path AS org_path, \
     s.iccid AS sim_iccid, s.imsi AS sim_imsi, s.production_date AS sim_production_date, s.created_at AS sim_created, \
     u.name AS user_name, u.email AS user_email, uo.id AS user_org_id, uo.path AS user_org_path \
     FROM events ev LEFT JOIN organisations o ON o.id = ev.org_id LEFT JOIN sims s ON s.id = ev.sim_id \
     LEFT JOIN users u ON u.id = ev.user_id LEFT JOIN organisations uo ON uo.id = u.org_id";
#[async_trait::async_trait]
impl ActivityStore for SqlStore {
    async fn events_list(
        &self,
        scope: &Scope,
        sim_id: i64,
        filters: &[EventCond],
        sort: &[(EventSortKey, bool)],
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<EventRow>, i64)> {
        use EventCond;
        let push = |qb: &mut Builder<'_>| {
            qb.push(" WHERE ev.sim_id = ").push_bind(sim_id);
            // A SIM outside the scope has no events for the caller.
            qb.push(" AND EXISTS (SELECT 1 FROM sims s WHERE s.id = ev.sim_id AND s.status <> 3");
            scope::push_scope(qb, scope, Owner::Sim { narrowed: false });
            qb.push(")");
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
                            .push(self.pool.backend().like_escape());
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
        let mut count = Builder::new("SELECT COUNT(*) FROM events ev");
        push(&mut count);
        let total: i64 = count.build().scalar(&self.reads).await?;
        let mut list = Builder::new(EVENT_SELECT);
        push(&mut list);
        list.push(" ORDER BY ");
        for (key, desc) in sort {
            list.push(format!(
                "ev.{} {}, ",
                key.column(),
                if *desc { "DESC" } else { "ASC" }
            ));
        }
        list.push("ev.id DESC LIMIT ")
            .push_bind(limit)
            .push(" OFFSET ")
            .push_bind(offset);
        Ok((list.build().fetch_all(&self.reads).await?, total))
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
        let mut out = Vec::new();
        for chunk in ids.chunks(sims::INSERT_CHUNK) {
            let mut qb = Builder::new("SELECT id FROM sims WHERE id IN ");
            qb.push_list(chunk.iter().copied());
            out.extend(qb.build().scalars::<i64>(&self.pool).await?);
        }
        Ok(out)
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
        for chunk in merged.chunks(sims::INSERT_CHUNK) {
            let mut qb = Builder::new(
                "INSERT INTO usage_hourly (sim_id, hour, traffic_type, volume_tx, \
                            volume_rx, cost, \
                         currency, updated_at) ",
            );
            qb.push_values(chunk, |b, r| {
                b.push_bind(r.sim_id)
                    .push_bind(r.hour)
                    .push_bind(r.traffic_type)
                    .push_bind(r.volume_tx)
                    .push_bind(r.volume_rx)
                    .push_bind(r.cost)
                    .push_bind(&r.currency)
                    .push_bind(actor.at);
            });
            qb.push(
                " ON CONFLICT (sim_id, hour, traffic_type) DO UPDATE SET \
                         volume_tx = usage_hourly.volume_tx + excluded.volume_tx, \
                         volume_rx = usage_hourly.volume_rx + excluded.volume_rx, \
                         cost = usage_hourly.cost + excluded.cost, \
                         currency = excluded.currency, updated_at = excluded.updated_at",
            );
            qb.build().execute(&mut tx).await?;
        }
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
        for chunk in events.chunks(sims::INSERT_CHUNK) {
            let mut qb = Builder::new(
                "INSERT INTO events (ts, org_id, sim_id, type_id, source, severity, alert, \
                         description, detail) ",
            );
            qb.push_values(chunk, |b, e| {
                b.push_bind(e.ts)
                    .push_bind(e.org_id)
                    .push_bind(e.sim_id)
                    .push_bind(e.type_id)
                    .push_bind(crate::domain::events::SOURCE_NETWORK)
                    .push_bind(e.severity)
                    .push_bind(e.severity >= crate::domain::events::SEVERITY_CRITICAL)
                    .push_bind(&e.description)
                    .push_bind(e.detail.as_ref().map(sqlx::types::Json));
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
        if !self.holds_sim(scope, sim_id).await? {
            return Ok(None);
        }
        type Row = (
            chrono::DateTime<chrono::Utc>,
            i16,
            f64,
            f64,
            f64,
            String,
            chrono::DateTime<chrono::Utc>,
        );
        let rows: Vec<Row> = query(
            "SELECT hour, traffic_type, volume_tx, volume_rx, cost, currency, \
                        updated_at FROM usage_hourly \
                     WHERE sim_id = $1 AND hour >= $2 AND hour < $3 ORDER BY hour",
        )
        .bind(sim_id)
        .bind(from)
        .bind(until)
        .fetch_all(&self.reads)
        .await?;
        Ok(Some(
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
                .collect(),
        ))
    }
}

impl SqlStore {
    /// Whether the scope holds the (not deleted) SIM.
    async fn holds_sim(&self, scope: &Scope, sim_id: i64) -> StoreResult<bool> {
        let mut qb = Builder::new("SELECT s.id FROM sims s WHERE s.status <> 3 AND s.id = ");
        qb.push_bind(sim_id);
        scope::push_scope(&mut qb, scope, Owner::Sim { narrowed: false });
        Ok(qb
            .build()
            .scalar_optional::<i64>(&self.reads)
            .await?
            .is_some())
    }
}
