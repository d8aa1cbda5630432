//! The store's errors, and how a database error becomes one: contention (run again), a lost
//! connection (503, a read may be retried), a named constraint (a client error).
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    /// A business rule refused the change inside its transaction.
    #[error("rejected: {0}")]
    Rule(#[from] crate::domain::error::Rule),
    /// The database cannot serve now: down, unreachable, a connection lost mid-request, no free
    /// connection within the acquire time-out, a statement time-out. `lost`: a connection failed (a
    /// read may be tried once more on a fresh one).
    #[error("database unavailable: {cause}")]
    Unavailable { cause: String, lost: bool },
    /// The transaction lost a race with another (Postgres serialization failure or deadlock, SQLite
    /// busy): nothing was written, and the same transaction may simply run again.
    #[error("transaction conflict: {0}")]
    Contention(String),
    #[error("database error: {0}")]
    Database(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// When a query last failed because its connection was gone (the database restarted or dropped it),
/// in Unix milliseconds. Connections are not pinged before use when they worked a moment ago; after
/// such a failure every connection is, for a while, so that one failure is all a restart costs.
static CONNECTION_LOST_AT: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
const DISTRUST_AFTER_LOSS_MS: i64 = 10_000;

fn lost_connection(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // 08: connection exception; 57P: operator intervention (terminated, shutting down).
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}

/// Whether connections should be checked before use: they were idle for a while, or one was lost lately.
pub(crate) fn distrust_connections(idle_for: std::time::Duration) -> bool {
    let lost = CONNECTION_LOST_AT.load(std::sync::atomic::Ordering::Relaxed);
    idle_for >= std::time::Duration::from_secs(1)
        || chrono::Utc::now().timestamp_millis() - lost < DISTRUST_AFTER_LOSS_MS
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if lost_connection(&e) {
            CONNECTION_LOST_AT.store(
                chrono::Utc::now().timestamp_millis(),
                std::sync::atomic::Ordering::Relaxed,
            );
        }
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict {
                constraint: db
                    .constraint()
                    .map(shard_constraint_name)
                    .unwrap_or_else(|| constraint_name(db.message())),
            },
            sqlx::Error::Database(db) if db.code().as_deref().is_some_and(contention_code) => {
                StoreError::Contention(e.to_string())
            }
            // 57014: statement time-out (or a cancel).
            sqlx::Error::Database(db) if db.code().as_deref() == Some("57014") => {
                StoreError::Unavailable {
                    cause: e.to_string(),
                    lost: false,
                }
            }
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => StoreError::Unavailable {
                cause: e.to_string(),
                lost: false,
            },
            _ if lost_connection(&e) => StoreError::Unavailable {
                cause: e.to_string(),
                lost: true,
            },
            _ => StoreError::Database(e.to_string()),
        }
    }
}

/// Postgres 40001 (serialization failure) and 40P01 (deadlock detected); SQLite 5 (busy) and 6
/// (locked), with their extended codes (the low byte is the primary code). SQLite's codes have at
/// most four digits; Postgres's SQLSTATEs always five (22021 must not read as SQLite's 5).
fn contention_code(code: &str) -> bool {
    matches!(code, "40001" | "40P01")
        || (code.len() <= 4 && code.parse::<u32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6)))
}

/// SQLite does not report constraint names ("UNIQUE constraint failed: users.email"); every unique
/// constraint is named `<table>_<columns>_key`, so the name follows from the columns.
/// The constraint a Citus shard reports: the table's constraint with the shard id appended
/// (`users_email_key_102010`); no constraint of simgate's ends in `_<digits>`.
fn shard_constraint_name(name: &str) -> String {
    match name.rsplit_once('_') {
        Some((base, shard)) if !shard.is_empty() && shard.bytes().all(|b| b.is_ascii_digit()) => {
            base.to_string()
        }
        _ => name.to_string(),
    }
}

/// The constraint named in an error's message, for errors without the constraint field: SQLite's,
/// and Citus's (a worker's error relayed by the coordinator carries only its message).
fn constraint_name(message: &str) -> String {
    if let Some((_, rest)) = message.split_once("unique constraint \"") {
        if let Some((name, _)) = rest.split_once('"') {
            return shard_constraint_name(name);
        }
    }
    sqlite_constraint_name(message)
}

fn sqlite_constraint_name(message: &str) -> String {
    let Some(cols) = message.strip_prefix("UNIQUE constraint failed: ") else {
        return message.to_string();
    };
    if let Some(index) = cols.strip_prefix("index '") {
        return index.trim_end_matches('\'').to_string();
    }
    let mut parts = cols.split(", ").filter_map(|c| c.split_once('.'));
    let Some((table, first)) = parts.next() else {
        return message.to_string();
    };
    let mut name = format!("{table}_{first}");
    for (_, col) in parts {
        name.push('_');
        name.push_str(col);
    }
    name.push_str("_key");
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contention_is_told_from_other_errors() {
        for code in ["40001", "40P01", "5", "6", "517", "262"] {
            assert!(contention_code(code), "{code}");
        }
        // Every numeric SQLSTATE whose low byte is 5 or 6 (from Postgres's errcodes.txt) stays out.
        for code in ["23505", "57014", "19", "1", "2067", "22021", "22022"] {
            assert!(!contention_code(code), "{code}");
        }
    }

    #[test]
    fn sqlite_constraint_names_follow_the_convention() {
        assert_eq!(
            sqlite_constraint_name("UNIQUE constraint failed: users.email"),
            "users_email_key"
        );
        assert_eq!(
            sqlite_constraint_name(
                "UNIQUE constraint failed: sim_inventory_counts.storage_org_id, \
                 sim_inventory_counts.network"
            ),
            "sim_inventory_counts_storage_org_id_network_key"
        );
        assert_eq!(
            sqlite_constraint_name("UNIQUE constraint failed: index 'mvno_accounts_number_key'"),
            "mvno_accounts_number_key"
        );
    }

    #[test]
    fn citus_shard_constraints_are_the_tables_constraints() {
        assert_eq!(
            constraint_name(
                "duplicate key value violates unique constraint \"users_email_key_102010\""
            ),
            "users_email_key"
        );
        assert_eq!(
            shard_constraint_name("sims_iccid_key_102044"),
            "sims_iccid_key"
        );
        assert_eq!(shard_constraint_name("sims_iccid_key"), "sims_iccid_key");
        assert_eq!(shard_constraint_name("sims_pkey_"), "sims_pkey_");
    }
}
