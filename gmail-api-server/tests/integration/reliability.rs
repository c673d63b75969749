//! Faults Gmail really has, injected by the sandbox: reads survive 20 % of failures (500s and
//! 429s) through the one retry policy, and a search survives a server without the batch
//! endpoint by fetching the messages one by one.

use serde_json::{json, Value};

use crate::common::TestApp;

#[tokio::test]
async fn reads_survive_a_fifth_of_gmail_calls_failing() {
    let app = TestApp::spawn().await;
    let ids = app.ids("in:inbox", 20).await;
    app.sandbox.set_faults(gmail_sandbox::FaultConfig {
        error_rate: 0.1,
        rate_limit_rate: 0.1,
        ..Default::default()
    });
    let calls = (0..200).map(|i| {
        let app = &app;
        let id = ids[i % ids.len()].clone();
        async move {
            let (status, body): (u16, Value) = match i % 3 {
                0 => app.get(&format!("/api/v1/messages/{id}")).await,
                1 => app.get("/api/v1/messages?q=in:inbox&maxResults=10").await,
                _ => app.tool("read_email", json!({"messageId": id})).await,
            };
            (status == 200, body)
        }
    });
    let results: Vec<(bool, Value)> = futures::stream::iter(calls)
        .buffer_unordered(10)
        .collect()
        .await;
    let ok = results.iter().filter(|(ok, _)| *ok).count();
    let failures: Vec<&Value> = results
        .iter()
        .filter(|(ok, _)| !ok)
        .map(|(_, b)| b)
        .collect();
    assert!(ok >= 199, "{ok} of 200 succeeded: {failures:?}");
    let stats = app.sandbox.stats();
    app.sandbox
        .set_faults(gmail_sandbox::FaultConfig::default());
    println!("200 reads with 20 % injected faults: {ok} succeeded; upstream {stats}");
    // The faults were there to survive (about a fifth of over a thousand Gmail calls).
    assert!(stats["faultsInjected"].as_u64().unwrap() >= 50, "{stats}");
}

use futures::StreamExt;

#[tokio::test]
async fn search_works_against_a_gmail_without_the_batch_endpoint() {
    let app = TestApp::spawn().await;
    app.sandbox.set_faults(gmail_sandbox::FaultConfig {
        batch_disabled: true,
        ..Default::default()
    });
    app.sandbox.reset_stats();
    let (status, page) = app
        .tool(
            "search_emails",
            json!({"query": "in:inbox", "maxResults": 7}),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let found = page["structured"]["messages"].as_array().unwrap();
    assert_eq!(found.len(), 7);
    assert!(found
        .iter()
        .all(|m| !m["subject"].as_str().unwrap_or("").is_empty()));
    let stats = app.sandbox.stats();
    assert_eq!(stats["requests"]["users.messages.get"], 7, "{stats}");
    // Known missing now: the next search goes straight to single requests.
    let before = app.upstream_requests();
    let (status, _) = app
        .tool(
            "search_emails",
            json!({"query": "in:inbox", "maxResults": 3}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.upstream_requests() - before,
        1 + 3,
        "one list, three gets"
    );
}

/// A proxy in front (HAProxy, nginx) reuses its idle connections to us for seconds; the server
/// must not close one first, or the request the proxy sends on it at that moment is lost.
#[tokio::test]
async fn an_idle_keep_alive_connection_outlives_a_proxys_reuse_window() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = TestApp::spawn().await;
    let address = app.base.trim_start_matches("http://").to_string();
    let mut conn = tokio::net::TcpStream::connect(&address).await.unwrap();
    let request = format!("GET /health HTTP/1.1\r\nHost: {address}\r\n\r\n");
    for round in 0..2 {
        if round == 1 {
            // Past actix's default keep-alive (5 s), within ours.
            tokio::time::sleep(std::time::Duration::from_secs(7)).await;
        }
        conn.write_all(request.as_bytes()).await.unwrap();
        let mut buf = vec![0; 4096];
        let n = conn.read(&mut buf).await.unwrap();
        let head = String::from_utf8_lossy(&buf[..n]);
        assert!(head.starts_with("HTTP/1.1 200"), "round {round}: {head:?}");
    }
}
