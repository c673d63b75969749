//! The OAuth 2.1 authorization server for remote MCP clients (multi-user mode): RFC 8414
//! metadata, registration, the authorize and consent pages, the token and revocation
//! endpoints. The logic is `gmail_shared::authorization`; this is HTTP.
//!
//! `GET /oauth2/authorize` checks the request, keeps it in this browser's session and shows
//! the consent page, which names the client, where it will be sent back, and what it asks
//! for. A visitor who is not signed in signs in with Google first (with the client's
//! `login_hint`) and comes back to it. Only the browser that started a request can approve
//! it, with the session's CSRF token, from this server's own page, and only once: the session
//! is a cookie, which an old copy restores, so the decision is spent in the store.

use actix_session::Session;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use gmail_shared::authorization::{
    AuthorizationRequest, AuthorizeQuery, AuthorizeRefusal, OAuthError, RegistrationRequest,
    RevokeRequest, TokenRequest, SCOPE_READONLY,
};
use gmail_shared::oauth::accounts::Accounts;
use gmail_shared::store::User;
use gmail_shared::GmailError;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::page::{escape, page};
use super::site::{accounts, error_page, hidden_csrf, signed_in, SiteRequest};
use crate::app::AppState;

/// The pending request in the session.
const PENDING: &str = "oauth2_request";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/.well-known/oauth-authorization-server",
        web::get().to(metadata),
    )
    .route("/oauth2/register", web::post().to(register))
    .route("/oauth2/authorize", web::get().to(authorize))
    .route("/oauth2/consent", web::get().to(consent_page))
    .route("/oauth2/consent", web::post().to(decide))
    .route("/oauth2/token", web::post().to(token))
    .route("/oauth2/revoke", web::post().to(revoke));
}

fn answer(status: u16, body: &impl serde::Serialize) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body)
}

fn oauth_error(e: &OAuthError) -> HttpResponse {
    let mut r = answer(e.status, &e.body());
    if e.status == 401 {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Basic realm=\"gmail-servers\""),
        );
    }
    r
}

/// An OAuth endpoint's JSON answer: its result with `status`, or the error's own.
fn respond(status: u16, done: Result<impl serde::Serialize, OAuthError>) -> HttpResponse {
    match done {
        Ok(body) => answer(status, &body),
        Err(e) => oauth_error(&e),
    }
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::LOCATION, to))
        .finish()
}

fn server(
    state: &AppState,
) -> Result<&gmail_shared::authorization::AuthorizationServer, OAuthError> {
    accounts(state)
        .map(|a| a.authorization())
        .map_err(|e| OAuthError::new("invalid_request", e.to_string()))
}

/// RFC 8414 metadata (public: any origin may read it).
async fn metadata(state: web::Data<AppState>) -> HttpResponse {
    match server(&state) {
        Ok(s) => HttpResponse::Ok()
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
            .insert_header((header::CACHE_CONTROL, "max-age=3600"))
            .json(s.metadata()),
        Err(_) => gmail_shared::server::problem::Problem::not_found(
            "authorization server metadata: OAuth for MCP clients needs multi-user mode",
        )
        .response(),
    }
}

/// Dynamic Client Registration (RFC 7591), JSON in and out.
async fn register(
    state: web::Data<AppState>,
    body: Result<web::Json<RegistrationRequest>, actix_web::Error>,
) -> HttpResponse {
    let done = async {
        let body = body.map_err(|e| OAuthError::new("invalid_client_metadata", e.to_string()))?;
        server(&state)?.register(&body).await
    }
    .await;
    respond(201, done)
}

async fn authorize(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<AuthorizeQuery>,
) -> HttpResponse {
    let server = match server(&state) {
        Ok(s) => s,
        Err(e) => return error_page(&GmailError::invalid("mode", e.description)),
    };
    // Errors go straight back only to an app this browser's user approved.
    let user = match accounts(&state) {
        Ok(accounts) => signed_in(&session, accounts).await.ok().flatten(),
        Err(_) => None,
    };
    match server
        .check_authorization(&query, user.as_ref().map(|u| u.id.as_str()))
        .await
    {
        Ok(request) => {
            if let Err(e) = session.insert(PENDING, &request) {
                return error_page(&GmailError::internal_from("session", e.to_string()));
            }
            see_other("/oauth2/consent")
        }
        Err(AuthorizeRefusal::Redirect(to)) => see_other(&to),
        // No user has approved this client yet: its redirect URI is its registrant's word.
        Err(AuthorizeRefusal::Link { why, to }) => page(
            StatusCode::BAD_REQUEST,
            "This app's request cannot go on",
            &format!(
                "<p>{}</p><p>Go back to the app only if you trust it: <a href=\"{}\">{}</a></p>",
                escape(&why),
                escape(&to),
                escape(to.split('?').next().unwrap_or_default()),
            ),
        ),
        Err(AuthorizeRefusal::Page(why)) => page(
            StatusCode::BAD_REQUEST,
            "This app cannot connect",
            &format!("<p>{}</p>", escape(&why)),
        ),
    }
}

/// What identifies the request a consent page showed: its form carries this, and a decision
/// applies only to that request. Another authorize in the same browser (a page navigating it
/// there, say) replaces the pending request, and must not inherit a click meant for this one.
fn fingerprint(request: &AuthorizationRequest) -> String {
    let bytes = serde_json::to_vec(request).unwrap_or_default();
    format!("{:x}", Sha256::digest(bytes))
}

