//! This product as an OAuth 2.1 authorization server for remote MCP clients (the MCP
//! authorization spec): the MCP server is the protected resource, the REST server hosts the
//! endpoints and the consent page, and a user's Google consent is brokered through "Sign in
//! with Google" (the Google tokens never leave the server).
//!
//! - Discovery: RFC 8414 metadata here, RFC 9728 protected-resource metadata on the MCP server.
//! - Clients: Dynamic Client Registration (RFC 7591) and Client ID Metadata Documents.
//! - The grant: authorization code with PKCE S256 only, the `resource` parameter required
//!   (RFC 8707) and bound into every token, `iss` on the redirect (RFC 9207), refresh tokens
//!   that rotate (a reused one revokes its family), revocation (RFC 7009).
//! - Scopes: `gmail.full` (the default) or `gmail.readonly`, which narrows a token's tools
//!   like a read-only API key.
//!
//! Codes and tokens are random and stored as hashes only.

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::error::GmailError;
use crate::gmail::http::{outbound_client, OutboundClient};
use crate::ops::policy::CallerPolicy;
use crate::secret::ShownOnce;
use crate::store::{ClientRecord, GrantInfo, NewGrant, Presented, Redeemed, Store, User};

mod clients;

pub use clients::{Registration, RegistrationRequest};

pub const SCOPE_FULL: &str = "gmail.full";
pub const SCOPE_READONLY: &str = "gmail.readonly";
/// Access tokens live an hour; refresh tokens (rotated on every use) 30 days; codes a minute.
pub const ACCESS_TTL_SECS: i64 = 3600;
pub const REFRESH_TTL_SECS: i64 = 30 * 86_400;
pub const CODE_TTL_SECS: i64 = 60;
/// Prefixes tell the kinds apart (and from API keys, `gms_`) at a glance and in one lookup.
pub const ACCESS_PREFIX: &str = "gmo_";
const REFRESH_PREFIX: &str = "gmr_";
/// The MCP endpoints a token may be for, under the MCP server's public URL.
const RESOURCE_PATHS: [&str; 5] = ["", "/mcp", "/sse", "/mcp/readonly", "/sse/readonly"];

/// An OAuth error answer (RFC 6749 §5.2): `{"error", "error_description"}`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{error}: {description}")]
pub struct OAuthError {
    /// 400, or 401 for `invalid_client`, 429 when over a limit.
    pub status: u16,
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> OAuthError {
        let status = if error == "invalid_client" { 401 } else { 400 };
        OAuthError {
            status,
            error,
            description: description.into(),
        }
    }

    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({"error": self.error, "error_description": self.description})
    }
}

impl From<GmailError> for OAuthError {
    fn from(e: GmailError) -> OAuthError {
        match e {
            GmailError::TooManyRequests { message, .. } => OAuthError {
                status: 429,
                error: "temporarily_unavailable",
                description: message,
            },
            GmailError::InvalidArgument { field, message } => {
                OAuthError::new("invalid_request", format!("{field}: {message}"))
            }
            other => OAuthError {
                status: 500,
                error: "server_error",
                description: other.public_message(),
            },
        }
    }
}

/// The query of `GET /oauth2/authorize`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizeQuery {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub resource: Option<String>,
    pub login_hint: Option<String>,
}

/// An authorization request that passed every check, waiting for the user's consent (kept
/// in the browser's session, so only the browser that started it can finish it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub client_name: String,
    pub redirect_uri: String,
    pub scope: String,
    pub resource: String,
    pub state: Option<String>,
    pub code_challenge: String,
    pub login_hint: Option<String>,
}

/// Why an authorization request was refused: shown on a page when the client or its
/// redirect URI cannot be verified; sent back to a client users have approved; for one no
/// user has approved yet, shown on a page with a link back that the user may follow.
#[derive(Debug)]
pub enum AuthorizeRefusal {
    Page(String),
    Redirect(String),
    /// `why`, and the redirect (with the error) that a trusted client would have had.
    Link {
        why: String,
        to: String,
    },
}

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

