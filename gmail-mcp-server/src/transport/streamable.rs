//! Streamable HTTP at `/mcp`: rmcp's service through rmcp-actix-web, with a session manager
//! that wraps rmcp's in-memory one to keep the shared session registry current (creation,
//! activity, end) and to let `/sessions` and the idle reaper close rmcp's sessions.

use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError,
};
use rmcp::transport::streamable_http_server::session::{
    RestoreOutcome, ServerSseMessage, SessionId, SessionManager,
};
use rmcp_actix_web::transport::StreamableHttpService;
use tokio_util::sync::CancellationToken;

use crate::handler::{GmailMcp, Shared};
use crate::sessions::{Sessions, TransportKind};
use gmail_shared::server::guard::HostPolicy;

/// rmcp's [`LocalSessionManager`] plus bookkeeping in [`Sessions`].
pub struct TrackingSessionManager {
    inner: Arc<LocalSessionManager>,
    sessions: Arc<Sessions>,
}

impl TrackingSessionManager {
    pub fn new(sessions: Arc<Sessions>) -> Self {
        let mut inner = LocalSessionManager::default();
        // Our reaper owns idle expiry (one timeout for every transport); rmcp's own 5-minute
        // keep-alive would otherwise close sessions the configuration says to keep.
        inner.session_config.keep_alive = None;
        TrackingSessionManager {
            inner: Arc::new(inner),
            sessions,
        }
    }

    fn touch(&self, id: &SessionId, is_request: bool) {
        if let Some(session) = self.sessions.get(id) {
            session.touch(is_request);
        }
    }
}

fn is_request(message: &ClientJsonRpcMessage) -> bool {
    matches!(message, ClientJsonRpcMessage::Request(_))
}

impl SessionManager for TrackingSessionManager {
    type Error = LocalSessionManagerError;
    type Transport = <LocalSessionManager as SessionManager>::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        let (id, transport) = self.inner.create_session().await?;
        let session = self
            .sessions
            .register(id.to_string(), TransportKind::StreamableHttp);
        // Closing from outside (DELETE /sessions, reaper, shutdown) ends rmcp's session too;
        // when rmcp ends it first, `close_session` below cancels this and it exits.
        let inner = self.inner.clone();
        let closer = session.closer().clone();
        let sid = id.clone();
        tokio::spawn(async move {
            closer.cancelled().await;
            let _ = inner.close_session(&sid).await;
        });
        Ok((id, transport))
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        self.touch(id, true);
        self.inner.initialize_session(id, message).await
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        self.inner.has_session(id).await
    }

    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        self.sessions.remove(id);
        self.inner.close_session(id).await
    }

    async fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.touch(id, is_request(&message));
        self.inner.create_stream(id, message).await
    }

    async fn accept_message(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<(), Self::Error> {
        self.touch(id, is_request(&message));
        self.inner.accept_message(id, message).await
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.touch(id, false);
        self.inner.create_standalone_stream(id).await
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.touch(id, false);
        self.inner.resume(id, last_event_id).await
    }

    async fn restore_session(
        &self,
        id: SessionId,
    ) -> Result<RestoreOutcome<Self::Transport>, Self::Error> {
        self.inner.restore_session(id).await
    }

    fn event_store(
        &self,
    ) -> Option<Arc<dyn rmcp::transport::streamable_http_server::session::EventStore>> {
        self.inner.event_store()
    }
}

/// The service behind `/mcp`; build once and clone into each worker so every worker sees the
/// same sessions.
pub type McpHttpService = StreamableHttpService<GmailMcp, TrackingSessionManager>;

pub fn service(
    shared: Shared,
    sessions: Arc<Sessions>,
    policy: &HostPolicy,
    keep_alive: Duration,
    shutdown: CancellationToken,
) -> McpHttpService {
    StreamableHttpService::builder()
        .service_factory(Arc::new(move || Ok(GmailMcp::new(shared.clone()))))
        .session_manager(Arc::new(TrackingSessionManager::new(sessions)))
        // The guard in front of /mcp enforces Host and Origin with a JSON 403; rmcp's own
        // Host check stays on with the same list as a second line.
        .allowed_hosts(policy.rmcp_allowed_hosts())
        .sse_keep_alive(keep_alive)
        .cancellation_token(shutdown)
        // `require_caller` put the caller's tool context on the actix request; hand it on.
        .on_request(Arc::new(
            |req: &actix_web::HttpRequest, ext: &mut rmcp::model::Extensions| {
                use actix_web::HttpMessage;
                if let Some(ctx) = req.extensions().get::<gmail_shared::tools::ToolContext>() {
                    ext.insert(ctx.clone());
                }
            },
        ))
        .build()
}
