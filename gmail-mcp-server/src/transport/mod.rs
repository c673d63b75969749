//! The three doors into one handler: legacy SSE and Streamable HTTP on the HTTP server, and
//! stdio for clients that start the server as a child process.

pub mod sse;
pub mod stdio;
pub mod streamable;
