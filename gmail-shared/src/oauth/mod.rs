//! Google OAuth for connecting accounts: the web flow with a single-use state and PKCE (S256),
//! the code exchange, and revocation. yup-oauth2's installed flow has neither state nor
//! PKCE, so this is built on the connection pool directly. The `oauth2` crate was weighed
//! and not taken: its revocation refuses any non-https endpoint (the sandbox, and every
//! test, serves Google's endpoints over loopback http), and its error type drops the HTTP
//! status that tells a retryable failure (5xx) from a refused grant (see `gmail/token.rs`).

use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::GmailError;
use crate::gmail::credentials::OAuthClient;
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

/// A PKCE verifier and its S256 challenge.
pub struct Pkce {
    pub verifier: SecretString,
    pub challenge: String,
}

impl Pkce {
    pub fn new() -> Pkce {
        let mut bytes = [0u8; 48];
        rand::rng().fill_bytes(&mut bytes);
        let verifier =
            SecretString::from(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
        let challenge = Pkce::challenge_of(&verifier);
        Pkce {
            verifier,
            challenge,
        }
    }

    /// The S256 challenge of a verifier.
    pub fn challenge_of(verifier: &SecretString) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(verifier.expose_secret().as_bytes()))
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Pkce::new()
    }
}

/// The URL that asks the user for consent: offline access (a refresh token), forced consent
/// (so a re-connection gets a new refresh token), state and PKCE.
pub fn authorization_url(
    client: &OAuthClient,
    redirect_uri: &str,
    scopes: &[String],
    state: &str,
    challenge: &str,
    login_hint: Option<&str>,
) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("client_id", &client.client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("response_type", "code")
        .append_pair("scope", &scopes.join(" "))
        .append_pair("access_type", "offline")
        .append_pair("prompt", "consent")
        .append_pair("include_granted_scopes", "true")
        .append_pair("state", state)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256");
    if let Some(hint) = login_hint {
        q.append_pair("login_hint", hint);
    }
    let sep = if client.auth_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    format!("{}{sep}{}", client.auth_uri, q.finish())
}

/// Tokens from a code exchange.
#[derive(Debug, Deserialize)]
pub struct TokenGrant {
    pub access_token: SecretString,
    pub expires_in: Option<i64>,
    pub refresh_token: Option<SecretString>,
    pub scope: Option<String>,
    /// OpenID Connect: who signed in (when `openid` was asked for).
    pub id_token: Option<SecretString>,
}

#[derive(Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// How long an OAuth endpoint may take to answer a code exchange or a revocation (a
/// refresh is bounded by `gmail.request_timeout_secs` where it is made).
const OAUTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

async fn post_form(http: &HttpClient, url: &str, form: String) -> Result<(u16, Bytes), GmailError> {
    let request = hyper::Request::post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(form)).map_err(|e| match e {}).boxed())
        .map_err(|e| GmailError::internal_from("bad OAuth endpoint URL", e))?;
    let exchange = async {
        let response = http
            .request(request)
            .await
            .map_err(|e| GmailError::unavailable_from("OAuth endpoint unreachable", e))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| GmailError::unavailable_from("OAuth endpoint", e))?
            .to_bytes();
        Ok((status, body))
    };
    tokio::time::timeout(OAUTH_TIMEOUT, exchange)
        .await
        .unwrap_or_else(|_| {
            Err(GmailError::unavailable(format!(
                "the OAuth endpoint did not answer within {} s",
                OAUTH_TIMEOUT.as_secs()
            )))
        })
}

/// Exchanges an authorization code (with its PKCE verifier) for tokens.
#[tracing::instrument(name = "oauth_code_exchange", skip_all, fields(token_uri = %client.token_uri))]
pub async fn exchange_code(
    http: &HttpClient,
    client: &OAuthClient,
    code: &str,
    verifier: &SecretString,
    redirect_uri: &str,
) -> Result<TokenGrant, GmailError> {
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair("code_verifier", verifier.expose_secret())
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("client_id", &client.client_id)
        .append_pair("client_secret", client.client_secret.expose_secret())
        .finish();
    let (status, body) = post_form(http, &client.token_uri, form).await?;
    if (200..300).contains(&status) {
        return serde_json::from_slice(&body).map_err(|e| {
            GmailError::unavailable_from("the token endpoint sent an unreadable answer", e)
        });
    }
    match serde_json::from_slice::<OAuthErrorBody>(&body) {
        Ok(e) if e.error == "invalid_grant" => Err(GmailError::invalid(
            "code",
            format!(
                "Google refused the authorization code ({}); start the connection again",
                e.error_description
            ),
        )),
        Ok(e) => Err(GmailError::internal(format!(
            "the token endpoint refused the exchange ({status} {}: {})",
            e.error, e.error_description
        ))),
        Err(_) => Err(GmailError::unavailable(format!(
            "the token endpoint answered {status}"
        ))),
    }
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
    let (status, _) = post_form(http, revoke_uri, form).await?;
    match status {
        200..=299 | 400 => Ok(()),
        s => Err(GmailError::unavailable(format!(
            "the revoke endpoint answered {s}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorization_url_carries_state_pkce_offline_and_consent() {
        let client = OAuthClient {
            client_id: "cid".into(),
            client_secret: SecretString::from("s".to_string()),
            auth_uri: "https://accounts.example/o/oauth2/v2/auth".into(),
            token_uri: "https://oauth2.example/token".into(),
            redirect_uris: vec![],
        };
        let pkce = Pkce::new();
        let url = authorization_url(
            &client,
            "http://127.0.0.1:8000/oauth/callback",
            &["https://mail.google.com/".to_string()],
            "st4te",
            &pkce.challenge,
            Some("a@b.example"),
        );
        for part in [
            "access_type=offline",
            "prompt=consent",
            "state=st4te",
            "code_challenge_method=S256",
            "login_hint=a%40b.example",
            "redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Foauth%2Fcallback",
        ] {
            assert!(url.contains(part), "{part} missing from {url}");
        }
        let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(pkce.verifier.expose_secret().as_bytes()));
        assert_eq!(pkce.challenge, expected);
    }
}
