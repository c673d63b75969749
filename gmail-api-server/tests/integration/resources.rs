//! Threads, labels, drafts, attachments, filters, profile, changes and settings against the
//! sandbox, each checked against the mailbox.

use crate::common;

use common::{assert_problem, strings, TestApp};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn threads_list_get_modify_trash() {
    let app = TestApp::spawn().await;
    let (s, page) = app.get("/api/v1/threads?maxResults=3").await;
    assert_eq!(s, 200, "{page}");
    let threads = page["threads"].as_array().unwrap();
    assert_eq!(threads.len(), 3);
    assert!(page["nextPageToken"].is_string());
    let id = threads[0]["id"].as_str().unwrap();
    let (s, t) = app.get(&format!("/api/v1/threads/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(t["id"], id);
    assert!(!t["messages"].as_array().unwrap().is_empty());

    let (s, after) = app
        .post(
            &format!("/api/v1/threads/{id}/modify"),
            json!({"addLabelIds": ["STARRED"]}),
        )
        .await;
    assert_eq!(s, 200, "{after}");
    for m in after["messages"].as_array().unwrap() {
        let mid = m["id"].as_str().unwrap();
        assert!(app.labels_of(mid).await.contains(&"STARRED".into()));
    }
    let (s, trashed) = app
        .post(&format!("/api/v1/threads/{id}/trash"), json!(null))
        .await;
    assert_eq!(s, 200);
    let mid = trashed["messages"][0]["id"].as_str().unwrap().to_string();
    assert!(app.labels_of(&mid).await.contains(&"TRASH".into()));
    let (s, _) = app
        .post(&format!("/api/v1/threads/{id}/untrash"), json!(null))
        .await;
    assert_eq!(s, 200);
    assert!(!app.labels_of(&mid).await.contains(&"TRASH".into()));
    let (s, p) = app.get("/api/v1/threads/ffffffffffffffff").await;
    assert_problem(s, &p, 404);
}

#[tokio::test]
async fn labels_crud_and_get_or_create() {
    let app = TestApp::spawn().await;
    let (s, list) = app.get("/api/v1/labels").await;
    assert_eq!(s, 200);
    assert!(list["labels"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["id"] == "INBOX"));
    let (s, inbox) = app.get("/api/v1/labels/INBOX").await;
    assert_eq!(s, 200);
    assert_eq!(inbox["type"], "system");

    let (s, created) = app
        .post("/api/v1/labels", json!({"name": "REST/Alpha"}))
        .await;
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let (_, gmail) = app.gmail(&format!("labels/{id}")).await;
    assert_eq!(gmail["name"], "REST/Alpha");
    let (s, p) = app
        .post("/api/v1/labels", json!({"name": "REST/Alpha"}))
        .await;
    assert_problem(s, &p, 409);

    let (s, found) = app
        .post("/api/v1/labels/getOrCreate", json!({"name": "rest/alpha"}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(found["id"], id.as_str());
    let (s, made) = app
        .post("/api/v1/labels/getOrCreate", json!({"name": "REST/Beta"}))
        .await;
    assert_eq!(s, 201, "{made}");

    let (s, renamed) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/labels/{id}"),
            Some(json!({"name": "REST/Gamma"})),
        )
        .await;
    assert_eq!(s, 200, "{renamed}");
    assert_eq!(
        app.gmail(&format!("labels/{id}")).await.1["name"],
        "REST/Gamma"
    );

    assert_eq!(app.delete(&format!("/api/v1/labels/{id}")).await, 204);
    assert_eq!(app.gmail(&format!("labels/{id}")).await.0, 404);
    let (s, p) = app.send(Method::DELETE, "/api/v1/labels/INBOX", None).await;
    assert_problem(s, &p, 400);
    let (s, p) = app.post("/api/v1/labels", json!({"name": ""})).await;
    assert_problem(s, &p, 400);
    assert_eq!(p["field"], "name");
}

#[tokio::test]
async fn drafts_lifecycle() {
    let app = TestApp::spawn().await;
    let (s, created) = app
        .post(
            "/api/v1/drafts",
            json!({"to": ["gina@example.com"], "subject": "Draft via REST", "body": "v1"}),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let (_, d) = app.gmail(&format!("drafts/{id}")).await;
    assert_eq!(d["id"], id.as_str());

    let (s, page) = app.get("/api/v1/drafts?maxResults=50").await;
    assert_eq!(s, 200);
    assert!(page["drafts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["id"] == id.as_str()));
    let (s, view) = app.get(&format!("/api/v1/drafts/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(view["message"]["subject"], "Draft via REST");

    let (s, updated) = app
        .send(
            Method::PUT,
            &format!("/api/v1/drafts/{id}"),
            Some(json!({"to": ["gina@example.com"], "subject": "Draft v2", "body": "v2"})),
        )
        .await;
    assert_eq!(s, 200, "{updated}");
    let (_, view) = app.get(&format!("/api/v1/drafts/{id}")).await;
    assert_eq!(view["message"]["subject"], "Draft v2");

    let (s, sent) = app
        .post(&format!("/api/v1/drafts/{id}/send"), json!(null))
        .await;
    assert_eq!(s, 200, "{sent}");
    assert!(app
        .labels_of(sent["id"].as_str().unwrap())
        .await
        .contains(&"SENT".into()));
    assert_eq!(app.gmail(&format!("drafts/{id}")).await.0, 404);

    let (_, other) = app
        .post(
            "/api/v1/drafts",
            json!({"to": ["h@example.com"], "subject": "to delete", "body": ""}),
        )
        .await;
    let other = other["id"].as_str().unwrap();
    assert_eq!(app.delete(&format!("/api/v1/drafts/{other}")).await, 204);
    assert_eq!(app.gmail(&format!("drafts/{other}")).await.0, 404);
    let (s, p) = app.get(&format!("/api/v1/drafts/{other}")).await;
    assert_problem(s, &p, 404);
}

#[tokio::test]
async fn attachment_downloads_with_type_and_name() {
    let app = TestApp::spawn().await;
    let (id, attachment, filename) = app.with_attachment().await;
    let r = app
        .http
        .get(app.url(&format!("/api/v1/messages/{id}/attachments/{attachment}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment") && disposition.contains(&filename),
        "{disposition}"
    );
    let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
    let (_, m) = app.get(&format!("/api/v1/messages/{id}")).await;
    let info = m["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["attachmentId"] == attachment.as_str())
        .unwrap()
        .clone();
    assert_eq!(content_type, info["mimeType"].as_str().unwrap());
    let bytes = r.bytes().await.unwrap();
    assert_eq!(bytes.len() as u64, info["size"].as_u64().unwrap());

    // Gmail (and the sandbox) call an unknown attachment token a bad request.
    let (s, p) = app
        .get(&format!(
            "/api/v1/messages/{id}/attachments/nonexistentattachment"
        ))
        .await;
    assert_problem(s, &p, 400);
    let (s, p) = app
        .get(&format!(
            "/api/v1/messages/ffffffffffffffff/attachments/{attachment}"
        ))
        .await;
    assert_problem(s, &p, 404);
}

#[tokio::test]
async fn filters_crud_and_templates() {
    let app = TestApp::spawn().await;
    let (s, f) = app
        .post(
            "/api/v1/filters",
            json!({"criteria": {"from": "news@example.com"}, "action": {"addLabelIds": ["STARRED"]}}),
        )
        .await;
    assert_eq!(s, 201, "{f}");
    let id = f["id"].as_str().unwrap().to_string();
    let (_, list) = app.get("/api/v1/filters").await;
    assert!(list["filters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == id.as_str()));
    let (s, got) = app.get(&format!("/api/v1/filters/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(got["criteria"]["from"], "news@example.com");
    let (_, gmail) = app.gmail(&format!("settings/filters/{id}")).await;
    assert_eq!(gmail["criteria"]["from"], "news@example.com");

    let (s, t) = app
        .post(
            "/api/v1/filters/fromTemplate",
            json!({"template": "fromSender", "parameters": {"senderEmail": "a@example.com", "archive": true}}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    assert!(strings(&t["action"]["removeLabelIds"]).contains(&"INBOX".into()));

    assert_eq!(app.delete(&format!("/api/v1/filters/{id}")).await, 204);
    assert_eq!(app.gmail(&format!("settings/filters/{id}")).await.0, 404);
    let (s, p) = app
        .post(
            "/api/v1/filters/fromTemplate",
            json!({"template": "fromSender", "parameters": {}}),
        )
        .await;
    assert_problem(s, &p, 400);
}

#[tokio::test]
async fn profile_changes_and_settings() {
    let app = TestApp::spawn().await;
    let (s, profile) = app.get("/api/v1/profile").await;
    assert_eq!(s, 200);
    assert_eq!(profile["emailAddress"], "demo@example.com");
    let start = profile["historyId"].as_str().unwrap().to_string();

    let id = app.first_id("in:inbox").await;
    app.post(
        &format!("/api/v1/messages/{id}/modify"),
        json!({"addLabelIds": ["STARRED"]}),
    )
    .await;
    let (s, changes) = app
        .get(&format!(
            "/api/v1/changes?startHistoryId={start}&kinds=labelAdded"
        ))
        .await;
    assert_eq!(s, 200, "{changes}");
    assert!(changes["changes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["messageId"] == id.as_str() && c["kind"] == "labelAdded"));
    assert!(
        changes["historyId"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > start.parse().unwrap()
    );
    let (s, p) = app.get("/api/v1/changes?startHistoryId=abc").await;
    assert_problem(s, &p, 400);
    assert_eq!(p["field"], "startHistoryId");
    let (s, p) = app
        .get(&format!(
            "/api/v1/changes?startHistoryId={start}&kinds=bogus"
        ))
        .await;
    assert_problem(s, &p, 400);
    assert_eq!(p["field"], "kinds");

    let (s, v) = app
        .send(
            Method::PUT,
            "/api/v1/settings/vacation",
            Some(json!({"enableAutoReply": true, "responseSubject": "Away", "responseBodyPlainText": "Back Monday"})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, gmail) = app.gmail("settings/vacation").await;
    assert_eq!(gmail["enableAutoReply"], true);
    assert_eq!(gmail["responseSubject"], "Away");
    let (s, v) = app.get("/api/v1/settings/vacation").await;
    assert_eq!(s, 200);
    assert_eq!(v["responseBodyPlainText"], "Back Monday");

    let (s, ids) = app.get("/api/v1/settings/sendAs").await;
    assert_eq!(s, 200);
    assert!(ids["identities"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["sendAsEmail"] == "demo@example.com"));
}
