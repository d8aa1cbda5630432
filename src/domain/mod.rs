//! Pure types and business rules: no I/O, unit-tested here once and used by every dialect.
pub mod access;
pub mod batch;
pub mod dates;
pub mod emnify;
pub mod endpoint;
pub mod error;
pub mod etag;
pub mod events;
pub mod idempotency;
pub mod ids;
pub mod inventory;
pub mod mvno;
pub mod org;
pub mod paging;
pub mod retention;
pub mod sim;
pub mod usage;
