//! Who is calling. Single-user mode: nobody authenticates and every call acts on the one
//! configured account, so the servers only listen on loopback. Multi-user mode: callers
//! present an API key as a Bearer token and act on their own connected accounts only.

use std::net::IpAddr;
use std::sync::Arc;

use crate::config::Settings;
use crate::error::GmailError;
use crate::gmail::GmailFactory;
use crate::oauth::accounts::{Accounts, UserMailboxes};
use crate::store::User;
use crate::tools::{ToolContext, ToolEnv};

#[derive(Clone)]
pub enum CallerAuth {
    SingleUser(ToolContext),
    MultiUser {
        accounts: Arc<Accounts>,
        env: Arc<ToolEnv>,
        /// Set on the MCP server: it also takes OAuth access tokens issued for it.
        resource: Option<Arc<ProtectedResource>>,
    },
}

/// The MCP server as an OAuth protected resource: the audiences its tokens must carry, and
/// where its metadata is (named in every 401, RFC 9728 §5.1).
#[derive(Debug, Clone)]
pub struct ProtectedResource {
    audiences: Vec<String>,
    base: String,
}

impl ProtectedResource {
    pub fn new(settings: &Settings) -> ProtectedResource {
        ProtectedResource {
            audiences: crate::authorization::resources(settings),
            base: settings
                .multi_user
                .public_mcp_url
                .trim_end_matches('/')
                .to_string(),
        }
    }

    /// The `WWW-Authenticate` challenge for a request to `path`: its endpoint's metadata
    /// URL, and the scope that endpoint needs.
    pub fn challenge(&self, path: &str, error: Option<&str>) -> String {
        let endpoint = if path.starts_with("/sse") || path.starts_with("/message") {
            "/sse"
        } else {
            "/mcp"
        };
        let readonly = path.ends_with("/readonly");
        let suffix = if readonly { "/readonly" } else { "" };
        let scope = if readonly {
            crate::authorization::SCOPE_READONLY
        } else {
            crate::authorization::SCOPE_FULL
        };
        let error = error
            .map(|e| format!(", error=\"{e}\""))
            .unwrap_or_default();
        format!(
            "Bearer realm=\"gmail-servers\", resource_metadata=\"{}/.well-known/oauth-protected-resource{endpoint}{suffix}\", scope=\"{scope}\"{error}",
            self.base
        )
    }
}

/// Why a request was not let in (answered 401 with `WWW-Authenticate: Bearer`).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("missing credentials: send `Authorization: Bearer <API key or OAuth access token>`")]
    Missing,
    #[error("invalid, expired or revoked API key or access token")]
    Invalid,
    #[error(transparent)]
    Other(#[from] GmailError),
}

impl CallerAuth {
    pub async fn from_settings(
        settings: &Settings,
        factory: &GmailFactory,
    ) -> Result<CallerAuth, GmailError> {
        let events = |store: crate::store::Store| crate::events::Events::new(store, settings);
        if settings.multi_user.enabled {
            let accounts = Accounts::open(settings, factory.clone()).await?;
            // The audit log and the daily send cap live in the shared database.
            let audit = Arc::new(accounts.store().clone());
            let mut env = ToolEnv::with_audit(settings, audit);
            // Send keys too, so every instance on the database honours them.
            env.once = Arc::new(crate::idempotency::IdempotencyStore::database(
                accounts.store().clone(),
                crate::idempotency::DEFAULT_TTL,
            ));
            if settings.events.enabled {
                env.events = Some(events(accounts.store().clone()));
            }
            Ok(CallerAuth::MultiUser {
                env: Arc::new(env),
                accounts,
                resource: None,
            })
        } else {
            let mut ctx = ToolContext::single_user(factory, settings)?;
            if settings.events.enabled {
                let store = crate::events::Events::single_user_store(settings).await?;
                let mut env = (*ctx.env).clone();
                env.events = Some(events(store));
                ctx.env = Arc::new(env);
            }
            Ok(CallerAuth::SingleUser(ctx))
        }
    }

    /// The same, taking OAuth access tokens issued for this MCP server as well as API keys.
    pub fn accepting_oauth(self, settings: &Settings) -> CallerAuth {
        match self {
            CallerAuth::MultiUser { accounts, env, .. } => CallerAuth::MultiUser {
                accounts,
                env,
                resource: Some(Arc::new(ProtectedResource::new(settings))),
            },
            single => single,
        }
    }

