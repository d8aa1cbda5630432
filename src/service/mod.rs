//! The operations behind the routes and the CLI, one module per entity: each takes the caller and
//! typed input, decides what the caller may do (through `domain::access`), calls the store, and
//! returns typed output that the dialects in `src/api` render.
pub(crate) mod access;
pub mod batches;
pub mod catalog;
pub mod endpoints;
pub mod events;
pub mod ingest;
pub mod inventory;
pub mod ip_spaces;
pub mod mvno;
pub mod orgs;
pub mod profiles;
pub mod quotas;
pub mod rate_plans;
pub mod sims;
pub mod tokens;
pub mod usage;
pub mod users;

use crate::domain::ids::EntityRef;
use crate::error::{AppError, AppResult};

pub(crate) fn parse_ref(field: &'static str, s: &str) -> AppResult<EntityRef> {
    EntityRef::parse(s).ok_or_else(|| {
        AppError::invalid(
            field,
            format!("{field} must be an integer id or a 24-hex id"),
        )
    })
}

pub(crate) fn non_empty(field: &'static str, s: &str, max: usize) -> AppResult<String> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("{field} must be 1 to {max} characters"),
        ));
    }
    Ok(s.to_string())
}
