//! New mail as events, built once for both servers.
//!
//! - [`feed`]: a mailbox's Gmail history since its stored cursor becomes events
//!   (`message.added`, `message.deleted`, `labels.changed`, `mailbox.resynced`), stored in an
//!   outbox with their webhook deliveries in the transaction that moves the cursor.
//! - [`worker`]: what makes syncs happen (polling, Gmail push hints, `users.watch` renewal)
//!   and what delivers webhooks (Standard Webhooks signatures, retries with backoff).
//! - [`webhooks`]: subscriptions and their rules (SSRF, limits).
//! - [`wait`]: reading a caller's events (the SSE stream) and waiting for one (the
//!   `wait_for_email` tool).

pub mod feed;
pub mod wait;
pub mod webhooks;
pub mod worker;

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::config::{EventSettings, Settings};
use crate::error::GmailError;
use crate::store::{EventRow, Keyring, Store};

pub const MESSAGE_ADDED: &str = "message.added";
pub const MESSAGE_DELETED: &str = "message.deleted";
pub const LABELS_CHANGED: &str = "labels.changed";
/// The cursor was too old for Gmail's history: events in between are lost, and said so.
pub const MAILBOX_RESYNCED: &str = "mailbox.resynced";
pub const EVENT_TYPES: [&str; 4] = [
    MESSAGE_ADDED,
    MESSAGE_DELETED,
    LABELS_CHANGED,
    MAILBOX_RESYNCED,
];

/// The user id events of a single-user server belong to.
pub const LOCAL_USER: &str = "local";

/// An event as streams and webhooks carry it (the Standard Webhooks payload shape).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Unique; the `webhook-id` of its deliveries.
    pub id: String,
    /// The caller's event number: `Last-Event-ID` of the stream.
    pub seq: i64,
    /// `message.added`, `message.deleted`, `labels.changed` or `mailbox.resynced`.
    #[serde(rename = "type")]
    pub kind: String,
    /// RFC 3339.
    pub timestamp: String,
    /// The mailbox it happened in.
    pub account: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: Value,
}

impl From<&EventRow> for Event {
    fn from(row: &EventRow) -> Self {
        Event {
            id: row.id.clone(),
            seq: row.seq,
            kind: row.kind.clone(),
            timestamp: chrono::DateTime::from_timestamp_millis(row.created_at)
                .unwrap_or_default()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            account: row.account.clone(),
            data: row.data.clone(),
        }
    }
}

/// The event layer of one process: the shared database, the settings, and a signal that
/// fires whenever this process stored events (other processes' events are found by polling).
#[derive(Clone)]
pub struct Events {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    settings: EventSettings,
    /// Names this process's leases.
    instance: String,
    /// Wakes this process's sync loop (a push hint arrived, a caller waits).
    wake: tokio::sync::Notify,
    /// Wakes this process's webhook dispatcher (deliveries were stored).
    dispatch: tokio::sync::Notify,
    /// Bumped whenever this process stored events: streams and waits look again.
    stored: tokio::sync::watch::Sender<u64>,
    http: crate::gmail::http::OutboundClient,
    /// Open event streams per user (bounded by `max_streams_per_user`).
    streams: std::sync::Mutex<std::collections::HashMap<String, u32>>,
}

/// One open event stream; dropping it frees the place.
pub struct StreamPermit {
    inner: Arc<Inner>,
    user_id: String,
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut streams = self.inner.streams.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = streams.get_mut(&self.user_id) {
            *n -= 1;
            if *n == 0 {
                streams.remove(&self.user_id);
            }
        }
    }
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("instance", &self.inner.instance)
            .finish_non_exhaustive()
    }
}

impl Events {
    pub fn new(store: Store, settings: &Settings) -> Events {
        Events {
            inner: Arc::new(Inner {
                store,
                settings: settings.events.clone(),
                instance: format!("ev_{}", uuid::Uuid::new_v4().simple()),
                wake: tokio::sync::Notify::new(),
                dispatch: tokio::sync::Notify::new(),
                stored: tokio::sync::watch::channel(0).0,
                http: crate::gmail::http::outbound_client(settings.events.allow_private_webhooks),
                streams: Default::default(),
            }),
        }
    }

