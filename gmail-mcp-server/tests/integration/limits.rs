//! Bounds on what a client can make the MCP server hold, found missing by probing from
//! outside: sessions (a cap, a cap per caller, reaping those that never initialize), one body
//! limit on every transport answered on the JSON-RPC channel, body-read timeouts, memory for
//! bodies in flight, and descriptors kept in reserve at the cap.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;

fn initialize(id: i64) -> Value {
    let mut params = init_params();
    params["protocolVersion"] = json!("2025-06-18");
    json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": params})
}

#[tokio::test]
async fn sessions_are_capped_and_lurkers_are_reaped() {
    let app = spawn_app_with(|s| {
        s.mcp.max_sessions = 3;
        s.mcp.session_init_timeout_secs = 1;
    })
    .await;
    let mut ready = app.sse().await;
    ready.initialize().await;
    ready.notify("notifications/initialized").await;
    // An SSE stream that never initializes, and a Streamable HTTP session that only sent
    // `initialize`.
    let _lurker = app.sse().await;
    let (status, _, _) = mcp_post(&app.http, &app.base, None, &initialize(1)).await;
    assert_eq!(status, 200);
    // At the cap: 503 with a reason, on both transports; /health still answers.
    let r = app
        .http
        .get(format!("{}/sse", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let body: Value = r.json().await.unwrap();
    assert_detail_has(&body, "mcp.max_sessions");
    let (status, _, msgs) = mcp_post(&app.http, &app.base, None, &initialize(2)).await;
    assert_eq!(status, 503, "{msgs:?}");
    assert_eq!(app.health().await["sessions"]["sse"], 2);
    // Both lurkers are gone within the init timeout (plus a reaper period); the session that
    // initialized stays.
    let started = Instant::now();
    assert!(
        eventually(Duration::from_secs(5), || async {
            app.health().await["sessions"]["sse"] == 1
                && app.health().await["sessions"]["streamable-http"] == 0
        })
        .await,
        "lurkers still open: {}",
        app.health().await
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    let listed = ready.request(5, "tools/list", json!({})).await;
    assert!(listed["result"]["tools"].is_array(), "{listed}");
}

#[tokio::test]
async fn one_body_limit_everywhere_answered_as_json_rpc() {
    let limit = 256 * 1024;
    let app = spawn_app_with(|s| s.limits.max_body_bytes = limit).await;
    let mut c = app.sse().await;
    c.initialize().await;
    c.notify("notifications/initialized").await;
    let attachment = |bytes: usize| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(vec![b'x'; bytes])
    };
    let send = |id: i64, bytes: usize| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "send_email",
            "arguments": {"to": ["a@example.com"], "subject": "big", "body": "see attached",
                "attachmentContents": [{"filename": "x.bin", "contentBase64": attachment(bytes)}]}}})
    };
    // Under the limit: sent over SSE (the old /message cap was 256 KiB for every setting).
    let under = c.post(&send(11, 150 * 1024)).await;
    assert_eq!(under.status(), 202);
    let answer = c.next_message().await.unwrap();
    assert_eq!(answer["id"], 11);
    assert!(answer["result"]["isError"] != json!(true), "{answer}");
    // Over it: the waiting client gets an error for its id on the stream (the POST is
    // accepted like any other; a 4xx would end the official SDKs' SSE sessions).
    let over = c.post(&send(12, 400 * 1024)).await;
    assert_eq!(over.status(), 202);
    let answer = tokio::time::timeout(Duration::from_secs(5), c.next_message())
        .await
        .expect("an answer on the stream, not a hang")
        .unwrap();
    assert_eq!(answer["id"], 12, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("262144") || message.contains("256 KiB") || message.contains("limit"),
        "{message}"
    );
    // /mcp: the same limit, answered with a JSON-RPC error naming it.
    let sid = mcp_initialize(&app.http, &app.base).await;
    let (status, _, msgs) = mcp_post(&app.http, &app.base, Some(&sid), &send(13, 400 * 1024)).await;
    assert_eq!(status, 413);
    assert_eq!(msgs[0]["id"], 13, "{msgs:?}");
    assert!(msgs[0]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("limit"));
    let (status, _, msgs) = mcp_post(&app.http, &app.base, Some(&sid), &send(14, 150 * 1024)).await;
    assert_eq!(status, 200, "{msgs:?}");
}

#[tokio::test]
async fn the_default_limit_carries_a_full_size_gmail_message() {
    let app = spawn_app().await;
    let mut c = app.sse().await;
    c.initialize().await;
    // 25 MB of attachment is 33.3 MiB of base64: under the one limit of 36 MiB.
    let b64 = "QUFB".repeat(25_000_000 / 3);
    let call = json!({"jsonrpc": "2.0", "id": 21, "method": "tools/call", "params": {"name": "draft_email",
        "arguments": {"to": ["a@example.com"], "subject": "full size", "body": "x",
            "attachmentContents": [{"filename": "big.bin", "contentBase64": b64}]}}});
    let r = c.post(&call).await;
    assert_eq!(r.status(), 202);
    // Up to a minute (next_message gives up after 10 s): a debug build on a busy machine
    // takes a while over 33 MiB of base64.
    let answer = loop {
        match c.next_event(Duration::from_secs(60)).await {
            Some(Event::Named { event, data }) if event == "message" => {
                break serde_json::from_str::<Value>(&data).unwrap();
            }
            Some(_) => continue,
            None => panic!("no answer within a minute"),
        }
    };
    assert_eq!(answer["id"], 21);
    // Gmail's own limit (25 MiB of attachments) is what answers, not the transport.
    let text = answer.to_string();
    assert!(
        answer["result"]["isError"] != json!(true) || text.contains("26214400"),
        "{}",
        &text[..text.len().min(500)]
    );
}

