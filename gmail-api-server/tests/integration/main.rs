//! All integration tests of this crate in one binary: one link instead of one per file,
//! which keeps build time and target/ size down.

mod api;
mod binary;
mod common;
mod health;
mod messages;
mod multi_user;
mod reliability;
mod resources;
mod security;
