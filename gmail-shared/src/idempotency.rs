//! Sends that happen once. A caller gives a key with a send (REST's `Idempotency-Key` header,
//! the MCP send tools' `idempotencyKey`); a repeat with the same key and the same message gets
//! the first answer and sends nothing twice. Keys are per caller. In multi-user mode they live
//! in the database, so every instance sharing it (behind a load balancer) honours them and a
//! restart keeps them; a single-user server keeps them in memory, with a TTL and a size bound.
//! A keyed send also carries a Message-ID derived from its key, and Gmail is asked for that id
//! before sending: a retry after a server died mid-send (its memory of the key gone) finds the
//! first attempt's message instead of sending again.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::error::GmailError;
use crate::mailbox::Mailbox;
use crate::ops::send::{self, SentMessage};
use crate::store::{IdempotencyClaim, Store};

pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);
pub const DEFAULT_CAPACITY: usize = 10_000;
/// A claim still unanswered after this long belongs to a request whose server died; another
/// may take it over. Far above any send's duration (the upstream timeout is well under it).
pub const LEASE: Duration = Duration::from_secs(300);
pub const MAX_KEY_LEN: usize = 255;

struct Entry {
    fingerprint: [u8; 32],
    created: Instant,
    /// When it is forgotten: one lease after it was claimed or after a send whose outcome is
    /// unknown (a request dropped before it finished frees its key), the TTL once answered.
    lapses: Instant,
    /// `None` while the first request is still running.
    result: Option<Vec<u8>>,
}

enum Backend {
    Memory {
        entries: Mutex<HashMap<String, Entry>>,
        capacity: usize,
    },
    Database(Store),
}

pub struct IdempotencyStore {
    backend: Backend,
    ttl: Duration,
}

impl std::fmt::Debug for IdempotencyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.backend {
            Backend::Memory { .. } => "memory",
            Backend::Database(_) => "database",
        };
        f.debug_struct("IdempotencyStore")
            .field("backend", &kind)
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl Default for IdempotencyStore {
    fn default() -> Self {
        IdempotencyStore::new(DEFAULT_TTL, DEFAULT_CAPACITY)
    }
}

/// A key this request claimed: who, which key, and (in the database) the claim's lease.
pub struct Claim {
    caller: String,
    key: String,
    lease: Option<i64>,
}

impl Claim {
    fn scoped(&self) -> String {
        format!("{}\u{0}{}", self.caller, self.key)
    }

    /// What identifies this request for good: caller, key and request fingerprint.
    pub fn scope(&self, fingerprint: &[u8; 32]) -> Vec<u8> {
        let mut scope = self.scoped().into_bytes();
        scope.push(0);
        scope.extend_from_slice(fingerprint);
        scope
    }
}

/// What to do with a keyed request.
pub enum Begin {
    /// First time for this key: run it, then [`IdempotencyStore::finish`].
    Run(Claim),
    /// Seen before with the same request: the first answer (JSON).
    Replay(Vec<u8>),
}

/// The fingerprint of a request: what it is (a route, a tool) and its parsed content, so the
/// same logical request matches even when a multipart boundary or JSON key order differs.
pub fn fingerprint(route: &str, content: &serde_json::Value) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(route.as_bytes());
    h.update([0]);
    h.update(content.to_string().as_bytes());
    h.finalize().into()
}

/// A key as given under `field`: trimmed, 1 to 255 printable ASCII characters.
pub fn parse_key(field: &str, raw: &str) -> Result<String, GmailError> {
    let key = raw.trim();
    if key.is_empty()
        || key.len() > MAX_KEY_LEN
        || !key.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
    {
        return Err(GmailError::invalid(
            field,
            format!("must be 1 to {MAX_KEY_LEN} printable ASCII characters"),
        ));
    }
    Ok(key.to_string())
}

fn in_progress(key: &str) -> GmailError {
    GmailError::Conflict {
        message: format!(
            "a send with idempotency key {key:?} is still in progress; retry when it has finished"
        ),
    }
}

