//! Multi-user connections over REST: the OAuth callback Google redirects to, and the
//! caller's connections (start, list, check, disconnect).

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use gmail_shared::oauth::accounts::Accounts;
use gmail_shared::GmailError;
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::app::AppState;

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn wants_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(status: actix_web::http::StatusCode, title: &str, body_html: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        // The page may show an API key: never cache it.
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title>\
             <style>body{{font-family:system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem}}\
             code,pre{{background:#f3f3f3;padding:.2rem .4rem;border-radius:4px;white-space:pre-wrap;word-break:break-all}}</style>\
             </head><body><h1>{t}</h1>{body_html}</body></html>",
            t = escape(title)
        ))
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
            escape(&err.to_string())
        ),
    )
}

/// Where Google sends the browser after consent.
#[get("/oauth/callback")]
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<CallbackQuery>,
) -> HttpResponse {
    let Some(accounts) = state.accounts() else {
        return failure(
            &req,
            GmailError::invalid("state", "this server runs in single-user mode; connections are made with `gmail-mcp-server auth`"),
            "Connections are not enabled",
        );
    };
    let q = query.into_inner();
    if let Some(error) = q.error {
        // Consume the state so it cannot be replayed.
        if let Some(s) = &q.state {
            let _ = accounts.store().take_oauth_state(s).await;
        }
        let detail = if error == "access_denied" {
            "consent was declined on Google's page".to_string()
        } else {
            format!("Google answered {error}")
        };
        return failure(
            &req,
            GmailError::invalid("error", detail),
            "Gmail was not connected",
        );
    }
    let (Some(code), Some(st)) = (q.code, q.state) else {
        return failure(
            &req,
            GmailError::invalid("code", "the callback needs both `code` and `state`"),
            "Gmail was not connected",
        );
    };
    match complete(accounts, &st, &code, &state).await {
        Ok(Completed {
            email,
            key,
            redirect,
        }) => {
            if let Some(to) = redirect {
                return HttpResponse::Found()
                    .insert_header((header::LOCATION, to))
                    .finish();
            }
            let line = format!(
                "claude mcp add --transport sse gmail {}/sse --header \"Authorization: Bearer {}\"",
                state.public_mcp_url().trim_end_matches('/'),
                key
            );
            if wants_json(&req) {
                return HttpResponse::Ok()
                    .insert_header((header::CACHE_CONTROL, "no-store"))
                    .json(serde_json::json!({"connected": email, "apiKey": key, "claudeCommand": line}));
            }
            page(
                actix_web::http::StatusCode::OK,
                "Gmail connected",
                &format!(
                    "<p><b>{}</b> is connected.</p><p>Your personal API key (shown once):</p><pre>{}</pre>\
                     <p>Connect Claude Code:</p><pre>{}</pre>",
                    escape(&email),
                    escape(&key),
                    escape(&line)
                ),
            )
        }
        Err(e) => failure(&req, e, "Gmail was not connected"),
    }
}

struct Completed {
    email: String,
    key: String,
    redirect: Option<String>,
}

async fn complete(
    accounts: &Accounts,
    st: &str,
    code: &str,
    state: &AppState,
) -> Result<Completed, GmailError> {
    let (user, info, return_to) = accounts.complete(st, code, None).await?;
    let redirect = return_to.or_else(|| state.success_redirect_url());
    if redirect.is_some() {
        return Ok(Completed {
            email: info.email,
            key: String::new(),
            redirect,
        });
    }
    // Shown once on the page: a fresh personal key so the user can connect their agent.
    let (_, key) = accounts
        .store()
        .create_api_key(&user.id, &format!("connected {}", info.email))
        .await?;
    Ok(Completed {
        email: info.email,
        key: key.expose_secret().to_string(),
        redirect: None,
    })
}
