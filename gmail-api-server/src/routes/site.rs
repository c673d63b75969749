//! The team site at `/` (multi-user mode): "Sign in with Google", then the member's page:
//! their Gmail connections (reconnect, connect another, disconnect), their API keys (create:
//! shown once with the `claude mcp add` line; revoke) and, for admins, every user (disable,
//! enable). Server-rendered HTML and no JavaScript.
//!
//! Sessions are actix-session's encrypted cookie (HttpOnly, SameSite=Lax, Secure behind
//! https), keyed from the encryption key, so any instance reads them. Every form carries the
//! session's CSRF token, and a post from another origin is refused before the token is read.
//! A disabled user's session stops working at their next request.

use actix_session::Session;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use gmail_shared::oauth::accounts::Accounts;
use gmail_shared::server::guard::HostPolicy;
use gmail_shared::store::User;
use gmail_shared::GmailError;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::page::{cross_site, escape, page};
use crate::app::AppState;

const USER: &str = "user_id";
const CSRF: &str = "csrf";
/// When the session signed in (epoch ms).
const SIGNED_IN_AT: &str = "signed_in_at";
const SIGN_IN_STATE: &str = "sign_in_state";
const SIGN_IN_VERIFIER: &str = "sign_in_verifier";
const AFTER_SIGN_IN: &str = "after_sign_in";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .route("/signin", web::post().to(sign_in))
        .route("/signout", web::post().to(sign_out))
        .route("/keys", web::post().to(create_key))
        .route("/keys/{id}/revoke", web::post().to(revoke_key))
        .route("/clients/{id}/revoke", web::post().to(revoke_client))
        .route("/connections/start", web::post().to(connect))
        .route("/connections/{id}/disconnect", web::post().to(disconnect))
        .route("/admin", web::get().to(admin))
        .route("/admin/users/{id}/{action}", web::post().to(admin_action));
}

/// The session cookie's key, derived from the encryption key (every instance derives the
/// same one); without one (single-user mode) a random key, as nothing signs in there.
pub fn session_key(settings: &gmail_shared::Settings) -> actix_web::cookie::Key {
    match &settings.multi_user.encryption_key {
        Some(k) => {
            let mut h = sha2::Sha512::new();
            h.update(b"gmail-servers web session\0");
            h.update(k.expose_secret().as_bytes());
            actix_web::cookie::Key::from(&h.finalize())
        }
        None => actix_web::cookie::Key::generate(),
    }
}

pub(crate) fn accounts(state: &AppState) -> Result<&Accounts, GmailError> {
    state.accounts().map(|a| a.as_ref()).ok_or_else(|| {
        GmailError::invalid(
            "mode",
            "this server runs in single-user mode; the team site needs GMAIL_MULTI_USER=true",
        )
    })
}

pub(crate) fn error_page(err: &GmailError) -> HttpResponse {
    page(
        err.status(),
        "Something went wrong",
        &format!(
            "<p>{}</p><p><a href=\"/\">Back</a></p>",
            escape(&err.public_message())
        ),
    )
}

fn go_home() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .finish()
}

fn random_token() -> String {
    let mut b = [0u8; 24];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut b);
    gmail_shared::store::cipher::hex(&b)
}

/// How long a team-site sign-in lasts. The cookie store keeps no expiry of its own: a
/// session's age is checked here.
const SIGN_IN_MS: i64 = 7 * 24 * 3600 * 1000;

/// The signed-in, enabled user of this session, if any: signed in less than a week ago and
/// not signed out since (from any browser).
pub(crate) async fn signed_in(
    session: &Session,
    accounts: &Accounts,
) -> Result<Option<User>, GmailError> {
    let Ok(Some(id)) = session.get::<String>(USER) else {
        return Ok(None);
    };
    let at = session.get::<i64>(SIGNED_IN_AT).ok().flatten().unwrap_or(0);
    let fresh = gmail_shared::store::now_ms() - at < SIGN_IN_MS;
    let user = match fresh {
        true => accounts.store().site_user(&id, at).await?,
        false => None,
    };
    if user.is_none() {
        session.purge();
    }
    Ok(user)
}

