//! What a delivery gateway does with endpoints' SMS (spec/emnify-endpoints.md §5, §8): takes the
//! waiting ones, reports their delivery, hands in mobile-originated ones; and the job that expires
//! SMS past their expiry date.
//!
//! Locks: each report or expiry locks its SMS row alone (routed by the SMS's key); an MO SMS is
//! written under its endpoint's lock, as a submission is.
use super::db::{query, Builder, Tx};
use super::journal::{self, About};
use super::*;
use crate::domain::error::Rule;
use crate::domain::events::{SMS_RECEIVED, SMS_STATUS_CHANGED};
use crate::domain::sms::{SmsStatus, MO, MT};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

/// An MT SMS a gateway may deliver now, with the SIM it goes to.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct GatewaySms {
    pub id: i64,
    pub endpoint_id: i64,
    pub status: i16,
    pub submit_date: DateTime<Utc>,
    pub expiry_date: DateTime<Utc>,
    pub source_address: Option<String>,
    pub source_address_type: Option<i16>,
    pub payload: String,
    pub udh: Option<String>,
    pub dcs: i32,
    pub sim_id: i64,
    pub iccid: String,
    pub imsi: Option<String>,
    pub msisdn: Option<String>,
}

/// A delivery report.
#[derive(Debug, Clone)]
pub struct SmsReport {
    pub sms_id: i64,
    pub status: SmsStatus,
    pub at: DateTime<Utc>,
    pub gsm_map_error: Option<i32>,
}

/// A mobile-originated SMS from a SIM.
#[derive(Debug, Clone)]
pub struct NewMo {
    pub sim_id: i64,
    pub at: DateTime<Utc>,
    pub payload: String,
    pub destination_address: Option<String>,
    pub dcs: i32,
    pub udh: Option<String>,
}

/// The SMS's key, status and endpoint org, read under its row lock.
async fn lock_sms(
    tx: &mut Tx,
    backend: Backend,
    id: i64,
) -> StoreResult<Option<(i64, i64, i16, i16, i64)>> {
    let Some(tenant): Option<i64> = query("SELECT tenant_org_id FROM sms WHERE id = $1")
        .bind(id)
        .scalar_optional(&mut *tx)
        .await?
    else {
        return Ok(None);
    };
    let row: Option<(i64, i64, i16, i16)> = query(format!(
        "SELECT tenant_org_id, endpoint_id, sms_type, status FROM sms \
         WHERE id = $1 AND tenant_org_id = $2{}",
        backend.lock_rows()
    ))
    .bind(id)
    .bind(tenant)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((tenant, endpoint, sms_type, status)) = row else {
        return Ok(None);
    };
    let org: i64 = query("SELECT org_id FROM endpoints WHERE id = $1 AND tenant_org_id = $2")
        .bind(endpoint)
        .bind(tenant)
        .scalar(&mut *tx)
        .await?;
    Ok(Some((tenant, endpoint, sms_type, status, org)))
}

/// Event 1014 of a move to a final status.
async fn finished(
    tx: &mut Tx,
    actor: &Actor,
    org: i64,
    endpoint: i64,
    sms: i64,
    from: SmsStatus,
    to: SmsStatus,
) -> StoreResult<()> {
    let about = About {
        org_id: Some(org),
        endpoint_id: Some(endpoint),
        sim_id: None,
    };
    let detail = json!({"sms_id": sms, "from": from.id(), "to": to.id()});
    journal::write_event(
        tx,
        actor,
        about,
        journal::API_INFO,
        SMS_STATUS_CHANGED,
        format!("SMS {sms} {}", to.description()),
        Some(&detail),
    )
    .await
}

#[async_trait::async_trait]
impl SmsGatewayStore for SqlStore {
    async fn sms_waiting(&self, limit: i64) -> StoreResult<Vec<GatewaySms>> {
        let mut qb = Builder::new(
            "SELECT m.id, m.endpoint_id, m.status, m.submit_date, m.expiry_date, m.source_address, \
             m.source_address_type, m.payload, m.udh, m.dcs, s.id AS sim_id, s.iccid, s.imsi, s.msisdn \
             FROM sms m JOIN sims s ON s.tenant_org_id = m.tenant_org_id AND s.endpoint_id = m.endpoint_id \
             WHERE m.sms_type = ",
        );
        qb.push_bind(MT)
            .push(" AND m.status IN (1, 3) ORDER BY m.submit_date, m.id LIMIT ")
            .push_bind(limit);
        qb.build().fetch_all(&self.reads).await
    }

