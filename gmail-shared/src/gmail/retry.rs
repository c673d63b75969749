//! One retry policy for every Gmail call: exponential backoff with jitter (backon), Gmail's
//! `Retry-After` (the header, or the instant its rate-limit message names) honoured, and a
//! bound on the total time spent waiting.
//!
//! Two flavours, by what a repeat could do:
//! - [`idempotent`] calls (reads, label and settings changes, batch parts) are retried on any
//!   transient failure: connection errors, 429, 5xx and rate-limit 403s;
//! - [`once`] calls (send, create, delete) are retried only when the failure proves Gmail did
//!   nothing: the connection was never made, or the request was refused for rate (429).
//!
//! google-gmail1 runs the retries itself through its `Delegate` (it re-sends the same request,
//! re-reading an upload from the start); requests it cannot make use [`retry_raw`].

use std::future::Future;
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder, Retryable};
use google_gmail1::common::{Delegate, Response, Retry};

use crate::error::GmailError;

/// The policy: backoff from 200 ms, doubling with jitter up to 4 s a wait, 8 tries, and at
/// most `max_wait` (`gmail.retry_max_wait_secs`, 20 s by default) of waiting in all: past that
/// the caller is better served by an error that says "retry later".
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_wait: Duration,
    /// The longest one request may take (`gmail.request_timeout_secs`), plus time to upload.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_wait: Duration::from_secs(20),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// How fast an upload is assumed to go at the slowest: a 35 MB send gets over two minutes.
const SLOWEST_UPLOAD_BYTES_PER_SEC: usize = 256 * 1024;

impl RetryPolicy {
    /// The longest one request carrying `bytes` may take before it counts as lost.
    pub fn attempt_timeout(&self, bytes: usize) -> Duration {
        let upload = Duration::from_secs((bytes / SLOWEST_UPLOAD_BYTES_PER_SEC) as u64);
        self.request_timeout.saturating_add(upload)
    }

    /// The longest a whole call may take: its retries' waits and one more request.
    pub fn deadline(&self, bytes: usize) -> Duration {
        self.max_wait.saturating_add(self.attempt_timeout(bytes))
    }

    fn builder(&self) -> ExponentialBuilder {
        ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(Duration::from_secs(4))
            .with_factor(2.0)
            .with_jitter()
            .with_max_times(8)
            .with_total_delay(Some(self.max_wait))
    }

    /// For reads and for changes that end in the same state however often they run.
    pub fn idempotent(&self) -> Retrying {
        Retrying::new(Repeat::Idempotent, *self)
    }

    /// For calls that must not happen twice (send, create, delete).
    pub fn once(&self) -> Retrying {
        Retrying::new(Repeat::Once, *self)
    }

    /// Delays of the policy, for loops that retry part of a request (batch parts).
    pub fn delays(&self) -> ExponentialBackoff {
        self.builder().build()
    }

    /// The same policy for idempotent requests google-gmail1 cannot make (the batch
    /// endpoint): retries `call` while it fails transiently, honouring the wait a rate limit
    /// names.
    pub async fn retry_raw<T, F, Fut>(&self, call: F) -> Result<T, GmailError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, GmailError>>,
    {
        self.retry_raw_if(call, transient).await
    }

    /// [`RetryPolicy::retry_raw`] for the failures `may_retry` accepts (a send retries only
    /// refusals).
    pub async fn retry_raw_if<T, F, Fut>(
        &self,
        call: F,
        may_retry: impl FnMut(&GmailError) -> bool,
    ) -> Result<T, GmailError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, GmailError>>,
    {
        let started = Instant::now();
        let max_wait = self.max_wait;
        call.retry(self.builder())
            .sleep(tokio::time::sleep)
            .when(may_retry)
            .adjust(move |e, backoff| {
                let backoff = backoff?;
                let told = match e {
                    GmailError::RateLimited { retry_after } => *retry_after,
                    _ => None,
                };
                let wait = told.map_or(backoff, |t| t.max(Duration::from_millis(50)));
                (started.elapsed().saturating_add(wait) <= max_wait).then_some(wait)
            })
            .notify(|e, wait| tracing::debug!(error = %e, wait_ms = wait.as_millis() as u64, "retrying a Gmail request"))
            .await
    }
}

