//! The audit log: one event per write action (who, through which tool or endpoint, on which
//! account, to whom, what it made, under which request id, when). Always a structured log
//! event (target `audit`); in multi-user mode also a row in the shared database, which
//! `GET /api/v1/audit` shows to each caller for their own actions, and which the daily send
//! cap counts. Bodies are never recorded.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use schemars::JsonSchema;
use serde::Serialize;

use crate::error::GmailError;

pub type AuditFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

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
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Unix seconds.
    pub at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    pub entry: String,
    pub account: String,
    /// `send`, `reply`, `forward`, `draft_send`, `draft_create`, `modify`, `trash`, ...
    pub action: String,
    pub recipients: Vec<String>,
    /// What the action made or touched (message, thread, draft, label, filter ids).
    pub ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// `ok`, or `refused` by a guardrail (the reason in `detail`).
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Actions that put mail on the wire (what the daily cap counts).
pub const SENDING_ACTIONS: &[&str] = &["send", "reply", "forward", "draft_send"];

/// Where audit entries go besides the log.
pub trait AuditSink: Send + Sync {
    fn record(&self, entry: AuditEntry) -> AuditFuture<'_, ()>;

    /// A caller's own entries, newest first (`user_id` None: the single-user server's).
    fn list<'a>(
        &'a self,
        user_id: Option<&'a str>,
        limit: usize,
        before: Option<i64>,
    ) -> AuditFuture<'a, Result<Vec<AuditEntry>, GmailError>>;

    /// Sends from `account` at or after `since`, and when the oldest of them was.
    fn sends_since<'a>(
        &'a self,
        account: &'a str,
        since: i64,
    ) -> AuditFuture<'a, Result<(u32, Option<i64>), GmailError>>;
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
}

impl AuditSink for MemoryAudit {
    fn record(&self, entry: AuditEntry) -> AuditFuture<'_, ()> {
        let mut entries = self.entries();
        if entries.len() >= self.capacity {
            entries.pop_front();
        }
        entries.push_back(entry);
        Box::pin(async {})
    }

    fn list<'a>(
        &'a self,
        user_id: Option<&'a str>,
        limit: usize,
        before: Option<i64>,
    ) -> AuditFuture<'a, Result<Vec<AuditEntry>, GmailError>> {
        let rows = self
            .entries()
            .iter()
            .rev()
            .filter(|e| e.user_id.as_deref() == user_id)
            .filter(|e| before.is_none_or(|b| e.at < b))
            .take(limit)
            .cloned()
            .collect();
        Box::pin(async move { Ok(rows) })
    }

    fn sends_since<'a>(
        &'a self,
        account: &'a str,
        since: i64,
    ) -> AuditFuture<'a, Result<(u32, Option<i64>), GmailError>> {
        let entries = self.entries();
        let sends: Vec<i64> = entries
            .iter()
            .filter(|e| {
                e.at >= since
                    && e.outcome == "ok"
                    && e.account.eq_ignore_ascii_case(account)
                    && SENDING_ACTIONS.contains(&e.action.as_str())
            })
            .map(|e| e.at)
            .collect();
        let out = (sends.len() as u32, sends.iter().min().copied());
        Box::pin(async move { Ok(out) })
    }
}

/// Writes one entry to the log and the sink.
pub async fn record(sink: &dyn AuditSink, entry: AuditEntry) {
    tracing::info!(
        target: "audit",
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
    sink.record(entry).await;
}
