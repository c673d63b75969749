//! Streamable HTTP at `/mcp`: rmcp's service through rmcp-actix-web, with a session manager
//! that wraps rmcp's in-memory one to keep the shared session registry current (creation,
//! activity, end) and to let `/sessions` and the idle reaper close rmcp's sessions.

use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse};
use futures::Stream;
use gmail_shared::auth::caller_key;
use gmail_shared::server::limits::{self, BodyLimits};
use gmail_shared::server::problem::Problem;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::model::{ErrorCode, RequestId};
use rmcp::transport::common::http_header::HEADER_SESSION_ID;
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError,
};
use rmcp::transport::streamable_http_server::session::{
    RestoreOutcome, ServerSseMessage, SessionId, SessionManager,
};
use rmcp_actix_web::transport::StreamableHttpService;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::{activity_of, json_rpc_error};
use crate::app::AppState;
use crate::handler::{GmailMcp, Shared};
use crate::sessions::{Activity, InFlight, Sessions, TransportKind};
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

    /// Registers a session rmcp holds; closing it from outside (DELETE /sessions, reaper,
    /// shutdown) ends rmcp's session too, and when rmcp ends it first, `close_session`
    /// cancels this and it exits.
    fn track(&self, id: &SessionId) {
        let session = self
            .sessions
            .register(id.to_string(), TransportKind::StreamableHttp);
        let inner = self.inner.clone();
        let closer = session.closer().clone();
        let sid = id.clone();
        tokio::spawn(async move {
            closer.cancelled().await;
            let _ = inner.close_session(&sid).await;
        });
    }

    fn touch(&self, id: &SessionId, activity: Activity) {
        if let Some(session) = self.sessions.get(id) {
            session.touch(activity);
        }
    }
}

impl SessionManager for TrackingSessionManager {
    type Error = LocalSessionManagerError;
    type Transport = <LocalSessionManager as SessionManager>::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        let (id, transport) = self.inner.create_session().await?;
        self.track(&id);
        Ok((id, transport))
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        self.touch(id, Activity::Initialize);
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
        self.touch(id, activity_of(&message));
        self.inner.create_stream(id, message).await
    }

    async fn accept_message(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<(), Self::Error> {
        self.touch(id, activity_of(&message));
        self.inner.accept_message(id, message).await
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.touch(id, Activity::Other);
        self.inner.create_standalone_stream(id).await
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.touch(id, Activity::Other);
        self.inner.resume(id, last_event_id).await
    }

    async fn restore_session(
        &self,
        id: SessionId,
    ) -> Result<RestoreOutcome<Self::Transport>, Self::Error> {
        let outcome = self.inner.restore_session(id.clone()).await?;
        if matches!(outcome, RestoreOutcome::Restored(_)) {
            // Another instance made it; from now on it is served here like one made here.
            self.track(&id);
        }
        Ok(outcome)
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
    max_body_bytes: usize,
    shutdown: CancellationToken,
    shared_store: Option<gmail_shared::store::Store>,
) -> McpHttpService {
    // With a database, any instance can restore a session from its initialize parameters.
    let session_store = shared_store.map(|s| {
        Arc::new(crate::cluster::DbSessionStore(s))
            as Arc<dyn rmcp::transport::streamable_http_server::session::store::SessionStore>
    });
    StreamableHttpService::builder()
        .maybe_session_store(session_store)
        .max_request_body_bytes(max_body_bytes)
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
                // The request id the audit log records.
                if let Some(id) = req
                    .extensions()
                    .get::<gmail_shared::telemetry::CorrelationId>()
                {
                    ext.insert(id.clone());
                }
            },
        ))
        .build()
}

