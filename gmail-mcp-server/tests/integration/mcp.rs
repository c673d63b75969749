//! The MCP transports end to end over real sockets, against an in-process sandbox: legacy SSE
//! (raw HTTP, so the wire format is what is tested), Streamable HTTP, the DNS-rebinding guard,
//! the session registry, idle reaping and shutdown.

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn sse_handshake_initialize_list_and_call_get_profile() {
    let app = spawn_app().await;
    let mut c = app.sse().await;

    // Ids start at 0, and tools are called before notifications/initialized (older clients).
    let init = c.request(0, "initialize", init_params()).await;
    let result = &init["result"];
    assert_eq!(result["serverInfo"]["name"], "gmail-mcp-server");
    assert_eq!(result["serverInfo"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(result["capabilities"]["tools"].is_object());
    assert!(result["capabilities"]["logging"].is_object());
    assert!(result["instructions"]
        .as_str()
        .unwrap()
        .contains("get_profile"));

    let call = c.call_tool(1, "get_profile", json!({})).await;
    assert_eq!(call["result"]["isError"], false, "{call}");
    assert_eq!(
        call["result"]["structuredContent"]["emailAddress"],
        "demo@example.com"
    );
    assert!(text_of(&call["result"]).contains("demo@example.com"));

    c.notify("notifications/initialized").await;
    let list = c.request(2, "tools/list", json!({})).await;
    let tools = list["result"]["tools"].as_array().unwrap();
    assert!(!tools.is_empty());
    for tool in tools {
        assert!(tool["title"].is_string(), "{tool}");
        assert_eq!(tool["annotations"]["title"], tool["title"]);
        assert!(tool["annotations"]["readOnlyHint"].is_boolean(), "{tool}");
        assert_eq!(tool["inputSchema"]["type"], "object", "{tool}");
    }
    let profile = tools.iter().find(|t| t["name"] == "get_profile").unwrap();
    assert_eq!(profile["outputSchema"]["type"], "object");

    // No arguments at all is fine for a tool without required parameters.
    let call = c
        .request(3, "tools/call", json!({"name": "get_profile"}))
        .await;
    assert_eq!(call["result"]["isError"], false, "{call}");

    let ping = c.request(4, "ping", json!({})).await;
    assert_eq!(ping["result"], json!({}));
}

#[tokio::test]
async fn unknown_tool_is_a_json_rpc_error_and_bad_arguments_an_is_error_result() {
    let app = spawn_app().await;
    let mut c = app.sse().await;
    c.initialize().await;

    let reply = c.call_tool(1, "no_such_tool", json!({})).await;
    assert_eq!(reply["error"]["code"], -32602, "{reply}");
    assert_eq!(reply["error"]["message"], "Unknown tool: no_such_tool");

    let reply = c
        .call_tool(2, "get_profile", json!({"bogus_field": 1}))
        .await;
    assert_eq!(reply["result"]["isError"], true, "{reply}");
    let text = text_of(&reply["result"]);
    assert!(text.contains("bogus_field"), "{text}");
    assert!(text.contains("get_profile"), "{text}");

    // A value of the wrong type names its argument too.
    let reply = c.call_tool(4, "get_profile", json!({"account": 5})).await;
    assert_eq!(reply["result"]["isError"], true, "{reply}");
    let text = text_of(&reply["result"]);
    assert!(
        text.contains("account") && text.contains("invalid type"),
        "{text}"
    );

    // The wrong account is a Gmail error, reported as an isError result too.
    let reply = c
        .call_tool(3, "get_profile", json!({"account": "someone@else.com"}))
        .await;
    assert_eq!(reply["result"]["isError"], true, "{reply}");
    assert!(text_of(&reply["result"]).starts_with("Error ("), "{reply}");
}

#[tokio::test]
async fn logging_set_level_is_accepted_and_tool_calls_are_then_logged() {
    let app = spawn_app().await;
    let mut c = app.sse().await;
    c.initialize().await;
    let reply = c
        .request(1, "logging/setLevel", json!({"level": "info"}))
        .await;
    assert_eq!(reply["result"], json!({}), "{reply}");
    c.post(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "get_profile"}}))
        .await;
    let mut saw_log = false;
    let mut saw_result = false;
    while !(saw_log && saw_result) {
        let msg = c.next_message().await.unwrap();
        if msg["method"] == "notifications/message" {
            assert_eq!(msg["params"]["data"]["tool"], "get_profile");
            saw_log = true;
        } else {
            assert_eq!(msg["id"], 2);
            saw_result = true;
        }
    }
}

