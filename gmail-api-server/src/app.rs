//! Application::build binds the port (0 in tests) and wires the routes.

use actix_web::{web, HttpRequest};
use gmail_shared::auth::{check_bind, CallerAuth};
use gmail_shared::gmail::GmailFactory;
use gmail_shared::ops::Mailbox;
use gmail_shared::server::{bind, http_service, HttpOptions, Started};
use gmail_shared::tools::{catalog, Registry, ToolContext};
use gmail_shared::{GmailError, Settings};

use gmail_shared::server::guard::HostPolicy;

use crate::{openapi, routes};

/// Shared state of every worker.
pub struct AppState {
    pub factory: GmailFactory,
    pub started: Started,
    /// The same tool registry the MCP server lists and calls.
    pub registry: Registry,
    pub auth: CallerAuth,
    success_redirect_url: Option<String>,
    oauth_callback_https: bool,
}

impl AppState {
    /// The one place a handler gets its mailbox: caller authentication (API keys, per-caller
    /// connections) plugs in here, so handlers never change when it does.
    pub async fn mailbox(
        &self,
        req: &HttpRequest,
        account: Option<&str>,
    ) -> Result<Mailbox, GmailError> {
        self.tool_context(req).mailbox(account).await
    }

    /// The tool context for this caller: the one `require_caller` resolved from the API key
    /// (multi-user mode), else the single configured account.
    pub fn tool_context(&self, req: &HttpRequest) -> ToolContext {
        use actix_web::HttpMessage;
        let ctx = req
            .extensions()
            .get::<ToolContext>()
            .cloned()
            .unwrap_or_else(|| self.auth.fallback_context());
        // The audit log names the endpoint (its route, not the ids in it) and the request id.
        let entry = format!(
            "{} {}",
            req.method(),
            req.match_pattern()
                .unwrap_or_else(|| req.path().to_string())
        );
        ctx.for_call(entry, request_id(req))
    }

    pub fn accounts(&self) -> Option<&std::sync::Arc<gmail_shared::oauth::accounts::Accounts>> {
        self.auth.accounts()
    }

    /// Whether browsers come back over https (the binding cookie is then `Secure`).
    pub fn oauth_callback_is_https(&self) -> bool {
        self.oauth_callback_https
    }

    pub fn success_redirect_url(&self) -> Option<String> {
        self.success_redirect_url.clone()
    }
}

pub struct Application {
    port: u16,
    metrics_port: Option<u16>,
    server: actix_web::dev::Server,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        gmail_shared::server::check_settings(&settings)?;
        check_bind(&settings, &settings.api.host).map_err(anyhow::Error::msg)?;
        // The port first: a taken one fails the start before any background work begins.
        let port = bind(&settings.api.host, settings.api.port)?;
        let factory = GmailFactory::new(&settings.gmail)?;
        let auth = CallerAuth::from_settings(&settings, &factory).await?;
        let backend = factory.backend().to_string();
        let state = web::Data::new(AppState {
            factory,
            started: Started::now(),
            registry: catalog::registry_for(&settings),
            auth: auth.clone(),
            success_redirect_url: settings.multi_user.success_redirect_url.clone(),
            oauth_callback_https: settings
                .multi_user
                .oauth_redirect_url
                .starts_with("https://"),
        });
        // The change feed and webhook deliveries run in the background of this process.
        if let Some(events) = auth.events() {
            events.start(std::sync::Arc::new(auth.clone()));
        }
        // Built once: the document is the same for every request.
        let doc = openapi::document();
        let cors_origins = settings.api.cors_allowed_origins.clone();
        let mut origins = settings.api.allowed_origins.clone();
        // A configured CORS origin is one the browser guard lets through too.
        origins.extend(cors_origins.iter().cloned());
        let policy = web::Data::new(
            HostPolicy::new(&settings.api.allowed_hosts, &origins)
                .section("api")
                .with_multipart(),
        );
        let options = HttpOptions::new(settings.api.shutdown_timeout_secs, &settings.limits)
            .named("gmail-api-server");
        let store = auth.accounts().map(|a| a.store().clone());
        let metrics_port = gmail_shared::metrics::start(
            &settings.metrics,
            std::sync::Arc::new(gmail_shared::metrics::pool_gauges(store)),
        )?;
        // The team site's session cookie: encrypted, HttpOnly, SameSite=Lax, Secure behind https.
        let session_key = routes::site::session_key(&settings);
        let https = settings
            .multi_user
            .oauth_redirect_url
            .starts_with("https://");
        let service = http_service(port, &options, move |cfg| {
            cfg.app_data(state.clone())
                .app_data(web::Data::new(auth.clone()))
                .app_data(policy.clone());
            let session = actix_session::SessionMiddleware::builder(
                actix_session::storage::CookieSessionStore::default(),
                session_key.clone(),
            )
            .cookie_name("gmail_session".into())
            .cookie_http_only(true)
            .cookie_same_site(actix_web::cookie::SameSite::Lax)
            .cookie_secure(https)
            .build();
            routes::configure(cfg, cors(&cors_origins), doc.clone(), session);
        })?;
        tracing::info!(port = service.port, backend = %backend, "gmail-api-server listening");
        Ok(Application {
            port: service.port,
            metrics_port,
            server: service.server,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of `GET /metrics`, when `metrics.listen` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// Serves until SIGTERM/SIGINT, then stops within the configured shutdown timeout.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// CORS headers for the configured origins only; none at all by default, so no other web page
/// can read an answer.
fn cors(origins: &[String]) -> actix_web::middleware::Condition<actix_cors::Cors> {
    let mut cors = actix_cors::Cors::default()
        .allow_any_method()
        .allowed_headers([
            actix_web::http::header::AUTHORIZATION,
            actix_web::http::header::CONTENT_TYPE,
            actix_web::http::header::HeaderName::from_static("idempotency-key"),
            actix_web::http::header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderName::from_static("x-request-id"),
            actix_web::http::header::HeaderName::from_static("idempotent-replayed"),
        ])
        .max_age(600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    actix_web::middleware::Condition::new(!origins.is_empty(), cors)
}

/// The request's correlation id (`X-Request-Id`, taken or made by the telemetry middleware).
pub fn request_id(req: &HttpRequest) -> Option<String> {
    use actix_web::HttpMessage;
    req.extensions()
        .get::<gmail_shared::telemetry::CorrelationId>()
        .map(|c| c.0.clone())
}
