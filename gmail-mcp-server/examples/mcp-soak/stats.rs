//! What the soak's sessions record: latencies in a fixed-size histogram (memory stays flat
//! however long the run), outcomes per tool, and a few error texts.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

// ---- latency histogram: fixed size, so memory stays flat however long the run ----

/// Log buckets 2% wide from 1 µs up (far past any timeout); percentiles are a bucket's upper
/// bound, so within 2% of the truth.
pub(crate) const GROWTH: f64 = 1.02;
pub(crate) const BUCKETS: usize = 1200;

pub(crate) struct Hist {
    pub(crate) counts: Box<[u64]>,
    pub(crate) n: u64,
    pub(crate) max_us: u64,
}

impl Hist {
    pub(crate) fn new() -> Hist {
        Hist {
            counts: vec![0; BUCKETS].into_boxed_slice(),
            n: 0,
            max_us: 0,
        }
    }

    pub(crate) fn add(&mut self, d: Duration) {
        let us = d.as_micros().max(1) as u64;
        let idx = ((us as f64).ln() / GROWTH.ln()).ceil() as usize;
        self.counts[idx.min(BUCKETS - 1)] += 1;
        self.n += 1;
        self.max_us = self.max_us.max(us);
    }

    /// The p-quantile in ms (0 when empty).
    pub(crate) fn quantile_ms(&self, p: f64) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        let rank = ((p * self.n as f64).ceil() as u64).clamp(1, self.n);
        let mut seen = 0;
        for (idx, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let upper = GROWTH.powi(idx as i32).min(self.max_us as f64);
                return upper / 1000.0;
            }
        }
        self.max_us as f64 / 1000.0
    }

    pub(crate) fn max_ms(&self) -> f64 {
        self.max_us as f64 / 1000.0
    }
}

// ---- what the sessions record ----

pub(crate) const TOOLS: [&str; 6] = [
    "search_emails",
    "read_email",
    "list_email_labels",
    "get_profile",
    "get_thread",
    "list_drafts",
];

pub(crate) enum Outcome {
    /// The reply (collect_ids reads it; the sessions drop it).
    Ok(Value),
    /// A tools/call result with `isError: true`.
    ToolError(String),
    /// A JSON-RPC `error` reply.
    RpcError(String),
    /// No reply within `--call-timeout-secs`.
    Timeout,
    /// The POST failed or was refused.
    Transport(String),
    /// The SSE stream ended or the server no longer knows the session (counted as transport;
    /// the session reconnects).
    SessionGone(String),
}

#[derive(Default, Clone, Copy)]
pub(crate) struct Counts {
    pub(crate) calls: u64,
    pub(crate) tool_errors: u64,
    pub(crate) rpc_errors: u64,
    pub(crate) timeouts: u64,
    pub(crate) transport: u64,
}

impl Counts {
    pub(crate) fn errors(&self) -> u64 {
        self.tool_errors + self.rpc_errors + self.timeouts + self.transport
    }
}

/// Distinct error texts kept (with counts); the rest are only counted.
pub(crate) const ERROR_SAMPLES: usize = 20;

pub(crate) struct ToolStats {
    pub(crate) answered: Hist,
    pub(crate) calls: u64,
    pub(crate) errors: u64,
}

pub(crate) struct Stats {
    pub(crate) counts: Counts,
    pub(crate) interval: Hist,
    pub(crate) total: Hist,
    pub(crate) per_tool: Vec<ToolStats>,
    pub(crate) samples: BTreeMap<String, u64>,
    pub(crate) unsampled: u64,
}

impl Stats {
    pub(crate) fn new() -> Stats {
        Stats {
            counts: Counts::default(),
            interval: Hist::new(),
            total: Hist::new(),
            per_tool: TOOLS
                .iter()
                .map(|_| ToolStats {
                    answered: Hist::new(),
                    calls: 0,
                    errors: 0,
                })
                .collect(),
            samples: BTreeMap::new(),
            unsampled: 0,
        }
    }

    pub(crate) fn record(&mut self, tool: usize, latency: Option<Duration>, outcome: Outcome) {
        self.counts.calls += 1;
        self.per_tool[tool].calls += 1;
        // Timeouts and transport failures have no reply, so no latency.
        if let Some(d) = latency {
            self.interval.add(d);
            self.total.add(d);
            self.per_tool[tool].answered.add(d);
        }
        let text = match outcome {
            Outcome::Ok(_) => return,
            Outcome::ToolError(t) => {
                self.counts.tool_errors += 1;
                format!("tool error: {t}")
            }
            Outcome::RpcError(t) => {
                self.counts.rpc_errors += 1;
                format!("JSON-RPC error: {t}")
            }
            Outcome::Timeout => {
                self.counts.timeouts += 1;
                "timeout".to_string()
            }
            Outcome::Transport(t) => {
                self.counts.transport += 1;
                format!("transport: {t}")
            }
            Outcome::SessionGone(t) => {
                self.counts.transport += 1;
                format!("session gone: {t}")
            }
        };
        self.per_tool[tool].errors += 1;
        let key: String = format!("{}: {}", TOOLS[tool], text.lines().next().unwrap_or(""))
            .chars()
            .take(160)
            .collect();
        if let Some(n) = self.samples.get_mut(&key) {
            *n += 1;
        } else if self.samples.len() < ERROR_SAMPLES {
            self.samples.insert(key, 1);
        } else {
            self.unsampled += 1;
        }
    }
}
