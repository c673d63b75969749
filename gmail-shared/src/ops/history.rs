//! Changes since a historyId (history.list), so agents can poll for new mail.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Mailbox;
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
    pub label_id: Option<String>,
    pub max_results: Option<u32>,
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
    let max = super::page_size(req.max_results, 100)?;
    let users = mailbox.hub().users();
    let mut call = users
        .history_list("me")
        .start_history_id(start)
        .max_results(max);
    for kind in &req.kinds {
        call = call.add_history_types(kind.as_str());
    }
    if let Some(label) = &req.label_id {
        call = call.label_id(super::check_id("labelId", label)?);
    }
    if let Some(token) = &req.page_token {
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
