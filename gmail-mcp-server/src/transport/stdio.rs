//! stdio: one session over stdin/stdout (Claude Desktop and other clients that spawn the
//! server). stdout carries JSON-RPC only; logs go to stderr.

use std::sync::Arc;

use gmail_shared::Settings;
use rmcp::ServiceExt;
use tokio_util::sync::CancellationToken;

use crate::app::shared_handler_state;
use crate::handler::GmailMcp;
use crate::sessions::{Sessions, TransportKind};

/// Serves until the client closes stdin or the process is told to stop.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let (_factory, _auth, shared) = shared_handler_state(&settings).await?;
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
