//! The token endpoint (RFC 6749 §3.2) and revocation (RFC 7009): clients authenticate,
//! then spend a code or a refresh token, or end a grant.

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{
    parse_scope, random, same, sha256_hex, AuthorizationServer, OAuthError, ACCESS_PREFIX,
    ACCESS_TTL_SECS, REFRESH_PREFIX, REFRESH_TTL_SECS,
};
use crate::secret::ShownOnce;
use crate::store::{ClientRecord, Presented, Redeemed};

/// The form of `POST /oauth2/token`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<SecretString>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<SecretString>,
    pub refresh_token: Option<SecretString>,
    pub resource: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
}

/// The form of `POST /oauth2/revoke` (RFC 7009).
#[derive(Debug, Deserialize)]
pub struct RevokeRequest {
    pub token: SecretString,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
}

/// The text of an optional secret form field; empty when absent (then it matches nothing).
fn field(secret: &Option<SecretString>) -> &str {
    secret.as_ref().map_or("", ExposeSecret::expose_secret)
}

/// A client's credentials: HTTP Basic when sent, else the form's fields.
fn credentials<'a>(
    basic: &'a Option<(String, String)>,
    form_id: &'a Option<String>,
    form_secret: &'a Option<SecretString>,
) -> (Option<&'a str>, Option<&'a str>) {
    match basic {
        Some((id, secret)) => (Some(id.as_str()), Some(secret.as_str())),
        None => (
            form_id.as_deref(),
            form_secret.as_ref().map(ExposeSecret::expose_secret),
        ),
    }
}

/// A token response (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: ShownOnce,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: ShownOnce,
    pub scope: String,
}

impl AuthorizationServer {
    /// The client a token or revocation request authenticates as (RFC 6749 §2.3): public
    /// clients name themselves, confidential ones also prove their secret.
    async fn authenticate_client(
        &self,
        client_id: Option<&str>,
        secret: Option<&str>,
    ) -> Result<ClientRecord, OAuthError> {
        let id = client_id
            .filter(|c| !c.is_empty())
            .ok_or_else(|| OAuthError::new("invalid_client", "client_id is required"))?;
        let (client, hash) = self
            .store
            .oauth_client(id)
            .await?
            .ok_or_else(|| OAuthError::new("invalid_client", "unknown client"))?;
        match hash {
            Some(hash) if !secret.is_some_and(|s| same(&sha256_hex(s), &hash)) => Err(
                OAuthError::new("invalid_client", "the client secret is missing or wrong"),
            ),
            _ => Ok(client),
        }
    }

    /// The scope a token request gets: the grant's. A `resource` or `scope` it names must be
    /// the grant's own (`offline_access` alone names none).
    fn requested_scope(
        &self,
        form: &TokenRequest,
        grant: &crate::store::GrantRecord,
    ) -> Result<String, OAuthError> {
        if let Some(r) = form.resource.as_deref().filter(|r| !r.is_empty()) {
            if self.resource(r).as_deref() != Some(grant.resource.as_str()) {
                return Err(OAuthError::new(
                    "invalid_target",
                    format!("this grant is for {}, not {r}", grant.resource),
                ));
            }
        }
        let asked = form
            .scope
            .as_deref()
            .filter(|s| s.split_whitespace().any(|s| s != "offline_access"));
        let scope = match asked {
            Some(s) => parse_scope(Some(s)).map_err(|e| OAuthError::new("invalid_scope", e))?,
            None => grant.scope.clone(),
        };
        if scope != grant.scope {
            return Err(OAuthError::new(
                "invalid_scope",
                format!(
                    "this grant is for {}; authorize again for another scope",
                    grant.scope
                ),
            ));
        }
        Ok(scope)
    }