/// The CSRF token forms carry (made with the session).
pub(crate) fn csrf_token(session: &Session) -> String {
    match session.get::<String>(CSRF) {
        Ok(Some(t)) => t,
        _ => {
            let t = random_token();
            let _ = session.insert(CSRF, &t);
            t
        }
    }
}

fn same(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

/// The user a form post acts for: same origin, the session's CSRF token, signed in.
async fn form_caller(
    req: &HttpRequest,
    session: &Session,
    accounts: &Accounts,
    policy: &HostPolicy,
    token: &str,
) -> Result<User, GmailError> {
    let forbidden = |why: &str| GmailError::Forbidden {
        message: why.to_string(),
    };
    if cross_site(req, policy) {
        return Err(forbidden(
            "this form must be sent from this server's own page",
        ));
    }
    let expected = session.get::<String>(CSRF).ok().flatten();
    if !expected.is_some_and(|e| same(&e, token)) {
        return Err(forbidden(
            "the form is stale or forged (CSRF token); reload the page",
        ));
    }
    signed_in(session, accounts)
        .await?
        .ok_or_else(|| forbidden("sign in first"))
}

pub(crate) fn hidden_csrf(token: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(token)
    )
}

fn post_button(action: &str, label: &str, csrf: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}\" style=\"display:inline\">{}<button type=\"submit\">{}</button></form>",
        escape(action),
        hidden_csrf(csrf),
        escape(label)
    )
}

fn when(secs: Option<i64>) -> String {
    secs.and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "—".into())
}

async fn home(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, actix_web::Error> {
    let Ok(accounts) = accounts(&state) else {
        return Ok(page(
            StatusCode::OK,
            "gmail-servers",
            "<p>This server runs in single-user mode. The REST API is described at <a href=\"/docs\">/docs</a>.</p>",
        ));
    };
    let user = match signed_in(&session, accounts).await {
        Ok(Some(u)) => u,
        Ok(None) => {
            return Ok(page(
                StatusCode::OK,
                "Gmail for your agents",
                "<p>Sign in with the Google account whose mail your agents should use. The first \
                 sign-in creates your account here and connects that mailbox.</p>\
                 <form method=\"post\" action=\"/signin\"><button type=\"submit\">Sign in with Google</button></form>",
            ))
        }
        Err(e) => return Ok(error_page(&e)),
    };
    let csrf = csrf_token(&session);
    let members = accounts.members();
    let (connections, keys, clients) = match tokio::try_join!(
        accounts.list(&user.id),
        members.keys(&user.id),
        accounts.authorization().grants(&user.id)
    ) {
        Ok(v) => v,
        Err(e) => return Ok(error_page(&e)),
    };
    let me = members.describe(user);
    let mut html = format!(
        "<p>Signed in as <b>{}</b>{}. {}</p>",
        escape(me.user.email.as_deref().unwrap_or(&me.user.external_id)),
        if me.admin {
            " (admin: <a href=\"/admin\">users</a>)"
        } else {
            ""
        },
        post_button("/signout", "Sign out", &csrf)
    );
    html.push_str("<h2>Gmail connections</h2><table><tr><th>Account</th><th>Status</th><th>Connected</th><th></th></tr>");
    for c in &connections {
        let reconnect = format!(
            "<form method=\"post\" action=\"/connections/start\" style=\"display:inline\">{}<input type=\"hidden\" name=\"loginHint\" value=\"{}\"><button type=\"submit\">Reconnect</button></form>",
            hidden_csrf(&csrf),
            escape(&c.email)
        );
        html.push_str(&format!(
            "<tr><td>{}{}</td><td>{}</td><td>{}</td><td>{} {}</td></tr>",
            escape(&c.email),
            if c.is_primary { " (primary)" } else { "" },
            if c.status == "active" {
                "ok"
            } else {
                "needs_reauth"
            },
            when(Some(c.created_at)),
            reconnect,
            post_button(
                &format!("/connections/{}/disconnect", c.id),
                "Disconnect",
                &csrf
            )
        ));
    }
    html.push_str("</table>");
    html.push_str(&post_button(
        "/connections/start",
        "Connect another account",
        &csrf,
    ));
    html.push_str("<h2>API keys</h2><table><tr><th>Name</th><th>Key</th><th>Created</th><th>Last used</th><th>Expires</th><th></th></tr>");
    for k in keys.iter().filter(|k| !k.revoked) {
        html.push_str(&format!(
            "<tr><td>{}</td><td><code>{}…</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&k.name),
            escape(&k.prefix),
            when(Some(k.created_at)),
            when(k.last_used_at),
            when(k.expires_at),
            post_button(&format!("/keys/{}/revoke", k.id), "Revoke", &csrf)
        ));
    }
    html.push_str(&format!(
        "</table><form method=\"post\" action=\"/keys\">{}<label>Name <input name=\"name\" required maxlength=\"100\" value=\"laptop\"></label> <button type=\"submit\">Create a key</button></form>",
        hidden_csrf(&csrf)
    ));
    html.push_str("<h2>Connected apps</h2>");
    if clients.is_empty() {
        html.push_str("<p>None yet. Apps such as Claude Desktop connect with OAuth: give them this server's MCP URL and approve them here.</p>");
    } else {
        html.push_str("<table><tr><th>App</th><th>Sent back to</th><th>Access</th><th>Connected</th><th>Last used</th><th></th></tr>");
    }
    for c in &clients {
        html.push_str(&format!(
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&c.client_name),
            escape(&c.redirect_uri),
            escape(&c.scope),
            when(Some(c.created_at)),
            when(c.last_used_at),
            post_button(&format!("/clients/{}/revoke", c.id), "Disconnect", &csrf)
        ));
    }
    if !clients.is_empty() {
        html.push_str("</table>");
    }
    Ok(page(StatusCode::OK, "Your Gmail for agents", &html))
}

