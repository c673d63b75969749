//! Threads: list, modify, trash, untrash. Reading a whole thread is in `read.rs`.

use google_gmail1::api::{ModifyThreadRequest, Thread};
use schemars::JsonSchema;
use serde::Serialize;

use super::batch_metadata;
use super::labels::resolve_label_ids;
use super::messages::{header, label_change, not_found_as, unescape_snippet, SearchRequest};
use super::{Mailbox, ThreadId};
use crate::error::GmailError;

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ThreadSummary {
    pub id: String,
    pub subject: String,
    /// Senders of the thread's messages, in order, without repeats.
    pub participants: Vec<String>,
    pub message_count: usize,
    /// Date header of the newest message.
    pub last_date: String,
    pub snippet: String,
    /// Union of the messages' labels.
    pub label_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ThreadPage {
    pub threads: Vec<ThreadSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    pub result_size_estimate: u32,
}

fn thread_summary(t: Thread, snippet: Option<String>) -> ThreadSummary {
    let messages = t.messages.unwrap_or_default();
    let mut participants: Vec<String> = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    for m in &messages {
        let from = header(m, "From");
        if !from.is_empty() && !participants.contains(&from) {
            participants.push(from);
        }
        for l in m.label_ids.iter().flatten() {
            if !labels.contains(l) {
                labels.push(l.clone());
            }
        }
    }
    ThreadSummary {
        id: t.id.unwrap_or_default(),
        subject: messages
            .first()
            .map(|m| header(m, "Subject"))
            .unwrap_or_default(),
        participants,
        message_count: messages.len(),
        last_date: messages
            .last()
            .map(|m| header(m, "Date"))
            .unwrap_or_default(),
        snippet: unescape_snippet(snippet.as_deref()),
        label_ids: labels,
    }
}

/// threads.list, then every thread's headers through one batch request per 50 threads.
#[tracing::instrument(skip_all, fields(query = %req.query))]
pub async fn list_threads(
    mailbox: &Mailbox,
    req: &SearchRequest,
) -> Result<ThreadPage, GmailError> {
    req.check()?;
    let label_ids = resolve_label_ids(mailbox, "labelIds", &req.label_ids).await?;
    let users = mailbox.hub().users();
    let call = with_search!(users.threads_list("me"), req, &label_ids);
    let (_, list) = gmail_call!(mailbox, idempotent, call)?;
    let listed = list.threads.unwrap_or_default();
    let ids = listed.iter().filter_map(|t| t.id.as_deref());
    let headers = ["Subject", "From", "Date"];
    let details = batch_metadata::<Thread>(mailbox, "threads", ids, &headers).await?;
    let mut threads = Vec::with_capacity(listed.len());
    for (listed, detail) in listed.into_iter().zip(details) {
        if let Some(t) = detail {
            threads.push(thread_summary(t, listed.snippet));
        }
    }
    Ok(ThreadPage {
        threads,
        next_page_token: list.next_page_token,
        result_size_estimate: list.result_size_estimate.unwrap_or(0),
    })
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ThreadLabels {
    pub id: String,
    /// Each message's labels after the change.
    pub messages: Vec<super::messages::LabelsAfter>,
}

impl From<Thread> for ThreadLabels {
    fn from(t: Thread) -> Self {
        ThreadLabels {
            id: t.id.unwrap_or_default(),
            messages: t
                .messages
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
        }
    }
}

#[tracing::instrument(skip_all, fields(thread = %id))]
pub async fn modify_thread(
    mailbox: &Mailbox,
    id: &ThreadId,
    add: &[String],
    remove: &[String],
) -> Result<ThreadLabels, GmailError> {
    let (add, remove) = label_change(mailbox, add, remove).await?;
    let request = ModifyThreadRequest {
        add_label_ids: Some(add),
        remove_label_ids: Some(remove),
    };
    let (_, t) = gmail_call!(mailbox, idempotent, |u| u.threads_modify(request, "me", id))
        .map_err(|e| not_found_as(e, "thread", id))?;
    let t: ThreadLabels = t.into();
    mailbox.audit_id("thread_modify", &t.id).await;
    Ok(t)
}

#[tracing::instrument(skip_all, fields(thread = %id))]
pub async fn trash_thread(mailbox: &Mailbox, id: &ThreadId) -> Result<ThreadLabels, GmailError> {
    let (_, t) = gmail_call!(mailbox, idempotent, |u| u.threads_trash("me", id))
        .map_err(|e| not_found_as(e, "thread", id))?;
    let t: ThreadLabels = t.into();
    mailbox.audit_id("thread_trash", &t.id).await;
    Ok(t)
}

#[tracing::instrument(skip_all, fields(thread = %id))]
pub async fn untrash_thread(mailbox: &Mailbox, id: &ThreadId) -> Result<ThreadLabels, GmailError> {
    let (_, t) = gmail_call!(mailbox, idempotent, |u| u.threads_untrash("me", id))
        .map_err(|e| not_found_as(e, "thread", id))?;
    let t: ThreadLabels = t.into();
    mailbox.audit_id("thread_untrash", &t.id).await;
    Ok(t)
}
