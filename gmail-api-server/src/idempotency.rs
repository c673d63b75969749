//! `Idempotency-Key` for the endpoints that send mail: a repeated request with the same key
//! gets the first answer and sends nothing twice. Keys are per caller. In multi-user mode they
//! live in the database, so every instance sharing it (behind a load balancer) honours them
//! and a restart keeps them; the single-user server keeps them in memory, with a TTL and a
//! size bound.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use gmail_shared::store::{IdempotencyClaim, Store};
use gmail_shared::GmailError;
use sha2::{Digest, Sha256};

pub const HEADER: &str = "Idempotency-Key";
/// Set on an answer replayed from the store.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);
pub const DEFAULT_CAPACITY: usize = 10_000;
/// A claim still unanswered after this long belongs to a request whose server died; another
/// may take it over. Far above any send's duration (the upstream timeout is well under it).
pub const LEASE: Duration = Duration::from_secs(300);
const MAX_KEY_LEN: usize = 255;

#[derive(Clone)]
struct Stored {
    status: StatusCode,
    body: Vec<u8>,
}

struct Entry {
    fingerprint: [u8; 32],
    created: Instant,
    /// `None` while the first request is still running.
    result: Option<Stored>,
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

/// What to do with a request.
pub enum Begin {
    /// No key: just run it.
    NoKey,
    /// First time for this key: run it, then [`IdempotencyStore::finish`].
    Run(Claim),
    /// Seen before with the same request: the first answer.
    Replay(HttpResponse),
}

/// The fingerprint of a request: its route and its parsed content, so the same logical request
/// matches even when a multipart boundary or JSON key order differs.
pub fn fingerprint(route: &str, content: &serde_json::Value) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(route.as_bytes());
    h.update([0]);
    h.update(content.to_string().as_bytes());
    h.finalize().into()
}

fn in_progress(key: &str) -> GmailError {
    GmailError::Conflict {
        message: format!(
            "a request with Idempotency-Key {key:?} is still in progress; retry when it has finished"
        ),
    }
}

fn mismatch(key: &str) -> GmailError {
    GmailError::Conflict {
        message: format!(
            "Idempotency-Key {key:?} was already used for a different request (another endpoint or body); use a new key for a new request"
        ),
    }
}

