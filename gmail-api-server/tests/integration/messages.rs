//! /api/v1/messages against the sandbox: each call's answer, and the mailbox changed as the
//! answer says.

use crate::common;

use common::{assert_bad_field, assert_detail_has, assert_problem, status_json, strings, TestApp};
use gmail_test_support::mailbox::decode_raw;
use serde_json::json;

#[tokio::test]
async fn search_pages_with_tokens_and_filters() {
    let app = TestApp::spawn().await;
    let first = app
        .get_ok("/api/v1/messages?maxResults=5&labelIds=INBOX")
        .await;
    let msgs = first["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 5);
    for m in msgs {
        assert!(
            strings(&m["labelIds"]).contains(&"INBOX".to_string()),
            "{m}"
        );
        for key in ["id", "threadId", "subject", "from", "date", "snippet"] {
            assert!(m[key].is_string(), "{key} in {m}");
        }
    }
    let token = first["nextPageToken"].as_str().expect("more pages");
    let (_, second) = app
        .get(&format!(
            "/api/v1/messages?maxResults=5&labelIds=INBOX&pageToken={token}"
        ))
        .await;
    let a: Vec<_> = msgs.iter().map(|m| m["id"].clone()).collect();
    for m in second["messages"].as_array().unwrap() {
        assert!(!a.contains(&m["id"]), "page 2 repeats {}", m["id"]);
    }
    let (_, found) = app
        .get("/api/v1/messages?q=has%3Aattachment&maxResults=3")
        .await;
    assert!(!found["messages"].as_array().unwrap().is_empty());

    let (s, p) = app.get("/api/v1/messages?maxResults=0").await;
    assert_bad_field(s, &p, "maxResults");
    let (s, p) = app
        .get("/api/v1/messages?labelIds=NoSuchLabelAnywhere")
        .await;
    assert_bad_field(s, &p, "labelIds");
}

#[tokio::test]
async fn get_as_text_full_and_raw() {
    let app = TestApp::spawn().await;
    let id = app.first_id("in:inbox").await;
    let text = app.get_ok(&format!("/api/v1/messages/{id}")).await;
    assert_eq!(text["id"], id.as_str());
    assert!(text["text"].is_string() && text["subject"].is_string());
    let (_, full) = app.get(&format!("/api/v1/messages/{id}?format=full")).await;
    assert_eq!(full["id"], id.as_str());
    assert!(full["payload"]["headers"].is_array(), "{full}");
    assert!(full.as_object().unwrap().values().all(|v| !v.is_null()));
    let r = app
        .get_response(&format!("/api/v1/messages/{id}?format=raw"))
        .await;
    assert_eq!(r.headers()["content-type"], "message/rfc822");
    let raw = r.text().await.unwrap();
    assert_eq!(
        raw.replace("\r\n", "\n"),
        app.raw(&id).await.replace("\r\n", "\n")
    );

    let (s, p) = app.get("/api/v1/messages/ffffffffffffffff").await;
    assert_problem(s, &p, 404);
    let (s, p) = app.get("/api/v1/messages/bad%20id").await;
    assert_problem(s, &p, 400);
    assert_bad_field(s, &p, "path");
    assert_eq!(
        p["detail"],
        "invalid argument `path`: \"bad id\" is not a Gmail message id (letters, digits, '_' and '-' only)"
    );
    let (s, p) = app.get(&format!("/api/v1/messages/{id}?format=pdf")).await;
    assert_problem(s, &p, 400);
}

#[tokio::test]
async fn send_json_lands_in_sent_and_idempotency_key_sends_once() {
    let app = TestApp::spawn().await;
    let body = json!({
        "to": ["Alice <alice@example.com>"],
        "subject": "REST send test",
        "body": "Hello from REST",
        "attachmentContents": [{"filename": "note.txt", "contentBase64": "aGVsbG8gd29ybGQ="}],
    });
    let r = send_with_key(&app, &body).await;
    assert_eq!(r.status(), 200);
    let sent: serde_json::Value = r.json().await.unwrap();
    let id = sent["id"].as_str().unwrap().to_string();
    assert!(app.labels_of(&id).await.contains(&"SENT".to_string()));
    let raw = app.raw(&id).await;
    assert!(
        raw.contains("Subject: REST send test") && raw.contains("note.txt"),
        "{raw}"
    );

    // Same key, same body: the first answer, nothing sent again.
    let before = app.ids("subject:\"REST send test\"", 10).await.len();
    let r = send_with_key(&app, &body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["idempotent-replayed"], "true");
    let again: serde_json::Value = r.json().await.unwrap();
    assert_eq!(again["id"], id.as_str());
    assert_eq!(
        app.ids("subject:\"REST send test\"", 10).await.len(),
        before
    );

    // Same key, another body: refused with a clear message.
    let other = json!({"to": ["bob@example.com"], "subject": "other", "body": "x"});
    let r = send_with_key(&app, &other).await;
    assert_eq!(r.status(), 409);
    let p: serde_json::Value = r.json().await.unwrap();
    assert_detail_has(&p, "different request");

    // Bad input names the field.
    let (s, p) = app
        .post(
            "/api/v1/messages/send",
            json!({"to": ["not an address"], "subject": "x", "body": "y"}),
        )
        .await;
    assert_bad_field(s, &p, "to");
    let (s, p) = app
        .post("/api/v1/messages/send", json!({"subject": "x"}))
        .await;
    assert_bad_field(s, &p, "to");
}

/// A keyed send Gmail did not answer in time may have gone out: its key stays claimed, so
/// the client's immediate retry hears "in progress" instead of sending the mail again.
#[tokio::test]
async fn a_send_gmail_did_not_answer_keeps_its_idempotency_key() {
    let app = TestApp::spawn_with(|s| {
        s.gmail.request_timeout_secs = 1;
        s.gmail.retry_max_wait_secs = 1;
    })
    .await;
    app.sandbox.set_faults(gmail_sandbox::FaultConfig {
        latency_ms: 4000,
        methods: vec!["users.messages.send".into()],
        ..Default::default()
    });
    let body = json!({"to": ["alice@example.com"], "subject": "slow send", "body": "x"});
    let r = send_with_key(&app, &body).await;
    assert_eq!(r.status(), 504);
    let p: serde_json::Value = r.json().await.unwrap();
    assert_detail_has(&p, "did not answer within");
    // It says how to find out whether the mail went out.
    assert_detail_has(&p, "rfc822msgid:once.");
    let r = send_with_key(&app, &body).await;
    assert_eq!(r.status(), 409, "the retry must not send again");
    let p: serde_json::Value = r.json().await.unwrap();
    assert_detail_has(&p, "still in progress");
}

/// POST /messages/send under one Idempotency-Key ("send-1").
async fn send_with_key(app: &TestApp, body: &serde_json::Value) -> reqwest::Response {
    let req = app.http.post(app.url("/api/v1/messages/send"));
    let req = req.header("Idempotency-Key", "send-1").json(body);
    req.send().await.unwrap()
}

#[tokio::test]
async fn send_multipart_with_file_attachments() {
    let app = TestApp::spawn().await;
    let (s, sent) = post_form(
        &app,
        "/api/v1/messages/send",
        &[
            ("to", "carol@example.com"),
            ("cc", "dave@example.com, erin@example.com"),
            ("subject", "Multipart REST"),
            ("body", "See attached."),
        ],
        &[("data.csv", "text/csv", "a,b\n1,2\n")],
    )
    .await;
    assert_eq!(s, 200, "{sent}");
    let id = sent["id"].as_str().unwrap();
    let raw = app.raw(id).await;
    assert!(
        raw.contains("data.csv") && raw.contains("text/csv"),
        "{raw}"
    );
    assert!(raw.contains("erin@example.com"), "{raw}");
    let (_, m) = app.get(&format!("/api/v1/messages/{id}")).await;
    assert_eq!(m["attachments"][0]["filename"], "data.csv");

    // An unknown form field is named.
    let (s, p) = post_form(&app, "/api/v1/messages/send", &[("bogus", "x")], &[]).await;
    assert_bad_field(s, &p, "bogus");
    // Parts are counted, not only their bytes: a flood of empty ones is refused.
    let empty: Vec<(&str, &str, &str)> = vec![("x", "text/plain", ""); 1001];
    let (s, p) = post_form(
        &app,
        "/api/v1/messages/send",
        &[("to", "a@example.com")],
        &empty,
    )
    .await;
    assert_eq!(s, 400, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("1000 parts"), "{p}");
}

/// A multipart/form-data body: text fields, then file parts named `attachments`
/// (filename, content type, content). Returns the Content-Type header and the body.
fn form(fields: &[(&str, &str)], files: &[(&str, &str, &str)]) -> (String, Vec<u8>) {
    let boundary = "XyZzy0123456789";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    for (filename, mime, content) in files {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"{filename}\"\r\nContent-Type: {mime}\r\n\r\n{content}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Sends the [`form`] of `fields` and `files` to `path`: status and JSON body.
async fn send_form(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &str, &str)],
) -> (u16, serde_json::Value) {
    let (content_type, body) = form(fields, files);
    let req = app.http.request(method, app.url(path));
    let (status, body) = status_json(req.header("content-type", content_type).body(body)).await;
    assert!(!body.is_null(), "the answer is JSON");
    (status, body)
}

async fn post_form(
    app: &TestApp,
    path: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &str, &str)],
) -> (u16, serde_json::Value) {
    send_form(app, reqwest::Method::POST, path, fields, files).await
}

