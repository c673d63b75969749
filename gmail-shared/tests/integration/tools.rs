//! Every organizing tool through the registry, against the real sandbox, checking the
//! mailbox changed as the tool said (read back through the sandbox's own API).

use crate::common;

use common::{call, call_err, structured, Harness};
use serde_json::json;

#[tokio::test]
async fn search_pages_and_costs_two_upstream_requests() {
    let h = Harness::start().await;
    let first = call(
        &h,
        "search_emails",
        json!({"query": "in:inbox", "maxResults": 5, "responseFormat": "detailed"}),
    )
    .await;
    let s = first.structured.clone().unwrap();
    assert_eq!(s["messages"].as_array().unwrap().len(), 5);
    assert!(s["messages"][0]["subject"].is_string());
    let token = s["nextPageToken"]
        .as_str()
        .expect("a next page")
        .to_string();
    let second = call(
        &h,
        "search_emails",
        json!({"query": "in:inbox", "maxResults": 5, "pageToken": token}),
    )
    .await
    .structured
    .unwrap();
    assert_ne!(second["messages"][0]["id"], s["messages"][0]["id"]);
    assert!(first.text.contains("ID: ") && first.text.contains("Subject: "));

    h.reset_stats().await;
    call(&h, "search_emails", json!({"query": "", "maxResults": 50})).await;
    let gmail_calls = h.gmail_requests().await;
    assert_eq!(
        gmail_calls, 2,
        "a search of 50: one messages.list and one batch request"
    );
}

#[tokio::test]
async fn modify_trash_untrash_and_mark_read() {
    let h = Harness::start().await;
    let id = h.first_id("is:unread in:inbox").await;
    call(&h, "mark_as_read", json!({"messageIds": [id]})).await;
    assert!(!h.labels_of(&id).await.contains(&"UNREAD".to_string()));
    call(&h, "mark_as_unread", json!({"messageIds": [id]})).await;
    assert!(h.labels_of(&id).await.contains(&"UNREAD".to_string()));

    let out = call(
        &h,
        "modify_email",
        json!({"messageId": id, "addLabelIds": ["STARRED"], "removeLabelIds": ["INBOX"]}),
    )
    .await;
    assert!(out.text.contains("updated successfully"));
    let labels = h.labels_of(&id).await;
    assert!(labels.contains(&"STARRED".to_string()) && !labels.contains(&"INBOX".to_string()));

    call(&h, "trash_email", json!({"messageId": id})).await;
    assert!(h.labels_of(&id).await.contains(&"TRASH".to_string()));
    call(&h, "untrash_email", json!({"messageId": id})).await;
    assert!(!h.labels_of(&id).await.contains(&"TRASH".to_string()));
}

#[tokio::test]
async fn labels_by_name_and_label_lifecycle() {
    let h = Harness::start().await;
    let created = call(&h, "create_label", json!({"name": "Agent/Follow-up"})).await;
    let label_id = created.structured.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // get_or_create finds it case-insensitively instead of creating a second one.
    let found = call(
        &h,
        "get_or_create_label",
        json!({"name": "agent/follow-up"}),
    )
    .await;
    assert!(found.text.contains("found existing"));
    assert_eq!(found.structured.unwrap()["id"], label_id.as_str());
    // A duplicate create is a conflict, reported as a tool error.
    let err = call_err(&h, "create_label", json!({"name": "Agent/Follow-up"})).await;
    assert!(err.contains("conflict"), "{err}");

    // Modify by label name.
    let id = h.first_id("in:inbox").await;
    call(
        &h,
        "modify_email",
        json!({"messageId": id, "addLabelIds": ["Agent/Follow-up"]}),
    )
    .await;
    assert!(h.labels_of(&id).await.contains(&label_id));

    let renamed = call(
        &h,
        "update_label",
        json!({"id": label_id, "name": "Agent/Done"}),
    )
    .await;
    assert_eq!(renamed.structured.unwrap()["name"], "Agent/Done");
    let list = call(&h, "list_email_labels", json!({})).await;
    assert!(list.text.contains("Agent/Done") && list.text.contains("System Labels:"));
    call(&h, "delete_label", json!({"id": label_id})).await;
    assert!(!h.labels_of(&id).await.contains(&label_id));
    let err = call_err(&h, "delete_label", json!({"id": "INBOX"})).await;
    assert!(err.contains("system label"), "{err}");
}

