//! Messages: search, read (text, full structure, raw RFC 822), label changes, trash, delete
//! and the batch forms. Sending is in `compose`.

use actix_web::{web, HttpResponse};
use gmail_shared::mail::ReadableMessage;
use gmail_shared::ops::messages::{self, BatchOutcome, LabelsAfter, SearchPage, SearchRequest};
use gmail_shared::ops::MessageId;
use gmail_shared::ops::{read, PageSize};
use gmail_shared::server::JsonBody;
use gmail_shared::GmailError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::{no_content, resource, split_list, AccountQuery, Answer};
use crate::extract::CallerMailbox;

pub fn configure(cfg: &mut web::ServiceConfig) {
    resource(cfg, "/messages", [web::get().to(list)]);
    resource(cfg, "/messages/batchModify", [web::post().to(batch_modify)]);
    resource(cfg, "/messages/batchDelete", [web::post().to(batch_delete)]);
    resource(
        cfg,
        "/messages/{id}",
        [web::get().to(get), web::delete().to(delete)],
    );
    resource(cfg, "/messages/{id}/modify", [web::post().to(modify)]);
    resource(cfg, "/messages/{id}/trash", [web::post().to(trash)]);
    resource(cfg, "/messages/{id}/untrash", [web::post().to(untrash)]);
}

/// Search and paging parameters shared by messages and threads.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// Gmail search query (from:, to:, subject:, label:, is:unread, has:attachment, after:2026/01/31, …).
    #[param(example = "is:unread")]
    pub q: Option<String>,
    /// Comma-separated label ids (or names) the results must all carry.
    #[param(example = "INBOX")]
    pub label_ids: Option<String>,
    /// `nextPageToken` of the previous page.
    pub page_token: Option<String>,
    /// Page size, 1 to 500 (default 10).
    #[param(minimum = 1, maximum = 500, example = 10)]
    pub max_results: Option<u32>,
    /// Include spam and trash (default false).
    pub include_spam_trash: Option<bool>,
    /// Connected Gmail address to act on; defaults to the primary account.
    pub account: Option<String>,
}

impl ListQuery {
    pub fn request(&self) -> Result<SearchRequest, GmailError> {
        Ok(SearchRequest {
            query: self.q.clone().unwrap_or_default(),
            label_ids: split_list(self.label_ids.as_deref()),
            max_results: PageSize::parse(self.max_results, PageSize::fixed(10))?,
            page_token: self.page_token.clone(),
            include_spam_trash: self.include_spam_trash.unwrap_or(false),
        })
    }
}

/// Search messages (Gmail query syntax), one page at a time.
#[utoipa::path(get, path = "/api/v1/messages", tag = "messages", params(ListQuery),
    responses((status = 200, description = "One page of message summaries; pass `nextPageToken` back as `pageToken`", body = SearchPage)))]
pub async fn list(q: web::Query<ListQuery>, mailbox: CallerMailbox) -> Answer {
    let search = q.request()?;
    Ok(HttpResponse::Ok().json(messages::search(&mailbox, &search).await?))
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageFormat {
    /// Headers and the body as readable text (HTML converted), attachments listed.
    #[default]
    Text,
    /// Gmail's full message structure (MIME part tree, headers, body data base64url).
    Full,
    /// The RFC 822 message as stored (`message/rfc822`).
    Raw,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GetQuery {
    /// `text` (default), `full` or `raw`.
    #[param(inline)]
    pub format: Option<MessageFormat>,
    /// Connected Gmail address to act on; defaults to the primary account.
    pub account: Option<String>,
}

/// Gmail's full message structure (format=full), as Gmail returns it.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
#[schema(example = json!({"id": "18c2f0a1b2c3d4e5", "threadId": "18c2f0a1b2c3d4e5", "labelIds": ["INBOX"], "snippet": "Hello", "payload": {"mimeType": "text/plain", "headers": [{"name": "Subject", "value": "Hello"}], "body": {"size": 5, "data": "SGVsbG8="}}}))]
pub struct FullMessage {
    id: String,
    #[schema(rename = "threadId")]
    thread_id: String,
    #[schema(rename = "labelIds")]
    label_ids: Option<Vec<String>>,
    snippet: Option<String>,
    #[schema(rename = "historyId")]
    history_id: Option<String>,
    /// Milliseconds since the epoch, as a string.
    #[schema(rename = "internalDate")]
    internal_date: Option<String>,
    #[schema(rename = "sizeEstimate")]
    size_estimate: Option<i64>,
    /// The MIME part tree.
    #[schema(value_type = Object)]
    payload: Value,
}

/// The `format=text` or `format=full` view of a message.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum MessageView {
    Text(Box<ReadableMessage>),
    Full(Box<FullMessage>),
}

/// Read a message: as readable text (default), as Gmail's full structure, or raw RFC 822.
#[utoipa::path(get, path = "/api/v1/messages/{id}", tag = "messages",
    params(("id" = String, Path, description = "Gmail message id", example = "18c2f0a1b2c3d4e5"), GetQuery),
    responses((status = 200, description = "The message: JSON for `text` and `full`, `message/rfc822` bytes for `raw`",
        content((MessageView = "application/json"), (String = "message/rfc822")))))]
