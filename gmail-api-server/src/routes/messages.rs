//! Messages: search, read (text, full structure, raw RFC 822), send (JSON or multipart),
//! reply, forward, label changes, trash, delete and the batch forms.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use futures_util::StreamExt;
use gmail_shared::mail::{parse_recipient_items, OutgoingMessage, ReadableMessage, Recipient};
use gmail_shared::ops::messages::{self, BatchOutcome, LabelsAfter, SearchPage, SearchRequest};
use gmail_shared::ops::send::{self, ForwardRequest, ReplyRequest, SentMessage};
use gmail_shared::ops::{check_id, read, Mailbox};
use gmail_shared::tools::catalog::compose_tools::{
    bodies, file_attachments, inline_attachments, recipients, InlineAttachment, MimeType,
};
use gmail_shared::tools::ToolContext;
use gmail_shared::GmailError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use super::{
    from_json, max_body, no_content, page_size, read_body, resource, split_list, AccountQuery,
};
use crate::app::AppState;
use crate::idempotency::{fingerprint, Begin};

pub fn configure(cfg: &mut web::ServiceConfig) {
    resource(cfg, "/messages", [web::get().to(list)]);
    resource(cfg, "/messages/send", [web::post().to(send_message)]);
    resource(cfg, "/messages/batchModify", [web::post().to(batch_modify)]);
    resource(cfg, "/messages/batchDelete", [web::post().to(batch_delete)]);
    resource(
        cfg,
        "/messages/{id}",
        [web::get().to(get), web::delete().to(delete)],
    );
    resource(cfg, "/messages/{id}/reply", [web::post().to(reply)]);
    resource(cfg, "/messages/{id}/forward", [web::post().to(forward)]);
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
            max_results: page_size(self.max_results, 10)?,
            page_token: self.page_token.clone(),
            include_spam_trash: self.include_spam_trash.unwrap_or(false),
        })
    }
}

/// Search messages (Gmail query syntax), one page at a time.
#[utoipa::path(get, path = "/api/v1/messages", tag = "messages", params(ListQuery),
    responses((status = 200, description = "One page of message summaries; pass `nextPageToken` back as `pageToken`", body = SearchPage)))]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, GmailError> {
    let search = q.request()?;
    let mailbox = state.mailbox(&req, q.account.as_deref()).await?;
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
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<GetQuery>,
) -> Result<HttpResponse, GmailError> {
    let id = check_id("id", &path)?.to_string();
    let mailbox = state.mailbox(&req, q.account.as_deref()).await?;
    match q.format.unwrap_or_default() {
        MessageFormat::Text => {
            Ok(HttpResponse::Ok().json(read::read_message(&mailbox, &id).await?))
        }
        MessageFormat::Raw => Ok(HttpResponse::Ok()
            .content_type("message/rfc822")
            .body(read::read_raw(&mailbox, &id).await?)),
        MessageFormat::Full => Ok(HttpResponse::Ok().json(full_message(&mailbox, &id).await?)),
    }
}

