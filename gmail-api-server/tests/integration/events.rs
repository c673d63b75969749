//! New mail as events, on SQLite and (with GMAIL_TEST_DATABASE_URL) PostgreSQL: mail delivered
//! into the sandbox reaches a webhook (signed per Standard Webhooks, checked with the
//! `standardwebhooks` crate) and an open event stream; a stream resumed with Last-Event-ID gets
//! exactly what it missed; a receiver that was down gets every delivery once; a webhook that
//! keeps failing is disabled with a reason; nobody sees another user's events; Gmail push
//! (users.watch + Pub/Sub through the sandbox) delivers within 2 s; SSRF is refused.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use gmail_sandbox::RunningSandbox;
use gmail_shared::config::Settings;
use gmail_shared::store::Store;
use gmail_test_support::{assert_detail_has, drop_database, fetch, fresh_database_urls};
use secrecy::SecretString;
use serde_json::{json, Value};

use crate::common::multi_user::{connect, get, http, new_caller, post, Caller, Deployment};

/// A fresh SQLite file, and a fresh PostgreSQL database when GMAIL_TEST_DATABASE_URL names a
/// server: each app's change feed follows every connection in its database, so tests running
/// at once must not share one (another test's connections live in another sandbox).
async fn database_urls() -> Vec<String> {
    fresh_database_urls("events").await
}

/// A webhook receiver on a free port: records every request, answers `status`.
#[derive(Clone)]
struct Receiver {
    url: String,
    status: Arc<AtomicU16>,
    seen: Arc<Mutex<Vec<(reqwest::header::HeaderMap, String, u16)>>>,
}

async fn receiver() -> Receiver {
    let status = Arc::new(AtomicU16::new(200));
    let seen: Arc<Mutex<Vec<(reqwest::header::HeaderMap, String, u16)>>> = Arc::default();
    let (s, v) = (status.clone(), seen.clone());
    let server = actix_web::HttpServer::new(move || {
        let (s, v) = (s.clone(), v.clone());
        actix_web::App::new().default_service(actix_web::web::to(
            move |req: actix_web::HttpRequest, body: actix_web::web::Bytes| {
                let (s, v) = (s.clone(), v.clone());
                async move {
                    let mut headers = reqwest::header::HeaderMap::new();
                    for (k, val) in req.headers() {
                        headers.insert(
                            reqwest::header::HeaderName::from_bytes(k.as_str().as_bytes()).unwrap(),
                            reqwest::header::HeaderValue::from_bytes(val.as_bytes()).unwrap(),
                        );
                    }
                    let code = s.load(Ordering::SeqCst);
                    v.lock().unwrap().push((
                        headers,
                        String::from_utf8_lossy(&body).into_owned(),
                        code,
                    ));
                    actix_web::HttpResponse::build(
                        actix_web::http::StatusCode::from_u16(code).unwrap(),
                    )
                    .finish()
                }
            },
        ))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    Receiver {
        url: format!("http://127.0.0.1:{port}/hook"),
        status,
        seen,
    }
}

impl Receiver {
    /// Accepted deliveries' (webhook-id, payload), in arrival order.
    fn accepted(&self) -> Vec<(String, Value)> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, _, code)| (200..300).contains(code))
            .map(|(h, body, _)| {
                (
                    h["webhook-id"].to_str().unwrap().to_string(),
                    serde_json::from_str(body).unwrap(),
                )
            })
            .collect()
    }

    fn verify_all(&self, secret: &str) {
        let wh = standardwebhooks::Webhook::new(secret).unwrap();
        for (headers, body, _) in self.seen.lock().unwrap().iter() {
            wh.verify(body.as_bytes(), headers)
                .unwrap_or_else(|e| panic!("signature of {body} does not verify: {e:?}"));
        }
    }
}

async fn wait_until<F: Fn() -> bool>(what: &str, limit: Duration, f: F) -> Duration {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    start.elapsed()
}

/// Mail from outside into a sandbox mailbox; answers its Gmail id.
async fn deliver(sandbox: &RunningSandbox, to: &str, subject: &str) -> String {
    gmail_test_support::deliver(&sandbox.base_url(), to, subject).await
}

fn event_settings(s: &mut Settings) {
    s.events.enabled = true;
    s.events.poll_interval_secs = 1;
    s.events.allow_private_webhooks = true;
    s.events.webhook_backoff_max_secs = 1;
    s.events.webhook_retry_secs = 6;
}

