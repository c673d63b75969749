//! Tracing setup: JSON or human-readable logs, and a correlation id on every HTTP request that
//! the spans of the Gmail calls it makes inherit.

use std::io::IsTerminal;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LogSettings};

/// Where log lines go. stdio mode must keep stdout for JSON-RPC, so it logs to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTarget {
    Stdout,
    Stderr,
}

/// Installs the global subscriber. Safe to call more than once (later calls are ignored), so
/// tests can start several apps in one process.
pub fn init(settings: &LogSettings, target: LogTarget) {
    let filter = EnvFilter::try_new(&settings.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let is_terminal = match target {
        LogTarget::Stdout => std::io::stdout().is_terminal(),
        LogTarget::Stderr => std::io::stderr().is_terminal(),
    };
    let json = match settings.format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !is_terminal,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(is_terminal && !json);
    let result = match (json, target) {
        (true, LogTarget::Stdout) => builder.json().with_current_span(true).try_init(),
        (true, LogTarget::Stderr) => builder
            .json()
            .with_current_span(true)
            .with_writer(std::io::stderr)
            .try_init(),
        (false, LogTarget::Stdout) => builder.try_init(),
        (false, LogTarget::Stderr) => builder.with_writer(std::io::stderr).try_init(),
    };
    // Already installed (tests): keep the first one.
    let _ = result;
}

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The correlation id of the request being served.
#[derive(Debug, Clone)]
pub struct CorrelationId(pub String);

/// Root span for every request: method, path (never the query string, which can carry OAuth
/// codes), and a correlation id taken from `X-Request-Id` when the caller sends a sane one.
pub struct CorrelatedRootSpan;

impl RootSpanBuilder for CorrelatedRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let id = request
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| {
                !v.is_empty()
                    && v.len() <= 64
                    && v.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            })
            .map(str::to_owned)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let span = tracing::info_span!(
            "http_request",
            method = %request.method(),
            path = %request.path(),
            correlation_id = %id,
            status = tracing::field::Empty,
        );
        request.extensions_mut().insert(CorrelationId(id));
        span
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let status = match outcome {
            Ok(response) => response
                .response()
                .error()
                .map(|e| e.as_response_error().status_code())
                .unwrap_or_else(|| response.status()),
            Err(error) => error.as_response_error().status_code(),
        };
        span.record("status", status.as_u16());
    }
}

/// Echoes the correlation id in the response, so a caller can quote it in a bug report.
pub async fn echo_request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req.extensions().get::<CorrelationId>().cloned();
    let mut res = next.call(req).await?;
    if let Some(CorrelationId(id)) = id {
        if let Ok(value) = HeaderValue::from_str(&id) {
            res.headers_mut()
                .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
        }
    }
    Ok(res)
}
