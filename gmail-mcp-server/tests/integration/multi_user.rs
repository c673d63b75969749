//! Multi-user mode over both MCP transports: API keys, each caller's own mailbox, sessions
//! bound to their caller, 50 concurrent mixed sessions, revoked keys — on SQLite, and on
//! PostgreSQL too when GMAIL_TEST_DATABASE_URL is set.

use crate::common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use gmail_mcp_server::Application;
use gmail_sandbox::{Sandbox, SandboxConfig};
use gmail_shared::config::Settings;
use gmail_shared::gmail::GmailFactory;
use gmail_shared::oauth::accounts::Accounts;
use gmail_shared::store::cipher;
use secrecy::ExposeSecret;
use serde_json::{json, Value};

pub(crate) struct World {
    pub(crate) base: String,
    pub(crate) db_url: String,
    pub(crate) encryption_key: String,
    pub(crate) sandbox_url: String,
    pub(crate) accounts: Arc<Accounts>,
    pub(crate) sandbox: gmail_sandbox::RunningSandbox,
}

/// SQLite always; PostgreSQL too when GMAIL_TEST_DATABASE_URL is set (CI sets it).
fn database_urls() -> Vec<String> {
    gmail_test_support::database_urls("mcp-mu")
}

async fn world(db_url: &str) -> World {
    world_with(db_url, |_| {}).await
}

pub(crate) async fn world_with(db_url: &str, tweak: impl FnOnce(&mut Settings)) -> World {
    let sandbox = Sandbox::start(SandboxConfig::for_tests()).await.unwrap();
    let (db_url, encryption_key) = (db_url.to_string(), cipher::generate_key());
    let mut settings =
        gmail_test_support::multi_user_settings(&sandbox.base_url(), &db_url, &encryption_key);
    tweak(&mut settings);
    let accounts = Accounts::open(&settings, GmailFactory::new(&settings.gmail).unwrap())
        .await
        .unwrap();
    let app = Application::build(settings).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    World {
        base,
        db_url,
        encryption_key,
        sandbox_url: sandbox.base_url(),
        accounts,
        sandbox,
    }
}

/// A user with one connected mailbox and an API key: a client that sends the key, the key's
/// id, and the key.
pub(crate) async fn user_with(w: &World, email: &str) -> (reqwest::Client, String, String) {
    let store = w.accounts.store();
    let u = store
        .ensure_user(&format!("u-{}", uuid::Uuid::new_v4().simple()), None)
        .await
        .unwrap();
    let start = w.accounts.start(&u, None, Some(email)).await.unwrap();
    let consent = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(w.accounts.consent_url(&start.state).await.unwrap())
        .send()
        .await
        .unwrap();
    let params: HashMap<String, String> =
        reqwest::Url::parse(consent.headers()["location"].to_str().unwrap())
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
    w.accounts
        .complete(
            &start.state,
            &params["code"],
            gmail_shared::store::FlowBinding::Owner(&u.id),
        )
        .await
        .unwrap();
    let (info, key) = store.create_api_key(&u.id, "t").await.unwrap();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "authorization",
        format!("Bearer {}", key.expose_secret()).parse().unwrap(),
    );
    (
        reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap(),
        info.id,
        key.expose_secret().to_string(),
    )
}

/// One get_profile call on an open Streamable HTTP session: the HTTP status and the result.
async fn streamable_call(
    http: &reqwest::Client,
    base: &str,
    sid: &str,
    args: Value,
) -> (reqwest::StatusCode, Value) {
    let (status, _, msgs) =
        mcp_post(http, base, Some(sid), &tool_call(1, "get_profile", args)).await;
    let result = msgs
        .into_iter()
        .find(|m| m["id"] == 1)
        .map(|m| m["result"].clone())
        .unwrap_or(Value::Null);
    (status, result)
}

async fn streamable_profile(http: &reqwest::Client, base: &str, args: Value) -> Value {
    let sid = mcp_initialize(http, base).await;
    streamable_call(http, base, &sid, args).await.1
}

