//! TelecomX-style routes at the root (contract: shared/spec/telecomx.md).
pub mod auth;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

pub fn routes() -> OpenApiRouter<AppState> {
    auth::routes()
}
