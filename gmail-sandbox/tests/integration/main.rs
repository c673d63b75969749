//! All integration tests of this crate in one binary: one link instead of one per file,
//! which keeps build time and target/ size down.

mod common;
mod faults;
mod gmail_client;
mod http_api;
mod runtimes;
