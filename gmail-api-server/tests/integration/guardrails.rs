//! Send guardrails over REST: the recipient allowlist, drafts-only, dry runs, the daily cap and
//! forwarding filters, with the sandbox's counters showing what reached Gmail, and the audit
//! log (`GET /api/v1/audit`) of what was done and refused.

use serde_json::{json, Value};

use crate::common::{assert_detail_has, assert_problem, fetch, retry_after, TestApp};

const SEND: &str = "users.messages.send";

fn mail(to: &[&str], subject: &str) -> Value {
    json!({"to": to, "subject": subject, "body": "Quarterly numbers attached in spirit."})
}

#[tokio::test]
async fn recipients_outside_the_allowlist_are_refused_by_name_before_gmail_is_asked() {
    let app = TestApp::spawn_with(|s| {
        s.send.allowed_recipients = vec!["@example.com".into(), "boss@corp.example".into()];
    })
    .await;
    let id = app.first_id("in:inbox from:northwind.example").await;

    let (status, body) = app
        .post(
            "/api/v1/messages/send",
            mail(
                &["a@example.com", "leak@evil.example", "x@corp.example"],
                "Hi",
            ),
        )
        .await;
    assert_problem(status, &body, 403);
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("leak@evil.example") && detail.contains("x@corp.example"),
        "{detail}"
    );
    assert!(!detail.contains("a@example.com"), "{detail}");

    // Every path that puts mail on the wire: reply (to a sender outside), forward, a draft.
    let (status, body) = app
        .post(
            &format!("/api/v1/messages/{id}/reply"),
            json!({"body": "Sure."}),
        )
        .await;
    assert_problem(status, &body, 403);
    let (status, body) = app
        .post(
            &format!("/api/v1/messages/{id}/forward"),
            json!({"to": ["friend@evil.example"], "body": "FYI"}),
        )
        .await;
    assert_problem(status, &body, 403);
    assert_detail_has(&body, "friend@evil.example");
    let (status, draft) = app
        .post("/api/v1/drafts", mail(&["outside@evil.example"], "Draft"))
        .await;
    assert_eq!(
        status, 201,
        "drafts send nothing, so any recipient may be drafted: {draft}"
    );
    let (status, body) = app
        .post(
            &format!("/api/v1/drafts/{}/send", draft["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_problem(status, &body, 403);
    assert_eq!(
        app.gmail_calls(SEND) + app.gmail_calls("users.drafts.send"),
        0
    );

    // Inside the list, it goes.
    let sent = app
        .post_expect(
            "/api/v1/messages/send",
            mail(&["a@example.com", "boss@corp.example"], "Hi"),
            200,
        )
        .await;
    assert_eq!(app.gmail_calls(SEND), 1);

    // The audit log has the send and every refusal, with recipients and never the body.
    let audit = app.get_ok("/api/v1/audit").await;
    let entries = audit["entries"].as_array().unwrap();
    let sent_entry = entries
        .iter()
        .find(|e| e["outcome"] == "ok" && e["action"] == "send")
        .expect("the send is audited");
    assert_eq!(sent_entry["entry"], "POST /api/v1/messages/send");
    assert_eq!(sent_entry["account"], "demo@example.com");
    assert_eq!(
        sent_entry["recipients"],
        json!(["a@example.com", "boss@corp.example"])
    );
    assert!(sent_entry["ids"].as_array().unwrap().contains(&sent["id"]));
    assert!(sent_entry["requestId"].is_string());
    let refused: Vec<&Value> = entries
        .iter()
        .filter(|e| e["outcome"] == "refused")
        .collect();
    assert!(refused.len() >= 4, "{audit}");
    assert!(
        !audit.to_string().contains("Quarterly numbers"),
        "bodies are never recorded"
    );
}

#[tokio::test]
async fn drafts_only_saves_a_draft_and_says_so() {
    let app = TestApp::spawn_with(|s| s.send.drafts_only = true).await;
    let sent = app
        .post_expect(
            "/api/v1/messages/send",
            mail(&["a@example.com"], "Only a draft"),
            200,
        )
        .await;
    let draft_id = sent["draftId"]
        .as_str()
        .expect("the draft's id")
        .to_string();
    assert_eq!(app.gmail_calls(SEND), 0);
    let draft = app.get_ok(&format!("/api/v1/drafts/{draft_id}")).await;
    assert!(draft.to_string().contains("Only a draft"), "{draft}");

    // Sending a draft is sending too: it stays a draft for the user to send from Gmail.
    let (status, again) = app
        .post(&format!("/api/v1/drafts/{draft_id}/send"), json!({}))
        .await;
    assert_problem(status, &again, 403);
    assert_detail_has(&again, "drafts_only");
    assert_eq!(
        app.gmail_calls(SEND) + app.gmail_calls("users.drafts.send"),
        0
    );
}

#[tokio::test]
async fn a_dry_run_shows_the_message_and_sends_nothing() {
    let app = TestApp::spawn().await;
    let id = app.first_id("in:inbox from:northwind.example").await;
    let dry = app
        .post_expect(
            "/api/v1/messages/send",
            json!({"to": ["a@example.com"], "subject": "Dry", "body": "Would say this.", "dryRun": true}),
            200,
        )
        .await;
    assert_eq!(dry["dryRun"], true);
    let rendered = dry["rendered"].as_str().unwrap();
    for part in ["To: a@example.com", "Subject: Dry", "Would say this."] {
        assert!(rendered.contains(part), "{part} missing from {rendered}");
    }
    let reply = app
        .post_expect(
            &format!("/api/v1/messages/{id}/reply"),
            json!({"body": "Noted.", "dryRun": true}),
            200,
        )
        .await;
    let rendered = reply["rendered"].as_str().unwrap();
    assert!(
        rendered.contains("In-Reply-To: <") && rendered.contains("Subject: Re: "),
        "{rendered}"
    );
    let fwd = app
        .post_expect(
            &format!("/api/v1/messages/{id}/forward"),
            json!({"to": ["b@example.com"], "body": "See below", "dryRun": true}),
            200,
        )
        .await;
    assert!(fwd["rendered"]
        .as_str()
        .unwrap()
        .contains("To: b@example.com"));
    assert_eq!(app.gmail_calls(SEND), 0);
    assert_eq!(app.gmail_calls("users.drafts.create"), 0);
}

#[tokio::test]
async fn the_daily_cap_answers_429_with_retry_after() {
    let app = TestApp::spawn_with(|s| s.send.max_per_day = 2).await;
    for n in 0..2 {
        app.post_expect(
            "/api/v1/messages/send",
            mail(&["a@example.com"], &format!("n{n}")),
            200,
        )
        .await;
    }
    let r = fetch(
        app.http
            .post(app.url("/api/v1/messages/send"))
            .json(&mail(&["a@example.com"], "one too many")),
    )
    .await;
    assert_eq!(r.status(), 429);
    let retry = retry_after(&r);
    assert!(
        (23 * 3600..=24 * 3600).contains(&retry),
        "Retry-After {retry}"
    );
    let body: Value = r.json().await.unwrap();
    assert_problem(429, &body, 429);
    assert_detail_has(&body, "limit");
    assert_eq!(app.gmail_calls(SEND), 2);
    // A dry run sends nothing, so it is not capped.
    app.post_expect(
        "/api/v1/messages/send",
        json!({"to": ["a@example.com"], "subject": "dry", "body": "x", "dryRun": true}),
        200,
    )
    .await;
}

#[tokio::test]
async fn filters_that_forward_mail_are_refused_unless_allowed() {
    let filter = json!({"criteria": {"from": "ceo@example.com"}, "action": {"forward": "me@elsewhere.example"}});
    let app = TestApp::spawn().await;
    let (status, body) = app.post("/api/v1/filters", filter.clone()).await;
    assert_problem(status, &body, 403);
    assert_detail_has(&body, "allow_forwarding_filters");
    assert_eq!(app.gmail_calls("users.settings.filters.create"), 0);
    // A filter that only labels is fine.
    app.post_expect(
        "/api/v1/filters",
        json!({"criteria": {"from": "ceo@example.com"}, "action": {"addLabelIds": ["STARRED"]}}),
        201,
    )
    .await;

    // Allowed, a forwarding address must still pass the allowlist.
    let app = TestApp::spawn_with(|s| {
        s.send.allow_forwarding_filters = true;
        s.send.allowed_recipients = vec!["@example.com".into()];
    })
    .await;
    let (status, body) = app.post("/api/v1/filters", filter).await;
    assert_problem(status, &body, 403);
    assert_detail_has(&body, "me@elsewhere.example");
    assert_eq!(app.gmail_calls("users.settings.filters.create"), 0);
}

#[tokio::test]
async fn write_actions_on_one_item_are_audited_with_its_id() {
    let app = TestApp::spawn().await;
    let message = app.first_id("in:inbox").await;
    let thread = app.message(&message, "minimal").await["threadId"]
        .as_str()
        .unwrap()
        .to_string();

    app.post_expect(&format!("/api/v1/messages/{message}/trash"), json!({}), 200)
        .await;
    app.post_expect(
        &format!("/api/v1/threads/{thread}/modify"),
        json!({"addLabelIds": ["STARRED"]}),
        200,
    )
    .await;
    let label = app
        .post_expect("/api/v1/labels", json!({"name": "Audited"}), 201)
        .await;
    let label = label["id"].as_str().unwrap();
    assert_eq!(app.delete(&format!("/api/v1/labels/{label}")).await, 204);

    let audit = app.get_ok("/api/v1/audit").await;
    let ids_of = |action: &str| {
        let entry = audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("no {action} entry in {audit}"));
        assert_eq!(entry["outcome"], "ok", "{entry}");
        assert_eq!(entry["recipients"], json!([]), "{entry}");
        entry["ids"].clone()
    };
    assert_eq!(ids_of("trash"), json!([message]));
    assert_eq!(ids_of("thread_modify"), json!([thread]));
    assert_eq!(ids_of("label_create"), json!([label]));
    assert_eq!(ids_of("label_delete"), json!([label]));
}