    /// The protected resource this server is, when it takes OAuth tokens.
    pub fn protected_resource(&self) -> Option<&ProtectedResource> {
        match self {
            CallerAuth::MultiUser { resource, .. } => resource.as_deref(),
            CallerAuth::SingleUser(_) => None,
        }
    }

    /// The context of a request that did not go through `require_caller`: the single
    /// configured account, or in multi-user mode one that acts for nobody.
    pub fn fallback_context(&self) -> ToolContext {
        match self {
            CallerAuth::SingleUser(ctx) => ctx.clone(),
            CallerAuth::MultiUser { env, .. } => ToolContext::new(Arc::new(Nobody), env.clone()),
        }
    }

    /// The server's rules and shared parts (every caller's env is narrowed from it).
    pub fn env(&self) -> &Arc<ToolEnv> {
        match self {
            CallerAuth::SingleUser(ctx) => &ctx.env,
            CallerAuth::MultiUser { env, .. } => env,
        }
    }

    /// The server's request rates.
    pub fn rate(&self) -> &crate::server::rate::RateLimits {
        &self.env().rate
    }

    /// The event layer, when `events.enabled`.
    pub fn events(&self) -> Option<&crate::events::Events> {
        self.env().events.as_ref()
    }

    pub fn accounts(&self) -> Option<&Arc<Accounts>> {
        match self {
            CallerAuth::MultiUser { accounts, .. } => Some(accounts),
            CallerAuth::SingleUser(_) => None,
        }
    }

    /// The user behind an `Authorization` header value (multi-user mode only), and the key.
    pub async fn user(
        &self,
        authorization: Option<&str>,
    ) -> Result<Option<(User, String, Vec<crate::ops::policy::CallerPolicy>)>, AuthError> {
        let CallerAuth::MultiUser {
            accounts, resource, ..
        } = self
        else {
            return Ok(None);
        };
        let key = authorization
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or(AuthError::Missing)?;
        if key.starts_with(crate::authorization::ACCESS_PREFIX) {
            // Only a protected resource takes access tokens, and only ones issued for it.
            let Some(resource) = resource else {
                return Err(AuthError::Invalid);
            };
            let caller =
                crate::authorization::authenticate(accounts.store(), key, &resource.audiences)
                    .await?
                    .ok_or(AuthError::Invalid)?;
            return Ok(Some((caller.user, caller.grant_id, caller.rules)));
        }
        accounts
            .store()
            .authenticate_key(key)
            .await?
            .map(Some)
            .ok_or(AuthError::Invalid)
    }

    /// The tool context for a request carrying this `Authorization` header.
    pub async fn context(&self, authorization: Option<&str>) -> Result<ToolContext, AuthError> {
        match self {
            CallerAuth::SingleUser(ctx) => Ok(ctx.clone()),
            CallerAuth::MultiUser { accounts, env, .. } => {
                let (user, key_id, rules) =
                    self.user(authorization).await?.ok_or(AuthError::Invalid)?;
                let env = env.for_user(&user.id, &rules);
                let mailboxes = UserMailboxes {
                    accounts: accounts.clone(),
                    caller: crate::mailbox::Caller {
                        user_id: user.id,
                        key_id,
                    },
                    policy: env.send.clone(),
                };
                Ok(ToolContext::new(Arc::new(mailboxes), Arc::new(env))
                    .with_accounts(accounts.clone()))
            }
        }
    }
}

/// The mailbox provider of an unauthenticated request in multi-user mode.
struct Nobody;

impl crate::tools::MailboxProvider for Nobody {
    fn mailbox<'a>(
        &'a self,
        _account: Option<&'a str>,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<crate::ops::Mailbox, GmailError>> + Send + 'a>,
    > {
        Box::pin(async {
            Err(GmailError::invalid(
                "Authorization",
                "send an API key: Authorization: Bearer <key>",
            ))
        })
    }
}

/// Without caller authentication, anyone who can reach the port acts as the mailbox owner:
/// refuse to listen anywhere but loopback.
pub fn check_bind(settings: &Settings, host: &str) -> Result<(), String> {
    if settings.multi_user.enabled {
        return Ok(());
    }
    let loopback = host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err(format!(
            "refusing to listen on {host} without caller authentication: anyone reaching it would act as the mailbox owner; bind 127.0.0.1, or enable multi-user mode (GMAIL_MULTI_USER=true with GMAIL_ENCRYPTION_KEY and API keys)"
        ))
    }
}

