//! Prometheus metrics for both servers (`metrics` + its Prometheus exporter). Served by
//! [`serve`] on `metrics.listen`, its own address, never on the public port; with no address
//! nothing is recorded (the `metrics` macros go to a no-op recorder).
//!
//! Labels have bounded cardinality: route patterns (not paths), tool names, Gmail method ids,
//! status codes and fixed outcome words; never user ids, keys or addresses.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// The process's recorder, installed once (every app built in this process shares it).
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ];
            let handle = PrometheusBuilder::new()
                .set_buckets(&buckets)
                .expect("the buckets are not empty")
                .install_recorder()
                .expect("no other metrics recorder is installed");
            describe();
            handle
        })
        .clone()
}

/// The HELP text of every family (Prometheus tooling expects one).
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        "http_requests_total",
        "HTTP requests answered, by route pattern, method and status"
    );
    describe_histogram!(
        "http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request (to its head, for streams)"
    );
    describe_counter!(
        "mcp_tool_calls_total",
        "Tool calls, by tool and outcome (ok, error, invalid)"
    );
    describe_histogram!(
        "mcp_tool_call_duration_seconds",
        Unit::Seconds,
        "Time a tool call took"
    );
    describe_counter!(
        "gmail_upstream_requests_total",
        "Requests to Gmail (each attempt), by API method and status"
    );
    describe_histogram!(
        "gmail_upstream_request_duration_seconds",
        Unit::Seconds,
        "Time a request to Gmail took"
    );
    describe_counter!(
        "gmail_upstream_retries_total",
        "Requests to Gmail tried again, by API method"
    );
    describe_counter!(
        "oauth_token_refreshes_total",
        "OAuth access-token refreshes, by outcome"
    );
    describe_counter!(
        "oauth_flows_total",
        "Finished OAuth flows (connect, sign_in, device), by outcome"
    );
    describe_counter!(
        "rate_limit_rejections_total",
        "Callers held back by a limit, by reason"
    );
    describe_counter!(
        "events_syncs_total",
        "Mailbox history syncs of the change feed, by outcome (ok, resynced, failed)"
    );
    describe_counter!(
        "events_stored_total",
        "Events stored in the outbox, by type"
    );
    describe_counter!(
        "webhook_attempts_total",
        "Webhook delivery attempts, by outcome (delivered, retry, gave_up)"
    );
    describe_gauge!("mcp_sessions_open", "Open MCP sessions, by transport");
    describe_gauge!(
        "db_pool_connections",
        "Database pool connections, by state (in_use, idle)"
    );
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// One HTTP request answered: `route` is the matched pattern (`/api/v1/messages/{id}`).
pub fn http_request(
    server: &'static str,
    route: String,
    method: String,
    status: u16,
    took: Duration,
) {
    let status = status.to_string();
    counter!("http_requests_total", "server" => server, "route" => route.clone(), "method" => method, "status" => status).increment(1);
    histogram!("http_request_duration_seconds", "server" => server, "route" => route)
        .record(secs(took));
}

/// One tool call: `outcome` is `ok`, `error` (an isError result) or `invalid` (bad arguments).
pub fn tool_call(tool: &'static str, outcome: &'static str, took: Duration) {
    counter!("mcp_tool_calls_total", "tool" => tool, "outcome" => outcome).increment(1);
    histogram!("mcp_tool_call_duration_seconds", "tool" => tool).record(secs(took));
}

/// One request to Gmail (each attempt): `method` is the API method id
/// (`gmail.users.messages.get`), `status` the HTTP status or `error` (no answer).
pub fn upstream(method: &'static str, status: String, took: Duration) {
    counter!("gmail_upstream_requests_total", "method" => method, "status" => status).increment(1);
    histogram!("gmail_upstream_request_duration_seconds", "method" => method).record(secs(took));
}

