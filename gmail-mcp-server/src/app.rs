//! Application::build binds the port (0 in tests) and wires the routes and transports.

use std::sync::Arc;
use std::time::Duration;

use actix_web::middleware::from_fn;
use actix_web::web;
use gmail_shared::auth::{check_bind, CallerAuth};
use gmail_shared::gmail::GmailFactory;
use gmail_shared::server::limits::FD_RESERVE;
use gmail_shared::server::{bind, http_service, HttpOptions, Started};
use gmail_shared::tools::catalog;
use gmail_shared::Settings;
use tokio_util::sync::CancellationToken;

use gmail_shared::server::guard::{browser_guard, HostPolicy};

use crate::guard::session_owner_guard;
use crate::handler::Shared;
use crate::routes;
use crate::sessions::{self, SessionCaps, Sessions};

/// How often open sessions are checked against revoked keys and disabled users.
const REVOCATION_POLL: Duration = Duration::from_millis(250);
use crate::transport::{sse, streamable};

/// Shared state of every worker.
pub struct AppState {
    pub factory: GmailFactory,
    pub started: Started,
    pub shared: Shared,
    pub sessions: Arc<Sessions>,
    pub sse: sse::SseSessions,
    pub sse_ping_interval: Duration,
    pub auth: CallerAuth,
    /// Multi-user mode: this instance among others on the same database.
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
}

/// The single-user mailbox, the tool context over it, and the registry: what every session's
/// handler shares, whatever its transport.
pub async fn shared_handler_state(
    settings: &Settings,
) -> anyhow::Result<(GmailFactory, CallerAuth, Shared)> {
    gmail_shared::server::check_settings(settings)?;
    let factory = GmailFactory::new(&settings.gmail)?;
    let auth = CallerAuth::from_settings(settings, &factory).await?;
    // The change feed (what wait_for_email reads) runs in the background of this process.
    if let Some(events) = auth.events() {
        events.start(Arc::new(auth.clone()));
    }
    // Multi-user sessions get their caller's context; this one acts for nobody.
    let ctx = auth.fallback_context();
    Ok((
        factory,
        auth,
        Shared::new(ctx, catalog::registry_for(settings)),
    ))
}

pub struct Application {
    port: u16,
    metrics_port: Option<u16>,
    server: actix_web::dev::Server,
    /// Cancelled on shutdown: closes every session, so open streams do not hold the stop.
    shutdown: CancellationToken,
    sessions: Arc<Sessions>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        check_bind(&settings, &settings.mcp.host).map_err(anyhow::Error::msg)?;
        // The port first: a taken one fails the start before any background work begins.
        let port = bind(&settings.mcp.host, settings.mcp.port)?;
        let (factory, auth, shared) = shared_handler_state(&settings).await?;
        // Remote clients connect with OAuth access tokens as well as API keys.
        let auth = auth.accepting_oauth(&settings);
        let resource_metadata = auth.accounts().map(|_| {
            web::Data::new(routes::protected_resource::ResourceMetadata(Arc::new(
                settings.clone(),
            )))
        });
        let mcp = &settings.mcp;

