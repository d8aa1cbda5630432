//! Storage: the traits the rest of the crate uses, and their Postgres and SQLite implementations.
//! All SQL lives here, written once for both backends as ordinary functions over the backend
//! abstraction in `db.rs`; `README.md` beside this file explains the performance machinery.
//!
//! # Lock order
//! Every write takes its row locks in this order, so that no two writers wait on each other in a
//! circle (Postgres; SQLite has one writer at a time):
//! 1. the parent rows it reads under lock (an MVNO account, an endpoint, a SIM batch, a user, an org);
//!    an account or an endpoint is locked under its distribution key (`keys::pin_account`,
//!    `endpoints::lock_endpoint`), and a new account's number is taken in the `mvno_numbers` registry
//!    with it; an endpoint's blacklist rows and SMS are written under its lock, and its IP address
//!    is taken after it: the space's row held shared, the address inserted (`ip_spaces.rs`); the
//!    profiles it takes are held shared after it (`db::hold_reference`, an advisory lock: a row lock on a
//!    Citus reference table locks the whole table), a profile changed or deleted exclusively; its
//!    quota rows are written under its lock too (usage ingest and the expiry job, which lock no
//!    endpoint, lock quota rows alone, in (tenant, endpoint, kind) order, after their usage rows);
//! 2. existing `sims` rows in (tenant key, id) order (`keys::pin_sims`: on Citus each key is read
//!    first and the row locked under it, as only a query routed to one shard locks there); a SIM that
//!    changes tenant then moves (`keys::relocate`). New `sims` rows
//!    are inserted in ICC order, each after its ICC in the `sim_iccids` registry (overlapping imports
//!    then meet on the same first ICC instead of crossing);
//! 3. `sim_inventory_counts` rows in key order (storage org, network, form factor, auto-assign);
//!    an import takes its buckets before it inserts (an upsert of +0), as a move takes both of its
//!    buckets, sorted, before it updates the SIM;
//! 4. `sim_owner_counts`, after each `sims` statement, in key order (`owners.rs`: the changed SIMs'
//!    keys are read under their locks before the statement and again after it); then
//!    `endpoint_counts` in key order, after the endpoint's SIM (`endpoint_counts.rs`: its old key
//!    down, its new one up);
//! 5. event and audit rows (inserts, no waits).
//!
//! An idempotency key's row is claimed and finished in transactions of their own, before and after
//! the request's, so it is never held while any of the above is waited for.
//!
//! A transaction that still loses a race (deadlock, serialization failure, SQLite busy) surfaces as
//! `StoreError::Contention` and is run again by `api::retry`.

mod by_position;
pub(crate) mod db;
mod emnify_rows;
mod endpoint_rows;
mod error;
mod journal;
mod keys;
mod owners;
mod pool;
mod rows;
mod scope;
mod sql;
mod traits;

pub use emnify_rows::*;
pub use endpoint_rows::*;
pub(crate) use error::distrust_connections;
pub use error::{StoreError, StoreResult};
pub use ip_spaces::{IpChoice, IpSpaceRow};
pub use operators::{Country, NewOperator, OperatorPatch, ADMIN_IDS};
pub(crate) use pool::pool_options;
pub use pool::{connect, redacted_url, PoolConfig, SqlStore};
pub use profiles::{NewServiceProfile, NewTariffProfile, ServiceProfilePatch, TariffProfileRow};
pub use quotas::{Denial, NewQuota, QuotaRow};
pub use rows::*;
pub use sms_gateway::{GatewaySms, NewMo, SmsReport};
pub(crate) use sql::like_literal;
pub use sqlite::restrict_file;
pub use traits::*;

mod activity;
mod batches;
mod bulk;
mod citus;
mod emnify;
mod endpoint_counts;
mod endpoints;
pub(crate) mod icc_fold;
mod idempotency;
mod ip_spaces;
pub(crate) mod labels;
mod meta;
mod mvno;
mod operators;
mod orgs;
pub(crate) mod point_reads;
mod postgres;
mod profiles;
mod quotas;
mod sims;
mod sms_gateway;
mod sqlite;
pub(crate) mod tenancy;
mod tokens;
mod users;
