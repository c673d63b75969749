//! One synchronous dispatcher serves plain HTTP requests, upload endpoints and the parts of
//! a batch request alike: parse the path, authenticate, check the scope, charge quota, maybe
//! inject a fault, then call the resource's handler.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use super::request::{ApiRequest, ApiResponse, Ctx, Reply, UploadInput};
use super::upload::{self, Chunk, Upload};
use super::{drafts, fields, history, labels, messages, profile, settings, threads, watch};
use crate::error::{ApiError, ApiResult};
use crate::grants::AccessGrant;
use crate::methods::{parse_route, scope_url, scopes_for, Route};
use crate::state::AppState;

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
        return match upload::resumable_chunk(state, &req) {
            Chunk::Finished(session) => run(
                state,
                &session.route,
                &session.grant,
                &req.query,
                &session.metadata,
                Some(UploadInput { raw: session.buf }),
            ),
            Chunk::Answer(r) => r,
        };
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
        return match upload::handle_upload(state, &req, &route, &grant) {
            Upload::Run { metadata, raw } => run(
                state,
                &route,
                &grant,
                &req.query,
                &metadata,
                Some(UploadInput { raw }),
            ),
            Upload::Answer(r) => r,
        };
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

/// The largest JSON body Gmail takes outside `/upload`.
const METADATA_BODY_MAX: usize = 1_048_576;

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
    // Gmail's metadata path (a JSON body, no upload) takes 1 MiB at most; bigger messages go
    // through /upload (shared/gmail-api README §4).
    if upload.is_none() && body.len() > METADATA_BODY_MAX {
        return Err(ApiError::bad_request(format!(
            "Request payload size exceeds the limit: {METADATA_BODY_MAX} bytes."
        )));
    }
    if !has_scope(grant, route.method) {
        let req: Vec<String> = scopes_for(route.method)
            .iter()
            .map(|s| scope_url(s))
            .collect();
        let req: Vec<&str> = req.iter().map(String::as_str).collect();
        return Err(ApiError::insufficient_scope(&req));
    }
    if let Err(e) = state.quota.charge(&grant.email, route.method) {
        state.stats.quota_rejection();
        return Err(e);
    }
    if let Some(e) = state.faults.roll(route.method) {
        state.stats.fault_injected();
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
        "users.watch" => watch::watch(&ctx),
        "users.stop" => watch::stop(&ctx),
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
