//! `Idempotency-Key` for the endpoints that send mail: a repeated request with the same key
//! gets the first answer and sends nothing twice. In memory, with a TTL and a size bound:
//! it protects against client retries, not against a server restart.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use gmail_shared::GmailError;
use sha2::{Digest, Sha256};

pub const HEADER: &str = "Idempotency-Key";
/// Set on an answer replayed from the store.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);
pub const DEFAULT_CAPACITY: usize = 10_000;
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

pub struct IdempotencyStore {
    entries: Mutex<HashMap<String, Entry>>,
    ttl: Duration,
    capacity: usize,
}

impl Default for IdempotencyStore {
    fn default() -> Self {
        IdempotencyStore::new(DEFAULT_TTL, DEFAULT_CAPACITY)
    }
}

/// What to do with a request.
pub enum Begin {
    /// No key: just run it.
    NoKey,
    /// First time for this key: run it, then [`IdempotencyStore::finish`].
    Run(String),
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

impl IdempotencyStore {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        IdempotencyStore {
            entries: Mutex::new(HashMap::new()),
            ttl,
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic elsewhere while holding the lock leaves the map usable.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Looks the request's key up; claims it when new.
    pub fn begin(&self, req: &HttpRequest, fingerprint: [u8; 32]) -> Result<Begin, GmailError> {
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
        let scoped = {
            use actix_web::HttpMessage;
            let caller = req
                .extensions()
                .get::<gmail_shared::tools::ToolContext>()
                .and_then(|c| c.mailboxes.caller().map(|(_, u)| u.to_string()))
                .unwrap_or_default();
            format!("{caller}\u{0}{key}")
        };
        let now = Instant::now();
        let mut entries = self.lock();
        if let Some(e) = entries.get(&scoped) {
            if now.duration_since(e.created) < self.ttl {
                if e.fingerprint != fingerprint {
                    return Err(GmailError::Conflict {
                        message: format!(
                            "Idempotency-Key {key:?} was already used for a different request (another endpoint or body); use a new key for a new request"
                        ),
                    });
                }
                return match &e.result {
                    Some(stored) => Ok(Begin::Replay(
                        HttpResponse::build(stored.status)
                            .content_type("application/json")
                            .insert_header((REPLAYED_HEADER, "true"))
                            .body(stored.body.clone()),
                    )),
                    None => Err(GmailError::Conflict {
                        message: format!(
                            "a request with Idempotency-Key {key:?} is still in progress; retry when it has finished"
                        ),
                    }),
                };
            }
        }
        self.make_room(&mut entries, now);
        entries.insert(
            scoped.clone(),
            Entry {
                fingerprint,
                created: now,
                result: None,
            },
        );
        Ok(Begin::Run(scoped))
    }

    /// Drops expired entries, then the oldest ones, until one more fits.
    fn make_room(&self, entries: &mut HashMap<String, Entry>, now: Instant) {
        if entries.len() < self.capacity {
            return;
        }
        entries.retain(|_, e| now.duration_since(e.created) < self.ttl);
        while entries.len() >= self.capacity {
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
    pub fn finish<T: serde::Serialize>(
        &self,
        key: Option<String>,
        status: StatusCode,
        result: &Result<T, GmailError>,
    ) {
        let Some(key) = key else { return };
        let mut entries = self.lock();
        match result {
            Ok(value) => {
                if let Some(e) = entries.get_mut(&key) {
                    e.result = Some(Stored {
                        status,
                        body: serde_json::to_vec(value).unwrap_or_default(),
                    });
                }
            }
            Err(_) => {
                entries.remove(&key);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
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

    #[test]
    fn same_key_same_request_replays_and_different_request_conflicts() {
        let store = IdempotencyStore::default();
        let fp = fingerprint("send", &serde_json::json!({"a": 1}));
        let Begin::Run(key) = store.begin(&req("k1"), fp).unwrap() else {
            panic!("first use must run")
        };
        // In flight: a concurrent repeat is refused rather than sent twice.
        assert!(matches!(
            store.begin(&req("k1"), fp),
            Err(GmailError::Conflict { .. })
        ));
        store.finish(Some(key), StatusCode::OK, &Ok::<_, GmailError>("sent"));
        assert!(matches!(store.begin(&req("k1"), fp), Ok(Begin::Replay(_))));
        let other = fingerprint("send", &serde_json::json!({"a": 2}));
        let err = store.begin(&req("k1"), other).err().unwrap();
        assert!(err.to_string().contains("different request"), "{err}");
    }

    #[test]
    fn failures_release_the_key_and_the_store_is_bounded() {
        let store = IdempotencyStore::new(Duration::from_secs(60), 3);
        let fp = fingerprint("send", &serde_json::Value::Null);
        let Begin::Run(key) = store.begin(&req("k"), fp).unwrap() else {
            panic!()
        };
        store.finish::<()>(Some(key), StatusCode::OK, &Err(GmailError::internal("x")));
        assert!(matches!(store.begin(&req("k"), fp), Ok(Begin::Run(_))));
        for i in 0..10 {
            let _ = store.begin(&req(&format!("k{i}")), fp).unwrap();
        }
        assert!(store.len() <= 3);
        assert!(matches!(
            store.begin(&TestRequest::default().to_http_request(), fp),
            Ok(Begin::NoKey)
        ));
    }

    #[test]
    fn expired_keys_run_again() {
        let store = IdempotencyStore::new(Duration::from_millis(0), 10);
        let fp = fingerprint("send", &serde_json::Value::Null);
        let Begin::Run(key) = store.begin(&req("k"), fp).unwrap() else {
            panic!()
        };
        store.finish(Some(key), StatusCode::OK, &Ok::<_, GmailError>(1));
        assert!(matches!(store.begin(&req("k"), fp), Ok(Begin::Run(_))));
    }
}