/// In front of rmcp's `/mcp`: reads a POST's body once within the shared limits and answers
/// what rmcp would get wrong for a JSON-RPC client — a body over the limit (413 with a
/// JSON-RPC error naming the limit), invalid JSON (400, -32700), a batch or a non-message
/// (400, -32600) — and refuses a new session beyond the caps (503/429), or a request beyond
/// the caller's requests in flight (429; see `Sessions::hold_request`). It also answers a
/// session's DELETE with 200 rather than rmcp's 202, which the Python SDK logs as a failure.
pub async fn gate(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, actix_web::Error> {
    let refuse = |req: ServiceRequest, response: HttpResponse| {
        Ok(req.into_response(response).map_into_right_body())
    };
    let mut slot = None;
    let mut admitted = None;
    if req.method() == Method::POST {
        let max = req
            .app_data::<web::Data<BodyLimits>>()
            .map(|l| l.max_bytes)
            .unwrap_or(36 << 20);
        let payload = req.take_payload();
        let body = match limits::read_body(payload, max).await {
            Ok(body) => body,
            Err(over) => {
                let message = format!(
                    "the request body is {} bytes; the limit is {} (limits.max_body_bytes)",
                    over.seen,
                    limits::describe_bytes(max as u64)
                );
                let id = over
                    .request_id()
                    .and_then(|v| serde_json::from_value(v).ok());
                return refuse(
                    req,
                    json_rpc_error(413, id, ErrorCode::INVALID_REQUEST, &message),
                );
            }
        };
        let value: Value = match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                let message = format!("Parse error: {e}");
                return refuse(
                    req,
                    json_rpc_error(400, None, ErrorCode::PARSE_ERROR, &message),
                );
            }
        };
        if value.is_array() {
            return refuse(
                req,
                json_rpc_error(
                    400,
                    None,
                    ErrorCode::INVALID_REQUEST,
                    "JSON-RPC batches are not accepted on /mcp (MCP 2025-06-18 removed them): send one message per request",
                ),
            );
        }
        let id = value
            .get("id")
            .and_then(|v| serde_json::from_value::<RequestId>(v.clone()).ok());
        let message = match serde_json::from_value::<ClientJsonRpcMessage>(value) {
            Ok(m) => m,
            Err(e) => {
                let message = format!("Invalid request: {e}");
                return refuse(
                    req,
                    json_rpc_error(400, id, ErrorCode::INVALID_REQUEST, &message),
                );
            }
        };
        let initialize = activity_of(&message) == Activity::Initialize;
        if let Some(state) = req.app_data::<web::Data<AppState>>().cloned() {
            let caller = caller_key(req.request());
            if initialize && !req.headers().contains_key(HEADER_SESSION_ID) {
                match state
                    .sessions
                    .admit(caller.as_ref().map(|(user, _)| user.as_str()))
                {
                    // Held until the response: by then the session has its owner.
                    Ok(held) => admitted = Some(held),
                    Err(refusal) => {
                        tracing::warn!(?refusal, "refused a new Streamable HTTP session");
                        return refuse(req, refusal.problem().response());
                    }
                }
            } else if let Some((user, key)) = caller {
                match state.sessions.hold_request(&user, &key) {
                    Ok(held) => slot = Some(held),
                    Err(refusal) => {
                        tracing::warn!(?refusal, "refused a request on /mcp");
                        return refuse(req, refusal.problem().response());
                    }
                }
            }
        }
        req.set_payload(actix_web::dev::Payload::from(body));
    }
    let deleting = req.method() == Method::DELETE;
    // rmcp answers a sessionless request only once its first message is ready (a long
    // call's result): a revoked key ends the wait too, not only the stream after it.
    let revoked = async {
        match &slot {
            Some(s) => s.ended.cancelled().await,
            None => std::future::pending().await,
        }
    };
    let mut res = tokio::select! {
        res = next.call(req) => res?,
        _ = revoked => {
            let problem = Problem::new(
                StatusCode::UNAUTHORIZED,
                "revoked",
                "Credential revoked",
                "the API key or token of this request was revoked (or its user disabled) while it ran",
            );
            // (No request left to answer with: it went to rmcp. An error carries the answer.)
            return Err(actix_web::error::InternalError::from_response("revoked", problem.response()).into());
        }
    };
    drop(admitted);
    if deleting && res.status() == StatusCode::ACCEPTED {
        *res.response_mut().status_mut() = StatusCode::OK;
    }
    // The slot is held until the response (a stream, maybe) has been sent or dropped.
    Ok(res
        .map_body(|_, body| Held::new(body, slot))
        .map_into_left_body())
}

/// A response body that holds its request's place (see `Sessions::hold_request`) until it ends.
/// The response ends early when the request's caller loses their key.
pub struct Held<B> {
    body: std::pin::Pin<Box<B>>,
    ended: Option<std::pin::Pin<Box<tokio_util::sync::WaitForCancellationFutureOwned>>>,
    _slot: Option<InFlight>,
}

impl<B> Held<B> {
    fn new(body: B, slot: Option<InFlight>) -> Self {
        Held {
            body: Box::pin(body),
            ended: slot
                .as_ref()
                .map(|s| Box::pin(s.ended.clone().cancelled_owned())),
            _slot: slot,
        }
    }
}

impl<B: MessageBody> MessageBody for Held<B> {
    type Error = B::Error;

    fn size(&self) -> actix_web::body::BodySize {
        self.body.size()
    }

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<actix_web::web::Bytes, Self::Error>>> {
        use std::future::Future;
        if let Some(ended) = self.ended.as_mut() {
            if ended.as_mut().poll(cx).is_ready() {
                return std::task::Poll::Ready(None);
            }
        }
        self.body.as_mut().poll_next(cx)
    }
}