/// Who an access token acts for, as the MCP server needs it.
#[derive(Debug, Clone)]
pub struct TokenCaller {
    pub user: User,
    pub grant_id: String,
    /// The user's rules, then the scope's (read-only for `gmail.readonly`).
    pub rules: Vec<CallerPolicy>,
}

/// A new code, token or secret: 32 random bytes after its kind's prefix.
fn random(prefix: &str) -> String {
    format!("{prefix}{}", crate::store::random_token(32))
}

/// Constant-time in what matters: both sides are hashed first.
fn same(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

use crate::store::sha256_hex;

/// The scope a request asks for, made canonical: `gmail.full` unless only `gmail.readonly`
/// is named. `offline_access` (some clients add it) is accepted and implied.
pub fn parse_scope(scope: Option<&str>) -> Result<String, String> {
    let mut full = false;
    let mut readonly = false;
    for s in scope.unwrap_or_default().split_whitespace() {
        match s {
            SCOPE_FULL => full = true,
            SCOPE_READONLY => readonly = true,
            "offline_access" => {}
            other => {
                return Err(format!(
                    "unknown scope {other:?}: ask for {SCOPE_FULL} or {SCOPE_READONLY}"
                ))
            }
        }
    }
    Ok(if readonly && !full {
        SCOPE_READONLY
    } else {
        SCOPE_FULL
    }
    .to_string())
}

/// `base?k=v&…` (or `&` when the URI has a query already), values percent-encoded.
fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        out.append_pair(k, v);
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{}", out.finish())
}

#[derive(Clone)]
pub struct AuthorizationServer {
    store: Store,
    http: OutboundClient,
    issuer: String,
    resources: Vec<String>,
    allow_private_metadata: bool,
}

impl AuthorizationServer {
    pub fn new(settings: &Settings, store: Store) -> AuthorizationServer {
        let mu = &settings.multi_user;
        AuthorizationServer {
            store,
            http: outbound_client(mu.allow_private_client_metadata),
            issuer: issuer(settings),
            resources: resources(settings),
            allow_private_metadata: mu.allow_private_client_metadata,
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// RFC 8414 authorization server metadata.
    pub fn metadata(&self) -> serde_json::Value {
        let at = |path: &str| format!("{}{path}", self.issuer);
        serde_json::json!({
            "issuer": self.issuer,
            "authorization_endpoint": at("/oauth2/authorize"),
            "token_endpoint": at("/oauth2/token"),
            "registration_endpoint": at("/oauth2/register"),
            "revocation_endpoint": at("/oauth2/revoke"),
            "scopes_supported": [SCOPE_FULL, SCOPE_READONLY],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
            "revocation_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": true,
            "client_id_metadata_document_supported": true,
            "service_documentation": at("/docs"),
        })
    }

    /// Checks an authorization request before anything is shown to the user. A client or a
    /// redirect URI that cannot be verified gets a page, never a redirect (no open redirector).
    /// Anyone can register a client with their own redirect URI (and approve it themselves),
    /// so errors go straight back only to a client the signed-in user (`user_id`) has
    /// approved (RFC 9700 §4.11.2); others get a link.
    pub async fn check_authorization(
        &self,
        q: &AuthorizeQuery,
        user_id: Option<&str>,
    ) -> Result<AuthorizationRequest, AuthorizeRefusal> {
        match self.checked(q).await {
            Err(AuthorizeRefusal::Link { why, to }) => {
                let client_id = q.client_id.as_deref().unwrap_or_default();
                let approved = match user_id {
                    Some(user) => self.store.oauth_client_approved(client_id, user).await,
                    None => Ok(false),
                };
                match approved {
                    Ok(true) => Err(AuthorizeRefusal::Redirect(to)),
                    Ok(false) => Err(AuthorizeRefusal::Link { why, to }),
                    Err(e) => Err(AuthorizeRefusal::Page(e.to_string())),
                }
            }
            other => other,
        }
    }

    async fn checked(&self, q: &AuthorizeQuery) -> Result<AuthorizationRequest, AuthorizeRefusal> {
        let client_id = q
            .client_id
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| AuthorizeRefusal::Page("the request names no client_id".into()))?;
        let client = self
            .client(client_id)
            .await
            .map_err(|e| AuthorizeRefusal::Page(e.description))?;
        let redirect_uri = q.redirect_uri.as_deref().unwrap_or_default();
        if !clients::redirect_allowed(&client.redirect_uris, redirect_uri) {
            return Err(AuthorizeRefusal::Page(format!(
                "redirect_uri {redirect_uri:?} is not one the client {:?} registered",
                client.name
            )));
        }
        let refuse = |error: &str, description: String| {
            let mut pairs = vec![("error", error), ("error_description", &description)];
            if let Some(state) = q.state.as_deref() {
                pairs.push(("state", state));
            }
            pairs.push(("iss", &self.issuer));
            AuthorizeRefusal::Link {
                to: with_query(redirect_uri, &pairs),
                why: description,
            }
        };
        if q.response_type.as_deref() != Some("code") {
            return Err(refuse(
                "unsupported_response_type",
                "response_type must be code".into(),
            ));
        }
        let challenge = q.code_challenge.as_deref().unwrap_or_default();
        if q.code_challenge_method.as_deref() != Some("S256")
            || challenge.len() != 43
            || !challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(refuse(
                "invalid_request",
                "PKCE is required: code_challenge (43 characters) with code_challenge_method=S256"
                    .into(),
            ));
        }
        let resource = match q.resource.as_deref() {
            None | Some("") => {
                return Err(refuse(
                    "invalid_target",
                    format!(
                        "the resource parameter (RFC 8707) is required: this server's is {}",
                        self.resources[1]
                    ),
                ))
            }
            Some(r) => match self.resource(r) {
                Some(r) => r,
                None => {
                    return Err(refuse(
                        "invalid_target",
                        format!("{r} is not a resource of this server"),
                    ))
                }
            },
        };
        let scope = parse_scope(q.scope.as_deref()).map_err(|e| refuse("invalid_scope", e))?;
        Ok(AuthorizationRequest {
            client_id: client.id,
            client_name: client.name,
            redirect_uri: redirect_uri.to_string(),
            scope,
            resource,
            state: q.state.clone(),
            code_challenge: challenge.to_string(),
            login_hint: q.login_hint.clone().filter(|h| !h.trim().is_empty()),
        })
    }

