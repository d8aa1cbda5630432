//! Users and the identities authentication resolves to.
use super::db::{query, Builder};
use super::scope::Owner;
use super::*;
use crate::domain::access::Scope;
use crate::domain::ids::EntityRef;

pub(crate) const USER_COLUMNS: &str =
    "id, oid, org_id, email, name, access_level, state, created_at, updated_at";
/// The columns of `Identity`, over `users u JOIN organisations o`.
pub(crate) const IDENTITY_COLUMNS: &str = "u.id AS user_id, u.oid AS user_oid, u.email, u.name, \
     u.access_level, u.state, u.password_hash, o.id AS org_id, o.oid AS org_oid, o.kind AS org_kind, \
     o.path AS org_path, u.tokens_valid_after";

/// `a, b` -> `t.a, t.b`
pub(crate) fn qualified(columns: &str, alias: &str) -> String {
    columns
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How a user is in a scope: by its org (`users u JOIN organisations o`).
const USER: Owner = Owner::Org {
    id: "u.org_id",
    path: "o.path",
};

#[async_trait::async_trait]
impl UserStore for SqlStore {
    async fn user_create(&self, new: NewUser, actor: &Actor) -> StoreResult<User> {
        let mut tx = self.pool.begin_write().await?;
        let user: User = query(format!(
            "INSERT INTO users (oid, org_id, email, name, password_hash, access_level, \
                         state, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, 'ENABLED', $7, $7) RETURNING {}",
            USER_COLUMNS
        ))
        .bind(&new.oid)
        .bind(new.org_id)
        .bind(&new.email)
        .bind(&new.name)
        .bind(&new.password_hash)
        .bind(new.access_level.as_str())
        .bind(actor.at)
        .fetch_one(&mut tx)
        .await?;
        journal::audit(
            &mut tx,
            actor,
            "create",
            "user",
            user.id,
            None::<&User>,
            Some(&user),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    async fn user_find(&self, scope: &Scope, r: &EntityRef) -> StoreResult<Option<User>> {
        let mut qb = Builder::new(format!(
            "SELECT {} FROM users u JOIN organisations o ON o.id = u.org_id WHERE ",
            qualified(USER_COLUMNS, "u")
        ));
        orgs::push_ref(&mut qb, r, "u.");
        scope::push_scope(&mut qb, scope, USER);
        qb.build().fetch_optional(&self.pool).await
    }

    async fn user_list(
        &self,
        scope: &crate::domain::access::Scope,
        org_id: Option<i64>,
        page: crate::domain::paging::Page,
    ) -> StoreResult<(Vec<User>, i64)> {
        let filters = |qb: &mut Builder<'_>| {
            scope::push_scope(qb, scope, USER);
            if let Some(org_id) = org_id {
                qb.push(" AND u.org_id = ").push_bind(org_id);
            }
        };
        let from =
            " FROM users u JOIN organisations o ON o.id = u.org_id WHERE u.state <> 'DELETED'";
        let mut count = Builder::new(format!("SELECT COUNT(*){from}"));
        filters(&mut count);
        let total: i64 = count.build().scalar(&self.pool).await?;
        let mut list = Builder::new(format!("SELECT {}{from}", qualified(USER_COLUMNS, "u")));
        filters(&mut list);
        list.push(" ORDER BY u.id LIMIT ")
            .push_bind(page.limit)
            .push(" OFFSET ")
            .push_bind(page.offset);
        let items = list.build().fetch_all(&self.pool).await?;
        Ok((items, total))
    }

    async fn user_update(
        &self,
        scope: &Scope,
        id: i64,
        patch: UserPatch,
        actor: &Actor,
    ) -> StoreResult<User> {
        let mut tx = self.pool.begin_write().await?;
        // Read under the row lock the update takes anyway: concurrent partial updates all land.
        let mut qb = Builder::new(format!(
            "SELECT {} FROM users u JOIN organisations o ON o.id = u.org_id WHERE u.id = ",
            qualified(USER_COLUMNS, "u")
        ));
        qb.push_bind(id);
        scope::push_scope(&mut qb, scope, USER);
        qb.push(MetaStore::backend(self).lock_user());
        let before: User = qb
            .build()
            .fetch_optional(&mut tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let name = patch.name.unwrap_or_else(|| before.name.clone());
        let level = patch.access_level.unwrap_or(before.access_level);
        let state = patch.state.unwrap_or_else(|| before.state.clone());
        let after: User = query(format!(
            "UPDATE users SET name = $1, access_level = $2, state = $3, \
                     password_hash = COALESCE($4, password_hash), updated_at = $5 WHERE id = $6 \
                     RETURNING {USER_COLUMNS}"
        ))
        .bind(&name)
        .bind(level.as_str())
        .bind(&state)
        .bind(patch.password_hash.as_deref())
        .bind(actor.at)
        .bind(id)
        .fetch_one(&mut tx)
        .await?;
        // A new password, or a user who can no longer log in, ends every session, refresh token
        // and user JWT issued until now, in the same change (API tokens end only when revoked;
        // while the user cannot log in they do not work either).
        if patch.password_hash.is_some() || state != "ENABLED" || !level.can_login() {
            query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL \
                         AND kind IN ('SESSION', 'PERSISTENT')",
            )
            .bind(actor.at)
            .bind(id)
            .execute(&mut tx)
            .await?;
            query("UPDATE users SET tokens_valid_after = $1 WHERE id = $2")
                .bind(actor.at)
                .bind(id)
                .execute(&mut tx)
                .await?;
        }
        journal::audit(
            &mut tx,
            actor,
            "update",
            "user",
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        self.access_changed();
        Ok(after)
    }

    async fn identity_by_email(&self, email: &str) -> StoreResult<Option<Identity>> {
        Ok(query(format!(
            "SELECT {IDENTITY_COLUMNS} FROM users u JOIN organisations o ON o.id = u.org_id WHERE \
                     u.email = $1"
        ))
        .bind(email)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn identity_by_user(&self, user_id: i64) -> StoreResult<Option<Identity>> {
        Ok(query(format!(
            "SELECT {IDENTITY_COLUMNS} FROM users u JOIN organisations o ON o.id = \
                        u.org_id WHERE u.id = $1"
        ))
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn login_failures(
        &self,
        keys: &[String],
        since: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<Vec<(String, chrono::DateTime<chrono::Utc>, i64)>> {
        let mut qb = Builder::new(
            "SELECT key, window_start, CAST(failures AS BIGINT) FROM login_failures \
                        WHERE window_start > ",
        );
        qb.push_bind(since).push(" AND key IN ");
        qb.push_list(keys.iter().map(String::as_str));
        Ok(qb.build().fetch_all(&self.pool).await?)
    }

    async fn login_failed(
        &self,
        keys: &[String],
        at: chrono::DateTime<chrono::Utc>,
        since: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<()> {
        // One statement per key, each atomic: concurrent failures all count.
        for key in keys {
            query(
                "INSERT INTO login_failures (key, window_start, failures) VALUES ($1, $2, 1) \
                         ON CONFLICT (key) DO UPDATE SET \
                         failures = CASE WHEN login_failures.window_start > $3 \
                         THEN login_failures.failures + 1 ELSE 1 END, \
                         window_start = CASE WHEN login_failures.window_start > $3 \
                         THEN login_failures.window_start ELSE $2 END",
            )
            .bind(key)
            .bind(at)
            .bind(since)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    async fn login_failures_expire(
        &self,
        before: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<u64> {
        Ok(query("DELETE FROM login_failures WHERE window_start <= $1")
            .bind(before)
            .execute(&self.pool)
            .await?)
    }
}
