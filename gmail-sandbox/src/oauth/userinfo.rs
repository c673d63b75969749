//! Who a token belongs to: userinfo (v2 and OpenID Connect shapes) and tokeninfo.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::http::{bearer, get, oauth_error, query_or_body, unauthorized};
use crate::form::parse_pairs;
use crate::grants::{now_secs, subject_id};
use crate::state::AppState;

fn display_name(state: &AppState, email: &str) -> String {
    state
        .store
        .get(email)
        .map(|m| m.display_name.clone())
        .unwrap_or_default()
}

/// GET /oauth2/v2/userinfo, /userinfo/v2/me
pub async fn userinfo_v2(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    userinfo(&req, &state, false)
}

/// GET /oauth2/v3/userinfo, /v1/userinfo (OpenID Connect shape)
pub async fn userinfo_oidc(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    userinfo(&req, &state, true)
}

/// Both userinfo shapes: the same facts, with v2's or OpenID Connect's names and key order.
fn userinfo(req: &HttpRequest, state: &AppState, oidc: bool) -> HttpResponse {
    let q = parse_pairs(req.query_string());
    let token = bearer(req).or_else(|| get(&q, "access_token").map(str::to_string));
    let Some(g) = token.and_then(|t| state.oauth.validate(&t)) else {
        return unauthorized();
    };
    let name = display_name(state, &g.email);
    let (given, family) = name.split_once(' ').unwrap_or((name.as_str(), ""));
    let picture = "https://lh3.googleusercontent.com/a/default-user=s96-c";
    let body = if oidc {
        json!({
            "sub": subject_id(&g.email),
            "name": name,
            "given_name": given,
            "family_name": family,
            "picture": picture,
            "email": g.email,
            "email_verified": true,
            "locale": "en",
        })
    } else {
        json!({
            "id": subject_id(&g.email),
            "email": g.email,
            "verified_email": true,
            "name": name,
            "given_name": given,
            "family_name": family,
            "picture": picture,
            "locale": "en",
        })
    };
    json_answer(body)
}

fn json_answer(body: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json; charset=UTF-8")
        .body(body.to_string())
}

/// GET/POST /tokeninfo (access_token in query, form body or bearer header).
pub async fn tokeninfo(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let token = query_or_body(&req, &body, "access_token").or_else(|| bearer(&req));
    let Some(g) = token.and_then(|t| state.oauth.validate(&t)) else {
        return oauth_error(400, "invalid_token", "Invalid Value");
    };
    let left = (g.expires_at - now_secs()).max(0);
    json_answer(json!({
        "azp": g.client_id,
        "aud": g.client_id,
        "sub": subject_id(&g.email),
        "scope": g.scopes.join(" "),
        "exp": g.expires_at.to_string(),
        "expires_in": left.to_string(),
        "email": g.email,
        "email_verified": "true",
        "access_type": if g.refresh_token.is_some() { "offline" } else { "online" },
    }))
}