impl AuthError {
    /// 401 problem+json with `WWW-Authenticate: Bearer`, or the underlying error.
    pub fn response(&self) -> actix_web::HttpResponse {
        self.response_for(None, "")
    }

    /// The same; a protected resource's challenge names its metadata (for `path`).
    pub fn response_for(
        &self,
        resource: Option<&ProtectedResource>,
        path: &str,
    ) -> actix_web::HttpResponse {
        use actix_web::ResponseError;
        let challenge = match (resource, self) {
            (Some(r), AuthError::Invalid) => r.challenge(path, Some("invalid_token")),
            (Some(r), _) => r.challenge(path, None),
            (None, _) => "Bearer realm=\"gmail-servers\"".to_string(),
        };
        match self {
            AuthError::Other(e) => e.error_response(),
            other => crate::server::problem::Problem::new(
                actix_web::http::StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Unauthorized",
                other.to_string(),
            )
            .field("Authorization")
            .header(actix_web::http::header::WWW_AUTHENTICATE, &challenge)
            .response(),
        }
    }
}

/// The user id of the caller `require_caller` resolved for this request (multi-user mode);
/// `None` for the single-user server.
pub fn caller_id(req: &actix_web::HttpRequest) -> Option<String> {
    use actix_web::HttpMessage;
    req.extensions()
        .get::<ToolContext>()
        .and_then(|c| c.mailboxes.caller().map(|c| c.user_id.clone()))
}

/// The caller's user id and API key id (multi-user mode).
pub fn caller_key(req: &actix_web::HttpRequest) -> Option<(String, String)> {
    use actix_web::HttpMessage;
    let ext = req.extensions();
    let ctx = ext.get::<ToolContext>()?;
    let caller = ctx.mailboxes.caller()?;
    Some((caller.user_id.clone(), caller.key_id.clone()))
}

/// Middleware for routes that act for a caller: resolves the `Authorization` header to the
/// caller's tool context (stored in the request extensions) or answers 401. Needs
/// `web::Data<CallerAuth>` in the app data.
pub async fn require_caller(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<
    actix_web::dev::ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    use actix_web::HttpMessage;
    let auth = req
        .app_data::<actix_web::web::Data<CallerAuth>>()
        .cloned()
        .ok_or_else(|| actix_web::error::ErrorInternalServerError("caller auth not configured"))?;
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match auth.context(header.as_deref()).await {
        Ok(ctx) => {
            // The request may ask for fewer tools (headers, or a `/readonly` path), never more.
            let narrowing = crate::tools::ToolPolicy::from_request(
                |name| {
                    req.headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                },
                req.path(),
            );
            let ctx = match narrowing {
                Ok(Some(narrower)) => ctx.narrowed(narrower),
                Ok(None) => ctx,
                Err(e) => {
                    let header = if e.starts_with("unknown tool ") {
                        "X-MCP-Tools"
                    } else {
                        "X-MCP-Toolsets"
                    };
                    let response = crate::GmailError::invalid(header, e);
                    let response = actix_web::ResponseError::error_response(&response);
                    return Ok(req.into_response(response).map_into_right_body());
                }
            };
            req.extensions_mut().insert(ctx);
            next.call(req).await.map(|r| r.map_into_left_body())
        }
        Err(e) => {
            // Guessing keys at speed meets a per-address limit: 429 instead of 401.
            let over = req
                .peer_addr()
                .and_then(|peer| auth.rate().failed_auth(peer.ip()).err());
            let response = match over {
                Some(limited) => actix_web::ResponseError::error_response(&limited),
                None => e.response_for(auth.protected_resource(), req.path()),
            };
            Ok(req.into_response(response).map_into_right_body())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_user_mode_binds_loopback_only() {
        let s = crate::testing::settings("http://127.0.0.1:9/");
        assert!(check_bind(&s, "127.0.0.1").is_ok());
        assert!(check_bind(&s, "::1").is_ok());
        assert!(check_bind(&s, "localhost").is_ok());
        let err = check_bind(&s, "0.0.0.0").unwrap_err();
        assert!(err.contains("GMAIL_MULTI_USER"), "{err}");
        let mut multi = s.clone();
        multi.multi_user.enabled = true;
        assert!(check_bind(&multi, "0.0.0.0").is_ok());
    }
}
