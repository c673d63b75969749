//! One file per resource, all under `/api/v1`, plus the helpers they share.

use std::panic::AssertUnwindSafe;

use actix_session::storage::CookieSessionStore;
use actix_session::SessionMiddleware;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::RETRY_AFTER;
use actix_web::middleware::{from_fn, Next};
use actix_web::HttpRequest;
use actix_web::{web, HttpResponse, ResponseError};
use futures_util::FutureExt;
use gmail_shared::server::guard::{browser_guard, host_guard};
use gmail_shared::server::limits::{self, BodyLimits};
use gmail_shared::GmailError;
use serde::Deserialize;
use utoipa::IntoParams;

pub mod attachments;
pub mod audit;
pub mod authorization;
pub mod changes;
pub mod compose;
pub mod connections;
pub mod device;
pub mod drafts;
pub mod events;
pub mod filters;
mod health;
pub mod labels;
pub mod members;
pub mod messages;
pub mod oauth;
mod page;
pub mod profile;
pub mod settings;
pub mod site;
pub mod threads;
pub mod tools;
pub mod webhooks;

pub use health::__path_health;

/// Every route. `/api/v1` answers only requests the browser guard lets through (allowed Host
/// and Origin, JSON or multipart bodies); the pages a browser navigates to (docs, the OAuth
/// pages) check the Host only; `/health` nothing.
pub fn configure(
    cfg: &mut web::ServiceConfig,
    cors: actix_web::middleware::Condition<actix_cors::Cors>,
    doc: utoipa::openapi::OpenApi,
    session: SessionMiddleware<CookieSessionStore>,
) {
    cfg.service(health::health)
        .service(
            web::scope("/api/v1")
                .wrap(from_fn(read_only_guard))
                .wrap(from_fn(caller_rate))
                .wrap(from_fn(gmail_shared::auth::require_caller))
                .wrap(cors)
                .wrap(from_fn(browser_guard))
                .configure(|cfg| API.iter().for_each(|configure| configure(cfg))),
        )
        // Gmail's Pub/Sub pushes: machine to machine, authenticated by their token.
        .route("/hooks/gmail/pubsub", web::post().to(events::pubsub))
        .service(
            // Last: an empty-prefix scope takes every path not matched above.
            web::scope("")
                .wrap(session)
                .wrap(from_fn(host_guard))
                .configure(site::configure)
                .configure(device::configure)
                .configure(authorization::configure)
                .service(oauth::start_page)
                .service(oauth::start)
                .service(oauth::callback)
                .configure(|cfg| crate::openapi::configure(cfg, doc)),
        );
}

/// The `/api/v1` resources, a module each. Order matters where paths overlap: `compose`
/// registers `/messages/send` ahead of `messages`' `/messages/{id}`.
const API: [fn(&mut web::ServiceConfig); 16] = [
    connections::configure,
    compose::configure,
    messages::configure,
    attachments::configure,
    threads::configure,
    labels::configure,
    drafts::configure,
    filters::configure,
    profile::configure,
    changes::configure,
    events::configure,
    webhooks::configure,
    settings::configure,
    tools::configure,
    audit::configure,
    members::configure,
];

/// Takes one request from the caller's rate (limits.caller_per_minute): 429 with Retry-After
/// when over it, before anything runs.
async fn caller_rate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    use actix_web::HttpMessage;
    let refused = req
        .extensions()
        .get::<gmail_shared::tools::ToolContext>()
        .and_then(|ctx| ctx.check_rate().err());
    let refusal = refused.map(|e| actix_web::ResponseError::error_response(&e));
    refuse_or_next(req, next, refusal).await
}

