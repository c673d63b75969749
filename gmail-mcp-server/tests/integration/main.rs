//! All integration tests of this crate in one binary: one link instead of one per file,
//! which keeps build time and target/ size down.

mod binary;
mod cluster;
mod common;
mod guardrails;
mod health;
mod limits;
mod mcp;
mod metrics;
mod multi_user;
mod toolsets;
