//! Narrowing the tools over Streamable HTTP: a session keeps what its `initialize` asked for,
//! later requests can only narrow further, unknown tool names are refused, and the
//! instructions say what is on (and what the operator could turn on).

use serde_json::{json, Value};

use crate::common::{
    init_params, mcp_initialize_with, mcp_post, mcp_post_with, spawn_app, spawn_app_with,
};

/// A fresh session narrowed by `headers`: its id and the server's instructions.
async fn open(http: &reqwest::Client, base: &str, headers: &[(&str, &str)]) -> (String, String) {
    let (sid, init) = mcp_initialize_with(http, base, headers).await;
    (sid, init["instructions"].as_str().unwrap().to_string())
}

async fn tools(
    http: &reqwest::Client,
    base: &str,
    sid: &str,
    headers: &[(&str, &str)],
) -> Vec<Value> {
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    let (status, _, msgs) = mcp_post_with(http, base, Some(sid), headers, &list).await;
    assert_eq!(status, 200, "{msgs:?}");
    msgs[0]["result"]["tools"].as_array().unwrap().clone()
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
    let (_, _, msgs) = mcp_post(
        &http,
        &app.base,
        Some(&sid),
        &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
               "params": {"name": "send_email", "arguments": {"to": ["a@example.com"], "subject": "s", "body": "b"}}}),
    )
    .await;
    let call = &msgs[0];
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
    let (status, _, msgs) = mcp_post_with(
        &http,
        &app.base,
        None,
        &[("x-mcp-tools", "search_emails,serach_emails")],
        &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params}),
    )
    .await;
    let body = &msgs[0];
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