/// Gmail's own message resource: nothing to convert, so no operation of its own.
async fn full_message(mailbox: &Mailbox, id: &str) -> Result<Value, GmailError> {
    let (_, m) = mailbox
        .hub()
        .users()
        .messages_get("me", id)
        .format("full")
        .delegate(&mut mailbox.retry().idempotent())
        .doit()
        .await
        .map_err(|e| match GmailError::from(e) {
            GmailError::NotFound { .. } => GmailError::not_found(format!("message {id}")),
            other => other,
        })?;
    let mut value =
        serde_json::to_value(m).map_err(|e| GmailError::internal(format!("message {id}: {e}")))?;
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

/// A new message (send, drafts). The same fields as the MCP `send_email` tool.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"to": ["alice@example.com"], "subject": "Quarterly report", "body": "Hi Alice,\n\nthe report is attached.\n", "attachmentContents": [{"filename": "report.txt", "mimeType": "text/plain", "contentBase64": "SGVsbG8="}]}))]
pub struct ComposeBody {
    /// Recipients (each entry may be a comma-separated list; `Name <addr>` allowed).
    pub to: Vec<String>,
    #[serde(default)]
    pub subject: String,
    /// Text body (HTML when `mimeType` is `text/html` and no `htmlBody` is given).
    #[serde(default)]
    pub body: String,
    /// HTML body, sent with `body` as its text alternative.
    pub html_body: Option<String>,
    pub mime_type: Option<MimeType>,
    #[serde(default)]
    pub cc: Vec<String>,
    #[serde(default)]
    pub bcc: Vec<String>,
    #[serde(default)]
    pub reply_to: Vec<String>,
    /// Thread to reply in.
    pub thread_id: Option<String>,
    /// The message answered: Gmail message id or RFC Message-ID.
    pub in_reply_to: Option<String>,
    /// Send-as address, optionally with a display name.
    pub from: Option<String>,
    /// Extra References message ids.
    #[serde(default)]
    pub references: Vec<String>,
    /// Server file paths to attach (inside the configured attachment directories).
    #[serde(default)]
    pub attachments: Vec<String>,
    /// Attachments given inline as base64.
    #[serde(default)]
    pub attachment_contents: Vec<InlineAttachment>,
    /// Send only: build the message and answer it; send nothing.
    #[serde(default)]
    pub dry_run: bool,
}

impl ComposeBody {
    pub fn message(self, ctx: &ToolContext) -> Result<OutgoingMessage, GmailError> {
        let (text, html) = bodies(&self.body, self.html_body.as_deref(), self.mime_type);
        let mut attachments = file_attachments(ctx, &Some(self.attachments))?;
        attachments.extend(inline_attachments(&Some(self.attachment_contents))?);
        Ok(OutgoingMessage {
            from: self
                .from
                .as_deref()
                .map(|f| Recipient::parse("from", f))
                .transpose()?,
            to: parse_recipient_items("to", &self.to)?,
            cc: parse_recipient_items("cc", &self.cc)?,
            bcc: parse_recipient_items("bcc", &self.bcc)?,
            reply_to: parse_recipient_items("replyTo", &self.reply_to)?,
            subject: self.subject,
            text_body: text,
            html_body: html,
            in_reply_to: None,
            references: self.references,
            attachments,
            message_id: None,
        })
    }
}

/// The multipart/form-data form of [`ComposeBody`]: text fields by the same names (list
/// fields repeated or comma-separated) and file parts named `attachments`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ComposeForm {
    to: Vec<String>,
    subject: Option<String>,
    body: Option<String>,
    #[schema(rename = "htmlBody")]
    html_body: Option<String>,
    #[schema(rename = "mimeType")]
    mime_type: Option<MimeType>,
    cc: Option<Vec<String>>,
    bcc: Option<Vec<String>>,
    #[schema(rename = "replyTo")]
    reply_to: Option<Vec<String>>,
    #[schema(rename = "threadId")]
    thread_id: Option<String>,
    #[schema(rename = "inReplyTo")]
    in_reply_to: Option<String>,
    from: Option<String>,
    /// Files to attach.
    #[schema(value_type = Option<Vec<String>>, format = Binary)]
    attachments: Option<Vec<Vec<u8>>>,
}

/// How a multipart/form-data body maps onto the JSON body of the same endpoint: which text
/// fields are lists (repeated or comma-separated), plain text, or booleans. File parts are
/// named `attachments` and become `attachmentContents`.
pub struct FormSpec {
    lists: &'static [&'static str],
    texts: &'static [&'static str],
    bools: &'static [&'static str],
}

/// Send and drafts: the fields of [`ComposeBody`].
pub const COMPOSE_FORM: FormSpec = FormSpec {
    lists: &["to", "cc", "bcc", "replyTo", "references"],
    texts: &[
        "subject",
        "body",
        "htmlBody",
        "mimeType",
        "threadId",
        "inReplyTo",
        "from",
    ],
    bools: &["dryRun"],
};

/// Reply: the fields of [`ReplyBody`].
pub const REPLY_FORM: FormSpec = FormSpec {
    lists: &["cc", "bcc"],
    texts: &["body", "htmlBody", "from"],
    bools: &["replyAll", "quoteOriginal", "dryRun"],
};