    /// `POST /oauth2/token`: a code (with its PKCE verifier) or a refresh token for a new
    /// access token and a new refresh token. `basic` is the client's HTTP Basic credentials.
    pub async fn token(
        &self,
        form: &TokenRequest,
        basic: Option<(String, String)>,
    ) -> Result<TokenResponse, OAuthError> {
        let (client_id, secret) = credentials(&basic, &form.client_id, &form.client_secret);
        let client = self.authenticate_client(client_id, secret).await?;
        let invalid_grant = |why: &str| OAuthError::new("invalid_grant", why);
        // What the request asks for is checked before the code or refresh token is spent: a
        // refusal for its scope or resource must leave the client a token to retry with
        // (a retry with a spent refresh token would revoke the whole grant).
        let unspent = match form.grant_type.as_deref() {
            Some("authorization_code") => Some(Presented::Code(field(&form.code))),
            Some("refresh_token") => Some(Presented::Refresh(field(&form.refresh_token))),
            _ => None,
        };
        if let Some(presented) = unspent {
            if let Some(grant) = self.store.oauth_grant_of(presented, &client.id).await? {
                self.requested_scope(form, &grant)?;
            }
        }
        let grant = match form.grant_type.as_deref() {
            Some("authorization_code") => {
                let code = field(&form.code);
                let verifier = field(&form.code_verifier);
                if !(43..=128).contains(&verifier.len()) {
                    return Err(OAuthError::new(
                        "invalid_request",
                        "code_verifier (43 to 128 characters) is required",
                    ));
                }
                match self.store.redeem_oauth_code(code, &client.id).await? {
                    Redeemed::Granted(grant, Some(challenge)) => {
                        let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                            .encode(Sha256::digest(verifier.as_bytes()));
                        if !same(&computed, &challenge) {
                            self.store.revoke_oauth_grant_of(None, &grant.id).await?;
                            return Err(invalid_grant("the code_verifier does not match"));
                        }
                        if form.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
                            return Err(invalid_grant(
                                "redirect_uri differs from the authorization request's",
                            ));
                        }
                        grant
                    }
                    Redeemed::Replayed => {
                        return Err(invalid_grant(
                            "the code was used before; every token issued from it is revoked",
                        ))
                    }
                    _ => return Err(invalid_grant("unknown or expired code")),
                }
            }
            Some("refresh_token") => {
                let token = field(&form.refresh_token);
                match self.store.rotate_oauth_refresh(token, &client.id).await? {
                    Redeemed::Granted(grant, _) => grant,
                    Redeemed::Replayed => {
                        return Err(invalid_grant(
                            "the refresh token was used before; its whole family is revoked",
                        ))
                    }
                    Redeemed::Invalid => {
                        return Err(invalid_grant("unknown, expired or revoked refresh token"))
                    }
                }
            }
            other => {
                return Err(OAuthError::new(
                    "unsupported_grant_type",
                    format!(
                        "grant_type {:?}: use authorization_code or refresh_token",
                        other.unwrap_or_default()
                    ),
                ))
            }
        };
        let scope = self.requested_scope(form, &grant)?;
        let access = random(ACCESS_PREFIX);
        let refresh = random(REFRESH_PREFIX);
        self.store
            .store_oauth_token(&grant.id, &access, "access", ACCESS_TTL_SECS)
            .await?;
        self.store
            .store_oauth_token(&grant.id, &refresh, "refresh", REFRESH_TTL_SECS)
            .await?;
        Ok(TokenResponse {
            access_token: access.into(),
            token_type: "Bearer",
            expires_in: ACCESS_TTL_SECS,
            refresh_token: refresh.into(),
            scope,
        })
    }

    /// `POST /oauth2/revoke` (RFC 7009): ends the token's whole grant. Unknown tokens are
    /// not an error.
    pub async fn revoke(
        &self,
        form: &RevokeRequest,
        basic: Option<(String, String)>,
    ) -> Result<(), OAuthError> {
        let (client_id, secret) = credentials(&basic, &form.client_id, &form.client_secret);
        let client = self.authenticate_client(client_id, secret).await?;
        let token = form.token.expose_secret();
        if let Some(grant) = self.store.oauth_grant_of_token(token, &client.id).await? {
            self.store.revoke_oauth_grant_of(None, &grant).await?;
        }
        Ok(())
    }
}

/// HTTP Basic client credentials from an `Authorization` value (RFC 6749 §2.3.1: each part
/// form-url-encoded before encoding).
pub fn basic_credentials(value: &str) -> Option<(String, String)> {
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}
