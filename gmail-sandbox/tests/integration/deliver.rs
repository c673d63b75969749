//! `POST /__sandbox/deliver` and the push-subscription admin endpoints.

use serde_json::json;

use crate::common;
use crate::push::{deliver, subscribe, TOPIC};
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
    let r = http(&sb, "POST", "__sandbox/deliver", &[JSON_CT], b"{".to_vec()).await;
    assert_eq!(r.status, 400);
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliver_raw_and_defaults() {
    let sb = start().await;
    let hub = hub(&sb, DEMO);
    // Raw: an MTA adds the Date and Message-ID a bare message lacks.
    let raw = b"From: Carol <carol@outside.example>\r\nTo: demo@example.com\r\nSubject: Raw one\r\n\r\nbody\r\n";
    let r = deliver(
        &sb,
        json!({"to": "Demo@Example.com", "raw": b64url(raw), "labelIds": ["INBOX"]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let (_, m) = hub
        .users()
        .messages_get("me", &id)
        .format("raw")
        .doit()
        .await
        .unwrap();
    let text = String::from_utf8(m.raw.unwrap()).unwrap();
    assert!(text.contains("Message-ID: "), "{text}");
    assert!(text.contains("Date: "), "{text}");
    assert!(text.contains("Subject: Raw one"));
    assert_eq!(m.label_ids, Some(vec!["INBOX".to_string()]));

    // Defaults: an outside sender, INBOX + UNREAD, a text body.
    let r = deliver(
        &sb,
        json!({"to": DEMO, "subject": "Ünïcode subject", "text": "héllo"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let (_, m) = hub.users().messages_get("me", &id).doit().await.unwrap();
    assert_eq!(
        m.label_ids,
        Some(vec!["INBOX".to_string(), "UNREAD".to_string()])
    );
    let headers = m.payload.unwrap().headers.unwrap();
    let get = |n: &str| {
        headers
            .iter()
            .find(|h| h.name.as_deref() == Some(n))
            .and_then(|h| h.value.clone())
            .unwrap_or_default()
    };
    assert_eq!(get("Subject"), "Ünïcode subject");
    assert!(get("From").contains("@outside.example"));
    assert!(get("To").contains(DEMO));
    assert!(m.snippet.unwrap().contains("héllo"));
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliver_applies_filters() {
    let sb = start().await;
    let hub = hub(&sb, DEMO);
    let filter = google_gmail1::api::Filter {
        criteria: Some(google_gmail1::api::FilterCriteria {
            from: Some("newsletter@outside.example".into()),
            ..Default::default()
        }),
        action: Some(google_gmail1::api::FilterAction {
            remove_label_ids: Some(vec!["INBOX".into()]),
            add_label_ids: Some(vec!["STARRED".into()]),
            ..Default::default()
        }),
        ..Default::default()
    };
    hub.users()
        .settings_filters_create(filter, "me")
        .doit()
        .await
        .expect("filter");
    let r = deliver(
        &sb,
        json!({"to": DEMO, "from": "News <newsletter@outside.example>", "subject": "Weekly", "text": "t"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let (_, m) = hub
        .users()
        .messages_get("me", &id)
        .format("minimal")
        .doit()
        .await
        .unwrap();
    assert_eq!(
        m.label_ids,
        Some(vec!["UNREAD".to_string(), "STARRED".to_string()])
    );
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_admin() {
    let sb = gmail_sandbox::Sandbox::start(gmail_sandbox::SandboxConfig {
        pubsub_push: vec![gmail_sandbox::PushSubscription::parse(
            "projects/cli/topics/t=http://127.0.0.1:9/push",
        )
        .unwrap()],
        ..gmail_sandbox::SandboxConfig::for_tests()
    })
    .await
    .unwrap();
    let r = http(&sb, "GET", "__sandbox/pubsub/subscriptions", &[], vec![]).await;
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
        let r = http(
            &sb,
            "POST",
            "__sandbox/pubsub/subscriptions",
            &[JSON_CT],
            bad.to_string().into_bytes(),
        )
        .await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.json()["error"]["status"], "INVALID_ARGUMENT");
    }
    let r = http(&sb, "DELETE", "__sandbox/pubsub/subscriptions", &[], vec![]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"subscriptions": []}));
    sb.stop().await;
}
