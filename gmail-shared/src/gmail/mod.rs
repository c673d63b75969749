//! The only seam to Google: credentials, token sources and the factory that turns "this
//! account" into an authenticated google-gmail1 hub, pointed at Gmail or at the sandbox.

pub mod batch;
pub mod credentials;
pub mod errors;
pub mod factory;
pub mod google_oauth;
pub mod http;
pub mod quota;
pub mod raw;
pub mod retry;
pub mod scopes;
pub mod token;

pub use factory::{Connection, GmailFactory, GmailHub, HttpClient};
pub use token::{RefreshingToken, TokenSink};
