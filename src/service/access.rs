//! Where a service turns "not in the caller's scope" into an answer. The store decides what a scope
//! holds (its lookups and writes take the [`Scope`] and simply find nothing outside it); this module
//! only chooses, per the route's contract, what "nothing" looks like: 404 for the object a route
//! addresses, 403 for an org a query filters by, 422 naming the field for an org a body refers to.
use crate::domain::access::{Principal, Scope};
use crate::domain::ids::EntityRef;
use crate::error::{AppError, AppResult, Text};
use crate::state::AppState;
use crate::store::Org;

/// The answer for an object the caller's scope does not hold (or that does not exist: the same).
pub(crate) trait InScope<T> {
    /// 404 with the dialect's code: the object the route addresses.
    fn or_not_found(self, code: impl Into<Text>, message: impl Into<Text>) -> AppResult<T>;
    /// 403: an org named by a query filter.
    fn or_denied(self) -> AppResult<T>;
    /// 422 naming the field: an object a request body refers to.
    fn or_invalid(self, field: &'static str, message: impl Into<Text>) -> AppResult<T>;
}

impl<T> InScope<T> for Option<T> {
    fn or_not_found(self, code: impl Into<Text>, message: impl Into<Text>) -> AppResult<T> {
        self.ok_or_else(|| AppError::not_found(code, message))
    }
    fn or_denied(self) -> AppResult<T> {
        self.ok_or_else(AppError::access_denied)
    }
    fn or_invalid(self, field: &'static str, message: impl Into<Text>) -> AppResult<T> {
        self.ok_or_else(|| AppError::invalid(field, message))
    }
}

/// The org a raw reference (integer id or 24-hex id) names, if the caller's scope holds it; an
/// unparsable reference names nothing.
pub(crate) async fn org(state: &AppState, p: &Principal, raw: &str) -> AppResult<Option<Org>> {
    match EntityRef::parse(raw) {
        Some(r) => Ok(state.store.org_find(&p.scope(), &r).await?),
        None => Ok(None),
    }
}

/// An org the service reached through an object the caller already holds (an account's customer):
/// in scope by construction, so its absence is a broken invariant, not a client error.
pub(crate) async fn org_of(state: &AppState, p: &Principal, id: i64) -> AppResult<Org> {
    state
        .store
        .org_find(&p.scope(), &EntityRef::Id(id))
        .await?
        .ok_or_else(|| AppError::internal("an object's org is outside its holder's scope"))
}

/// The scope of system work (the CLI, the demo, background jobs): everything.
pub(crate) const SYSTEM: Scope = Scope::All;