/// Waits until every followed mailbox has its cursor (mail before that is no event).
async fn cursors_ready(store: &Store, n: usize) {
    let start = Instant::now();
    loop {
        let c = store.cursors().await.unwrap();
        if c.len() >= n && c.iter().all(|c| c.history_id.is_some()) {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "cursors: {c:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads SSE events from a stream until `n` events came (or 10 s passed).
async fn read_events(
    stream: &mut (impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buf: &mut String,
    n: usize,
) -> Vec<(i64, String, Value)> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while out.len() < n {
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            let (mut id, mut kind, mut data) = (None, String::new(), Value::Null);
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("id: ") {
                    id = v.parse().ok();
                } else if let Some(v) = line.strip_prefix("event: ") {
                    kind = v.to_string();
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = serde_json::from_str(v).unwrap();
                }
            }
            if let Some(id) = id {
                out.push((id, kind, data));
            }
        }
        if out.len() >= n {
            break;
        }
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(chunk)) => buf.push_str(&String::from_utf8_lossy(&chunk.unwrap())),
            _ => panic!("stream: {} of {n} events within 10 s: {out:?}", out.len()),
        }
    }
    out
}

/// Subscribes a webhook as `c` (`POST /api/v1/webhooks`): status and JSON body.
async fn subscribe(base: &str, c: &Caller, body: Value) -> (u16, Value) {
    post(base, "/api/v1/webhooks", c, body).await
}

async fn open_stream(
    base: &str,
    c: &Caller,
    last: Option<i64>,
) -> impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin {
    let mut r = http()
        .get(format!("{base}/api/v1/events"))
        .bearer_auth(&c.key);
    if let Some(n) = last {
        r = r.header("last-event-id", n.to_string());
    }
    let r = fetch(r).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    Box::pin(r.bytes_stream())
}

