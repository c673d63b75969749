//! The browser side of connecting a Gmail account (multi-user mode):
//! - `GET /oauth/start?state=…` — the link an agent hands its user: a page naming the user the
//!   account will be connected to, with one button;
//! - `POST /oauth/start` — that button: binds the authorization to this browser (a cookie
//!   whose hash the state keeps) and sends it to Google's consent page;
//! - `GET /oauth/callback` — where Google sends the browser back: finishes only for the browser
//!   holding the cookie, and never shows a key (keys come only from an authenticated action).

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use gmail_shared::oauth::accounts::Accounts;
use gmail_shared::server::guard::HostPolicy;
use gmail_shared::store::FlowBinding;
use gmail_shared::GmailError;
use secrecy::ExposeSecret;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::page::{cross_site, escape, page};
use crate::app::AppState;

/// No `Debug`: it carries an authorization code and a flow state.
#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// No `Debug`: it carries a flow state.
#[derive(Deserialize)]
pub struct StartQuery {
    state: Option<String>,
}

pub(crate) fn wants_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"))
}

fn failure(req: &HttpRequest, err: GmailError, title: &str) -> HttpResponse {
    if wants_json(req) {
        return actix_web::ResponseError::error_response(&err);
    }
    page(
        err.status(),
        title,
        &format!(
            "<p>{}</p><p>Nothing was connected. Ask your agent for a new connection link (gmail_get_auth_url) and try again.</p>",
            escape(&err.public_message())
        ),
    )
}

fn accounts(state: &AppState) -> Result<&Accounts, GmailError> {
    state.accounts().map(|a| a.as_ref()).ok_or_else(|| {
        GmailError::invalid(
            "state",
            "this server runs in single-user mode; connections are made with `gmail-mcp-server auth`",
        )
    })
}

/// The cookie that binds one authorization to one browser; named per state, so a browser can
/// run several at once.
fn cookie_name(state: &str) -> String {
    let digest = Sha256::digest(state.as_bytes());
    format!(
        "gmail_oauth_{}",
        gmail_shared::store::cipher::hex(&digest[..8])
    )
}

/// The start link: says which user the account will be connected to, and asks to go on.
#[get("/oauth/start")]
pub async fn start_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<StartQuery>,
) -> HttpResponse {
    let title = "Connect a Gmail account";
    let result = async {
        let accounts = accounts(&state)?;
        let st = query
            .state
            .as_deref()
            .ok_or_else(|| GmailError::invalid("state", "the link has no state"))?;
        Ok::<_, GmailError>((st.to_string(), accounts.flow_owner(st).await?))
    }
    .await;
    match result {
        Ok((st, user)) => page(
            StatusCode::OK,
            title,
            &format!(
                "<p>This connects a Gmail account to the gmail-servers user <b>{}</b>{}. \
                 Continue only if you asked for it: the agents of that user will read and send mail as the account you choose on Google's page.</p>\
                 <form method=\"post\" action=\"/oauth/start\"><input type=\"hidden\" name=\"state\" value=\"{}\">\
                 <button type=\"submit\">Continue to Google</button></form>",
                escape(&user.external_id),
                user.email
                    .as_deref()
                    .map(|e| format!(" ({})", escape(e)))
                    .unwrap_or_default(),
                escape(&st)
            ),
        ),
        Err(e) => failure(&req, e, "Gmail was not connected"),
    }
}

/// No `Debug`: it carries a flow state.
#[derive(Deserialize)]
pub struct StartForm {
    state: String,
}

/// The button: binds the authorization to this browser and goes to Google.
#[post("/oauth/start")]
pub async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    policy: web::Data<HostPolicy>,
    form: web::Form<StartForm>,
) -> HttpResponse {
    let cross_site = cross_site(&req, &policy);
    if cross_site {
        return failure(
            &req,
            GmailError::invalid(
                "Origin",
                "the connection must be started from this server's own page",
            ),
            "Gmail was not connected",
        );
    }
    let started = match accounts(&state) {
        Ok(accounts) => accounts.open_in_browser(&form.state).await,
        Err(e) => Err(e),
    };
    match started {
        Ok(s) => {
            let cookie = Cookie::build(
                cookie_name(&form.state),
                s.binding.expose_secret().to_string(),
            )
            .path("/oauth")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(state.oauth_callback_is_https())
            .max_age(actix_web::cookie::time::Duration::seconds(
                s.expires_in_secs,
            ))
            .finish();
            HttpResponse::SeeOther()
                .cookie(cookie)
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .insert_header((header::LOCATION, s.consent_url))
                .finish()
        }
        Err(e) => failure(&req, e, "Gmail was not connected"),
    }
}

/// Where Google sends the browser after consent.
#[get("/oauth/callback")]
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<CallbackQuery>,
    session: actix_session::Session,
) -> HttpResponse {
    let accounts = match accounts(&state) {
        Ok(a) => a,
        Err(e) => return failure(&req, e, "Connections are not enabled"),
    };
    let q = query.into_inner();
    // A sign-in this browser started ("Sign in with Google" on the site).
    if let Some(pending) = super::site::pending_sign_in(&session, q.state.as_deref()) {
        return super::site::finish_sign_in(accounts, &session, pending, q.code, q.error).await;
    }
    let Some(st) = q.state else {
        return failure(
            &req,
            GmailError::invalid("state", "the callback has no `state`"),
            "Gmail was not connected",
        );
    };
    let name = cookie_name(&st);
    let token = req
        .cookie(&name)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    let binding = FlowBinding::Browser(&token);
    let done = |response: HttpResponse| {
        // The binding has served its purpose either way.
        let mut response = response;
        let mut gone = Cookie::build(name.clone(), "").path("/oauth").finish();
        gone.make_removal();
        let _ = response.add_cookie(&gone);
        response
    };
    if let Some(error) = q.error {
        // Ends the flow only for the browser it belongs to; anyone else burns nothing.
        let _ = accounts.abandon(&st, binding).await;
        let detail = if error == "access_denied" {
            "consent was declined on Google's page".to_string()
        } else {
            format!("Google answered {error}")
        };
        return done(failure(
            &req,
            GmailError::invalid("error", detail),
            "Gmail was not connected",
        ));
    }
    let Some(code) = q.code else {
        return failure(
            &req,
            GmailError::invalid("code", "the callback needs both `code` and `state`"),
            "Gmail was not connected",
        );
    };
    match accounts.complete(&st, &code, binding).await {
        Ok((_, info, return_to)) => {
            if let Some(to) = return_to.or_else(|| state.success_redirect_url()) {
                return done(
                    HttpResponse::Found()
                        .insert_header((header::LOCATION, to))
                        .finish(),
                );
            }
            if wants_json(&req) {
                return done(
                    HttpResponse::Ok()
                        .insert_header((header::CACHE_CONTROL, "no-store"))
                        .json(
                            serde_json::json!({"connected": info.email, "connectionId": info.id}),
                        ),
                );
            }
            done(page(
                StatusCode::OK,
                "Gmail connected",
                &format!(
                    "<p><b>{}</b> is connected. You can close this page and go back to your agent.</p>",
                    escape(&info.email)
                ),
            ))
        }
        Err(e) => failure(&req, e, "Gmail was not connected"),
    }
}
