//! The integration tests, as one binary (one link instead of one per file): a module per area, each
//! story run once per backend as a test of its own (`<story>::sqlite`, `<story>::postgres`). Postgres
//! tests are compiled in when `SIMGATE_TEST_DATABASE_URL` is set (see build.rs) and reported as
//! ignored without it.
#[macro_use]
mod common;

mod admin_api;
mod admin_catalog;
mod auth;
mod cli;
mod concurrency;
mod connections;
mod demo;
mod emnify_account_events;
mod emnify_changes;
mod emnify_endpoints;
mod emnify_ip_addresses;
mod emnify_profiles;
mod emnify_quotas;
mod emnify_reads;
mod emnify_sims;
mod emnify_usage;
mod errors;
mod faults;
mod idempotency;
mod ops;
mod replica;
mod retention;
mod scale_out;
mod security;
mod store_contract;
mod store_scope;
mod telecomx_mvno;
mod telecomx_mvno_validation;
mod telecomx_sims;
