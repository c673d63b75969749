//! Send guardrails through MCP tools (legacy SSE and Streamable HTTP): the allowlist,
//! drafts-only, dry runs, the daily cap and forwarding filters answer as tool errors or say
//! what they did, and the sandbox's counters show nothing reached Gmail's send.

use serde_json::{json, Value};

use crate::common::{
    mcp_initialize, mcp_post, spawn_app_with, text_of, tool_call, SseClient, TestApp,
};

const SEND: &str = "users.messages.send";

fn sends(app: &TestApp) -> u64 {
    let stats = app.sandbox.stats();
    ["users.messages.send", "users.drafts.send"]
        .iter()
        .map(|m| stats["requests"][m].as_u64().unwrap_or(0))
        .sum()
}

async fn call(c: &mut SseClient, id: i64, tool: &str, arguments: Value) -> Value {
    let reply = c.call_tool(id, tool, arguments).await;
    assert!(reply["result"].is_object(), "{tool}: {reply}");
    reply["result"].clone()
}

fn mail(to: &[&str]) -> Value {
    json!({"to": to, "subject": "Numbers", "body": "The figures, as promised."})
}

#[tokio::test]
async fn the_allowlist_refuses_by_name_on_every_sending_tool() {
    let app = spawn_app_with(|s| s.send.allowed_recipients = vec!["@example.com".into()]).await;
    let mut c = app.sse().await;
    c.initialize().await;

    let r = call(
        &mut c,
        1,
        "send_email",
        mail(&["ok@example.com", "leak@evil.example"]),
    )
    .await;
    assert_eq!(r["isError"], true, "{r}");
    let text = text_of(&r);
    assert!(
        text.contains("leak@evil.example") && !text.contains("ok@example.com"),
        "{text}"
    );

    let search = call(
        &mut c,
        2,
        "search_emails",
        json!({"query": "from:northwind.example", "maxResults": 1}),
    )
    .await;
    let id = search["structuredContent"]["messages"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = call(
        &mut c,
        3,
        "reply_email",
        json!({"messageId": id, "body": "Yes."}),
    )
    .await;
    assert_eq!(r["isError"], true, "{r}");
    let r = call(
        &mut c,
        4,
        "forward_email",
        json!({"messageId": id, "to": ["x@evil.example"]}),
    )
    .await;
    assert_eq!(r["isError"], true, "{r}");
    assert!(text_of(&r).contains("x@evil.example"));
    let draft = call(&mut c, 5, "draft_email", mail(&["y@evil.example"])).await;
    assert_eq!(draft["isError"], false, "{draft}");
    let draft_id = draft["structuredContent"]["id"].as_str().unwrap();
    let r = call(&mut c, 6, "send_draft", json!({"draftId": draft_id})).await;
    assert_eq!(r["isError"], true, "{r}");
    assert!(text_of(&r).contains("y@evil.example"));
    assert_eq!(sends(&app), 0);

    let r = call(&mut c, 7, "send_email", mail(&["ok@example.com"])).await;
    assert_eq!(r["isError"], false, "{r}");
    assert_eq!(sends(&app), 1);
    // A draft to an allowed address goes out: the very message its recipients were read from.
    let draft = call(&mut c, 8, "draft_email", mail(&["ok@example.com"])).await;
    let draft_id = draft["structuredContent"]["id"].as_str().unwrap();
    let r = call(&mut c, 9, "send_draft", json!({"draftId": draft_id})).await;
    assert_eq!(r["isError"], false, "{r}");
    assert_eq!(sends(&app), 2);
    let sent = r["structuredContent"]["id"].as_str().unwrap();
    let read = call(&mut c, 10, "read_email", json!({"messageId": sent})).await;
    assert!(text_of(&read).contains("ok@example.com"), "{read}");
    // A draft bigger than Gmail takes in a JSON body (1 MiB) goes out too: as an upload.
    use base64::Engine;
    let mut big = mail(&["ok@example.com"]);
    big["attachmentContents"] = json!([{"filename": "big.bin",
        "contentBase64": base64::engine::general_purpose::STANDARD.encode(vec![7u8; 1_200_000])}]);
    let draft = call(&mut c, 11, "draft_email", big).await;
    assert_eq!(draft["isError"], false, "{draft}");
    let draft_id = draft["structuredContent"]["id"].as_str().unwrap();
    let r = call(&mut c, 12, "send_draft", json!({"draftId": draft_id})).await;
    assert_eq!(r["isError"], false, "{r}");
    assert_eq!(sends(&app), 3);
}

#[tokio::test]
async fn drafts_only_and_dry_runs_send_nothing_and_say_what_they_did() {
    let app = spawn_app_with(|s| s.send.drafts_only = true).await;
    let mut c = app.sse().await;
    c.initialize().await;
    let r = call(&mut c, 1, "send_email", mail(&["a@example.com"])).await;
    assert_eq!(r["isError"], false, "{r}");
    let draft_id = r["structuredContent"]["draftId"]
        .as_str()
        .expect("a draft id");
    assert!(text_of(&r).contains(draft_id) && text_of(&r).contains("nothing was sent"));
    let r = call(&mut c, 2, "get_draft", json!({"draftId": draft_id})).await;
    assert_eq!(r["isError"], false, "{r}");
    assert_eq!(sends(&app), 0);

    // Dry runs, over Streamable HTTP this time.
    let http = reqwest::Client::new();
    let sid = mcp_initialize(&http, &app.base).await;
    let mut args = mail(&["b@example.com"]);
    args["dryRun"] = json!(true);
    let (_, _, msgs) = mcp_post(
        &http,
        &app.base,
        Some(&sid),
        &tool_call(1, "send_email", args),
    )
    .await;
    let result = &msgs[0]["result"];
    assert_eq!(result["isError"], false, "{result}");
    let text = text_of(result);
    for part in [
        "Dry run: nothing was sent",
        "To: b@example.com",
        "Subject: Numbers",
        "The figures, as promised.",
    ] {
        assert!(text.contains(part), "{part} missing from {text}");
    }
    assert_eq!(result["structuredContent"]["dryRun"], true);
    let (_, _, msgs) = mcp_post(
        &http,
        &app.base,
        Some(&sid),
        &tool_call(
            2,
            "draft_email",
            json!({"to": ["b@example.com"], "subject": "s", "body": "b", "dryRun": true}),
        ),
    )
    .await;
    assert_eq!(
        msgs[0]["result"]["isError"], true,
        "a draft sends nothing: dryRun is refused there"
    );
    assert_eq!(sends(&app), 0);
    assert_eq!(
        app.sandbox.stats()["requests"][SEND].as_u64().unwrap_or(0),
        0
    );
}

#[tokio::test]
async fn the_daily_cap_and_forwarding_filters_are_tool_errors_that_say_why() {
    let app = spawn_app_with(|s| {
        s.send.max_per_day = 1;
        s.mcp.toolsets = vec!["all".into()];
    })
    .await;
    let mut c = app.sse().await;
    c.initialize().await;
    assert_eq!(
        call(&mut c, 1, "send_email", mail(&["a@example.com"])).await["isError"],
        false
    );
    let r = call(&mut c, 2, "send_email", mail(&["a@example.com"])).await;
    assert_eq!(r["isError"], true, "{r}");
    assert!(
        text_of(&r).contains("send.max_per_day") && text_of(&r).contains("minutes"),
        "{r}"
    );
    assert_eq!(sends(&app), 1);

    let r = call(
        &mut c,
        3,
        "create_filter",
        json!({"criteria": {"from": "boss@example.com"}, "action": {"forward": "me@elsewhere.example"}}),
    )
    .await;
    assert_eq!(r["isError"], true, "{r}");
    assert!(text_of(&r).contains("allow_forwarding_filters"), "{r}");
    assert_eq!(
        app.sandbox.stats()["requests"]["users.settings.filters.create"]
            .as_u64()
            .unwrap_or(0),
        0
    );
}

#[tokio::test]
async fn a_caller_over_its_rate_gets_an_error_result_that_says_when_to_retry() {
    let app = spawn_app_with(|s| {
        s.limits.caller_per_minute = 60;
        s.limits.caller_burst = 2;
    })
    .await;
    let mut c = app.sse().await;
    c.initialize().await;
    for id in 1..=2 {
        let r = call(&mut c, id, "get_profile", json!({})).await;
        assert_eq!(r["isError"], false, "{r}");
    }
    let before = app.sandbox.stats()["requests"]["users.getProfile"]
        .as_u64()
        .unwrap_or(0);
    let r = call(&mut c, 3, "get_profile", json!({})).await;
    assert_eq!(r["isError"], true, "{r}");
    let text = text_of(&r);
    assert!(
        text.contains("too-many-requests")
            && text.contains("limits.caller_per_minute")
            && text.contains("retry after"),
        "{r}"
    );
    // Refused at the edge: Gmail never saw it.
    let after = app.sandbox.stats()["requests"]["users.getProfile"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(before, after);
}
