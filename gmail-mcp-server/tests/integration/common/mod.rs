//! Test helpers: a sandbox + gmail-mcp-server on port 0, and a raw legacy-SSE client over
//! reqwest (no MCP SDK, so the wire format itself is what is tested).

#![allow(dead_code)]

use std::time::Duration;

use futures::StreamExt;
use gmail_mcp_server::app::Stopper;
use gmail_mcp_server::Application;
use gmail_sandbox::{RunningSandbox, Sandbox, SandboxConfig};
use gmail_shared::Settings;
use serde_json::{json, Value};
use tokio::sync::mpsc;

pub const WAIT: Duration = Duration::from_secs(10);

pub struct TestApp {
    pub base: String,
    pub port: u16,
    pub http: reqwest::Client,
    pub stopper: Stopper,
    pub sandbox: RunningSandbox,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a sandbox and the app against it; `tweak` adjusts the settings first.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let sandbox = Sandbox::start(SandboxConfig::for_tests())
        .await
        .expect("sandbox starts");
    let mut settings = gmail_test_support::settings(&sandbox.base_url());
    tweak(&mut settings);
    let app = Application::build(settings).await.expect("app builds");
    let port = app.port();
    let stopper = app.stopper();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base: format!("http://127.0.0.1:{port}"),
        port,
        http: reqwest::Client::new(),
        stopper,
        sandbox,
    }
}

impl TestApp {
    pub async fn sse(&self) -> SseClient {
        SseClient::connect(&self.base).await
    }

    pub async fn sessions(&self) -> Value {
        json_body(self.http.get(format!("{}/sessions", self.base))).await
    }

    pub async fn session_ids(&self) -> Vec<String> {
        self.sessions().await["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect()
    }

    pub async fn health(&self) -> Value {
        json_body(self.http.get(format!("{}/health", self.base))).await
    }

    /// The client's DELETE of a Streamable HTTP session: the status.
    pub async fn end_session(&self, sid: &str) -> u16 {
        let req = self.http.delete(format!("{}/mcp", self.base));
        status_json(req.header("mcp-session-id", sid)).await.0
    }
}

/// One server-sent event.
#[derive(Debug, Clone)]
pub enum Event {
    Named { event: String, data: String },
    Comment(String),
}

/// A legacy SSE MCP client: GET /sse, POST /message?sessionId=.
pub struct SseClient {
    pub base: String,
    pub endpoint: String,
    pub session_id: String,
    events: mpsc::UnboundedReceiver<Event>,
    reader: tokio::task::JoinHandle<()>,
    http: reqwest::Client,
}

impl Drop for SseClient {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

pub fn parse_block(block: &str) -> Option<Event> {
    let mut event = String::from("message");
    let mut data: Vec<&str> = Vec::new();
    let mut comment = None;
    for line in block.lines() {
        if let Some(c) = line.strip_prefix(':') {
            comment = Some(c.trim().to_string());
        } else if let Some(v) = line.strip_prefix("event:") {
            event = v.trim().to_string();
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push(v.strip_prefix(' ').unwrap_or(v));
        }
    }
    if data.is_empty() {
        return comment.map(Event::Comment);
    }
    Some(Event::Named {
        event,
        data: data.join("\n"),
    })
}

/// Reads an SSE body into events until it ends.
pub fn spawn_reader(
    resp: reqwest::Response,
) -> (mpsc::UnboundedReceiver<Event>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let reader = tokio::spawn(async move {
        let mut body = resp.bytes_stream();
        let mut buf = String::new();
        while let Some(Ok(chunk)) = body.next().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                if let Some(ev) = parse_block(&block) {
                    if tx.send(ev).is_err() {
                        return;
                    }
                }
            }
        }
    });
    (rx, reader)
}

impl SseClient {
    pub async fn connect(base: &str) -> SseClient {
        SseClient::connect_with(base, reqwest::Client::new()).await
    }

