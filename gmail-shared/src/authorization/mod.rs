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

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::error::GmailError;
use crate::gmail::http::{outbound_client, OutboundClient};
use crate::ops::policy::CallerPolicy;
use crate::store::{now, Decision, GrantInfo, NewGrant, Store, User};

mod clients;
/// The first decision on a request, recorded when it ends however it ends: with its answer
/// (sealed under its context), or forgotten when it failed or was dropped midway (the browser
/// gave up on it for a second click, and the server dropped the handler), so that a repeat
/// can make it instead of waiting for an outcome that never comes. Recorded by a task of its
/// own, which a dropped request cannot cut short.
struct Record {
    store: Store,
    id: String,
    /// (context, redirect) once the decision was made.
    outcome: Option<(String, String)>,
}

impl Drop for Record {
    fn drop(&mut self) {
        let (store, id, outcome) = (
            self.store.clone(),
            std::mem::take(&mut self.id),
            self.outcome.take(),
        );
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let outcome = outcome.as_ref().map(|(c, r)| (c.as_str(), r.as_str()));
            if let Err(e) = store.finish_oauth_decision(&id, outcome).await {
                // A repeat then waits, and is told to start again.
                tracing::warn!(error = %e, "could not record a consent decision");
            }
        });
    }
}

#[cfg(test)]
mod tests;
mod token;

pub use clients::{Registration, RegistrationRequest};
pub use token::{basic_credentials, RevokeRequest, TokenRequest, TokenResponse};

pub const SCOPE_FULL: &str = "gmail.full";
pub const SCOPE_READONLY: &str = "gmail.readonly";
/// Access tokens live an hour; refresh tokens (rotated on every use) 30 days; codes a minute.
pub const ACCESS_TTL_SECS: i64 = 3600;
pub const REFRESH_TTL_SECS: i64 = 30 * 86_400;
pub const CODE_TTL_SECS: i64 = 60;
/// How long a repeated decision waits for the first to finish (longer than the client
/// metadata fetch the first may make): checks, and the pause between.
const DECISION_WAITS: u32 = 100;
const DECISION_POLL: std::time::Duration = std::time::Duration::from_millis(100);
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
    /// Random: deciding spends it in the store, since an old copy of the session cookie
    /// still carries the request.
    pub id: String,
    /// Unix seconds: decided by then or not at all, which bounds what the store remembers.
    pub expires_at: i64,
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

impl AuthorizationRequest {
    /// Past its time for a decision.
    pub fn expired(&self) -> bool {
        self.expires_at < now()
    }
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
    /// How long a request waits for the user's decision: as long as a Google sign-in may
    /// take, which it may need first.
    request_ttl_secs: i64,
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
            request_ttl_secs: mu.oauth_state_ttl_secs,
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
            id: crate::store::random_token(24),
            expires_at: now() + self.request_ttl_secs,
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
        self.decide(req, &user.id, true, async {
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
        })
        .await
    }

    /// The user declined: the client hears `access_denied`.
    pub async fn deny(
        &self,
        user: &User,
        req: &AuthorizationRequest,
    ) -> Result<String, GmailError> {
        let denied = [
            ("error", "access_denied"),
            ("error_description", "the user declined"),
        ];
        self.decide(req, &user.id, false, async {
            Ok(self.redirect(req, &denied))
        })
        .await
    }

    /// Only the first decision on a live request counts, whichever cookie carried it and
    /// whichever instance it reached. The same decision by the same user again (a double
    /// click, an old copy of the cookie) answers the first one's redirect: its code is
    /// single-use and bound to the client's PKCE verifier, so sending it to the same client
    /// again approves nothing more, and the browser that clicked twice still takes the code to
    /// the app. Any other decision is told it was decided. A decision that failed, or whose
    /// request was dropped midway, is forgotten, so it can be made again.
    async fn decide(
        &self,
        req: &AuthorizationRequest,
        user_id: &str,
        allow: bool,
        decision: impl std::future::Future<Output = Result<String, GmailError>>,
    ) -> Result<String, GmailError> {
        if req.expired() {
            return Err(GmailError::invalid(
                "request",
                "the app's request waited too long for a decision; nothing was approved. \
                 Start again from the app",
            ));
        }
        let how = if allow { "allow" } else { "deny" };
        let context = format!("decision:{}:{user_id}:{how}", req.id);
        let store = &self.store;
        let mut now = store
            .begin_oauth_decision(&req.id, req.expires_at, &context)
            .await?;
        // A double click's second request may come while the first is still being made.
        for _ in 0..DECISION_WAITS {
            now = match now {
                Decision::First => {
                    let mut record = Record {
                        store: store.clone(),
                        id: req.id.clone(),
                        outcome: None,
                    };
                    let outcome = decision.await;
                    record.outcome = outcome.as_ref().ok().map(|r| (context, r.clone()));
                    return outcome;
                }
                Decision::Made(redirect) => return Ok(redirect.expose_secret().to_owned()),
                Decision::Other => {
                    return Err(GmailError::invalid(
                        "request",
                        "this app's request was already decided; nothing more was approved. \
                         To connect the app again, start again from the app",
                    ))
                }
                Decision::Open => {
                    store
                        .begin_oauth_decision(&req.id, req.expires_at, &context)
                        .await?
                }
                Decision::Pending => {
                    tokio::time::sleep(DECISION_POLL).await;
                    store.oauth_decision(&req.id, &context).await?
                }
            }
        }
        Err(GmailError::invalid(
            "request",
            "this app's request is being decided in another window; nothing more was \
             approved. If the app did not hear back, start again from the app",
        ))
    }

    fn redirect(&self, req: &AuthorizationRequest, first: &[(&str, &str)]) -> String {
        let mut pairs = first.to_vec();
        if let Some(state) = req.state.as_deref() {
            pairs.push(("state", state));
        }
        pairs.push(("iss", &self.issuer));
        with_query(&req.redirect_uri, &pairs)
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
