//! Who a client is: registered with Dynamic Client Registration (RFC 7591), or named by the
//! URL of its Client ID Metadata Document, which is fetched (https, public addresses, 5 s,
//! 5 KiB) when it asks for authorization.

use std::net::IpAddr;
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use serde::{Deserialize, Serialize};

use super::{random, AuthorizationServer, OAuthError};
use crate::error::GmailError;
use crate::gmail::http::is_public_address as is_public;
use crate::secret::ShownOnce;
use crate::store::ClientRecord;

/// Registered clients nobody has authorized yet, at most (anyone may register).
const MAX_UNUSED_CLIENTS: i64 = 1000;
const MAX_REDIRECT_URIS: usize = 10;
const MAX_METADATA_BYTES: usize = 5 * 1024;
const METADATA_TIMEOUT: Duration = Duration::from_secs(5);

/// The body of `POST /oauth2/register` (RFC 7591 §2); other metadata is ignored.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RegistrationRequest {
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    pub client_name: Option<String>,
    pub token_endpoint_auth_method: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
    pub scope: Option<String>,
}

/// The answer to a registration (RFC 7591 §3.2.1); the secret, for confidential clients, is
/// shown this once.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
pub struct Registration {
    pub client_id: String,
    pub client_secret: Option<ShownOnce>,
    pub client_id_issued_at: i64,
    pub client_secret_expires_at: Option<i64>,
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    pub token_endpoint_auth_method: String,
    pub grant_types: Vec<&'static str>,
    pub response_types: Vec<&'static str>,
    pub scope: String,
}

fn invalid_metadata(why: impl Into<String>) -> OAuthError {
    OAuthError::new("invalid_client_metadata", why)
}

fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A redirect URI a client may register: https, http on loopback only (native apps, RFC
/// 8252), or an app's own scheme; never a fragment, never a script.
fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let url = url::Url::parse(uri).map_err(|e| format!("redirect_uri {uri:?}: {e}"))?;
    if url.fragment().is_some() {
        return Err(format!("redirect_uri {uri:?} must not have a fragment"));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if url.host_str().is_some_and(is_loopback_host) => Ok(()),
        "http" => Err(format!(
            "redirect_uri {uri:?}: http is only for loopback addresses; use https"
        )),
        "javascript" | "data" | "file" | "vbscript" | "about" | "blob" => {
            Err(format!("redirect_uri {uri:?}: scheme not allowed"))
        }
        // Private-use schemes (RFC 8252 §7.1): reverse domain names such as com.example.app.
        s if s.contains('.') => Ok(()),
        s => Err(format!(
            "redirect_uri {uri:?}: scheme {s:?} is neither https, loopback http, nor a reverse-domain private scheme"
        )),
    }
}

/// Whether `uri` is one of `registered`: exactly, or (RFC 8252 §7.3) a loopback URI that
/// differs only by port, as native apps pick a free port each time.
pub(super) fn redirect_allowed(registered: &[String], uri: &str) -> bool {
    if uri.is_empty() {
        return false;
    }
    if registered.iter().any(|r| r == uri) {
        return true;
    }
    let Ok(asked) = url::Url::parse(uri) else {
        return false;
    };
    let loopback =
        |u: &url::Url| u.scheme() == "http" && u.host_str().is_some_and(is_loopback_host);
    loopback(&asked)
        && registered.iter().any(|r| {
            url::Url::parse(r).is_ok_and(|r| {
                loopback(&r)
                    && r.host_str() == asked.host_str()
                    && r.path() == asked.path()
                    && r.query() == asked.query()
            })
        })
}

fn check_name(name: Option<&str>, fallback: &str) -> Result<String, OAuthError> {
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(fallback);
    if name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(invalid_metadata(
            "client_name must be at most 200 printable characters",
        ));
    }
    Ok(name.to_string())
}

fn check_uris(uris: &[String]) -> Result<(), OAuthError> {
    if uris.is_empty() || uris.len() > MAX_REDIRECT_URIS {
        return Err(OAuthError::new(
            "invalid_redirect_uri",
            format!("redirect_uris must list 1 to {MAX_REDIRECT_URIS} URIs"),
        ));
    }
    for uri in uris {
        check_redirect_uri(uri).map_err(|e| OAuthError::new("invalid_redirect_uri", e))?;
    }
    Ok(())
}

