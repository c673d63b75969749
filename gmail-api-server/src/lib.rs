//! gmail-api-server: the REST API on port 8000 for services on the host.

pub mod app;
pub mod extract;
pub mod idempotency;
pub mod openapi;
pub mod routes;

pub use app::Application;
