//! Gmail REST routing. One synchronous dispatcher serves plain HTTP requests, upload
//! endpoints and the parts of a batch request alike: parse the path, authenticate, check
//! the scope, charge quota, maybe inject a fault, then call the resource's handler.

pub mod batch;
pub mod drafts;
pub mod fields;
pub mod history;
pub mod labels;
pub mod messages;
pub mod profile;
pub mod settings;
pub mod threads;
pub mod upload;

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::oauth::AccessGrant;
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

/// A matched Gmail method.
#[derive(Debug, Clone)]
pub struct Route {
    pub method: &'static str,
    pub user: String,
    /// Path ids in order (message id, attachment id, label id, …).
    pub ids: Vec<String>,
    pub upload: bool,
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

fn scope_url(short: &str) -> String {
    if short.starts_with("https://") {
        short.to_string()
    } else {
        format!("https://www.googleapis.com/auth/{short}")
    }
}

const FULL: &str = "https://mail.google.com/";

/// Scopes that authorize each method (from the discovery document).
pub fn scopes_for(method: &str) -> &'static [&'static str] {
    match method {
        "users.getProfile" => &[
            FULL,
            "gmail.compose",
            "gmail.metadata",
            "gmail.modify",
            "gmail.readonly",
        ],
        "users.stop"
        | "users.watch"
        | "users.history.list"
        | "users.messages.list"
        | "users.threads.list" => &[FULL, "gmail.metadata", "gmail.modify", "gmail.readonly"],
        "users.drafts.create"
        | "users.drafts.delete"
        | "users.drafts.send"
        | "users.drafts.update" => &[
            FULL,
            "gmail.addons.current.action.compose",
            "gmail.compose",
            "gmail.modify",
        ],
        "users.drafts.get" | "users.drafts.list" => {
            &[FULL, "gmail.compose", "gmail.modify", "gmail.readonly"]
        }
        "users.labels.create"
        | "users.labels.delete"
        | "users.labels.patch"
        | "users.labels.update" => &[FULL, "gmail.labels", "gmail.modify"],
        "users.labels.get" | "users.labels.list" => &[
            FULL,
            "gmail.labels",
            "gmail.metadata",
            "gmail.modify",
            "gmail.readonly",
        ],
        "users.messages.batchDelete" | "users.messages.delete" | "users.threads.delete" => &[FULL],
        "users.messages.batchModify"
        | "users.messages.modify"
        | "users.messages.trash"
        | "users.messages.untrash"
        | "users.threads.modify"
        | "users.threads.trash"
        | "users.threads.untrash" => &[FULL, "gmail.modify"],
        "users.messages.get" | "users.threads.get" => &[
            FULL,
            "gmail.addons.current.message.action",
            "gmail.addons.current.message.metadata",
            "gmail.addons.current.message.readonly",
            "gmail.metadata",
            "gmail.modify",
            "gmail.readonly",
        ],
        "users.messages.import" | "users.messages.insert" => {
            &[FULL, "gmail.insert", "gmail.modify"]
        }
        "users.messages.send" => &[
            FULL,
            "gmail.addons.current.action.compose",
            "gmail.compose",
            "gmail.modify",
            "gmail.send",
        ],
        "users.messages.attachments.get" => &[
            FULL,
            "gmail.addons.current.message.action",
            "gmail.addons.current.message.readonly",
            "gmail.modify",
            "gmail.readonly",
        ],
        "users.settings.getVacation"
        | "users.settings.filters.get"
        | "users.settings.filters.list"
        | "users.settings.sendAs.get"
        | "users.settings.sendAs.list" => &[
            FULL,
            "gmail.modify",
            "gmail.readonly",
            "gmail.settings.basic",
        ],
        "users.settings.updateVacation"
        | "users.settings.filters.create"
        | "users.settings.filters.delete" => &["gmail.settings.basic"],
        "users.settings.sendAs.create"
        | "users.settings.sendAs.delete"
        | "users.settings.sendAs.verify" => &["gmail.settings.sharing"],
        "users.settings.sendAs.patch" | "users.settings.sendAs.update" => {
            &["gmail.settings.basic", "gmail.settings.sharing"]
        }
        _ => &[FULL],
    }
}

fn has_scope(grant: &AccessGrant, method: &str) -> bool {
    scopes_for(method)
        .iter()
        .any(|s| grant.scopes.iter().any(|g| *g == scope_url(s)))
}