#[derive(Debug, Default, Deserialize)]
struct SignInForm {
    /// A path on this server to come back to (the device approval page).
    next: Option<String>,
    /// The Google account to suggest (an OAuth client's `login_hint`).
    login_hint: Option<String>,
}

/// "Sign in with Google": the flow's state and PKCE verifier go into this browser's session.
async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    policy: web::Data<HostPolicy>,
    session: Session,
    form: Option<web::Form<SignInForm>>,
) -> HttpResponse {
    if cross_site(&req, &policy) {
        return error_page(&GmailError::Forbidden {
            message: "sign in from this server's own page".into(),
        });
    }
    let accounts = match accounts(&state) {
        Ok(a) => a,
        Err(e) => return error_page(&e),
    };
    let form = form.map(|f| f.into_inner()).unwrap_or_default();
    // Only a path on this server (never `//host` or a URL): no open redirect.
    let next = form
        .next
        .filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'));
    if let Some(next) = next {
        let _ = session.insert(AFTER_SIGN_IN, next);
    }
    let hint = form.login_hint.filter(|h| !h.trim().is_empty());
    let start = match accounts.sign_in_start(hint.as_deref()) {
        Ok(start) => start,
        Err(e) => return error_page(&e),
    };
    let stored = session
        .insert(SIGN_IN_STATE, &start.state)
        .and_then(|_| session.insert(SIGN_IN_VERIFIER, start.verifier.expose_secret()));
    if let Err(e) = stored {
        return error_page(&GmailError::internal_from("session", e.to_string()));
    }
    HttpResponse::SeeOther()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::LOCATION, start.consent_url))
        .finish()
}

/// A sign-in pending in this session for `state`: its PKCE verifier.
pub(crate) fn pending_sign_in(session: &Session, state: Option<&str>) -> Option<SecretString> {
    let expected = session.get::<String>(SIGN_IN_STATE).ok().flatten()?;
    if !state.is_some_and(|s| same(s, &expected)) {
        return None;
    }
    let verifier = session.get::<String>(SIGN_IN_VERIFIER).ok().flatten()?;
    session.remove(SIGN_IN_STATE);
    session.remove(SIGN_IN_VERIFIER);
    Some(SecretString::from(verifier))
}