#[tokio::test]
async fn batch_modify_uses_one_upstream_call_and_reports_per_id() {
    let h = Harness::start().await;
    let ids = h.ids("in:inbox", 30).await;
    h.reset_stats().await;
    let out = call(
        &h,
        "batch_modify_emails",
        json!({"messageIds": ids, "addLabelIds": ["IMPORTANT"], "batchSize": 10}),
    )
    .await;
    let s = out.structured.unwrap();
    assert_eq!(s["succeeded"].as_array().unwrap().len(), 30);
    assert_eq!(s["upstreamCalls"], 1);
    assert_eq!(h.stat("users.messages.batchModify").await, 1);
    for id in &ids {
        assert!(h.labels_of(id).await.contains(&"IMPORTANT".to_string()));
    }
}

#[tokio::test]
async fn permanent_deletes_and_scope_errors() {
    let h = Harness::start().await;
    let ids = h.ids("in:inbox", 3).await;
    call(&h, "delete_email", json!({"messageId": ids[0]})).await;
    assert!(h.is_gone(&ids[0]).await);
    let out = call(
        &h,
        "batch_delete_emails",
        json!({"messageIds": [ids[1], ids[2]]}),
    )
    .await;
    assert_eq!(
        out.structured.unwrap()["succeeded"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(h.is_gone(&ids[1]).await && h.is_gone(&ids[2]).await);

    // Without the full-mail scope, the error names it.
    let limited = Harness::with_scopes(&h, &["https://www.googleapis.com/auth/gmail.modify"]).await;
    let id = limited.first_id("in:inbox").await;
    let err = call_err(&limited, "delete_email", json!({"messageId": id})).await;
    assert!(err.contains("https://mail.google.com/"), "{err}");
}

#[tokio::test]
async fn threads_list_modify_trash() {
    let h = Harness::start().await;
    let page = structured(&h, "list_threads", json!({"maxResults": 5})).await;
    let threads = page["threads"].as_array().unwrap();
    assert_eq!(threads.len(), 5);
    let multi = threads
        .iter()
        .find(|t| t["messageCount"].as_u64().unwrap() >= 1)
        .unwrap();
    let tid = multi["id"].as_str().unwrap();
    call(
        &h,
        "modify_thread",
        json!({"threadId": tid, "addLabelIds": ["STARRED"]}),
    )
    .await;
    call(&h, "trash_thread", json!({"threadId": tid})).await;
    let t = h.thread_labels(tid).await;
    assert!(t
        .iter()
        .all(|ls| ls.contains(&"TRASH".to_string()) && ls.contains(&"STARRED".to_string())));
    call(&h, "untrash_thread", json!({"threadId": tid})).await;
    assert!(h
        .thread_labels(tid)
        .await
        .iter()
        .all(|ls| !ls.contains(&"TRASH".to_string())));
}

#[tokio::test]
async fn filters_lifecycle_and_templates() {
    let h = Harness::start().await;
    let f = call(&h, "create_filter", json!({"criteria": {"from": "news@example.org"}, "action": {"addLabelIds": ["STARRED"], "removeLabelIds": ["INBOX"]}})).await;
    let fid = f.structured.unwrap()["id"].as_str().unwrap().to_string();
    let got = structured(&h, "get_filter", json!({"filterId": fid})).await;
    assert_eq!(got["criteria"]["from"], "news@example.org");
    let t = call(&h, "create_filter_from_template", json!({"template": "mailingList", "parameters": {"listIdentifier": "dev.lists.example.org", "archive": true}})).await;
    let tid = t.structured.unwrap()["id"].as_str().unwrap().to_string();
    let list = structured(&h, "list_filters", json!({})).await;
    assert!(list["filters"].as_array().unwrap().len() >= 2);
    call(&h, "delete_filter", json!({"filterId": fid})).await;
    call(&h, "delete_filter", json!({"filterId": tid})).await;
    let err = call_err(&h, "get_filter", json!({"filterId": fid})).await;
    assert!(err.contains("not found"), "{err}");
    let err = call_err(
        &h,
        "create_filter",
        json!({"criteria": {}, "action": {"addLabelIds": ["STARRED"]}}),
    )
    .await;
    assert!(err.contains("criteria"), "{err}");
}

#[tokio::test]
async fn profile_changes_vacation_send_as() {
    let h = Harness::start().await;
    let p = structured(&h, "get_profile", json!({})).await;
    assert_eq!(p["emailAddress"], "demo@example.com");
    let start = p["historyId"].as_str().unwrap().to_string();
    let id = h.first_id("in:inbox").await;
    call(
        &h,
        "modify_email",
        json!({"messageId": id, "addLabelIds": ["STARRED"]}),
    )
    .await;
    let c = structured(&h, "list_changes", json!({"startHistoryId": start})).await;
    let changes = c["changes"].as_array().unwrap();
    assert!(changes
        .iter()
        .any(|ch| ch["kind"] == "labelAdded" && ch["messageId"] == id.as_str()));
    let err = call_err(&h, "list_changes", json!({"startHistoryId": "1"})).await;
    assert!(err.contains("too old"), "{err}");

    let v = call(&h, "set_vacation", json!({"enableAutoReply": true, "responseSubject": "Away", "responseBodyPlainText": "Back Monday"})).await;
    assert!(v.text.contains("on"));
    let v = structured(&h, "get_vacation", json!({})).await;
    assert_eq!(v["responseSubject"], "Away");
    let s = structured(&h, "list_send_as", json!({})).await;
    assert_eq!(s["identities"][0]["sendAsEmail"], "demo@example.com");
}

#[tokio::test]
async fn bad_input_gets_clear_errors() {
    let h = Harness::start().await;
    for (tool, args, expect) in [
        (
            "modify_email",
            json!({"messageId": "../etc/passwd", "addLabelIds": ["STARRED"]}),
            "messageId",
        ),
        (
            "modify_email",
            json!({"messageId": "0123456789abcdef"}),
            "addLabelIds",
        ),
        (
            "modify_email",
            json!({"messageId": "0123456789abcdef", "addLabelIds": ["STARRED"]}),
            "not found",
        ),
        (
            "modify_email",
            json!({"messageId": "1", "addLabelIds": ["No Such Label"]}),
            "No Such Label",
        ),
        (
            "search_emails",
            json!({"query": "x", "maxResults": 0}),
            "maxResults",
        ),
        (
            "search_emails",
            json!({"query": "x", "maxResults": 2.5}),
            "whole number",
        ),
        ("search_emails", json!({"query": "x", "bogus": 1}), "bogus"),
        ("search_emails", json!({}), "query"),
        (
            "batch_modify_emails",
            json!({"messageIds": []}),
            "messageIds",
        ),
    ] {
        let err = call_err(&h, tool, args.clone()).await;
        assert!(err.contains(expect), "{tool} {args}: {err}");
    }
}

#[tokio::test]
async fn a_failed_batch_is_reported_per_id_without_a_call_per_message() {
    let h = Harness::start().await;
    let ids = h.ids("in:inbox", 2).await;
    // Gmail's batchModify ignores ids it does not know: one call, all reported done.
    let out = call(
        &h,
        "batch_modify_emails",
        json!({"messageIds": [ids[0], "ffffffffffffffff", ids[1]], "addLabelIds": ["STARRED"]}),
    )
    .await;
    let s = out.structured.unwrap();
    assert_eq!(s["succeeded"].as_array().unwrap().len(), 3);
    assert_eq!(s["upstreamCalls"], 1);
    for id in &ids {
        assert!(h.labels_of(id).await.contains(&"STARRED".to_string()));
    }
    // When Gmail keeps failing, the batch is retried, and every id is reported with its
    // error instead of one opaque failure; no message is asked alone (a thousand calls
    // that would fail alike).
    h.sandbox.set_faults(gmail_sandbox::FaultConfig {
        error_rate: 1.0,
        ..Default::default()
    });
    h.reset_stats().await;
    let out = call(
        &h,
        "batch_modify_emails",
        json!({"messageIds": ids, "removeLabelIds": ["STARRED"]}),
    )
    .await;
    h.sandbox.set_faults(gmail_sandbox::FaultConfig::default());
    let s = out.structured.unwrap();
    assert_eq!(s["succeeded"].as_array().unwrap().len(), 0);
    let failed = s["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 2);
    assert!(
        failed
            .iter()
            .all(|f| f["error"].as_str().unwrap().contains("unavailable")),
        "{s}"
    );
    assert_eq!(s["upstreamCalls"], 1);
    assert!(h.stat("users.messages.batchModify").await >= 2);
    assert_eq!(h.stat("users.messages.modify").await, 0);
    assert!(out.text.contains("Failed message IDs"));
}

/// A label Gmail does not have is refused before any batch is sent, and label names cost one
/// labels.list a minute, however many calls use them.
#[tokio::test]
async fn labels_are_checked_once_before_a_batch_is_sent() {
    let h = Harness::start().await;
    let ids = h.ids("in:inbox", 3).await;
    h.reset_stats().await;
    let err = call_err(
        &h,
        "batch_modify_emails",
        json!({"messageIds": ids, "addLabelIds": ["Label_999"]}),
    )
    .await;
    assert!(err.contains("Label_999"), "{err}");
    assert_eq!(h.stat("users.messages.batchModify").await, 0);
    assert_eq!(h.stat("users.messages.modify").await, 0);
    h.reset_stats().await;
    for id in &ids {
        call(
            &h,
            "modify_email",
            json!({"messageId": id, "addLabelIds": ["Work"], "removeLabelIds": ["work"]}),
        )
        .await;
    }
    // The refusal above filled the cache: names cost nothing more.
    assert_eq!(h.stat("users.labels.list").await, 0);
    assert_eq!(h.stat("users.messages.modify").await, 3);
}

#[tokio::test]
async fn a_batch_over_the_limit_is_refused_before_gmail_is_asked() {
    let h = Harness::start().await;
    let ids: Vec<String> = (0..5001).map(|i| format!("{i:016x}")).collect();
    h.reset_stats().await;
    let err = call_err(
        &h,
        "batch_modify_emails",
        json!({"messageIds": ids, "addLabelIds": ["STARRED"]}),
    )
    .await;
    assert!(
        err.contains("messageIds") && err.contains("at most 5000"),
        "{err}"
    );
    assert_eq!(h.gmail_requests().await, 0);
}

/// A batch endpoint that keeps failing is sent again within the retry budget, then the
/// search fails; no message is fetched alone (fifty calls that would fail alike).
#[tokio::test]
async fn a_failing_batch_endpoint_is_not_replaced_by_a_call_a_message() {
    let h = Harness::start().await;
    h.sandbox.set_faults(gmail_sandbox::FaultConfig {
        error_rate: 1.0,
        methods: vec!["batch".into()],
        ..Default::default()
    });
    h.reset_stats().await;
    let started = std::time::Instant::now();
    let err = call_err(
        &h,
        "search_emails",
        json!({"query": "in:inbox", "maxResults": 20}),
    )
    .await;
    h.sandbox.set_faults(gmail_sandbox::FaultConfig::default());
    assert!(err.contains("unavailable"), "{err}");
    assert_eq!(h.stat("users.messages.get").await, 0);
    let batches = h.stat("batch").await;
    assert!((2..=8).contains(&batches), "{batches} batch requests");
    // The retry budget is 2 s of waiting.
    assert!(started.elapsed() < std::time::Duration::from_secs(6));
}

/// A label deleted behind the cache's back makes Gmail refuse the batch: a few messages are
/// tried alone, and when they fail alike the rest are reported failed without a call each.
#[tokio::test]
async fn a_batch_refused_for_a_stale_label_is_not_retried_message_by_message() {
    let h = Harness::start().await;
    let ids = h.ids("in:inbox", 20).await;
    let label = structured(&h, "create_label", json!({"name": "Soon gone"})).await;
    let label_id = label["id"].as_str().unwrap().to_string();
    // Using it fills the label cache; Gmail then loses it.
    let used = json!({"messageId": ids[0], "addLabelIds": [label_id]});
    call(&h, "modify_email", used).await;
    let token = h
        .sandbox
        .issue_access_token("demo@example.com", &["https://mail.google.com/"]);
    let deleted = reqwest::Client::new()
        .delete(h.mailbox.gmail_url(&format!("labels/{label_id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success());
    h.reset_stats().await;
    let out = structured(
        &h,
        "batch_modify_emails",
        json!({"messageIds": ids, "addLabelIds": [label_id]}),
    )
    .await;
    assert_eq!(out["failed"].as_array().unwrap().len(), 20, "{out}");
    assert_eq!(h.stat("users.messages.modify").await, 5);
}
