//! Gmail's batch endpoint (`POST {root}batch/gmail/v1`, multipart/mixed), which google-gmail1
//! does not support: many reads in one upstream request instead of one request each.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::StreamExt;
use hyper::body::Bytes;
use serde::de::DeserializeOwned;

use super::errors::from_envelope;
use super::{retry, Connection};
use crate::error::GmailError;

/// Gmail allows 100 calls per batch but rate-limits batches over 50.
pub const BATCH_CHUNK: usize = 50;
/// Parallel single requests when the batch endpoint is unavailable, under Gmail's per-user
/// limit of about 10 in flight.
pub const FALLBACK_CONCURRENCY: usize = 5;
/// After the batch endpoint answered that it does not exist, go straight to single requests
/// for this long before trying it again.
const NO_BATCH_FOR: Duration = Duration::from_secs(600);

/// Roots whose batch endpoint is known missing, and until when.
static NO_BATCH: Mutex<Vec<(String, Instant)>> = Mutex::new(Vec::new());

fn batch_known_missing(root: &str) -> bool {
    let mut list = NO_BATCH.lock().unwrap_or_else(|e| e.into_inner());
    list.retain(|(_, until)| *until > Instant::now());
    list.iter().any(|(r, _)| r == root)
}

fn remember_no_batch(root: &str) {
    let mut list = NO_BATCH.lock().unwrap_or_else(|e| e.into_inner());
    list.retain(|(r, _)| r != root);
    list.push((root.to_string(), Instant::now() + NO_BATCH_FOR));
}

/// GETs every `path` (e.g. `/gmail/v1/users/me/messages/ID?format=metadata`) through the
/// batch endpoint, in order. Parts that fail transiently (and a whole batch that did) are
/// sent again in rounds, under one budget of waits and one deadline for the whole call;
/// other failures come back per item. When the server has no batch endpoint, the paths are
/// fetched one by one instead, a few at a time.
pub async fn batch_get<T: DeserializeOwned>(
    conn: &Connection,
    paths: &[String],
    units_per_part: u32,
) -> Result<Vec<Result<T, GmailError>>, GmailError> {
    let mut results: Vec<Option<Result<T, GmailError>>> = (0..paths.len()).map(|_| None).collect();
    let mut pending: Vec<usize> = (0..paths.len()).collect();
    let started = tokio::time::Instant::now();
    let mut delays = conn.retry.delays();
    // The retry budget's waits, and each chunk's request once.
    let chunks = paths.len().div_ceil(BATCH_CHUNK).max(1) as u32;
    let allowed = conn
        .retry
        .max_wait
        .saturating_add(conn.retry.attempt_timeout(0).saturating_mul(chunks));
    let deadline = started
        .checked_add(allowed)
        .unwrap_or_else(|| started + Duration::from_secs(86_400));
    let mut waited = Duration::ZERO;
    while !pending.is_empty() {
        let mut again = Vec::new();
        // Once a whole chunk fails for rate (the batch, or every part of it) or transiently,
        // the round's other chunks are not sent: they would fail alike, or queue behind the
        // same budget one after another; they keep that error and go in the next round. A
        // few parts' own 429s stop nothing.
        let mut limited: Option<Option<Duration>> = None;
        let mut stopped: Option<GmailError> = None;
        for chunk in pending.chunks(BATCH_CHUNK) {
            let fetched = if let Some(retry_after) = limited {
                Err(ChunkFailure::Limited(retry_after))
            } else if let Some(e) = &stopped {
                Err(ChunkFailure::Whole(e.copied()))
            } else if tokio::time::Instant::now() >= deadline {
                // Not started at all: a started fetch would spend quota for nothing.
                Err(ChunkFailure::Whole(timed_out(allowed)))
            } else {
                let chunk_paths = chunk.iter().map(|&i| paths[i].clone()).collect();
                let fetch = fetch_chunk(conn, chunk_paths, units_per_part);
                let sent = tokio::time::Instant::now();
                let fetched = tokio::time::timeout_at(deadline, fetch)
                    .await
                    .unwrap_or_else(|_| Err(ChunkFailure::Whole(timed_out(allowed))));
                if let Err(ChunkFailure::Limited(_)) = &fetched {
                    // Time spent queued in the quota budget is waiting too.
                    waited += sent.elapsed();
                }
                fetched
            };
            let answers: Vec<Result<Vec<u8>, GmailError>> = match fetched {
                Ok(answers) => {
                    let rated = answers
                        .iter()
                        .map(|a| match a {
                            Err(GmailError::RateLimited { retry_after }) => Some(*retry_after),
                            _ => None,
                        })
                        .collect::<Option<Vec<_>>>();
                    if let Some(first) = rated.and_then(|r| r.first().copied()) {
                        limited = Some(first);
                    }
                    answers
                }
                Err(ChunkFailure::Limited(retry_after)) => {
                    limited = Some(retry_after);
                    let e = GmailError::RateLimited { retry_after };
                    chunk.iter().map(|_| Err(e.copied())).collect()
                }
                Err(ChunkFailure::Whole(e)) => {
                    if retry::transient(&e) {
                        stopped = Some(e.copied());
                    }
                    chunk.iter().map(|_| Err(e.copied())).collect()
                }
            };
            for (&index, answer) in chunk.iter().zip(answers) {
                match answer {
                    Err(e) if retry::transient(&e) => {
                        again.push(index);
                        results[index] = Some(Err(e));
                    }
                    Err(e) => results[index] = Some(Err(e)),
                    Ok(body) => {
                        results[index] =
                            Some(serde_json::from_slice(&body).map_err(|e| {
                                GmailError::unavailable_from("unreadable batch part", e)
                            }))
                    }
                }
            }
        }
        if again.is_empty() {
            break;
        }
        // Out of patience (the retry budget's waits, counted as slept), or of time, or told
        // to wait longer than either allows: the parts keep their last error.
        let Some(mut wait) = delays.next() else { break };
        if let Some(told) = limited.flatten() {
            wait = wait.max(told);
        }
        waited = waited.saturating_add(wait);
        if waited > conn.retry.max_wait || tokio::time::Instant::now() + wait >= deadline {
            break;
        }
        tokio::time::sleep(wait).await;
        pending = again;
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(GmailError::internal("batch part without answer"))))
        .collect())
}

