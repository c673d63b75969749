//! DNS-rebinding guard: the MCP endpoints answer only to allowed `Host` and `Origin` values.
//! A web page that rebinds its own name to 127.0.0.1 still sends its own name as `Host` (and
//! its origin as `Origin`), so both are checked; a request without `Origin` is accepted
//! because the MCP clients seen so far send none.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};

use crate::app::AppState;

/// Which `Host` and `Origin` values are accepted.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    hosts: Vec<Pattern>,
    origins: Vec<OriginPattern>,
    any_host: bool,
    any_origin: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    host: String,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct OriginPattern {
    /// None: any scheme.
    scheme: Option<String>,
    host: String,
    /// None: any port.
    port: Option<u16>,
}

impl HostPolicy {
    /// Builds the policy from configuration entries; unparsable entries match nothing.
    pub fn new(hosts: &[String], origins: &[String]) -> Self {
        HostPolicy {
            any_host: hosts.iter().any(|h| h.trim() == "*"),
            any_origin: origins.iter().any(|o| o.trim() == "*"),
            hosts: hosts.iter().filter_map(|h| parse_authority(h)).collect(),
            origins: origins
                .iter()
                .filter_map(|o| parse_origin_pattern(o))
                .collect(),
        }
    }

    /// The host entries in the form rmcp's own Streamable HTTP check understands; empty means
    /// "any" there, which matches `*` here.
    pub fn rmcp_allowed_hosts(&self) -> Vec<String> {
        if self.any_host {
            return Vec::new();
        }
        self.hosts
            .iter()
            .map(|p| {
                let host = if p.host.contains(':') {
                    format!("[{}]", p.host)
                } else {
                    p.host.clone()
                };
                match p.port {
                    Some(port) => format!("{host}:{port}"),
                    None => host,
                }
            })
            .collect()
    }

    pub fn host_allowed(&self, host: &str) -> bool {
        if self.any_host {
            return true;
        }
        let Some(actual) = parse_authority(host) else {
            return false;
        };
        self.hosts
            .iter()
            .any(|p| p.host == actual.host && p.port.is_none_or(|port| actual.port == Some(port)))
    }

    pub fn origin_allowed(&self, origin: &str) -> bool {
        if self.any_origin {
            return true;
        }
        let Some((scheme, rest)) = origin.trim().split_once("://") else {
            // `null` (sandboxed frames, file://) and garbage: never a local client's origin.
            return false;
        };
        if rest.contains('/') {
            return false;
        }
        let Some(actual) = parse_authority(rest) else {
            return false;
        };
        let scheme = scheme.to_ascii_lowercase();
        self.origins.iter().any(|p| {
            p.host == actual.host
                && p.scheme.as_ref().is_none_or(|s| *s == scheme)
                && p.port.is_none_or(|port| actual.port == Some(port))
        })
    }

    /// Why a request is refused, or None when it may pass.
    pub fn check(&self, host: Option<&str>, origin: Option<&str>) -> Option<String> {
        match host {
            None => return Some("the request has no Host header".into()),
            Some(h) if !self.host_allowed(h) => {
                return Some(format!("Host {h:?} is not allowed"));
            }
            _ => {}
        }
        match origin {
            Some(o) if !self.origin_allowed(o) => Some(format!("Origin {o:?} is not allowed")),
            _ => None,
        }
    }
}

/// `name`, `name:port`, `1.2.3.4:80`, `[::1]`, `[::1]:8001` (also a bare `::1`).
fn parse_authority(text: &str) -> Option<Pattern> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?.parse().ok()?),
        };
        (host, port)
    } else if text.matches(':').count() > 1 {
        (text, None) // bare IPv6 address
    } else if let Some((host, port)) = text.split_once(':') {
        (host, Some(port.parse().ok()?))
    } else {
        (text, None)
    };
    if host.is_empty() {
        return None;
    }
    Some(Pattern {
        host: host.to_ascii_lowercase(),
        port,
    })
}

fn parse_origin_pattern(text: &str) -> Option<OriginPattern> {
    let text = text.trim().trim_end_matches('/');
    let (scheme, authority) = match text.split_once("://") {
        Some((scheme, rest)) => (Some(scheme.to_ascii_lowercase()), rest),
        None => (None, text),
    };
    let authority = authority.strip_suffix(":*").unwrap_or(authority);
    let Pattern { host, port } = parse_authority(authority)?;
    Some(OriginPattern { scheme, host, port })
}

