//! Sandbox configuration.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Where the SQLite database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    /// `sqlite::memory:` on a single connection (tests).
    Memory,
    File(PathBuf),
}

/// Per-user quota as a token bucket of Gmail quota units (off by default).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct QuotaConfig {
    pub enabled: bool,
    /// Refill rate; Gmail's per-user limit is 15,000 units/minute = 250/s.
    pub units_per_second: f64,
    /// Bucket capacity (burst).
    pub burst_units: f64,
    /// Status for an exhausted quota: 429 RESOURCE_EXHAUSTED (default) or 403
    /// PERMISSION_DENIED; real Gmail uses both for the same condition.
    pub exceeded_status: u16,
}

impl Default for QuotaConfig {
    fn default() -> Self {
        QuotaConfig {
            enabled: false,
            units_per_second: 250.0,
            burst_units: 500.0,
            exceeded_status: 429,
        }
    }
}

/// Injected faults on Gmail API calls (off by default). Rates are probabilities in 0..=1.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct FaultConfig {
    /// Added latency per request, milliseconds.
    pub latency_ms: u64,
    /// Probability of a 500 backendError (or 503 when `error_status` is 503).
    pub error_rate: f64,
    /// Probability of a 429 "Too many concurrent requests for user".
    pub rate_limit_rate: f64,
    /// Status used for injected server errors: 500 (default) or 503.
    pub error_status: Option<u16>,
    /// Requests a user may have in flight before 429 "Too many concurrent requests for
    /// user" (0 = unlimited). Pair with `latency_ms` to make requests overlap.
    pub max_concurrent_per_user: usize,
    /// Gmail methods (`users.messages.send`, …) the faults above and `delay_after_ms`
    /// apply to; empty = every method. A batch part counts as its own method; `batch`
    /// names the batch request itself (named, it fails whole).
    pub methods: Vec<String>,
    /// `/batch` and `/batch/gmail/v1` answer 404, like a Gmail-compatible server without them.
    pub batch_disabled: bool,
    /// Hold the response this long after the request took effect and was written to the
    /// database (to kill a client mid-send whose send already happened).
    pub delay_after_ms: u64,
    /// `Retry-After` seconds on injected 429s (none by default, like Gmail).
    pub retry_after_secs: Option<u64>,
}

/// A Pub/Sub push subscription: every message published to `topic` is POSTed to
/// `push_endpoint` (an `http://` URL; the sandbox speaks no TLS).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushSubscription {
    /// `projects/{project}/topics/{topic}`.
    pub topic: String,
    #[serde(rename = "pushEndpoint")]
    pub push_endpoint: String,
}

impl PushSubscription {
    /// Parse the CLI form `TOPIC=URL` (the URL may itself contain `=`).
    pub fn parse(spec: &str) -> Result<PushSubscription, String> {
        let (topic, url) = spec
            .split_once('=')
            .ok_or_else(|| format!("expected TOPIC=URL, got {spec:?}"))?;
        let sub = PushSubscription {
            topic: topic.trim().to_string(),
            push_endpoint: url.trim().to_string(),
        };
        sub.validate()?;
        Ok(sub)
    }

    /// Check the topic name and the endpoint URL.
    pub fn validate(&self) -> Result<(), String> {
        if parse_topic(&self.topic).is_none() {
            return Err(format!(
                "topic must look like projects/PROJECT/topics/TOPIC, got {:?}",
                self.topic
            ));
        }
        let uri: hyper::Uri = self
            .push_endpoint
            .parse()
            .map_err(|e| format!("invalid pushEndpoint {:?}: {e}", self.push_endpoint))?;
        match uri.scheme_str() {
            Some("http") | Some("https") if uri.host().is_some() => Ok(()),
            _ => Err(format!(
                "pushEndpoint must be an absolute http:// URL, got {:?}",
                self.push_endpoint
            )),
        }
    }
}

/// `projects/{project}/topics/{topic}` → `(project, topic)`.
pub fn parse_topic(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix("projects/")?;
    let (project, topic) = rest.split_once("/topics/")?;
    let ok = |s: &str| !s.is_empty() && !s.contains('/') && !s.contains(char::is_whitespace);
    (ok(project) && ok(topic)).then_some((project, topic))
}

#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub host: String,
    pub port: u16,
    pub database: DatabaseLocation,
    /// Create the demo mailboxes when the database holds none.
    pub seed_if_empty: bool,
    pub access_token_ttl_secs: u64,
    /// Approve authorization requests without showing the consent page.
    pub auto_approve: bool,
    pub quota: QuotaConfig,
    pub faults: FaultConfig,
    /// Push subscriptions present at start (more via `/__sandbox/pubsub/subscriptions`).
    pub pubsub_push: Vec<PushSubscription>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            host: "127.0.0.1".into(),
            port: 8002,
            database: DatabaseLocation::Memory,
            seed_if_empty: true,
            access_token_ttl_secs: 3600,
            auto_approve: true,
            quota: QuotaConfig::default(),
            faults: FaultConfig::default(),
            pubsub_push: Vec::new(),
        }
    }
}

impl SandboxConfig {
    /// Ephemeral port, in-memory database, seeded: what integration tests want.
    pub fn for_tests() -> Self {
        SandboxConfig {
            port: 0,
            ..SandboxConfig::default()
        }
    }
}
