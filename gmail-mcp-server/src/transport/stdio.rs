//! stdio: one session over stdin/stdout (Claude Desktop and other clients that spawn the
//! server). stdout carries JSON-RPC only; logs go to stderr. In multi-user mode the session
//! acts for the user whose API key is in `GMAIL_API_KEY` (the environment, never argv, where
//! `ps` would show it).

use std::sync::Arc;

use gmail_shared::auth::CallerAuth;
use gmail_shared::Settings;
use rmcp::ServiceExt;
use secrecy::{ExposeSecret, SecretString};
use tokio_util::sync::CancellationToken;

use crate::app::shared_handler_state;
use crate::handler::GmailMcp;
use crate::sessions::{Sessions, TransportKind};

/// Where a multi-user stdio session finds its caller's API key.
pub const API_KEY_ENV: &str = "GMAIL_API_KEY";

/// Serves until the client closes stdin or the process is told to stop.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let (_factory, auth, shared) = shared_handler_state(&settings).await?;
    let shared = match auth {
        CallerAuth::SingleUser(_) => shared,
        CallerAuth::MultiUser { .. } => {
            let key = std::env::var(API_KEY_ENV)
                .ok()
                .filter(|k| !k.trim().is_empty())
                .map(SecretString::from)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "multi-user mode: set {API_KEY_ENV} to the API key of the user this stdio session acts for"
                    )
                })?;
            let header = format!("Bearer {}", key.expose_secret().trim());
            let ctx = auth
                .context(Some(&header))
                .await
                .map_err(|e| anyhow::anyhow!("{API_KEY_ENV}: {e}"))?;
            shared.with_context(ctx)
        }
    };
    let root = CancellationToken::new();
    let sessions = Arc::new(Sessions::new(root.clone()));
    let session = sessions.register(uuid::Uuid::new_v4().to_string(), TransportKind::Stdio);
    let stop = session.closer().clone();
    tokio::spawn(async move {
        crate::app::stop_signal().await;
        stop.cancel();
    });
    let result = GmailMcp::new(shared)
        .serve_with_ct(rmcp::transport::io::stdio(), session.closer().clone())
        .await;
    let outcome = match result {
        Ok(running) => running
            .waiting()
            .await
            .map(|_| ())
            .map_err(anyhow::Error::from),
        // stdin closed or a stop signal before `initialize`: nothing to serve.
        Err(e) => {
            tracing::info!(error = %e, "stdio session ended before initialize");
            Ok(())
        }
    };
    sessions.remove(&session.id);
    outcome
}
