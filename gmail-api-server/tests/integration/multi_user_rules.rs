//! Multi-user rules and the audit log over REST, on SQLite and (with GMAIL_TEST_DATABASE_URL)
//! PostgreSQL: a key's and a user's rules narrow the server's (allowlist, daily cap,
//! drafts-only, read-only); every write and refusal is in the shared audit table, which each
//! caller reads only their own part of; bodies are never stored.

use gmail_shared::ops::policy::CallerPolicy;
use gmail_shared::store::Store;
use serde_json::{json, Value};

use crate::common::multi_user::{
    connect, database_urls, get, http, user_with_key, Caller, Deployment,
};
use crate::common::{assert_detail_has, fetch};

const BODY: &str = "Confidential: the merger closes Friday.";

/// Sends [`BODY`] to `to` as `c`: the status, the JSON body and any Retry-After.
async fn send_mail(base: &str, c: &Caller, to: &str) -> (u16, Value, Option<String>) {
    let r = fetch(
        http()
            .post(format!("{base}/api/v1/messages/send"))
            .bearer_auth(&c.key)
            .json(&json!({"to": [to], "subject": "Merger", "body": BODY})),
    )
    .await;
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (
        r.status().as_u16(),
        r.json().await.unwrap_or(Value::Null),
        retry,
    )
}

/// A user with one key under `key_rules`; answers the caller and the user's id.
async fn caller(store: &Store, name: &str, key_rules: CallerPolicy) -> (Caller, String) {
    let (c, info) = user_with_key(store, name, None, "test").await;
    store.set_key_policy(&info.id, &key_rules).await.unwrap();
    (c, info.user_id)
}

/// A fresh sandbox mailbox: the daily cap counts per mailbox, and PostgreSQL keeps the
/// audit log of earlier runs.
fn mailbox(sandbox: &gmail_sandbox::RunningSandbox, name: &str) -> String {
    let email = format!("{name}-{}@example.com", uuid::Uuid::new_v4().simple());
    sandbox.state().store.create_mailbox(&email, name);
    email
}

