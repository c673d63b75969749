//! Reading: one message as readable text, as Gmail's full resource or as raw RFC 822, and a
//! whole conversation.

use google_gmail1::api::Thread;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::messages::not_found_as;
use super::{Mailbox, MessageId, ThreadId};
use crate::error::GmailError;
use crate::mail::{readable_from_gmail, trim_quoted_history, ReadableMessage};

#[tracing::instrument(skip_all, fields(message = %id))]
pub async fn read_message(
    mailbox: &Mailbox,
    id: &MessageId,
) -> Result<ReadableMessage, GmailError> {
    Ok(readable_from_gmail(
        &get_message(mailbox, id, "full").await?,
    ))
}

/// One message in a Gmail `format` (`full`, `raw`); a missing one is named.
async fn get_message(
    mailbox: &Mailbox,
    id: &MessageId,
    format: &str,
) -> Result<google_gmail1::api::Message, GmailError> {
    let (_, m) = gmail_call!(
        mailbox,
        idempotent,
        |u| u.messages_get("me", id).format(format),
        large
    )
    .map_err(|e| not_found_as(e, "message", id))?;
    Ok(m)
}

/// The message exactly as stored (RFC 822 bytes).
#[tracing::instrument(skip_all, fields(message = %id))]
pub async fn read_raw(mailbox: &Mailbox, id: &MessageId) -> Result<Vec<u8>, GmailError> {
    Ok(get_message(mailbox, id, "raw")
        .await?
        .raw
        .unwrap_or_default())
}

/// Gmail's own message resource (`format=full`), as Gmail writes it: absent fields left out.
#[tracing::instrument(skip_all, fields(message = %id))]
pub async fn read_full(mailbox: &Mailbox, id: &MessageId) -> Result<Value, GmailError> {
    let m = get_message(mailbox, id, "full").await?;
    let mut value = serde_json::to_value(m)
        .map_err(|e| GmailError::internal_from(format!("message {id}"), e))?;
    prune_nulls(&mut value);
    Ok(value)
}

/// google-gmail1 writes absent fields as `null`; Gmail itself leaves them out.
fn prune_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(prune_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(prune_nulls),
        _ => {}
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ThreadView {
    pub id: String,
    pub subject: String,
    /// Oldest first. Each text has the quoted history of earlier messages trimmed.
    pub messages: Vec<ReadableMessage>,
}

/// A conversation, oldest message first, each body with its quoted history trimmed so the
/// thread reads once.
#[tracing::instrument(skip_all, fields(thread = %id))]
pub async fn get_thread(mailbox: &Mailbox, id: &ThreadId) -> Result<ThreadView, GmailError> {
    let (_, t): (_, Thread) = gmail_call!(
        mailbox,
        idempotent,
        |u| u.threads_get("me", id).format("full"),
        large
    )
    .map_err(|e| not_found_as(e, "thread", id))?;
    let messages: Vec<ReadableMessage> = t
        .messages
        .unwrap_or_default()
        .iter()
        .map(|m| {
            let mut r = readable_from_gmail(m);
            r.text = trim_quoted_history(&r.text);
            r.html = None;
            r
        })
        .collect();
    Ok(ThreadView {
        id: t.id.unwrap_or_else(|| id.to_string()),
        subject: messages
            .first()
            .map(|m| m.subject.clone())
            .unwrap_or_default(),
        messages,
    })
}