    /// The canonical form of `r` when it names this server's MCP endpoint.
    fn resource(&self, r: &str) -> Option<String> {
        let r = r.trim_end_matches('/');
        self.resources.iter().find(|ours| *ours == r).cloned()
    }

    /// The user consented: a grant, and the redirect that carries its code to the client.
    pub async fn approve(
        &self,
        user: &User,
        req: &AuthorizationRequest,
    ) -> Result<String, GmailError> {
        let client = self
            .client(&req.client_id)
            .await
            .map_err(|e| GmailError::invalid("client_id", e.description))?;
        self.remember(&client).await?;
        let code = random("gmc_");
        self.store
            .create_oauth_grant(
                &NewGrant {
                    user_id: &user.id,
                    client: &client,
                    redirect_uri: &req.redirect_uri,
                    scope: &req.scope,
                    resource: &req.resource,
                    code_challenge: &req.code_challenge,
                },
                &code,
                CODE_TTL_SECS,
            )
            .await?;
        tracing::info!(user = %user.id, client = %client.id, scope = %req.scope, "OAuth client authorized");
        Ok(self.redirect(req, &[("code", &code)]))
    }

    /// The user declined: the client hears `access_denied`.
    pub fn deny(&self, req: &AuthorizationRequest) -> String {
        self.redirect(
            req,
            &[
                ("error", "access_denied"),
                ("error_description", "the user declined"),
            ],
        )
    }

    fn redirect(&self, req: &AuthorizationRequest, first: &[(&str, &str)]) -> String {
        let mut pairs = first.to_vec();
        if let Some(state) = req.state.as_deref() {
            pairs.push(("state", state));
        }
        pairs.push(("iss", &self.issuer));
        with_query(&req.redirect_uri, &pairs)
    }

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

    /// A user's connected clients.
    pub async fn grants(&self, user_id: &str) -> Result<Vec<GrantInfo>, GmailError> {
        self.store.user_oauth_grants(user_id).await
    }