fn decode_segment(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Match a path (already split after `users/{userId}/`) to a Gmail method.
fn match_method(http: &str, rest: &[&str], upload: bool) -> Option<(&'static str, Vec<String>)> {
    let id = |s: &str| decode_segment(s);
    if upload {
        return match (http, rest) {
            ("POST", ["messages"]) => Some(("users.messages.insert", vec![])),
            ("POST", ["messages", "send"]) => Some(("users.messages.send", vec![])),
            ("POST", ["messages", "import"]) => Some(("users.messages.import", vec![])),
            ("POST", ["drafts"]) => Some(("users.drafts.create", vec![])),
            ("POST", ["drafts", "send"]) => Some(("users.drafts.send", vec![])),
            ("PUT", ["drafts", d]) => Some(("users.drafts.update", vec![id(d)])),
            _ => None,
        };
    }
    let m = match (http, rest) {
        ("GET", ["profile"]) => ("users.getProfile", vec![]),
        ("POST", ["watch"]) => ("users.watch", vec![]),
        ("POST", ["stop"]) => ("users.stop", vec![]),
        ("GET", ["messages"]) => ("users.messages.list", vec![]),
        ("POST", ["messages"]) => ("users.messages.insert", vec![]),
        ("POST", ["messages", "send"]) => ("users.messages.send", vec![]),
        ("POST", ["messages", "import"]) => ("users.messages.import", vec![]),
        ("POST", ["messages", "batchModify"]) => ("users.messages.batchModify", vec![]),
        ("POST", ["messages", "batchDelete"]) => ("users.messages.batchDelete", vec![]),
        ("GET", ["messages", m]) => ("users.messages.get", vec![id(m)]),
        ("DELETE", ["messages", m]) => ("users.messages.delete", vec![id(m)]),
        ("POST", ["messages", m, "modify"]) => ("users.messages.modify", vec![id(m)]),
        ("POST", ["messages", m, "trash"]) => ("users.messages.trash", vec![id(m)]),
        ("POST", ["messages", m, "untrash"]) => ("users.messages.untrash", vec![id(m)]),
        ("GET", ["messages", m, "attachments", a]) => {
            ("users.messages.attachments.get", vec![id(m), id(a)])
        }
        ("GET", ["threads"]) => ("users.threads.list", vec![]),
        ("GET", ["threads", t]) => ("users.threads.get", vec![id(t)]),
        ("DELETE", ["threads", t]) => ("users.threads.delete", vec![id(t)]),
        ("POST", ["threads", t, "modify"]) => ("users.threads.modify", vec![id(t)]),
        ("POST", ["threads", t, "trash"]) => ("users.threads.trash", vec![id(t)]),
        ("POST", ["threads", t, "untrash"]) => ("users.threads.untrash", vec![id(t)]),
        ("GET", ["labels"]) => ("users.labels.list", vec![]),
        ("POST", ["labels"]) => ("users.labels.create", vec![]),
        ("GET", ["labels", l]) => ("users.labels.get", vec![id(l)]),
        ("PUT", ["labels", l]) => ("users.labels.update", vec![id(l)]),
        ("PATCH", ["labels", l]) => ("users.labels.patch", vec![id(l)]),
        ("DELETE", ["labels", l]) => ("users.labels.delete", vec![id(l)]),
        ("GET", ["drafts"]) => ("users.drafts.list", vec![]),
        ("POST", ["drafts"]) => ("users.drafts.create", vec![]),
        ("POST", ["drafts", "send"]) => ("users.drafts.send", vec![]),
        ("GET", ["drafts", d]) => ("users.drafts.get", vec![id(d)]),
        ("PUT", ["drafts", d]) => ("users.drafts.update", vec![id(d)]),
        ("DELETE", ["drafts", d]) => ("users.drafts.delete", vec![id(d)]),
        ("GET", ["history"]) => ("users.history.list", vec![]),
        ("GET", ["settings", "filters"]) => ("users.settings.filters.list", vec![]),
        ("POST", ["settings", "filters"]) => ("users.settings.filters.create", vec![]),
        ("GET", ["settings", "filters", f]) => ("users.settings.filters.get", vec![id(f)]),
        ("DELETE", ["settings", "filters", f]) => ("users.settings.filters.delete", vec![id(f)]),
        ("GET", ["settings", "sendAs"]) => ("users.settings.sendAs.list", vec![]),
        ("POST", ["settings", "sendAs"]) => ("users.settings.sendAs.create", vec![]),
        ("GET", ["settings", "sendAs", e]) => ("users.settings.sendAs.get", vec![id(e)]),
        ("PUT", ["settings", "sendAs", e]) => ("users.settings.sendAs.update", vec![id(e)]),
        ("PATCH", ["settings", "sendAs", e]) => ("users.settings.sendAs.patch", vec![id(e)]),
        ("DELETE", ["settings", "sendAs", e]) => ("users.settings.sendAs.delete", vec![id(e)]),
        ("POST", ["settings", "sendAs", e, "verify"]) => {
            ("users.settings.sendAs.verify", vec![id(e)])
        }
        ("GET", ["settings", "imap"]) => ("users.settings.getImap", vec![]),
        ("PUT", ["settings", "imap"]) => ("users.settings.updateImap", vec![]),
        ("GET", ["settings", "pop"]) => ("users.settings.getPop", vec![]),
        ("PUT", ["settings", "pop"]) => ("users.settings.updatePop", vec![]),
        ("GET", ["settings", "language"]) => ("users.settings.getLanguage", vec![]),
        ("PUT", ["settings", "language"]) => ("users.settings.updateLanguage", vec![]),
        ("GET", ["settings", "autoForwarding"]) => ("users.settings.getAutoForwarding", vec![]),
        ("PUT", ["settings", "autoForwarding"]) => ("users.settings.updateAutoForwarding", vec![]),
        ("GET", ["settings", "forwardingAddresses"]) => {
            ("users.settings.forwardingAddresses.list", vec![])
        }
        ("GET", ["settings", "forwardingAddresses", f]) => {
            ("users.settings.forwardingAddresses.get", vec![id(f)])
        }
        ("GET", ["settings", "vacation"]) => ("users.settings.getVacation", vec![]),
        ("PUT", ["settings", "vacation"]) => ("users.settings.updateVacation", vec![]),
        _ => return None,
    };
    Some(m)
}

/// Parse a Gmail path. `None` when it is not a Gmail API path at all.
pub fn parse_route(http: &str, path: &str) -> Option<Route> {
    let trimmed = path.trim_start_matches('/');
    let (upload, rest) = if let Some(r) = trimmed.strip_prefix("resumable/upload/gmail/v1/users/") {
        (true, r)
    } else if let Some(r) = trimmed.strip_prefix("upload/gmail/v1/users/") {
        (true, r)
    } else if let Some(r) = trimmed.strip_prefix("gmail/v1/users/") {
        (false, r)
    } else {
        return None;
    };
    let segs: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let (user, tail) = segs.split_first()?;
    let (method, ids) = match_method(http, tail, upload)?;
    Some(Route {
        method,
        user: decode_segment(user),
        ids,
        upload,
    })
}

fn bearer_token(req: &ApiRequest) -> Option<String> {
    if let Some(h) = req.header("authorization") {
        let t = h
            .strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
            .or_else(|| h.strip_prefix("OAuth "))?;
        return Some(t.trim().to_string());
    }
    req.query
        .iter()
        .find(|(k, _)| k == "access_token" || k == "oauth_token")
        .map(|(_, v)| v.clone())
}

/// The session id of a resumable-upload chunk (the session URL carries it).
fn upload_session_id(req: &ApiRequest) -> Option<&str> {
    let path = req.path.trim_start_matches('/');
    if !(path.starts_with("upload/") || path.starts_with("resumable/")) {
        return None;
    }
    req.query
        .iter()
        .find(|(k, _)| k == "upload_id")
        .map(|(_, v)| v.as_str())
}

/// The Gmail method `req` will run as (before it runs), so faults can target it. A
/// resumable chunk runs as its session's method.
pub fn method_of(state: &AppState, req: &ApiRequest) -> Option<&'static str> {
    if let Some(id) = upload_session_id(req) {
        return state.uploads.lock().get(id).map(|s| s.route.method);
    }
    let http = match req.header("x-http-method-override") {
        Some(m) if req.method == "POST" => m.to_ascii_uppercase(),
        _ => req.method.clone(),
    };
    parse_route(&http, &req.path).map(|r| r.method)
}