#[tokio::test]
async fn mail_reaches_webhooks_and_streams_once_each_and_only_its_owner() {
    for db in database_urls().await {
        let d = Deployment::start_with(&db, event_settings).await;
        let (base, store, sandbox) = (&d.base, &d.store, &d.sandbox);
        let (alice, bob) = (
            new_caller(store, "alice").await,
            new_caller(store, "bob").await,
        );
        connect(base, &alice, "demo@example.com").await;
        connect(base, &bob, "bob@example.com").await;
        let (rx_alice, rx_bob, dead) = (receiver().await, receiver().await, receiver().await);
        dead.status.store(503, Ordering::SeqCst);

        // Subscriptions: the secret once, then never again.
        let (status, hook) = subscribe(
            base,
            &alice,
            json!({"url": rx_alice.url, "events": ["message.added"]}),
        )
        .await;
        assert_eq!(status, 201, "{hook}");
        let secret = hook["secret"].as_str().unwrap().to_string();
        assert!(secret.starts_with("whsec_"));
        let hook_id = hook["id"].as_str().unwrap().to_string();
        let (_, listed) = get(base, "/api/v1/webhooks", &alice).await;
        assert_eq!(listed["webhooks"].as_array().unwrap().len(), 1);
        assert!(
            !listed.to_string().contains(&secret),
            "the secret is shown once"
        );
        // The owner's view: no storage details such as the owning user's id.
        assert!(listed["webhooks"][0].get("userId").is_none(), "{listed}");
        let (status, bob_hook) = subscribe(base, &bob, json!({"url": rx_bob.url})).await;
        assert_eq!(status, 201);
        let (status, dead_hook) = subscribe(
            base,
            &alice,
            json!({"url": dead.url, "query": "subject:never-matches-anything-xyz"}),
        )
        .await;
        assert_eq!(status, 201);
        let (status, bad) = subscribe(
            base,
            &alice,
            json!({"url": rx_alice.url, "events": ["mail.arrived"]}),
        )
        .await;
        assert_eq!(status, 400, "{bad}");
        assert_detail_has(&bad, "message.added");
        // Bob sees none of Alice's webhooks.
        let (status, _) = get(base, &format!("/api/v1/webhooks/{hook_id}"), &bob).await;
        assert_eq!(status, 404);
        let (status, _) = get(
            base,
            &format!("/api/v1/webhooks/{hook_id}/deliveries"),
            &bob,
        )
        .await;
        assert_eq!(status, 404);
        let r = fetch(
            http()
                .delete(format!("{base}/api/v1/webhooks/{hook_id}"))
                .bearer_auth(&bob.key),
        )
        .await;
        assert_eq!(r.status(), 404);

        cursors_ready(store, 2).await;
        let mut stream = open_stream(base, &alice, None).await;
        let mut buf = String::new();

        // One delivery: webhook within one poll interval (1 s), and the stream.
        let sent = Instant::now();
        let id = deliver(sandbox, "demo@example.com", "Welcome 1").await;
        let took = wait_until("alice's webhook", Duration::from_secs(5), || {
            rx_alice
                .accepted()
                .iter()
                .any(|(_, p)| p["data"]["id"] == id.as_str())
        })
        .await;
        assert!(
            took < Duration::from_secs(3),
            "polling delivery took {took:?}"
        );
        let _ = sent;
        let (_, payload) = rx_alice.accepted()[0].clone();
        assert_eq!(payload["type"], "message.added");
        assert_eq!(payload["data"]["subject"], "Welcome 1");
        assert_eq!(payload["data"]["account"], "demo@example.com");
        assert!(payload["data"]["from"]
            .as_str()
            .unwrap()
            .contains("alerts@outside.example"));
        assert!(payload["data"]["labelIds"]
            .as_array()
            .unwrap()
            .contains(&json!("INBOX")));
        let events = read_events(&mut stream, &mut buf, 1).await;
        assert_eq!(events[0].1, "message.added");
        assert_eq!(events[0].2["data"]["id"], id.as_str());
        let first_seq = events[0].0;

        // Two more while a second stream is away: resuming gets exactly those.
        let id2 = deliver(sandbox, "demo@example.com", "Welcome 2").await;
        let id3 = deliver(sandbox, "demo@example.com", "Welcome 3").await;
        let live = read_events(&mut stream, &mut buf, 2).await;
        let mut resumed_stream = open_stream(base, &alice, Some(first_seq)).await;
        let mut buf2 = String::new();
        let resumed = read_events(&mut resumed_stream, &mut buf2, 2).await;
        assert_eq!(
            resumed, live,
            "a resumed stream gets exactly the missed events"
        );
        let ids: Vec<&str> = resumed
            .iter()
            .map(|e| e.2["data"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [id2.as_str(), id3.as_str()]);
        assert!(resumed.iter().all(|e| e.0 > first_seq));

        // The receiver is down: it gets every delivery afterwards, each once.
        rx_alice.status.store(500, Ordering::SeqCst);
        let down: Vec<String> = futures::future::join_all((4..7).map(|i| {
            deliver(
                sandbox,
                "demo@example.com",
                Box::leak(format!("Welcome {i}").into_boxed_str()),
            )
        }))
        .await;
        wait_until("failed attempts", Duration::from_secs(10), || {
            rx_alice
                .seen
                .lock()
                .unwrap()
                .iter()
                .filter(|(_, _, c)| *c == 500)
                .count()
                >= 3
        })
        .await;
        rx_alice.status.store(200, Ordering::SeqCst);
        wait_until(
            "deliveries after the outage",
            Duration::from_secs(10),
            || {
                let got = rx_alice.accepted();
                down.iter()
                    .all(|id| got.iter().any(|(_, p)| p["data"]["id"] == id.as_str()))
            },
        )
        .await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let accepted = rx_alice.accepted();
        let mut ids: Vec<&String> = accepted.iter().map(|(id, _)| id).collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n, "each event accepted once by webhook-id");
        assert_eq!(n, 6, "six messages, six deliveries: {accepted:?}");
        // Retries carry the same id.
        let retried: Vec<String> = rx_alice
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, _, c)| *c == 500)
            .map(|(h, _, _)| h["webhook-id"].to_str().unwrap().to_string())
            .collect();
        assert!(retried.iter().all(|id| ids.contains(&id)));
        rx_alice.verify_all(&secret);
        let (_, log) = get(
            base,
            &format!("/api/v1/webhooks/{hook_id}/deliveries"),
            &alice,
        )
        .await;
        let log = log["deliveries"].as_array().unwrap().clone();
        assert_eq!(log.len(), 6);
        assert!(log.iter().all(|d| d["status"] == "delivered"), "{log:?}");
        assert!(log
            .iter()
            .any(|d| d["attempts"].as_i64().unwrap() >= 2 && d["lastStatus"] == 200));

        // Bob's receiver got nothing of Alice's; his own mailbox's mail reaches him only.
        assert!(rx_bob.seen.lock().unwrap().is_empty());
        let bob_id = deliver(sandbox, "bob@example.com", "For Bob").await;
        wait_until("bob's webhook", Duration::from_secs(5), || {
            rx_bob
                .accepted()
                .iter()
                .any(|(_, p)| p["data"]["id"] == bob_id.as_str())
        })
        .await;
        assert!(!rx_alice
            .accepted()
            .iter()
            .any(|(_, p)| p["data"]["id"] == bob_id.as_str()));
        assert_eq!(rx_bob.accepted().len(), 1);
        let _ = bob_hook;
        // The search-filtered webhook matched nothing, so nothing was sent to it.
        assert!(dead.seen.lock().unwrap().is_empty());

        // A cursor Gmail no longer knows (404): the feed resyncs, and says so on the stream.
        sqlx::query("UPDATE event_cursors SET history_id = '1', synced_at = 0 WHERE account = 'demo@example.com'")
            .execute(store.pool())
            .await
            .unwrap();
        let resynced = loop {
            let e = read_events(&mut stream, &mut buf, 1).await.remove(0);
            if e.1 == "mailbox.resynced" {
                break e;
            }
        };
        assert_eq!(resynced.2["data"]["fromHistoryId"], "1");
        assert!(resynced.2["data"]["reason"]
            .as_str()
            .unwrap()
            .contains("re-read"));
        let cursor = store
            .cursors()
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.account == "demo@example.com")
            .unwrap();
        assert_eq!(cursor.resyncs, 1, "{:?}", store.cursors().await.unwrap());
        assert_ne!(cursor.history_id.as_deref(), Some("1"));

        // A test delivery reaches a receiver that keeps failing; the webhook is disabled after
        // webhook_retry_secs (6 s here), with the reason shown to its owner.
        let dead_id = dead_hook["id"].as_str().unwrap();
        let (status, _) = post(
            base,
            &format!("/api/v1/webhooks/{dead_id}/test"),
            &alice,
            json!({}),
        )
        .await;
        assert_eq!(status, 202);
        let start = Instant::now();
        loop {
            let (_, w) = get(base, &format!("/api/v1/webhooks/{dead_id}"), &alice).await;
            if w["enabled"] == false {
                let reason = w["disabledReason"].as_str().unwrap();
                assert!(reason.contains("503"), "{reason}");
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "not disabled: {w}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        assert!(
            dead.seen.lock().unwrap().len() >= 2,
            "retried before giving up"
        );
        let (_, log) = get(
            base,
            &format!("/api/v1/webhooks/{dead_id}/deliveries"),
            &alice,
        )
        .await;
        assert_eq!(log["deliveries"][0]["status"], "failed");
        drop_database(&db).await;
    }
}

