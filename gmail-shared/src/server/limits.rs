//! Bounds on what a caller can make a server hold while it sends a request: how long a body may
//! take to arrive, how many body bytes all requests together may have in memory, and how many
//! file descriptors stay in reserve so `/health` and new connections keep answering when
//! sessions are at their cap. The size of one body is `limits.max_body_bytes`, enforced by
//! each reader (JSON, multipart, the MCP transports) with the same number.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::HttpMessage;
use futures::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::problem::Problem;
use crate::config::LimitSettings;

/// File descriptors kept free for `/health`, new connections and the process's own files.
pub const FD_RESERVE: u64 = 256;

/// Budget unit: permits are KiB of body in memory.
const UNIT: usize = 1024;

/// The body limits every request goes through.
#[derive(Debug, Clone)]
pub struct BodyLimits {
    pub max_bytes: usize,
    pub timeout: Duration,
    budget: Arc<Semaphore>,
    budget_units: usize,
}

impl BodyLimits {
    pub fn new(settings: &LimitSettings) -> Self {
        let units = (settings.body_memory_bytes as usize / UNIT).max(1);
        BodyLimits {
            max_bytes: settings.max_body_bytes as usize,
            timeout: Duration::from_secs(settings.body_timeout_secs.max(1)),
            budget: Arc::new(Semaphore::new(units.min(Semaphore::MAX_PERMITS))),
            budget_units: units,
        }
    }

    /// The limit in words for messages: "36 MiB (37748736 bytes)".
    pub fn describe_max(&self) -> String {
        describe_bytes(self.max_bytes as u64)
    }
}

pub fn describe_bytes(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB ({n} bytes)", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

/// Why a body stopped arriving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    TimedOut,
    Busy,
}

struct Held {
    permits: Vec<OwnedSemaphorePermit>,
    units: usize,
    failure: Option<Failure>,
}

/// Middleware: the request's body arrives within `limits.body_timeout_secs`, and while it is
/// held (until the answer is made) its bytes count against `limits.body_memory_bytes` shared
/// by all requests; a request that cannot get its share in time is answered 503 with
/// Retry-After, a slow one 408. Needs `web::Data<BodyLimits>`.
pub async fn body_limits(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, actix_web::Error> {
    let Some(limits) = req.app_data::<web::Data<BodyLimits>>().cloned() else {
        return next.call(req).await.map(|r| r.map_into_left_body());
    };
    let held = Arc::new(Mutex::new(Held {
        permits: Vec::new(),
        units: 0,
        failure: None,
    }));
    let payload = req.take_payload();
    req.set_payload(guarded(payload, &limits, held.clone()));
    let res = next.call(req).await?;
    // The body's share is released when the answer is made, not when it was read: extractors
    // keep the bytes for the handler's whole run.
    let failure = {
        let mut h = held.lock().unwrap_or_else(|e| e.into_inner());
        h.permits.clear();
        h.failure
    };
    let problem = match failure {
        Some(Failure::TimedOut) => Problem::new(
            StatusCode::REQUEST_TIMEOUT,
            "body-timeout",
            "Request body too slow",
            format!(
                "the request body did not arrive within {} s (limits.body_timeout_secs)",
                limits.timeout.as_secs()
            ),
        ),
        Some(Failure::Busy) => {
            crate::metrics::rejection("body_memory");
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "Server busy",
                "too many large request bodies are being received right now; retry shortly",
            )
            .retry_after(2)
        }
        None => return Ok(res.map_into_left_body()),
    };
    let (http, _) = res.into_parts();
    let mut response = problem.response();
    // The rest of a slow body is not worth waiting for.
    response
        .head_mut()
        .set_connection_type(actix_web::http::ConnectionType::Close);
    Ok(ServiceResponse::new(http, response).map_into_right_body())
}

fn guarded(payload: Payload, limits: &BodyLimits, held: Arc<Mutex<Held>>) -> Payload {
    let deadline = tokio::time::Instant::now() + limits.timeout;
    let budget = limits.budget.clone();
    // One request never holds more than one body's worth (an oversized body being drained
    // to find its request id holds no more).
    let cap = (limits.max_bytes / UNIT + 1).min(limits.budget_units);
    let stream = futures::stream::unfold((payload, false), move |(mut payload, done)| {
        let budget = budget.clone();
        let held = held.clone();
        async move {
            if done {
                return None;
            }
            let fail = |f: Failure| {
                held.lock().unwrap_or_else(|e| e.into_inner()).failure = Some(f);
                let e = std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    match f {
                        Failure::TimedOut => "request body timed out",
                        Failure::Busy => "server busy receiving other bodies",
                    },
                );
                Some((Err(PayloadError::Io(e)), (Payload::None, true)))
            };
            let chunk = match tokio::time::timeout_at(deadline, payload.next()).await {
                Err(_) => return fail(Failure::TimedOut),
                Ok(None) => return None,
                Ok(Some(Err(e))) => return Some((Err(e), (payload, true))),
                Ok(Some(Ok(chunk))) => chunk,
            };
            let want = {
                let h = held.lock().unwrap_or_else(|e| e.into_inner());
                (chunk.len().div_ceil(UNIT)).min(cap.saturating_sub(h.units))
            };
            if want > 0 {
                let acquire = budget.acquire_many_owned(want as u32);
                match tokio::time::timeout_at(deadline, acquire).await {
                    Ok(Ok(permit)) => {
                        let mut h = held.lock().unwrap_or_else(|e| e.into_inner());
                        h.units += want;
                        h.permits.push(permit);
                    }
                    _ => return fail(Failure::Busy),
                }
            }
            Some((Ok::<Bytes, PayloadError>(chunk), (payload, false)))
        }
    });
    // Fused: multipart readers poll again after the end.
    Payload::from(Box::pin(stream.fuse()) as std::pin::Pin<Box<dyn futures::Stream<Item = _>>>)
}

