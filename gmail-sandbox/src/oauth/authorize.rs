//! The authorization endpoint: auto-approved, or a consent page whose form posts back.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::http::{get, html_error};
use crate::form::parse_pairs;
use crate::grants::{now_secs, parse_scopes, AuthCode, CODE_TTL_SECS};
use crate::render::escape_html;
use crate::state::AppState;

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let mut out = uri.to_string();
    let mut sep = if uri.contains('?') { '&' } else { '?' };
    for (k, v) in params {
        out.push(sep);
        out.push_str(k);
        out.push('=');
        out.push_str(&enc(v));
        sep = '&';
    }
    out
}

fn redirect_allowed(uri: &str) -> bool {
    uri == "urn:ietf:wg:oauth:2.0:oob" || uri.starts_with("http://") || uri.starts_with("https://")
}

/// GET /o/oauth2/v2/auth and /o/oauth2/auth
pub async fn authorize(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let p = parse_pairs(req.query_string());
    authorize_params(&state, &p)
}

fn authorize_params(state: &AppState, p: &[(String, String)]) -> HttpResponse {
    let Some(client_id) = get(p, "client_id") else {
        return html_error(
            400,
            "Error 400: invalid_request",
            "Missing required parameter: client_id",
        );
    };
    if state.oauth.client(client_id).is_none() {
        return html_error(
            401,
            "Error 401: invalid_client",
            "The OAuth client was not found.",
        );
    }
    let Some(redirect_uri) = get(p, "redirect_uri") else {
        return html_error(
            400,
            "Error 400: invalid_request",
            "Missing required parameter: redirect_uri",
        );
    };
    if !redirect_allowed(redirect_uri) {
        return html_error(
            400,
            "Error 400: redirect_uri_mismatch",
            "The redirect URI in the request did not match a registered redirect URI.",
        );
    }
    match get(p, "response_type") {
        Some("code") => {}
        None => {
            return html_error(
                400,
                "Error 400: invalid_request",
                "Missing required parameter: response_type",
            )
        }
        Some(other) => {
            return html_error(
                400,
                "Error 400: unsupported_response_type",
                &format!("Unsupported response type: {other}"),
            )
        }
    }
    let Some(scope) = get(p, "scope") else {
        return html_error(
            400,
            "Error 400: invalid_request",
            "Missing required parameter: scope",
        );
    };
    let email = match get(p, "login_hint") {
        Some(h) => {
            if state.store.get(h).is_none() {
                return html_error(
                    400,
                    "Error 400: invalid_request",
                    &format!("No sandbox mailbox for {h}"),
                );
            }
            h.to_ascii_lowercase()
        }
        None => get(p, "authuser_email")
            .map(str::to_string)
            .unwrap_or_else(|| crate::seed::DEMO_EMAIL.to_string()),
    };
    let approved = match get(p, "decision") {
        Some("approve") => true,
        Some(_) => {
            let mut params = vec![("error", "access_denied")];
            if let Some(s) = p.iter().find(|(k, _)| k == "state") {
                params.push(("state", s.1.as_str()));
            }
            return redirect(&with_query(redirect_uri, &params));
        }
        None => state.cfg.auto_approve,
    };
    if !approved {
        return consent_page(state, p, &email);
    }
    let challenge = get(p, "code_challenge").map(str::to_string);
    let method = get(p, "code_challenge_method")
        .unwrap_or("plain")
        .to_string();
    let scopes = parse_scopes(scope);
    let code = state.oauth.new_code(AuthCode {
        client_id: client_id.to_string(),
        redirect_uri: redirect_uri.to_string(),
        email,
        scopes: scopes.clone(),
        challenge,
        challenge_method: method,
        expires_at: now_secs() + CODE_TTL_SECS,
        redeemed: false,
    });
    if redirect_uri == "urn:ietf:wg:oauth:2.0:oob" {
        return HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(format!(
                "<!doctype html><html><head><title>Success code={c}</title></head><body>\
                 <p>Copy this code into your application:</p><textarea id=\"code\" readonly>{c}</textarea></body></html>",
                c = escape_html(&code)
            ));
    }
    let scope_str = scopes.join(" ");
    let mut params = vec![("code", code.as_str()), ("scope", scope_str.as_str())];
    if let Some(s) = p.iter().find(|(k, _)| k == "state") {
        params.push(("state", s.1.as_str()));
    }
    redirect(&with_query(redirect_uri, &params))
}

fn redirect(location: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .finish()
}

fn consent_page(state: &AppState, p: &[(String, String)], email: &str) -> HttpResponse {
    let esc = escape_html;
    let mut hidden = String::new();
    for (k, v) in p {
        if k == "decision" || k == "authuser_email" {
            continue;
        }
        hidden.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(k),
            esc(v)
        ));
    }
    let mut accounts = String::new();
    for e in state.store.emails() {
        let sel = if e == email { " selected" } else { "" };
        accounts.push_str(&format!("<option value=\"{0}\"{sel}>{0}</option>", esc(&e)));
    }
    let scopes = get(p, "scope").unwrap_or("");
    let client = get(p, "client_id").unwrap_or("");
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><html><head><title>Sign in - Google Accounts (sandbox)</title></head><body>\
             <h1>Gmail Sandbox wants access to your account</h1>\
             <p>Client: <code>{}</code></p><p>Scopes: <code>{}</code></p>\
             <form method=\"post\" action=\"/o/oauth2/approve\">{hidden}\
             <label>Account <select name=\"authuser_email\">{accounts}</select></label>\
             <button type=\"submit\" name=\"decision\" value=\"approve\">Allow</button>\
             <button type=\"submit\" name=\"decision\" value=\"deny\">Cancel</button></form></body></html>",
            esc(client),
            esc(scopes)
        ))
}

/// POST /o/oauth2/approve — the consent form's answer.
pub async fn approve(state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let mut p = parse_pairs(&String::from_utf8_lossy(&body));
    // The account picked in the form wins over the original hint.
    if let Some(acct) = get(&p, "authuser_email").map(str::to_string) {
        p.retain(|(k, _)| k != "login_hint");
        p.push(("login_hint".into(), acct));
    }
    if get(&p, "decision").is_none() {
        p.push(("decision".into(), "deny".into()));
    }
    authorize_params(&state, &p)
}