    /// With a client of one's own (e.g. one that sends an API key on every request).
    pub async fn connect_with(base: &str, http: reqwest::Client) -> SseClient {
        let resp = http.get(format!("{base}/sse")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        let (mut events, reader) = spawn_reader(resp);
        let first = tokio::time::timeout(WAIT, events.recv())
            .await
            .expect("endpoint event in time")
            .expect("stream open");
        let Event::Named { event, data } = first else {
            panic!("first event is not the endpoint: {first:?}")
        };
        assert_eq!(event, "endpoint");
        assert!(data.starts_with("/message?sessionId="), "{data}");
        let session_id = data.trim_start_matches("/message?sessionId=").to_string();
        SseClient {
            base: base.to_string(),
            endpoint: format!("{base}{data}"),
            session_id,
            events,
            reader,
            http,
        }
    }

    pub async fn post(&self, body: &Value) -> reqwest::Response {
        self.http
            .post(&self.endpoint)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_raw(&self, body: &str) -> reqwest::Response {
        self.http
            .post(&self.endpoint)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    /// The next JSON-RPC message on the stream (pings skipped); None when the stream ended.
    pub async fn next_message(&mut self) -> Option<Value> {
        loop {
            match tokio::time::timeout(WAIT, self.events.recv())
                .await
                .expect("a message in time")?
            {
                Event::Named { event, data } if event == "message" => {
                    return Some(serde_json::from_str(&data).expect("message data is JSON"))
                }
                _ => continue,
            }
        }
    }

    /// Waits for the stream to end (skipping whatever still arrives).
    pub async fn closed_within(&mut self, within: Duration) -> bool {
        tokio::time::timeout(within, async {
            while self.events.recv().await.is_some() {}
        })
        .await
        .is_ok()
    }

    pub async fn next_event(&mut self, within: Duration) -> Option<Event> {
        tokio::time::timeout(within, self.events.recv())
            .await
            .ok()
            .flatten()
    }

    pub async fn request(&mut self, id: i64, method: &str, params: Value) -> Value {
        let resp = self
            .post(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        assert_eq!(resp.status(), 202, "POST {method}");
        let msg = self.next_message().await.expect("a reply");
        assert_eq!(msg["id"], json!(id), "reply to {method}: {msg}");
        msg
    }

    /// tools/call of `tool` with `arguments`: the whole reply.
    pub async fn call_tool(&mut self, id: i64, tool: &str, arguments: Value) -> Value {
        let params = json!({"name": tool, "arguments": arguments});
        self.request(id, "tools/call", params).await
    }

    pub async fn notify(&self, method: &str) {
        let resp = self
            .post(&json!({"jsonrpc": "2.0", "method": method}))
            .await;
        assert_eq!(resp.status(), 202);
    }

    /// initialize (id 0, as some clients start) + notifications/initialized.
    pub async fn initialize(&mut self) -> Value {
        let reply = self.request(0, "initialize", init_params()).await;
        self.notify("notifications/initialized").await;
        reply
    }
}

pub fn init_params() -> Value {
    json!({
        "protocolVersion": "2024-11-05",
        "capabilities": {},
        "clientInfo": {"name": "raw-test-client", "version": "0"}
    })
}

/// POSTs a ping to an SSE message URL as `http`: the status (any answer goes to a stream).
pub async fn ping_status(http: &reqwest::Client, message_url: &str) -> u16 {
    let ping = json!({"jsonrpc": "2.0", "id": 9, "method": "ping"});
    let r = http.post(message_url).json(&ping).send().await.unwrap();
    r.status().as_u16()
}

/// The JSON-RPC request that calls `tool` with `arguments`.
pub fn tool_call(id: i64, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": tool, "arguments": arguments}})
}

/// The text of a tools/call result's first content block.
pub fn text_of(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or_default()
}

pub use gmail_test_support::{assert_detail_has, eventually, json_body, status_json};

/// Streamable HTTP: POST one JSON-RPC message to /mcp; returns the response and the JSON-RPC
/// messages it carried (JSON or SSE body).
pub async fn mcp_post(
    http: &reqwest::Client,
    base: &str,
    session: Option<&str>,
    body: &Value,
) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Vec<Value>) {
    mcp_post_with(http, base, session, &[], body).await
}

/// As [`mcp_post`], with extra request headers (`x-mcp-toolsets`, ...).
pub async fn mcp_post_with(
    http: &reqwest::Client,
    base: &str,
    session: Option<&str>,
    headers: &[(&str, &str)],
    body: &Value,
) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Vec<Value>) {
    let mut req = http
        .post(format!("{base}/mcp"))
        .header("accept", "application/json, text/event-stream")
        .json(body);
    if let Some(s) = session {
        req = req
            .header("mcp-session-id", s)
            .header("mcp-protocol-version", "2025-06-18");
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    let mut messages = Vec::new();
    if let Ok(v) = serde_json::from_str::<Value>(&text) {
        messages.push(v);
    } else {
        for block in text.split("\n\n") {
            if let Some(Event::Named { data, .. }) = parse_block(block) {
                if let Ok(v) = serde_json::from_str::<Value>(&data) {
                    messages.push(v);
                }
            }
        }
    }
    (status, headers, messages)
}

/// initialize + initialized over Streamable HTTP; returns the session id.
pub async fn mcp_initialize(http: &reqwest::Client, base: &str) -> String {
    mcp_initialize_with(http, base, &[]).await.0
}

/// As [`mcp_initialize`], with extra headers on both requests; also returns initialize's
/// result.
pub async fn mcp_initialize_with(
    http: &reqwest::Client,
    base: &str,
    headers: &[(&str, &str)],
) -> (String, Value) {
    let mut params = init_params();
    params["protocolVersion"] = json!("2025-06-18");
    let initialize = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params});
    let (status, answer, msgs) = mcp_post_with(http, base, None, headers, &initialize).await;
    assert_eq!(status, 200, "{msgs:?}");
    assert_eq!(msgs[0]["result"]["serverInfo"]["name"], "gmail-mcp-server");
    let sid = answer["mcp-session-id"].to_str().unwrap().to_string();
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let (status, _, _) = mcp_post_with(http, base, Some(&sid), headers, &initialized).await;
    assert_eq!(status, 202);
    (sid, msgs[0]["result"].clone())
}

/// Runs `cmd` (the binary, configured by its environment) with `--stdio`: initialize, then
/// one get_profile call, then closes stdin. Returns stdout's lines up to the call's answer (all
/// of them if it exits first), stderr, and the exit status.
pub fn stdio_get_profile(
    mut cmd: std::process::Command,
) -> (Vec<String>, String, std::process::ExitStatus) {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::Stdio;
    let mut child = cmd
        .arg("--stdio")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let mut stdin = child.stdin.take().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    // A server that exits at once closes the pipe; later writes then fail, which is fine.
    let mut write = |v: Value| {
        let _ = writeln!(stdin, "{v}").and_then(|_| stdin.flush());
    };
    write(json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": init_params()}));
    write(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    write(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "get_profile", "arguments": {}}}));
    let mut lines = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        let done = line.contains(r#""id":1"#);
        lines.push(line);
        if done {
            break;
        }
    }
    drop(stdin); // the client closing stdin ends the session and the process
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (lines, stderr, status)
}

/// `n` sequential `ping`s on one keep-alive connection (benchmarks): over legacy SSE, or over
/// Streamable HTTP (`/mcp`) when `streamable`. Answers each round trip.
pub async fn ping_round_trips(base: &str, n: usize, streamable: bool) -> Vec<Duration> {
    let mut out = Vec::with_capacity(n);
    if streamable {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()
            .unwrap();
        let sid = mcp_initialize(&http, base).await;
        for id in 0..n as i64 {
            let started = std::time::Instant::now();
            let (_, _, msgs) = mcp_post(
                &http,
                base,
                Some(&sid),
                &json!({"jsonrpc": "2.0", "id": id + 1, "method": "ping"}),
            )
            .await;
            assert!(msgs.iter().any(|m| m["id"] == json!(id + 1)), "{msgs:?}");
            out.push(started.elapsed());
        }
    } else {
        let mut c = SseClient::connect(base).await;
        c.initialize().await;
        for id in 0..n as i64 {
            let started = std::time::Instant::now();
            c.request(id + 1, "ping", json!({})).await;
            out.push(started.elapsed());
        }
    }
    out
}