#[tokio::test]
async fn message_posts_are_validated() {
    let app = spawn_app().await;
    let mut c = app.sse().await;
    c.initialize().await;
    let http = reqwest::Client::new();

    // Unknown session: 404.
    assert_eq!(
        ping_status(
            &http,
            &format!("{}/message?sessionId=not-a-session", app.base)
        )
        .await,
        404
    );

    // No session id: 400.
    assert_eq!(
        ping_status(&http, &format!("{}/message", app.base)).await,
        400
    );

    // Not JSON: 400 with a JSON-RPC parse error.
    let resp = c.post_raw("{not json").await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32700);
    assert_eq!(body["id"], Value::Null);

    // JSON but not JSON-RPC, with an id: the client waits on the stream, so the error is there.
    let resp = c.post_raw(r#"{"id": 7, "jsonrpc": "1.0"}"#).await;
    assert_eq!(resp.status(), 202);
    let msg = c.next_message().await.unwrap();
    assert_eq!(msg["id"], 7);
    assert_eq!(msg["error"]["code"], -32600);

    // Without an id there is nobody to answer on the stream: 400.
    let resp = c.post_raw(r#"{"hello": "world"}"#).await;
    assert_eq!(resp.status(), 400);

    // The session still works.
    let reply = c.request(8, "ping", json!({})).await;
    assert_eq!(reply["result"], json!({}));
}

#[tokio::test]
async fn disallowed_host_or_origin_is_refused_with_403_json() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    let c = app.sse().await;
    let targets = [
        ("GET", format!("{}/sse", app.base)),
        ("POST", c.endpoint.clone()),
        ("POST", format!("{}/mcp", app.base)),
        ("GET", format!("{}/sessions", app.base)),
    ];
    for (method, url) in &targets {
        for (host, origin) in [
            (Some("evil.example"), None),
            (Some("evil.example:8001"), None),
            (None, Some("http://evil.example")),
            (None, Some("null")),
        ] {
            let mut req = http.request(method.parse().unwrap(), url.as_str());
            if let Some(h) = host {
                req = req.header("host", h);
            }
            if let Some(o) = origin {
                req = req.header("origin", o);
            }
            let resp = req
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
                .send()
                .await
                .unwrap();
            assert_eq!(
                resp.status(),
                403,
                "{method} {url} host={host:?} origin={origin:?}"
            );
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["status"], 403);
            assert!(body["detail"].as_str().unwrap().contains("not allowed"));
        }
    }

    // Loopback names with any port, and loopback origins, pass.
    for (host, origin) in [
        (
            format!("localhost:{}", app.port),
            Some("http://localhost:5173"),
        ),
        (format!("127.0.0.1:{}", app.port), None),
        ("localhost".to_string(), Some("https://127.0.0.1")),
    ] {
        let mut req = http
            .get(format!("{}/sessions", app.base))
            .header("host", host.as_str());
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        assert_eq!(req.send().await.unwrap().status(), 200, "{host} {origin:?}");
    }
    // /health stays open to any Host (probes from anywhere on the box).
    let resp = http
        .get(format!("{}/health", app.base))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// A page in a browser cannot post into a session: bodies browsers send without a preflight
