//! What every handler can reach.
use crate::auth::Authenticator;
use crate::clock::Clock;
use crate::config::Config;
use crate::domain::access::Principal;
use crate::store::{Actor, DynStore};
use std::ops::Deref;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: DynStore,
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    pub auth: Authenticator,
    /// When `/metrics` last read the business gauges from this database (see `api::metrics`).
    pub business_read_at: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(store: DynStore, config: Config, clock: Arc<dyn Clock>, jwt_secret: &str) -> Self {
        let auth = Authenticator::new(
            store.clone(),
            clock.clone(),
            jwt_secret,
            config.auth.clone(),
        );
        AppState(Arc::new(Inner {
            store,
            config,
            clock,
            auth,
            business_read_at: std::sync::Mutex::new(None),
        }))
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// The audit actor of a mutation made by `p` now.
    pub fn actor(&self, p: &Principal) -> Actor {
        Actor {
            user_id: (p.user_id > 0).then_some(p.user_id),
            org_id: (p.org_id > 0).then_some(p.org_id),
            request_id: p.request_id.clone(),
            at: self.now(),
            if_match: None,
        }
    }

    /// As [`AppState::actor`], with the request's `If-Match` for the store to check.
    pub fn actor_if(&self, p: &Principal, if_match: Option<crate::domain::etag::IfMatch>) -> Actor {
        Actor {
            if_match,
            ..self.actor(p)
        }
    }
}