/// A read-only caller (server, key or request) may only read: every other method on a
/// resource is refused before anything runs. `/tools/{name}` decides per tool.
async fn read_only_guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    use actix_web::HttpMessage;
    let reads = matches!(
        *req.method(),
        actix_web::http::Method::GET
            | actix_web::http::Method::HEAD
            | actix_web::http::Method::OPTIONS
    );
    let read_only = req
        .extensions()
        .get::<gmail_shared::tools::ToolContext>()
        .is_some_and(|ctx| ctx.env.tools.is_read_only());
    let refusal = (read_only && !reads && !req.path().starts_with("/api/v1/tools/")).then(|| {
        gmail_shared::server::problem::Problem::forbidden(format!(
            "{} {} changes the mailbox, and this caller is read-only (mcp.read_only, a read-only API key, or X-MCP-Readonly)",
            req.method(),
            req.path()
        ))
        .response()
    });
    refuse_or_next(req, next, refusal).await
}

/// A middleware's last step: its refusal if it has one, else the rest of the chain.
async fn refuse_or_next<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
    refusal: Option<HttpResponse>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    match refusal {
        Some(response) => Ok(req.into_response(response).map_into_right_body()),
        None => next.call(req).await.map(|r| r.map_into_left_body()),
    }
}

/// One path's routes as one resource (so a wrong method is a 405), each guarded against
/// panics. The guard sits on the resource, after routing: a request clone held across routing
/// would make actix's router panic.
pub fn resource<const N: usize>(
    cfg: &mut web::ServiceConfig,
    path: &str,
    routes: [actix_web::Route; N],
) {
    let mut r = web::resource(path);
    for route in routes {
        r = r.route(route);
    }
    cfg.service(
        r.default_service(web::to(method_not_allowed))
            .wrap(from_fn(guard)),
    );
}

/// The tool each endpoint does the work of: (method, route pattern, tool). A caller's own
/// rules (an API key's or user's toolsets, read-only) narrow these as they narrow the same
/// tools over MCP. Endpoints that are no tool's (webhooks, events, audit, keys) are not
/// narrowed by toolsets; `/tools/{name}` is checked per tool where it runs.
const ROUTE_TOOLS: &[(&str, &str, &str)] = &[
    ("GET", "/api/v1/messages", "search_emails"),
    ("GET", "/api/v1/messages/{id}", "read_email"),
    ("DELETE", "/api/v1/messages/{id}", "delete_email"),
    ("POST", "/api/v1/messages/send", "send_email"),
    ("POST", "/api/v1/messages/{id}/reply", "reply_email"),
    ("POST", "/api/v1/messages/{id}/forward", "forward_email"),
    ("POST", "/api/v1/messages/{id}/modify", "modify_email"),
    ("POST", "/api/v1/messages/{id}/trash", "trash_email"),
    ("POST", "/api/v1/messages/{id}/untrash", "untrash_email"),
    (
        "POST",
        "/api/v1/messages/batchModify",
        "batch_modify_emails",
    ),
    (
        "POST",
        "/api/v1/messages/batchDelete",
        "batch_delete_emails",
    ),
    (
        "GET",
        "/api/v1/messages/{id}/attachments/{attachmentId}",
        "download_attachment",
    ),
    ("GET", "/api/v1/threads", "list_threads"),
    ("GET", "/api/v1/threads/{id}", "get_thread"),
    ("POST", "/api/v1/threads/{id}/modify", "modify_thread"),
    ("POST", "/api/v1/threads/{id}/trash", "trash_thread"),
    ("POST", "/api/v1/threads/{id}/untrash", "untrash_thread"),
    ("GET", "/api/v1/labels", "list_email_labels"),
    ("GET", "/api/v1/labels/{id}", "list_email_labels"),
    ("POST", "/api/v1/labels", "create_label"),
    ("PATCH", "/api/v1/labels/{id}", "update_label"),
    ("DELETE", "/api/v1/labels/{id}", "delete_label"),
    ("POST", "/api/v1/labels/getOrCreate", "get_or_create_label"),
    ("GET", "/api/v1/drafts", "list_drafts"),
    ("POST", "/api/v1/drafts", "draft_email"),
    ("GET", "/api/v1/drafts/{id}", "get_draft"),
    ("PUT", "/api/v1/drafts/{id}", "update_draft"),
    ("DELETE", "/api/v1/drafts/{id}", "delete_draft"),
    ("POST", "/api/v1/drafts/{id}/send", "send_draft"),
    ("GET", "/api/v1/filters", "list_filters"),
    ("POST", "/api/v1/filters", "create_filter"),
    (
        "POST",
        "/api/v1/filters/fromTemplate",
        "create_filter_from_template",
    ),
    ("GET", "/api/v1/filters/{id}", "get_filter"),
    ("DELETE", "/api/v1/filters/{id}", "delete_filter"),
    ("GET", "/api/v1/profile", "get_profile"),
    ("GET", "/api/v1/changes", "list_changes"),
    ("GET", "/api/v1/settings/vacation", "get_vacation"),
    ("PUT", "/api/v1/settings/vacation", "set_vacation"),
    ("GET", "/api/v1/settings/sendAs", "list_send_as"),
    ("GET", "/api/v1/connections", "gmail_list_connections"),
    ("POST", "/api/v1/connections", "gmail_get_auth_url"),
    (
        "DELETE",
        "/api/v1/connections/{account}",
        "gmail_disconnect",
    ),
    (
        "GET",
        "/api/v1/connections/{account}/check",
        "gmail_check_connection",
    ),
];

