//! Background work, stopped by the server's shutdown token.
pub mod purge;