/// Whether the client id is the URL of a metadata document rather than a registered id.
fn is_metadata_url(id: &str) -> bool {
    id.starts_with("https://") || id.starts_with("http://")
}

impl AuthorizationServer {
    /// `POST /oauth2/register`.
    pub async fn register(&self, req: &RegistrationRequest) -> Result<Registration, OAuthError> {
        check_uris(&req.redirect_uris)?;
        let method = req
            .token_endpoint_auth_method
            .as_deref()
            .unwrap_or("client_secret_basic");
        if !["none", "client_secret_post", "client_secret_basic"].contains(&method) {
            return Err(invalid_metadata(format!(
                "token_endpoint_auth_method {method:?}: use none, client_secret_post or client_secret_basic"
            )));
        }
        let grant_types = req.grant_types.clone().unwrap_or_default();
        if let Some(g) = grant_types
            .iter()
            .find(|g| !["authorization_code", "refresh_token"].contains(&g.as_str()))
        {
            return Err(invalid_metadata(format!(
                "grant type {g:?} is not offered: authorization_code and refresh_token are"
            )));
        }
        if let Some(r) = req
            .response_types
            .iter()
            .flatten()
            .find(|r| r.as_str() != "code")
        {
            return Err(invalid_metadata(format!(
                "response type {r:?} is not offered: code is"
            )));
        }
        let scope = super::parse_scope(req.scope.as_deref()).map_err(invalid_metadata)?;
        let client = ClientRecord {
            id: format!("mcp_{}", uuid::Uuid::new_v4().simple()),
            name: check_name(req.client_name.as_deref(), "MCP client")?,
            redirect_uris: req.redirect_uris.clone(),
            auth_method: method.to_string(),
            created_at: chrono::Utc::now().timestamp(),
        };
        let secret = (method != "none").then(|| random("gmcs_"));
        self.store
            .register_oauth_client(&client, secret.as_deref(), MAX_UNUSED_CLIENTS)
            .await?;
        tracing::info!(client = %client.id, name = %client.name, method, "OAuth client registered");
        Ok(Registration {
            client_secret_expires_at: secret.as_ref().map(|_| 0),
            client_secret: secret.map(ShownOnce::from),
            client_id_issued_at: client.created_at,
            client_id: client.id,
            client_name: client.name,
            redirect_uris: client.redirect_uris,
            token_endpoint_auth_method: client.auth_method,
            grant_types: vec!["authorization_code", "refresh_token"],
            response_types: vec!["code"],
            scope,
        })
    }

    /// The client behind a `client_id`: registered, or read from its metadata document. A
    /// document's client is stored only once a user approves it ([`Self::remember`]): anyone
    /// can send a browser to authorize with any URL, and that must not fill the clients
    /// table (whose unused entries also bound registration).
    pub(super) async fn client(&self, id: &str) -> Result<ClientRecord, OAuthError> {
        if !is_metadata_url(id) {
            return self
                .store
                .oauth_client(id)
                .await?
                .map(|(c, _)| c)
                .ok_or_else(|| {
                    OAuthError::new(
                        "invalid_client",
                        format!("unknown client_id {id:?}: register the client first"),
                    )
                });
        }
        self.fetch_metadata_document(id).await
    }

    /// Stores a client a user just approved, so the token endpoint knows it; a registered one
    /// is stored already.
    pub(super) async fn remember(&self, client: &ClientRecord) -> Result<(), GmailError> {
        if is_metadata_url(&client.id) {
            self.store.put_oauth_client(client, None).await?;
        }
        Ok(())
    }