/// 403 when the caller's own rules leave out the tool this endpoint does the work of.
fn outside_caller_rules(req: &ServiceRequest) -> Option<HttpResponse> {
    use actix_web::HttpMessage;
    let policy = req
        .extensions()
        .get::<gmail_shared::tools::ToolContext>()?
        .env
        .caller_tools
        .clone()?;
    let pattern = req.match_pattern()?;
    let method = req.method().as_str();
    let (_, _, tool) = ROUTE_TOOLS
        .iter()
        .find(|(m, p, _)| *m == method && *p == pattern)?;
    let state = req.app_data::<web::Data<crate::app::AppState>>()?;
    let spec = state.registry.get(tool)?;
    (!policy.allows(spec)).then(|| {
        gmail_shared::server::problem::Problem::forbidden(format!(
            "{method} {} does the work of the tool {tool} (toolset {}), which this API key's or user's rules leave out",
            req.path(),
            spec.toolset.as_str()
        ))
        .response()
    })
}

/// The path exists but not with this method: a problem+json 405.
async fn method_not_allowed(req: actix_web::HttpRequest) -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .content_type("application/problem+json")
        .json(gmail_shared::ProblemDetails {
            problem_type: "https://gmail-servers.dev/problems/method-not-allowed".into(),
            title: "Method not allowed".into(),
            status: 405,
            detail: format!("{} is not supported on {}", req.method(), req.path()),
            field: None,
            retry_after_secs: None,
        })
}

/// Retry-After on a 429 when Gmail gave none.
const DEFAULT_RETRY_AFTER_SECS: &str = "2";

/// After routing: the caller's own rules are checked against the endpoint's tool (403); a 429
/// always carries Retry-After; a handler that panics answers 500 problem+json with detail
/// instead of dropping the connection.
async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if let Some(refusal) = outside_caller_rules(&req) {
        return Ok(req.into_response(refusal).map_into_right_body());
    }
    let http = req.request().clone();
    match AssertUnwindSafe(next.call(req)).catch_unwind().await {
        Ok(result) => result.map(|mut res| {
            // Gmail does not always say how long to wait; clients still get a hint.
            if res.status() == actix_web::http::StatusCode::TOO_MANY_REQUESTS
                && !res.headers().contains_key(RETRY_AFTER)
            {
                res.headers_mut().insert(
                    RETRY_AFTER,
                    actix_web::http::header::HeaderValue::from_static(DEFAULT_RETRY_AFTER_SECS),
                );
            }
            res.map_into_left_body()
        }),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(panic = %what, "handler panicked");
            let resp =
                GmailError::internal_from("the request handler failed", what).error_response();
            Ok(ServiceResponse::new(http, resp).map_into_right_body())
        }
    }
}