/// (`text/plain`) and requests a browser marks cross-site get nothing done.
#[tokio::test]
async fn a_web_page_cannot_post_into_a_session() {
    let app = spawn_app().await;
    let mut c = app.sse().await;
    c.initialize().await;
    let call = tool_call(7, "get_profile", json!({}));
    let http = reqwest::Client::new();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init_params()});
    // (what the page tries, the request, the status it gets)
    let probes = [
        (
            "a text/plain post",
            http.post(&c.endpoint)
                .header("content-type", "text/plain")
                .body(call.to_string()),
            415,
        ),
        (
            "a cross-origin post",
            http.post(&c.endpoint)
                .header("origin", "http://evil.example")
                .json(&call),
            403,
        ),
        (
            "a cross-site post",
            http.post(&c.endpoint)
                .header("sec-fetch-site", "cross-site")
                .json(&call),
            403,
        ),
        (
            "a text/plain initialize on /mcp",
            http.post(format!("{}/mcp", app.base))
                .header("content-type", "text/plain")
                .header("accept", "application/json, text/event-stream")
                .body(init.to_string()),
            415,
        ),
    ];
    for (what, request, expected) in probes {
        assert_eq!(status_json(request).await.0, expected, "{what}");
    }
    // None of them reached the session: the next answer on the stream is to a real call.
    let ok = c.request(8, "tools/list", json!({})).await;
    assert_eq!(ok["id"], 8, "{ok}");
}