/// Google came back to a sign-in this browser started: create or find the user, connect the
/// mailbox, and start a fresh session (a new cookie, so nothing from before carries over).
pub(crate) async fn finish_sign_in(
    accounts: &Accounts,
    session: &Session,
    verifier: SecretString,
    code: Option<String>,
    error: Option<String>,
) -> HttpResponse {
    let result = match (code, error) {
        (_, Some(e)) => Err(GmailError::invalid(
            "error",
            if e == "access_denied" {
                "consent was declined on Google's page".to_string()
            } else {
                format!("Google answered {e}")
            },
        )),
        (Some(code), None) => accounts.sign_in_complete(&code, &verifier).await,
        (None, None) => Err(GmailError::invalid("code", "the callback has no code")),
    };
    match result {
        Ok((user, _)) => {
            session.renew();
            let signed_in = session
                .insert(USER, &user.id)
                .and_then(|()| session.insert(SIGNED_IN_AT, gmail_shared::store::now_ms()));
            if let Err(e) = signed_in {
                return error_page(&GmailError::internal_from("session", e.to_string()));
            }
            let next = session
                .remove_as::<String>(AFTER_SIGN_IN)
                .and_then(Result::ok);
            let _ = session.insert(CSRF, random_token());
            match next {
                Some(to) => HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, to))
                    .finish(),
                None => go_home(),
            }
        }
        Err(e) => page(
            e.status(),
            "You were not signed in",
            &format!(
                "<p>{}</p><p><a href=\"/\">Back</a></p>",
                escape(&e.public_message())
            ),
        ),
    }
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    csrf: String,
}

/// What a site form handler needs: the request, the app, the browser guard's policy and the
/// session.
pub(crate) struct SiteRequest {
    req: HttpRequest,
    state: web::Data<AppState>,
    policy: web::Data<HostPolicy>,
    pub(crate) session: Session,
}

impl actix_web::FromRequest for SiteRequest {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let missing = || actix_web::error::ErrorInternalServerError("site state missing");
        std::future::ready((|| {
            Ok(SiteRequest {
                req: req.clone(),
                state: req
                    .app_data::<web::Data<AppState>>()
                    .cloned()
                    .ok_or_else(missing)?,
                policy: req
                    .app_data::<web::Data<HostPolicy>>()
                    .cloned()
                    .ok_or_else(missing)?,
                session: Session::from_request(req, payload).into_inner()?,
            })
        })())
    }
}

impl SiteRequest {
    pub(crate) fn request(&self) -> &HttpRequest {
        &self.req
    }

    /// Runs a form's action for the signed-in user, once the post is same-origin and carries
    /// the session's CSRF token; answers its page, or the error's.
    pub(crate) async fn act<T>(
        &self,
        csrf: &str,
        action: impl AsyncFnOnce(&Accounts, User) -> Result<T, GmailError>,
        answer: impl FnOnce(T) -> HttpResponse,
    ) -> HttpResponse {
        let done = async {
            let accounts = accounts(&self.state)?;
            let user = form_caller(&self.req, &self.session, accounts, &self.policy, csrf).await?;
            action(accounts, user).await
        }
        .await;
        match done {
            Ok(v) => answer(v),
            Err(e) => error_page(&e),
        }
    }
}

