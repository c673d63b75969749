//! `GET /metrics` on its own listener (metrics.listen): Prometheus text covering HTTP
//! requests by route, tool calls by tool and outcome, Gmail requests by method and status,
//! token refreshes, open sessions by transport and limit rejections; labels never carry an
//! address or an id, and nothing is served on the public port.

use gmail_mcp_server::Application;
use gmail_sandbox::{Sandbox, SandboxConfig};
use serde_json::json;

use crate::common::{mcp_initialize, mcp_post, tool_call};

#[tokio::test]
async fn metrics_cover_requests_tools_gmail_and_sessions_with_bounded_labels() {
    let sandbox = Sandbox::start(SandboxConfig::for_tests()).await.unwrap();
    let mut settings = gmail_test_support::settings(&sandbox.base_url());
    settings.metrics.listen = "127.0.0.1:0".into();
    let app = Application::build(settings).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let metrics = format!(
        "http://127.0.0.1:{}/metrics",
        app.metrics_port().expect("metrics.listen is set")
    );
    tokio::spawn(app.run_until_stopped());

    let http = reqwest::Client::new();
    let sid = mcp_initialize(&http, &base).await;
    let (status, _, msgs) = mcp_post(
        &http,
        &base,
        Some(&sid),
        &tool_call(1, "get_profile", json!({})),
    )
    .await;
    assert_eq!(status, 200, "{msgs:?}");
    let (_, _, msgs) = mcp_post(
        &http,
        &base,
        Some(&sid),
        &tool_call(2, "read_email", json!({"messageId": "nope"})),
    )
    .await;
    assert_eq!(msgs[0]["result"]["isError"], true, "{msgs:?}");
    assert_eq!(
        http.get(format!("{base}/no/such/{}", "x".repeat(40)))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // Not on the public port.
    assert_eq!(
        http.get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    let r = http.get(&metrics).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let body = r.text().await.unwrap();
    let has = |needles: &[&str]| {
        body.lines()
            .any(|l| !l.starts_with('#') && needles.iter().all(|n| l.contains(n)))
    };
    assert!(
        has(&[
            "http_requests_total{",
            "server=\"gmail-mcp-server\"",
            "route=\"/mcp\"",
            "status=\"200\""
        ]),
        "{body}"
    );
    assert!(
        has(&[
            "http_requests_total{",
            "route=\"unmatched\"",
            "status=\"404\""
        ]),
        "{body}"
    );
    assert!(
        has(&["http_request_duration_seconds_bucket{", "route=\"/mcp\""]),
        "{body}"
    );
    assert!(
        has(&[
            "mcp_tool_calls_total{",
            "tool=\"get_profile\"",
            "outcome=\"ok\""
        ]),
        "{body}"
    );
    assert!(
        has(&[
            "mcp_tool_calls_total{",
            "tool=\"read_email\"",
            "outcome=\"error\""
        ]),
        "{body}"
    );
    assert!(
        has(&[
            "mcp_tool_call_duration_seconds_bucket{",
            "tool=\"get_profile\""
        ]),
        "{body}"
    );
    assert!(
        has(&[
            "gmail_upstream_requests_total{",
            "method=\"gmail.users.getProfile\"",
            "status=\"2xx\""
        ]),
        "{body}"
    );
    assert!(
        has(&[
            "gmail_upstream_requests_total{",
            "method=\"gmail.users.messages.get\"",
            "status=\"400\""
        ]) || has(&[
            "gmail_upstream_requests_total{",
            "method=\"gmail.users.messages.get\"",
            "status=\"404\""
        ]),
        "{body}"
    );
    assert!(
        has(&["oauth_token_refreshes_total{", "outcome=\"ok\""]),
        "{body}"
    );
    assert!(has(&["mcp_sessions_open{", "transport=\""]), "{body}");
    // Bounded labels: no address, no path with an id, no session id.
    assert!(!body.contains("@example.com"), "{body}");
    assert!(!body.contains("xxxxxxxx"), "{body}");
    assert!(!body.contains(&sid), "{body}");
}
