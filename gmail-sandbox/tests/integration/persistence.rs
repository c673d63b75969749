//! A file database keeps mail, labels and tokens across restarts.

use crate::common;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_database_persists_across_restarts() {
    let dir = std::env::temp_dir().join(format!("gmail-sandbox-test-{}", uuid::Uuid::new_v4()));
    let path = dir.join("sb.db");
    let cfg = || gmail_sandbox::SandboxConfig {
        database: gmail_sandbox::DatabaseLocation::File(path.clone()),
        ..gmail_sandbox::SandboxConfig::for_tests()
    };
    let sb = gmail_sandbox::Sandbox::start(cfg()).await.unwrap();
    let t = sb.issue_access_token(DEMO, &[FULL]);
    let id = insert_raw(
        &sb,
        &t,
        &simple_message("a@b.c", DEMO, "persist", "p"),
        &["INBOX", "STARRED"],
    )
    .await;
    let auth = bearer(&t);
    let r = http(
        &sb,
        "POST",
        "gmail/v1/users/me/labels",
        &[("authorization", &auth), JSON_CT],
        br#"{"name":"Persisted label"}"#.to_vec(),
    )
    .await;
    assert_eq!(r.status, 200);
    sb.stop().await;

    let sb = gmail_sandbox::Sandbox::start(cfg()).await.unwrap();
    // The access token survived too.
    let r = http(
        &sb,
        "GET",
        &format!("gmail/v1/users/me/messages/{id}?format=minimal"),
        &[("authorization", &auth)],
        vec![],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["labelIds"], json!(["INBOX", "STARRED"]));
    let r = http(
        &sb,
        "GET",
        "gmail/v1/users/me/labels",
        &[("authorization", &auth)],
        vec![],
    )
    .await;
    assert!(r.text().contains("Persisted label"));
    sb.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}