/// A google-gmail1 call (with its retries) that ends in a timeout error at `limit`: a Gmail
/// that stops answering must not hold the caller, its session or the feed forever.
pub async fn within<T>(
    limit: Duration,
    call: impl Future<Output = Result<T, google_gmail1::Error>>,
) -> Result<T, GmailError> {
    match tokio::time::timeout(limit, call).await {
        Ok(answer) => answer.map_err(GmailError::from),
        Err(_) => Err(GmailError::UpstreamTimeout {
            after: limit,
            sent_as: None,
        }),
    }
}

/// Whether a call may be repeated after any transient failure, or only after one that proves
/// nothing happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    Idempotent,
    Once,
}

/// The delegate google-gmail1 consults after each failure.
pub struct Retrying {
    repeat: Repeat,
    backoff: ExponentialBackoff,
    max_wait: Duration,
    started: Instant,
    retries: u32,
    /// The Gmail method (`gmail.users.messages.get`) and when its current attempt began,
    /// for the upstream metrics.
    method: &'static str,
    attempt: Instant,
}

impl Retrying {
    fn new(repeat: Repeat, policy: RetryPolicy) -> Self {
        Retrying {
            repeat,
            backoff: policy.delays(),
            max_wait: policy.max_wait,
            started: Instant::now(),
            retries: 0,
            method: "unknown",
            attempt: Instant::now(),
        }
    }

    fn record(&self, status: String) {
        crate::metrics::upstream(self.method, status, self.attempt.elapsed());
    }

    fn next_wait(&mut self, told: Option<Duration>) -> Retry {
        let Some(backoff) = self.backoff.next() else {
            return Retry::Abort;
        };
        let wait = told.map_or(backoff, |t| t.max(backoff.min(Duration::from_millis(50))));
        if self.started.elapsed().saturating_add(wait) > self.max_wait {
            return Retry::Abort;
        }
        self.retries += 1;
        crate::metrics::upstream_retry(self.method);
        tracing::debug!(
            retry = self.retries,
            wait_ms = wait.as_millis() as u64,
            "retrying a Gmail call"
        );
        Retry::After(wait)
    }
}

impl Delegate for Retrying {
    fn begin(&mut self, info: google_gmail1::common::MethodInfo) {
        self.method = info.id;
    }

    fn pre_request(&mut self) {
        self.attempt = Instant::now();
    }

    fn finished(&mut self, is_success: bool) {
        // Failures were recorded with their status as they happened.
        if is_success {
            self.record("2xx".into());
        }
    }

    fn http_error(&mut self, err: &hyper_util::client::legacy::Error) -> Retry {
        self.record("error".into());
        // A connection that was never made carried nothing; anything later might have.
        if self.repeat == Repeat::Idempotent || err.is_connect() {
            self.next_wait(None)
        } else {
            Retry::Abort
        }
    }

    fn http_failure(&mut self, response: &Response, body: Option<&serde_json::Value>) -> Retry {
        let status = response.status().as_u16();
        self.record(status.to_string());
        let rate_limited = status == 429 || (status == 403 && rate_limit_reason(body));
        let transient = rate_limited || matches!(status, 500 | 502 | 503 | 504);
        let may = match self.repeat {
            Repeat::Idempotent => transient,
            // A refusal for rate means the request was not carried out.
            Repeat::Once => rate_limited,
        };
        if !may {
            return Retry::Abort;
        }
        let told = retry_after_header(response.headers()).or_else(|| {
            body.and_then(|b| b["error"]["message"].as_str())
                .and_then(super::errors::retry_after_from_message)
        });
        self.next_wait(told)
    }
}

fn rate_limit_reason(body: Option<&serde_json::Value>) -> bool {
    body.and_then(|b| b["error"]["errors"].as_array())
        .is_some_and(|errors| {
            errors.iter().any(|e| {
                matches!(
                    e["reason"].as_str(),
                    Some("rateLimitExceeded" | "userRateLimitExceeded")
                )
            })
        })
}

/// The longest `Retry-After` believed: a day. A larger one is no different to a caller, and
/// an unbounded one would overflow the arithmetic of the retry budget.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(86_400);

