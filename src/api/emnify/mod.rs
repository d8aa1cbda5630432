//! emnify-style routes under `/api/v1` (contract: shared/spec/emnify.md).
pub mod auth;
pub mod endpoint_stats;
pub mod endpoints;
pub mod events;
pub mod operators;
pub mod quotas;
pub mod service_profiles;
pub mod sims;
pub mod sms;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

pub fn routes() -> OpenApiRouter<AppState> {
    auth::routes()
        .merge(sims::routes())
        .merge(endpoints::routes())
        .merge(operators::routes())
        .merge(sms::routes())
        .merge(quotas::routes())
        .merge(events::routes())
        .merge(endpoint_stats::routes())
        .merge(service_profiles::routes())
}
