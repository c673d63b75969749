//! Messages: search, modify, trash, untrash, delete, batch modify and batch delete. Reading
//! and sending live in `read.rs` and `send.rs`.

use futures::StreamExt;
use google_gmail1::api::{
    BatchDeleteMessagesRequest, BatchModifyMessagesRequest, Message, ModifyMessageRequest,
};
use schemars::JsonSchema;
use serde::Serialize;

use super::ids::id_list;
use super::labels::resolve_label_ids;
use super::{Mailbox, MessageId, PageSize};
use crate::error::GmailError;
use crate::gmail::scopes;

/// Bounded concurrency for per-message fallbacks, under Gmail's per-user limit of about 10.
pub const CONCURRENCY: usize = 5;
/// Gmail's cap on ids per batchModify / batchDelete call.
pub const BATCH_IDS: usize = 1000;

#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub query: String,
    pub label_ids: Vec<String>,
    pub max_results: PageSize,
    pub page_token: Option<String>,
    pub include_spam_trash: bool,
}

impl SearchRequest {
    /// Gmail's limit on a search's query: at most 2000 characters.
    pub fn check(&self) -> Result<(), GmailError> {
        if self.query.len() > 2000 {
            return Err(GmailError::invalid(
                "query",
                "is longer than 2000 characters",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MessageSummary {
    pub id: String,
    pub thread_id: String,
    pub subject: String,
    pub from: String,
    pub to: String,
    pub date: String,
    pub snippet: String,
    pub label_ids: Vec<String>,
    /// When Gmail received it (milliseconds since the epoch); for short dates in text.
    #[serde(skip)]
    pub internal_date_ms: Option<i64>,
    /// Its top-level type is multipart/mixed: it carries attachments.
    #[serde(skip)]
    pub has_attachment: bool,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SearchPage {
    pub messages: Vec<MessageSummary>,
    /// Pass it back as pageToken for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    pub result_size_estimate: u32,
}

/// The headers summaries show, fetched with format=metadata.
const SUMMARY_HEADERS: &[&str] = &["Subject", "From", "To", "Date", "Content-Type"];

pub(crate) fn header(message: &Message, name: &str) -> String {
    message
        .payload
        .as_ref()
        .and_then(|p| p.headers.as_ref())
        .and_then(|hs| {
            hs.iter().find(|h| {
                h.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
        })
        .and_then(|h| h.value.clone())
        .unwrap_or_default()
}

fn summary(m: Message) -> MessageSummary {
    let has_attachment = header(&m, "Content-Type")
        .to_ascii_lowercase()
        .starts_with("multipart/mixed");
    MessageSummary {
        has_attachment,
        internal_date_ms: m.internal_date,
        subject: header(&m, "Subject"),
        from: header(&m, "From"),
        to: header(&m, "To"),
        date: header(&m, "Date"),
        id: m.id.unwrap_or_default(),
        thread_id: m.thread_id.unwrap_or_default(),
        snippet: unescape_snippet(m.snippet.as_deref()),
        label_ids: m.label_ids.unwrap_or_default(),
    }
}

/// Gmail HTML-escapes snippets; agents want the text (empty when Gmail sent none).
pub(crate) fn unescape_snippet(s: Option<&str>) -> String {
    s.unwrap_or_default()
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// One messages.list, then the summaries' headers for the whole page through the batch
/// endpoint: 2 upstream requests for up to 50 results, never one per message.
#[tracing::instrument(skip_all, fields(query = %req.query))]
pub async fn search(mailbox: &Mailbox, req: &SearchRequest) -> Result<SearchPage, GmailError> {
    req.check()?;
    let label_ids = resolve_label_ids(mailbox, "labelIds", &req.label_ids).await?;
    let users = mailbox.hub().users();
    let call = with_search!(users.messages_list("me"), req, &label_ids);
    let (_, list) = gmail_call!(mailbox, idempotent, call)?;
    let ids: Vec<String> = list
        .messages
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.id)
        .collect();
    let messages = get_metadata(mailbox, &ids, SUMMARY_HEADERS)
        .await?
        .into_iter()
        .map(summary)
        .collect();
    Ok(SearchPage {
        messages,
        next_page_token: list.next_page_token,
        result_size_estimate: list.result_size_estimate.unwrap_or(0),
    })
}

/// Metadata for many messages in as few upstream requests as the batch endpoint allows.
/// Messages deleted since they were listed are left out.
pub async fn get_metadata(
    mailbox: &Mailbox,
    ids: &[String],
    headers: &[&str],
) -> Result<Vec<Message>, GmailError> {
    let ids = ids.iter().map(String::as_str);
    let found = super::batch_metadata::<Message>(mailbox, "messages", ids, headers).await?;
    Ok(found.into_iter().flatten().collect())
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LabelsAfter {
    pub id: String,
    pub thread_id: String,
    /// The message's labels after the change.
    pub label_ids: Vec<String>,
}

impl From<Message> for LabelsAfter {
    fn from(m: Message) -> Self {
        LabelsAfter {
            id: m.id.unwrap_or_default(),
            thread_id: m.thread_id.unwrap_or_default(),
            label_ids: m.label_ids.unwrap_or_default(),
        }
    }
}

/// Label ids (or names) to add and remove, resolved and checked once.
pub async fn label_change(
    mailbox: &Mailbox,
    add: &[String],
    remove: &[String],
) -> Result<(Vec<String>, Vec<String>), GmailError> {
    if add.is_empty() && remove.is_empty() {
        return Err(GmailError::invalid(
            "addLabelIds",
            "give at least one label to add (addLabelIds) or remove (removeLabelIds)",
        ));
    }
    let add = resolve_label_ids(mailbox, "addLabelIds", add).await?;
    let remove = resolve_label_ids(mailbox, "removeLabelIds", remove).await?;
    Ok((add, remove))
}

#[tracing::instrument(skip_all, fields(message = %id))]
pub async fn modify(
    mailbox: &Mailbox,
    id: &MessageId,
    add: &[String],
    remove: &[String],
) -> Result<LabelsAfter, GmailError> {
    let (add, remove) = label_change(mailbox, add, remove).await?;
    modify_resolved(mailbox, id, &add, &remove).await
}

async fn modify_resolved(
    mailbox: &Mailbox,
    id: &MessageId,
    add: &[String],
    remove: &[String],
) -> Result<LabelsAfter, GmailError> {
    let request = ModifyMessageRequest {
        add_label_ids: Some(add.to_vec()),
        remove_label_ids: Some(remove.to_vec()),
    };
    let (_, m) = gmail_call!(mailbox, idempotent, |u| u
        .messages_modify(request, "me", id))
    .map_err(|e| not_found_as(e, "message", id))?;
    let after: LabelsAfter = m.into();
    mailbox.audit_id("modify", &after.id).await;
    Ok(after)
}

/// A 404 from Gmail says "Requested entity was not found."; say which.
pub(crate) fn not_found_as(e: GmailError, what: &str, id: &str) -> GmailError {
    match e {
        GmailError::NotFound { .. } => GmailError::not_found(format!("{what} {id}")),
        other => other,
    }
}

#[tracing::instrument(skip_all, fields(message = %id))]
pub async fn trash(mailbox: &Mailbox, id: &MessageId) -> Result<LabelsAfter, GmailError> {
    let (_, m) = gmail_call!(mailbox, idempotent, |u| u.messages_trash("me", id))
        .map_err(|e| not_found_as(e, "message", id))?;
    let after: LabelsAfter = m.into();
    mailbox.audit_id("trash", &after.id).await;
    Ok(after)
}

#[tracing::instrument(skip_all, fields(message = %id))]
pub async fn untrash(mailbox: &Mailbox, id: &MessageId) -> Result<LabelsAfter, GmailError> {
    let (_, m) = gmail_call!(mailbox, idempotent, |u| u.messages_untrash("me", id))
        .map_err(|e| not_found_as(e, "message", id))?;
    let after: LabelsAfter = m.into();
    mailbox.audit_id("untrash", &after.id).await;
    Ok(after)
}

fn scope_hint(e: GmailError) -> GmailError {
    match e {
        GmailError::MissingScope { .. } => GmailError::MissingScope {
            scope: format!(
                "{} (permanent delete needs it; trash_email works without it)",
                scopes::FULL
            ),
        },
        other => other,
    }
}

/// Permanent delete (messages.delete): needs the full-mail scope.
#[tracing::instrument(skip_all, fields(message = %id))]
pub async fn delete(mailbox: &Mailbox, id: &MessageId) -> Result<(), GmailError> {
    gmail_call!(mailbox, once, |u| u.messages_delete("me", id))
        .map_err(|e| scope_hint(not_found_as(e, "message", id)))?;
    mailbox.audit_id("delete", id).await;
    Ok(())
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FailedId {
    pub id: String,
    pub error: String,
}

#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BatchOutcome {
    pub succeeded: Vec<String>,
    pub failed: Vec<FailedId>,
    /// Gmail calls made (batchModify/batchDelete plus any per-message fallbacks), each
    /// counted once however often it was retried.
    pub upstream_calls: usize,
}

/// messages.batchModify in chunks of 1000 ids, the outcome reported per id (see
/// [`in_chunks`]).
#[tracing::instrument(skip_all, fields(count = ids.len()))]
pub async fn batch_modify(
    mailbox: &Mailbox,
    ids: Vec<MessageId>,
    add: &[String],
    remove: &[String],
) -> Result<BatchOutcome, GmailError> {
    let ids = id_list("messageIds", ids)?;
    let (add, remove) = label_change(mailbox, add, remove).await?;
    let (add, remove) = (&add, &remove);
    let out = in_chunks(
        &ids,
        |chunk| async move {
            let request = BatchModifyMessagesRequest {
                ids: Some(chunk),
                add_label_ids: Some(add.clone()),
                remove_label_ids: Some(remove.clone()),
            };
            let done = gmail_call!(mailbox, idempotent, |u| u
                .messages_batch_modify(request, "me"));
            if let Err(GmailError::InvalidArgument { .. }) = &done {
                // Maybe a label gone since the cache was filled: the next call looks again.
                mailbox.connection().labels.forget();
            }
            done.map(|_| ())
        },
        |id| async move { modify_resolved(mailbox, &id, add, remove).await.map(|_| ()) },
    )
    .await?;
    mailbox
        .audit("batch_modify", vec![], out.succeeded.clone())
        .await;
    Ok(out)
}

/// messages.batchDelete in chunks of 1000 ids (permanent; needs the full-mail scope).
#[tracing::instrument(skip_all, fields(count = ids.len()))]
pub async fn batch_delete(
    mailbox: &Mailbox,
    ids: Vec<MessageId>,
) -> Result<BatchOutcome, GmailError> {
    let ids = id_list("messageIds", ids)?;
    let out = in_chunks(
        &ids,
        |chunk| async move {
            let request = BatchDeleteMessagesRequest { ids: Some(chunk) };
            // Deleting again deletes nothing more: a transient failure may be retried.
            gmail_call!(mailbox, idempotent, |u| u
                .messages_batch_delete(request, "me"))
            .map(|_| ())
        },
        |id| async move { delete(mailbox, &id).await },
    )
    .await
    .map_err(scope_hint)?;
    mailbox
        .audit("batch_delete", vec![], out.succeeded.clone())
        .await;
    Ok(out)
}

/// One batch call per 1000 ids. A chunk refused for its ids (400, 404) is retried one
/// message at a time, with bounded concurrency, so the outcome is reported per id; unless
/// the first five are all refused with 400 too (a label gone since the cache was filled),
/// when the rest are reported failed unasked. A Gmail that still fails after the retries
/// fails the rest of the ids unasked (one call a message would fail the same way, at a
/// thousand times the cost); auth, scope and rate refusals answer the whole request.
async fn in_chunks<B, BF, S, SF>(
    ids: &[MessageId],
    batch: B,
    single: S,
) -> Result<BatchOutcome, GmailError>
where
    B: Fn(Vec<String>) -> BF,
    BF: std::future::Future<Output = Result<(), GmailError>>,
    S: Fn(MessageId) -> SF,
    SF: std::future::Future<Output = Result<(), GmailError>>,
{
    let mut outcome = BatchOutcome::default();
    let mut chunks = ids.chunks(BATCH_IDS);
    while let Some(chunk) = chunks.next() {
        outcome.upstream_calls += 1;
        // Transient failures were retried inside the call (gmail::retry).
        let strings: Vec<String> = chunk.iter().map(|id| id.to_string()).collect();
        match batch(strings.clone()).await {
            Ok(()) => outcome.succeeded.extend(strings),
            // Refused for every message alike (auth, scope), or out of quota: one call a
            // message would fail the same way, or only spend more.
            Err(
                e @ (GmailError::AuthExpired { .. }
                | GmailError::MissingScope { .. }
                | GmailError::RateLimited { .. }),
            ) => return Err(e),
            Err(e)
                if !matches!(
                    e,
                    GmailError::InvalidArgument { .. } | GmailError::NotFound { .. }
                ) =>
            {
                let error = e.public_message();
                let rest = std::iter::once(chunk).chain(chunks.by_ref()).flatten();
                outcome.failed.extend(rest.map(|id| FailedId {
                    id: id.to_string(),
                    error: error.clone(),
                }));
            }
            Err(e) => {
                // A few first: when every one fails too, the refusal was not about some ids
                // (a label deleted since the cache was filled, say), and the rest are not
                // asked one by one.
                let (probe, rest) = chunk.split_at(chunk.len().min(CONCURRENCY));
                let probed = one_by_one(probe, &single).await;
                // Refused alike: not a message gone missing since it was listed (404).
                let all_failed = probed
                    .iter()
                    .all(|(_, r)| matches!(r, Err(GmailError::InvalidArgument { .. })));
                outcome.upstream_calls += probed.len();
                record(&mut outcome, probed);
                if all_failed {
                    let error = e.public_message();
                    outcome.failed.extend(rest.iter().map(|id| FailedId {
                        id: id.to_string(),
                        error: error.clone(),
                    }));
                } else {
                    let singles = one_by_one(rest, &single).await;
                    outcome.upstream_calls += singles.len();
                    record(&mut outcome, singles);
                }
            }
        }
    }
    Ok(outcome)
}

/// `single` for each id, a few at a time.
async fn one_by_one<S, SF>(ids: &[MessageId], single: &S) -> Vec<(String, Result<(), GmailError>)>
where
    S: Fn(MessageId) -> SF,
    SF: std::future::Future<Output = Result<(), GmailError>>,
{
    futures::stream::iter(ids.iter().cloned())
        .map(|id| async move {
            let r = single(id.clone()).await;
            (id.into(), r)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await
}

fn record<T>(outcome: &mut BatchOutcome, results: Vec<(String, Result<T, GmailError>)>) {
    for (id, r) in results {
        match r {
            Ok(_) => outcome.succeeded.push(id),
            Err(e) => outcome.failed.push(FailedId {
                id,
                error: e.public_message(),
            }),
        }
    }
}
