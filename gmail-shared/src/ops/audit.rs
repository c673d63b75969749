//! The audit log: one event per write action (who, through which tool or endpoint, on which
//! account, to whom, what it made, under which request id, when). Always a structured log
//! event (target `audit`); in multi-user mode also a row in the shared database, which
//! `GET /api/v1/audit` shows to each caller for their own actions, and which the daily send
//! cap counts. Bodies are never recorded.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Serialize;

use crate::error::GmailError;

/// Who is acting and through what: set by the door a request came in through.
#[derive(Debug, Clone, Default)]
pub struct CallInfo {
    /// The user (multi-user mode).
    pub user_id: Option<String>,
    /// The API key they used.
    pub key_id: Option<String>,
    /// `tool:send_email`, `POST /api/v1/messages/send`, ...
    pub entry: String,
    /// The request's correlation id (REST, Streamable HTTP) or session and JSON-RPC id (SSE).
    pub request_id: Option<String>,
}

/// One recorded action.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Sorts by time (newest last): the cursor for paging.
    pub id: String,
    /// Unix seconds.
    pub at: i64,
    pub user_id: Option<String>,
    pub key_id: Option<String>,
    pub entry: String,
    pub account: String,
    /// `send`, `reply`, `forward`, `draft_send`, `draft_create`, `modify`, `trash`, ...
    pub action: String,
    pub recipients: Vec<String>,
    /// What the action made or touched (message, thread, draft, label, filter ids).
    pub ids: Vec<String>,
    pub request_id: Option<String>,
    /// `ok`; `refused` by a guardrail or `failed` at Gmail (the reason in `detail`);
    /// `pending` while a send is under way.
    pub outcome: String,
    pub detail: Option<String>,
}

/// Actions that put mail on the wire (what the daily cap counts).
pub const SENDING_ACTIONS: &[&str] = &["send", "reply", "forward", "draft_send"];

/// A new entry id: microseconds since the epoch, strictly increasing in this process, and a
/// random tail so instances sharing a database never collide. Ids sort as the entries happened.
pub fn new_entry_id() -> String {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = chrono::Utc::now().timestamp_micros().max(0) as u64;
    let prev = LAST
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
            Some(now.max(last + 1))
        })
        .unwrap_or(now);
    let micros = now.max(prev + 1);
    format!("{micros:016x}{:08x}", rand::random::<u32>())
}

/// Where the daily cap stands when a send was refused: sends in the window, and when the
/// oldest of them was (unix seconds).
#[derive(Debug, Clone, Copy)]
pub struct CapFull {
    pub sent: u32,
    pub oldest: Option<i64>,
}

/// Where audit entries go besides the log.
pub trait AuditSink: Send + Sync {
    fn record(&self, entry: AuditEntry) -> BoxFuture<'_, ()>;

    /// Records `entry` (a `pending` send) if fewer than `max` sends from its account are
    /// pending or done since `since`; otherwise records nothing and answers where the cap
    /// stands. Atomic per sink, so concurrent sends cannot all slip under the cap.
    fn reserve(
        &self,
        entry: AuditEntry,
        max: u32,
        since: i64,
    ) -> BoxFuture<'_, Result<Result<(), CapFull>, GmailError>>;

    /// Completes the reserved entry with `entry`'s id: its outcome, ids and detail.
    fn settle<'a>(&'a self, entry: &'a AuditEntry) -> BoxFuture<'a, ()>;

    /// A caller's own entries, newest first (`user_id` None: the single-user server's), from
    /// before the entry `before` when given.
    fn list<'a>(
        &'a self,
        user_id: Option<&'a str>,
        limit: usize,
        before: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<AuditEntry>, GmailError>>;
}

fn counts_against_cap(e: &AuditEntry, account: &str, since: i64) -> bool {
    e.at >= since
        && matches!(e.outcome.as_str(), "ok" | "pending")
        && e.account.eq_ignore_ascii_case(account)
        && SENDING_ACTIONS.contains(&e.action.as_str())
}

/// The single-user server's log: the most recent entries in memory (lost on restart, as is
/// the count the daily cap uses).
pub struct MemoryAudit {
    entries: Mutex<VecDeque<AuditEntry>>,
    capacity: usize,
}

impl Default for MemoryAudit {
    fn default() -> Self {
        MemoryAudit {
            entries: Mutex::new(VecDeque::new()),
            capacity: 10_000,
        }
    }
}

impl MemoryAudit {
    fn entries(&self) -> std::sync::MutexGuard<'_, VecDeque<AuditEntry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends an entry, forgetting the oldest one when full.
    fn push(&self, entries: &mut VecDeque<AuditEntry>, entry: AuditEntry) {
        if entries.len() >= self.capacity {
            entries.pop_front();
        }
        entries.push_back(entry);
    }
}

impl AuditSink for MemoryAudit {
    fn record(&self, entry: AuditEntry) -> BoxFuture<'_, ()> {
        self.push(&mut self.entries(), entry);
        Box::pin(async {})
    }

    fn reserve(
        &self,
        entry: AuditEntry,
        max: u32,
        since: i64,
    ) -> BoxFuture<'_, Result<Result<(), CapFull>, GmailError>> {
        let mut entries = self.entries();
        let counted: Vec<i64> = entries
            .iter()
            .filter(|e| counts_against_cap(e, &entry.account, since))
            .map(|e| e.at)
            .collect();
        let out = if (counted.len() as u32) < max {
            self.push(&mut entries, entry);
            Ok(())
        } else {
            Err(CapFull {
                sent: counted.len() as u32,
                oldest: counted.iter().min().copied(),
            })
        };
        Box::pin(async move { Ok(out) })
    }

    fn settle<'a>(&'a self, entry: &'a AuditEntry) -> BoxFuture<'a, ()> {
        if let Some(e) = self.entries().iter_mut().rev().find(|e| e.id == entry.id) {
            e.outcome.clone_from(&entry.outcome);
            e.ids.clone_from(&entry.ids);
            e.detail.clone_from(&entry.detail);
        }
        Box::pin(async {})
    }

    fn list<'a>(
        &'a self,
        user_id: Option<&'a str>,
        limit: usize,
        before: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<AuditEntry>, GmailError>> {
        let rows = self
            .entries()
            .iter()
            .rev()
            .filter(|e| e.user_id.as_deref() == user_id)
            .filter(|e| before.is_none_or(|b| e.id.as_str() < b))
            .take(limit)
            .cloned()
            .collect();
        Box::pin(async move { Ok(rows) })
    }
}

/// A day, the daily cap's window.
pub const DAY: i64 = 24 * 3600;

/// The structured log event of one action (target `audit`).
pub fn log(entry: &AuditEntry) {
    tracing::info!(
        target: "audit",
        id = %entry.id,
        user = entry.user_id.as_deref().unwrap_or("local"),
        key = entry.key_id.as_deref().unwrap_or("-"),
        entry = %entry.entry,
        account = %entry.account,
        action = %entry.action,
        recipients = %entry.recipients.join(", "),
        ids = %entry.ids.join(", "),
        request_id = entry.request_id.as_deref().unwrap_or("-"),
        outcome = %entry.outcome,
        detail = entry.detail.as_deref().unwrap_or(""),
        "audit"
    );
}

/// Writes one finished entry to the log and the sink.
pub async fn record(sink: &dyn AuditSink, entry: AuditEntry) {
    log(&entry);
    sink.record(entry).await;
}