pub async fn get(
    path: web::Path<MessageId>,
    q: web::Query<GetQuery>,
    mailbox: CallerMailbox,
) -> Answer {
    let id = path.into_inner();
    match q.format.unwrap_or_default() {
        MessageFormat::Text => {
            Ok(HttpResponse::Ok().json(read::read_message(&mailbox, &id).await?))
        }
        MessageFormat::Raw => Ok(HttpResponse::Ok()
            .content_type("message/rfc822")
            .body(read::read_raw(&mailbox, &id).await?)),
        MessageFormat::Full => Ok(HttpResponse::Ok().json(read::read_full(&mailbox, &id).await?)),
    }
}

/// Labels to add and remove (ids or names).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"addLabelIds": ["STARRED"], "removeLabelIds": ["UNREAD"]}))]
pub struct LabelChange {
    #[serde(default)]
    pub add_label_ids: Vec<String>,
    #[serde(default)]
    pub remove_label_ids: Vec<String>,
}

/// Change a message's labels (archive = remove INBOX, mark read = remove UNREAD).
#[utoipa::path(post, path = "/api/v1/messages/{id}/modify", tag = "messages",
    params(("id" = String, Path, description = "Gmail message id"), AccountQuery),
    request_body = LabelChange,
    responses((status = 200, description = "The message's labels after the change", body = LabelsAfter)))]
pub async fn modify(
    path: web::Path<MessageId>,
    body: JsonBody<LabelChange>,
    mailbox: CallerMailbox,
) -> Answer {
    let after =
        messages::modify(&mailbox, &path, &body.add_label_ids, &body.remove_label_ids).await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Move a message to the trash (recoverable with untrash).
#[utoipa::path(post, path = "/api/v1/messages/{id}/trash", tag = "messages",
    params(("id" = String, Path, description = "Gmail message id"), AccountQuery),
    responses((status = 200, description = "Trashed; the labels now", body = LabelsAfter)))]
pub async fn trash(path: web::Path<MessageId>, mailbox: CallerMailbox) -> Answer {
    Ok(HttpResponse::Ok().json(messages::trash(&mailbox, &path).await?))
}

/// Take a message out of the trash.
#[utoipa::path(post, path = "/api/v1/messages/{id}/untrash", tag = "messages",
    params(("id" = String, Path, description = "Gmail message id"), AccountQuery),
    responses((status = 200, description = "Restored; the labels now", body = LabelsAfter)))]
pub async fn untrash(path: web::Path<MessageId>, mailbox: CallerMailbox) -> Answer {
    Ok(HttpResponse::Ok().json(messages::untrash(&mailbox, &path).await?))
}

/// Delete a message permanently (needs the full-mail scope; prefer trash).
#[utoipa::path(delete, path = "/api/v1/messages/{id}", tag = "messages",
    params(("id" = String, Path, description = "Gmail message id"), AccountQuery),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(path: web::Path<MessageId>, mailbox: CallerMailbox) -> Answer {
    messages::delete(&mailbox, &path).await?;
    Ok(no_content())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"ids": ["18c2f0a1b2c3d4e5"], "removeLabelIds": ["UNREAD"]}))]
pub struct BatchModifyBody {
    /// Message ids (one Gmail call per 1000).
    pub ids: Vec<MessageId>,
    #[serde(default)]
    pub add_label_ids: Vec<String>,
    #[serde(default)]
    pub remove_label_ids: Vec<String>,
}

/// Change the labels of many messages; the outcome is reported per id.
#[utoipa::path(post, path = "/api/v1/messages/batchModify", tag = "messages",
    params(AccountQuery), request_body = BatchModifyBody,
    responses((status = 200, description = "Which ids succeeded and which failed", body = BatchOutcome)))]
pub async fn batch_modify(body: JsonBody<BatchModifyBody>, mailbox: CallerMailbox) -> Answer {
    let body = body.into_inner();
    let out = messages::batch_modify(
        &mailbox,
        body.ids,
        &body.add_label_ids,
        &body.remove_label_ids,
    )
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"ids": ["18c2f0a1b2c3d4e5"]}))]
pub struct BatchDeleteBody {
    /// Message ids to delete permanently.
    pub ids: Vec<MessageId>,
}

/// Delete many messages permanently (needs the full-mail scope).
#[utoipa::path(post, path = "/api/v1/messages/batchDelete", tag = "messages",
    params(AccountQuery), request_body = BatchDeleteBody,
    responses((status = 200, description = "Which ids were deleted and which failed", body = BatchOutcome)))]
pub async fn batch_delete(body: JsonBody<BatchDeleteBody>, mailbox: CallerMailbox) -> Answer {
    Ok(HttpResponse::Ok().json(messages::batch_delete(&mailbox, body.into_inner().ids).await?))
}