/// What the parts a batch read had no time left for answer.
fn timed_out(after: Duration) -> GmailError {
    GmailError::UpstreamTimeout {
        after,
        sent_as: None,
    }
}

/// How a chunk went when it did not come back part by part.
enum ChunkFailure {
    /// The whole batch request failed (each part failed so).
    Whole(GmailError),
    /// Rate-limited as a whole, by Gmail or the local quota budget.
    Limited(Option<Duration>),
}

/// One chunk's answers: through the batch endpoint, once (batch_get retries), or one
/// request each on a server without one.
async fn fetch_chunk(
    conn: &Connection,
    paths: Vec<String>,
    units: u32,
) -> Result<Vec<Result<Vec<u8>, GmailError>>, ChunkFailure> {
    if !batch_known_missing(&conn.api_root) {
        match send_batch(conn, paths.iter().map(String::as_str), units).await {
            Ok(Sent::Answers(answers)) => return Ok(answers),
            Ok(Sent::NoEndpoint(why)) => {
                remember_no_batch(&conn.api_root);
                tracing::warn!(
                    parts = paths.len(),
                    why,
                    "no batch endpoint here; fetching the parts one by one"
                );
            }
            Err(GmailError::RateLimited { retry_after }) => {
                return Err(ChunkFailure::Limited(retry_after))
            }
            // One request a part would fail alike, at fifty times the cost.
            Err(e) => {
                tracing::warn!(error = %e, parts = paths.len(), "the batch request failed");
                return Err(ChunkFailure::Whole(e));
            }
        }
    }
    Ok(futures::stream::iter(paths)
        .map(|path| async move { conn.retry.retry_raw(|| get_one(conn, &path, units)).await })
        .buffered(FALLBACK_CONCURRENCY)
        .collect()
        .await)
}

/// One GET of a batch part's path on its own.
async fn get_one(conn: &Connection, path: &str, units: u32) -> Result<Vec<u8>, GmailError> {
    conn.spend_quota(units).await?;
    let (status, headers, bytes) =
        super::raw::request(conn, hyper::Method::GET, path, None, Bytes::new()).await?;
    if status.is_success() {
        Ok(bytes.to_vec())
    } else {
        Err(with_retry_after(
            super::raw::error_from(status, &bytes),
            &headers,
        ))
    }
}

/// A rate limit's wait, from the answer's Retry-After when the body named none.
fn with_retry_after(e: GmailError, headers: &hyper::HeaderMap) -> GmailError {
    match e {
        GmailError::RateLimited { retry_after: None } => GmailError::RateLimited {
            retry_after: retry::retry_after_header(headers),
        },
        other => other,
    }
}

/// What a batch request came back with.
enum Sent {
    /// One answer a part, in order.
    Answers(Vec<Result<Vec<u8>, GmailError>>),
    /// The server has no batch endpoint (404, 405, 501, or an answer that is not
    /// multipart), and why it looks so.
    NoEndpoint(String),
}

#[tracing::instrument(name = "gmail_batch", skip_all)]
async fn send_batch<'a>(
    conn: &Connection,
    paths: impl Iterator<Item = &'a str>,
    units: u32,
) -> Result<Sent, GmailError> {
    let boundary = format!("batch_gmail_servers_{}", uuid::Uuid::new_v4().simple());
    let mut body = String::new();
    let mut count = 0;
    for (i, path) in paths.enumerate() {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Type: application/http\r\nContent-ID: <item-{i}>\r\n\r\nGET {path} HTTP/1.1\r\n\r\n"
        ));
        count += 1;
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    // Google charges each part of a batch as the call it holds.
    conn.spend_quota(units * count as u32).await?;
    let (status, headers, bytes) = super::raw::request(
        conn,
        hyper::Method::POST,
        "batch/gmail/v1",
        Some(&format!("multipart/mixed; boundary={boundary}")),
        Bytes::from(body),
    )
    .await?;
    if matches!(status.as_u16(), 404 | 405 | 501) {
        return Ok(Sent::NoEndpoint(format!("it answered {status}")));
    }
    if !status.is_success() {
        return Err(with_retry_after(
            super::raw::error_from(status, &bytes),
            &headers,
        ));
    }
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let Some(boundary) = boundary_of(&content_type) else {
        return Ok(Sent::NoEndpoint(format!(
            "its answer is not multipart: {content_type}"
        )));
    };
    Ok(Sent::Answers(parse_multipart_responses(
        &bytes, &boundary, count,
    )))
}

