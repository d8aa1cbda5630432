//! SQL helpers every area uses: literal LIKE patterns, the row lock clause, and the audit, event and
//! scope-filter macros.

/// A LIKE pattern that matches `text` literally (`%`, `_` and `\` escaped with `\`).
pub(crate) fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The ESCAPE clause that makes `\` the LIKE escape: Postgres has it by default (and plans prefix
/// patterns through indexes only without an explicit clause); SQLite has no default.
pub(crate) trait LikeEscape {
    const ESCAPE: &'static str;
}
impl LikeEscape for sqlx::Postgres {
    const ESCAPE: &'static str = "";
}
impl LikeEscape for sqlx::Sqlite {
    const ESCAPE: &'static str = " ESCAPE '\\'";
}

/// The row lock of a read-modify-write: `FOR UPDATE` on Postgres; SQLite has none and needs none
/// (a write transaction there is IMMEDIATE: it holds the database's one write lock from its start).
pub(crate) trait RowLock {
    const FOR_UPDATE: &'static str;
}
impl RowLock for sqlx::Postgres {
    const FOR_UPDATE: &'static str = " FOR UPDATE";
}
impl RowLock for sqlx::Sqlite {
    const FOR_UPDATE: &'static str = "";
}

/// Writes the audit row of a mutation inside its transaction.
macro_rules! audit {
    ($tx:expr, $actor:expr, $action:expr, $entity:expr, $entity_id:expr, $before:expr, $after:expr) => {{
        let before: Option<serde_json::Value> = $before.map(|b| serde_json::to_value(b).unwrap_or_default());
        let after: Option<serde_json::Value> = $after.map(|a| serde_json::to_value(a).unwrap_or_default());
        sqlx::query(
            "INSERT INTO audit_log (ts, actor_user_id, actor_org_id, action, entity, entity_id, before, after, request_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind($actor.at)
        .bind($actor.user_id)
        .bind($actor.org_id)
        .bind($action)
        .bind($entity)
        .bind($entity_id.to_string())
        .bind(before.map(sqlx::types::Json))
        .bind(after.map(sqlx::types::Json))
        .bind($actor.request_id.as_deref())
        .execute(&mut *$tx)
        .await?;
    }};
}

/// Writes an event (source API, severity info) inside the transaction of the change it records.
macro_rules! write_event {
    ($tx:expr, $actor:expr, $org:expr, $sim:expr, $type_id:expr, $description:expr, $detail:expr) => {{
        sqlx::query(
            "INSERT INTO events (ts, org_id, sim_id, user_id, type_id, source, severity, alert, description, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind($actor.at)
        .bind($org)
        .bind($sim)
        .bind($actor.user_id)
        .bind($type_id)
        .bind(crate::domain::events::SOURCE_API)
        .bind(crate::domain::events::SEVERITY_INFO)
        .bind(false)
        .bind($description)
        .bind($detail.map(sqlx::types::Json))
        .execute(&mut *$tx)
        .await?;
    }};
}

/// Appends the scope filter for a column holding an org's path.
macro_rules! push_scope {
    ($qb:expr, $scope:expr, $org_id_col:expr, $path_col:expr) => {{
        match $scope {
            crate::domain::access::Scope::All => {}
            crate::domain::access::Scope::Subtree { path, .. } => {
                let (lo, hi) = crate::domain::org::subtree_range(path);
                $qb.push(concat!(" AND ", $path_col, " >= ")).push_bind(lo);
                $qb.push(concat!(" AND ", $path_col, " < ")).push_bind(hi);
            }
            crate::domain::access::Scope::Org { org_id } => {
                $qb.push(concat!(" AND ", $org_id_col, " = "))
                    .push_bind(*org_id);
            }
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_literally() {
        assert_eq!(like_literal("a%b_c\\d"), "a\\%b\\_c\\\\d");
        assert_eq!(like_literal("4512"), "4512");
    }
}
