//! Idempotency keys: who ran which request under which key, and what it answered.
use super::db::query;
use super::*;

#[async_trait::async_trait]
impl IdempotencyStore for SqlStore {
    async fn idempotency_claim(&self, claim: &IdempotencyClaim<'_>) -> StoreResult<Claimed> {
        use {Claimed, StoredAnswer};
        let mut tx = self.pool.begin_write().await?;
        // A new key, or one whose answer has expired or whose run was abandoned (its node
        // died), is ours; otherwise the row stays as it is, locked until we read it.
        let ours: Option<(i64,)> = query(
                    "INSERT INTO idempotency_keys (user_id, key_hash, fingerprint, created_at) \
                     VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (user_id, key_hash) DO UPDATE SET fingerprint = excluded.fingerprint, \
                     created_at = excluded.created_at, status = NULL, headers = NULL, body = NULL \
                     WHERE idempotency_keys.created_at <= $5 \
                     OR (idempotency_keys.status IS NULL AND idempotency_keys.created_at <= $6) \
                     RETURNING user_id",
                )
                .bind(claim.user_id)
                .bind(claim.key_hash)
                .bind(claim.fingerprint)
                .bind(claim.at)
                .bind(claim.expired_before)
                .bind(claim.abandoned_before)
                .fetch_optional(&mut tx)
                .await?;
        let claimed = if ours.is_some() {
            Claimed::Started
        } else {
            let (fingerprint, status, headers, body): (
                String,
                Option<i32>,
                Option<String>,
                Option<Vec<u8>>,
            ) = query(
                "SELECT fingerprint, status, headers, body FROM idempotency_keys \
                             WHERE user_id = $1 AND key_hash = $2",
            )
            .bind(claim.user_id)
            .bind(claim.key_hash)
            .fetch_one(&mut tx)
            .await?;
            match status {
                _ if fingerprint != claim.fingerprint => Claimed::Mismatch,
                None => Claimed::Running,
                Some(status) => Claimed::Done(StoredAnswer {
                    status,
                    headers: headers.unwrap_or_default(),
                    body: body.unwrap_or_default(),
                }),
            }
        };
        tx.commit().await?;
        Ok(claimed)
    }

    async fn idempotency_finish(
        &self,
        user_id: i64,
        key_hash: &str,
        answer: Option<&StoredAnswer>,
    ) -> StoreResult<()> {
        let q = match answer {
            Some(a) => query(
                "UPDATE idempotency_keys SET status = $3, headers = $4, body = $5 \
                         WHERE user_id = $1 AND key_hash = $2 AND status IS NULL",
            )
            .bind(user_id)
            .bind(key_hash)
            .bind(a.status)
            .bind(&a.headers)
            .bind(&a.body),
            None => query(
                "DELETE FROM idempotency_keys WHERE user_id = $1 AND key_hash = $2 \
                            AND status IS NULL",
            )
            .bind(user_id)
            .bind(key_hash),
        };
        q.execute(&self.pool).await?;
        Ok(())
    }

    async fn idempotency_expire(&self, before: chrono::DateTime<chrono::Utc>) -> StoreResult<u64> {
        Ok(query("DELETE FROM idempotency_keys WHERE created_at <= $1")
            .bind(before)
            .execute(&self.pool)
            .await?)
    }
}