#[tokio::test]
async fn configured_hosts_and_origins_are_honoured() {
    let app = spawn_app_with(|s| {
        s.mcp.allowed_hosts = vec!["mail.internal".into()];
        s.mcp.allowed_origins = vec!["https://app.internal:8443".into()];
    })
    .await;
    let http = reqwest::Client::new();
    let get = |host: &'static str, origin: Option<&'static str>| {
        let mut req = http
            .get(format!("{}/sessions", app.base))
            .header("host", host);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(get("mail.internal:8001", None).await, 200);
    assert_eq!(get("localhost", None).await, 403);
    assert_eq!(
        get("mail.internal", Some("https://app.internal:8443")).await,
        200
    );
    assert_eq!(
        get("mail.internal", Some("https://app.internal")).await,
        403
    );
}

#[tokio::test]
async fn sessions_are_listed_counted_and_closed_by_delete() {
    let app = spawn_app().await;
    let mut c = app.sse().await;
    c.initialize().await;
    c.request(1, "tools/list", json!({})).await;

    let list = app.sessions().await;
    assert_eq!(list["count"], 1);
    let row = &list["sessions"][0];
    assert_eq!(row["id"], c.session_id.as_str());
    assert_eq!(row["transport"], "sse");
    assert_eq!(row["requests"], 2);
    assert!(row["age_secs"].is_u64() && row["idle_secs"].is_u64());

    let sid = mcp_initialize(&app.http, &app.base).await;
    let health = app.health().await;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["sessions"]["sse"], 1);
    assert_eq!(health["sessions"]["streamable-http"], 1);
    assert_eq!(health["sessions"]["stdio"], 0);
    let rows = app.sessions().await;
    let streamable = rows["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == sid.as_str())
        .expect("streamable session listed");
    assert_eq!(streamable["transport"], "streamable-http");

    // DELETE closes the SSE session: its stream ends and its endpoint is gone.
    let url = format!("{}/sessions/{}", app.base, c.session_id);
    assert_eq!(app.http.delete(&url).send().await.unwrap().status(), 204);
    assert!(
        c.closed_within(Duration::from_secs(5)).await,
        "stream ended"
    );
    assert_eq!(app.http.delete(&url).send().await.unwrap().status(), 404);
    let resp = c
        .post(&json!({"jsonrpc": "2.0", "id": 9, "method": "ping"}))
        .await;
    assert_eq!(resp.status(), 404);

    // DELETE closes the Streamable HTTP session too: rmcp forgets it.
    let url = format!("{}/sessions/{sid}", app.base);
    assert_eq!(app.http.delete(&url).send().await.unwrap().status(), 204);
    let closed = eventually(Duration::from_secs(5), || async {
        let (status, _, _) = mcp_post(
            &app.http,
            &app.base,
            Some(&sid),
            &json!({"jsonrpc": "2.0", "id": 3, "method": "ping"}),
        )
        .await;
        status == 404
    })
    .await;
    assert!(closed, "rmcp session closed");
    assert_eq!(app.sessions().await["count"], 0);
}

#[tokio::test]
async fn streamable_http_serves_tools_and_tracks_requests() {
    let app = spawn_app().await;
    let sid = mcp_initialize(&app.http, &app.base).await;
    let (status, _, msgs) = mcp_post(
        &app.http,
        &app.base,
        Some(&sid),
        &tool_call(1, "get_profile", json!({})),
    )
    .await;
    assert_eq!(status, 200);
    let reply = msgs.iter().find(|m| m["id"] == 1).expect("reply");
    assert_eq!(
        reply["result"]["structuredContent"]["emailAddress"],
        "demo@example.com"
    );
    let (_, _, msgs) = mcp_post(
        &app.http,
        &app.base,
        Some(&sid),
        &tool_call(2, "nope", json!({})),
    )
    .await;
    let reply = msgs.iter().find(|m| m["id"] == 2).expect("reply");
    assert_eq!(reply["error"]["code"], -32602);

    let rows = app.sessions().await;
    let row = &rows["sessions"][0];
    assert_eq!(row["transport"], "streamable-http");
    assert_eq!(row["requests"], 3); // initialize + two calls

    // The client's own DELETE ends the session and the registry follows.
    let status = app.end_session(&sid).await;
    assert!((200..300).contains(&status), "{status}");
    assert!(
        eventually(Duration::from_secs(5), || async {
            app.sessions().await["count"] == 0
        })
        .await
    );
}

#[tokio::test]
async fn idle_sessions_are_reaped() {
    let app = spawn_app_with(|s| s.mcp.session_idle_timeout_secs = 1).await;
    let mut idle = app.sse().await;
    idle.initialize().await;
    let sid = mcp_initialize(&app.http, &app.base).await;
    let mut busy = app.sse().await;
    busy.initialize().await;
    assert_eq!(app.sessions().await["count"], 3);

    // Keep one session busy while the others go idle.
    let started = Instant::now();
    let mut n = 1;
    while started.elapsed() < Duration::from_millis(2000) {
        busy.request(n, "ping", json!({})).await;
        n += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        idle.closed_within(Duration::from_secs(3)).await,
        "idle SSE stream closed"
    );
    let ids = app.session_ids().await;
    assert_eq!(
        ids,
        vec![busy.session_id.clone()],
        "only the busy one is left"
    );
    let (status, _, _) = mcp_post(
        &app.http,
        &app.base,
        Some(&sid),
        &json!({"jsonrpc": "2.0", "id": 5, "method": "ping"}),
    )
    .await;
    assert_eq!(status, 404, "reaped streamable session is gone");
}

#[tokio::test]
async fn pings_flow_and_a_dropped_client_is_noticed_within_a_ping_interval() {
    let app = spawn_app_with(|s| s.mcp.sse_ping_interval_secs = 1).await;
    let mut c = app.sse().await;
    c.initialize().await;
    let ping = c.next_event(Duration::from_secs(3)).await;
    assert!(
        matches!(&ping, Some(Event::Comment(text)) if text == "ping"),
        "{ping:?}"
    );
    assert_eq!(app.sessions().await["count"], 1);
    drop(c);
    let dropped = Instant::now();
    let gone = eventually(Duration::from_secs(3), || async {
        app.sessions().await["count"] == 0
    })
    .await;
    assert!(gone, "session of a dropped client closed");
    assert!(
        dropped.elapsed() <= Duration::from_millis(1500),
        "noticed after {:?}",
        dropped.elapsed()
    );
}

#[tokio::test]
async fn fifty_concurrent_sse_sessions_get_only_their_own_replies() {
    let app = spawn_app().await;
    let mut tasks = Vec::new();
    for i in 0..50i64 {
        let base = app.base.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = SseClient::connect(&base).await;
            c.initialize().await;
            // Every session uses the same ids: replies must still go to the right stream.
            for id in 1..=3i64 {
                let arguments = if id == 2 {
                    json!({"bogus": i})
                } else {
                    json!({})
                };
                let resp = c.post(&tool_call(id, "get_profile", arguments)).await;
                assert_eq!(resp.status(), 202);
            }
            let mut seen = Vec::new();
            for _ in 0..3 {
                let msg = c.next_message().await.expect("reply");
                let id = msg["id"].as_i64().expect("a response");
                let result = &msg["result"];
                if id == 2 {
                    assert_eq!(result["isError"], true);
                    // The bad value names this session's own argument.
                    assert!(text_of(result).contains("bogus"), "{msg}");
                } else {
                    assert_eq!(
                        result["structuredContent"]["emailAddress"],
                        "demo@example.com"
                    );
                }
                seen.push(id);
            }
            seen.sort();
            assert_eq!(seen, vec![1, 2, 3], "session {i}");
            // Nothing else arrives for this session.
            let extra = c.next_event(Duration::from_millis(200)).await;
            assert!(
                !matches!(extra, Some(Event::Named { .. })),
                "session {i} got a stray message: {extra:?}"
            );
            c
        }));
    }
    let mut clients = Vec::new();
    for t in tasks {
        clients.push(t.await.expect("session task"));
    }
    assert_eq!(app.sessions().await["count"], 50);
    let mut ids: Vec<_> = clients.iter().map(|c| c.session_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 50);
}

