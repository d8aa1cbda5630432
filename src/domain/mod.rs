//! Pure types and business rules: no I/O, unit-tested here once and used by every dialect.
pub mod access;
pub mod ids;
pub mod org;
pub mod paging;
