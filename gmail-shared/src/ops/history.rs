//! Changes since a historyId (history.list), so agents can poll for new mail.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{LabelId, Mailbox, PageSize};
use crate::error::GmailError;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum ChangeKind {
    MessageAdded,
    MessageDeleted,
    LabelAdded,
    LabelRemoved,
}

impl ChangeKind {
    fn as_str(self) -> &'static str {
        match self {
            ChangeKind::MessageAdded => "messageAdded",
            ChangeKind::MessageDeleted => "messageDeleted",
            ChangeKind::LabelAdded => "labelAdded",
            ChangeKind::LabelRemoved => "labelRemoved",
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// The history record's id.
    pub history_id: String,
    pub kind: ChangeKind,
    pub message_id: String,
    pub thread_id: String,
    /// For label changes, the labels added or removed; for added messages, their labels.
    pub label_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Changes {
    pub changes: Vec<Change>,
    /// The mailbox's current historyId: pass it next time.
    pub history_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ChangesRequest {
    pub start_history_id: String,
    pub kinds: Vec<ChangeKind>,
    pub label_id: Option<LabelId>,
    pub max_results: PageSize,
    pub page_token: Option<String>,
}

#[tracing::instrument(skip_all)]
pub async fn list_changes(mailbox: &Mailbox, req: &ChangesRequest) -> Result<Changes, GmailError> {
    let start: u64 = req.start_history_id.trim().parse().map_err(|_| {
        GmailError::invalid(
            "startHistoryId",
            format!(
                "{:?} is not a historyId (a number from get_profile or an earlier list_changes)",
                req.start_history_id
            ),
        )
    })?;
    let users = mailbox.hub().users();
    let mut call = users
        .history_list("me")
        .start_history_id(start)
        .max_results(req.max_results.get());
    for kind in &req.kinds {
        call = call.add_history_types(kind.as_str());
    }
    if let Some(label) = &req.label_id {
        call = call.label_id(label);
    }
    if let Some(token) = req.page_token.as_deref().filter(|t| !t.is_empty()) {
        call = call.page_token(token);
    }
    // A 404 here means the cursor is too old: say what to do about it.
    let too_old = |e: google_gmail1::Error| match GmailError::from(e) {
        GmailError::NotFound { .. } => GmailError::NotFound {
            what: format!(
                "history since {start} (it is too old or unknown; take a fresh historyId from \
                 get_profile and re-read the mailbox)"
            ),
        },
        other => other,
    };
    let (_, list) = gmail_call!(mailbox, idempotent, call).map_err(too_old)?;
    let mut changes = Vec::new();
    for record in list.history.unwrap_or_default() {
        let history_id = record.id.map(|i| i.to_string()).unwrap_or_default();
        let mut push =
            |kind, message: Option<google_gmail1::api::Message>, labels: Option<Vec<String>>| {
                let message = message.unwrap_or_default();
                changes.push(Change {
                    history_id: history_id.clone(),
                    kind,
                    message_id: message.id.unwrap_or_default(),
                    thread_id: message.thread_id.unwrap_or_default(),
                    label_ids: labels.or(message.label_ids).unwrap_or_default(),
                });
            };
        for added in record.messages_added.unwrap_or_default() {
            push(ChangeKind::MessageAdded, added.message, None);
        }
        for deleted in record.messages_deleted.unwrap_or_default() {
            push(ChangeKind::MessageDeleted, deleted.message, Some(vec![]));
        }
        for added in record.labels_added.unwrap_or_default() {
            push(ChangeKind::LabelAdded, added.message, added.label_ids);
        }
        for removed in record.labels_removed.unwrap_or_default() {
            push(ChangeKind::LabelRemoved, removed.message, removed.label_ids);
        }
    }
    Ok(Changes {
        changes,
        history_id: list.history_id.map(|h| h.to_string()).unwrap_or_default(),
        next_page_token: list.next_page_token,
    })
}

/// What `users.watch` answered.
#[derive(Debug, Clone)]
pub struct Watch {
    pub history_id: String,
    /// Epoch milliseconds; watch again before then.
    pub expiration: Option<i64>,
}

/// Asks Gmail to publish this mailbox's changes to a Pub/Sub topic (`users.watch`).
#[tracing::instrument(skip_all)]
pub async fn watch(mailbox: &Mailbox, topic: &str) -> Result<Watch, GmailError> {
    let request = google_gmail1::api::WatchRequest {
        topic_name: Some(topic.to_string()),
        ..Default::default()
    };
    let (_, answer) = gmail_call!(mailbox, idempotent, |u| u.watch(request, "me"))?;
    Ok(Watch {
        history_id: answer.history_id.map(|h| h.to_string()).unwrap_or_default(),
        expiration: answer.expiration,
    })
}

/// Stops Gmail's pushes for this mailbox (`users.stop`).
#[tracing::instrument(skip_all)]
pub async fn stop_watch(mailbox: &Mailbox) -> Result<(), GmailError> {
    gmail_call!(mailbox, idempotent, |u| u.stop("me"))?;
    Ok(())
}

/// A message that just arrived, as events describe it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Arrived {
    pub id: String,
    pub thread_id: String,
    pub label_ids: Vec<String>,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub date: String,
    pub snippet: String,
    /// When Gmail received it (epoch milliseconds).
    pub internal_date: i64,
}

/// The headers and snippets of messages that just arrived, in one batch request; messages
/// deleted meanwhile are left out.
pub async fn arrived(mailbox: &Mailbox, ids: &[String]) -> Result<Vec<Arrived>, GmailError> {
    use super::messages::{header, unescape_snippet};
    let found =
        super::messages::get_metadata(mailbox, ids, &["From", "To", "Subject", "Date"]).await?;
    Ok(found
        .into_iter()
        .map(|m| Arrived {
            from: header(&m, "From"),
            to: header(&m, "To"),
            subject: header(&m, "Subject"),
            date: header(&m, "Date"),
            snippet: unescape_snippet(m.snippet.as_deref()),
            internal_date: m.internal_date.unwrap_or(0),
            id: m.id.unwrap_or_default(),
            thread_id: m.thread_id.unwrap_or_default(),
            label_ids: m.label_ids.unwrap_or_default(),
        })
        .collect())
}

/// Which of `candidates` (messages that just arrived) a Gmail search matches: one
/// messages.list, since new mail is at the top of Gmail's order (by receipt).
pub async fn matching(
    mailbox: &Mailbox,
    query: &str,
    candidates: &[String],
) -> Result<Vec<String>, GmailError> {
    if candidates.is_empty() {
        return Ok(vec![]);
    }
    if query.trim().is_empty() {
        return Ok(candidates.to_vec());
    }
    let max = (candidates.len() as u32 + 20).min(PageSize::MAX);
    let (_, list) = gmail_call!(mailbox, idempotent, |u| u
        .messages_list("me")
        .q(query)
        .max_results(max))?;
    let hits: std::collections::HashSet<String> = list
        .messages
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.id)
        .collect();
    Ok(candidates
        .iter()
        .filter(|id| hits.contains(*id))
        .cloned()
        .collect())
}
