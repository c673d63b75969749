//! The Gmail operations: plain async functions over a [`Mailbox`] and a typed request,
//! returning a typed result or a [`GmailError`]. They know nothing of HTTP, JSON-RPC or
//! sessions; MCP tools and REST handlers are thin adapters over them.

use crate::error::GmailError;
pub use crate::mailbox::{Mailbox, SingleMailbox};

pub mod audit;
pub mod policy;
pub mod profile;
pub mod read;
pub mod send;

pub mod attachments;
pub mod drafts;
pub mod filters;
pub mod history;
pub mod labels;
pub mod messages;
pub mod outgoing;
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