fn pending(session: &Session) -> Option<AuthorizationRequest> {
    session.get::<AuthorizationRequest>(PENDING).ok().flatten()
}

/// What the user is asked: the client, where it is sent back, and the access it wants.
fn describe(request: &AuthorizationRequest) -> String {
    let access = if request.scope == SCOPE_READONLY {
        "read your Gmail (search, read messages and settings); it cannot send, change or delete anything"
    } else {
        "read, send, organize and delete your Gmail, as you can"
    };
    format!(
        "<p><b>{}</b> asks to use your Gmail through this server.</p>\
         <table><tr><th>Client</th><td><code>{}</code></td></tr>\
         <tr><th>Sent back to</th><td><code>{}</code></td></tr>\
         <tr><th>Access</th><td>{} ({})</td></tr>\
         <tr><th>For</th><td><code>{}</code></td></tr></table>",
        escape(&request.client_name),
        escape(&request.client_id),
        escape(&request.redirect_uri),
        access,
        escape(&request.scope),
        escape(&request.resource),
    )
}

async fn consent_page(state: web::Data<AppState>, session: Session) -> HttpResponse {
    let accounts = match accounts(&state) {
        Ok(a) => a,
        Err(e) => return error_page(&e),
    };
    let Some(request) = pending(&session) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Nothing to approve",
            "<p>No app is waiting for your approval in this browser. Start again from the app.</p>",
        );
    };
    if request.expired() {
        return page(
            StatusCode::BAD_REQUEST,
            "Nothing to approve",
            "<p>The app's request waited too long for a decision. Start again from the app.</p>",
        );
    }
    let about = describe(&request);
    match signed_in(&session, accounts).await {
        Ok(Some(user)) => consent_form(&session, &user, &request, &about),
        Ok(None) => {
            let hint = request
                .login_hint
                .as_deref()
                .map(|h| {
                    format!(
                        "<input type=\"hidden\" name=\"login_hint\" value=\"{}\">",
                        escape(h)
                    )
                })
                .unwrap_or_default();
            page(
                StatusCode::OK,
                "Connect an app",
                &format!(
                    "{about}<p>Sign in first, with the Google account whose mail it should use.</p>\
                     <form method=\"post\" action=\"/signin\"><input type=\"hidden\" name=\"next\" value=\"/oauth2/consent\">{hint}\
                     <button type=\"submit\">Sign in with Google</button></form>"
                ),
            )
        }
        Err(e) => error_page(&e),
    }
}

fn consent_form(
    session: &Session,
    user: &User,
    request: &AuthorizationRequest,
    about: &str,
) -> HttpResponse {
    let csrf = super::site::csrf_token(session);
    page(
        StatusCode::OK,
        "Connect an app",
        &format!(
            "{about}<p>Signed in as <b>{}</b>. Allow only if you started this from that app.</p>\
             <form method=\"post\" action=\"/oauth2/consent\">{}\
             <input type=\"hidden\" name=\"request\" value=\"{}\">\
             <button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button> \
             <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
            escape(user.email.as_deref().unwrap_or(&user.external_id)),
            hidden_csrf(&csrf),
            fingerprint(request),
        ),
    )
}

#[derive(Debug, Deserialize)]
struct DecisionForm {
    csrf: String,
    decision: String,
    /// The [`fingerprint`] of the request the page showed.
    request: String,
}

/// Allow: a grant and a code, sent back to the client; deny: `access_denied`.
async fn decide(site: SiteRequest, form: web::Form<DecisionForm>) -> HttpResponse {
    let allow = form.decision == "allow";
    let session = site.session.clone();
    let act = async |accounts: &Accounts, user: User| {
        let request = session
            .remove_as::<AuthorizationRequest>(PENDING)
            .and_then(Result::ok)
            .ok_or_else(|| {
                GmailError::invalid("request", "no app is waiting for approval in this browser")
            })?;
        if fingerprint(&request) != form.request {
            return Err(GmailError::invalid(
                "request",
                "another app asked for approval in this browser after this page was shown; \
                 nothing was approved. Start again from the app you meant",
            ));
        }
        let server = accounts.authorization();
        if allow {
            server.approve(&user, &request).await
        } else {
            server.deny(&user, &request).await
        }
    };
    site.act(&form.csrf, act, |to| see_other(&to)).await
}

fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    gmail_shared::authorization::basic_credentials(value)
}

async fn token(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: Result<web::Form<TokenRequest>, actix_web::Error>,
) -> HttpResponse {
    let done = async {
        let form = form.map_err(|e| {
            OAuthError::new(
                "invalid_request",
                format!("send application/x-www-form-urlencoded: {e}"),
            )
        })?;
        server(&state)?.token(&form, basic_credentials(&req)).await
    }
    .await;
    respond(200, done)
}

/// RFC 7009: 200 whether or not the token was known.
async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: Result<web::Form<RevokeRequest>, actix_web::Error>,
) -> HttpResponse {
    let done = async {
        let form = form.map_err(|e| OAuthError::new("invalid_request", e.to_string()))?;
        server(&state)?.revoke(&form, basic_credentials(&req)).await
    }
    .await;
    respond(200, done.map(|()| serde_json::json!({})))
}
