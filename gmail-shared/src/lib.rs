//! The library both gmail servers link: configuration, errors, telemetry and the Gmail client
//! factory (authenticated connections to Gmail or the sandbox).

pub mod admin;
pub mod auth;
pub mod authorization;
pub mod config;
pub mod error;
pub mod events;
pub mod gmail;
pub mod idempotency;
pub mod mail;
pub mod mailbox;
pub mod members;
pub mod metrics;
pub mod oauth;
pub mod ops;
pub mod secret;
pub mod server;
pub mod store;
pub mod telemetry;
#[cfg(test)]
mod testing;
pub mod tools;

pub use config::Settings;
pub use error::GmailError;
pub use server::problem::ProblemDetails;