#[tokio::test]
async fn reply_and_drafts_take_multipart_with_files() {
    let app = TestApp::spawn().await;
    let id = app.first_id("in:inbox -from:me").await;
    let (_, original) = app.get(&format!("/api/v1/messages/{id}")).await;
    let (s, sent) = post_form(
        &app,
        &format!("/api/v1/messages/{id}/reply"),
        &[
            ("body", "Figures attached."),
            ("cc", "grace@example.com"),
            ("quoteOriginal", "true"),
        ],
        &[("q3.csv", "text/csv", "q,total\n3,42\n")],
    )
    .await;
    assert_eq!(s, 200, "{sent}");
    assert_eq!(sent["threadId"], original["threadId"]);
    let raw = app.raw(sent["id"].as_str().unwrap()).await;
    assert!(
        raw.contains("In-Reply-To:") && raw.contains("grace@example.com"),
        "{raw}"
    );
    let (_, m) = app
        .get(&format!(
            "/api/v1/messages/{}",
            sent["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(m["attachments"][0]["filename"], "q3.csv");
    assert!(
        m["text"].as_str().unwrap().contains("Figures attached."),
        "{m}"
    );

    // A boolean field that is not one is named.
    let (s, p) = post_form(
        &app,
        &format!("/api/v1/messages/{id}/reply"),
        &[("body", "x"), ("replyAll", "maybe")],
        &[],
    )
    .await;
    assert_bad_field(s, &p, "replyAll");

    // Drafts: create with a file, then replace the content with another file.
    let draft_fields = |body| {
        [
            ("to", "heidi@example.com"),
            ("subject", "Draft with file"),
            ("body", body),
        ]
    };
    let (s, d) = post_form(
        &app,
        "/api/v1/drafts",
        &draft_fields("v1"),
        &[("v1.txt", "text/plain", "first")],
    )
    .await;
    assert_eq!(s, 201, "{d}");
    let draft = d["id"].as_str().unwrap().to_string();
    let (s, d) = send_form(
        &app,
        reqwest::Method::PUT,
        &format!("/api/v1/drafts/{draft}"),
        &draft_fields("v2"),
        &[("v2.txt", "text/plain", "second")],
    )
    .await;
    assert_eq!(s, 200, "{d}");
    let (_, gd) = app.gmail(&format!("drafts/{draft}?format=raw")).await;
    let raw = decode_raw(gd["message"]["raw"].as_str().unwrap());
    assert!(raw.contains("v2.txt") && !raw.contains("v1.txt"), "{raw}");
}

#[tokio::test]
async fn reply_and_forward() {
    let app = TestApp::spawn().await;
    let id = app.first_id("in:inbox -from:me").await;
    let (_, original) = app.get(&format!("/api/v1/messages/{id}")).await;
    let sent = app
        .post_expect(
            &format!("/api/v1/messages/{id}/reply"),
            json!({"body": "Thanks!"}),
            200,
        )
        .await;
    assert_eq!(sent["threadId"], original["threadId"]);
    let raw = app.raw(sent["id"].as_str().unwrap()).await;
    assert!(raw.contains("In-Reply-To:"), "{raw}");

    let fwd = app
        .post_expect(
            &format!("/api/v1/messages/{id}/forward"),
            json!({"to": ["frank@example.com"], "body": "FYI"}),
            200,
        )
        .await;
    let raw = app.raw(fwd["id"].as_str().unwrap()).await;
    assert!(
        raw.contains("frank@example.com") && raw.contains("FYI"),
        "{raw}"
    );

    let (s, p) = app
        .post(&format!("/api/v1/messages/{id}/forward"), json!({"to": []}))
        .await;
    assert_problem(s, &p, 400);
    let (s, p) = app
        .post(
            "/api/v1/messages/ffffffffffffffff/reply",
            json!({"body": "x"}),
        )
        .await;
    assert_problem(s, &p, 404);
}

#[tokio::test]
async fn modify_trash_untrash_delete() {
    let app = TestApp::spawn().await;
    let ids = app.ids("in:inbox", 3).await;
    let id = &ids[0];
    let after = app
        .post_expect(
            &format!("/api/v1/messages/{id}/modify"),
            json!({"addLabelIds": ["STARRED"], "removeLabelIds": ["INBOX"]}),
            200,
        )
        .await;
    let labels = app.labels_of(id).await;
    assert!(labels.contains(&"STARRED".into()) && !labels.contains(&"INBOX".into()));
    assert_eq!(strings(&after["labelIds"]), labels);

    app.post_expect(&format!("/api/v1/messages/{id}/trash"), json!(null), 200)
        .await;
    assert!(app.labels_of(id).await.contains(&"TRASH".into()));
    app.post_expect(&format!("/api/v1/messages/{id}/untrash"), json!(null), 200)
        .await;
    assert!(!app.labels_of(id).await.contains(&"TRASH".into()));

    assert_eq!(app.delete(&format!("/api/v1/messages/{id}")).await, 204);
    assert!(!app.exists(id).await);
    let (s, p) = app
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/messages/{id}"),
            None,
        )
        .await;
    assert_problem(s, &p, 404);

    let (s, p) = app
        .post(&format!("/api/v1/messages/{}/modify", ids[1]), json!({}))
        .await;
    assert_bad_field(s, &p, "addLabelIds");
}

#[tokio::test]
async fn batch_modify_and_batch_delete() {
    let app = TestApp::spawn().await;
    let ids = app.ids("in:inbox", 4).await;
    let out = app
        .post_expect(
            "/api/v1/messages/batchModify",
            json!({"ids": ids, "addLabelIds": ["IMPORTANT"], "removeLabelIds": ["UNREAD"]}),
            200,
        )
        .await;
    assert_eq!(out["succeeded"].as_array().unwrap().len(), 4);
    for id in &ids {
        let labels = app.labels_of(id).await;
        assert!(labels.contains(&"IMPORTANT".into()) && !labels.contains(&"UNREAD".into()));
    }
    app.post_expect(
        "/api/v1/messages/batchDelete",
        json!({"ids": &ids[..2]}),
        200,
    )
    .await;
    assert!(!app.exists(&ids[0]).await && !app.exists(&ids[1]).await);
    assert!(app.exists(&ids[2]).await);
    let (s, p) = app
        .post("/api/v1/messages/batchDelete", json!({"ids": []}))
        .await;
    assert_problem(s, &p, 400);
    // Every id is checked before any is deleted.
    let (s, p) = app
        .post(
            "/api/v1/messages/batchDelete",
            json!({"ids": [ids[2], "../x"]}),
        )
        .await;
    assert_bad_field(s, &p, "ids[1]");
    assert_detail_has(&p, "not a Gmail message id");
    assert!(app.exists(&ids[2]).await);
}

#[tokio::test]
async fn concurrent_repeats_with_one_key_send_once() {
    let app = TestApp::spawn().await;
    let id = app.first_id("in:inbox -from:me").await;
    let subject = "Re: concurrency check";
    let post = || {
        app.http
            .post(app.url(&format!("/api/v1/messages/{id}/forward")))
            .header("Idempotency-Key", "fwd-once")
            .json(&json!({"to": ["ivan@example.com"], "body": subject}))
            .send()
    };
    let (a, b, c) = tokio::join!(post(), post(), post());
    let statuses: Vec<u16> = [a, b, c]
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    // The first runs; the others replay it or are told it is still in progress.
    assert!(statuses.contains(&200), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?}"
    );
    let r = post().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["idempotent-replayed"], "true");
    assert_eq!(app.ids("to:ivan@example.com", 10).await.len(), 1);
}
