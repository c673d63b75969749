//! Legacy HTTP+SSE transport (MCP 2024-11-05), which rmcp 3 no longer ships: `GET /sse`
//! opens an event stream whose first event names the POST endpoint; the client POSTs JSON-RPC
//! to `/message?sessionId=`, answered 202, and every reply travels on the stream.
//!
//! A session is two channels handed to rmcp as a transport, a task serving the handler over
//! them, and the response stream. Whichever side ends first (client gone, DELETE, idle
//! reaper, shutdown) cancels the session's token, which ends the other two.
//!
//! The events are framed here (three fixed shapes: `endpoint`, `message`, a `: ping`
//! comment). actix-web-lab's `Sse` would frame them, but its keep-alive has no follow-up
//! probe (below: a second write shortly after each ping, so a dead peer's reset ends the
//! session within the interval), and the cancellation above would still be ours.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix_web::{post, web, HttpResponse};
use bytes::Bytes;
use futures::{SinkExt, Stream, StreamExt};
use rmcp::model::{ClientJsonRpcMessage, ErrorCode, ErrorData, RequestId, ServerJsonRpcMessage};
use rmcp::ServiceExt;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::{CancellationToken, PollSendError, PollSender};

use super::{activity_of, json_rpc_error};
use crate::app::AppState;
use crate::handler::GmailMcp;
use crate::sessions::{Activity, Owner, Session, TransportKind};
use gmail_shared::auth::caller_key;
use gmail_shared::server::limits::{self, BodyLimits};
use gmail_shared::server::problem::Problem;

/// Messages buffered per direction before the sender waits.
const CHANNEL_CAPACITY: usize = 32;
/// Requests of one session whose answers have not been written to its stream yet. rmcp
/// answers each request from a task of its own, so a client that stops reading its stream
/// would otherwise make the server hold every answer to every request it keeps posting.
const MAX_AWAITING: usize = 64;

// Channels carry boxed messages: tokio allocates a channel's slots 32 at a time, and a message
// is ~500 bytes inline, so unboxed the two channels alone would cost ~32 KiB per idle session.
type ClientMsg = Box<ClientJsonRpcMessage>;
type ServerMsg = Box<ServerJsonRpcMessage>;

/// The live SSE sessions' inboxes.
#[derive(Default)]
pub struct SseSessions {
    map: RwLock<HashMap<String, SseSession>>,
}

#[derive(Clone)]
struct SseSession {
    /// Client → handler.
    inbox: mpsc::Sender<ClientMsg>,
    /// Server → stream, for errors this layer answers itself (malformed requests).
    outbox: mpsc::Sender<ServerMsg>,
    session: Arc<Session>,
    /// Ids of requests whose answers the stream has not carried yet (at most MAX_AWAITING).
    awaiting: Awaiting,
}

type Awaiting = Arc<std::sync::Mutex<HashSet<RequestId>>>;

fn lock(awaiting: &Awaiting) -> std::sync::MutexGuard<'_, HashSet<RequestId>> {
    awaiting.lock().unwrap_or_else(|e| e.into_inner())
}

/// Counts a request as awaiting its answer; false when the session has MAX_AWAITING already.
fn await_answer(awaiting: &Awaiting, id: RequestId) -> bool {
    let mut ids = lock(awaiting);
    if ids.len() >= MAX_AWAITING && !ids.contains(&id) {
        return false;
    }
    ids.insert(id);
    true
}

