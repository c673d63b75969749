//! The token endpoint (authorization_code with PKCE, refresh_token) and revocation.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use serde_json::json;

use super::http::{basic_credentials, body_pairs, get, oauth_error, query_or_body};
use crate::grants::{now_secs, parse_scopes, subject_id, RefreshGrant};
use crate::state::AppState;

fn token_json(
    access: &str,
    expires_in: u64,
    refresh: Option<&str>,
    scopes: &[String],
    id_token: Option<String>,
) -> HttpResponse {
    let mut v = json!({
        "access_token": access,
        "expires_in": expires_in,
        "scope": scopes.join(" "),
        "token_type": "Bearer",
    });
    if let Some(r) = refresh {
        v["refresh_token"] = json!(r);
    }
    if let Some(t) = id_token {
        v["id_token"] = json!(t);
    }
    HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .insert_header((
            header::CACHE_CONTROL,
            "no-cache, no-store, max-age=0, must-revalidate",
        ))
        .insert_header((header::PRAGMA, "no-cache"))
        .body(v.to_string())
}

/// An unsigned-looking JWT carrying the usual OIDC claims (nobody can verify it; the
/// signature segment is a placeholder).
fn id_token(client_id: &str, email: &str, ttl: u64) -> String {
    let e = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
    };
    let now = now_secs();
    let header = e(json!({"alg": "RS256", "kid": "sandbox", "typ": "JWT"}));
    let claims = e(json!({
        "iss": "https://accounts.google.com",
        "azp": client_id,
        "aud": client_id,
        "sub": subject_id(email),
        "email": email,
        "email_verified": true,
        "iat": now,
        "exp": now + ttl as i64,
    }));
    format!("{header}.{claims}.c2FuZGJveC1zaWduYXR1cmU")
}

/// POST /token, /o/oauth2/token, /oauth2/v4/token
pub async fn token(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let p = body_pairs(&req, &body);
    let grant_type = get(&p, "grant_type").unwrap_or("").to_string();
    state.stats.grant(if grant_type.is_empty() {
        "(none)"
    } else {
        &grant_type
    });
    let (client_id, client_secret) = match basic_credentials(&req) {
        Some(c) => (Some(c.0), Some(c.1)),
        None => (
            get(&p, "client_id").map(str::to_string),
            get(&p, "client_secret").map(str::to_string),
        ),
    };
    let Some(client_id) = client_id else {
        return oauth_error(
            400,
            "invalid_request",
            "Could not determine client ID from request.",
        );
    };
    let Some(client) = state.oauth.client(&client_id) else {
        return oauth_error(401, "invalid_client", "The OAuth client was not found.");
    };
    if client_secret.as_deref() != Some(client.client_secret.as_str()) {
        return oauth_error(401, "invalid_client", "Unauthorized");
    }
    match grant_type.as_str() {
        "authorization_code" => {
            let Some(code) = get(&p, "code") else {
                return oauth_error(400, "invalid_request", "Missing required parameter: code");
            };
            let grant = match state.oauth.redeem_code(
                code,
                &client_id,
                get(&p, "redirect_uri"),
                get(&p, "code_verifier"),
            ) {
                Ok(g) => g,
                Err((error, description)) => return oauth_error(400, error, description),
            };
            let rt = state.oauth.issue_refresh(RefreshGrant {
                client_id: client_id.clone(),
                email: grant.email.clone(),
                scopes: grant.scopes.clone(),
            });
            let (at, exp) = state.oauth.issue_access(
                &grant.email,
                grant.scopes.clone(),
                &client_id,
                Some(rt.clone()),
            );
            let idt = grant
                .scopes
                .iter()
                .any(|s| s == "openid")
                .then(|| id_token(&client_id, &grant.email, exp));
            token_json(&at, exp, Some(&rt), &grant.scopes, idt)
        }
        "refresh_token" => {
            let Some(rt) = get(&p, "refresh_token") else {
                return oauth_error(
                    400,
                    "invalid_request",
                    "Missing required parameter: refresh_token",
                );
            };
            let Some(g) = state.oauth.refresh_grant(rt) else {
                return oauth_error(400, "invalid_grant", "Token has been expired or revoked.");
            };
            if g.client_id != client_id {
                return oauth_error(401, "unauthorized_client", "Unauthorized");
            }
            let scopes = match get(&p, "scope") {
                Some(s) => {
                    let asked = parse_scopes(s);
                    if asked.iter().any(|a| !g.scopes.contains(a)) {
                        return oauth_error(
                            400,
                            "invalid_scope",
                            "Some requested scopes were invalid.",
                        );
                    }
                    asked
                }
                None => g.scopes.clone(),
            };
            let (at, exp) = state.oauth.issue_access(
                &g.email,
                scopes.clone(),
                &client_id,
                Some(rt.to_string()),
            );
            let idt = scopes
                .iter()
                .any(|s| s == "openid")
                .then(|| id_token(&client_id, &g.email, exp));
            token_json(&at, exp, None, &scopes, idt)
        }
        "" => oauth_error(400, "unsupported_grant_type", "Invalid grant_type: "),
        other => oauth_error(
            400,
            "unsupported_grant_type",
            &format!("Invalid grant_type: {other}"),
        ),
    }
}

/// POST /revoke (token in the query or the form body).
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let Some(token) = query_or_body(&req, &body, "token") else {
        return oauth_error(400, "invalid_request", "Missing required parameter: token");
    };
    if state.oauth.revoke(&token) {
        HttpResponse::Ok()
            .content_type("application/json; charset=utf-8")
            .body("{}")
    } else {
        oauth_error(400, "invalid_token", "Token expired or revoked")
    }
}