/// `Retry-After: <seconds>` (Google sends seconds; an HTTP date is read too), at most a day.
pub fn retry_after_header(headers: &hyper::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(hyper::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let wait = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
            (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
                .to_std()
                .ok()?
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// Whether a classified failure may be retried by an idempotent call.
pub fn transient(e: &GmailError) -> bool {
    matches!(
        e,
        GmailError::RateLimited { .. }
            | GmailError::UpstreamUnavailable { .. }
            | GmailError::UpstreamTimeout { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, retry_after: Option<&str>) -> Response {
        use http_body_util::BodyExt;
        let mut b = hyper::Response::builder().status(status);
        if let Some(r) = retry_after {
            b = b.header("retry-after", r);
        }
        b.body(
            http_body_util::Empty::<hyper::body::Bytes>::new()
                .map_err(|e| match e {})
                .boxed(),
        )
        .unwrap()
    }

    fn idempotent() -> Retrying {
        RetryPolicy::default().idempotent()
    }

    #[test]
    fn idempotent_calls_retry_transient_failures_and_honour_retry_after() {
        let mut r = idempotent();
        assert!(matches!(
            r.http_failure(&response(500, None), None),
            Retry::After(_)
        ));
        assert!(matches!(
            r.http_failure(&response(429, Some("3")), None),
            Retry::After(d) if d == Duration::from_secs(3)
        ));
        assert!(matches!(
            r.http_failure(&response(404, None), None),
            Retry::Abort
        ));
        assert!(matches!(
            r.http_failure(&response(400, None), None),
            Retry::Abort
        ));
        let quota = serde_json::json!({"error": {"code": 403, "errors": [{"reason": "userRateLimitExceeded"}]}});
        assert!(matches!(
            r.http_failure(&response(403, None), Some(&quota)),
            Retry::After(_)
        ));
        let denied = serde_json::json!({"error": {"code": 403, "errors": [{"reason": "insufficientPermissions"}]}});
        assert!(matches!(
            r.http_failure(&response(403, None), Some(&denied)),
            Retry::Abort
        ));
    }

    #[test]
    fn sends_retry_only_what_gmail_refused() {
        let mut r = RetryPolicy::default().once();
        assert!(matches!(
            r.http_failure(&response(429, None), None),
            Retry::After(_)
        ));
        assert!(matches!(
            r.http_failure(&response(500, None), None),
            Retry::Abort
        ));
        assert!(matches!(
            r.http_failure(&response(503, None), None),
            Retry::Abort
        ));
    }

    #[test]
    fn waiting_stops_within_the_bound() {
        let mut r = idempotent();
        // A Retry-After past the whole budget is not waited for: the caller gets the error.
        assert!(matches!(
            r.http_failure(&response(429, Some("120")), None),
            Retry::Abort
        ));
        let mut tries = 0;
        while let Retry::After(_) = r.http_failure(&response(503, None), None) {
            tries += 1;
        }
        assert!(tries <= 8, "{tries}");
    }

    #[test]
    fn a_huge_retry_after_is_read_as_a_day() {
        let headers = response(429, Some("18446744073709551615"))
            .headers()
            .clone();
        assert_eq!(retry_after_header(&headers), Some(MAX_RETRY_AFTER));
        let mut r = idempotent();
        assert!(matches!(
            r.http_failure(&response(429, Some("18446744073709551615")), None),
            Retry::Abort
        ));
    }

    #[tokio::test]
    async fn raw_requests_get_the_same_policy() {
        let mut calls = 0;
        let out = RetryPolicy::default()
            .retry_raw(|| {
                calls += 1;
                let n = calls;
                async move {
                    if n < 3 {
                        Err(GmailError::unavailable("503"))
                    } else {
                        Ok(n)
                    }
                }
            })
            .await;
        assert_eq!(out.unwrap(), 3);
        let mut calls = 0;
        let out: Result<(), _> = RetryPolicy::default()
            .retry_raw(|| {
                calls += 1;
                async { Err(GmailError::not_found("x")) }
            })
            .await;
        assert!(out.is_err());
        assert_eq!(calls, 1);
    }
}