fn with_code(mut envelope: serde_json::Value, code: u16) -> serde_json::Value {
    if envelope["error"]["code"].is_null() {
        envelope = serde_json::json!({"error": {"code": code, "message": format!("HTTP {code}")}});
    }
    envelope
}

fn boundary_of(content_type: &str) -> Option<String> {
    content_type.split(';').find_map(|p| {
        let p = p.trim();
        p.strip_prefix("boundary=")
            .map(|b| b.trim_matches('"').to_string())
    })
}

/// The `count` answers of a batch, each in its request's place (by Content-ID, else by its
/// position); a part missing from the answer is an error of its own, never another's body.
fn parse_multipart_responses(
    body: &[u8],
    boundary: &str,
    count: usize,
) -> Vec<Result<Vec<u8>, GmailError>> {
    let text = String::from_utf8_lossy(body);
    let delimiter = format!("--{boundary}");
    let mut slots: Vec<Option<Result<Vec<u8>, GmailError>>> = (0..count).map(|_| None).collect();
    for (position, part) in text.split(delimiter.as_str()).skip(1).enumerate() {
        if part.starts_with("--") {
            break;
        }
        let index = part
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                if !name.trim().eq_ignore_ascii_case("content-id") {
                    return None;
                }
                value
                    .trim()
                    .rsplit('-')
                    .next()?
                    .trim_end_matches('>')
                    .parse()
                    .ok()
            })
            .unwrap_or(position);
        // Outer part headers, a blank line, then an HTTP response.
        let Some((_, http)) = split_blank(part) else {
            continue;
        };
        let status: u16 = http
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let inner_body = split_blank(http).map(|(_, b)| b.trim()).unwrap_or("");
        let answer = if (200..300).contains(&status) {
            Ok(inner_body.as_bytes().to_vec())
        } else {
            let envelope: serde_json::Value = serde_json::from_str(inner_body).unwrap_or_default();
            Err(from_envelope(&with_code(envelope, status)))
        };
        if let Some(slot) = slots.get_mut(index) {
            *slot = Some(answer);
        }
    }
    slots
        .into_iter()
        .map(|a| {
            a.unwrap_or_else(|| Err(GmailError::unavailable("batch response is missing a part")))
        })
        .collect()
}

fn split_blank(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start_matches(['\r', '\n']);
    s.split_once("\r\n\r\n").or_else(|| s.split_once("\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_batch_answer_in_content_id_order() {
        let body = "--b\r\nContent-Type: application/http\r\nContent-ID: <response-item-1>\r\n\r\n\
            HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n\r\n\
            {\"error\":{\"code\":404,\"message\":\"Requested entity was not found.\",\"errors\":[{\"reason\":\"notFound\"}]}}\r\n\
            --b\r\nContent-Type: application/http\r\nContent-ID: <response-item-0>\r\n\r\n\
            HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"id\":\"a\"}\r\n--b--\r\n";
        let parts = parse_multipart_responses(body.as_bytes(), "b", 2);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].as_ref().unwrap(), br#"{"id":"a"}"#);
        assert_eq!(parts[1].as_ref().unwrap_err().kind(), "not-found");
        // Asked for three: the missing one is an error in its own place, not item 2's body
        // moved up, and an answer for an item never asked is dropped.
        let parts = parse_multipart_responses(body.as_bytes(), "b", 3);
        assert_eq!(parts[0].as_ref().unwrap(), br#"{"id":"a"}"#);
        assert_eq!(parts[1].as_ref().unwrap_err().kind(), "not-found");
        assert_eq!(
            parts[2].as_ref().unwrap_err().kind(),
            "upstream-unavailable"
        );
        let missing_first = body.replace("response-item-0", "response-item-2");
        let parts = parse_multipart_responses(missing_first.as_bytes(), "b", 3);
        assert!(parts[0].is_err());
        assert_eq!(parts[2].as_ref().unwrap(), br#"{"id":"a"}"#);
        assert_eq!(parse_multipart_responses(body.as_bytes(), "b", 1).len(), 1);
    }

    #[test]
    fn reads_quoted_and_plain_boundaries() {
        assert_eq!(
            boundary_of("multipart/mixed; boundary=\"batch_x\"").as_deref(),
            Some("batch_x")
        );
        assert_eq!(
            boundary_of("multipart/mixed;boundary=abc").as_deref(),
            Some("abc")
        );
    }
}