    /// Disconnects one of the user's clients: every token of it stops at once.
    pub async fn revoke_grant(&self, user_id: &str, grant_id: &str) -> Result<(), GmailError> {
        if self
            .store
            .revoke_oauth_grant_of(Some(user_id), grant_id)
            .await?
        {
            Ok(())
        } else {
            Err(GmailError::not_found(format!(
                "connected client {grant_id}"
            )))
        }
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

/// The issuer: the REST server's public URL.
pub fn issuer(settings: &Settings) -> String {
    settings
        .multi_user
        .public_api_url
        .trim_end_matches('/')
        .to_string()
}

/// Every resource identifier of the MCP server: its public URL and its endpoints under it.
pub fn resources(settings: &Settings) -> Vec<String> {
    let base = settings.multi_user.public_mcp_url.trim_end_matches('/');
    RESOURCE_PATHS
        .iter()
        .map(|p| format!("{base}{p}"))
        .collect()
}

/// RFC 9728 protected resource metadata of the MCP server for the endpoint `path` (`""`,
/// `/mcp`, `/sse`, …), or none for a path that is not one.
pub fn protected_resource_metadata(settings: &Settings, path: &str) -> Option<serde_json::Value> {
    let path = path.trim_end_matches('/');
    RESOURCE_PATHS.contains(&path).then(|| {
        let base = settings.multi_user.public_mcp_url.trim_end_matches('/');
        serde_json::json!({
            "resource": format!("{base}{path}"),
            "authorization_servers": [issuer(settings)],
            "scopes_supported": [SCOPE_FULL, SCOPE_READONLY],
            "bearer_methods_supported": ["header"],
            "resource_name": "Gmail (gmail-servers)",
            "resource_documentation": format!("{}/docs", issuer(settings)),
        })
    })
}

/// Resolves a presented access token for the resource server that answers to `audiences`.
pub async fn authenticate(
    store: &Store,
    token: &str,
    audiences: &[String],
) -> Result<Option<TokenCaller>, GmailError> {
    let Some(owner) = store.authenticate_oauth_token(token, audiences).await? else {
        return Ok(None);
    };
    let mut rules: Vec<CallerPolicy> = owner
        .user_policy
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .into_iter()
        .collect();
    if owner.scope == SCOPE_READONLY {
        rules.push(CallerPolicy {
            read_only: Some(true),
            ..CallerPolicy::default()
        });
    }
    Ok(Some(TokenCaller {
        user: owner.user,
        grant_id: owner.grant_id,
        rules,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_canonical_and_unknown_ones_refused() {
        assert_eq!(parse_scope(None).unwrap(), SCOPE_FULL);
        assert_eq!(parse_scope(Some("gmail.readonly")).unwrap(), SCOPE_READONLY);
        assert_eq!(
            parse_scope(Some("gmail.readonly offline_access")).unwrap(),
            SCOPE_READONLY
        );
        assert_eq!(
            parse_scope(Some("gmail.readonly gmail.full")).unwrap(),
            SCOPE_FULL
        );
        assert!(parse_scope(Some("admin")).unwrap_err().contains("admin"));
    }

    #[test]
    fn redirects_carry_state_and_issuer_encoded() {
        assert_eq!(
            with_query(
                "http://127.0.0.1:9/cb",
                &[("code", "a b"), ("iss", "http://x")]
            ),
            "http://127.0.0.1:9/cb?code=a+b&iss=http%3A%2F%2Fx"
        );
        assert_eq!(
            with_query("https://c/cb?k=1", &[("state", "s")]),
            "https://c/cb?k=1&state=s"
        );
    }

    #[test]
    fn basic_credentials_are_url_decoded() {
        let value = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("mcp%3Aid:s%2Bcret")
        );
        assert_eq!(
            basic_credentials(&value),
            Some(("mcp:id".to_string(), "s+cret".to_string()))
        );
        assert_eq!(basic_credentials("Bearer x"), None);
    }

    #[test]
    fn token_responses_keep_tokens_out_of_debug() {
        let t = TokenResponse {
            access_token: "gmo_secret-access".into(),
            token_type: "Bearer",
            expires_in: 3600,
            refresh_token: "gmr_secret-refresh".into(),
            scope: SCOPE_FULL.into(),
        };
        let shown = format!("{t:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }
}
