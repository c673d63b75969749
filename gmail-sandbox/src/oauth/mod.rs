//! A stand-in for Google's OAuth 2.0 endpoints: authorization (auto-approved or a consent
//! page), token (authorization_code with PKCE, refresh_token), revoke, userinfo, tokeninfo.
//! The grants they hand out are kept in [`crate::grants`].

mod authorize;
mod http;
mod token;
mod userinfo;

pub use authorize::{approve, authorize};
pub use token::{revoke, token};
pub use userinfo::{tokeninfo, userinfo_oidc, userinfo_v2};