fn replay(status: StatusCode, body: Vec<u8>) -> Begin {
    Begin::Replay(
        HttpResponse::build(status)
            .content_type("application/json")
            .insert_header((REPLAYED_HEADER, "true"))
            .body(body),
    )
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

    /// Looks the request's key up; claims it when new.
    pub async fn begin(
        &self,
        req: &HttpRequest,
        fingerprint: [u8; 32],
    ) -> Result<Begin, GmailError> {
        let Some(value) = req.headers().get(HEADER) else {
            return Ok(Begin::NoKey);
        };
        let key = value
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|k| !k.is_empty() && k.len() <= MAX_KEY_LEN)
            .ok_or_else(|| {
                GmailError::invalid(
                    HEADER,
                    format!("must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
                )
            })?
            .to_string();
        // Keys are per caller: two users never see each other's stored answers.
        let caller = gmail_shared::auth::caller_id(req).unwrap_or_default();
        let claim = Claim {
            caller,
            key,
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
                    IdempotencyClaim::Done { status, body } => Ok(replay(
                        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
                        body.into_bytes(),
                    )),
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
        if let Some(e) = entries.get(&scoped) {
            if now.duration_since(e.created) < self.ttl {
                if e.fingerprint != fingerprint {
                    return Err(mismatch(&claim.key));
                }
                return match &e.result {
                    Some(stored) => Ok(replay(stored.status, stored.body.clone())),
                    None => Err(in_progress(&claim.key)),
                };
            }
        }
        self.make_room(entries, capacity, now);
        entries.insert(
            scoped,
            Entry {
                fingerprint,
                created: now,
                result: None,
            },
        );
        Ok(Begin::Run(claim))
    }

    /// Drops expired entries, then the oldest ones, until one more fits.
    fn make_room(&self, entries: &mut HashMap<String, Entry>, capacity: usize, now: Instant) {
        if entries.len() < capacity {
            return;
        }
        entries.retain(|_, e| now.duration_since(e.created) < self.ttl);
        while entries.len() >= capacity {
            let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, e)| e.created)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            entries.remove(&oldest);
        }
    }

    /// Records the answer to a claimed key. A failure releases the key: nothing was sent, so
    /// the client may retry with the same key.
    pub async fn finish<T: serde::Serialize>(
        &self,
        claim: Option<Claim>,
        status: StatusCode,
        result: &Result<T, GmailError>,
    ) {
        let Some(claim) = claim else { return };
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
                match body {
                    Some(body) => {
                        if let Some(e) = entries.get_mut(&claim.scoped()) {
                            e.result = Some(Stored { status, body });
                        }
                    }
                    None if unknown => {
                        if let Some(e) = entries.get_mut(&claim.scoped()) {
                            // Aged so that it lapses one lease from now.
                            let aged = self.ttl.saturating_sub(LEASE);
                            e.created = Instant::now().checked_sub(aged).unwrap_or(e.created);
                        }
                    }
                    None => {
                        entries.remove(&claim.scoped());
                    }
                }
            }
            Backend::Database(store) => {
                // Claims in the database always carry their lease.
                let lease = claim.lease.unwrap_or_default();
                let saved = match body {
                    Some(body) => {
                        let body = String::from_utf8(body).unwrap_or_default();
                        store
                            .complete_idempotency_key(
                                &claim.caller,
                                &claim.key,
                                lease,
                                status.as_u16(),
                                &body,
                            )
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
                        "an Idempotency-Key claim was taken over before its request finished"
                    ),
                    Err(e) => {
                        tracing::warn!(error = %e, "could not record the Idempotency-Key outcome")
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

fn lock(
    entries: &Mutex<HashMap<String, Entry>>,
) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
    // A panic elsewhere while holding the lock leaves the map usable.
    entries.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn req(key: &str) -> HttpRequest {
        TestRequest::default()
            .insert_header((HEADER, key))
            .to_http_request()
    }

    /// Claims `key` for `fp`: the first use, which must run.
    async fn claim(store: &IdempotencyStore, key: &str, fp: [u8; 32]) -> Claim {
        match store.begin(&req(key), fp).await {
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
        store.finish(Some(key), StatusCode::OK, outcome).await;
        matches!(store.begin(&req("k"), fp).await, Ok(Begin::Run(_)))
    }

    #[actix_web::test]
    async fn same_key_same_request_replays_and_different_request_conflicts() {
        let store = IdempotencyStore::default();
        let fp = fingerprint("send", &serde_json::json!({"a": 1}));
        let key = claim(&store, "k1", fp).await;
        // In flight: a concurrent repeat is refused rather than sent twice.
        assert!(matches!(
            store.begin(&req("k1"), fp).await,
            Err(GmailError::Conflict { .. })
        ));
        store
            .finish(Some(key), StatusCode::OK, &Ok::<_, GmailError>("sent"))
            .await;
        assert!(matches!(
            store.begin(&req("k1"), fp).await,
            Ok(Begin::Replay(_))
        ));
        let other = fingerprint("send", &serde_json::json!({"a": 2}));
        let err = store.begin(&req("k1"), other).await.err().unwrap();
        assert!(err.to_string().contains("different request"), "{err}");
    }

    #[actix_web::test]
    async fn failures_release_the_key_and_the_store_is_bounded() {
        let store = IdempotencyStore::new(Duration::from_secs(60), 3);
        let fp = fingerprint("send", &serde_json::Value::Null);
        assert!(runs_after(&store, fp, &Err::<(), _>(GmailError::internal("x"))).await);
        for i in 0..10 {
            let _ = store.begin(&req(&format!("k{i}")), fp).await.unwrap();
        }
        assert!(store.len() <= 3);
        assert!(matches!(
            store
                .begin(&TestRequest::default().to_http_request(), fp)
                .await,
            Ok(Begin::NoKey)
        ));
    }

    #[actix_web::test]
    async fn expired_keys_run_again() {
        let store = IdempotencyStore::new(Duration::from_millis(0), 10);
        let fp = fingerprint("send", &serde_json::Value::Null);
        assert!(runs_after(&store, fp, &Ok::<_, GmailError>(1)).await);
    }
}