/// Signs the user out of every browser: a session cookie copied elsewhere stops working too.
async fn sign_out(site: SiteRequest, form: web::Form<CsrfForm>) -> HttpResponse {
    site.act(
        &form.csrf,
        async |accounts: &Accounts, user: User| {
            accounts.store().sign_out_everywhere(&user.id).await
        },
        |()| {
            site.session.purge();
            go_home()
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
struct KeyForm {
    csrf: String,
    name: String,
}

/// A new key, shown this once with the line that connects Claude Code.
async fn create_key(site: SiteRequest, form: web::Form<KeyForm>) -> HttpResponse {
    let make = async |accounts: &Accounts, user: User| {
        accounts
            .members()
            .create_key(&user.id, &form.name, None)
            .await
    };
    site.act(&form.csrf, make, |k| {
        page(
            StatusCode::CREATED,
            "Your new API key",
            &format!(
                "<p>Copy it now: it is shown only this once.</p><p><code>{}</code></p>\
                 <p>Connect Claude Code:</p><pre>{}</pre><p>It expires {}. <a href=\"/\">Back</a></p>",
                escape(k.key.expose()),
                escape(k.claude_command.expose()),
                when(k.info.expires_at)
            ),
        )
    })
    .await
}

async fn revoke_key(
    site: SiteRequest,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    let revoke = async |accounts: &Accounts, user: User| {
        accounts.members().revoke_own_key(&user.id, &path).await
    };
    site.act(&form.csrf, revoke, |()| go_home()).await
}

async fn revoke_client(
    site: SiteRequest,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    let revoke = async |accounts: &Accounts, user: User| {
        accounts.authorization().revoke_grant(&user.id, &path).await
    };
    site.act(&form.csrf, revoke, |()| go_home()).await
}

#[derive(Debug, Deserialize)]
struct ConnectForm {
    csrf: String,
    #[serde(rename = "loginHint")]
    login_hint: Option<String>,
}

/// Reconnect, or connect another account: the usual start page, then back here.
async fn connect(site: SiteRequest, form: web::Form<ConnectForm>) -> HttpResponse {
    let start = async |accounts: &Accounts, user: User| {
        let hint = form.login_hint.as_deref();
        accounts.start(&user, Some("/"), hint).await
    };
    site.act(&form.csrf, start, |s| {
        HttpResponse::SeeOther()
            .insert_header((header::LOCATION, s.auth_url))
            .finish()
    })
    .await
}

async fn disconnect(
    site: SiteRequest,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    let disconnect =
        async |accounts: &Accounts, user: User| accounts.disconnect(&user.id, &path).await;
    site.act(&form.csrf, disconnect, |_| go_home()).await
}

/// Every user, for admins: disable and enable.
async fn admin(state: web::Data<AppState>, session: Session) -> HttpResponse {
    let listed = async {
        let accounts = accounts(&state)?;
        let user = signed_in(&session, accounts)
            .await?
            .ok_or_else(|| GmailError::Forbidden {
                message: "sign in first".into(),
            })?;
        let users = accounts.members().users(&user.id).await?;
        Ok::<_, GmailError>((user, users))
    }
    .await;
    let (me, users) = match listed {
        Ok(v) => v,
        Err(e) => return error_page(&e),
    };
    let csrf = csrf_token(&session);
    let mut html = String::from("<p><a href=\"/\">Back</a></p><table><tr><th>User</th><th>Created</th><th>Last active</th><th>Connections</th><th></th></tr>");
    for u in &users {
        let action = if u.disabled { "enable" } else { "disable" };
        let button = if u.user.id == me.id {
            String::new()
        } else {
            post_button(
                &format!("/admin/users/{}/{action}", u.user.id),
                if u.disabled { "Enable" } else { "Disable" },
                &csrf,
            )
        };
        html.push_str(&format!(
            "<tr><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(u.user.email.as_deref().unwrap_or(&u.user.external_id)),
            if u.disabled { " (disabled)" } else { "" },
            when(Some(u.created_at)),
            when(u.last_active_at),
            u.connection_count,
            button
        ));
    }
    html.push_str("</table>");
    page(StatusCode::OK, "Users", &html)
}

async fn admin_action(
    site: SiteRequest,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    let (id, action) = path.into_inner();
    let decide = async |accounts: &Accounts, user: User| {
        let disabled = match action.as_str() {
            "disable" => true,
            "enable" => false,
            _ => return Err(GmailError::not_found(format!("admin action {action}"))),
        };
        accounts
            .members()
            .set_disabled(&user.id, &id, disabled)
            .await
    };
    site.act(&form.csrf, decide, |()| {
        HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/admin"))
            .finish()
    })
    .await
}