/// Middleware for the guarded routes: 403 with a JSON body when Host or Origin is not allowed.
pub async fn dns_rebinding_guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, actix_web::Error> {
    let refusal = req.app_data::<web::Data<AppState>>().and_then(|state| {
        let headers = req.headers();
        let host = headers
            .get(actix_web::http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| req.uri().authority().map(|a| a.to_string()));
        let origin = headers
            .get(actix_web::http::header::ORIGIN)
            .map(|v| v.to_str().unwrap_or("<not text>").to_owned());
        state.policy.check(host.as_deref(), origin.as_deref())
    });
    match refusal {
        Some(reason) => {
            tracing::warn!(%reason, path = req.path(), "refused request (DNS-rebinding guard)");
            Ok(req.into_response(forbidden(&reason)).map_into_right_body())
        }
        None => next.call(req).await.map(|r| r.map_into_left_body()),
    }
}

/// A 403 both kinds of client understand: problem+json fields for HTTP tooling, a JSON-RPC
/// error for MCP clients.
fn forbidden(reason: &str) -> HttpResponse {
    HttpResponse::Forbidden().json(serde_json::json!({
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
        "detail": reason,
        "jsonrpc": "2.0",
        "id": null,
        "error": {"code": -32600, "message": format!("Forbidden: {reason}")},
    }))
}

const SESSION_HEADER: &str = "mcp-session-id";

/// Streamable HTTP sessions belong to the user who initialized them (multi-user mode): the
/// initialize response binds the new session to its caller, and a request that names another
/// user's session is refused, as a post into another user's SSE session is.
pub async fn session_owner_guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, actix_web::Error> {
    let Some(sessions) = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.sessions.clone())
    else {
        return next.call(req).await.map(|r| r.map_into_left_body());
    };
    let caller = gmail_shared::auth::caller_id(req.request());
    let named = req
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(id) = &named {
        if sessions
            .get(id)
            .is_some_and(|s| !s.belongs_to(caller.as_deref()))
        {
            let reason = format!("MCP session {id} belongs to another caller");
            tracing::warn!(session_id = %id, "refused request for another caller's session");
            return Ok(req.into_response(forbidden(&reason)).map_into_right_body());
        }
    }
    let res = next.call(req).await?;
    if let (None, Some(user)) = (named, caller) {
        let created = res
            .headers()
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|id| sessions.get(id));
        if let Some(session) = created {
            session.set_owner(user);
        }
    }
    Ok(res.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback() -> HostPolicy {
        let l: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        HostPolicy::new(&l, &l)
    }

    #[test]
    fn loopback_hosts_with_any_port_pass() {
        let p = loopback();
        for h in [
            "localhost",
            "localhost:8001",
            "127.0.0.1:1",
            "[::1]:8001",
            "LOCALHOST",
        ] {
            assert!(p.host_allowed(h), "{h}");
        }
        for h in [
            "evil.com",
            "evil.com:8001",
            "127.0.0.2",
            "localhost.evil.com",
            "",
            "[::1",
        ] {
            assert!(!p.host_allowed(h), "{h}");
        }
    }

    #[test]
    fn origins_match_host_scheme_and_port() {
        let p = loopback();
        assert!(p.origin_allowed("http://localhost:3000"));
        assert!(p.origin_allowed("https://127.0.0.1"));
        assert!(p.origin_allowed("http://[::1]:5173"));
        assert!(!p.origin_allowed("http://evil.com"));
        assert!(!p.origin_allowed("null"));
        assert!(!p.origin_allowed("http://localhost.evil.com"));
        let strict = HostPolicy::new(&["*".into()], &["https://app.example.com:8443".into()]);
        assert!(strict.origin_allowed("https://app.example.com:8443"));
        assert!(!strict.origin_allowed("http://app.example.com:8443"));
        assert!(!strict.origin_allowed("https://app.example.com"));
        assert!(strict.host_allowed("anything.example"));
    }

    #[test]
    fn check_explains_refusals_and_accepts_missing_origin() {
        let p = loopback();
        assert_eq!(p.check(Some("127.0.0.1:8001"), None), None);
        assert!(p.check(Some("evil.com"), None).unwrap().contains("Host"));
        assert!(p
            .check(Some("localhost"), Some("http://evil.com"))
            .unwrap()
            .contains("Origin"));
        assert!(p.check(None, None).is_some());
    }

    #[test]
    fn rmcp_hosts_keep_brackets_and_star_means_any() {
        assert_eq!(
            loopback().rmcp_allowed_hosts(),
            ["localhost", "127.0.0.1", "[::1]"]
        );
        assert!(HostPolicy::new(&["*".into()], &[])
            .rmcp_allowed_hosts()
            .is_empty());
    }
}
