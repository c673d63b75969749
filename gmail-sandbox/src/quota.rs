//! Per-user quota (Gmail's per-method unit costs in a token bucket), fault injection and
//! request statistics.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Mutex, RwLock};
use rand::Rng;

use crate::config::{FaultConfig, QuotaConfig};
use crate::error::ApiError;

/// Gmail's published quota units per method (`labels.patch`/`sendAs.patch` as their updates).
pub fn method_cost(method: &str) -> u32 {
    match method {
        "users.getProfile" => 1,
        "users.watch" => 100,
        "users.stop" => 50,
        "users.drafts.create" => 10,
        "users.drafts.delete" => 10,
        "users.drafts.get" => 5,
        "users.drafts.list" => 5,
        "users.drafts.send" => 100,
        "users.drafts.update" => 15,
        "users.history.list" => 2,
        "users.labels.create"
        | "users.labels.delete"
        | "users.labels.update"
        | "users.labels.patch" => 5,
        "users.labels.get" | "users.labels.list" => 1,
        "users.messages.attachments.get" => 5,
        "users.messages.batchDelete" | "users.messages.batchModify" => 50,
        "users.messages.delete" => 10,
        "users.messages.get" | "users.messages.list" | "users.messages.modify" => 5,
        "users.messages.trash" | "users.messages.untrash" => 5,
        "users.messages.import" | "users.messages.insert" => 25,
        "users.messages.send" => 100,
        "users.settings.filters.create" | "users.settings.filters.delete" => 5,
        "users.settings.filters.get" | "users.settings.filters.list" => 1,
        "users.settings.getVacation"
        | "users.settings.getImap"
        | "users.settings.getPop"
        | "users.settings.getLanguage"
        | "users.settings.getAutoForwarding"
        | "users.settings.forwardingAddresses.list"
        | "users.settings.forwardingAddresses.get" => 1,
        "users.settings.updateImap"
        | "users.settings.updateLanguage"
        | "users.settings.updateAutoForwarding" => 5,
        "users.settings.updatePop" => 100,
        "users.settings.updateVacation" => 5,
        "users.settings.sendAs.get" | "users.settings.sendAs.list" => 1,
        "users.settings.sendAs.create"
        | "users.settings.sendAs.update"
        | "users.settings.sendAs.patch"
        | "users.settings.sendAs.verify" => 100,
        "users.settings.sendAs.delete" => 5,
        "users.threads.delete" => 20,
        "users.threads.get" | "users.threads.list" | "users.threads.modify" => 10,
        "users.threads.trash" | "users.threads.untrash" => 10,
        _ => 1,
    }
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

pub struct Quota {
    cfg: RwLock<QuotaConfig>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Quota {
    pub fn new(cfg: QuotaConfig) -> Quota {
        Quota {
            cfg: RwLock::new(cfg),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn config(&self) -> QuotaConfig {
        self.cfg.read().clone()
    }

    pub fn set_config(&self, cfg: QuotaConfig) {
        *self.cfg.write() = cfg;
        self.buckets.lock().clear();
    }

    /// Take `method`'s cost from `user`'s bucket, or answer Gmail's 429.
    pub fn charge(&self, user: &str, method: &str) -> Result<(), ApiError> {
        let cfg = self.cfg.read().clone();
        if !cfg.enabled {
            return Ok(());
        }
        let cost = method_cost(method) as f64;
        let now = Instant::now();
        let mut buckets = self.buckets.lock();
        let b = buckets.entry(user.to_string()).or_insert(Bucket {
            tokens: cfg.burst_units,
            last: now,
        });
        let elapsed = now.duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * cfg.units_per_second).min(cfg.burst_units);
        b.last = now;
        if b.tokens >= cost {
            b.tokens -= cost;
            Ok(())
        } else {
            let wait = if cfg.units_per_second > 0.0 {
                (cost - b.tokens) / cfg.units_per_second
            } else {
                60.0
            };
            let at =
                chrono::Utc::now() + chrono::Duration::milliseconds((wait * 1000.0).ceil() as i64);
            let mut e = ApiError::rate_limited(at);
            if cfg.exceeded_status == 403 {
                e.code = 403;
                e.status = "PERMISSION_DENIED";
            }
            Err(e)
        }
    }
}

pub struct Faults {
    cfg: RwLock<FaultConfig>,
    in_flight: Arc<Mutex<HashMap<String, usize>>>,
}

/// A request's place in its user's in-flight count; released on drop.
pub struct Slot {
    user: String,
    counts: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut c = self.counts.lock();
        if let Some(n) = c.get_mut(&self.user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                c.remove(&self.user);
            }
        }
    }
}

impl Faults {
    pub fn new(cfg: FaultConfig) -> Faults {
        Faults {
            cfg: RwLock::new(cfg),
            in_flight: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Take an in-flight slot for `user`, or None when `cap` are already taken.
    pub fn enter(&self, user: &str, cap: usize) -> Option<Slot> {
        let mut c = self.in_flight.lock();
        let n = c.entry(user.to_string()).or_insert(0);
        if *n >= cap {
            return None;
        }
        *n += 1;
        Some(Slot {
            user: user.to_string(),
            counts: self.in_flight.clone(),
        })
    }

    pub fn get(&self) -> FaultConfig {
        self.cfg.read().clone()
    }

    pub fn set(&self, cfg: FaultConfig) {
        *self.cfg.write() = cfg;
    }

    /// Roll the dice for one request of `method`: an error to answer with, if any.
    pub fn roll(&self, method: &str) -> Option<ApiError> {
        let cfg = self.cfg.read();
        if (cfg.error_rate <= 0.0 && cfg.rate_limit_rate <= 0.0) || !applies(&cfg, method) {
            return None;
        }
        let mut rng = rand::rng();
        if cfg.error_rate > 0.0 && rng.random::<f64>() < cfg.error_rate {
            return Some(if cfg.error_status == Some(503) {
                ApiError::unavailable()
            } else {
                ApiError::backend_error()
            });
        }
        if cfg.rate_limit_rate > 0.0 && rng.random::<f64>() < cfg.rate_limit_rate {
            return Some(self.too_many_concurrent());
        }
        None
    }

    /// Whether `method` is named among the faulted methods (not only covered by "every
    /// method").
    pub fn names(&self, method: &str) -> bool {
        self.cfg.read().methods.iter().any(|m| m == method)
    }

    /// The injected 429, with `Retry-After` when configured.
    pub fn too_many_concurrent(&self) -> ApiError {
        ApiError::too_many_concurrent().with_retry_after(self.cfg.read().retry_after_secs)
    }

    /// The per-user in-flight cap for a request of `method` (0 = none).
    pub fn concurrency_cap(&self, method: Option<&str>) -> usize {
        let cfg = self.cfg.read();
        if applies_opt(&cfg, method) {
            cfg.max_concurrent_per_user
        } else {
            0
        }
    }

    /// Latency to add before handling a request made of `methods` (batch: its parts).
    pub fn latency_ms(&self, methods: &[Option<&str>]) -> u64 {
        let cfg = self.cfg.read();
        if methods.iter().any(|m| applies_opt(&cfg, *m)) {
            cfg.latency_ms
        } else {
            0
        }
    }

    /// How long to hold the answer to a processed request made of `methods`.
    pub fn delay_after_ms(&self, methods: &[Option<&str>]) -> u64 {
        let cfg = self.cfg.read();
        if methods.iter().any(|m| applies_opt(&cfg, *m)) {
            cfg.delay_after_ms
        } else {
            0
        }
    }

    pub fn batch_disabled(&self) -> bool {
        self.cfg.read().batch_disabled
    }
}

fn applies(cfg: &FaultConfig, method: &str) -> bool {
    cfg.methods.is_empty() || cfg.methods.iter().any(|m| m == method)
}

/// `None` is a request that names no Gmail method (unknown path): only "every method" hits it.
fn applies_opt(cfg: &FaultConfig, method: Option<&str>) -> bool {
    match method {
        Some(m) => applies(cfg, m),
        None => cfg.methods.is_empty(),
    }
}

/// Pub/Sub push counters, shared with the push task (which must not keep the whole state alive).
#[derive(Default)]
pub struct PushStats {
    /// Push requests the endpoint acknowledged (2xx).
    pub sent: AtomicU64,
    /// Push attempts that failed (non-2xx, connection error, timeout, https endpoint).
    pub failures: AtomicU64,
    /// Notifications given up after the last retry.
    pub dropped: AtomicU64,
}

/// Request counters: per Gmail method (batch parts included), HTTP requests received on the
/// Gmail API paths (a batch counts once: what a client's upstream cost is), token-endpoint
/// grants by type, and Pub/Sub pushes.
#[derive(Default)]
pub struct Stats {
    methods: RwLock<HashMap<String, AtomicU64>>,
    grants: RwLock<HashMap<String, AtomicU64>>,
    http: AtomicU64,
    quota_rejections: AtomicU64,
    faults_injected: AtomicU64,
    pub push: Arc<PushStats>,
}

fn bump(map: &RwLock<HashMap<String, AtomicU64>>, key: &str) {
    if let Some(c) = map.read().get(key) {
        c.fetch_add(1, Ordering::Relaxed);
        return;
    }
    map.write()
        .entry(key.to_string())
        .or_insert_with(|| AtomicU64::new(0))
        .fetch_add(1, Ordering::Relaxed);
}

fn snapshot(map: &RwLock<HashMap<String, AtomicU64>>) -> BTreeMap<String, u64> {
    map.read()
        .iter()
        .map(|(k, v)| (k.clone(), v.load(Ordering::Relaxed)))
        .collect()
}

impl Stats {
    pub fn method(&self, name: &str) {
        bump(&self.methods, name);
    }

    pub fn grant(&self, grant_type: &str) {
        bump(&self.grants, grant_type);
    }

    pub fn http_request(&self) {
        self.http.fetch_add(1, Ordering::Relaxed);
    }

    /// A call refused because its user's quota was spent.
    pub fn quota_rejection(&self) {
        self.quota_rejections.fetch_add(1, Ordering::Relaxed);
    }

    /// A call answered with an injected fault (`FaultConfig`).
    pub fn fault_injected(&self) {
        self.faults_injected.fetch_add(1, Ordering::Relaxed);
    }

    pub fn json(&self) -> serde_json::Value {
        let methods = snapshot(&self.methods);
        let total: u64 = methods.values().sum();
        serde_json::json!({
            "requests": methods,
            "totalRequests": total,
            "httpRequests": self.http.load(Ordering::Relaxed),
            "tokenGrants": snapshot(&self.grants),
            "quotaRejections": self.quota_rejections.load(Ordering::Relaxed),
            "faultsInjected": self.faults_injected.load(Ordering::Relaxed),
            "pubsubPushes": self.push.sent.load(Ordering::Relaxed),
            "pubsubPushFailures": self.push.failures.load(Ordering::Relaxed),
            "pubsubPushesDropped": self.push.dropped.load(Ordering::Relaxed),
        })
    }

    pub fn reset(&self) {
        self.methods.write().clear();
        self.grants.write().clear();
        self.http.store(0, Ordering::Relaxed);
        self.quota_rejections.store(0, Ordering::Relaxed);
        self.faults_injected.store(0, Ordering::Relaxed);
        self.push.sent.store(0, Ordering::Relaxed);
        self.push.failures.store(0, Ordering::Relaxed);
        self.push.dropped.store(0, Ordering::Relaxed);
    }
}