        let options =
            HttpOptions::new(mcp.shutdown_timeout_secs, &settings.limits).named("gmail-mcp-server");
        let store = auth.accounts().map(|a| a.store().clone());
        let shutdown = CancellationToken::new();
        // Every SSE stream holds a descriptor: the cap stays below the open-files limit, with
        // a reserve so /health and new connections keep answering at the cap.
        let caps = SessionCaps {
            total: mcp
                .max_sessions
                .min(options.fd_limit.saturating_sub(FD_RESERVE).max(1) as usize),
            per_caller: mcp.max_sessions_per_caller,
        };
        tracing::info!(
            max_sessions = caps.total,
            per_caller = caps.per_caller,
            fd_limit = options.fd_limit,
            "session caps"
        );
        let sessions = Arc::new(Sessions::with_caps(shutdown.child_token(), caps));
        sessions.spawn_reaper(
            Duration::from_secs(mcp.session_idle_timeout_secs),
            Duration::from_secs(mcp.session_init_timeout_secs.max(1)),
        );
        if let Some(accounts) = auth.accounts() {
            sessions::spawn_revocation_watch(
                accounts.store().clone(),
                sessions.clone(),
                shutdown.child_token(),
                REVOCATION_POLL,
            );
        }
        let policy: HostPolicy = mcp.host_policy();
        let ping = Duration::from_secs(mcp.sse_ping_interval_secs.max(1));
        let cluster = auth
            .accounts()
            .map(|a| crate::cluster::Cluster::new(a.store().clone()));
        let mcp_http = streamable::service(
            shared.clone(),
            sessions.clone(),
            &policy,
            ping,
            options.limits.max_bytes,
            shutdown.child_token(),
            cluster.as_ref().map(|c| c.store().clone()),
        );
        let backend = factory.backend();
        let state = web::Data::new(AppState {
            factory,
            started: Started::now(),
            shared,
            sessions: sessions.clone(),
            sse: sse::SseSessions::default(),
            sse_ping_interval: ping,
            auth: auth.clone(),
            cluster: cluster.clone(),
        });
        if let Some(cluster) = &cluster {
            cluster.spawn(state.clone(), shutdown.child_token());
            let cluster = cluster.clone();
            sessions.on_close(move |id| cluster.forget(id));
        }
        let policy = web::Data::new(policy);
        let service = http_service(port, &options, move |cfg| {
            if let Some(docs) = &resource_metadata {
                cfg.app_data(docs.clone());
            }
            // One mount, so the read-only path can never lose a guard the other has.
            let mcp_at = |path: &'static str| {
                mcp_http
                    .clone()
                    .scope_with_path(path)
                    .wrap(from_fn(session_owner_guard))
                    .wrap(from_fn(streamable::gate))
            };
            cfg.app_data(state.clone())
                .app_data(web::Data::new(auth.clone()))
                .app_data(policy.clone())
                .service(routes::health::health)
                .service(routes::protected_resource::metadata)
                .service(
                    // Everything but /health answers only to allowed Host and Origin values.
                    web::scope("")
                        // Who is calling: the API key's user in multi-user mode.
                        .wrap(from_fn(gmail_shared::auth::require_caller))
                        .wrap(from_fn(browser_guard))
                        // `/…/readonly` narrows the session to read-only tools.
                        .route("/sse", web::get().to(sse::connect))
                        .route("/sse/readonly", web::get().to(sse::connect))
                        .service(sse::post_message)
                        .service(routes::sessions::list_sessions)
                        .service(routes::sessions::delete_session)
                        .service(mcp_at("/mcp/readonly"))
                        .service(mcp_at("/mcp")),
                );
        })?;
        tracing::info!(port = service.port, %backend, "gmail-mcp-server listening");
        let metrics_port = {
            let sessions = sessions.clone();
            let pool = gmail_shared::metrics::pool_gauges(store);
            gmail_shared::metrics::start(
                &settings.metrics,
                Arc::new(move || {
                    for (transport, open) in sessions.counts() {
                        gmail_shared::metrics::sessions(transport, open);
                    }
                    pool();
                }),
            )?
        };
        Ok(Application {
            port: service.port,
            metrics_port,
            server: service.server,
            shutdown,
            sessions,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of `GET /metrics`, when `metrics.listen` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    pub fn sessions(&self) -> Arc<Sessions> {
        self.sessions.clone()
    }

    /// Stops the server from code (tests): closes every session, then stops gracefully.
    pub fn stopper(&self) -> Stopper {
        Stopper {
            handle: self.server.handle(),
            shutdown: self.shutdown.clone(),
        }
    }

    /// Serves until SIGTERM/SIGINT, then stops within the configured shutdown timeout.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        // actix stops on the same signals; closing the sessions at once ends the SSE
        // streams it would otherwise wait for.
        let shutdown = self.shutdown.clone();
        let watcher = tokio::spawn(async move {
            stop_signal().await;
            tracing::info!("stop signal: closing MCP sessions");
            shutdown.cancel();
        });
        let result = self.server.await;
        self.shutdown.cancel();
        watcher.abort();
        result
    }
}

/// Stops a running [`Application`].
#[derive(Clone)]
pub struct Stopper {
    handle: actix_web::dev::ServerHandle,
    shutdown: CancellationToken,
}

impl Stopper {
    pub async fn stop(&self) {
        self.shutdown.cancel();
        self.handle.stop(true).await;
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
