//! Narrowing the tools over Streamable HTTP: a session keeps what its `initialize` asked for,
//! later requests can only narrow further, unknown tool names are refused, and the
//! instructions say what is on (and what the operator could turn on).

use serde_json::{json, Value};

use crate::common::{init_params, spawn_app, spawn_app_with};

async fn post(
    http: &reqwest::Client,
    base: &str,
    session: Option<&str>,
    headers: &[(&str, &str)],
    body: Value,
) -> (u16, Option<String>, Value) {
    let mut req = http
        .post(format!("{base}/mcp"))
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .json(&body);
    if let Some(s) = session {
        req = req.header("mcp-session-id", s);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let sid = r
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_string());
    let text = r.text().await.unwrap();
    // A JSON body, or the JSON-RPC message among the SSE events.
    let value = serde_json::from_str(&text).unwrap_or_else(|_| {
        text.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .find_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
            .unwrap_or(Value::Null)
    });
    (status, sid, value)
}

async fn open(http: &reqwest::Client, base: &str, headers: &[(&str, &str)]) -> (String, String) {
    let mut params = init_params();
    params["protocolVersion"] = json!("2025-06-18");
    let (status, sid, init) = post(
        http,
        base,
        None,
        headers,
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params}),
    )
    .await;
    assert_eq!(status, 200, "{init}");
    let sid = sid.unwrap();
    post(
        http,
        base,
        Some(&sid),
        headers,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    let instructions = init["result"]["instructions"].as_str().unwrap().to_string();
    (sid, instructions)
}

async fn tools(
    http: &reqwest::Client,
    base: &str,
    sid: &str,
    headers: &[(&str, &str)],
) -> Vec<Value> {
    let (status, _, v) = post(
        http,
        base,
        Some(sid),
        headers,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    v["result"]["tools"].as_array().unwrap().clone()
}

fn names(tools: &[Value]) -> Vec<&str> {
    tools.iter().map(|t| t["name"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_session_keeps_the_narrowing_it_started_with() {
    let app = spawn_app_with(|s| s.mcp.toolsets = vec!["all".into()]).await;
    let http = reqwest::Client::new();
    let (sid, instructions) = open(&http, &app.base, &[("x-mcp-readonly", "true")]).await;
    assert!(instructions.contains("Read-only."), "{instructions}");
    // No header on the later request: still read-only.
    let listed = tools(&http, &app.base, &sid, &[]).await;
    assert!(listed
        .iter()
        .all(|t| t["annotations"]["readOnlyHint"] == true));
    assert!(names(&listed).contains(&"search_emails") && !names(&listed).contains(&"send_email"));
    // A later request narrows further, and asking for more gives nothing more.
    let read = tools(&http, &app.base, &sid, &[("x-mcp-toolsets", "read")]).await;
    assert!(read.len() < listed.len() && !read.is_empty());
    let widened = tools(&http, &app.base, &sid, &[("x-mcp-toolsets", "all")]).await;
    assert_eq!(names(&widened), names(&listed));
    let (_, _, call) = post(
        &http,
        &app.base,
        Some(&sid),
        &[],
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
               "params": {"name": "send_email", "arguments": {"to": ["a@example.com"], "subject": "s", "body": "b"}}}),
    )
    .await;
    assert_eq!(
        call["error"]["message"], "Unknown tool: send_email",
        "{call}"
    );
}

#[tokio::test]
async fn unknown_tool_names_are_refused_not_silently_empty() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    let mut params = init_params();
    params["protocolVersion"] = json!("2025-06-18");
    let (status, _, body) = post(
        &http,
        &app.base,
        None,
        &[("x-mcp-tools", "search_emails,serach_emails")],
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("serach_emails"), "{body}");
    // The same typo in the configuration stops the server from starting.
    let mut s = gmail_test_support::settings("http://127.0.0.1:9/");
    s.mcp.tools = vec!["serach_emails".into()];
    let err = gmail_mcp_server::Application::build(s)
        .await
        .err()
        .expect("refused");
    assert!(format!("{err:#}").contains("serach_emails"), "{err:#}");
}

#[tokio::test]
async fn instructions_say_what_is_on_and_what_the_operator_could_add() {
    let app = spawn_app().await; // the default toolsets
    let http = reqwest::Client::new();
    let (_, plain) = open(&http, &app.base, &[]).await;
    assert!(
        plain.contains("Toolsets on: read, compose, organize (also available: "),
        "{plain}"
    );
    assert!(plain.contains("filters"), "{plain}");
    // Narrowed on purpose: nothing to suggest.
    let (_, narrowed) = open(&http, &app.base, &[("x-mcp-tools", "search_emails")]).await;
    assert!(
        narrowed.starts_with("Gmail tools. Toolsets on: read.\n"),
        "{narrowed}"
    );
    let (_, none) = open(&http, &app.base, &[("x-mcp-toolsets", "filters")]).await;
    assert!(
        none.starts_with("Gmail tools. Toolsets on: none.\n"),
        "{none}"
    );
}
