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
use crate::grants::AccessGrant;
use crate::methods::{parse_route, scope_url, scopes_for, Route};
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

fn has_scope(grant: &AccessGrant, method: &str) -> bool {
    scopes_for(method)
        .iter()
        .any(|s| grant.scopes.iter().any(|g| *g == scope_url(s)))
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
                let extra = crate::form::parse_pairs(&String::from_utf8_lossy(&req.body));
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
        query: crate::form::parse_pairs(req.query_string()),
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