/// Reads a request body, JSON or multipart/form-data, as the JSON object it stands for.
pub async fn body_value(
    req: &HttpRequest,
    payload: web::Payload,
    spec: &FormSpec,
) -> Result<Value, GmailError> {
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let multipart = actix_multipart::Multipart::new(req.headers(), payload);
        return form_value(multipart, spec, max_body(req)).await;
    }
    if !content_type.starts_with("application/json") && !content_type.is_empty() {
        return Err(GmailError::invalid(
            "body",
            format!("Content-Type {content_type:?}: send application/json or multipart/form-data"),
        ));
    }
    let bytes = read_body(req, payload).await?;
    serde_json::from_slice(&bytes).map_err(|e| gmail_shared::server::json_error(&e))
}

async fn form_value(
    mut form: actix_multipart::Multipart,
    spec: &FormSpec,
    max_bytes: usize,
) -> Result<Value, GmailError> {
    let mut obj = serde_json::Map::new();
    let mut files = Vec::new();
    let mut total = 0usize;
    while let Some(field) = form.next().await {
        let mut field =
            field.map_err(|e| GmailError::invalid("body", format!("multipart: {e}")))?;
        let name = field.name().unwrap_or("").to_string();
        let filename = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_owned);
        let mime = field.content_type().map(|m| m.essence_str().to_string());
        let mut data = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk =
                chunk.map_err(|e| GmailError::invalid(name.clone(), format!("multipart: {e}")))?;
            total += chunk.len();
            if total > max_bytes {
                return Err(GmailError::TooLarge {
                    message: "the form is too large".into(),
                    limit_bytes: max_bytes as u64,
                });
            }
            data.extend_from_slice(&chunk);
        }
        if name == "attachments" || name == "attachments[]" {
            files.push(json!({
                "filename": filename.unwrap_or_else(|| "attachment".into()),
                "mimeType": mime.filter(|m| m != "application/octet-stream"),
                "contentBase64": base64::engine::general_purpose::STANDARD.encode(&data),
            }));
            continue;
        }
        let text = String::from_utf8(data)
            .map_err(|_| GmailError::invalid(name.clone(), "must be UTF-8 text"))?;
        if spec.lists.contains(&name.as_str()) {
            let list = obj.entry(name).or_insert_with(|| Value::Array(vec![]));
            if let Value::Array(items) = list {
                items.push(Value::String(text));
            }
        } else if spec.texts.contains(&name.as_str()) {
            obj.insert(name, Value::String(text));
        } else if spec.bools.contains(&name.as_str()) {
            let flag = match text.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "on" | "yes" => true,
                "false" | "0" | "off" | "no" | "" => false,
                _ => {
                    return Err(GmailError::invalid(
                        name,
                        format!("{text:?} is not a boolean: send true or false"),
                    ))
                }
            };
            obj.insert(name, Value::Bool(flag));
        } else {
            return Err(GmailError::invalid(
                name.clone(),
                format!("unknown form field {name:?}; file parts are named `attachments`"),
            ));
        }
    }
    if !files.is_empty() {
        obj.insert("attachmentContents".into(), Value::Array(files));
    }
    // Compose forms without any `to` get the same "give at least one recipient" answer as JSON.
    if spec.lists.contains(&"to") {
        obj.entry("to").or_insert_with(|| Value::Array(vec![]));
    }
    Ok(Value::Object(obj))
}