/// Runs a test once per database (SQLite, and PostgreSQL when configured).
async fn on_every_database(test: impl AsyncFn(World)) {
    for url in database_urls() {
        test(world(&url).await).await;
    }
}

#[tokio::test]
async fn each_caller_uses_only_their_own_mailbox_over_both_transports() {
    on_every_database(each_caller_uses_only_their_own_mailbox_over_both_transports_on).await;
}

async fn each_caller_uses_only_their_own_mailbox_over_both_transports_on(w: World) {
    let (alice, alice_key_id, _) = user_with(&w, "demo@example.com").await;
    let (bob, bob_key_id, _) = user_with(&w, "bob@example.com").await;

    // No key: 401 on both transports.
    let r = reqwest::get(format!("{}/sse", w.base)).await.unwrap();
    assert_eq!(r.status(), 401);
    let r = reqwest::Client::new()
        .post(format!("{}/mcp", w.base))
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": init_params()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let mut a = SseClient::connect_with(&w.base, alice.clone()).await;
    a.initialize().await;
    let call = a.call_tool(1, "get_profile", json!({})).await;
    assert_eq!(
        call["result"]["structuredContent"]["emailAddress"],
        "demo@example.com"
    );
    // Naming the other user's mailbox finds nothing.
    let call = a
        .call_tool(2, "get_profile", json!({"account": "bob@example.com"}))
        .await;
    assert_eq!(call["result"]["isError"], true, "{call}");
    assert!(call["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("not found"));
    // Bob's key cannot post into Alice's SSE session.
    let r = bob
        .post(&a.endpoint)
        .json(&json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "get_profile"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Nor can Alice's other key: the session runs with the rights of the key that opened it
    // (the other could be a read-only token).
    let store = w.accounts.store();
    let alice_id = store.api_key(&alice_key_id).await.unwrap().unwrap().user_id;
    let (_, other) = store.create_api_key(&alice_id, "other").await.unwrap();
    let r = reqwest::Client::new()
        .post(&a.endpoint)
        .bearer_auth(other.expose_secret())
        .json(&json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "get_profile"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    let result = streamable_profile(&bob, &w.base, json!({})).await;
    assert_eq!(
        result["structuredContent"]["emailAddress"],
        "bob@example.com"
    );
    let result = streamable_profile(&bob, &w.base, json!({"account": "demo@example.com"})).await;
    assert_eq!(result["isError"], true);

    // 50 concurrent sessions, mixed users and transports: each gets only its own answers.
    let calls = (0..50).map(|i| {
        let (http, want) = if i % 2 == 0 {
            (alice.clone(), "demo@example.com")
        } else {
            (bob.clone(), "bob@example.com")
        };
        let base = w.base.clone();
        async move {
            let got = if i % 4 < 2 {
                let mut c = SseClient::connect_with(&base, http).await;
                c.initialize().await;
                c.call_tool(7, "get_profile", json!({})).await["result"].clone()
            } else {
                streamable_profile(&http, &base, json!({})).await
            };
            assert_eq!(
                got["structuredContent"]["emailAddress"], want,
                "session {i}: {got}"
            );
        }
    });
    futures::future::join_all(calls).await;

    // A revoked key is refused on both transports.
    w.accounts
        .store()
        .revoke_api_key(&bob_key_id)
        .await
        .unwrap();
    assert_eq!(
        bob.get(format!("{}/sse", w.base))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let r = bob
        .post(format!("{}/mcp", w.base))
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": init_params()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// The session ids `GET /sessions` shows this client.
async fn listed_sessions(http: &reqwest::Client, base: &str) -> Vec<String> {
    let body = json_body(http.get(format!("{base}/sessions"))).await;
    body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn sessions_are_seen_used_and_closed_only_by_their_owner() {
    on_every_database(sessions_are_seen_used_and_closed_only_by_their_owner_on).await;
}

async fn sessions_are_seen_used_and_closed_only_by_their_owner_on(w: World) {
    let (alice, _, _) = user_with(&w, "demo@example.com").await;
    let (bob, _, _) = user_with(&w, "bob@example.com").await;

    let mut a_sse = SseClient::connect_with(&w.base, alice.clone()).await;
    a_sse.initialize().await;
    let a_http = mcp_initialize(&alice, &w.base).await;
    let b_http = mcp_initialize(&bob, &w.base).await;

    let seen_by_alice = listed_sessions(&alice, &w.base).await;
    let seen_by_bob = listed_sessions(&bob, &w.base).await;
    assert!(seen_by_alice.contains(&a_sse.session_id) && seen_by_alice.contains(&a_http));
    assert!(!seen_by_alice.contains(&b_http), "{seen_by_alice:?}");
    assert_eq!(seen_by_bob, vec![b_http.clone()]);

    // Bob can neither close Alice's sessions nor use her Streamable HTTP session.
    for id in [&a_sse.session_id, &a_http] {
        let r = bob
            .delete(format!("{}/sessions/{id}", w.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "bob closing {id}");
    }
    let (status, _) = streamable_call(&bob, &w.base, &a_http, json!({})).await;
    assert_eq!(status, 403);

    // Alice's sessions still work, and she can close her own.
    let call = a_sse.call_tool(6, "get_profile", json!({})).await;
    assert_eq!(
        call["result"]["structuredContent"]["emailAddress"],
        "demo@example.com"
    );
    let (_, result) = streamable_call(&alice, &w.base, &a_http, json!({})).await;
    assert_eq!(
        result["structuredContent"]["emailAddress"],
        "demo@example.com"
    );
    let r = alice
        .delete(format!("{}/sessions/{a_http}", w.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(!listed_sessions(&alice, &w.base).await.contains(&a_http));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_acts_for_the_user_whose_key_is_in_its_environment() {
    on_every_database(stdio_acts_for_the_user_whose_key_is_in_its_environment_on).await;
}

async fn stdio_acts_for_the_user_whose_key_is_in_its_environment_on(w: World) {
    let (_, _, bob_key) = user_with(&w, "bob@example.com").await;
    let command = |key: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_gmail-mcp-server"));
        cmd.env_clear()
            .env("HOME", "/nonexistent")
            .env("GMAIL_EVENTS__ENABLED", "false")
            .env("GMAIL_BACKEND", "sandbox")
            .env("GMAIL_SANDBOX_URL", &w.sandbox_url)
            .env("GMAIL_MULTI_USER", "true")
            .env("GMAIL_DATABASE_URL", &w.db_url)
            .env("GMAIL_ENCRYPTION_KEY", &w.encryption_key)
            .env("GMAIL_LOG_LEVEL", "debug");
        if let Some(key) = key {
            cmd.env("GMAIL_API_KEY", key);
        }
        cmd
    };
    let run = |cmd| tokio::task::spawn_blocking(move || stdio_get_profile(cmd));

    let (lines, stderr, status) = run(command(Some(&bob_key))).await.unwrap();
    assert!(status.success(), "{status}: {stderr}");
    let call: Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    assert_eq!(
        call["result"]["structuredContent"]["emailAddress"],
        "bob@example.com"
    );
    assert!(!stderr.contains(&bob_key), "the key is never logged");

    // No key, or a wrong one: the process says what to set and exits before serving.
    let (lines, stderr, status) = run(command(None)).await.unwrap();
    assert!(!status.success() && lines.is_empty());
    assert!(stderr.contains("set GMAIL_API_KEY"), "{stderr}");
    let wrong = format!("{bob_key}x");
    let (lines, stderr, status) = run(command(Some(&wrong))).await.unwrap();
    assert!(!status.success() && lines.is_empty());
    assert!(
        stderr.contains("GMAIL_API_KEY: invalid, expired or revoked API key"),
        "{stderr}"
    );
    assert!(!stderr.contains(&wrong));
}

#[tokio::test]
async fn revoked_keys_and_disabled_users_lose_their_sessions_within_a_second() {
    for url in database_urls() {
        let w = world(&url).await;
        let store = w.accounts.store();
        let (alice, alice_key_id, _) = user_with(&w, "demo@example.com").await;
        let (bob, _, bob_key) = user_with(&w, "bob@example.com").await;
        let mut sse = SseClient::connect_with(&w.base, alice.clone()).await;
        sse.initialize().await;
        let sid = mcp_initialize(&alice, &w.base).await;
        // A standalone Streamable HTTP stream (GET /mcp) stays open as long as its session.
        let get = alice
            .get(format!("{}/mcp", w.base))
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &sid)
            .header("mcp-protocol-version", "2025-06-18")
            .send()
            .await
            .unwrap();
        assert_eq!(get.status(), 200);
        let (mut get_events, _reader) = spawn_reader(get);
        let mut bob_sse = SseClient::connect_with(&w.base, bob.clone()).await;
        bob_sse.initialize().await;

        let revoked = std::time::Instant::now();
        assert!(store.revoke_api_key(&alice_key_id).await.unwrap());
        assert!(
            sse.closed_within(std::time::Duration::from_secs(2)).await,
            "the SSE stream of a revoked key stayed open"
        );
        let took = revoked.elapsed();
        let get_closed = tokio::time::timeout(std::time::Duration::from_secs(2), async {
            while get_events.recv().await.is_some() {}
        })
        .await;
        assert!(
            get_closed.is_ok(),
            "the /mcp stream of a revoked key stayed open"
        );
        assert!(
            took < std::time::Duration::from_millis(1000),
            "closed after {took:?}"
        );
        // Bob's session is untouched, until bob is disabled.
        let answer = bob_sse.request(3, "tools/list", json!({})).await;
        assert!(answer["result"]["tools"].is_array());
        let bob_id = store.authenticate(&bob_key).await.unwrap().unwrap().id;
        let disabled = std::time::Instant::now();
        assert!(store.set_user_disabled(&bob_id, true).await.unwrap());
        assert!(
            bob_sse
                .closed_within(std::time::Duration::from_secs(2))
                .await
        );
        assert!(disabled.elapsed() < std::time::Duration::from_millis(1000));
        assert_eq!(
            bob.get(format!("{}/sse", w.base))
                .send()
                .await
                .unwrap()
                .status(),
            401
        );
    }
}

/// A protocol 2026-07-28 request: no session, the protocol in `_meta` and the header.
fn stateless(http: &reqwest::Client, base: &str, id: i64, tool: &str) -> reqwest::RequestBuilder {
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"},
    });
    http.post(format!("{base}/mcp"))
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", tool)
        .json(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": tool, "arguments": {}, "_meta": meta}}))
}

/// A request in flight ends when its key is revoked: a protocol 2026-07-28 client has no
/// session to close, and its long call (or listen stream) must not go on answering a key
/// that no longer works.
#[tokio::test]
async fn a_revoked_key_loses_its_requests_in_flight() {
    let url = database_urls().remove(0);
    let w = world(&url).await;
    let (alice, alice_key_id, _) = user_with(&w, "demo@example.com").await;
    let r = stateless(&alice, &w.base, 1, "get_profile")
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("demo@example.com"), "{text}");

    w.sandbox.set_faults(gmail_sandbox::FaultConfig {
        latency_ms: 8000,
        ..Default::default()
    });
    let slow = stateless(&alice, &w.base, 2, "get_profile").send();
    let slow = tokio::spawn(async move { slow.await.unwrap().text().await.unwrap_or_default() });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let revoked = std::time::Instant::now();
    assert!(w
        .accounts
        .store()
        .revoke_api_key(&alice_key_id)
        .await
        .unwrap());
    let text = tokio::time::timeout(Duration::from_secs(4), slow)
        .await
        .expect("the request of a revoked key went on")
        .unwrap();
    // Cut off: no answer at all, or an error, never the call's result.
    assert!(
        !text.contains("demo@example.com") && !text.contains("\"result\""),
        "answered after revocation: {text}"
    );
    assert!(
        revoked.elapsed() < Duration::from_secs(2),
        "{:?}",
        revoked.elapsed()
    );
}

/// Sessions opened at once are counted at once: a caller at the edge of the cap who opens
/// several together gets only what the cap leaves.
#[tokio::test]
async fn concurrent_opens_do_not_pass_the_cap_together() {
    let (w, alice, _) = capped_at_two().await;
    let mut params = init_params();
    params["protocolVersion"] = json!("2025-06-18");
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params});
    let opens = (0..8).map(|_| mcp_post(&alice, &w.base, None, &init));
    let statuses: Vec<u16> = futures::future::join_all(opens)
        .await
        .into_iter()
        .map(|(status, _, _)| status.as_u16())
        .collect();
    let opened = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(opened, 2, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 429),
        "{statuses:?}"
    );
}

/// Requests in flight on /mcp are bounded per caller too: a protocol 2026-07-28 client holds
/// requests, not sessions, and no session cap would see them.
#[tokio::test]
async fn each_caller_gets_at_most_their_share_of_requests_in_flight() {
    let (w, alice, bob) = capped_at_two().await;
    let sid = mcp_initialize(&alice, &w.base).await;
    let bob_sid = mcp_initialize(&bob, &w.base).await;
    // Gmail answers slowly: two calls hold alice's two slots for a while.
    w.sandbox.set_faults(gmail_sandbox::FaultConfig {
        latency_ms: 1500,
        ..Default::default()
    });
    let slow: Vec<_> = (0..2)
        .map(|i| {
            let (http, base, sid) = (alice.clone(), w.base.clone(), sid.clone());
            tokio::spawn(async move {
                let call = tool_call(10 + i, "get_profile", json!({}));
                mcp_post(&http, &base, Some(&sid), &call).await.0
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let ping = json!({"jsonrpc": "2.0", "id": 99, "method": "ping"});
    let (status, _, msgs) = mcp_post(&alice, &w.base, Some(&sid), &ping).await;
    assert_eq!(status, 429, "{msgs:?}");
    assert!(
        msgs[0].to_string().contains("max_sessions_per_caller"),
        "{msgs:?}"
    );
    // Another caller is not affected.
    let (status, _, _) = mcp_post(&bob, &w.base, Some(&bob_sid), &ping).await;
    assert_eq!(status, 200);
    for call in slow {
        assert_eq!(call.await.unwrap(), 200);
    }
    // The slots come back when the answers are sent.
    let (status, _, _) = mcp_post(&alice, &w.base, Some(&sid), &ping).await;
    assert_eq!(status, 200);
}

/// A server that gives each caller two sessions, and two callers on it.
async fn capped_at_two() -> (World, reqwest::Client, reqwest::Client) {
    let url = database_urls().remove(0);
    let w = world_with(&url, |s| s.mcp.max_sessions_per_caller = 2).await;
    let (alice, _, _) = user_with(&w, "demo@example.com").await;
    let (bob, _, _) = user_with(&w, "bob@example.com").await;
    (w, alice, bob)
}

#[tokio::test]
async fn each_caller_gets_at_most_their_share_of_sessions() {
    let (w, alice, bob) = capped_at_two().await;
    let _a1 = SseClient::connect_with(&w.base, alice.clone()).await;
    let _a2 = mcp_initialize(&alice, &w.base).await;
    let r = alice.get(format!("{}/sse", w.base)).send().await.unwrap();
    assert_eq!(r.status(), 429);
    let body: Value = r.json().await.unwrap();
    assert_detail_has(&body, "max_sessions_per_caller");
    let (status, _, _) = mcp_post(
        &alice,
        &w.base,
        None,
        &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": init_params()}),
    )
    .await;
    assert_eq!(status, 429);
    // Another caller is not affected.
    let _b1 = SseClient::connect_with(&w.base, bob.clone()).await;
}
