//! Sending: a new message, a reply, a forward (JSON or multipart/form-data with files), each
//! under an optional `Idempotency-Key`; and the body forms drafts share.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use base64::Engine;
use futures_util::StreamExt;
use gmail_shared::idempotency::SendOnce;
pub use gmail_shared::ops::compose::{ComposeBody, ForwardBody, MimeType, ReplyBody};
use gmail_shared::ops::send::{self, ForwardRequest, ReplyRequest, SentMessage};
use gmail_shared::ops::Mailbox;
use gmail_shared::ops::MessageId;
use gmail_shared::GmailError;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::{from_json, max_body, read_body, resource, AccountQuery, Answer};
use crate::app::AppState;
use crate::extract::Caller;

/// Before `messages`: `/messages/send` must match ahead of `/messages/{id}`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    resource(cfg, "/messages/send", [web::post().to(send_message)]);
    resource(cfg, "/messages/{id}/reply", [web::post().to(reply)]);
    resource(cfg, "/messages/{id}/forward", [web::post().to(forward)]);
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

/// Parts of one multipart form, at most (fields and files together).
const MAX_FORM_PARTS: usize = 1000;
/// What a part counts against the body limit besides its data.
const PART_OVERHEAD: usize = 512;

async fn form_value(
    mut form: actix_multipart::Multipart,
    spec: &FormSpec,
    max_bytes: usize,
) -> Result<Value, GmailError> {
    let mut obj = serde_json::Map::new();
    let mut files = Vec::new();
    let mut total = 0usize;
    let mut parts = 0usize;
    while let Some(field) = form.next().await {
        let mut field =
            field.map_err(|e| GmailError::invalid("body", format!("multipart: {e}")))?;
        // Each part costs what the server keeps of it besides its data (a JSON object, its
        // name and filename): millions of empty parts must meet the limits too.
        parts += 1;
        if parts > MAX_FORM_PARTS {
            return Err(GmailError::invalid(
                "body",
                format!("the form has more than {MAX_FORM_PARTS} parts"),
            ));
        }
        let name = field.name().unwrap_or("").to_string();
        let filename = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_owned);
        let mime = field.content_type().map(|m| m.essence_str().to_string());
        total += PART_OVERHEAD + name.len() + filename.as_ref().map_or(0, String::len);
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

/// Reads a JSON or multipart body as the JSON object it stands for and as the request type
/// it parses into: the object is what an `Idempotency-Key` is checked against.
async fn read_as<T: serde::de::DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
    spec: &FormSpec,
) -> Result<(Value, T), GmailError> {
    let value = body_value(req, payload, spec).await?;
    let body = from_json(value.clone())?;
    Ok((value, body))
}

/// What a sending handler needs to run under the request's `Idempotency-Key`: the request
/// (its key and caller), the app state and the `?account=` asked for.
pub struct Sending {
    req: HttpRequest,
    state: web::Data<AppState>,
    account: Option<String>,
}

impl FromRequest for Sending {
    type Error = GmailError;
    type Future = std::future::Ready<Result<Self, GmailError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let sending = |account| {
            Ok(Sending {
                req: req.clone(),
                state: crate::extract::state(req)?,
                account,
            })
        };
        std::future::ready(crate::extract::requested_account(req).and_then(sending))
    }
}

impl Sending {
    /// Runs a sending operation under the request's `Idempotency-Key`, if any (see
    /// [`gmail_shared::idempotency`]). A key is bound to the account and the `message` body
    /// it was first used with.
    async fn run<F, Fut>(self, route: &str, message: Value, dry_run: bool, run: F) -> Answer
    where
        F: FnOnce(Mailbox, Option<String>) -> Fut,
        Fut: std::future::Future<Output = Result<SentMessage, GmailError>>,
    {
        let (req, state, account) = (&self.req, &self.state, self.account.as_deref());
        // A dry run changes nothing: no key to claim, nothing to find in Gmail.
        let key = if dry_run {
            None
        } else {
            crate::idempotency::key(req)?
        };
        let sent = SendOnce {
            store: &state.auth.env().once,
            caller: &gmail_shared::auth::caller_id(req).unwrap_or_default(),
            key: key.as_deref(),
            route,
            message: json!({"account": account, "message": message}),
        }
        .run(state.mailbox(req, account), run)
        .await?;
        let mut response = HttpResponse::Ok();
        if sent.replayed {
            response.insert_header((crate::idempotency::REPLAYED_HEADER, "true"));
        }
        Ok(response.json(sent))
    }
}

/// Send a new message (JSON, or multipart/form-data with file parts named `attachments`).
/// With `threadId` or `inReplyTo` it is sent as a reply that threads for every recipient.
#[utoipa::path(post, path = "/api/v1/messages/send", tag = "messages",
    params(AccountQuery, ("Idempotency-Key" = Option<String>, Header, description = "Repeat a request with the same key to get the first answer; nothing is sent twice (kept 24 h)", example = "3f6c2b0e-order-1234")),
    request_body(description = "The message", content((ComposeBody = "application/json"), (ComposeForm = "multipart/form-data"))),
    responses((status = 200, description = "Sent", body = SentMessage)))]
pub async fn send_message(sending: Sending, caller: Caller, payload: web::Payload) -> Answer {
    let (value, body): (_, ComposeBody) = read_as(&sending.req, payload, &COMPOSE_FORM).await?;
    let dry_run = body.dry_run;
    let (mut msg, at) = body.message(&caller.env.files.attachment_dirs)?;
    let send = |mailbox, once_id| async move {
        msg.message_id = once_id;
        let (thread_id, in_reply_to) = (at.thread_id.as_deref(), at.in_reply_to.as_deref());
        send::send(&mailbox, msg, thread_id, in_reply_to, dry_run).await
    };
    sending.run("send", value, dry_run, send).await
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
    sending: Sending,
    caller: Caller,
    path: web::Path<MessageId>,
    payload: web::Payload,
) -> Answer {
    let (value, body): (_, ReplyBody) = read_as(&sending.req, payload, &REPLY_FORM).await?;
    let request = body.request(path.into_inner(), &caller.env.files.attachment_dirs)?;
    let (route, dry_run) = (format!("reply/{}", request.message_id), request.dry_run);
    let send = |mailbox, own_message_id| async move {
        let request = ReplyRequest {
            own_message_id,
            ..request
        };
        send::reply(&mailbox, request).await
    };
    sending.run(&route, value, dry_run, send).await
}

/// Forward a message with its attachments to new recipients.
#[utoipa::path(post, path = "/api/v1/messages/{id}/forward", tag = "messages",
    params(("id" = String, Path, description = "Gmail id of the message forwarded"), AccountQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "Repeat a request with the same key to get the first answer; nothing is sent twice (kept 24 h)")),
    request_body = ForwardBody,
    responses((status = 200, description = "Forwarded", body = SentMessage)))]
pub async fn forward(
    sending: Sending,
    path: web::Path<MessageId>,
    body: web::Json<Value>,
) -> Answer {
    let value = body.into_inner();
    let request = from_json::<ForwardBody>(value.clone())?.request(path.into_inner())?;
    let (route, dry_run) = (format!("forward/{}", request.message_id), request.dry_run);
    let send = |mailbox, own_message_id| async move {
        let request = ForwardRequest {
            own_message_id,
            ..request
        };
        send::forward(&mailbox, request).await
    };
    sending.run(&route, value, dry_run, send).await
}
