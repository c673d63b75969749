//! Cloud Pub/Sub push emulation for users.watch.
//!
//! A watched mailbox hands each matching change to an unbounded channel while it holds its
//! lock (never waiting); one dispatcher task fans the change out to the push subscriptions of
//! the watch's topic. Per mailbox and subscription ("lane") at most one notification is in
//! flight: changes arriving meanwhile only raise the lane's pending historyId, so a burst
//! becomes one or two notifications carrying the newest id, which is all a Gmail client
//! needs (it syncs with history.list from its own cursor). Failed pushes are retried with
//! exponential backoff, like Pub/Sub does for push subscriptions.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use parking_lot::{Mutex, RwLock};
use rand::Rng;
use serde::Serialize;
use serde_json::json;
use tokio::sync::{mpsc, Notify};

use crate::config::{parse_topic, PushSubscription};
use crate::quota::PushStats;

/// Backoff between attempts of one push (Pub/Sub backs off exponentially as well; these
/// bounds keep tests and demos quick).
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
const MAX_ATTEMPTS: u32 = 30;
/// Pub/Sub's default acknowledgement deadline: a push not answered by then counts as a nack.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// The User-Agent Pub/Sub push requests carry.
const USER_AGENT: &str =
    "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)";

/// One change of a watched mailbox, to be published on `topic`.
#[derive(Debug)]
pub struct PushEvent {
    pub email: String,
    pub topic: String,
    pub history_id: u64,
}

/// Cheap sending half for the store: never blocks, never fails loudly.
#[derive(Clone)]
pub struct PushTx(mpsc::UnboundedSender<PushEvent>);

impl PushTx {
    pub fn send(&self, ev: PushEvent) {
        let _ = self.0.send(ev);
    }

    /// A handle whose events go nowhere (stores without a running sandbox).
    pub fn detached() -> PushTx {
        let (tx, _rx) = mpsc::unbounded_channel();
        PushTx(tx)
    }
}

/// A push subscription, shaped like Pub/Sub's Subscription resource.
#[derive(Debug, Clone, Serialize)]
pub struct Subscription {
    pub name: String,
    pub topic: String,
    #[serde(rename = "pushConfig")]
    pub push_config: PushConfig,
}

#[derive(Debug, Clone, Serialize)]
pub struct PushConfig {
    #[serde(rename = "pushEndpoint")]
    pub push_endpoint: String,
}

#[derive(Default)]
struct Lane {
    /// Newest historyId not yet handed to a push.
    pending: Option<u64>,
    /// A task is delivering this lane.
    running: bool,
}

/// (mailbox, subscription name).
type LaneKey = (String, String);

pub struct Pubsub {
    subs: RwLock<Vec<Subscription>>,
    next_sub: AtomicU64,
    next_message: AtomicU64,
    lanes: Mutex<HashMap<LaneKey, Lane>>,
    client: Client<HttpConnector, Full<Bytes>>,
    stats: Arc<PushStats>,
    stopping: AtomicBool,
    stop: Notify,
}

