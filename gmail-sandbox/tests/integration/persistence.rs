//! A file database keeps mail, labels and tokens across restarts.

use crate::common;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_database_persists_across_restarts() {
    let dir = temp_dir();
    let cfg = || file_config(dir.join("sb.db"));
    let sb = start_with(cfg()).await;
    let t = sb.issue_access_token(DEMO, &[FULL]);
    let before = Api::new(&sb, &t);
    let raw = simple_message("a@b.c", DEMO, "persist", "p");
    let id = before.insert(&raw, &["INBOX", "STARRED"]).await;
    let label = r#"{"name":"Persisted label"}"#;
    let r = before.post_json("gmail/v1/users/me/labels", label).await;
    assert_eq!(r.status, 200);
    sb.stop().await;

    let sb = start_with(cfg()).await;
    // The access token survived too.
    let api = Api::new(&sb, &t);
    let r = api
        .get(&format!("gmail/v1/users/me/messages/{id}?format=minimal"))
        .await;
    assert_eq!(r.ok_json()["labelIds"], json!(["INBOX", "STARRED"]));
    let r = api.get("gmail/v1/users/me/labels").await;
    assert!(r.text().contains("Persisted label"));
    sb.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}
