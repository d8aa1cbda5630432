//! TelecomX-style routes at the root (contract: shared/spec/telecomx.md).
pub mod auth;
pub mod mvno;
pub mod sims;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

pub fn routes() -> OpenApiRouter<AppState> {
    auth::routes().merge(sims::routes()).merge(mvno::routes())
}
