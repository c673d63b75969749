//! Threads, labels, drafts, attachments, filters, profile, changes and settings against the
//! sandbox, each checked against the mailbox.

use crate::common;

use common::{assert_bad_field, assert_problem, strings, TestApp};
use gmail_test_support::mailbox::ids_of;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn threads_list_get_modify_trash() {
    let app = TestApp::spawn().await;
    let page = app.get_ok("/api/v1/threads?maxResults=3").await;
    let threads = page["threads"].as_array().unwrap();
    assert_eq!(threads.len(), 3);
    assert!(page["nextPageToken"].is_string());
    let id = threads[0]["id"].as_str().unwrap();
    let t = app.get_ok(&format!("/api/v1/threads/{id}")).await;
    assert_eq!(t["id"], id);
    assert!(!t["messages"].as_array().unwrap().is_empty());

    let after = app
        .post_expect(
            &format!("/api/v1/threads/{id}/modify"),
            json!({"addLabelIds": ["STARRED"]}),
            200,
        )
        .await;
    for m in after["messages"].as_array().unwrap() {
        let mid = m["id"].as_str().unwrap();
        assert!(app.labels_of(mid).await.contains(&"STARRED".into()));
    }
    let trashed = app
        .post_expect(&format!("/api/v1/threads/{id}/trash"), json!(null), 200)
        .await;
    let mid = trashed["messages"][0]["id"].as_str().unwrap().to_string();
    assert!(app.labels_of(&mid).await.contains(&"TRASH".into()));
    app.post_expect(&format!("/api/v1/threads/{id}/untrash"), json!(null), 200)
        .await;
    assert!(!app.labels_of(&mid).await.contains(&"TRASH".into()));
    let (s, p) = app.get("/api/v1/threads/ffffffffffffffff").await;
    assert_problem(s, &p, 404);
}

#[tokio::test]
async fn labels_crud_and_get_or_create() {
    let app = TestApp::spawn().await;
    let list = app.get_ok("/api/v1/labels").await;
    assert!(ids_of(&list["labels"]).contains(&"INBOX".into()), "{list}");
    let inbox = app.get_ok("/api/v1/labels/INBOX").await;
    assert_eq!(inbox["type"], "system");

    let created = app
        .post_expect("/api/v1/labels", json!({"name": "REST/Alpha"}), 201)
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    let (_, gmail) = app.gmail(&format!("labels/{id}")).await;
    assert_eq!(gmail["name"], "REST/Alpha");
    let (s, p) = app
        .post("/api/v1/labels", json!({"name": "REST/Alpha"}))
        .await;
    assert_problem(s, &p, 409);

    let found = app
        .post_expect(
            "/api/v1/labels/getOrCreate",
            json!({"name": "rest/alpha"}),
            200,
        )
        .await;
    assert_eq!(found["id"], id.as_str());
    app.post_expect(
        "/api/v1/labels/getOrCreate",
        json!({"name": "REST/Beta"}),
        201,
    )
    .await;

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
    // A misspelt field is refused, not ignored with a 200 that changed nothing.
    let (s, p) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/labels/{id}"),
            Some(json!({"messageListVisiblity": "hide"})),
        )
        .await;
    assert_problem(s, &p, 400);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("messageListVisiblity"),
        "{p}"
    );

    assert_eq!(app.delete(&format!("/api/v1/labels/{id}")).await, 204);
    assert_eq!(app.gmail(&format!("labels/{id}")).await.0, 404);
    let (s, p) = app.send(Method::DELETE, "/api/v1/labels/INBOX", None).await;
    assert_problem(s, &p, 400);
    let (s, p) = app.post("/api/v1/labels", json!({"name": ""})).await;
    assert_bad_field(s, &p, "name");
}