#[tokio::test]
async fn gmail_push_delivers_within_two_seconds_and_needs_its_token() {
    for db in database_urls().await {
        let d = Deployment::start_with(&db, |s| {
            event_settings(s);
            // Push only: the safety-net poll is far away, so only a push can be this quick.
            s.events.poll_interval_secs = 300;
            s.events.safety_poll_secs = 300;
            s.events.pubsub_topic = "projects/sandbox/topics/gmail".into();
            s.events.pubsub_token = Some(SecretString::from("push-token-123-abcdef"));
        })
        .await;
        let (base, store, sandbox) = (&d.base, &d.store, &d.sandbox);
        let r = fetch(http()
            .post(format!("{}__sandbox/pubsub/subscriptions", sandbox.base_url()))
            .json(&json!({"topic": "projects/sandbox/topics/gmail", "pushEndpoint": format!("{base}/hooks/gmail/pubsub?token=push-token-123-abcdef")}))).await;
        assert_eq!(r.status(), 200);
        let alice = new_caller(store, "alice").await;
        connect(base, &alice, "demo@example.com").await;
        let rx = receiver().await;
        let (status, _) = subscribe(base, &alice, json!({"url": rx.url})).await;
        assert_eq!(status, 201);
        cursors_ready(store, 1).await;
        // The watch is made at start-up.
        let start = Instant::now();
        while store.cursors().await.unwrap()[0].watch_expires_at.is_none() {
            assert!(start.elapsed() < Duration::from_secs(10), "no users.watch");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut took = Vec::new();
        for i in 0..3 {
            let sent = Instant::now();
            let id = deliver(sandbox, "demo@example.com", &format!("Pushed {i}")).await;
            wait_until("pushed delivery", Duration::from_secs(5), || {
                rx.accepted()
                    .iter()
                    .any(|(_, p)| p["data"]["id"] == id.as_str())
            })
            .await;
            took.push(sent.elapsed());
        }
        assert!(took.iter().all(|t| *t < Duration::from_secs(2)), "{took:?}");

        // A push without the token, or with another, is refused; the right one is taken.
        let note = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            br#"{"emailAddress":"demo@example.com","historyId":1}"#,
        );
        let body = json!({"message": {"data": note, "messageId": "1"}, "subscription": "s"});
        for (url, expected) in [
            (format!("{base}/hooks/gmail/pubsub"), 403),
            (format!("{base}/hooks/gmail/pubsub?token=wrong"), 403),
            (
                format!("{base}/hooks/gmail/pubsub?token=push-token-123-abcdef"),
                204,
            ),
        ] {
            let r = fetch(http().post(&url).json(&body)).await;
            assert_eq!(r.status().as_u16(), expected, "{url}");
        }
        let r = fetch(
            http()
                .post(format!(
                    "{base}/hooks/gmail/pubsub?token=push-token-123-abcdef"
                ))
                .json(&json!({"message": {"data": "%%%"}})),
        )
        .await;
        assert_eq!(r.status(), 400);
        drop_database(&db).await;
    }
}