#[tokio::test]
async fn invalid_json_batches_and_delete_get_json_rpc_answers() {
    let app = spawn_app().await;
    let post = |body: &'static str| {
        app.http
            .post(format!("{}/mcp", app.base))
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let r = post("{not json").await.unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], -32700, "{v}");
    let r = post(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#)
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], -32600, "{v}");
    let r = post(r#"{"jsonrpc":"2.0","id":5,"method":42}"#)
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["id"].clone(), v["error"]["code"].clone()),
        (json!(5), json!(-32600)),
        "{v}"
    );
    // Closing a session answers 200 (the Python SDK logs a failure on 202).
    let sid = mcp_initialize(&app.http, &app.base).await;
    assert_eq!(app.end_session(&sid).await, 200);
}

/// Writes a request head and part of its body, then stalls.
fn slow_post(port: u16, path: &str, declared: usize, sent: usize) -> std::net::TcpStream {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\n\r\n"
    )
    .unwrap();
    s.write_all(&vec![b' '; sent]).unwrap();
    s
}

fn status_line(mut s: std::net::TcpStream, within: Duration) -> Option<String> {
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf).ok()?;
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .map(str::to_owned)
}

#[tokio::test]
async fn slow_bodies_time_out() {
    let app = spawn_app_with(|s| s.limits.body_timeout_secs = 1).await;
    let mut c = app.sse().await;
    c.initialize().await;
    let port = app.port;
    let paths = [
        format!("/message?sessionId={}", c.session_id),
        "/mcp".to_string(),
    ];
    let started = Instant::now();
    let lines = tokio::task::spawn_blocking(move || {
        let stalled: Vec<_> = paths
            .iter()
            .map(|p| slow_post(port, p, 100_000, 10))
            .collect();
        stalled
            .into_iter()
            .map(|s| status_line(s, Duration::from_secs(5)))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for line in &lines {
        assert!(line.as_deref().unwrap_or("").contains(" 408"), "{lines:?}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // The session is unharmed.
    let ok = c.request(9, "tools/list", json!({})).await;
    assert!(ok["result"]["tools"].is_array());
}

/// With few descriptors (ulimit -n 512) the real binary caps SSE streams below them, so at the
/// cap new connections are still accepted, refused with 503, and /health answers.
#[cfg(unix)]
#[tokio::test]
async fn at_the_descriptor_cap_health_still_answers() {
    use std::os::unix::process::CommandExt;
    let _ = rlimit::increase_nofile_limit(4096);
    let sandbox = gmail_sandbox::Sandbox::start(gmail_sandbox::SandboxConfig::for_tests())
        .await
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_gmail-mcp-server");
    let mut cmd = gmail_test_support::server_command(bin, port, dir.path(), &sandbox.base_url());
    unsafe {
        cmd.pre_exec(|| rlimit::setrlimit(rlimit::Resource::NOFILE, 512, 512));
    }
    let mut child = cmd.spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    gmail_test_support::wait_until_up(&base).await;
    // 512 descriptors, 256 kept in reserve: 256 streams at most.
    let mut streams = Vec::new();
    let mut refused = 0;
    for _ in 0..300 {
        let r = http.get(format!("{base}/sse")).send().await.unwrap();
        match r.status().as_u16() {
            200 => streams.push(r),
            503 => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        (200..=256).contains(&streams.len()),
        "{} streams",
        streams.len()
    );
    assert_eq!(refused, 300 - streams.len());
    let health = http.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    drop(streams);
    let _ = child.kill();
    let _ = child.wait();
}

/// An SSE session holds a bounded number of requests awaiting their answers on its stream:
/// a client that keeps posting while it does not read (or while answers are slow) is told
/// the limit, and posting works again once the answers have gone out.
#[tokio::test]
async fn an_sse_session_bounds_the_answers_it_holds() {
    let app = spawn_app().await;
    let mut c = app.sse().await;
    c.initialize().await;
    c.notify("notifications/initialized").await;
    app.sandbox.set_faults(gmail_sandbox::FaultConfig {
        latency_ms: 1500,
        ..Default::default()
    });
    for id in 0..64 {
        let r = c.post(&tool_call(100 + id, "get_profile", json!({}))).await;
        assert_eq!(r.status(), 202, "request {id}");
    }
    let r = c.post(&tool_call(999, "get_profile", json!({}))).await;
    assert_eq!(r.status(), 429);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["detail"].as_str().unwrap().contains("64 requests"),
        "{body}"
    );
    for _ in 0..64 {
        let answer = c.next_message().await.expect("an answer");
        assert!(answer["result"].is_object(), "{answer}");
    }
    app.sandbox
        .set_faults(gmail_sandbox::FaultConfig::default());
    let r = c.post(&tool_call(1000, "get_profile", json!({}))).await;
    assert_eq!(r.status(), 202);
    assert_eq!(c.next_message().await.unwrap()["id"], 1000);
}