/// Runs a sending operation under the request's `Idempotency-Key`, if any. A keyed send
/// carries a Message-ID derived from the key, and before it runs Gmail is asked whether a
/// message with that id exists: a retry after this server died mid-send (its memory of the
/// key gone) finds the first attempt's message and answers with it instead of sending again.
async fn idempotent<F, Fut>(
    req: &HttpRequest,
    state: &AppState,
    account: Option<&str>,
    route: &str,
    content: &Value,
    run: F,
) -> Result<HttpResponse, GmailError>
where
    F: FnOnce(Mailbox, Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<SentMessage, GmailError>>,
{
    // A dry run changes nothing: no key to claim, nothing to find in Gmail.
    if content["message"]["dryRun"] == Value::Bool(true) {
        let mailbox = state.mailbox(req, account).await?;
        return Ok(HttpResponse::Ok().json(run(mailbox, None).await?));
    }
    let fp = fingerprint(route, content);
    let claim = match state.idempotency.begin(req, fp).await? {
        Begin::Replay(resp) => return Ok(resp),
        Begin::Run(claim) => Some(claim),
        Begin::NoKey => None,
    };
    let once_id = claim.as_ref().map(|c| send::once_message_id(&c.scope(&fp)));
    let mut replayed = false;
    let result = async {
        let mailbox = state.mailbox(req, account).await?;
        if let Some(id) = &once_id {
            // Not knowing means not sending: an error here releases the key for a retry.
            if let Some(sent) = send::already_sent(&mailbox, id).await? {
                tracing::info!(message = %sent.id, "an earlier attempt with this Idempotency-Key was sent; answering with it");
                replayed = true;
                return Ok(sent);
            }
        }
        run(mailbox, once_id).await
    }
    .await;
    state
        .idempotency
        .finish(claim, StatusCode::OK, &result)
        .await;
    let mut response = HttpResponse::Ok();
    if replayed {
        response.insert_header((crate::idempotency::REPLAYED_HEADER, "true"));
    }
    Ok(response.json(result?))
}

/// Send a new message (JSON, or multipart/form-data with file parts named `attachments`).
/// With `threadId` or `inReplyTo` it is sent as a reply that threads for every recipient.
#[utoipa::path(post, path = "/api/v1/messages/send", tag = "messages",
    params(AccountQuery, ("Idempotency-Key" = Option<String>, Header, description = "Repeat a request with the same key to get the first answer; nothing is sent twice (kept 24 h)", example = "3f6c2b0e-order-1234")),
    request_body(description = "The message", content((ComposeBody = "application/json"), (ComposeForm = "multipart/form-data"))),
    responses((status = 200, description = "Sent", body = SentMessage)))]
pub async fn send_message(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<AccountQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, GmailError> {
    let value = body_value(&req, payload, &COMPOSE_FORM).await?;
    let body: ComposeBody = from_json(value.clone())?;
    let ctx = state.tool_context(&req);
    let msg = body.into_parts(&ctx)?;
    let content = json!({"account": q.account, "message": value});
    let (mut msg, thread_id, in_reply_to) = msg;
    let dry_run = content["message"]["dryRun"] == Value::Bool(true);
    idempotent(
        &req,
        &state,
        q.account.as_deref(),
        "send",
        &content,
        |mailbox, once_id| async move {
            msg.message_id = once_id;
            send::send(
                &mailbox,
                msg,
                thread_id.as_deref(),
                in_reply_to.as_deref(),
                dry_run,
            )
            .await
        },
    )
    .await
}

impl ComposeBody {
    /// The message plus where it threads (thread id, in-reply-to).
    pub fn into_parts(
        self,
        ctx: &ToolContext,
    ) -> Result<(OutgoingMessage, Option<String>, Option<String>), GmailError> {
        let thread_id = self.thread_id.clone();
        let in_reply_to = self.in_reply_to.clone();
        Ok((self.message(ctx)?, thread_id, in_reply_to))
    }
}

/// A reply; recipients, subject and threading headers come from the original.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"body": "Thanks, see you then.", "replyAll": true}))]
pub struct ReplyBody {
    /// Reply text.
    pub body: String,
    pub html_body: Option<String>,
    /// Reply to everyone on the original except you, not only the sender.
    #[serde(default)]
    pub reply_all: bool,
    #[serde(default)]
    pub cc: Vec<String>,
    #[serde(default)]
    pub bcc: Vec<String>,
    pub from: Option<String>,
    /// Quote the original below the reply.
    #[serde(default)]
    pub quote_original: bool,
    #[serde(default)]
    pub attachments: Vec<String>,
    #[serde(default)]
    pub attachment_contents: Vec<InlineAttachment>,
    /// Build the reply and answer it; send nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// The multipart/form-data form of [`ReplyBody`]: text fields by the same names (`cc`/`bcc`
/// repeated or comma-separated, `replyAll`/`quoteOriginal` as true or false) and file parts
/// named `attachments`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ReplyForm {
    body: String,
    #[schema(rename = "htmlBody")]
    html_body: Option<String>,
    #[schema(rename = "replyAll")]
    reply_all: Option<bool>,
    cc: Option<Vec<String>>,
    bcc: Option<Vec<String>>,
    from: Option<String>,
    #[schema(rename = "quoteOriginal")]
    quote_original: Option<bool>,
    /// Files to attach.
    #[schema(value_type = Option<Vec<String>>, format = Binary)]
    attachments: Option<Vec<Vec<u8>>>,
}

/// Reply to a message, in its thread (replyAll for everyone on it); JSON, or
/// multipart/form-data with file parts named `attachments`.
#[utoipa::path(post, path = "/api/v1/messages/{id}/reply", tag = "messages",
    params(("id" = String, Path, description = "Gmail id of the message answered"), AccountQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "Repeat a request with the same key to get the first answer; nothing is sent twice (kept 24 h)")),
    request_body(description = "The reply", content((ReplyBody = "application/json"), (ReplyForm = "multipart/form-data"))),
    responses((status = 200, description = "Reply sent", body = SentMessage)))]
