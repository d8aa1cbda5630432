//! API tokens: sessions, persistent logins and application tokens, stored as SHA-256 hashes.
use super::db::{query, Builder};
use super::*;

pub(crate) const TOKEN_COLUMNS: &str =
    "id, user_id, label, kind, created_at, expires_at, last_used_at, revoked_at";

#[async_trait::async_trait]
impl TokenStore for SqlStore {
    async fn token_create(&self, new: NewToken, actor: &Actor) -> StoreResult<Token> {
        let mut tx = self.pool.begin_write().await?;
        let token: Token = query(format!(
            "INSERT INTO api_tokens (user_id, token_hash, label, kind, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING {TOKEN_COLUMNS}"
        ))
        .bind(new.user_id)
        .bind(&new.token_hash)
        .bind(&new.label)
        .bind(new.kind.as_str())
        .bind(actor.at)
        .bind(new.expires_at)
        .fetch_one(&mut tx)
        .await?;
        journal::audit(
            &mut tx,
            actor,
            "create",
            "api_token",
            token.id,
            None::<&Token>,
            Some(&token),
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    async fn token_get(&self, id: i64) -> StoreResult<Option<Token>> {
        Ok(query(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<TokenIdentity>> {
        use users::{qualified, IDENTITY_COLUMNS};
        Ok(query(format!(
            "SELECT {IDENTITY_COLUMNS}, {} FROM api_tokens t JOIN users u ON u.id = t.user_id \
                     JOIN organisations o ON o.id = u.org_id WHERE t.token_hash = $1",
            qualified(TOKEN_COLUMNS, "t")
        ))
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn token_touch(
        &self,
        id: i64,
        at: chrono::DateTime<chrono::Utc>,
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> StoreResult<()> {
        query(
            "UPDATE api_tokens SET last_used_at = $1, expires_at = COALESCE($2, expires_at) \
            WHERE id = $3",
        )
        .bind(at)
        .bind(expires_at)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn token_revoke(
        &self,
        user_id: i64,
        key: TokenKey<'_>,
        actor: &Actor,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin_write().await?;
        let mut qb = Builder::new("UPDATE api_tokens SET revoked_at = ");
        qb.push_bind(actor.at);
        qb.push(" WHERE user_id = ").push_bind(user_id);
        match key {
            TokenKey::Id(id) => qb.push(" AND id = ").push_bind(id),
            TokenKey::Hash(hash) => qb.push(" AND token_hash = ").push_bind(hash),
        };
        qb.push(" AND revoked_at IS NULL RETURNING id");
        let revoked: Option<i64> = qb.build().scalar_optional(&mut tx).await?;
        if let Some(id) = revoked {
            journal::audit(
                &mut tx,
                actor,
                "revoke",
                "api_token",
                id,
                None::<&()>,
                None::<&()>,
            )
            .await?;
        }
        tx.commit().await?;
        self.access_changed();
        Ok(revoked.is_some())
    }

    async fn token_revoke_sessions(&self, user_id: i64, actor: &Actor) -> StoreResult<u64> {
        let mut tx = self.pool.begin_write().await?;
        let n = query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL \
                     AND kind IN ('SESSION', 'PERSISTENT')",
        )
        .bind(actor.at)
        .bind(user_id)
        .execute(&mut tx)
        .await?;
        journal::audit(
            &mut tx,
            actor,
            "logout",
            "user",
            user_id,
            None::<&()>,
            Some(&serde_json::json!({"revoked": n})),
        )
        .await?;
        tx.commit().await?;
        self.access_changed();
        Ok(n)
    }

    async fn token_list(&self, user_id: i64) -> StoreResult<Vec<Token>> {
        Ok(query(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 AND kind = \
                        'APPLICATION' ORDER BY id"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?)
    }
}
