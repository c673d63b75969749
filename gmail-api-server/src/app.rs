//! Application::build binds the port (0 in tests) and wires the routes.

use actix_web::{web, HttpRequest};
use gmail_shared::auth::{check_bind, CallerAuth};
use gmail_shared::gmail::GmailFactory;
use gmail_shared::ops::Mailbox;
use gmail_shared::server::{bind, http_service, Started};
use gmail_shared::tools::{catalog, Registry, ToolContext};
use gmail_shared::{GmailError, Settings};

use crate::idempotency::IdempotencyStore;
use crate::{openapi, routes};

/// Shared state of every worker.
pub struct AppState {
    pub factory: GmailFactory,
    pub started: Started,
    /// The same tool registry the MCP server lists and calls.
    pub registry: Registry,
    pub auth: CallerAuth,
    pub idempotency: IdempotencyStore,
    public_mcp_url: String,
    success_redirect_url: Option<String>,
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
        if let Some(ctx) = req.extensions().get::<ToolContext>() {
            return ctx.clone();
        }
        self.auth.fallback_context()
    }

    pub fn accounts(&self) -> Option<&std::sync::Arc<gmail_shared::oauth::accounts::Accounts>> {
        self.auth.accounts()
    }

    pub fn public_mcp_url(&self) -> &str {
        &self.public_mcp_url
    }

    pub fn success_redirect_url(&self) -> Option<String> {
        self.success_redirect_url.clone()
    }
}

pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        check_bind(&settings, &settings.api.host).map_err(anyhow::Error::msg)?;
        let factory = GmailFactory::new(&settings.gmail)?;
        let auth = CallerAuth::from_settings(&settings, &factory).await?;
        let listener = bind(&settings.api.host, settings.api.port)?;
        let backend = factory.backend().to_string();
        let state = web::Data::new(AppState {
            factory,
            started: Started::now(),
            registry: catalog::registry(),
            auth: auth.clone(),
            // Shared through the database when there is one, so every instance honours a key.
            idempotency: match auth.accounts() {
                Some(accounts) => IdempotencyStore::database(
                    accounts.store().clone(),
                    crate::idempotency::DEFAULT_TTL,
                ),
                None => IdempotencyStore::default(),
            },
            public_mcp_url: settings.multi_user.public_mcp_url.clone(),
            success_redirect_url: settings.multi_user.success_redirect_url.clone(),
        });
        // Built once: the document is the same for every request.
        let doc = openapi::document();
        let service = http_service(listener, settings.api.shutdown_timeout_secs, move |cfg| {
            cfg.app_data(state.clone())
                .app_data(web::Data::new(auth.clone()));
            openapi::configure(cfg, doc.clone());
            routes::configure(cfg);
        })?;
        tracing::info!(port = service.port, backend = %backend, "gmail-api-server listening");
        Ok(Application {
            port: service.port,
            server: service.server,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM/SIGINT, then stops within the configured shutdown timeout.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
