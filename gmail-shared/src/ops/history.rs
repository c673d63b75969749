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
    let too_old = |e: GmailError| match e {
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
            // Gmail names a deleted message's labels: a DRAFT one was a draft saved anew.
            push(ChangeKind::MessageDeleted, deleted.message, None);
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

/// The newest message a search finds, as an arrival: its id from one list, then its
/// headers from one read (`search` would read them once more for its own summary).
pub async fn newest_matching(
    mailbox: &Mailbox,
    query: &str,
) -> Result<Option<Arrived>, GmailError> {
    let call = mailbox
        .hub()
        .users()
        .messages_list("me")
        .q(query)
        .max_results(1);
    let (_, list) = gmail_call!(mailbox, idempotent, call)?;
    let Some(first) = list.messages.into_iter().flatten().find_map(|m| m.id) else {
        return Ok(None);
    };
    Ok(arrived(mailbox, &[first]).await?.into_iter().next())
}

/// Most pages (of 500) one [`matching`] reads.
const MATCH_PAGES: usize = 10;

/// Which of `candidates` (messages that just arrived: id, internalDate in ms) a Gmail search
/// matches. The search is bounded to mail no older than the oldest candidate and read page by
/// page until every candidate is decided, so a backlog of new mail, or mail dated in the past
/// (imported), is not cut off at the first page.
pub async fn matching(
    mailbox: &Mailbox,
    query: &str,
    candidates: &[(String, i64)],
) -> Result<Vec<String>, GmailError> {
    let ids = || candidates.iter().map(|(id, _)| id.clone());
    if candidates.is_empty() || query.trim().is_empty() {
        return Ok(ids().collect());
    }
    let oldest = candidates.iter().map(|(_, at)| *at).min().unwrap_or(0);
    // A second of slack: Gmail compares whole seconds.
    let q = format!("({}) after:{}", query.trim(), (oldest / 1000 - 1).max(0));
    let mut undecided: std::collections::HashSet<String> = ids().collect();
    let mut hits = std::collections::HashSet::new();
    let mut token: Option<String> = None;
    for _ in 0..MATCH_PAGES {
        let mut call = mailbox
            .hub()
            .users()
            .messages_list("me")
            .q(&q)
            .max_results(PageSize::MAX);
        if let Some(t) = &token {
            call = call.page_token(t);
        }
        let (_, list) = gmail_call!(mailbox, idempotent, call)?;
        for id in list
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| m.id)
        {
            if undecided.remove(&id) {
                hits.insert(id);
            }
        }
        token = list.next_page_token;
        if undecided.is_empty() || token.is_none() {
            break;
        }
    }
    Ok(ids().filter(|id| hits.contains(id)).collect())
}