impl SseSessions {
    fn insert(&self, id: String, session: SseSession) {
        self.map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, session);
    }

    fn get(&self, id: &str) -> Option<SseSession> {
        self.map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    fn remove(&self, id: &str) {
        self.map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    pub fn len(&self) -> usize {
        self.map.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `GET /sse` (and `/sse/readonly`): opens a session.
pub async fn connect(req: actix_web::HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    use actix_web::HttpMessage;
    let ctx = req
        .extensions()
        .get::<gmail_shared::tools::ToolContext>()
        .cloned()
        .unwrap_or_else(|| state.auth.fallback_context());
    let owner = caller_key(&req).map(|(user_id, key_id)| Owner { user_id, key_id });
    let admitted = match state
        .sessions
        .admit(owner.as_ref().map(|o| o.user_id.as_str()))
    {
        Ok(admitted) => admitted,
        Err(refusal) => {
            tracing::warn!(?refusal, "refused a new SSE session");
            let mut response = refusal.problem().response();
            // Hand the descriptor back at once: this client gets no stream.
            response
                .head_mut()
                .set_connection_type(actix_web::http::ConnectionType::Close);
            return response;
        }
    };
    let id = uuid::Uuid::new_v4().to_string();
    let session = state.sessions.register(id.clone(), TransportKind::Sse);
    if let Some(owner) = &owner {
        session.set_owner(owner.clone());
    }
    // Registered with its owner: it counts as theirs now.
    drop(admitted);
    if let Some(cluster) = &state.cluster {
        let owner = owner
            .as_ref()
            .map(|o| (o.user_id.as_str(), o.key_id.as_str()));
        cluster.register(&id, "sse", owner).await;
    }
    let closer = session.closer().clone();
    let (in_tx, in_rx) = mpsc::channel::<ClientMsg>(CHANNEL_CAPACITY);
    let (out_tx, out_rx) = mpsc::channel::<ServerMsg>(CHANNEL_CAPACITY);
    let awaiting = Awaiting::default();
    state.sse.insert(
        id.clone(),
        SseSession {
            inbox: in_tx,
            outbox: out_tx.clone(),
            session,
            awaiting: awaiting.clone(),
        },
    );

    let handler = GmailMcp::new(state.shared.with_context(ctx));
    let sink = PollSender::new(out_tx).with(box_message as fn(_) -> _);
    let stream = ReceiverStream::new(in_rx).map(unbox_message as fn(_) -> _);
    let transport = (sink, stream);
    let serve_state = state.clone();
    let serve_id = id.clone();
    let serve_closer = closer.clone();
    tokio::spawn(async move {
        match handler.serve_with_ct(transport, serve_closer).await {
            Ok(running) => {
                let _ = running.waiting().await;
            }
            Err(e) => {
                tracing::debug!(session_id = %serve_id, error = %e, "session ended before initialize")
            }
        }
        serve_state.sse.remove(&serve_id);
        if let Some(cluster) = &serve_state.cluster {
            cluster.forget(&serve_id);
        }
        // Also cancels the token, which ends the response stream.
        serve_state.sessions.remove(&serve_id);
    });

    let endpoint = format!("event: endpoint\ndata: /message?sessionId={id}\n\n");
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        // Stops nginx-style proxies from buffering the stream.
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(event_stream(
            Bytes::from(endpoint),
            out_rx,
            awaiting,
            closer,
            state.sse_ping_interval,
        ))
}

/// The response body: the endpoint event, then messages and pings until the session ends.
/// Dropping it (actix does when a write to a gone client fails) closes the session.
///
/// Each ping is followed by a short probe comment: after a peer has gone, the first write
/// still succeeds (it only provokes the peer's RST) and the second fails, so the probe makes
/// a dropped client noticed right after the next ping instead of one interval later.
fn event_stream(
    endpoint: Bytes,
    out_rx: mpsc::Receiver<ServerMsg>,
    awaiting: Awaiting,
    closer: CancellationToken,
    ping_every: Duration,
) -> impl Stream<Item = Result<Bytes, Infallible>> {
    struct State {
        first: Option<Bytes>,
        out_rx: mpsc::Receiver<ServerMsg>,
        awaiting: Awaiting,
        closer: CancellationToken,
        ping: tokio::time::Interval,
        probe_after: Duration,
        probe: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
        _close_on_drop: tokio_util::sync::DropGuard,
    }
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let state = State {
        first: Some(endpoint),
        out_rx,
        awaiting,
        _close_on_drop: closer.clone().drop_guard(),
        closer,
        ping,
        probe_after: probe_delay(ping_every),
        probe: None,
    };
    futures::stream::unfold(state, |mut st| async move {
        if let Some(first) = st.first.take() {
            return Some((Ok(first), st));
        }
        let chunk = tokio::select! {
            biased;
            _ = st.closer.cancelled() => return None,
            msg = st.out_rx.recv() => match msg {
                Some(msg) => {
                    let answered = match &*msg {
                        ServerJsonRpcMessage::Response(r) => Some(&r.id),
                        ServerJsonRpcMessage::Error(e) => e.id.as_ref(),
                        _ => None,
                    };
                    if let Some(id) = answered {
                        lock(&st.awaiting).remove(id);
                    }
                    message_event(&msg)
                }
                None => return None,
            },
            _ = st.ping.tick() => {
                st.probe = Some(Box::pin(tokio::time::sleep(st.probe_after)));
                Bytes::from_static(b": ping\n\n")
            }
            _ = async { if let Some(p) = st.probe.as_mut() { p.await } }, if st.probe.is_some() => {
                st.probe = None;
                Bytes::from_static(b":\n\n")
            }
        };
        Some((Ok(chunk), st))
    })
}

/// Long enough for a peer's RST to come back over a slow link, short next to the interval.
fn probe_delay(ping_every: Duration) -> Duration {
    (ping_every / 8).clamp(Duration::from_millis(10), Duration::from_secs(1))
}

fn box_message(
    msg: ServerJsonRpcMessage,
) -> futures::future::Ready<Result<ServerMsg, PollSendError<ServerMsg>>> {
    futures::future::ready(Ok(Box::new(msg)))
}

fn unbox_message(msg: ClientMsg) -> ClientJsonRpcMessage {
    *msg
}

/// One JSON-RPC message as an SSE event. JSON text escapes newlines, so one `data:` line.
fn message_event(msg: &ServerJsonRpcMessage) -> Bytes {
    match serde_json::to_string(msg) {
        Ok(json) => Bytes::from(format!("event: message\ndata: {json}\n\n")),
        Err(e) => {
            tracing::error!(error = %e, "cannot serialize a server message");
            Bytes::from_static(b": unserializable message dropped\n\n")
        }
    }
}

#[derive(Deserialize)]
pub struct MessageQuery {
    #[serde(rename = "sessionId", alias = "session_id")]
    session_id: Option<String>,
}

#[post("/message")]
pub async fn post_message(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    limits: web::Data<BodyLimits>,
    query: web::Query<MessageQuery>,
    payload: web::Payload,
) -> HttpResponse {
    let Some(id) = query.into_inner().session_id else {
        return json_rpc_error(
            400,
            None,
            ErrorCode::INVALID_REQUEST,
            "missing sessionId query parameter",
        );
    };
    let Some(session) = state.sse.get(&id) else {
        return relay(&req, &state, &limits, &id, payload).await;
    };
    // A session acts with the rights of the credential that opened it; no other may post.
    let caller = caller_key(&req);
    let caller = caller.as_ref().map(|(u, k)| (u.as_str(), k.as_str()));
    if !session.session.opened_by(caller) {
        return Problem::forbidden(format!("SSE session {id} belongs to another caller"))
            .response();
    }
    let body = match limits::read_body(payload.into_inner(), limits.max_bytes).await {
        Ok(body) => body,
        Err(over) => {
            // The client waits on the stream for an answer to this id: give it one there,
            // not only a 413 it may never look at.
            let message = format!(
                "the request body is {} bytes; the limit is {} (limits.max_body_bytes). Send large attachments as files in the attachment directory, or split the request",
                over.seen,
                limits.describe_max()
            );
            session.session.touch(Activity::Request);
            if let Some(rid) = over.request_id().and_then(|v| request_id(&v)) {
                let reply = ServerJsonRpcMessage::error(
                    ErrorData::new(ErrorCode::INVALID_REQUEST, message, None),
                    Some(rid),
                );
                if session.outbox.send(Box::new(reply)).await.is_err() {
                    return ended(&id);
                }
                // Answered where the client waits, like any other request. A 4xx here would
                // also end the official SDKs' SSE sessions (their POST writer gives up).
                return HttpResponse::Accepted().finish();
            }
            return Problem::new(
                actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "Payload too large",
                message,
            )
            .jsonrpc(ErrorCode::INVALID_REQUEST.0)
            .response();
        }
    };
    match deliver(&session, &body, &id).await {
        Ok(()) => HttpResponse::Accepted().finish(),
        Err(response) => response,
    }
}

/// Hands a posted body to its session: each message to the handler; a request this layer
/// cannot parse is answered on the stream, where the client waits for it. `Err` is the
/// HTTP answer for what has no id to answer on the stream.
async fn deliver(session: &SseSession, body: &[u8], id: &str) -> Result<(), HttpResponse> {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => {
            session.session.touch(Activity::Other);
            return Err(json_rpc_error(
                400,
                None,
                ErrorCode::PARSE_ERROR,
                &format!("Parse error: {e}"),
            ));
        }
    };
    // JSON-RPC batches (MCP 2025-03-26) are accepted and taken apart.
    let items = match value {
        Value::Array(items) if items.is_empty() => {
            return Err(json_rpc_error(
                400,
                None,
                ErrorCode::INVALID_REQUEST,
                "empty batch",
            ));
        }
        Value::Array(items) => items,
        single => vec![single],
    };
    for item in items {
        let id_of_item = item.get("id").and_then(request_id);
        if let Some(rid) = &id_of_item {
            if !await_answer(&session.awaiting, rid.clone()) {
                session.session.touch(Activity::Other);
                return Err(Problem::new(
                    actix_web::http::StatusCode::TOO_MANY_REQUESTS,
                    "too-many-requests",
                    "Too many unanswered requests",
                    format!("this session has {MAX_AWAITING} requests whose answers wait to be read from its event stream (GET /sse); read the stream, or wait for answers before posting more"),
                )
                .retry_after(1)
                .jsonrpc(ErrorCode::INVALID_REQUEST.0)
                .response());
            }
        }
        match serde_json::from_value::<ClientJsonRpcMessage>(item) {
            Ok(msg) => {
                // A cancelled request gets no answer (MCP): it no longer awaits one.
                if let ClientJsonRpcMessage::Notification(n) = &msg {
                    if let rmcp::model::ClientNotification::CancelledNotification(c) =
                        &n.notification
                    {
                        if let Some(rid) = &c.params.request_id {
                            lock(&session.awaiting).remove(rid);
                        }
                    }
                }
                session.session.touch(activity_of(&msg));
                if session.inbox.send(Box::new(msg)).await.is_err() {
                    return Err(ended(id));
                }
            }
            Err(e) => {
                session.session.touch(if id_of_item.is_some() {
                    Activity::Request
                } else {
                    Activity::Other
                });
                let message = format!("Invalid request: {e}");
                match id_of_item {
                    // The client waits for an answer to this id on the stream: give it one.
                    Some(rid) => {
                        let reply = ServerJsonRpcMessage::error(
                            ErrorData::new(ErrorCode::INVALID_REQUEST, message, None),
                            Some(rid),
                        );
                        if session.outbox.send(Box::new(reply)).await.is_err() {
                            return Err(ended(id));
                        }
                    }
                    None => {
                        return Err(json_rpc_error(
                            400,
                            None,
                            ErrorCode::INVALID_REQUEST,
                            &message,
                        ))
                    }
                }
            }
        }
    }
    Ok(())
}

const RELAY_DELIVERY_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// A message another instance queued for a stream held here (see `cluster`). The poster
/// was answered 202 already; what cannot be answered on the stream is dropped.
pub async fn deliver_relayed(state: &AppState, id: &str, body: Vec<u8>) {
    match state.sse.get(id) {
        Some(session) => {
            // One loop delivers every relayed message: a session whose client stopped reading
            // may hold it only this long.
            match tokio::time::timeout(RELAY_DELIVERY_WAIT, deliver(&session, &body, id)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => {
                    tracing::debug!(session_id = %id, "a relayed message could not be delivered")
                }
                Err(_) => {
                    tracing::warn!(session_id = %id, "a relayed message was dropped: its session is not taking messages")
                }
            }
        }
        None => tracing::debug!(session_id = %id, "a relayed message's session has ended"),
    }
}

/// A post for a stream this instance does not hold: queued for the instance that does, for
/// the stream's own user only.
async fn relay(
    req: &actix_web::HttpRequest,
    state: &AppState,
    limits: &BodyLimits,
    id: &str,
    payload: web::Payload,
) -> HttpResponse {
    let owner = match &state.cluster {
        Some(cluster) => match cluster.owner(id).await {
            Ok(owner) => owner,
            Err(problem) => return problem.response(),
        },
        None => None,
    };
    let (Some(cluster), Some(owner)) = (&state.cluster, owner) else {
        return Problem::not_found(format!("no SSE session {id}")).response();
    };
    let Some(instance) = owner.instance.filter(|i| i != cluster.instance()) else {
        return ended(id);
    };
    let opener = owner.user_id.as_deref().zip(owner.key_id.as_deref());
    let caller = caller_key(req);
    if opener != caller.as_ref().map(|(u, k)| (u.as_str(), k.as_str())) {
        return Problem::forbidden(format!("SSE session {id} belongs to another caller"))
            .response();
    }
    let body = match limits::read_body(payload.into_inner(), limits.max_bytes).await {
        Ok(body) => body,
        Err(over) => {
            return Problem::new(
                actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "Payload too large",
                format!(
                    "the request body is {} bytes; the limit is {} (limits.max_body_bytes)",
                    over.seen,
                    limits.describe_max()
                ),
            )
            .jsonrpc(ErrorCode::INVALID_REQUEST.0)
            .response();
        }
    };
    let text = match std::str::from_utf8(&body)
        .ok()
        .filter(|t| serde_json::from_str::<Value>(t).is_ok())
    {
        Some(text) => text,
        None => {
            return json_rpc_error(
                400,
                None,
                ErrorCode::PARSE_ERROR,
                "Parse error: the body is not JSON",
            )
        }
    };
    match cluster.store().relay_message(&instance, id, text).await {
        Ok(()) => HttpResponse::Accepted().finish(),
        Err(e) => actix_web::ResponseError::error_response(&e),
    }
}

fn request_id(value: &Value) -> Option<RequestId> {
    serde_json::from_value(value.clone()).ok()
}

fn ended(id: &str) -> HttpResponse {
    Problem::not_found(format!("SSE session {id} has ended")).response()
}