fn mismatch(key: &str) -> GmailError {
    GmailError::Conflict {
        message: format!(
            "idempotency key {key:?} was already used for a different request (another endpoint, tool or message); use a new key for a new message"
        ),
    }
}

impl IdempotencyStore {
    /// In memory: this process only.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        IdempotencyStore {
            backend: Backend::Memory {
                entries: Mutex::new(HashMap::new()),
                capacity: capacity.max(1),
            },
            ttl,
        }
    }

    /// In the multi-user database: every instance that shares it.
    pub fn database(store: Store, ttl: Duration) -> Self {
        IdempotencyStore {
            backend: Backend::Database(store),
            ttl,
        }
    }

    /// Looks `caller`'s `key` up (already parsed, see [`parse_key`]); claims it when new.
    pub async fn begin(
        &self,
        caller: &str,
        key: &str,
        fingerprint: [u8; 32],
    ) -> Result<Begin, GmailError> {
        let claim = Claim {
            caller: caller.to_string(),
            key: key.to_string(),
            lease: None,
        };
        match &self.backend {
            Backend::Memory { entries, capacity } => {
                let mut entries = lock(entries);
                self.begin_in_memory(&mut entries, *capacity, claim, fingerprint)
            }
            Backend::Database(store) => {
                let found = store
                    .claim_idempotency_key(
                        &claim.caller,
                        &claim.key,
                        &fingerprint,
                        self.ttl.as_secs() as i64,
                        LEASE.as_secs() as i64,
                    )
                    .await?;
                match found {
                    IdempotencyClaim::Claimed { lease } => Ok(Begin::Run(Claim {
                        lease: Some(lease),
                        ..claim
                    })),
                    IdempotencyClaim::InProgress => Err(in_progress(&claim.key)),
                    IdempotencyClaim::Mismatch => Err(mismatch(&claim.key)),
                    IdempotencyClaim::Done { body, .. } => Ok(Begin::Replay(body.into_bytes())),
                }
            }
        }
    }

    fn begin_in_memory(
        &self,
        entries: &mut HashMap<String, Entry>,
        capacity: usize,
        claim: Claim,
        fingerprint: [u8; 32],
    ) -> Result<Begin, GmailError> {
        let now = Instant::now();
        let scoped = claim.scoped();
        if let Some(e) = entries.get(&scoped).filter(|e| now < e.lapses) {
            if e.fingerprint != fingerprint {
                return Err(mismatch(&claim.key));
            }
            return match &e.result {
                Some(body) => Ok(Begin::Replay(body.clone())),
                None => Err(in_progress(&claim.key)),
            };
        }
        make_room(entries, capacity, now);
        entries.insert(
            scoped,
            Entry {
                fingerprint,
                created: now,
                lapses: now + LEASE.min(self.ttl),
                result: None,
            },
        );
        Ok(Begin::Run(claim))
    }

    /// Records the answer to a claimed key. A failure releases the key: nothing was sent, so
    /// the client may retry with the same key.
    pub async fn finish<T: serde::Serialize>(&self, claim: Claim, result: &Result<T, GmailError>) {
        // Gmail did not answer: the mail may have gone out, and a search right away may not
        // show it yet. The claim stays until its lease runs out (a retry meanwhile hears "in
        // progress"); the retry after that asks Gmail for the message before sending.
        let unknown = matches!(result, Err(GmailError::UpstreamTimeout { .. }));
        let body = result
            .as_ref()
            .ok()
            .map(|value| serde_json::to_vec(value).unwrap_or_default());
        match &self.backend {
            Backend::Memory { entries, .. } => {
                let mut entries = lock(entries);
                match (body, entries.get_mut(&claim.scoped())) {
                    (Some(body), Some(e)) => {
                        e.result = Some(body);
                        e.lapses = e.created + self.ttl;
                    }
                    (None, Some(e)) if unknown => e.lapses = Instant::now() + LEASE,
                    (None, Some(_)) => {
                        entries.remove(&claim.scoped());
                    }
                    (_, None) => {}
                }
            }
            Backend::Database(store) => {
                // Claims in the database always carry their lease.
                let lease = claim.lease.unwrap_or_default();
                let saved = match body {
                    Some(body) => {
                        let body = String::from_utf8(body).unwrap_or_default();
                        store
                            .complete_idempotency_key(&claim.caller, &claim.key, lease, 200, &body)
                            .await
                    }
                    // Kept: another instance takes it over after the lease.
                    None if unknown => Ok(true),
                    None => {
                        store
                            .release_idempotency_key(&claim.caller, &claim.key, lease)
                            .await
                    }
                };
                // The mail went out (or not) either way; a lost record only weakens replay.
                match saved {
                    Ok(true) => {}
                    // Taken over after the lease ran out: the newer request's record stands.
                    Ok(false) => tracing::warn!(
                        "an idempotency key claim was taken over before its request finished"
                    ),
                    Err(e) => {
                        tracing::warn!(error = %e, "could not record the idempotency key outcome")
                    }
                }
            }
        }
    }

    /// Keys held in memory.
    #[cfg(test)]
    fn len(&self) -> usize {
        match &self.backend {
            Backend::Memory { entries, .. } => lock(entries).len(),
            Backend::Database(_) => unreachable!("tests count the in-memory store only"),
        }
    }
}