    async fn sms_report(&self, report: &SmsReport, actor: &Actor) -> StoreResult<()> {
        let backend = MetaStore::backend(self);
        let mut tx = self.pool.begin_write().await?;
        let Some((tenant, endpoint, sms_type, status, org)) =
            lock_sms(&mut tx, backend, report.sms_id).await?
        else {
            return Err(Rule::Missing(format!("SMS {} not found", report.sms_id)).into());
        };
        let from = SmsStatus::from_id(i64::from(status)).unwrap_or(SmsStatus::Pending);
        if sms_type != MT || !from.may_report(report.status) {
            return Err(Rule::Held(format!(
                "SMS {} cannot move from '{}' to '{}'",
                report.sms_id,
                from.description(),
                report.status.description()
            ))
            .into());
        }
        let to = report.status;
        // The SIM the gateway took it to: the endpoint's now.
        let sim: Option<i64> =
            query("SELECT id FROM sims WHERE tenant_org_id = $1 AND endpoint_id = $2")
                .bind(tenant)
                .bind(endpoint)
                .scalar_optional(&mut tx)
                .await?;
        query(
            "UPDATE sms SET status = $1, last_delivery_attempt = $2, \
             retry_count = retry_count + $3, gsm_map_error = COALESCE($4, gsm_map_error), \
             delivery_date = CASE WHEN $1 = 4 THEN $2 ELSE delivery_date END, \
             final_date = CASE WHEN $1 IN (4, 5) THEN $2 ELSE final_date END, \
             sim_id = COALESCE(sim_id, $5) WHERE id = $6 AND tenant_org_id = $7",
        )
        .bind(to.id())
        .bind(report.at)
        .bind(i32::from(to == SmsStatus::Buffered))
        .bind(report.gsm_map_error)
        .bind(sim)
        .bind(report.sms_id)
        .bind(tenant)
        .execute(&mut tx)
        .await?;
        if to.is_final() {
            finished(&mut tx, actor, org, endpoint, report.sms_id, from, to).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn sms_receive(&self, mo: &NewMo, actor: &Actor) -> StoreResult<i64> {
        let backend = MetaStore::backend(self);
        let mut tx = self.pool.begin_write().await?;
        // The endpoint the SIM was in when it sent the SMS.
        let stays = endpoints::stays(&mut tx, std::iter::once(mo.sim_id)).await?;
        let endpoint = stays.at(mo.sim_id, mo.at).ok_or_else(|| {
            StoreError::from(Rule::Missing(format!(
                "SIM {} was in no endpoint at that time",
                mo.sim_id
            )))
        })?;
        let ep = endpoints::lock_endpoint(
            &mut tx,
            backend,
            &crate::domain::access::Scope::All,
            endpoint,
        )
        .await?;
        let id: i64 = query(
            "INSERT INTO sms (tenant_org_id, endpoint_id, sim_id, sms_type, status, submit_date, \
             expiry_date, delivery_date, final_date, destination_address, payload, udh, dcs) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $6, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(ep.tenant_org_id)
        .bind(ep.id)
        .bind(mo.sim_id)
        .bind(MO)
        .bind(SmsStatus::Delivered.id())
        .bind(mo.at)
        .bind(&mo.destination_address)
        .bind(&mo.payload)
        .bind(&mo.udh)
        .bind(mo.dcs)
        .scalar(&mut tx)
        .await?;
        let about = About {
            org_id: Some(ep.org_id),
            endpoint_id: Some(ep.id),
            sim_id: Some(mo.sim_id),
        };
        journal::write_event(
            &mut tx,
            actor,
            about,
            journal::API_INFO,
            SMS_RECEIVED,
            format!("SMS {id} received from SIM {}", mo.sim_id),
            Some(&json!({"sms_id": id})),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn sms_expire(&self, now: DateTime<Utc>, actor: &Actor) -> StoreResult<u64> {
        let backend = MetaStore::backend(self);
        let due: Vec<i64> = query(
            "SELECT id FROM sms WHERE status IN (1, 2, 3) AND expiry_date <= $1 \
             ORDER BY expiry_date, id LIMIT 1000",
        )
        .bind(now)
        .scalars(&self.pool)
        .await?;
        let mut expired = 0;
        for id in due {
            let mut tx = self.pool.begin_write().await?;
            let Some((tenant, endpoint, _, status, org)) = lock_sms(&mut tx, backend, id).await?
            else {
                continue;
            };
            let from = SmsStatus::from_id(i64::from(status)).unwrap_or(SmsStatus::Pending);
            if from.is_final() {
                continue;
            }
            query(
                "UPDATE sms SET status = 6, final_date = $1 WHERE id = $2 AND tenant_org_id = $3",
            )
            .bind(now)
            .bind(id)
            .bind(tenant)
            .execute(&mut tx)
            .await?;
            finished(&mut tx, actor, org, endpoint, id, from, SmsStatus::Expired).await?;
            tx.commit().await?;
            expired += 1;
        }
        Ok(expired)
    }
}