pub async fn reply(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<AccountQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, GmailError> {
    let value = body_value(&req, payload, &REPLY_FORM).await?;
    let p: ReplyBody = from_json(value.clone())?;
    let ctx = state.tool_context(&req);
    let mut attachments = file_attachments(&ctx, &Some(p.attachments))?;
    attachments.extend(inline_attachments(&Some(p.attachment_contents))?);
    let request = ReplyRequest {
        message_id: check_id("id", &path)?.to_string(),
        body: p.body,
        html_body: p.html_body,
        reply_all: p.reply_all,
        cc: recipients("cc", &Some(p.cc))?,
        bcc: recipients("bcc", &Some(p.bcc))?,
        from: p
            .from
            .as_deref()
            .map(|f| Recipient::parse("from", f))
            .transpose()?,
        attachments,
        quote_original: p.quote_original,
        own_message_id: None,
        dry_run: p.dry_run,
    };
    let route = format!("reply/{}", request.message_id);
    let content = json!({"account": q.account, "message": value});
    idempotent(
        &req,
        &state,
        q.account.as_deref(),
        &route,
        &content,
        |mailbox, once_id| async move {
            send::reply(
                &mailbox,
                ReplyRequest {
                    own_message_id: once_id,
                    ..request
                },
            )
            .await
        },
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"to": ["bob@example.com"], "body": "FYI"}))]
pub struct ForwardBody {
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    #[serde(default)]
    pub bcc: Vec<String>,
    /// A note above the forwarded message.
    pub body: Option<String>,
    /// Keep the original's attachments (default true).
    pub include_attachments: Option<bool>,
    pub from: Option<String>,
    /// Build the message and answer it; send nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Forward a message with its attachments to new recipients.
#[utoipa::path(post, path = "/api/v1/messages/{id}/forward", tag = "messages",
    params(("id" = String, Path, description = "Gmail id of the message forwarded"), AccountQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "Repeat a request with the same key to get the first answer; nothing is sent twice (kept 24 h)")),
    request_body = ForwardBody,
    responses((status = 200, description = "Forwarded", body = SentMessage)))]