/// `delay_after_ms`: hold a processed request's answer, once its writes are on disk.
pub async fn hold_answer(state: &AppState, methods: &[Option<&str>]) {
    let ms = state.faults.delay_after_ms(methods);
    if ms > 0 {
        state.store.db.flush().await;
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
}

/// Handle one Gmail API request end to end (sync: everything is in memory).
pub fn dispatch(state: &AppState, mut req: ApiRequest) -> ApiResponse {
    // Python's client turns long GETs into POST + X-HTTP-Method-Override with a form body.
    if req.method == "POST" {
        if let Some(m) = req
            .header("x-http-method-override")
            .map(str::to_ascii_uppercase)
        {
            let is_form = req
                .header("content-type")
                .map(|c| c.starts_with("application/x-www-form-urlencoded"))
                .unwrap_or(false);
            if is_form {
                let extra = crate::oauth::parse_pairs(&String::from_utf8_lossy(&req.body));
                req.query.extend(extra);
                req.body.clear();
            }
            req.method = m;
        }
    }
    if upload_session_id(&req).is_some() {
        return upload::resumable_chunk(state, &req);
    }
    let Some(route) = parse_route(&req.method, &req.path) else {
        return ApiResponse::from_error(&ApiError::not_found());
    };
    state.stats.method(route.method);
    let grant = match bearer_token(&req).and_then(|t| state.oauth.validate(&t)) {
        Some(g) => g,
        None => return ApiResponse::from_error(&ApiError::unauthenticated()),
    };
    if route.upload {
        return upload::handle_upload(state, &req, &route, &grant);
    }
    run(state, &route, &grant, &req.query, &req.body, None)
}

/// Authorization, quota and faults, then the handler.
pub fn run(
    state: &AppState,
    route: &Route,
    grant: &AccessGrant,
    query: &[(String, String)],
    body: &[u8],
    upload: Option<UploadInput>,
) -> ApiResponse {
    match run_inner(state, route, grant, query, body, upload) {
        Ok(Reply::Json(s)) => match query.iter().find(|(k, _)| k == "fields") {
            Some((_, f)) if !f.trim().is_empty() => partial(&s, f),
            _ => ApiResponse::json(200, s),
        },
        Ok(Reply::NoContent) => ApiResponse::empty(204),
        Ok(Reply::Raw(r)) => r,
        Err(e) => ApiResponse::from_error(&e),
    }
}

/// Apply a `fields` selection to a JSON answer.
fn partial(body: &str, fields_param: &str) -> ApiResponse {
    let Some(sel) = fields::parse(fields_param) else {
        return ApiResponse::from_error(&ApiError::bad_request(format!(
            "Invalid field selection {fields_param}"
        )));
    };
    match serde_json::from_str::<Value>(body) {
        Ok(v) => ApiResponse::json(200, fields::apply(&v, &sel).to_string()),
        Err(_) => ApiResponse::json(200, body.to_string()),
    }
}

fn run_inner(
    state: &AppState,
    route: &Route,
    grant: &AccessGrant,
    query: &[(String, String)],
    body: &[u8],
    upload: Option<UploadInput>,
) -> ApiResult<Reply> {
    let user = route.user.to_ascii_lowercase();
    if user != "me" && user != grant.email {
        return Err(ApiError::delegation_denied(&route.user));
    }
    if !has_scope(grant, route.method) {
        let req: Vec<String> = scopes_for(route.method)
            .iter()
            .map(|s| scope_url(s))
            .collect();
        let req: Vec<&str> = req.iter().map(String::as_str).collect();
        return Err(ApiError::insufficient_scope(&req));
    }
    state.quota.charge(&grant.email, route.method)?;
    if let Some(e) = state.faults.roll(route.method) {
        return Err(e);
    }
    let Some(mailbox) = state.store.get(&grant.email) else {
        return Err(ApiError::failed_precondition("Precondition check failed."));
    };
    let ctx = Ctx {
        state,
        mailbox,
        grant,
        route,
        query,
        body,
        upload,
        now_ms: chrono::Utc::now().timestamp_millis(),
    };
    match route.method {
        "users.getProfile" => profile::get(&ctx),
        "users.watch" => profile::watch(&ctx),
        "users.stop" => Ok(Reply::NoContent),
        "users.messages.list" => messages::list(&ctx),
        "users.messages.get" => messages::get(&ctx),
        "users.messages.insert" => messages::insert(&ctx, false),
        "users.messages.import" => messages::insert(&ctx, true),
        "users.messages.send" => messages::send(&ctx),
        "users.messages.modify" => messages::modify(&ctx),
        "users.messages.batchModify" => messages::batch_modify(&ctx),
        "users.messages.batchDelete" => messages::batch_delete(&ctx),
        "users.messages.trash" => messages::trash(&ctx, true),
        "users.messages.untrash" => messages::trash(&ctx, false),
        "users.messages.delete" => messages::delete(&ctx),
        "users.messages.attachments.get" => messages::attachment(&ctx),
        "users.threads.list" => threads::list(&ctx),
        "users.threads.get" => threads::get(&ctx),
        "users.threads.modify" => threads::modify(&ctx),
        "users.threads.trash" => threads::trash(&ctx, true),
        "users.threads.untrash" => threads::trash(&ctx, false),
        "users.threads.delete" => threads::delete(&ctx),
        "users.labels.list" => labels::list(&ctx),
        "users.labels.get" => labels::get(&ctx),
        "users.labels.create" => labels::create(&ctx),
        "users.labels.update" => labels::update(&ctx, false),
        "users.labels.patch" => labels::update(&ctx, true),
        "users.labels.delete" => labels::delete(&ctx),
        "users.drafts.list" => drafts::list(&ctx),
        "users.drafts.get" => drafts::get(&ctx),
        "users.drafts.create" => drafts::create(&ctx),
        "users.drafts.update" => drafts::update(&ctx),
        "users.drafts.send" => drafts::send(&ctx),
        "users.drafts.delete" => drafts::delete(&ctx),
        "users.history.list" => history::list(&ctx),
        "users.settings.filters.list" => settings::filters_list(&ctx),
        "users.settings.filters.get" => settings::filters_get(&ctx),
        "users.settings.filters.create" => settings::filters_create(&ctx),
        "users.settings.filters.delete" => settings::filters_delete(&ctx),
        "users.settings.sendAs.list" => settings::send_as_list(&ctx),
        "users.settings.sendAs.get" => settings::send_as_get(&ctx),
        "users.settings.sendAs.create" => settings::send_as_create(&ctx),
        "users.settings.sendAs.update" => settings::send_as_update(&ctx, false),
        "users.settings.sendAs.patch" => settings::send_as_update(&ctx, true),
        "users.settings.sendAs.delete" => settings::send_as_delete(&ctx),
        "users.settings.sendAs.verify" => settings::send_as_verify(&ctx),
        "users.settings.getVacation" => settings::vacation_get(&ctx),
        "users.settings.updateVacation" => settings::vacation_update(&ctx),
        "users.settings.getImap" => settings::simple_get(&ctx, "imap"),
        "users.settings.updateImap" => settings::simple_update(&ctx, "imap"),
        "users.settings.getPop" => settings::simple_get(&ctx, "pop"),
        "users.settings.updatePop" => settings::simple_update(&ctx, "pop"),
        "users.settings.getLanguage" => settings::simple_get(&ctx, "language"),
        "users.settings.updateLanguage" => settings::simple_update(&ctx, "language"),
        "users.settings.getAutoForwarding" => settings::simple_get(&ctx, "autoForwarding"),
        "users.settings.updateAutoForwarding" => settings::auto_forwarding_update(&ctx),
        "users.settings.forwardingAddresses.list" => Ok(Reply::value(serde_json::json!({}))),
        "users.settings.forwardingAddresses.get" => Err(ApiError::not_found()),
        _ => Err(ApiError::not_found()),
    }
}

/// Build an [`ApiRequest`] from an actix request.
pub fn api_request(req: &HttpRequest, body: &[u8]) -> ApiRequest {
    let info = req.connection_info();
    ApiRequest {
        method: req.method().as_str().to_string(),
        path: req.uri().path().to_string(),
        query: crate::oauth::parse_pairs(req.query_string()),
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
        origin: format!("{}://{}", info.scheme(), info.host()),
    }
}

/// actix entry point for `/gmail/v1/…`, `/upload/…` and `/resumable/upload/…`.
pub async fn gmail_entry(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    state.stats.http_request();
    let api_req = api_request(&req, &body);
    let method = method_of(&state, &api_req);
    // Gmail refuses a user's requests beyond a small number in flight; only observable when
    // latency is injected, since handlers themselves never wait.
    let cap = state.faults.concurrency_cap(method);
    let user = if cap > 0 {
        bearer_token(&api_req)
            .and_then(|t| state.oauth.validate(&t))
            .map(|g| g.email)
    } else {
        None
    };
    let _slot = match &user {
        Some(u) => match state.faults.enter(u, cap) {
            Some(slot) => Some(slot),
            None => {
                return ApiResponse::from_error(&state.faults.too_many_concurrent()).into_http();
            }
        },
        None => None,
    };
    let latency = state.faults.latency_ms(&[method]);
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    let resp = dispatch(&state, api_req);
    hold_answer(&state, &[method]).await;
    resp.into_http()
}
