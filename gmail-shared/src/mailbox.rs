//! The mailbox a call acts on: an authenticated Gmail connection, the send rules its caller
//! is held to, and who is acting (for the audit log); and how a call finds it. A leaf the
//! operations, the tools, the account service and the servers all build on.

use std::sync::Arc;

use futures::future::BoxFuture;

use crate::error::GmailError;
use crate::gmail::{Connection, GmailHub};
use crate::ops::audit::{log, new_entry_id, record, AuditEntry, CallInfo, DAY};
use crate::ops::policy::SendPolicy;

/// The authenticated caller of a multi-user server: the user and the API key they presented.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub user_id: String,
    pub key_id: String,
}

/// Finds the mailbox a call acts on. Single-user mode has one; multi-user mode resolves the
/// caller's connection, optionally picked by the `account` argument.
pub trait MailboxProvider: Send + Sync {
    fn mailbox<'a>(
        &'a self,
        account: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Mailbox, GmailError>>;

    /// Who is calling (multi-user mode).
    fn caller(&self) -> Option<&Caller> {
        None
    }
}

/// One authenticated mailbox, the send rules its caller is held to, and who is acting (for
/// the audit log).
#[derive(Clone, Debug)]
pub struct Mailbox {
    conn: Connection,
    policy: Arc<SendPolicy>,
    call: Arc<CallInfo>,
}

impl Mailbox {
    pub fn new(conn: Connection) -> Self {
        Mailbox {
            conn,
            policy: Default::default(),
            call: Default::default(),
        }
    }

    /// The same mailbox acting for this call (who, through what, which request).
    pub fn with_call(mut self, call: Arc<CallInfo>) -> Self {
        self.call = call;
        self
    }

    pub fn call(&self) -> &CallInfo {
        &self.call
    }

    /// The same mailbox under these send rules.
    pub fn with_policy(mut self, policy: Arc<SendPolicy>) -> Self {
        self.policy = policy;
        self
    }

    pub fn policy(&self) -> &SendPolicy {
        &self.policy
    }

    pub fn hub(&self) -> &GmailHub {
        &self.conn.hub
    }

    /// The mailbox address, when known.
    pub fn account(&self) -> Option<&str> {
        self.conn.account.as_deref()
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Waits until this mailbox's quota budget has `units`, then spends them; refused as
    /// rate-limited past the retry budget.
    pub async fn spend_quota(&self, units: u32) -> Result<(), GmailError> {
        self.conn.spend_quota(units).await
    }

    /// How calls on this mailbox retry transient failures.
    pub fn retry(&self) -> crate::gmail::retry::RetryPolicy {
        self.conn.retry
    }
}

/// Single-user mode: every call acts on the one configured mailbox.
pub struct SingleMailbox(pub Mailbox);

impl MailboxProvider for SingleMailbox {
    fn mailbox<'a>(
        &'a self,
        account: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Mailbox, GmailError>> {
        Box::pin(async move {
            match (account, self.0.account()) {
                (Some(asked), Some(ours)) if !asked.eq_ignore_ascii_case(ours) => {
                    Err(GmailError::not_found(format!("connected account {asked}")))
                }
                _ => Ok(self.0.clone()),
            }
        })
    }
}

/// Recording what a caller does on a mailbox.
impl Mailbox {
    fn audit_entry(
        &self,
        action: &str,
        recipients: Vec<String>,
        ids: Vec<String>,
        outcome: &str,
        detail: Option<String>,
    ) -> AuditEntry {
        let call = self.call();
        let mut kept: Vec<String> = Vec::with_capacity(ids.len());
        for id in ids {
            if !id.is_empty() && !kept.contains(&id) {
                kept.push(id);
            }
        }
        AuditEntry {
            id: new_entry_id(),
            at: chrono::Utc::now().timestamp(),
            user_id: call.user_id.clone(),
            key_id: call.key_id.clone(),
            entry: call.entry.clone(),
            account: self.account().unwrap_or("me").to_string(),
            action: action.to_string(),
            recipients,
            ids: kept,
            request_id: call.request_id.clone(),
            outcome: outcome.to_string(),
            detail,
        }
    }

    /// Records a write action in the audit log.
    pub async fn audit(&self, action: &str, recipients: Vec<String>, ids: Vec<String>) {
        let entry = self.audit_entry(action, recipients, ids, "ok", None);
        record(self.policy().audit.as_ref(), entry).await;
    }

    /// Records a write action on one message, thread, draft, label or filter (no recipients).
    pub async fn audit_id(&self, action: &str, id: &str) {
        self.audit(action, vec![], vec![id.to_string()]).await;
    }

    /// Records a write action a guardrail refused, and answers the refusal.
    pub async fn refused(
        &self,
        action: &str,
        recipients: Vec<String>,
        e: GmailError,
    ) -> GmailError {
        let entry = self.audit_entry(action, recipients, vec![], "refused", Some(e.to_string()));
        record(self.policy().audit.as_ref(), entry).await;
        e
    }

    /// Before a send: holds its place under the daily cap (a `pending` entry) or refuses it.
    /// Answers the ticket [`Mailbox::end_send`] completes (none without a cap).
    pub async fn begin_send(
        &self,
        action: &str,
        recipients: &[String],
    ) -> Result<Option<String>, GmailError> {
        let policy = self.policy();
        let Some(max) = policy.max_per_day else {
            return Ok(None);
        };
        let entry = self.audit_entry(action, recipients.to_vec(), vec![], "pending", None);
        let (id, at) = (entry.id.clone(), entry.at);
        match policy.audit.reserve(entry, max, at - DAY).await? {
            Ok(()) => Ok(Some(id)),
            Err(full) => {
                let account = self.account().unwrap_or("me").to_string();
                let e = policy.cap_reached(&account, full, at);
                Err(self.refused(action, recipients.to_vec(), e).await)
            }
        }
    }

    /// After a send: its outcome, on the ticket's entry or a new one.
    pub async fn end_send(
        &self,
        ticket: Option<String>,
        action: &str,
        recipients: Vec<String>,
        outcome: Result<Vec<String>, &GmailError>,
    ) {
        let (ids, status, detail) = match outcome {
            Ok(ids) => (ids, "ok", None),
            Err(e) => (vec![], "failed", Some(e.to_string())),
        };
        let mut entry = self.audit_entry(action, recipients, ids, status, detail);
        let sink = self.policy().audit.as_ref();
        match ticket {
            Some(id) => {
                entry.id = id;
                log(&entry);
                sink.settle(&entry).await;
            }
            None => record(sink, entry).await,
        }
    }
}