impl Pubsub {
    pub fn new(stats: Arc<PushStats>) -> Arc<Pubsub> {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(ATTEMPT_TIMEOUT));
        connector.set_nodelay(true);
        Arc::new(Pubsub {
            subs: RwLock::new(Vec::new()),
            next_sub: AtomicU64::new(1),
            // Pub/Sub message ids are 16-ish digit decimal strings.
            next_message: AtomicU64::new(
                rand::rng().random_range(1_000_000_000_000_000..9_000_000_000_000_000),
            ),
            lanes: Mutex::new(HashMap::new()),
            client: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(30))
                .build(connector),
            stats,
            stopping: AtomicBool::new(false),
            stop: Notify::new(),
        })
    }

    /// Start the dispatcher task (needs a Tokio runtime); the store publishes through the
    /// returned handle. The task ends when every handle is dropped or on [`shutdown`](Self::shutdown).
    pub fn spawn(self: &Arc<Self>) -> PushTx {
        let (tx, mut rx) = mpsc::unbounded_channel::<PushEvent>();
        let me = self.clone();
        tokio::spawn(async move {
            while let Some(ev) = rx.recv().await {
                if me.stopping.load(Ordering::Relaxed) {
                    break;
                }
                me.publish(ev);
            }
        });
        PushTx(tx)
    }

    /// Stop pushing: pending notifications are dropped, retries end.
    pub fn shutdown(&self) {
        self.stopping.store(true, Ordering::Relaxed);
        self.stop.notify_waiters();
        self.lanes.lock().clear();
    }

    /// Add a subscription, or keep the existing one for the same topic and endpoint.
    pub fn subscribe(&self, sub: &PushSubscription) -> Result<Subscription, String> {
        sub.validate()?;
        let mut subs = self.subs.write();
        if let Some(s) = subs
            .iter()
            .find(|s| s.topic == sub.topic && s.push_config.push_endpoint == sub.push_endpoint)
        {
            return Ok(s.clone());
        }
        if sub.push_endpoint.starts_with("https:") {
            tracing::warn!(
                endpoint = logged_endpoint(&sub.push_endpoint),
                "https push endpoints are not supported (no TLS): pushes to it will be dropped"
            );
        }
        let (project, _) = parse_topic(&sub.topic).unwrap_or_default();
        let n = self.next_sub.fetch_add(1, Ordering::Relaxed);
        let s = Subscription {
            name: format!("projects/{project}/subscriptions/sandbox-push-{n}"),
            topic: sub.topic.clone(),
            push_config: PushConfig {
                push_endpoint: sub.push_endpoint.clone(),
            },
        };
        subs.push(s.clone());
        Ok(s)
    }

    pub fn subscriptions(&self) -> Vec<Subscription> {
        self.subs.read().clone()
    }

    pub fn has_subscribers(&self, topic: &str) -> bool {
        self.subs.read().iter().any(|s| s.topic == topic)
    }

    /// Remove every subscription (their lanes stop before their next attempt).
    pub fn clear(&self) {
        self.subs.write().clear();
    }

    fn exists(&self, name: &str) -> bool {
        self.subs.read().iter().any(|s| s.name == name)
    }

    /// Raise each subscription lane's pending historyId; start its task if none runs.
    fn publish(self: &Arc<Self>, ev: PushEvent) {
        let subs: Vec<Subscription> = self
            .subs
            .read()
            .iter()
            .filter(|s| s.topic == ev.topic)
            .cloned()
            .collect();
        if subs.is_empty() {
            tracing::debug!(topic = %ev.topic, "no push subscription for topic; notification dropped");
            return;
        }
        for sub in subs {
            let key = (ev.email.clone(), sub.name.clone());
            let start = {
                let mut lanes = self.lanes.lock();
                let lane = lanes.entry(key.clone()).or_default();
                lane.pending = Some(lane.pending.unwrap_or(0).max(ev.history_id));
                !std::mem::replace(&mut lane.running, true)
            };
            if start {
                tokio::spawn(self.clone().run_lane(key, sub));
            }
        }
    }

    /// Deliver a lane's pending notifications one at a time until none is left.
    async fn run_lane(self: Arc<Self>, key: LaneKey, sub: Subscription) {
        loop {
            let history_id = {
                let mut lanes = self.lanes.lock();
                let Some(lane) = lanes.get_mut(&key) else {
                    return;
                };
                match lane.pending.take() {
                    Some(h) => h,
                    None => {
                        lanes.remove(&key);
                        return;
                    }
                }
            };
            self.deliver(&sub, &key.0, history_id).await;
            if self.stopping.load(Ordering::Relaxed) {
                return;
            }
        }
    }

    /// The push request body Pub/Sub sends (both the camelCase and snake_case spellings of
    /// the message fields, as Pub/Sub does).
    fn push_body(&self, sub: &Subscription, email: &str, history_id: u64) -> String {
        let data = json!({"emailAddress": email, "historyId": history_id}).to_string();
        let id = self
            .next_message
            .fetch_add(1, Ordering::Relaxed)
            .to_string();
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        json!({
            "message": {
                "data": base64::engine::general_purpose::STANDARD.encode(data),
                "messageId": id,
                "message_id": id,
                "publishTime": time,
                "publish_time": time,
                "attributes": {},
            },
            "subscription": sub.name,
        })
        .to_string()
    }

    /// One notification: the same message (same messageId) is retried until acknowledged.
    async fn deliver(&self, sub: &Subscription, email: &str, history_id: u64) {
        let endpoint = logged_endpoint(&sub.push_config.push_endpoint);
        let uri: hyper::Uri = match sub.push_config.push_endpoint.parse() {
            Ok(u) => u,
            Err(_) => return,
        };
        if uri.scheme_str() != Some("http") {
            tracing::warn!(%endpoint, "dropping push to a non-http endpoint (no TLS in the sandbox)");
            self.stats.failures.fetch_add(1, Ordering::Relaxed);
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let body = Bytes::from(self.push_body(sub, email, history_id));
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=MAX_ATTEMPTS {
            if self.stopping.load(Ordering::Relaxed) || !self.exists(&sub.name) {
                return;
            }
            match self.post(&uri, body.clone()).await {
                Ok(status) if (200..300).contains(&status) => {
                    self.stats.sent.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                Ok(status) => {
                    self.stats.failures.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(%endpoint, status, attempt, "push not acknowledged");
                }
                Err(e) => {
                    self.stats.failures.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(%endpoint, error = %e, attempt, "push failed");
                }
            }
            if attempt == MAX_ATTEMPTS || !self.pause(backoff).await {
                break;
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        if !self.stopping.load(Ordering::Relaxed) {
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%endpoint, email, history_id, "push given up after {MAX_ATTEMPTS} attempts");
        }
    }

    /// POST the body; the answer's status (its body is read and discarded so the connection
    /// can be reused).
    async fn post(&self, uri: &hyper::Uri, body: Bytes) -> Result<u16, String> {
        let req = hyper::Request::post(uri.clone())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(hyper::header::USER_AGENT, USER_AGENT)
            .body(Full::new(body))
            .map_err(|e| e.to_string())?;
        let attempt = async {
            let resp = self.client.request(req).await.map_err(|e| e.to_string())?;
            let status = resp.status().as_u16();
            let _ = resp.into_body().collect().await;
            Ok(status)
        };
        tokio::time::timeout(ATTEMPT_TIMEOUT, attempt)
            .await
            .unwrap_or_else(|_| Err("timed out".into()))
    }

    /// Sleep unless the sandbox stops meanwhile (then false).
    async fn pause(&self, d: Duration) -> bool {
        // Created before the flag check: `notify_waiters` reaches it even if not yet polled.
        let stopped = self.stop.notified();
        if self.stopping.load(Ordering::Relaxed) {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep(d) => !self.stopping.load(Ordering::Relaxed),
            _ = stopped => false,
        }
    }
}

/// A push endpoint as logs show it: without its query, where the receiver's verification
/// token travels (`?token=…`).
pub fn logged_endpoint(endpoint: &str) -> &str {
    endpoint.split(['?', '#']).next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_show_push_endpoints_without_their_token() {
        assert_eq!(
            logged_endpoint("http://127.0.0.1:8000/hooks/gmail/pubsub?token=s3cret"),
            "http://127.0.0.1:8000/hooks/gmail/pubsub"
        );
        assert_eq!(logged_endpoint("http://h/p"), "http://h/p");
    }

    #[test]
    fn topic_names() {
        assert_eq!(
            parse_topic("projects/p-1/topics/gmail"),
            Some(("p-1", "gmail"))
        );
        assert_eq!(parse_topic("projects//topics/t"), None);
        assert_eq!(parse_topic("projects/p/topics/"), None);
        assert_eq!(parse_topic("projects/p/topics/a/b"), None);
        assert_eq!(parse_topic("topics/t"), None);
        assert_eq!(parse_topic("my-topic"), None);
    }

    #[test]
    fn cli_form() {
        let s =
            PushSubscription::parse("projects/p/topics/t=http://127.0.0.1:9/h?token=a=b").unwrap();
        assert_eq!(s.topic, "projects/p/topics/t");
        assert_eq!(s.push_endpoint, "http://127.0.0.1:9/h?token=a=b");
        assert!(PushSubscription::parse("projects/p/topics/t").is_err());
        assert!(PushSubscription::parse("t=http://x/").is_err());
        assert!(PushSubscription::parse("projects/p/topics/t=/relative").is_err());
    }
}
