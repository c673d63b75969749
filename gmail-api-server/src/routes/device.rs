//! The one-line setup (multi-user mode): `curl -sSL http://HOST:8000/install.sh | bash`.
//! The script asks for a device grant (`POST /device/code`), prints and opens the approval
//! page (`/device?code=…`), where a signed-in user compares the code and approves it, then
//! polls `POST /device/token` until its own new API key comes back (once), and connects
//! Claude Code. The shapes follow RFC 8628 (device authorization grant).

use actix_session::Session;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use gmail_shared::members::DevicePoll;
use gmail_shared::oauth::accounts::Accounts;
use gmail_shared::server::JsonBody;
use gmail_shared::store::User;
use gmail_shared::GmailError;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::page::{escape, page};
use super::site::{accounts, error_page, hidden_csrf, signed_in, SiteRequest};
use super::Answer;
use crate::app::AppState;

const SCRIPT: &str = include_str!("assets/install.sh");

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/install.sh", web::get().to(install_script))
        .route("/device/code", web::post().to(code))
        .route("/device/token", web::post().to(token))
        .route("/device", web::get().to(approval_page))
        .route("/device", web::post().to(decide));
}

/// This server's base URL as the caller reached it (the Host guard has vetted the host).
fn site(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

async fn install_script(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    match accounts(&state) {
        Ok(accounts) => HttpResponse::Ok()
            .content_type("text/x-shellscript; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(
                SCRIPT
                    .replace("__SITE__", &site(&req))
                    .replace("__MCP__", accounts.members().public_mcp_url()),
            ),
        Err(e) => error_page(&e),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CodeRequest {
    name: Option<String>,
}

/// A device asks for a key: its device code (secret), the user code and the approval page.
async fn code(req: HttpRequest, state: web::Data<AppState>, body: JsonBody<CodeRequest>) -> Answer {
    let members = accounts(&state)?.members();
    let name = body.name.as_deref().unwrap_or("device");
    let start = members.device_start(name, &site(&req)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(start))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TokenRequest {
    device_code: SecretString,
}

fn oauth_error(error: &str, description: &str) -> HttpResponse {
    HttpResponse::BadRequest()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({"error": error, "error_description": description}))
}

/// The device polls: `authorization_pending` until approved, then its key, once.
async fn token(state: web::Data<AppState>, body: JsonBody<TokenRequest>) -> Answer {
    let members = accounts(&state)?.members();
    Ok(
        match members
            .device_poll(body.device_code.expose_secret())
            .await?
        {
            DevicePoll::Pending => oauth_error("authorization_pending", "not approved yet"),
            DevicePoll::Denied => oauth_error("access_denied", "the request was denied"),
            DevicePoll::Expired => oauth_error(
                "expired_token",
                "unknown, expired or already used: run the setup again",
            ),
            DevicePoll::Issued(key) => HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(key),
        },
    )
}

#[derive(Debug, Deserialize)]
struct CodeQuery {
    code: Option<String>,
}

/// Every look at a user code (the approval page, a decision) spends from the address's
/// failed-authentication budget (limits.failed_auth_per_minute): a user code is short
/// enough that a signed-in user could otherwise guess other people's pending ones.
fn guess_budget(req: &HttpRequest) -> Result<(), GmailError> {
    let state = req.app_data::<web::Data<AppState>>();
    match (req.peer_addr(), state) {
        (Some(peer), Some(state)) => state.auth.rate().failed_auth(peer.ip()),
        _ => Ok(()),
    }
}

/// The approval page: sign in first (and come back here), then approve or deny.
async fn approval_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<CodeQuery>,
) -> HttpResponse {
    let accounts = match accounts(&state) {
        Ok(a) => a,
        Err(e) => return error_page(&e),
    };
    let code = query.code.clone().unwrap_or_default();
    let here = format!("/device?code={}", escape(&code));
    let user = match signed_in(&session, accounts).await {
        Ok(Some(u)) => u,
        Ok(None) => {
            return page(
                StatusCode::OK,
                "Approve a device",
                &format!(
                    "<p>Sign in to approve the device showing the code <b>{}</b>.</p>\
                     <form method=\"post\" action=\"/signin\"><input type=\"hidden\" name=\"next\" value=\"{here}\">\
                     <button type=\"submit\">Sign in with Google</button></form>",
                    escape(&code)
                ),
            )
        }
        Err(e) => return error_page(&e),
    };
    if let Err(e) = guess_budget(&req) {
        return error_page(&e);
    }
    let grant = match accounts.members().device_request(&code).await {
        Ok(g) => g,
        Err(e) => return error_page(&e),
    };
    let csrf = super::site::csrf_token(&session);
    page(
        StatusCode::OK,
        "Approve a device",
        &format!(
            "<p><b>{}</b> asks for an API key for <b>{}</b>.</p>\
             <p>Approve only if your terminal shows the same code: <b>{}</b></p>\
             <form method=\"post\" action=\"/device\">{}<input type=\"hidden\" name=\"code\" value=\"{}\">\
             <button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button> \
             <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
            escape(&grant.name),
            escape(user.email.as_deref().unwrap_or(&user.external_id)),
            escape(&grant.user_code),
            hidden_csrf(&csrf),
            escape(&grant.user_code)
        ),
    )
}

#[derive(Debug, Deserialize)]
struct DecisionForm {
    csrf: String,
    code: String,
    decision: String,
}

async fn decide(site: SiteRequest, form: web::Form<DecisionForm>) -> HttpResponse {
    if let Err(e) = guess_budget(site.request()) {
        return error_page(&e);
    }
    let approve = form.decision == "approve";
    let decide = async |accounts: &Accounts, user: User| {
        let members = accounts.members();
        members.device_decide(&user.id, &form.code, approve).await
    };
    site.act(&form.csrf, decide, |()| match approve {
        true => page(
            StatusCode::OK,
            "Device approved",
            "<p>Go back to your terminal: the setup finishes there.</p>",
        ),
        false => page(
            StatusCode::OK,
            "Device denied",
            "<p>The device gets no key.</p>",
        ),
    })
    .await
}
