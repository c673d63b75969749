//! All integration tests of this crate in one binary: one link instead of one per file,
//! which keeps build time and target/ size down.

mod api;
mod authorization;
mod binary;
mod common;
mod device;
mod events;
mod guardrails;
mod health;
mod members;
mod messages;
mod multi_user;
mod multi_user_rules;
mod rate;
mod reliability;
mod resources;
mod security;
mod site;