    /// Reads a Client ID Metadata Document. Its `client_id` must be its own URL; it is a
    /// public client (no secret). Only https on public addresses, unless
    /// `multi_user.allow_private_client_metadata` (tests, private deployments).
    async fn fetch_metadata_document(&self, id: &str) -> Result<ClientRecord, OAuthError> {
        let refuse = |why: String| OAuthError::new("invalid_client", why);
        let url = url::Url::parse(id).map_err(|e| refuse(format!("client_id {id:?}: {e}")))?;
        if !self.allow_private_metadata {
            if url.scheme() != "https" || url.path() == "/" {
                return Err(refuse(format!(
                    "client_id {id:?}: a metadata document URL must be https with a path"
                )));
            }
            let host = url.host_str().unwrap_or_default();
            let port = url.port_or_known_default().unwrap_or(443);
            let addrs = tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| refuse(format!("client_id {id:?}: cannot resolve {host}: {e}")))?;
            for addr in addrs {
                if !is_public(addr.ip()) {
                    return Err(refuse(format!(
                        "client_id {id:?}: {host} is a private or local address"
                    )));
                }
            }
        }
        let request = hyper::Request::get(id)
            .header("accept", "application/json")
            .body(Empty::<Bytes>::new().map_err(|e| match e {}).boxed())
            .map_err(|e| refuse(format!("client_id {id:?}: {e}")))?;
        let fetched = tokio::time::timeout(METADATA_TIMEOUT, async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| format!("unreachable: {e}"))?;
            let status = response.status();
            if !status.is_success() {
                return Err(format!("answered {status}"));
            }
            Limited::new(response.into_body(), MAX_METADATA_BYTES)
                .collect()
                .await
                .map(|b| b.to_bytes())
                .map_err(|e| format!("unreadable or over {MAX_METADATA_BYTES} bytes: {e}"))
        })
        .await
        .map_err(|_| format!("no answer within {} s", METADATA_TIMEOUT.as_secs()))
        .and_then(|r| r)
        .map_err(|e| refuse(format!("client metadata document {id}: {e}")))?;
        #[derive(Deserialize)]
        struct Document {
            client_id: String,
            client_name: Option<String>,
            #[serde(default)]
            redirect_uris: Vec<String>,
            token_endpoint_auth_method: Option<String>,
        }
        let doc: Document = serde_json::from_slice(&fetched)
            .map_err(|e| refuse(format!("client metadata document {id}: {e}")))?;
        if doc.client_id != id {
            return Err(refuse(format!(
                "client metadata document {id} names another client_id ({:?})",
                doc.client_id
            )));
        }
        if doc
            .token_endpoint_auth_method
            .as_deref()
            .is_some_and(|m| m != "none")
        {
            return Err(refuse(format!(
                "client metadata document {id}: only public clients (token_endpoint_auth_method none) are supported"
            )));
        }
        check_uris(&doc.redirect_uris).map_err(|e| refuse(e.description))?;
        let fallback = url.host_str().unwrap_or("MCP client").to_string();
        Ok(ClientRecord {
            id: id.to_string(),
            name: check_name(doc.client_name.as_deref(), &fallback)?,
            redirect_uris: doc.redirect_uris,
            auth_method: "none".into(),
            created_at: chrono::Utc::now().timestamp(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_https_loopback_or_private_schemes() {
        assert!(check_redirect_uri("https://claude.ai/api/mcp/auth_callback").is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:33418/callback").is_ok());
        assert!(check_redirect_uri("http://localhost/cb").is_ok());
        assert!(check_redirect_uri("com.example.app:/oauth").is_ok());
        assert!(check_redirect_uri("http://evil.example/cb").is_err());
        assert!(check_redirect_uri("javascript:alert(1)").is_err());
        assert!(check_redirect_uri("https://a/cb#frag").is_err());
        assert!(check_redirect_uri("myapp:/cb").is_err());
    }

    #[test]
    fn loopback_redirects_may_change_port_only() {
        let reg = vec!["http://127.0.0.1:3000/callback".to_string()];
        assert!(redirect_allowed(&reg, "http://127.0.0.1:3000/callback"));
        assert!(redirect_allowed(&reg, "http://127.0.0.1:49152/callback"));
        assert!(!redirect_allowed(&reg, "http://127.0.0.1:49152/other"));
        assert!(!redirect_allowed(&reg, "http://localhost:3000/callback"));
        let https = vec!["https://app.example/cb".to_string()];
        assert!(!redirect_allowed(&https, "https://app.example:444/cb"));
        assert!(!redirect_allowed(&https, ""));
    }
}
