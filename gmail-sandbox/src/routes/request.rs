//! What handlers see: the transport-neutral request and response, the handler context and
//! the parameter checks every resource shares.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::HttpResponse;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::grants::AccessGrant;
use crate::methods::{scope_url, scopes_for, Route};
use crate::state::AppState;
use crate::store::Mailbox;

/// A transport-neutral request (from actix or from a batch part).
#[derive(Debug, Clone, Default)]
pub struct ApiRequest {
    pub method: String,
    /// Percent-encoded path without the query.
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// `scheme://host` the client used (for upload session URLs).
    pub origin: String,
}

impl ApiRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl ApiResponse {
    pub fn json(status: u16, body: String) -> ApiResponse {
        ApiResponse {
            status,
            headers: vec![],
            content_type: Some("application/json; charset=UTF-8".into()),
            body: body.into_bytes(),
        }
    }

    pub fn empty(status: u16) -> ApiResponse {
        ApiResponse {
            status,
            headers: vec![],
            content_type: None,
            body: vec![],
        }
    }

    pub fn from_error(e: &ApiError) -> ApiResponse {
        let mut r = ApiResponse::json(e.code, e.body().to_string());
        if let Some(w) = e.www_authenticate() {
            r.headers.push(("WWW-Authenticate".into(), w.to_string()));
        }
        if let Some(s) = e.retry_after_secs() {
            r.headers.push(("Retry-After".into(), s.to_string()));
        }
        r
    }

    pub fn into_http(self) -> HttpResponse {
        let status = actix_web::http::StatusCode::from_u16(self.status)
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
        let mut b = HttpResponse::build(status);
        // Gmail's front end varies on these; some caches care.
        b.insert_header((header::VARY, "Origin, X-Origin, Referer"));
        for (k, v) in &self.headers {
            b.append_header((k.as_str(), v.as_str()));
        }
        if let Some(ct) = &self.content_type {
            b.content_type(ct.as_str());
        }
        b.body(self.body)
    }
}

/// A handler's successful answer.
pub enum Reply {
    Json(String),
    /// 204 with an empty body (deletes, batchModify, batchDelete).
    NoContent,
    Raw(ApiResponse),
}

impl Reply {
    pub fn value(v: Value) -> Reply {
        Reply::Json(v.to_string())
    }
}

/// Message bytes that came through an upload endpoint.
#[derive(Debug, Clone)]
pub struct UploadInput {
    pub raw: Vec<u8>,
}

/// What a handler gets.
pub struct Ctx<'a> {
    pub state: &'a AppState,
    pub mailbox: Arc<Mailbox>,
    pub grant: &'a AccessGrant,
    pub route: &'a Route,
    pub query: &'a [(String, String)],
    pub body: &'a [u8],
    pub upload: Option<UploadInput>,
    pub now_ms: i64,
}

impl Ctx<'_> {
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn q_all(&self, name: &str) -> Vec<String> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(',').map(str::trim).filter(|s| !s.is_empty()))
            .map(str::to_string)
            .collect()
    }

    pub fn q_bool(&self, name: &str) -> bool {
        matches!(self.q(name), Some("true") | Some("1") | Some("True"))
    }

    pub fn id(&self, i: usize) -> &str {
        self.route.ids.get(i).map(String::as_str).unwrap_or("")
    }

    /// The JSON body as an object (`{}` when empty).
    pub fn json(&self) -> ApiResult<Value> {
        parse_json_body(self.body)
    }

    /// True when the token's only qualifying scope is gmail.metadata.
    pub fn metadata_only(&self) -> bool {
        let allowed = scopes_for(self.route.method);
        let mut any_other = false;
        let mut has_meta = false;
        for s in &self.grant.scopes {
            if s == "https://www.googleapis.com/auth/gmail.metadata" {
                has_meta = true;
            } else if allowed.iter().any(|a| scope_url(a) == *s) {
                any_other = true;
            }
        }
        has_meta && !any_other
    }

    pub fn max_results(&self) -> ApiResult<usize> {
        parse_max_results(self.q("maxResults"))
    }

    pub fn page_offset(&self) -> ApiResult<usize> {
        match self.q("pageToken") {
            None | Some("") => Ok(0),
            Some(t) => t
                .parse::<usize>()
                .map_err(|_| ApiError::invalid_argument("Invalid pageToken")),
        }
    }
}

pub fn parse_json_body(body: &[u8]) -> ApiResult<Value> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Value::Object(Default::default()));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(ApiError::invalid_json(
            "Unknown name \"\": Root element must be a message.",
        )),
        Err(e) => Err(ApiError::invalid_json(&format!("{e}"))),
    }
}

pub fn parse_max_results(v: Option<&str>) -> ApiResult<usize> {
    match v {
        None | Some("") => Ok(100),
        Some(s) => match s.trim().parse::<i64>() {
            // Gmail treats 0 as "use the default" and quietly caps large values at 500.
            Ok(0) => Ok(100),
            Ok(n) if n > 0 => Ok((n as usize).min(500)),
            Ok(_) => Err(ApiError::invalid_value(format!(
                "Invalid value at 'max_results' (TYPE_UINT32), \"{s}\""
            ))),
            Err(_) => Err(ApiError::invalid_value(format!(
                "Invalid value at 'max_results' (TYPE_UINT32), \"{s}\""
            ))),
        },
    }
}

/// Gmail message/thread ids are hex; anything else is "Invalid id value".
pub fn check_id(id: &str) -> ApiResult<()> {
    if id.is_empty() || id.len() > 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::invalid_id());
    }
    Ok(())
}

pub fn normalize_id(id: &str) -> String {
    id.to_ascii_lowercase()
}