pub async fn forward(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<AccountQuery>,
    body: web::Json<Value>,
) -> Result<HttpResponse, GmailError> {
    let value = body.into_inner();
    let p: ForwardBody = from_json(value.clone())?;
    let request = ForwardRequest {
        message_id: check_id("id", &path)?.to_string(),
        to: parse_recipient_items("to", &p.to)?,
        cc: parse_recipient_items("cc", &p.cc)?,
        bcc: parse_recipient_items("bcc", &p.bcc)?,
        from: p
            .from
            .as_deref()
            .map(|f| Recipient::parse("from", f))
            .transpose()?,
        note: p.body,
        include_attachments: p.include_attachments.unwrap_or(true),
        own_message_id: None,
        dry_run: p.dry_run,
    };
    if request.to.is_empty() {
        return Err(GmailError::invalid("to", "give at least one recipient"));
    }
    let route = format!("forward/{}", request.message_id);
    let content = json!({"account": q.account, "message": value});
    idempotent(
        &req,
        &state,
        q.account.as_deref(),
        &route,
        &content,
        |mailbox, once_id| async move {
            send::forward(
                &mailbox,
                ForwardRequest {
                    own_message_id: once_id,
                    ..request
                },
            )
            .await
        },
    )
    .await
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
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<AccountQuery>,
    body: web::Json<LabelChange>,
) -> Result<HttpResponse, GmailError> {
    let mailbox = state.mailbox(&req, q.account.as_deref()).await?;
    let after =
        messages::modify(&mailbox, &path, &body.add_label_ids, &body.remove_label_ids).await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Move a message to the trash (recoverable with untrash).
#[utoipa::path(post, path = "/api/v1/messages/{id}/trash", tag = "messages",
    params(("id" = String, Path, description = "Gmail message id"), AccountQuery),
    responses((status = 200, description = "Trashed; the labels now", body = LabelsAfter)))]
pub async fn trash(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<AccountQuery>,
) -> Result<HttpResponse, GmailError> {
    let mailbox = state.mailbox(&req, q.account.as_deref()).await?;
    Ok(HttpResponse::Ok().json(messages::trash(&mailbox, &path).await?))
}

/// Take a message out of the trash.
#[utoipa::path(post, path = "/api/v1/messages/{id}/untrash", tag = "messages",
    params(("id" = String, Path, description = "Gmail message id"), AccountQuery),
    responses((status = 200, description = "Restored; the labels now", body = LabelsAfter)))]
pub async fn untrash(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<AccountQuery>,
) -> Result<HttpResponse, GmailError> {
    let mailbox = state.mailbox(&req, q.account.as_deref()).await?;
    Ok(HttpResponse::Ok().json(messages::untrash(&mailbox, &path).await?))
}

/// Delete a message permanently (needs the full-mail scope; prefer trash).
#[utoipa::path(delete, path = "/api/v1/messages/{id}", tag = "messages",
    params(("id" = String, Path, description = "Gmail message id"), AccountQuery),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<AccountQuery>,
) -> Result<HttpResponse, GmailError> {
    let mailbox = state.mailbox(&req, q.account.as_deref()).await?;
    messages::delete(&mailbox, &path).await?;
    Ok(no_content())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"ids": ["18c2f0a1b2c3d4e5"], "removeLabelIds": ["UNREAD"]}))]
pub struct BatchModifyBody {
    /// Message ids (one Gmail call per 1000).
    pub ids: Vec<String>,
    #[serde(default)]
    pub add_label_ids: Vec<String>,
    #[serde(default)]
    pub remove_label_ids: Vec<String>,
}

/// Change the labels of many messages; the outcome is reported per id.
#[utoipa::path(post, path = "/api/v1/messages/batchModify", tag = "messages",
    params(AccountQuery), request_body = BatchModifyBody,
    responses((status = 200, description = "Which ids succeeded and which failed", body = BatchOutcome)))]
pub async fn batch_modify(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<AccountQuery>,
    body: web::Json<BatchModifyBody>,
) -> Result<HttpResponse, GmailError> {
    let mailbox = state.mailbox(&req, q.account.as_deref()).await?;
    let out = messages::batch_modify(
        &mailbox,
        &body.ids,
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
    pub ids: Vec<String>,
}

/// Delete many messages permanently (needs the full-mail scope).
#[utoipa::path(post, path = "/api/v1/messages/batchDelete", tag = "messages",
    params(AccountQuery), request_body = BatchDeleteBody,
    responses((status = 200, description = "Which ids were deleted and which failed", body = BatchOutcome)))]
pub async fn batch_delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<AccountQuery>,
    body: web::Json<BatchDeleteBody>,
) -> Result<HttpResponse, GmailError> {
    let mailbox = state.mailbox(&req, q.account.as_deref()).await?;
    Ok(HttpResponse::Ok().json(messages::batch_delete(&mailbox, &body.ids).await?))
}