#[tokio::test]
async fn drafts_lifecycle() {
    let app = TestApp::spawn().await;
    let created = app
        .post_expect(
            "/api/v1/drafts",
            json!({"to": ["gina@example.com"], "subject": "Draft via REST", "body": "v1"}),
            201,
        )
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    let (_, d) = app.gmail(&format!("drafts/{id}")).await;
    assert_eq!(d["id"], id.as_str());

    let page = app.get_ok("/api/v1/drafts?maxResults=50").await;
    assert!(ids_of(&page["drafts"]).contains(&id), "{page}");
    let view = app.get_ok(&format!("/api/v1/drafts/{id}")).await;
    assert_eq!(view["message"]["subject"], "Draft via REST");

    let (s, updated) = app
        .send(
            Method::PUT,
            &format!("/api/v1/drafts/{id}"),
            Some(
                json!({"to": ["gina@example.com"], "subject": "Draft v2", "body": "v2",
                "inReplyTo": "<ask-7@example.com>"}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{updated}");
    let (_, view) = app.get(&format!("/api/v1/drafts/{id}")).await;
    assert_eq!(view["message"]["subject"], "Draft v2");
    // A "dry run" of saving would save: it is refused, and the draft stays as it was.
    let (s, refused) = app
        .send(
            Method::PUT,
            &format!("/api/v1/drafts/{id}"),
            Some(json!({"to": ["gina@example.com"], "subject": "Scratch", "body": "x", "dryRun": true})),
        )
        .await;
    assert_bad_field(s, &refused, "dryRun");
    let (_, view) = app.get(&format!("/api/v1/drafts/{id}")).await;
    assert_eq!(view["message"]["subject"], "Draft v2");
    // The update keeps what it answers (it was dropped once).
    let (_, m) = app
        .gmail(&format!(
            "messages/{}?format=metadata",
            updated["messageId"].as_str().unwrap()
        ))
        .await;
    let in_reply_to: Vec<&Value> = m["payload"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["name"] == "In-Reply-To")
        .map(|h| &h["value"])
        .collect();
    assert_eq!(in_reply_to, [&json!("<ask-7@example.com>")], "{m}");

    let sent = app
        .post_expect(&format!("/api/v1/drafts/{id}/send"), json!(null), 200)
        .await;
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

/// A sender's HTML (or SVG) never opens inline on the API's origin, whatever `inline` asks:
/// it could script the API. Safe types do; every download says nosniff and is sandboxed.
#[tokio::test]
async fn a_senders_html_attachment_is_never_shown_inline() {
    let app = TestApp::spawn().await;
    let raw = "From: Mallory <m@outside.example>\r\nTo: demo@example.com\r\nSubject: Invoice\r\n\
        MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
        Content-Type: text/plain\r\n\r\nSee attached.\r\n--b\r\nContent-Type: text/html\r\n\
        Content-Disposition: attachment; filename=\"invoice.html\"\r\n\r\n<script>fetch('/api/v1/messages')</script>\r\n\
        --b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"notes.txt\"\r\n\r\nplain notes\r\n--b--\r\n";
    let id = gmail_test_support::deliver_raw(&app.sandbox.base_url(), raw.as_bytes()).await;
    let (_, m) = app.get(&format!("/api/v1/messages/{id}")).await;
    for (name, disposition) in [("invoice.html", "attachment"), ("notes.txt", "inline")] {
        let a = m["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["filename"] == name)
            .unwrap_or_else(|| panic!("{name} in {m}"))
            .clone();
        let url = format!(
            "/api/v1/messages/{id}/attachments/{}?inline=true",
            a["attachmentId"].as_str().unwrap()
        );
        let r = app.get_response(&url).await;
        assert_eq!(r.status(), 200);
        let h = |n: &str| r.headers()[n].to_str().unwrap().to_string();
        assert!(
            h("content-disposition").starts_with(disposition),
            "{name}: {}",
            h("content-disposition")
        );
        assert_eq!(h("x-content-type-options"), "nosniff");
        assert!(h("content-security-policy").contains("sandbox"));
    }
}

#[tokio::test]
async fn attachment_downloads_with_type_and_name() {
    let app = TestApp::spawn().await;
    let (id, attachment, filename) = app.with_attachment().await;
    let r = app
        .get_response(&format!("/api/v1/messages/{id}/attachments/{attachment}"))
        .await;
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
    let f = app
        .post_expect(
            "/api/v1/filters",
            json!({"criteria": {"from": "news@example.com"}, "action": {"addLabelIds": ["STARRED"]}}),
            201,
        )
        .await;
    let id = f["id"].as_str().unwrap().to_string();
    let (_, list) = app.get("/api/v1/filters").await;
    assert!(ids_of(&list["filters"]).contains(&id), "{list}");
    let got = app.get_ok(&format!("/api/v1/filters/{id}")).await;
    assert_eq!(got["criteria"]["from"], "news@example.com");
    let (_, gmail) = app.gmail(&format!("settings/filters/{id}")).await;
    assert_eq!(gmail["criteria"]["from"], "news@example.com");

    let t = app
        .post_expect(
            "/api/v1/filters/fromTemplate",
            json!({"template": "fromSender", "parameters": {"senderEmail": "a@example.com", "archive": true}}),
            201,
        )
        .await;
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
    let profile = app.get_ok("/api/v1/profile").await;
    assert_eq!(profile["emailAddress"], "demo@example.com");
    let start = profile["historyId"].as_str().unwrap().to_string();

    let id = app.first_id("in:inbox").await;
    app.post(
        &format!("/api/v1/messages/{id}/modify"),
        json!({"addLabelIds": ["STARRED"]}),
    )
    .await;
    let changes = app
        .get_ok(&format!(
            "/api/v1/changes?startHistoryId={start}&kinds=labelAdded"
        ))
        .await;
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
    assert_bad_field(s, &p, "startHistoryId");
    let (s, p) = app
        .get(&format!(
            "/api/v1/changes?startHistoryId={start}&kinds=bogus"
        ))
        .await;
    assert_bad_field(s, &p, "kinds");

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
    let v = app.get_ok("/api/v1/settings/vacation").await;
    assert_eq!(v["responseBodyPlainText"], "Back Monday");

    let ids = app.get_ok("/api/v1/settings/sendAs").await;
    assert!(ids["identities"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["sendAsEmail"] == "demo@example.com"));
}
