//! A stand-in for Google's OAuth 2.0 endpoints: authorization (auto-approved or a consent
//! page), token (authorization_code with PKCE, refresh_token), revoke, userinfo, tokeninfo.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use parking_lot::{Mutex, RwLock};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::db::{DbTx, Table};

pub const SANDBOX_CLIENT_ID: &str = "sandbox-client-id.apps.googleusercontent.com";
pub const SANDBOX_CLIENT_SECRET: &str = "sandbox-client-secret";

pub const SCOPE_FULL: &str = "https://mail.google.com/";
pub const SCOPE_EMAIL: &str = "https://www.googleapis.com/auth/userinfo.email";
pub const SCOPE_PROFILE: &str = "https://www.googleapis.com/auth/userinfo.profile";

/// Code lifetime (Google's are about 10 minutes).
const CODE_TTL_SECS: i64 = 600;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OAuthClient {
    pub client_id: String,
    pub client_secret: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub email: String,
    pub scopes: Vec<String>,
    pub challenge: Option<String>,
    pub challenge_method: String,
    pub expires_at: i64,
    #[serde(default)]
    pub redeemed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshGrant {
    pub client_id: String,
    pub email: String,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessGrant {
    pub client_id: String,
    pub email: String,
    pub scopes: Vec<String>,
    /// Unix seconds.
    pub expires_at: i64,
    pub refresh_token: Option<String>,
}

pub struct OAuthState {
    clients: RwLock<HashMap<String, OAuthClient>>,
    codes: Mutex<HashMap<String, AuthCode>>,
    refresh: RwLock<HashMap<String, RefreshGrant>>,
    access: RwLock<HashMap<String, AccessGrant>>,
    pub ttl_secs: u64,
    db: DbTx,
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Google's short scope aliases, expanded as its token endpoint reports them.
pub fn canonical_scope(s: &str) -> String {
    match s {
        "email" => SCOPE_EMAIL.to_string(),
        "profile" => SCOPE_PROFILE.to_string(),
        other => other.to_string(),
    }
}

pub fn parse_scopes(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for sc in s.split([' ', ',', '+']).filter(|x| !x.is_empty()) {
        let c = canonical_scope(sc);
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// The well-known refresh token of a seeded mailbox.
pub fn well_known_refresh_token(email: &str) -> String {
    format!("1//sandbox-refresh-{}", email.to_ascii_lowercase())
}

/// Stable numeric account id ("sub") for an address.
pub fn subject_id(email: &str) -> String {
    let d = Sha256::digest(email.to_ascii_lowercase().as_bytes());
    let mut n: u128 = 0;
    for b in &d[..12] {
        n = (n << 8) | *b as u128;
    }
    format!("1{:020}", n % 100_000_000_000_000_000_000)
}

impl OAuthState {
    pub fn new(ttl_secs: u64, db: DbTx) -> OAuthState {
        OAuthState {
            clients: RwLock::new(HashMap::new()),
            codes: Mutex::new(HashMap::new()),
            refresh: RwLock::new(HashMap::new()),
            access: RwLock::new(HashMap::new()),
            ttl_secs,
            db,
        }
    }

    pub async fn load(&self, pool: &sqlx::SqlitePool) -> anyhow::Result<()> {
        use crate::store::db::load_kv;
        for (id, d) in load_kv(pool, Table::OauthClients, "").await? {
            if let Ok(c) = serde_json::from_str(&d) {
                self.clients.write().insert(id, c);
            }
        }
        for (id, d) in load_kv(pool, Table::OauthRefreshTokens, "").await? {
            if let Ok(c) = serde_json::from_str(&d) {
                self.refresh.write().insert(id, c);
            }
        }
        let now = now_secs();
        for (id, d) in load_kv(pool, Table::OauthAccessTokens, "").await? {
            if let Ok(c) = serde_json::from_str::<AccessGrant>(&d) {
                if c.expires_at > now {
                    self.access.write().insert(id, c);
                } else {
                    self.db.delete(Table::OauthAccessTokens, "", &id);
                }
            }
        }
        Ok(())
    }

    pub fn ensure_sandbox_client(&self) {
        if self.clients.read().contains_key(SANDBOX_CLIENT_ID) {
            return;
        }
        let c = OAuthClient {
            client_id: SANDBOX_CLIENT_ID.into(),
            client_secret: SANDBOX_CLIENT_SECRET.into(),
            name: "Gmail Sandbox".into(),
        };
        self.db.put(
            Table::OauthClients,
            "",
            SANDBOX_CLIENT_ID,
            serde_json::to_string(&c).unwrap_or_default(),
        );
        self.clients.write().insert(c.client_id.clone(), c);
    }

    pub fn client(&self, id: &str) -> Option<OAuthClient> {
        self.clients.read().get(id).cloned()
    }

    /// Register the well-known refresh token of a mailbox (idempotent).
    pub fn ensure_well_known_refresh(&self, email: &str) -> String {
        let rt = well_known_refresh_token(email);
        if !self.refresh.read().contains_key(&rt) {
            self.put_refresh(
                &rt,
                RefreshGrant {
                    client_id: SANDBOX_CLIENT_ID.into(),
                    email: email.to_ascii_lowercase(),
                    // What the product asks real users for: full mail plus the settings
                    // scopes filters, vacation and send-as need.
                    scopes: vec![
                        SCOPE_FULL.into(),
                        "https://www.googleapis.com/auth/gmail.settings.basic".into(),
                        "https://www.googleapis.com/auth/gmail.settings.sharing".into(),
                        SCOPE_EMAIL.into(),
                    ],
                },
            );
        }
        rt
    }

    fn put_refresh(&self, rt: &str, g: RefreshGrant) {
        self.db.put(
            Table::OauthRefreshTokens,
            "",
            rt,
            serde_json::to_string(&g).unwrap_or_default(),
        );
        self.refresh.write().insert(rt.to_string(), g);
    }

    pub fn issue_access(
        &self,
        email: &str,
        scopes: Vec<String>,
        client_id: &str,
        refresh_token: Option<String>,
    ) -> (String, u64) {
        let token = format!("ya29.sandbox-{}", random_token(48));
        let g = AccessGrant {
            client_id: client_id.to_string(),
            email: email.to_ascii_lowercase(),
            scopes,
            expires_at: now_secs() + self.ttl_secs as i64,
            refresh_token,
        };
        self.db.put(
            Table::OauthAccessTokens,
            "",
            &token,
            serde_json::to_string(&g).unwrap_or_default(),
        );
        self.access.write().insert(token.clone(), g);
        (token, self.ttl_secs)
    }

    /// A live access grant for a bearer token, or None (unknown, expired, revoked).
    pub fn validate(&self, token: &str) -> Option<AccessGrant> {
        let g = self.access.read().get(token).cloned()?;
        if g.expires_at <= now_secs() {
            return None;
        }
        Some(g)
    }

    /// Force a token to be expired (tests of the 401 path).
    pub fn expire(&self, token: &str) {
        if let Some(g) = self.access.write().get_mut(token) {
            g.expires_at = now_secs() - 1;
        }
    }

    /// Revoke an access or refresh token; revoking either kills the whole grant.
    pub fn revoke(&self, token: &str) -> bool {
        let rt = if self.refresh.read().contains_key(token) {
            Some(token.to_string())
        } else {
            match self.access.write().remove(token) {
                Some(g) => {
                    self.db.delete(Table::OauthAccessTokens, "", token);
                    match g.refresh_token {
                        Some(rt) => Some(rt),
                        None => return true,
                    }
                }
                None => return false,
            }
        };
        if let Some(rt) = rt {
            self.refresh.write().remove(&rt);
            self.db.delete(Table::OauthRefreshTokens, "", &rt);
            let mut access = self.access.write();
            let dead: Vec<String> = access
                .iter()
                .filter(|(_, g)| g.refresh_token.as_deref() == Some(rt.as_str()))
                .map(|(k, _)| k.clone())
                .collect();
            for k in dead {
                access.remove(&k);
                self.db.delete(Table::OauthAccessTokens, "", &k);
            }
        }
        true
    }

    fn new_code(&self, code: AuthCode) -> String {
        let c = format!("4/0Asandbox-{}", random_token(40));
        self.db.put(
            Table::OauthCodes,
            "",
            &c,
            serde_json::to_string(&code).unwrap_or_default(),
        );
        self.codes.lock().insert(c.clone(), code);
        c
    }
}

// ---------------------------------------------------------------------------------------
// HTTP handlers
// ---------------------------------------------------------------------------------------

fn oauth_error(status: u16, error: &str, description: &str) -> HttpResponse {
    let code = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    HttpResponse::build(code)
        .content_type("application/json; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(json!({"error": error, "error_description": description}).to_string())
}

fn html_error(status: u16, title: &str, detail: &str) -> HttpResponse {
    let code = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    HttpResponse::build(code)
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><html><head><title>Sign in - Google Accounts (sandbox)</title></head>\
             <body><h1>Access blocked: authorization error</h1><h2>{}</h2><p>{}</p></body></html>",
            crate::render::escape_html(title),
            crate::render::escape_html(detail)
        ))
}

pub fn parse_pairs(s: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(s.as_bytes()).into_owned().collect()
}

fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

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
                c = crate::render::escape_html(&code)
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
    let esc = crate::render::escape_html;
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

fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let h = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let b64 = h
        .strip_prefix("Basic ")
        .or_else(|| h.strip_prefix("basic "))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let s = String::from_utf8(bytes).ok()?;
    let (id, secret) = s.split_once(':')?;
    let dec = |x: &str| {
        percent_encoding::percent_decode_str(&x.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    Some((dec(id), dec(secret)))
}

fn body_pairs(req: &HttpRequest, body: &[u8]) -> Vec<(String, String)> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct.starts_with("application/json") {
        if let Ok(serde_json::Value::Object(m)) = serde_json::from_slice(body) {
            return m
                .into_iter()
                .map(|(k, v)| {
                    let s = match v {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (k, s)
                })
                .collect();
        }
        return vec![];
    }
    parse_pairs(&String::from_utf8_lossy(body))
}

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
            let grant = {
                let mut codes = state.oauth.codes.lock();
                let Some(c) = codes.get_mut(code) else {
                    return oauth_error(400, "invalid_grant", "Malformed auth code.");
                };
                if c.redeemed || c.expires_at <= now_secs() || c.client_id != client_id {
                    return oauth_error(400, "invalid_grant", "Bad Request");
                }
                if let Some(ru) = get(&p, "redirect_uri") {
                    if ru != c.redirect_uri {
                        return oauth_error(400, "redirect_uri_mismatch", "Bad Request");
                    }
                }
                if let Some(ch) = &c.challenge {
                    let Some(verifier) = get(&p, "code_verifier") else {
                        return oauth_error(400, "invalid_grant", "Missing code verifier.");
                    };
                    let computed = if c.challenge_method.eq_ignore_ascii_case("S256") {
                        base64::engine::general_purpose::URL_SAFE_NO_PAD
                            .encode(Sha256::digest(verifier.as_bytes()))
                    } else {
                        verifier.to_string()
                    };
                    if &computed != ch {
                        return oauth_error(400, "invalid_grant", "Invalid code verifier.");
                    }
                }
                // Codes are single-use.
                c.redeemed = true;
                state.oauth.db.delete(Table::OauthCodes, "", code);
                c.clone()
            };
            let rt = format!("1//sandbox-{}", random_token(60));
            state.oauth.put_refresh(
                &rt,
                RefreshGrant {
                    client_id: client_id.clone(),
                    email: grant.email.clone(),
                    scopes: grant.scopes.clone(),
                },
            );
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
            let Some(g) = state.oauth.refresh.read().get(rt).cloned() else {
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
    let q = parse_pairs(req.query_string());
    let b = body_pairs(&req, &body);
    let token = get(&q, "token").or_else(|| get(&b, "token"));
    let Some(token) = token else {
        return oauth_error(400, "invalid_request", "Missing required parameter: token");
    };
    if state.oauth.revoke(token) {
        HttpResponse::Ok()
            .content_type("application/json; charset=utf-8")
            .body("{}")
    } else {
        oauth_error(400, "invalid_token", "Token expired or revoked")
    }
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let h = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let t = h
        .strip_prefix("Bearer ")
        .or_else(|| h.strip_prefix("bearer "))?;
    Some(t.trim().to_string())
}

fn unauthorized() -> HttpResponse {
    let e = ApiError::unauthenticated();
    HttpResponse::Unauthorized()
        .content_type("application/json; charset=UTF-8")
        .insert_header((
            header::WWW_AUTHENTICATE,
            e.www_authenticate().unwrap_or_default().to_string(),
        ))
        .body(e.body().to_string())
}

fn display_name(state: &AppState, email: &str) -> String {
    state
        .store
        .get(email)
        .map(|m| m.display_name.clone())
        .unwrap_or_default()
}

/// GET /oauth2/v2/userinfo, /userinfo/v2/me
pub async fn userinfo_v2(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let q = parse_pairs(req.query_string());
    let token = bearer(&req).or_else(|| get(&q, "access_token").map(str::to_string));
    let Some(g) = token.and_then(|t| state.oauth.validate(&t)) else {
        return unauthorized();
    };
    let name = display_name(&state, &g.email);
    let (given, family) = name.split_once(' ').unwrap_or((name.as_str(), ""));
    HttpResponse::Ok()
        .content_type("application/json; charset=UTF-8")
        .body(
            json!({
                "id": subject_id(&g.email),
                "email": g.email,
                "verified_email": true,
                "name": name,
                "given_name": given,
                "family_name": family,
                "picture": "https://lh3.googleusercontent.com/a/default-user=s96-c",
                "locale": "en",
            })
            .to_string(),
        )
}

/// GET /oauth2/v3/userinfo, /v1/userinfo (OpenID Connect shape)
pub async fn userinfo_oidc(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let q = parse_pairs(req.query_string());
    let token = bearer(&req).or_else(|| get(&q, "access_token").map(str::to_string));
    let Some(g) = token.and_then(|t| state.oauth.validate(&t)) else {
        return unauthorized();
    };
    let name = display_name(&state, &g.email);
    let (given, family) = name.split_once(' ').unwrap_or((name.as_str(), ""));
    HttpResponse::Ok()
        .content_type("application/json; charset=UTF-8")
        .body(
            json!({
                "sub": subject_id(&g.email),
                "name": name,
                "given_name": given,
                "family_name": family,
                "picture": "https://lh3.googleusercontent.com/a/default-user=s96-c",
                "email": g.email,
                "email_verified": true,
                "locale": "en",
            })
            .to_string(),
        )
}

/// GET/POST /tokeninfo (access_token in query, form body or bearer header).
pub async fn tokeninfo(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let q = parse_pairs(req.query_string());
    let b = body_pairs(&req, &body);
    let token = get(&q, "access_token")
        .or_else(|| get(&b, "access_token"))
        .map(str::to_string)
        .or_else(|| bearer(&req));
    let Some(g) = token.and_then(|t| state.oauth.validate(&t)) else {
        return oauth_error(400, "invalid_token", "Invalid Value");
    };
    let left = (g.expires_at - now_secs()).max(0);
    HttpResponse::Ok()
        .content_type("application/json; charset=UTF-8")
        .body(
            json!({
                "azp": g.client_id,
                "aud": g.client_id,
                "sub": subject_id(&g.email),
                "scope": g.scopes.join(" "),
                "exp": g.expires_at.to_string(),
                "expires_in": left.to_string(),
                "email": g.email,
                "email_verified": "true",
                "access_type": if g.refresh_token.is_some() { "offline" } else { "online" },
            })
            .to_string(),
        )
}