/// A webhook whose search Gmail refuses is turned off, with the reason, and the mailbox's
/// feed goes on for everything else (it stopped for every watcher before).
#[tokio::test]
async fn a_webhook_with_a_search_gmail_refuses_is_turned_off_alone() {
    let db = database_urls().await.remove(0);
    let d = Deployment::start_with(&db, event_settings).await;
    let alice = new_caller(&d.store, "alice").await;
    connect(&d.base, &alice, "demo@example.com").await;
    let (good, bad) = (receiver().await, receiver().await);
    let (status, _) = subscribe(&d.base, &alice, json!({"url": good.url})).await;
    assert_eq!(status, 201);
    let (status, hook) =
        subscribe(&d.base, &alice, json!({"url": bad.url, "query": "(from:x"})).await;
    assert_eq!(status, 201);
    cursors_ready(&d.store, 1).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let id = deliver(&d.sandbox, "demo@example.com", "Still flowing").await;
    wait_until(
        "the other webhook's delivery",
        Duration::from_secs(10),
        || {
            good.accepted()
                .iter()
                .any(|(_, p)| p["data"]["id"] == id.as_str())
        },
    )
    .await;
    let (_, w) = get(
        &d.base,
        &format!("/api/v1/webhooks/{}", hook["id"].as_str().unwrap()),
        &alice,
    )
    .await;
    assert_eq!(w["enabled"], false, "{w}");
    assert!(
        w["disabledReason"].as_str().unwrap().contains("(from:x"),
        "{w}"
    );
    assert!(bad.seen.lock().unwrap().is_empty());
    drop_database(&db).await;
}

/// A `users.watch` Gmail refuses (a topic it cannot publish to) is tried again a minute
/// later, not on every tick of the sync loop: each costs 100 quota units.
#[tokio::test]
async fn a_refused_watch_is_not_retried_on_every_tick() {
    let db = database_urls().await.remove(0);
    let d = Deployment::start_with(&db, |s| {
        event_settings(s);
        s.events.pubsub_topic = "projects/sandbox/not-a-topic".into();
        s.events.pubsub_token = Some(SecretString::from("push-token-123-abcdef"));
    })
    .await;
    let alice = new_caller(&d.store, "alice").await;
    connect(&d.base, &alice, "demo@example.com").await;
    cursors_ready(&d.store, 1).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let watches = d.sandbox.stats()["requests"]["users.watch"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(watches, 1, "{}", d.sandbox.stats());
    drop_database(&db).await;
}

#[tokio::test]
async fn webhooks_to_private_addresses_are_refused_by_default() {
    let db = gmail_test_support::database_urls("events").remove(0);
    let d = Deployment::start_with(&db, |s| s.events.enabled = true).await;
    let (base, store) = (&d.base, &d.store);
    let alice = new_caller(store, "alice").await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.1/hook",
        "http://[::1]:9/hook",
        "ftp://example.com/hook",
        "https://user:pw@example.com/hook",
    ] {
        let (status, body) = subscribe(base, &alice, json!({"url": url})).await;
        assert_eq!(status, 400, "{url}: {body}");
        assert_eq!(body["field"], "url", "{body}");
    }
    let (_, listed) = get(base, "/api/v1/webhooks", &alice).await;
    assert_eq!(listed["webhooks"], json!([]));
}
