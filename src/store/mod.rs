//! Storage: the traits the rest of the crate uses, and their Postgres and SQLite implementations.
//! All SQL lives here. The SQL text is shared between the backends wherever both accept it (sqlx's
//! SQLite driver takes `$1` placeholders); each area's `impl_*` macro is instantiated once per
//! backend, so both implementations come from one source and cannot drift.
//!
//! # Lock order
//! Every write takes its row locks in this order, so that no two writers wait on each other in a
//! circle (Postgres; SQLite has one writer at a time):
//! 1. the parent rows it reads under lock (an MVNO account, a SIM batch, a user, an org);
//! 2. existing `sims` rows, one at a time by the statement that names them; new `sims` rows are
//!    inserted in ICC order (overlapping imports then meet on the same first ICC instead of
//!    crossing);
//! 3. `sim_inventory_counts` rows in key order (storage org, network, form factor, auto-assign);
//!    an import takes its buckets before it inserts (an upsert of +0), as a move takes both of its
//!    buckets, sorted, before it updates the SIM;
//! 4. `sim_owner_counts`, by the statement trigger at the end of each `sims` statement, in key order;
//! 5. event and audit rows (inserts, no waits).
//!
//! An idempotency key's row is claimed and finished in transactions of their own, before and after
//! the request's, so it is never held while any of the above is waited for.
//!
//! A transaction that still loses a race (deadlock, serialization failure, SQLite busy) surfaces as
//! `StoreError::Contention` and is run again by `api::retry`.

mod emnify_rows;
mod error;
mod pool;
mod rows;
mod traits;
#[macro_use]
mod sql;

pub use emnify_rows::*;
pub(crate) use error::distrust_connections;
pub use error::{StoreError, StoreResult};
pub use pool::{connect, PoolConfig};
pub(crate) use pool::{point_read_keep, pool_options};
pub use rows::*;
pub(crate) use sql::{like_literal, LikeEscape, RowLock};
pub use traits::*;

#[macro_use]
pub(crate) mod icc_fold;
#[macro_use]
mod meta;
#[macro_use]
mod orgs;
#[macro_use]
mod users;
#[macro_use]
mod tokens;
#[macro_use]
mod idempotency;
mod bulk;
pub(crate) mod labels;
#[macro_use]
pub(crate) mod tenancy;
pub(crate) mod point_reads;
#[macro_use]
mod sims;
#[macro_use]
mod mvno;
#[macro_use]
mod emnify;
pub mod postgres;
pub mod sqlite;
