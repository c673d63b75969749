//! Google OAuth for connecting accounts: the web flow with a single-use state and PKCE (S256),
//! the code exchange, and revocation. yup-oauth2's installed flow has neither state nor
//! PKCE, so these speak to Google through the `oauth2` crate (`gmail::google_oauth`), over
//! the connection pool every Gmail request uses.

use oauth2::basic::BasicErrorResponseType;
use secrecy::{ExposeSecret, SecretString};

use crate::error::GmailError;
use crate::gmail::credentials::OAuthClient;
use crate::gmail::google_oauth::{self, TokenError};
use crate::gmail::{scopes, HttpClient};

pub mod accounts;
pub mod installed;
pub mod return_to;
pub mod sign_in;

/// What the product asks for: all of Gmail (permanent delete needs it) plus the settings
/// scopes filters, vacation and send-as need.
pub const DEFAULT_SCOPES: &[&str] = &[
    scopes::FULL,
    scopes::SETTINGS_BASIC,
    scopes::SETTINGS_SHARING,
];

/// What a read-only server asks for: reading mail and settings, nothing else.
pub const READ_ONLY_SCOPES: &[&str] = &[scopes::READONLY];

/// The scopes to ask for: read-only ones when the server is read-only.
pub fn scopes_for(read_only: bool) -> &'static [&'static str] {
    if read_only {
        READ_ONLY_SCOPES
    } else {
        DEFAULT_SCOPES
    }
}

pub use crate::gmail::google_oauth::{authorization_url, new_verifier, TokenGrant};

/// How long an OAuth endpoint may take to answer a code exchange or a revocation (a
/// refresh is bounded by `gmail.request_timeout_secs` where it is made).
const OAUTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Exchanges an authorization code (with its PKCE verifier) for tokens.
#[tracing::instrument(name = "oauth_code_exchange", skip_all, fields(token_uri = %client.token_uri))]
pub async fn exchange_code(
    http: &HttpClient,
    client: &OAuthClient,
    code: &str,
    verifier: &SecretString,
    redirect_uri: &str,
) -> Result<TokenGrant, GmailError> {
    google_oauth::exchange_code(http, client, code, verifier, redirect_uri, OAUTH_TIMEOUT)
        .await
        .map_err(|e| match e {
            TokenError::Refused(r) if r.error == BasicErrorResponseType::InvalidGrant => {
                GmailError::invalid(
                    "code",
                    format!(
                        "Google refused the authorization code ({}); start the connection again",
                        r.description
                    ),
                )
            }
            TokenError::Refused(r) => GmailError::internal(format!(
                "the token endpoint refused the exchange ({}: {})",
                r.error, r.description
            )),
            TokenError::Failed(e) => e,
        })
}

/// Revokes a token at Google (revoking the refresh token ends the whole grant). A token that
/// is already invalid counts as revoked.
pub async fn revoke(
    http: &HttpClient,
    revoke_uri: &str,
    token: &SecretString,
) -> Result<(), GmailError> {
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("token", token.expose_secret())
        .finish();
    let (status, _) = google_oauth::post_form(http, revoke_uri, form, OAUTH_TIMEOUT).await?;
    match status {
        200..=299 | 400 => Ok(()),
        s => Err(GmailError::unavailable(format!(
            "the revoke endpoint answered {s}"
        ))),
    }
}
