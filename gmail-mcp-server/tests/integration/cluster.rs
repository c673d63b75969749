//! Two instances on one database, as behind a round-robin load balancer: a Streamable HTTP
//! session made on one is served by the other (restored from the database, for its own user
//! only), and a legacy SSE post that lands on the instance not holding the stream is relayed
//! to the one that does. On SQLite, and on PostgreSQL (NOTIFY) with GMAIL_TEST_DATABASE_URL.

use std::time::Duration;

use crate::common::*;
use crate::multi_user::{user_with, world_with};
use gmail_mcp_server::Application;
use serde_json::json;

#[tokio::test]
async fn any_instance_serves_any_session() {
    for db in gmail_test_support::fresh_database_urls("mcp_cluster").await {
        let w = world_with(&db, |_| {}).await;
        // A second instance on the same database and sandbox.
        let settings =
            gmail_test_support::multi_user_settings(&w.sandbox_url, &w.db_url, &w.encryption_key);
        let other = Application::build(settings).await.unwrap();
        let b = format!("http://127.0.0.1:{}", other.port());
        tokio::spawn(other.run_until_stopped());
        let (alice, _, _) = user_with(&w, "demo@example.com").await;
        let (bob, _, _) = user_with(&w, "bob@example.com").await;

        // Streamable HTTP: initialized on A, used on B.
        let sid = mcp_initialize(&alice, &w.base).await;
        let call = tool_call(7, "get_profile", json!({}));
        let (status, _, msgs) = mcp_post(&alice, &b, Some(&sid), &call).await;
        assert_eq!(status, 200, "{msgs:?}");
        assert_eq!(
            msgs[0]["result"]["structuredContent"]["emailAddress"],
            "demo@example.com"
        );
        // Bob cannot take alice's session on either instance.
        for base in [&w.base, &b] {
            let (status, _, _) = mcp_post(&bob, base, Some(&sid), &call).await;
            assert_eq!(status, 403, "{base}");
        }
        // A session made on B by bob is not alice's on A either.
        let bob_sid = mcp_initialize(&bob, &b).await;
        let (status, _, _) = mcp_post(&alice, &w.base, Some(&bob_sid), &call).await;
        assert_eq!(status, 403);
        let (status, _, msgs) = mcp_post(&bob, &w.base, Some(&bob_sid), &call).await;
        assert_eq!(status, 200);
        assert_eq!(
            msgs[0]["result"]["structuredContent"]["emailAddress"],
            "bob@example.com"
        );

        // Legacy SSE: the stream on A, every post to B.
        let mut sse = SseClient::connect_with(&w.base, alice.clone()).await;
        let on_b = format!("{b}/message?sessionId={}", sse.session_id);
        let post = |body: serde_json::Value| alice.post(&on_b).json(&body).send();
        let r = post(
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init_params()}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 202);
        let init = sse.next_message().await.unwrap();
        assert_eq!(init["id"], 1);
        assert_eq!(init["result"]["serverInfo"]["name"], "gmail-mcp-server");
        post(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await
            .unwrap();
        for id in 2..5 {
            let r = post(tool_call(id, "get_profile", json!({}))).await.unwrap();
            assert_eq!(r.status(), 202);
            let reply = sse.next_message().await.unwrap();
            assert_eq!(reply["id"], id);
            assert_eq!(
                reply["result"]["structuredContent"]["emailAddress"],
                "demo@example.com"
            );
        }
        // Bob cannot post into it through B; a session nobody holds is not found.
        assert_eq!(ping_status(&bob, &on_b).await, 403);
        assert_eq!(
            ping_status(&alice, &format!("{b}/message?sessionId=no-such-session")).await,
            404
        );
        drop(sse);
        tokio::time::sleep(Duration::from_millis(50)).await;
        gmail_test_support::drop_database(&db).await;
    }
}

/// The session caps hold across instances: a session restored on an instance counts there
/// like a new one, and a session ended with DELETE /sessions is not restored anywhere (it
/// would have come back past the caps that ending it made room for).
#[tokio::test]
async fn restored_sessions_count_against_the_caps_and_ended_ones_stay_ended() {
    for db in gmail_test_support::fresh_database_urls("mcp_cluster_caps").await {
        let w = world_with(&db, |s| s.mcp.max_sessions_per_caller = 2).await;
        let mut settings =
            gmail_test_support::multi_user_settings(&w.sandbox_url, &w.db_url, &w.encryption_key);
        settings.mcp.max_sessions_per_caller = 2;
        let other = Application::build(settings).await.unwrap();
        let b = format!("http://127.0.0.1:{}", other.port());
        tokio::spawn(other.run_until_stopped());
        let (alice, _, _) = user_with(&w, "demo@example.com").await;
        let call = tool_call(7, "get_profile", json!({}));

        let on_a = [
            mcp_initialize(&alice, &w.base).await,
            mcp_initialize(&alice, &w.base).await,
        ];
        let _on_b = [
            mcp_initialize(&alice, &b).await,
            mcp_initialize(&alice, &b).await,
        ];
        // B holds alice's two already: restoring a third there is refused.
        let (status, _, msgs) = mcp_post(&alice, &b, Some(&on_a[0]), &call).await;
        assert_eq!(status, 429, "{msgs:?}");

        // Ended on A, it is gone everywhere; its room goes to a new session.
        let r = alice
            .delete(format!("{}/sessions/{}", w.base, on_a[0]))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        let _again = mcp_initialize(&alice, &w.base).await;
        let gone = gmail_test_support::eventually(Duration::from_secs(5), || async {
            mcp_post(&alice, &w.base, Some(&on_a[0]), &call).await.0 == 404
        })
        .await;
        assert!(gone, "an ended session came back");
        // And it stays ended, on either instance.
        for base in [&w.base, &b, &w.base] {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let (status, _, msgs) = mcp_post(&alice, base, Some(&on_a[0]), &call).await;
            assert_eq!(status, 404, "{base}: {msgs:?}");
        }
        gmail_test_support::drop_database(&db).await;
    }
}
