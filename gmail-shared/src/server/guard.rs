//! The browser guard both servers put in front of everything that can reach a mailbox. It
//! assumes a hostile web page in a browser on the same machine:
//! - DNS rebinding: a page that rebinds its own name to 127.0.0.1 still sends its own name as
//!   `Host`, so only configured `Host` values are served;
//! - cross-site requests (CSRF): a browser names the page's origin in `Origin` on every
//!   non-GET request, and says `Sec-Fetch-Site: cross-site` on the rest; only configured
//!   origins pass, and a request without `Origin` passes only when no browser marked it
//!   cross-site (the MCP and HTTP clients seen so far send neither);
//! - "simple" requests a browser sends without a preflight (`text/plain`, forms): bodies are
//!   accepted only as `application/json` (or `multipart/form-data` where an endpoint takes
//!   files), so a cross-origin page can never get a request body past this guard.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web;

use super::problem::Problem;

/// Which `Host` and `Origin` values are accepted, and which body types.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    hosts: Vec<Pattern>,
    origins: Vec<OriginPattern>,
    any_host: bool,
    any_origin: bool,
    /// The configuration section the lists come from (`mcp`, `api`), named in refusals.
    section: &'static str,
    /// Whether endpoints behind this guard take `multipart/form-data` (REST file uploads).
    multipart: bool,
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
            section: "mcp",
            multipart: false,
            any_host: hosts.iter().any(|h| h.trim() == "*"),
            any_origin: origins.iter().any(|o| o.trim() == "*"),
            hosts: hosts.iter().filter_map(|h| parse_authority(h)).collect(),
            origins: origins
                .iter()
                .filter_map(|o| parse_origin_pattern(o))
                .collect(),
        }
    }

    /// Names the configuration section in refusals (`mcp.allowed_hosts`, `api.allowed_hosts`).
    pub fn section(mut self, section: &'static str) -> Self {
        self.section = section;
        self
    }

    /// Lets `multipart/form-data` bodies through (endpoints that take files).
    pub fn with_multipart(mut self) -> Self {
        self.multipart = true;
        self
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
                return Some(format!(
                    "Host {h:?} is not allowed (add it to {}.allowed_hosts)",
                    self.section
                ));
            }
            _ => {}
        }
        match origin {
            Some(o) if !self.origin_allowed(o) => Some(format!(
                "Origin {o:?} is not allowed (add it to {}.allowed_origins)",
                self.section
            )),
            _ => None,
        }
    }

    /// Why a browser request is refused beyond Host and Origin: a request the browser marks
    /// as coming from another site without naming an allowed origin, or a body of a type a
    /// page may send cross-origin without a preflight.
    pub fn check_browser(
        &self,
        method: &Method,
        origin: Option<&str>,
        fetch_site: Option<&str>,
        content_type: Option<&str>,
        has_body: bool,
    ) -> Option<(StatusCode, String)> {
        if origin.is_none()
            && fetch_site.is_some_and(|s| {
                s.eq_ignore_ascii_case("cross-site") || s.eq_ignore_ascii_case("same-site")
            })
        {
            return Some((
                StatusCode::FORBIDDEN,
                "a cross-site browser request without an allowed Origin is refused".into(),
            ));
        }
        let writes = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        if writes && has_body {
            let essence = content_type
                .and_then(|c| c.split(';').next())
                .map(|c| c.trim().to_ascii_lowercase())
                .unwrap_or_default();
            let json = essence == "application/json"
                || (essence.starts_with("application/") && essence.ends_with("+json"));
            let multipart = self.multipart && essence == "multipart/form-data";
            if !json && !multipart {
                let accepted = if self.multipart {
                    "application/json (or multipart/form-data where the endpoint takes files)"
                } else {
                    "application/json"
                };
                let got = if essence.is_empty() {
                    "none".to_string()
                } else {
                    essence
                };
                return Some((
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    format!("request bodies must be sent as Content-Type: {accepted}; got {got}"),
                ));
            }
        }
        None
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

fn header_text(req: &ServiceRequest, name: header::HeaderName) -> Option<String> {
    req.headers()
        .get(name)
        .map(|v| v.to_str().unwrap_or("<not text>").to_owned())
}

fn host_of(req: &ServiceRequest) -> Option<String> {
    header_text(req, header::HOST).or_else(|| req.uri().authority().map(|a| a.to_string()))
}

fn has_body(req: &ServiceRequest) -> bool {
    let length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match length {
        Some(n) => n > 0,
        // Chunked (or unknown length): assume a body.
        None => req.headers().contains_key(header::TRANSFER_ENCODING),
    }
}

fn refuse<B>(
    req: ServiceRequest,
    status: StatusCode,
    reason: String,
) -> ServiceResponse<EitherBody<B>> {
    tracing::warn!(%reason, path = req.path(), "refused request (browser guard)");
    let problem = if status == StatusCode::FORBIDDEN {
        Problem::forbidden(reason)
    } else {
        Problem::new(
            status,
            "unsupported-media-type",
            "Unsupported media type",
            reason,
        )
    };
    req.into_response(problem.jsonrpc(-32600).response())
        .map_into_right_body()
}

/// Middleware for everything that acts on a mailbox (REST `/api/v1`, MCP `/sse`, `/message`,
/// `/mcp`, `/sessions`): Host, Origin, `Sec-Fetch-Site` and body type. Needs
/// `web::Data<HostPolicy>` in the app data.
pub async fn browser_guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, actix_web::Error> {
    let Some(policy) = req.app_data::<web::Data<HostPolicy>>().cloned() else {
        return Err(actix_web::error::ErrorInternalServerError(
            "browser guard without a policy",
        ));
    };
    let origin = header_text(&req, header::ORIGIN);
    if let Some(reason) = policy.check(host_of(&req).as_deref(), origin.as_deref()) {
        return Ok(refuse(req, StatusCode::FORBIDDEN, reason));
    }
    let fetch_site = header_text(&req, header::HeaderName::from_static("sec-fetch-site"));
    let content_type = header_text(&req, header::CONTENT_TYPE);
    if let Some((status, reason)) = policy.check_browser(
        req.method(),
        origin.as_deref(),
        fetch_site.as_deref(),
        content_type.as_deref(),
        has_body(&req),
    ) {
        return Ok(refuse(req, status, reason));
    }
    next.call(req).await.map(|r| r.map_into_left_body())
}

/// Middleware for pages a browser navigates to from elsewhere (the OAuth callback Google
/// redirects to, the API docs): only the `Host` check, against DNS rebinding.
pub async fn host_guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, actix_web::Error> {
    let refusal = req
        .app_data::<web::Data<HostPolicy>>()
        .and_then(|policy| policy.check(host_of(&req).as_deref(), None));
    match refusal {
        Some(reason) => Ok(refuse(req, StatusCode::FORBIDDEN, reason)),
        None => next.call(req).await.map(|r| r.map_into_left_body()),
    }
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
    fn browser_bodies_must_be_json_and_cross_site_needs_an_origin() {
        let p = loopback();
        let post = Method::POST;
        let json = Some("application/json; charset=utf-8");
        assert!(p.check_browser(&post, None, None, json, true).is_none());
        assert!(p
            .check_browser(&post, None, Some("none"), json, true)
            .is_none());
        for ct in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            None,
            Some("multipart/form-data; boundary=x"),
        ] {
            let (status, why) = p.check_browser(&post, None, None, ct, true).unwrap();
            assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct:?}");
            assert!(why.contains("application/json"), "{why}");
        }
        let files = loopback().with_multipart();
        assert!(files
            .check_browser(
                &post,
                None,
                None,
                Some("multipart/form-data; boundary=x"),
                true
            )
            .is_none());
        // No body, no type needed.
        assert!(p.check_browser(&post, None, None, None, false).is_none());
        let (status, _) = p
            .check_browser(&Method::GET, None, Some("cross-site"), None, false)
            .unwrap();
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(p
            .check_browser(
                &Method::GET,
                Some("http://localhost:3000"),
                Some("cross-site"),
                None,
                false
            )
            .is_none());
    }

    #[test]
    fn refusals_name_the_configuration_key() {
        let p = loopback().section("api");
        assert!(p
            .check(Some("evil.com"), None)
            .unwrap()
            .contains("api.allowed_hosts"));
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
