//! All integration tests of this crate in one binary: one link instead of one per file,
//! which keeps build time and target/ size down.

mod common;
mod deliver;
mod drafts;
mod errors;
mod faults;
mod history;
mod labels;
mod messages_read;
mod messages_write;
mod oauth;
mod persistence;
mod push;
mod runtimes;
mod settings;
mod transport;
