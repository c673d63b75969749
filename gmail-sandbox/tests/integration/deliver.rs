//! `POST /__sandbox/deliver` and the push-subscription admin endpoints.

use serde_json::json;

use crate::common;
use crate::push::{deliver, delivered, subscribe, SUBSCRIPTIONS, TOPIC};
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliver_rejects_bad_requests() {
    let sb = start().await;
    let error_of = |r: &HttpResponse, code: u64, status: &str| {
        let v = r.json();
        assert_eq!(v["error"]["code"], code, "{v}");
        assert_eq!(v["error"]["status"], status, "{v}");
        assert!(v["error"]["message"].is_string(), "{v}");
    };
    let r = deliver(
        &sb,
        json!({"to": DEMO, "subject": "Hi\r\nBcc: victim@example.org", "text": "x"}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text());
    error_of(&r, 400, "INVALID_ARGUMENT");
    let r = deliver(&sb, json!({"to": DEMO, "from": "A <a@b.c>\nX-Evil: 1"})).await;
    assert_eq!(r.status, 400);

    let r = deliver(&sb, json!({"to": "nobody@example.com", "text": "x"})).await;
    assert_eq!(r.status, 404, "{}", r.text());
    error_of(&r, 404, "NOT_FOUND");

    for bad in [
        json!({"text": "no recipient"}),
        json!({"to": DEMO, "labelIds": ["NO_SUCH_LABEL"]}),
        json!({"to": DEMO, "from": "not an address"}),
        json!({"to": DEMO, "raw": "!!!"}),
        json!({"to": DEMO, "raw": b64url(b"Subject: x\r\n\r\ny"), "subject": "both"}),
        json!({"to": DEMO, "lables": ["INBOX"]}),
    ] {
        let r = deliver(&sb, bad.clone()).await;
        assert_eq!(r.status, 400, "{bad} → {}", r.text());
        error_of(&r, 400, "INVALID_ARGUMENT");
    }
    let r = post_json(&sb, "__sandbox/deliver", "{").await;
    assert_eq!(r.status, 400);
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliver_raw_and_defaults() {
    let (sb, hub) = start_demo().await;
    // Raw: an MTA adds the Date and Message-ID a bare message lacks.
    let raw = b"From: Carol <carol@outside.example>\r\nTo: demo@example.com\r\nSubject: Raw one\r\n\r\nbody\r\n";
    let body = json!({"to": "Demo@Example.com", "raw": b64url(raw), "labelIds": ["INBOX"]});
    let id = id_of(&delivered(&sb, body).await);
    let m = get_message(&hub, &id, "raw").await;
    let text = String::from_utf8(m.raw.unwrap()).unwrap();
    assert!(text.contains("Message-ID: "), "{text}");
    assert!(text.contains("Date: "), "{text}");
    assert!(text.contains("Subject: Raw one"));
    assert_eq!(m.label_ids, Some(vec!["INBOX".to_string()]));

    // Defaults: an outside sender, INBOX + UNREAD, a text body.
    let body = json!({"to": DEMO, "subject": "Ünïcode subject", "text": "héllo"});
    let id = id_of(&delivered(&sb, body).await);
    let m = ok(hub.users().messages_get("me", &id).doit(), "get").await;
    assert_eq!(m.label_ids, Some(strings(&["INBOX", "UNREAD"])));
    let get = |n: &str| header(&m, n).unwrap_or_default();
    assert_eq!(get("Subject"), "Ünïcode subject");
    assert!(get("From").contains("@outside.example"));
    assert!(get("To").contains(DEMO));
    assert!(m.snippet.as_ref().unwrap().contains("héllo"));
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliver_applies_filters() {
    let (sb, hub) = start_demo().await;
    let filter = filter_from("newsletter@outside.example", &["STARRED"], Some(&["INBOX"]));
    ok(
        hub.users().settings_filters_create(filter, "me").doit(),
        "filter",
    )
    .await;
    let news = json!({"to": DEMO, "from": "News <newsletter@outside.example>", "subject": "Weekly", "text": "t"});
    let id = id_of(&delivered(&sb, news).await);
    let m = get_message(&hub, &id, "minimal").await;
    assert_eq!(m.label_ids, Some(strings(&["UNREAD", "STARRED"])));
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_admin() {
    let cli =
        gmail_sandbox::PushSubscription::parse("projects/cli/topics/t=http://127.0.0.1:9/push");
    let sb = start_with(gmail_sandbox::SandboxConfig {
        pubsub_push: vec![cli.unwrap()],
        ..gmail_sandbox::SandboxConfig::for_tests()
    })
    .await;
    let r = get(&sb, SUBSCRIPTIONS).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"subscriptions": [{
            "name": "projects/cli/subscriptions/sandbox-push-1",
            "topic": "projects/cli/topics/t",
            "pushConfig": {"pushEndpoint": "http://127.0.0.1:9/push"},
        }]})
    );
    // The same topic and endpoint again is the same subscription.
    subscribe(&sb, TOPIC, "http://127.0.0.1:9/a").await;
    let v = subscribe(&sb, TOPIC, "http://127.0.0.1:9/a").await;
    assert_eq!(v["subscriptions"].as_array().unwrap().len(), 2);
    let v = subscribe(&sb, TOPIC, "http://127.0.0.1:9/b").await;
    assert_eq!(v["subscriptions"].as_array().unwrap().len(), 3);

    for bad in [
        json!({"topic": "gmail", "pushEndpoint": "http://127.0.0.1:9/a"}),
        json!({"topic": TOPIC, "pushEndpoint": "/relative"}),
        json!({"topic": TOPIC}),
    ] {
        let r = post_json(&sb, SUBSCRIPTIONS, &bad).await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.json()["error"]["status"], "INVALID_ARGUMENT");
    }
    let r = http(&sb, "DELETE", SUBSCRIPTIONS, &[], vec![]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"subscriptions": []}));
    sb.stop().await;
}