pub use gmail_shared::server::from_json;

/// `?account=`: which connected mailbox to act on (multi-user deployments).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountQuery {
    /// Connected Gmail address to act on; defaults to the primary account.
    #[param(example = "demo@example.com")]
    pub account: Option<String>,
}

/// `a,b , c` → `[a, b, c]`; absent or empty → `[]`.
pub fn split_list(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The largest request body this server takes (`limits.max_body_bytes`).
pub fn max_body(req: &HttpRequest) -> usize {
    req.app_data::<web::Data<BodyLimits>>()
        .map(|l| l.max_bytes)
        .unwrap_or(36 << 20)
}

/// Reads a whole request body, refusing more than `limits.max_body_bytes` with a 413 that
/// states the limit.
pub async fn read_body(req: &HttpRequest, payload: web::Payload) -> Result<web::Bytes, GmailError> {
    let max = max_body(req);
    limits::read_body(payload.into_inner(), max)
        .await
        .map_err(|over| GmailError::TooLarge {
            message: format!(
                "the request body is at least {} bytes; the limit is {}",
                over.seen,
                limits::describe_bytes(max as u64)
            ),
            limit_bytes: max as u64,
        })
}

/// What a handler answers: a response, or a [`GmailError`] that becomes problem+json.
pub type Answer = Result<HttpResponse, GmailError>;

pub fn no_content() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gmail_shared::server::json_error;

    /// Each row of ROUTE_TOOLS names a documented endpoint and a tool of the catalog: a
    /// renamed route or tool would otherwise silently drop its check.
    #[test]
    fn every_route_tool_names_a_real_endpoint_and_tool() {
        let doc = crate::openapi::document();
        let tools = gmail_shared::tools::catalog::names();
        for (method, pattern, tool) in ROUTE_TOOLS {
            let item = doc
                .paths
                .paths
                .get(*pattern)
                .unwrap_or_else(|| panic!("{pattern} is not documented"));
            let has = match *method {
                "GET" => item.get.is_some(),
                "POST" => item.post.is_some(),
                "PUT" => item.put.is_some(),
                "PATCH" => item.patch.is_some(),
                "DELETE" => item.delete.is_some(),
                _ => false,
            };
            assert!(has, "{method} {pattern} is not documented");
            assert!(tools.contains(tool), "{tool} is no tool");
        }
    }

    #[test]
    fn json_errors_name_the_field() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct T {
            to: Vec<String>,
        }
        let e = serde_json::from_str::<T>("{}").unwrap_err();
        assert!(
            matches!(json_error(&e), GmailError::InvalidArgument { field, .. } if field == "to")
        );
        let e = serde_json::from_str::<T>(r#"{"to":[],"tooo":1}"#).unwrap_err();
        assert!(
            matches!(json_error(&e), GmailError::InvalidArgument { field, .. } if field == "tooo")
        );
        // Without a path a quoted value is not taken for a field name; from_json has the path.
        let e = serde_json::from_str::<T>(r#"{"to":1}"#).unwrap_err();
        assert!(
            matches!(json_error(&e), GmailError::InvalidArgument { field, .. } if field == "body")
        );
        let bad = from_json::<T>(serde_json::json!({"to": ["a", 1]})).unwrap_err();
        assert!(
            matches!(&bad, GmailError::InvalidArgument { field, .. } if field == "to[1]"),
            "{bad:?}"
        );
        let bad = from_json::<T>(serde_json::json!({})).unwrap_err();
        assert!(matches!(&bad, GmailError::InvalidArgument { field, .. } if field == "to"));
        assert_eq!(split_list(Some(" a, ,b ")), vec!["a", "b"]);
    }
}
