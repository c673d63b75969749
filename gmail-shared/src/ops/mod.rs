//! The Gmail operations: plain async functions over a [`Mailbox`] and a typed request,
//! returning a typed result or a [`GmailError`]. They know nothing of HTTP, JSON-RPC or
//! sessions; MCP tools and REST handlers are thin adapters over them.

use std::future::Future;
use std::pin::Pin;

use crate::error::GmailError;
use crate::gmail::{Connection, GmailHub};
use crate::tools::MailboxProvider;

pub mod audit;
pub mod policy;
pub mod profile;
pub mod read;
pub mod send;

/// One authenticated mailbox, the send rules its caller is held to, and who is acting (for
/// the audit log).
#[derive(Clone, Debug)]
pub struct Mailbox {
    conn: Connection,
    policy: std::sync::Arc<policy::SendPolicy>,
    call: std::sync::Arc<audit::CallInfo>,
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
    pub fn with_call(mut self, call: std::sync::Arc<audit::CallInfo>) -> Self {
        self.call = call;
        self
    }

    pub fn call(&self) -> &audit::CallInfo {
        &self.call
    }

    /// The same mailbox under these send rules.
    pub fn with_policy(mut self, policy: std::sync::Arc<policy::SendPolicy>) -> Self {
        self.policy = policy;
        self
    }

    pub fn policy(&self) -> &policy::SendPolicy {
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
    ) -> Pin<Box<dyn Future<Output = Result<Mailbox, GmailError>> + Send + 'a>> {
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

pub mod attachments;
pub mod drafts;
pub mod filters;
pub mod history;
pub mod labels;
pub mod messages;
pub mod settings;
pub mod threads;

/// Checks an id the caller gave (message, thread, draft, label, filter, attachment) before it
/// goes into a URL: Gmail ids are short runs of letters, digits, `_` and `-`.
pub fn check_id<'a>(field: &str, id: &'a str) -> Result<&'a str, GmailError> {
    let id = id.trim();
    if id.is_empty() {
        return Err(GmailError::invalid(field, "must not be empty"));
    }
    if id.len() > 512
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(GmailError::invalid(
            field,
            format!("{id:?} is not a Gmail id (letters, digits, '_' and '-' only)"),
        ));
    }
    Ok(id)
}

/// Checks every id of a list; an empty list is refused.
pub fn check_ids(field: &str, ids: &[String]) -> Result<Vec<String>, GmailError> {
    if ids.is_empty() {
        return Err(GmailError::invalid(field, "must list at least one id"));
    }
    ids.iter()
        .map(|id| check_id(field, id).map(str::to_owned))
        .collect()
}

/// Scope for filters and the vacation responder.
pub const SETTINGS_BASIC_SCOPE: &str = "https://www.googleapis.com/auth/gmail.settings.basic";

/// Gmail's 403 does not say which scope was missing; the operation knows.
pub(crate) fn scope_needed(scope: &'static str) -> impl Fn(google_gmail1::Error) -> GmailError {
    move |e| match GmailError::from(e) {
        GmailError::MissingScope { .. } => GmailError::MissingScope {
            scope: scope.to_string(),
        },
        other => other,
    }
}