#[tokio::test]
async fn key_and_user_rules_narrow_and_the_audit_log_is_per_caller() {
    for db in database_urls() {
        let d = Deployment::start(&db).await;
        let (base, store, sandbox) = (&d.base, &d.store, &d.sandbox);
        let sends = || {
            sandbox.stats()["requests"]["users.messages.send"]
                .as_u64()
                .unwrap_or(0)
        };

        // Alice's key: only @example.com, one send a day.
        let (alice, alice_id) = caller(
            store,
            "alice",
            CallerPolicy {
                allowed_recipients: Some(vec!["@example.com".into()]),
                max_sends_per_day: Some(1),
                ..Default::default()
            },
        )
        .await;
        // Bob: drafts only, set on the user (every key of his).
        let (bob, bob_id) = caller(store, "bob", CallerPolicy::default()).await;
        store
            .set_user_policy(
                &bob_id,
                &CallerPolicy {
                    drafts_only: Some(true),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let alice_mail = mailbox(sandbox, "alice");
        connect(base, &alice, &alice_mail).await;
        connect(base, &bob, &mailbox(sandbox, "bob")).await;

        let (status, body, _) = send_mail(base, &alice, "out@evil.example").await;
        assert_eq!(status, 403, "{body}");
        assert_detail_has(&body, "out@evil.example");
        let (status, sent, _) = send_mail(base, &alice, "x@example.com").await;
        assert_eq!(status, 200, "{sent}");
        let (status, body, retry) = send_mail(base, &alice, "y@example.com").await;
        assert_eq!(status, 429, "{body}");
        assert!(retry.unwrap().parse::<u64>().unwrap() > 3600);
        assert_eq!(sends(), 1);

        let (status, drafted, _) = send_mail(base, &bob, "anyone@evil.example").await;
        assert_eq!(status, 200, "{drafted}");
        assert!(drafted["draftId"].is_string(), "{drafted}");
        assert_eq!(sends(), 1, "drafts-only sent nothing");

        // A read-only key of Alice's reads and writes nothing.
        let ro = {
            let (info, k) = store.create_api_key(&alice_id, "ro").await.unwrap();
            let rules = CallerPolicy {
                read_only: Some(true),
                ..Default::default()
            };
            store.set_key_policy(&info.id, &rules).await.unwrap();
            Caller::new(&k)
        };
        assert_eq!(get(base, "/api/v1/profile", &ro).await.0, 200);
        let (status, body, _) = send_mail(base, &ro, "x@example.com").await;
        assert_eq!(status, 403, "{body}");
        let (_, tools) = get(base, "/api/v1/tools", &ro).await;
        let names = tools.to_string();
        assert!(
            names.contains("search_emails") && !names.contains("send_email"),
            "{names}"
        );

        // The audit log: each caller sees their own entries, the refusals included.
        let (status, a) = get(base, "/api/v1/audit", &alice).await;
        assert_eq!(status, 200, "{a}");
        let entries = a["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 3, "{a}");
        assert!(
            entries.iter().all(|e| e["userId"] == alice_id.as_str()),
            "{a}"
        );
        let outcomes: Vec<&str> = entries
            .iter()
            .map(|e| e["outcome"].as_str().unwrap())
            .collect();
        assert_eq!(outcomes, ["refused", "ok", "refused"], "newest first: {a}");
        assert_eq!(entries[1]["recipients"], json!(["x@example.com"]));
        assert!(entries[1]["ids"].as_array().unwrap().contains(&sent["id"]));
        assert_eq!(entries[1]["account"], alice_mail.as_str());
        let (_, b) = get(base, "/api/v1/audit", &bob).await;
        let b_entries = b["entries"].as_array().unwrap();
        assert_eq!(b_entries.len(), 1, "{b}");
        assert_eq!(b_entries[0]["userId"], bob_id.as_str());
        assert!(
            b_entries[0]["ids"]
                .as_array()
                .unwrap()
                .contains(&drafted["draftId"]),
            "{b}"
        );
        // Paged by id.
        let (_, page) = get(base, "/api/v1/audit?limit=1", &alice).await;
        let last = page["entries"][0]["id"].as_str().unwrap();
        assert_eq!(last, entries[0]["id"].as_str().unwrap());
        let (_, rest) = get(base, &format!("/api/v1/audit?before={last}"), &alice).await;
        assert_eq!(rest["entries"].as_array().unwrap()[..], entries[1..]);
        for log in [&a, &b] {
            assert!(
                !log.to_string().contains("merger closes"),
                "bodies are never recorded"
            );
        }
        // Not in the database either (SQLite: its files, write-ahead log included).
        if let Some(path) = db.strip_prefix("sqlite://") {
            let mut all = String::new();
            for file in [path.to_string(), format!("{path}-wal")] {
                if let Ok(bytes) = std::fs::read(&file) {
                    let text = String::from_utf8_lossy(&bytes);
                    assert!(!text.contains("merger closes"), "{file} holds a body");
                    all.push_str(&text);
                }
            }
            // The rows are in the file or, not yet checkpointed, in its write-ahead log.
            assert!(
                all.contains("out@evil.example"),
                "{path} has no audit rows?"
            );
        }
    }
}

#[tokio::test]
async fn concurrent_sends_cannot_slip_past_the_daily_cap() {
    for db in database_urls() {
        let d = Deployment::start(&db).await;
        let (base, store, sandbox) = (&d.base, &d.store, &d.sandbox);
        // A second instance on the same database: the cap holds across them.
        let base2 = d.another_instance().await;
        let rules = CallerPolicy {
            max_sends_per_day: Some(2),
            ..Default::default()
        };
        let (carol, _) = caller(store, "carol", rules).await;
        connect(base, &carol, &mailbox(sandbox, "carol")).await;
        let attempts = (0..8).map(|i| {
            let base = if i % 2 == 0 { base } else { &base2 };
            send_mail(base, &carol, "team@example.com")
        });
        let statuses: Vec<u16> = futures::future::join_all(attempts)
            .await
            .into_iter()
            .map(|(status, _, _)| status)
            .collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            2,
            "{statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == 429).count(),
            6,
            "{statuses:?}"
        );
        let sent = sandbox.stats()["requests"]["users.messages.send"]
            .as_u64()
            .unwrap_or(0);
        assert_eq!(sent, 2);
    }
}