#[tokio::test]
async fn stopping_closes_open_streams_promptly() {
    let app = spawn_app_with(|s| s.mcp.shutdown_timeout_secs = 30).await;
    let mut c = app.sse().await;
    c.initialize().await;
    let started = Instant::now();
    app.stopper.stop().await;
    assert!(c.closed_within(Duration::from_secs(1)).await);
    // actix re-checks open connections once a second; far below the 30 s timeout.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// An inbox subscription notifies from the first message after it (even before the change
/// feed's first round), and unsubscribing with the same uri, however it is spelled, stops
/// the notifications.
#[tokio::test]
async fn inbox_subscriptions_notify_and_unsubscribe() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/events.db", dir.path().display());
    let app = spawn_app_with(|s| {
        s.events.enabled = true;
        s.events.poll_interval_secs = 1;
        s.multi_user.database_url = db.into();
    })
    .await;
    let mut c = app.sse().await;
    c.initialize().await;
    let uri = "gmail://Demo@Example.com/inbox";
    let r = c
        .request(1, "resources/subscribe", json!({"uri": uri}))
        .await;
    assert!(r["result"].is_object(), "{r}");
    let updated = |m: &Value| m["method"] == "notifications/resources/updated";
    gmail_test_support::deliver(&app.sandbox.base_url(), "demo@example.com", "First").await;
    let note = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let m = c.next_message().await.expect("the stream is open");
            if updated(&m) {
                return m;
            }
        }
    })
    .await
    .expect("a notification for the first message");
    assert_eq!(note["params"]["uri"], uri);

    let r = c
        .request(2, "resources/unsubscribe", json!({"uri": uri}))
        .await;
    assert!(r["result"].is_object(), "{r}");
    gmail_test_support::deliver(&app.sandbox.base_url(), "demo@example.com", "Second").await;
    let more = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match c.next_message().await {
                Some(m) if updated(&m) => return m,
                Some(_) => continue,
                None => return Value::Null,
            }
        }
    })
    .await;
    assert!(more.is_err(), "notified after unsubscribing: {more:?}");
}
