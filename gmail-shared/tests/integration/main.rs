//! All integration tests of this crate in one binary: one link instead of one per file,
//! which keeps build time and target/ size down.

mod audit;
mod common;
mod compose;
mod events;
mod factory;
mod multi_user;
mod send_once;
mod store_limits;
mod tools;
mod webhooks;
