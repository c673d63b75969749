//! users.watch / users.stop through google-gmail1, and the Pub/Sub pushes they cause,
//! caught by a small local HTTP receiver.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpServer};
use base64::Engine;
use google_gmail1::api::{Message, WatchRequest};
use serde_json::{json, Value};
use tokio::sync::{mpsc, Mutex};

use crate::common;
use common::*;
use gmail_sandbox::RunningSandbox;

pub const TOPIC: &str = "projects/sandbox-test/topics/gmail";

/// One request the receiver got.
#[derive(Debug)]
pub struct Push {
    /// 1-based count of requests the receiver had seen when this one arrived.
    pub attempt: usize,
    /// What the receiver answered.
    pub answered: u16,
    pub content_type: String,
    pub path_and_query: String,
    pub body: Value,
}

impl Push {
    /// The decoded `message.data`: `{"emailAddress","historyId"}`.
    pub fn data(&self) -> Value {
        let b64 = self.body["message"]["data"].as_str().expect("message.data");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("standard base64");
        serde_json::from_slice(&bytes).expect("JSON data")
    }

    pub fn history_id(&self) -> u64 {
        self.data()["historyId"]
            .as_u64()
            .expect("historyId is a JSON number")
    }
}

struct RecvState {
    count: AtomicUsize,
    fail_first: usize,
    delay: Duration,
    tx: mpsc::UnboundedSender<Push>,
}

/// A push endpoint on an ephemeral port: answers 500 to its first `fail_first` requests and
/// 200 afterwards, each after `delay`.
pub struct Receiver {
    pub url: String,
    rx: Mutex<mpsc::UnboundedReceiver<Push>>,
    handle: ServerHandle,
}