    /// The database of a single-user server: the configured one, its secrets sealed with the
    /// configured key or, without one, a key kept owner-only beside the database.
    pub async fn single_user_store(settings: &Settings) -> Result<Store, GmailError> {
        let mu = &settings.multi_user;
        let keys = match &mu.encryption_key {
            Some(key) => Keyring::new(key, mu.old_encryption_keys.as_ref())?,
            None => Keyring::new(
                &local_key(secrecy::ExposeSecret::expose_secret(&mu.database_url))?,
                None,
            )?,
        };
        Store::connect(secrecy::ExposeSecret::expose_secret(&mu.database_url), keys).await
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn settings(&self) -> &EventSettings {
        &self.inner.settings
    }

    /// Whether Gmail push (`users.watch` + Pub/Sub) is configured.
    pub fn push_enabled(&self) -> bool {
        !self.inner.settings.pubsub_topic.is_empty()
    }

    /// A place for one more open event stream of this user, or a clear refusal.
    pub fn open_stream(&self, user_id: &str) -> Result<StreamPermit, GmailError> {
        let max = self.inner.settings.max_streams_per_user;
        let mut streams = self.inner.streams.lock().unwrap_or_else(|e| e.into_inner());
        let n = streams.entry(user_id.to_string()).or_default();
        if *n >= max {
            return Err(GmailError::TooManyRequests {
                message: format!(
                    "at most {max} event streams per user are open at once; close one first"
                ),
                retry_after: std::time::Duration::from_secs(5),
            });
        }
        *n += 1;
        Ok(StreamPermit {
            inner: self.inner.clone(),
            user_id: user_id.to_string(),
        })
    }

    /// Asks this process's sync loop to look for due mailboxes now.
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Fires when this process stored events.
    pub fn stored_signal(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.stored.subscribe()
    }

    fn announce(&self) {
        self.inner.stored.send_modify(|n| *n += 1);
        self.inner.dispatch.notify_one();
    }

    /// A Gmail push notification for `account` (already verified): stored as a hint before
    /// the caller acknowledges it, then this process syncs.
    pub async fn push_hint(&self, account: &str) -> Result<u64, GmailError> {
        let hinted = self.inner.store.hint_account(account).await?;
        self.wake();
        Ok(hinted)
    }

    /// Whether `token` is the configured Pub/Sub push token (compared in constant time).
    pub fn push_token_matches(&self, token: &str) -> bool {
        use secrecy::ExposeSecret;
        let Some(expected) = &self.inner.settings.pubsub_token else {
            return false;
        };
        let expected = crate::store::sha256_hex(expected.expose_secret());
        let given = crate::store::sha256_hex(token);
        // Equal-length digests compared without an early exit.
        expected
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

/// The single-user key file: made once (atomically, so two servers starting together agree)
/// and readable by the owner only.
fn local_key(database_url: &str) -> Result<secrecy::SecretString, GmailError> {
    let path = database_url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or("");
    let dir = std::path::Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !path.contains(":memory:"))
        .unwrap_or(std::path::Path::new("data"));
    let file = dir.join("events.key");
    let io = |e: std::io::Error| GmailError::internal_from(format!("{}", file.display()), e);
    if let Ok(text) = std::fs::read_to_string(&file) {
        return Ok(secrecy::SecretString::from(text.trim().to_string()));
    }
    std::fs::create_dir_all(dir).map_err(io)?;
    let tmp = dir.join(format!("events.key.{}", uuid::Uuid::new_v4().simple()));
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp).map_err(io)?;
        f.write_all(crate::store::cipher::generate_key().as_bytes())
            .map_err(io)?;
    }
    // A hard link fails when the file exists: the first server to get here wins.
    let _ = std::fs::hard_link(&tmp, &file);
    let _ = std::fs::remove_file(&tmp);
    let text = std::fs::read_to_string(&file).map_err(io)?;
    Ok(secrecy::SecretString::from(text.trim().to_string()))
}
