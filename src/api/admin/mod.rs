//! simgate's admin API under `/admin/v1` (DESIGN.md §6), TelecomX error envelope.
pub mod catalog;
pub mod ingest;
pub mod ip_spaces;
pub mod orgs;
pub mod rate_plans;
pub mod sim_batches;
pub mod tariff_profiles;
pub mod tokens;
pub mod users;

use crate::domain::ids::EntityRef;
use crate::error::AppError;
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(orgs::routes())
        .merge(users::routes())
        .merge(tokens::routes())
        .merge(rate_plans::routes())
        .merge(sim_batches::routes())
        .merge(ingest::routes())
        .merge(ip_spaces::routes())
        .merge(catalog::routes())
        .merge(tariff_profiles::routes())
}

/// An integer `{id}` path segment; anything else names nothing (404).
pub fn path_id(raw: &str) -> Result<i64, AppError> {
    raw.parse()
        .map_err(|_| AppError::not_found("not_found", "Not found"))
}

/// An `{id|oid}` path segment; anything else names nothing (404).
pub fn path_ref(raw: &str) -> Result<EntityRef, AppError> {
    EntityRef::parse(raw).ok_or_else(|| AppError::not_found("not_found", "Not found"))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Index of the first item (default 0).
    #[param(value_type = Option<i64>, minimum = 0)]
    pub offset: Option<String>,
    /// Items per page, 1..500 (default 100).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
    /// Filter by parent organisation (organisations) or organisation (users): id or oid.
    #[serde(alias = "org")]
    pub parent: Option<String>,
}
