//! gmail-mcp-server: the MCP server on port 8001 (legacy SSE, Streamable HTTP, stdio).

pub mod app;
pub mod cluster;
pub mod guard;
pub mod handler;
pub mod routes;
pub mod sessions;
pub mod transport;

pub use app::Application;