/// A Gmail request about to be tried again.
pub fn upstream_retry(method: &'static str) {
    counter!("gmail_upstream_retries_total", "method" => method).increment(1);
}

/// An OAuth token refresh: `ok`, `invalid_grant` (the grant is gone) or `failed`.
pub fn token_refresh(outcome: &'static str) {
    counter!("oauth_token_refreshes_total", "outcome" => outcome).increment(1);
}

/// An OAuth flow finished: `kind` is `connect`, `sign_in` or `device`; `outcome` is `ok`,
/// `denied` or `failed`.
pub fn oauth_flow(kind: &'static str, outcome: &'static str) {
    counter!("oauth_flows_total", "kind" => kind, "outcome" => outcome).increment(1);
}

/// A change-feed sync of one mailbox: `ok`, `resynced` or `failed`; and the events it stored.
pub fn feed_sync(outcome: &'static str, stored: &[String]) {
    counter!("events_syncs_total", "outcome" => outcome).increment(1);
    for kind in stored {
        counter!("events_stored_total", "type" => kind.clone()).increment(1);
    }
}

/// One webhook delivery attempt: `delivered`, `retry` or `gave_up`.
pub fn webhook_attempt(outcome: &'static str) {
    counter!("webhook_attempts_total", "outcome" => outcome).increment(1);
}

/// A caller held back by a limit: `sessions`, `send_cap`, ...
pub fn rejection(reason: &'static str) {
    counter!("rate_limit_rejections_total", "reason" => reason).increment(1);
}

pub fn sessions(transport: &'static str, open: usize) {
    gauge!("mcp_sessions_open", "transport" => transport).set(open as f64);
}

pub fn db_pool(in_use: u32, idle: usize) {
    gauge!("db_pool_connections", "state" => "in_use").set(f64::from(in_use));
    gauge!("db_pool_connections", "state" => "idle").set(idle as f64);
}

/// Refreshes gauges (sessions, pool) right before a scrape.
pub type OnScrape = Arc<dyn Fn() + Send + Sync>;

/// The database pool's gauges, for an [`OnScrape`] (multi-user mode has a pool).
pub fn pool_gauges(store: Option<crate::store::Store>) -> impl Fn() + Send + Sync {
    move || {
        if let Some(store) = &store {
            let pool = store.pool();
            let idle = pool.num_idle();
            db_pool(pool.size().saturating_sub(idle as u32), idle);
        }
    }
}

/// Starts `GET /metrics` when `metrics.listen` is set; answers its port.
pub fn start(
    settings: &crate::config::MetricsSettings,
    on_scrape: OnScrape,
) -> std::io::Result<Option<u16>> {
    if settings.listen.trim().is_empty() {
        return Ok(None);
    }
    let (port, server) = serve(settings.listen.trim(), on_scrape)?;
    tokio::spawn(server);
    tracing::info!(port, "metrics on /metrics");
    Ok(Some(port))
}

/// Serves `GET /metrics` on `listen` (`host:port`; port 0 picks one). Answers the port and
/// the server to run.
pub fn serve(listen: &str, on_scrape: OnScrape) -> std::io::Result<(u16, actix_web::dev::Server)> {
    use actix_web::{web, App, HttpResponse, HttpServer};
    let handle = handle();
    let listener = std::net::TcpListener::bind(listen)?;
    let port = listener.local_addr()?.port();
    let server = HttpServer::new(move || {
        let handle = handle.clone();
        let on_scrape = on_scrape.clone();
        App::new().route(
            "/metrics",
            web::get().to(move || {
                let handle = handle.clone();
                let on_scrape = on_scrape.clone();
                async move {
                    on_scrape();
                    HttpResponse::Ok()
                        .content_type("text/plain; version=0.0.4; charset=utf-8")
                        .body(handle.render())
                }
            }),
        )
    })
    .workers(1)
    .listen(listener)?
    .disable_signals()
    .run();
    Ok((port, server))
}