/// Reads a whole body, refusing more than `max` bytes. On overflow it reads on (holding only
/// the first and last few KiB) until the body ends, so the caller can still find a JSON-RPC
/// request id to answer; the bytes beyond the limit are dropped as they come.
pub async fn read_body(mut payload: Payload, max: usize) -> Result<Bytes, BodyTooLarge> {
    let mut body = web::BytesMut::new();
    let mut over: Option<BodyTooLarge> = None;
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            break;
        };
        if let Some(o) = over.as_mut() {
            o.seen += chunk.len() as u64;
            o.push_tail(&chunk);
            continue;
        }
        if body.len() + chunk.len() > max {
            body.extend_from_slice(&chunk);
            let mut o = BodyTooLarge {
                head: Bytes::copy_from_slice(&body[..body.len().min(WINDOW)]),
                tail: Vec::new(),
                seen: body.len() as u64,
            };
            o.push_tail(&body);
            body = web::BytesMut::new();
            over = Some(o);
            continue;
        }
        body.extend_from_slice(&chunk);
    }
    match over {
        Some(o) => Err(o),
        None => Ok(body.freeze()),
    }
}

const WINDOW: usize = 4096;

/// An over-limit body: how much arrived, and its first and last bytes.
#[derive(Debug)]
pub struct BodyTooLarge {
    pub head: Bytes,
    pub tail: Vec<u8>,
    pub seen: u64,
}

impl BodyTooLarge {
    fn push_tail(&mut self, bytes: &[u8]) {
        self.tail.extend_from_slice(bytes);
        if self.tail.len() > WINDOW {
            let cut = self.tail.len() - WINDOW;
            self.tail.drain(..cut);
        }
    }

    /// The JSON-RPC `"id"` of the request, if its first or last bytes name one.
    pub fn request_id(&self) -> Option<serde_json::Value> {
        id_in(&self.tail).or_else(|| id_in(&self.head))
    }
}

/// Finds `"id": <number or string>` in a fragment of JSON text (the last occurrence, the
/// outermost object's in a message that ends with it).
fn id_in(bytes: &[u8]) -> Option<serde_json::Value> {
    let text = String::from_utf8_lossy(bytes);
    let mut found = None;
    let mut rest: &str = &text;
    while let Some(at) = rest.find("\"id\"") {
        let after = rest[at + 4..].trim_start();
        if let Some(value) = after.strip_prefix(':') {
            let value = value.trim_start();
            let end = value
                .char_indices()
                .skip(1)
                .find(|(_, c)| {
                    if value.starts_with('"') {
                        *c == '"'
                    } else {
                        !(c.is_ascii_digit() || *c == '-')
                    }
                })
                .map(|(i, _)| if value.starts_with('"') { i + 1 } else { i })
                .unwrap_or(value.len());
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&value[..end]) {
                if v.is_string() || v.is_number() {
                    found = Some(v);
                }
            }
        }
        rest = &rest[at + 4..];
    }
    found
}

/// Raises the soft limit on open files to the hard one, and answers it: every SSE stream and
/// keep-alive connection holds one.
pub fn raise_fd_limit() -> u64 {
    #[cfg(unix)]
    {
        match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "cannot raise the open-files limit");
                rlimit::getrlimit(rlimit::Resource::NOFILE)
                    .map(|(soft, _)| soft)
                    .unwrap_or(1024)
            }
        }
    }
    #[cfg(not(unix))]
    {
        8192
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_request_id_at_either_end() {
        let tail = br#"..."}}},"jsonrpc":"2.0","id":42}"#;
        assert_eq!(id_in(tail), Some(serde_json::json!(42)));
        let head = br#"{"jsonrpc":"2.0","id":"abc-1","method":"tools/call","params":{"#;
        assert_eq!(id_in(head), Some(serde_json::json!("abc-1")));
        assert_eq!(id_in(b"no id here"), None);
        // The last one wins: an inner "id" field inside arguments comes before the envelope's.
        let both = br#"{"params":{"arguments":{"id":"inner"}},"jsonrpc":"2.0","id":7}"#;
        assert_eq!(id_in(both), Some(serde_json::json!(7)));
    }

    #[actix_web::test]
    async fn an_oversized_body_is_drained_keeping_its_ends() {
        let mut chunks: Vec<Result<Bytes, PayloadError>> = vec![Ok(Bytes::from_static(
            br#"{"method":"tools/call","params":{"x":""#,
        ))];
        for _ in 0..100 {
            chunks.push(Ok(Bytes::from(vec![b'a'; 10_000])));
        }
        chunks.push(Ok(Bytes::from_static(br#""}},"jsonrpc":"2.0","id":9}"#)));
        let payload = Payload::from(Box::pin(futures::stream::iter(chunks))
            as std::pin::Pin<Box<dyn futures::Stream<Item = _>>>);
        let over = read_body(payload, 50_000).await.unwrap_err();
        assert!(over.seen > 1_000_000);
        assert_eq!(over.request_id(), Some(serde_json::json!(9)));
        assert!(over.tail.len() <= WINDOW && over.head.len() <= WINDOW);
    }
}