async fn hook(
    req: HttpRequest,
    body: web::Bytes,
    st: web::Data<RecvState>,
) -> actix_web::HttpResponse {
    let attempt = st.count.fetch_add(1, Ordering::SeqCst) + 1;
    let answered = if attempt <= st.fail_first { 500 } else { 200 };
    if !st.delay.is_zero() {
        tokio::time::sleep(st.delay).await;
    }
    let _ = st.tx.send(Push {
        attempt,
        answered,
        content_type: req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
        path_and_query: req
            .uri()
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    if answered == 200 {
        actix_web::HttpResponse::Ok().finish()
    } else {
        actix_web::HttpResponse::InternalServerError().body("try again")
    }
}

impl Receiver {
    pub async fn start(fail_first: usize, delay: Duration) -> Receiver {
        let (tx, rx) = mpsc::unbounded_channel();
        let state = web::Data::new(RecvState {
            count: AtomicUsize::new(0),
            fail_first,
            delay,
            tx,
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .default_service(web::to(hook))
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .expect("bind receiver");
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver {
            url: format!("http://127.0.0.1:{port}/hooks/gmail/pubsub?token=abc"),
            rx: Mutex::new(rx),
            handle,
        }
    }

    /// The next request, if one arrives within `within`.
    pub async fn next(&self, within: Duration) -> Option<Push> {
        tokio::time::timeout(within, self.rx.lock().await.recv())
            .await
            .ok()
            .flatten()
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

pub const SUBSCRIPTIONS: &str = "__sandbox/pubsub/subscriptions";

pub async fn subscribe(sb: &RunningSandbox, topic: &str, url: &str) -> Value {
    let body = json!({"topic": topic, "pushEndpoint": url});
    post_json(sb, SUBSCRIPTIONS, body).await.ok_json()
}

/// `POST /__sandbox/deliver`; the whole answer.
pub async fn deliver(sb: &RunningSandbox, body: Value) -> HttpResponse {
    post_json(sb, "__sandbox/deliver", body).await
}

/// A delivery that must succeed; its answer (`id`, `threadId`, `historyId`).
pub async fn delivered(sb: &RunningSandbox, body: Value) -> Value {
    deliver(sb, body).await.ok_json()
}

/// Deliver a plain message to `to`; its id and historyId.
pub async fn deliver_ok(sb: &RunningSandbox, to: &str, labels: &[&str]) -> (String, u64) {
    let v = delivered(
        sb,
        json!({"to": to, "from": "Alice <alice@outside.example>", "subject": "Ping",
               "text": "hello", "labelIds": labels}),
    )
    .await;
    let hid = v["historyId"].as_str().expect("historyId string");
    (v["id"].as_str().unwrap().to_string(), hid.parse().unwrap())
}

pub async fn watch(hub: &Hub, req: WatchRequest) -> (u64, i64) {
    let (_, w) = hub.users().watch(req, "me").doit().await.expect("watch");
    (
        w.history_id.expect("historyId"),
        w.expiration.expect("expiration"),
    )
}

pub fn watch_topic(topic: &str) -> WatchRequest {
    WatchRequest {
        topic_name: Some(topic.to_string()),
        ..Default::default()
    }
}

/// The sandbox counts a push once it has the receiver's answer, a moment after the receiver
/// saw the request: wait for the stats to catch up.
pub async fn push_stats(sb: &RunningSandbox, pushes: u64) -> Value {
    for _ in 0..100 {
        let s = sb.stats();
        if s["pubsubPushes"].as_u64() >= Some(pushes) {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sb.stats()
}

const SOON: Duration = Duration::from_secs(2);
const QUIET: Duration = Duration::from_secs(1);

/// A sandbox whose TOPIC pushes to a fresh receiver, and a hub for DEMO (not yet watching).
struct Pushing {
    sb: RunningSandbox,
    rcv: Receiver,
    hub: Hub,
    /// The sandbox's subscriptions after TOPIC's was added.
    subs: Value,
}

impl Pushing {
    async fn start(fail_first: usize, delay: Duration) -> Pushing {
        let sb = start().await;
        let rcv = Receiver::start(fail_first, delay).await;
        let subs = subscribe(&sb, TOPIC, &rcv.url).await;
        let hub = hub(&sb, DEMO);
        Pushing { sb, rcv, hub, subs }
    }

    /// DEMO watches TOPIC; the watch's historyId.
    async fn watch(&self) -> u64 {
        watch(&self.hub, watch_topic(TOPIC)).await.0
    }

    async fn stop(self) {
        self.rcv.stop().await;
        self.sb.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_then_delivery_pushes_and_history_shows_it() {
    let Pushing { sb, rcv, hub, subs } = Pushing::start(0, Duration::ZERO).await;
    let name = subs["subscriptions"][0]["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(name, "projects/sandbox-test/subscriptions/sandbox-push-1");
    assert_eq!(
        subs["subscriptions"][0]["pushConfig"]["pushEndpoint"],
        rcv.url
    );

    let (start_id, expiration) = watch(&hub, watch_topic(TOPIC)).await;
    let week = 7 * 24 * 3600 * 1000;
    let now = chrono::Utc::now().timestamp_millis();
    assert!((expiration - (now + week)).abs() < 60_000, "{expiration}");

    let d = delivered(
        &sb,
        json!({"to": DEMO, "from": "Alice <alice@outside.example>",
               "subject": "Quarterly numbers", "text": "See attached.", "html": "<p>See attached.</p>"}),
    )
    .await;
    let id = id_of(&d);
    assert!(d["threadId"].is_string());
    let delivered_hid: u64 = d["historyId"].as_str().unwrap().parse().unwrap();

    let p = rcv.next(SOON).await.expect("a push within 2 s");
    assert_eq!(p.attempt, 1);
    assert_eq!(p.content_type, "application/json");
    assert_eq!(p.path_and_query, "/hooks/gmail/pubsub?token=abc");
    let data = p.data();
    assert_eq!(data["emailAddress"], DEMO);
    assert!(p.history_id() >= start_id);
    assert_eq!(p.history_id(), delivered_hid);
    let m = &p.body["message"];
    let mid = m["messageId"].as_str().unwrap();
    assert!(
        !mid.is_empty() && mid.bytes().all(|b| b.is_ascii_digit()),
        "{mid}"
    );
    assert_eq!(m["message_id"], m["messageId"]);
    assert_eq!(m["publish_time"], m["publishTime"]);
    chrono::DateTime::parse_from_rfc3339(m["publishTime"].as_str().unwrap()).expect("RFC 3339");
    assert_eq!(m["attributes"], json!({}));
    assert_eq!(p.body["subscription"], name);

    // The client's follow-up: history from the watch's id shows the new message.
    let call = hub.users().history_list("me").start_history_id(start_id);
    let h = ok(call.doit(), "history").await;
    let added: Vec<String> = h
        .history
        .unwrap_or_default()
        .iter()
        .flat_map(|r| r.messages_added.clone().unwrap_or_default())
        .filter_map(|a| a.message.and_then(|m| m.id))
        .collect();
    assert_eq!(added, vec![id.clone()]);

    let msg = get_message(&hub, &id, "metadata").await;
    assert_eq!(msg.label_ids, Some(strings(&["INBOX", "UNREAD"])));
    assert_eq!(
        header(&msg, "Subject").as_deref(),
        Some("Quarterly numbers")
    );
    assert!(header(&msg, "From")
        .unwrap()
        .contains("alice@outside.example"));
    assert!(header(&msg, "Message-ID").is_some());
    assert!(header(&msg, "Date").is_some());

    let stats = push_stats(&sb, 1).await;
    assert_eq!(stats["requests"]["users.watch"], 1);
    assert_eq!(stats["pubsubPushes"], 1);
    assert_eq!(stats["pubsubPushFailures"], 0);
    let r = http(&sb, "POST", "__sandbox/stats/reset", &[], vec![]).await;
    assert_eq!(r.json()["pubsubPushes"], 0);
    rcv.stop().await;
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_from_another_mailbox_pushes() {
    let t = Pushing::start(0, Duration::ZERO).await;
    let start_id = t.watch().await;

    let bob = hub(&t.sb, BOB);
    let raw = std::io::Cursor::new(simple_message(BOB, DEMO, "From Bob", "hi demo"));
    let call = bob.users().messages_send(Message::default(), "me");
    let sent = ok(call.upload(raw, rfc822()), "send").await;
    assert!(sent.id.is_some());

    let p = t.rcv.next(SOON).await.expect("push for the delivered copy");
    assert_eq!(p.data()["emailAddress"], DEMO);
    assert!(p.history_id() > start_id);
    let call = t.hub.users().history_list("me").start_history_id(start_id);
    let h = ok(call.add_history_types("messageAdded").doit(), "history").await;
    let recs = h.history.unwrap();
    assert_eq!(recs.len(), 1);
    let m = recs[0].messages_added.as_ref().unwrap()[0]
        .message
        .clone()
        .unwrap();
    assert!(m.label_ids.unwrap().contains(&"INBOX".to_string()));
    // Bob's own SENT copy is his mailbox's change, and Bob watches nothing.
    assert!(t.rcv.next(Duration::from_millis(300)).await.is_none());
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_ends_pushes() {
    let t = Pushing::start(0, Duration::ZERO).await;
    let (sb, rcv) = (&t.sb, &t.rcv);
    t.watch().await;
    deliver_ok(sb, DEMO, &["INBOX"]).await;
    assert!(rcv.next(SOON).await.is_some());

    let resp = ok(t.hub.users().stop("me").doit(), "stop").await;
    assert_eq!(resp.status().as_u16(), 204);
    deliver_ok(sb, DEMO, &["INBOX"]).await;
    assert!(rcv.next(QUIET).await.is_none(), "no push after stop");
    let stats = sb.stats();
    assert_eq!(stats["requests"]["users.stop"], 1);
    assert_eq!(stats["requests"]["users.watch"], 1);

    // Watching again resumes, and a second watch replaces the first (one push per change).
    t.watch().await;
    t.watch().await;
    let (_, hid) = deliver_ok(sb, DEMO, &["INBOX"]).await;
    assert_eq!(rcv.next(SOON).await.unwrap().history_id(), hid);
    assert!(rcv.next(Duration::from_millis(300)).await.is_none());
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_filters_decide_what_pushes() {
    let t = Pushing::start(0, Duration::ZERO).await;
    let (sb, rcv, hub) = (&t.sb, &t.rcv, &t.hub);
    let inbox_only = WatchRequest {
        label_ids: Some(strings(&["INBOX"])),
        label_filter_behavior: Some("include".into()),
        ..watch_topic(TOPIC)
    };
    watch(hub, inbox_only).await;
    // A message that never carries INBOX: no push.
    let (starred, _) = deliver_ok(sb, DEMO, &["STARRED"]).await;
    assert!(
        rcv.next(QUIET).await.is_none(),
        "push for a non-INBOX message"
    );
    // Moving it into INBOX relates to INBOX: push.
    let to_inbox = google_gmail1::api::ModifyMessageRequest {
        add_label_ids: Some(strings(&["INBOX"])),
        remove_label_ids: None,
    };
    let call = hub.users().messages_modify(to_inbox, "me", &starred);
    ok(call.doit(), "modify").await;
    let p = rcv.next(SOON).await.expect("push for labelAdded INBOX");
    let profile = ok(hub.users().get_profile("me").doit(), "profile").await;
    assert_eq!(p.history_id(), profile.history_id.unwrap());
    let (_, hid) = deliver_ok(sb, DEMO, &["INBOX", "UNREAD"]).await;
    assert_eq!(rcv.next(SOON).await.unwrap().history_id(), hid);

    // Exclude, with the deprecated field name: SPAM-only changes are quiet.
    let not_spam = WatchRequest {
        label_ids: Some(strings(&["SPAM"])),
        label_filter_action: Some("exclude".into()),
        ..watch_topic(TOPIC)
    };
    watch(hub, not_spam).await;
    deliver_ok(sb, DEMO, &["SPAM"]).await;
    assert!(
        rcv.next(QUIET).await.is_none(),
        "push for an excluded label"
    );
    let (_, hid) = deliver_ok(sb, DEMO, &["INBOX"]).await;
    assert_eq!(rcv.next(SOON).await.unwrap().history_id(), hid);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_pushes_are_retried_with_the_same_message() {
    let t = Pushing::start(2, Duration::ZERO).await;
    t.watch().await;
    let (_, hid) = deliver_ok(&t.sb, DEMO, &["INBOX"]).await;
    let mut seen = Vec::new();
    while let Some(p) = t.rcv.next(SOON).await {
        let done = p.answered == 200;
        seen.push(p);
        if done {
            break;
        }
    }
    let attempts: Vec<(usize, u16)> = seen.iter().map(|p| (p.attempt, p.answered)).collect();
    assert_eq!(attempts, vec![(1, 500), (2, 500), (3, 200)]);
    assert_eq!(seen[2].history_id(), hid);
    let ids: Vec<&Value> = seen
        .iter()
        .map(|p| &p.body["message"]["messageId"])
        .collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "a retry resends the message: {ids:?}"
    );
    let stats = push_stats(&t.sb, 1).await;
    assert_eq!(stats["pubsubPushes"], 1);
    assert_eq!(stats["pubsubPushFailures"], 2);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_merge_into_the_newest_history_id() {
    // A slow endpoint keeps the first push in flight while the burst lands.
    let t = Pushing::start(0, Duration::from_millis(300)).await;
    t.watch().await;
    let mut last = 0;
    for _ in 0..10 {
        last = deliver_ok(&t.sb, DEMO, &["INBOX"]).await.1;
    }
    let mut got = Vec::new();
    while let Some(p) = t.rcv.next(SOON).await {
        got.push(p.history_id());
        if p.history_id() == last {
            break;
        }
    }
    assert_eq!(got.last(), Some(&last), "{got:?}");
    assert!(
        got.len() <= 3,
        "a burst of 10 changes became {} pushes",
        got.len()
    );
    assert!(got.windows(2).all(|w| w[0] < w[1]), "{got:?}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_validates_its_request() {
    let (sb, hub) = start_demo().await;
    let users = hub.users();
    let e = fails_with(users.watch(WatchRequest::default(), "me").doit(), 400).await;
    let body = error_body(&e);
    assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
    assert_eq!(body["error"]["message"], "topicName required");

    let e = fails_with(users.watch(watch_topic("my-topic"), "me").doit(), 400).await;
    assert!(error_body(&e)["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Invalid topicName"));

    let sometimes = WatchRequest {
        label_filter_behavior: Some("sometimes".into()),
        ..watch_topic(TOPIC)
    };
    fails_with(users.watch(sometimes, "me").doit(), 400).await;

    // A read-only token may watch (the discovery document lists gmail.readonly).
    let t = sb.issue_access_token(DEMO, &["gmail.readonly"]);
    let ro = hub_with_token(&sb, t);
    assert!(ro
        .users()
        .watch(watch_topic(TOPIC), "me")
        .doit()
        .await
        .is_ok());
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_survives_a_restart() {
    let dir = temp_dir();
    let rcv = Receiver::start(0, Duration::ZERO).await;
    let cfg = || gmail_sandbox::SandboxConfig {
        pubsub_push: vec![gmail_sandbox::PushSubscription {
            topic: TOPIC.into(),
            push_endpoint: rcv.url.clone(),
        }],
        ..file_config(dir.join("sb.db"))
    };
    let sb = start_with(cfg()).await;
    watch(&hub(&sb, DEMO), watch_topic(TOPIC)).await;
    sb.stop().await;

    let sb = start_with(cfg()).await;
    let (_, hid) = deliver_ok(&sb, DEMO, &["INBOX"]).await;
    let p = rcv.next(SOON).await.expect("push after restart");
    assert_eq!(p.history_id(), hid);
    assert_eq!(
        p.body["subscription"],
        "projects/sandbox-test/subscriptions/sandbox-push-1"
    );
    sb.stop().await;
    rcv.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}
