//! Drafts: list, get, create, update, delete (sending one is in `send`).

use google_gmail1::api::{Draft, Message};
use schemars::JsonSchema;
use serde::Serialize;

use super::batch_metadata;
use super::messages::{header, not_found_as, unescape_snippet};
use super::outgoing::{apply_reply_context, in_thread, thread_reply, ReplyContext};
use super::policy::SendPolicy;
use super::{DraftId, Mailbox, PageSize};
use crate::error::GmailError;
use crate::mail::{
    normalize_message_id, parse_message_ids, readable_from_gmail, OutgoingMessage, ReadableMessage,
};

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DraftRef {
    pub id: String,
    pub message_id: String,
    pub thread_id: String,
}

impl From<Draft> for DraftRef {
    fn from(d: Draft) -> Self {
        let m = d.message.unwrap_or_default();
        DraftRef {
            id: d.id.unwrap_or_default(),
            message_id: m.id.unwrap_or_default(),
            thread_id: m.thread_id.unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DraftSummary {
    pub id: String,
    pub message_id: String,
    pub thread_id: String,
    pub subject: String,
    pub to: String,
    pub snippet: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DraftPage {
    pub drafts: Vec<DraftSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DraftView {
    pub id: String,
    pub message: ReadableMessage,
}

/// drafts.list, then the drafts' headers through the batch endpoint.
#[tracing::instrument(skip_all)]
pub async fn list_drafts(
    mailbox: &Mailbox,
    query: Option<&str>,
    max_results: PageSize,
    page_token: Option<&str>,
) -> Result<DraftPage, GmailError> {
    let users = mailbox.hub().users();
    let mut call = users.drafts_list("me").max_results(max_results.get());
    if let Some(q) = query.filter(|q| !q.trim().is_empty()) {
        call = call.q(q);
    }
    if let Some(t) = page_token.filter(|t| !t.is_empty()) {
        call = call.page_token(t);
    }
    let (_, list) = gmail_call!(mailbox, idempotent, call)?;
    let listed = list.drafts.unwrap_or_default();
    let ids = listed.iter().filter_map(|d| d.id.as_deref());
    // drafts.get has no metadataHeaders parameter (the discovery document lists only
    // `format`); its metadata form carries every header.
    let details = batch_metadata::<Draft>(mailbox, "drafts", ids, &[]).await?;
    let mut drafts = Vec::new();
    for d in details.into_iter().flatten() {
        let m: Message = d.message.clone().unwrap_or_default();
        drafts.push(DraftSummary {
            id: d.id.unwrap_or_default(),
            subject: header(&m, "Subject"),
            to: header(&m, "To"),
            snippet: unescape_snippet(m.snippet.as_deref()),
            message_id: m.id.unwrap_or_default(),
            thread_id: m.thread_id.unwrap_or_default(),
        });
    }
    Ok(DraftPage {
        drafts,
        next_page_token: list.next_page_token,
    })
}

#[tracing::instrument(skip_all, fields(draft = %id))]
pub async fn get_draft(mailbox: &Mailbox, id: &DraftId) -> Result<DraftView, GmailError> {
    let (_, d) = gmail_call!(
        mailbox,
        idempotent,
        |u| u.drafts_get("me", id).format("full"),
        large
    )
    .map_err(|e| not_found_as(e, "draft", id))?;
    Ok(DraftView {
        id: d.id.clone().unwrap_or_default(),
        message: readable_from_gmail(&d.message.unwrap_or_default()),
    })
}

/// Creates a draft; with a thread id or in-reply-to it is a reply draft in that thread.
#[tracing::instrument(skip_all)]
pub async fn create_draft(
    mailbox: &Mailbox,
    mut msg: OutgoingMessage,
    thread_id: Option<&str>,
    in_reply_to: Option<&str>,
) -> Result<DraftRef, GmailError> {
    mailbox.policy().check_message(&msg)?;
    let thread = thread_reply(mailbox, &mut msg, thread_id, in_reply_to).await?;
    let raw = msg.to_rfc822_draft()?;
    let d = create_draft_raw(mailbox, raw, thread.as_deref()).await?;
    Ok(audited(mailbox, "draft_create", &msg, d).await)
}

/// Records a saved draft (recipients, draft and message ids) in the audit log; answers it.
async fn audited(mailbox: &Mailbox, action: &str, msg: &OutgoingMessage, d: DraftRef) -> DraftRef {
    let ids = vec![d.id.clone(), d.message_id.clone()];
    mailbox
        .audit(action, SendPolicy::recipients_of(msg), ids)
        .await;
    d
}

/// Saves a built message as a new draft.
pub(crate) async fn create_draft_raw(
    mailbox: &Mailbox,
    raw: Vec<u8>,
    thread_id: Option<&str>,
) -> Result<DraftRef, GmailError> {
    let draft = Draft {
        id: None,
        message: Some(in_thread(thread_id)),
    };
    let (_, d) = gmail_call!(mailbox, once, |u| u.drafts_create(draft, "me"), upload raw)?;
    Ok(d.into())
}

/// Replaces a draft's content (Gmail gives the draft a new message id). With a thread id or
/// in-reply-to it is a reply that threads, as on create; with neither, a reply draft stays
/// the reply it was.
#[tracing::instrument(skip_all, fields(draft = %id))]
pub async fn update_draft(
    mailbox: &Mailbox,
    id: &DraftId,
    mut msg: OutgoingMessage,
    thread_id: Option<&str>,
    in_reply_to: Option<&str>,
) -> Result<DraftRef, GmailError> {
    mailbox.policy().check_message(&msg)?;
    let thread = if thread_id.is_none() && in_reply_to.is_none() {
        keep_reply(mailbox, id, &mut msg).await?
    } else {
        thread_reply(mailbox, &mut msg, thread_id, in_reply_to).await?
    };
    let raw = msg.to_rfc822_draft()?;
    let draft = Draft {
        id: Some(id.to_string()),
        message: Some(in_thread(thread.as_deref())),
    };
    let (_, d) = gmail_call!(mailbox, idempotent, |u| u
        .drafts_update(draft, "me", id), upload raw)
    .map_err(|e| not_found_as(e, "draft", id))?;
    Ok(audited(mailbox, "draft_update", &msg, d.into()).await)
}

/// What a reply draft answered, kept by a rewrite that does not say: agents fix a reply's
/// wording without restating its thread, and the rewrite must still thread. Its thread.
async fn keep_reply(
    mailbox: &Mailbox,
    id: &DraftId,
    msg: &mut OutgoingMessage,
) -> Result<Option<String>, GmailError> {
    let (_, d) = gmail_call!(mailbox, idempotent, |u| u
        .drafts_get("me", id)
        .format("metadata"))
    .map_err(|e| not_found_as(e, "draft", id))?;
    let m = d.message.unwrap_or_default();
    // A malformed header of the old draft is not carried over rather than refused.
    let Ok(answered) = normalize_message_id("inReplyTo", &header(&m, "In-Reply-To")) else {
        return Ok(None);
    };
    let ctx = ReplyContext {
        in_reply_to: Some(answered),
        references: parse_message_ids(&header(&m, "References")),
        thread_id: m.thread_id,
        subject: None,
    };
    apply_reply_context(msg, &ctx);
    Ok(ctx.thread_id)
}

#[tracing::instrument(skip_all, fields(draft = %id))]
pub async fn delete_draft(mailbox: &Mailbox, id: &DraftId) -> Result<(), GmailError> {
    gmail_call!(mailbox, once, |u| u.drafts_delete("me", id))
        .map_err(|e| not_found_as(e, "draft", id))?;
    mailbox.audit_id("draft_delete", id).await;
    Ok(())
}
