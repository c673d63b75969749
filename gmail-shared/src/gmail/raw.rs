//! Authorized requests google-gmail1 cannot make (the batch endpoint, drafts.send without
//! re-uploading the draft), over the connection's own pool and token.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{HeaderMap, Method, StatusCode};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;

use super::errors::from_envelope;
use super::Connection;
use crate::error::GmailError;

/// Sends `method path` (relative to the API root, e.g. `gmail/v1/users/me/drafts/send`) with
/// the connection's bearer token; answers status, headers and body.
pub async fn request(
    conn: &Connection,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: Bytes,
) -> Result<(StatusCode, HeaderMap, Bytes), GmailError> {
    let token = conn.token.access_token().await?;
    let mut builder = hyper::Request::builder()
        .method(method)
        .uri(format!("{}{}", conn.api_root, path.trim_start_matches('/')))
        .header("authorization", format!("Bearer {}", token.expose_secret()));
    if let Some(ct) = content_type {
        builder = builder.header("content-type", ct);
    }
    let size = body.len();
    let request = builder
        .body(Full::new(body).map_err(|e| match e {}).boxed())
        .map_err(|e| GmailError::internal_from("bad request to Gmail", e))?;
    // Bounded labels: the batch endpoint, or any other call made outside google-gmail1.
    let metric = if path.contains("batch") {
        "gmail.batch"
    } else {
        "gmail.raw"
    };
    let started = std::time::Instant::now();
    let limit = conn.retry.attempt_timeout(size);
    let exchange = super::http::exchange(&conn.http, request, "Gmail");
    let answer =
        tokio::time::timeout(limit, exchange)
            .await
            .unwrap_or(Err(GmailError::UpstreamTimeout {
                after: limit,
                sent_as: None,
            }));
    // One count an attempt, once it is over: its status, or how it failed.
    let outcome = match &answer {
        Ok((status, _, _)) => status.as_u16().to_string(),
        Err(GmailError::UpstreamTimeout { .. }) => "timeout".into(),
        Err(_) => "error".into(),
    };
    crate::metrics::upstream(metric, outcome, started.elapsed());
    answer
}

/// Turns a non-success answer into the classified error.
pub fn error_from(status: StatusCode, body: &[u8]) -> GmailError {
    let mut envelope: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    if envelope["error"]["code"].is_null() {
        envelope = serde_json::json!({"error": {"code": status.as_u16(), "message": format!("HTTP {status}")}});
    }
    from_envelope(&envelope)
}

/// POSTs JSON once and reads a JSON answer; a refusal for rate (nothing done) is retried
/// with the shared policy, nothing else.
pub async fn post_json<T: DeserializeOwned>(
    conn: &Connection,
    path: &str,
    body: &serde_json::Value,
) -> Result<T, GmailError> {
    let post = || async {
        let (status, headers, bytes) = request(
            conn,
            Method::POST,
            path,
            Some("application/json"),
            Bytes::from(body.to_string()),
        )
        .await?;
        if status.is_success() {
            return Ok(bytes);
        }
        Err(match error_from(status, &bytes) {
            GmailError::RateLimited { retry_after: None } => GmailError::RateLimited {
                retry_after: super::retry::retry_after_header(&headers),
            },
            other => other,
        })
    };
    let bytes = conn
        .retry
        .retry_raw_if(post, |e| matches!(e, GmailError::RateLimited { .. }))
        .await?;
    serde_json::from_slice(&bytes)
        .map_err(|e| GmailError::unavailable_from("Gmail sent an answer that could not be read", e))
}