/// Drops lapsed entries, then the oldest ones, until one more fits. Unanswered ones (running,
/// or a send whose outcome is unknown) go last: forgetting one would let a retry send again.
fn make_room(entries: &mut HashMap<String, Entry>, capacity: usize, now: Instant) {
    if entries.len() < capacity {
        return;
    }
    entries.retain(|_, e| now < e.lapses);
    while entries.len() >= capacity {
        let Some(oldest) = entries
            .iter()
            .min_by_key(|(_, e)| (e.result.is_none(), e.created))
            .map(|(k, _)| k.clone())
        else {
            break;
        };
        entries.remove(&oldest);
    }
}

fn lock(
    entries: &Mutex<HashMap<String, Entry>>,
) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
    // A panic elsewhere while holding the lock leaves the map usable.
    entries.lock().unwrap_or_else(|p| p.into_inner())
}

/// A send keyed for a caller: what it is (`route`, `message`: the fingerprint's parts) and the
/// key, if the caller gave one.
pub struct SendOnce<'a> {
    pub store: &'a IdempotencyStore,
    pub caller: &'a str,
    pub key: Option<&'a str>,
    pub route: &'a str,
    pub message: serde_json::Value,
}

impl SendOnce<'_> {
    /// Runs `run` (given the mailbox and the Message-ID the sent mail must carry) at most once
    /// for this key and message. Without a key it just runs. `mailbox` is resolved only when
    /// the send must run (a replay needs none).
    /// An answer that is not a new send says so (`replayed`).
    pub async fn run<M, F, Fut>(self, mailbox: M, run: F) -> Result<SentMessage, GmailError>
    where
        M: Future<Output = Result<Mailbox, GmailError>>,
        F: FnOnce(Mailbox, Option<String>) -> Fut,
        Fut: Future<Output = Result<SentMessage, GmailError>>,
    {
        let Some(key) = self.key else {
            return run(mailbox.await?, None).await;
        };
        let fp = fingerprint(self.route, &self.message);
        let claim = match self.store.begin(self.caller, key, fp).await? {
            Begin::Replay(body) => {
                let sent: SentMessage = serde_json::from_slice(&body)
                    .map_err(|e| GmailError::internal_from("idempotency record", e))?;
                return Ok(SentMessage {
                    replayed: true,
                    ..sent
                });
            }
            Begin::Run(claim) => claim,
        };
        let once_id = send::once_message_id(&claim.scope(&fp));
        let result = async {
            let mailbox = mailbox.await?;
            // Not knowing means not sending: an error here releases the key for a retry.
            if let Some(sent) = send::already_sent(&mailbox, &once_id).await? {
                tracing::info!(message = %sent.id, "an earlier attempt with this idempotency key was sent; answering with it");
                return Ok(SentMessage {
                    replayed: true,
                    ..sent
                });
            }
            run(mailbox, Some(once_id)).await
        }
        .await;
        self.store.finish(claim, &result).await;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Claims `key` for `fp`: the first use, which must run.
    async fn claim(store: &IdempotencyStore, key: &str, fp: [u8; 32]) -> Claim {
        match store.begin("caller", key, fp).await {
            Ok(Begin::Run(claim)) => claim,
            _ => panic!("the first use of {key} must run"),
        }
    }

    /// Claims key "k", finishes it with `outcome`, and tells whether "k" then runs again.
    async fn runs_after<T: serde::Serialize>(
        store: &IdempotencyStore,
        fp: [u8; 32],
        outcome: &Result<T, GmailError>,
    ) -> bool {
        let key = claim(store, "k", fp).await;
        store.finish(key, outcome).await;
        matches!(store.begin("caller", "k", fp).await, Ok(Begin::Run(_)))
    }

    #[tokio::test]
    async fn same_key_same_request_replays_and_different_request_conflicts() {
        let store = IdempotencyStore::default();
        let fp = fingerprint("send", &serde_json::json!({"a": 1}));
        let key = claim(&store, "k1", fp).await;
        // In flight: a concurrent repeat is refused rather than sent twice.
        assert!(matches!(
            store.begin("caller", "k1", fp).await,
            Err(GmailError::Conflict { .. })
        ));
        store.finish(key, &Ok::<_, GmailError>("sent")).await;
        assert!(matches!(
            store.begin("caller", "k1", fp).await,
            Ok(Begin::Replay(body)) if body == b"\"sent\""
        ));
        let other = fingerprint("send", &serde_json::json!({"a": 2}));
        let err = store.begin("caller", "k1", other).await.err().unwrap();
        assert!(err.to_string().contains("different request"), "{err}");
        // Another caller's key of the same name is their own.
        assert!(matches!(
            store.begin("someone else", "k1", other).await,
            Ok(Begin::Run(_))
        ));
    }

    #[tokio::test]
    async fn failures_release_the_key_and_the_store_is_bounded() {
        let store = IdempotencyStore::new(Duration::from_secs(60), 3);
        let fp = fingerprint("send", &serde_json::Value::Null);
        assert!(runs_after(&store, fp, &Err::<(), _>(GmailError::internal("x"))).await);
        for i in 0..10 {
            let _ = store.begin("caller", &format!("k{i}"), fp).await.unwrap();
        }
        assert!(store.len() <= 3);
    }

    /// A send whose outcome is unknown is held for a lease, and a full store forgets others
    /// first: forgetting it would let the retry send a second time.
    #[tokio::test]
    async fn a_timed_out_send_is_held_and_evicted_last() {
        let store = IdempotencyStore::new(Duration::from_secs(60), 2);
        let fp = fingerprint("send", &serde_json::Value::Null);
        let timed_out = claim(&store, "sent?", fp).await;
        let timeout = GmailError::UpstreamTimeout {
            after: Duration::from_secs(1),
            sent_as: None,
        };
        store.finish(timed_out, &Err::<(), _>(timeout)).await;
        for i in 0..5 {
            let done = claim(&store, &format!("k{i}"), fp).await;
            store.finish(done, &Ok::<_, GmailError>(i)).await;
        }
        assert!(matches!(
            store.begin("caller", "sent?", fp).await,
            Err(GmailError::Conflict { .. })
        ));
    }

    #[tokio::test]
    async fn expired_keys_run_again() {
        let store = IdempotencyStore::new(Duration::from_millis(0), 10);
        let fp = fingerprint("send", &serde_json::Value::Null);
        assert!(runs_after(&store, fp, &Ok::<_, GmailError>(1)).await);
    }

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        assert_eq!(parse_key("k", " order 1 ").unwrap(), "order 1");
        for bad in ["", "   ", "é", "a\r\nb", "a\tb"] {
            assert!(parse_key("k", bad).is_err(), "{bad:?}");
        }
        assert!(parse_key("k", &"x".repeat(MAX_KEY_LEN + 1)).is_err());
    }
}
