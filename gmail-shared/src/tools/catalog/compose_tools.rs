//! Tools that read, write and send mail: read_email, get_thread, send_email, draft_email,
//! reply_email, forward_email, the draft lifecycle and download_attachment.

use gmail_tool_macros::tool;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::super::{RegistryBuilder, ToolContext, ToolOutput, ToolResult};
use super::text::{self, ResponseFormat};
use super::Count;
use crate::idempotency::SendOnce;
use crate::mail::{format_address_list, window, ReadableMessage, Window};
use crate::ops::attachments::{self, AttachmentHandle, Located, SavedFile};
use crate::ops::compose::{ComposeBody, ForwardBody, InlineAttachment, MimeType, ReplyBody};
use crate::ops::drafts::{self, DraftRef};
use crate::ops::read;
use crate::ops::send::{self, SentMessage};
use crate::ops::Mailbox;
use crate::ops::{MessageId, ThreadId};

/// Default window of body text per call, so one huge email never floods an agent's context.
const DEFAULT_MAX_LENGTH: u32 = 20_000;

/// read_email and get_thread may answer this much when asked for a whole long text
/// (maxLength 0); clients learn it from `_meta["anthropic/maxResultSizeChars"]`.
pub const LARGE_RESULT_CHARS: usize = 200_000;

/// Label names by id, or none when the list cannot be had (results then show ids).
pub(super) async fn names_of_labels(
    mailbox: &crate::ops::Mailbox,
) -> std::collections::HashMap<String, String> {
    crate::ops::labels::label_names(mailbox)
        .await
        .unwrap_or_default()
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendEmail {
    pub to: Vec<String>,
    pub subject: String,
    /// Text body
    pub body: String,
    /// HTML body (body is its text version)
    pub html_body: Option<String>,
    pub mime_type: Option<MimeType>,
    pub cc: Option<Vec<String>>,
    pub bcc: Option<Vec<String>>,
    // Reply within this thread (the tool's description says so).
    pub thread_id: Option<String>,
    /// Gmail id or Message-ID answered
    pub in_reply_to: Option<String>,
    /// Server file paths
    pub attachments: Option<Vec<String>>,
    /// Inline files
    pub attachment_contents: Option<Vec<InlineAttachment>>,
    /// Send-as address
    pub from: Option<String>,
    pub reply_to: Option<Vec<String>>,
    pub references: Option<Vec<String>>,
    pub dry_run: Option<bool>,
    // A repeat with the same key and message answers the first send (24 h). Undescribed:
    // the name says it, and the default toolset's definitions have a byte budget.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

impl SendEmail {
    fn compose(self) -> ComposeBody {
        ComposeBody {
            to: self.to,
            subject: self.subject,
            body: self.body,
            html_body: self.html_body,
            mime_type: self.mime_type,
            cc: self.cc.unwrap_or_default(),
            bcc: self.bcc.unwrap_or_default(),
            reply_to: self.reply_to.unwrap_or_default(),
            thread_id: self.thread_id,
            in_reply_to: self.in_reply_to,
            from: self.from,
            references: self.references.unwrap_or_default(),
            attachments: self.attachments.unwrap_or_default(),
            attachment_contents: self.attachment_contents.unwrap_or_default(),
            dry_run: self.dry_run.unwrap_or(false),
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReadEmail {
    pub message_id: MessageId,
    pub max_length: Option<Count>,
    pub offset: Option<Count>,
    pub include_html: Option<bool>,
    pub response_format: Option<ResponseFormat>,
}

/// Where the returned text sits in the whole body.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BodyWindow {
    pub offset: usize,
    pub returned_chars: usize,
    pub total_chars: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<usize>,
    pub truncated: bool,
}

impl From<&Window> for BodyWindow {
    fn from(w: &Window) -> Self {
        BodyWindow {
            offset: w.offset,
            returned_chars: w.returned_chars,
            total_chars: w.total_chars,
            next_offset: w.next_offset,
            truncated: w.truncated,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadEmailResult {
    /// The message; `text` holds the requested window of the body.
    pub message: ReadableMessage,
    pub body_window: BodyWindow,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetThread {
    pub thread_id: ThreadId,
    pub max_length: Option<Count>,
    pub offset: Option<Count>,
    pub response_format: Option<ResponseFormat>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThreadMessageInfo {
    pub id: String,
    pub message_id: Option<String>,
    pub from: String,
    pub to: String,
    pub date: Option<String>,
    pub label_ids: Vec<String>,
    pub attachments: Vec<crate::mail::AttachmentInfo>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThreadResult {
    pub id: String,
    pub subject: String,
    pub message_count: usize,
    pub messages: Vec<ThreadMessageInfo>,
    /// The conversation as text, oldest first, quoted history trimmed (the requested window).
    pub text: String,
    pub text_window: BodyWindow,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplyEmail {
    pub message_id: MessageId,
    pub body: String,
    pub html_body: Option<String>,
    /// Reply to everyone on it
    pub reply_all: Option<bool>,
    pub cc: Option<Vec<String>>,
    pub bcc: Option<Vec<String>>,
    /// Send-as address
    pub from: Option<String>,
    pub quote_original: Option<bool>,
    /// Server file paths
    pub attachments: Option<Vec<String>>,
    /// Inline files
    pub attachment_contents: Option<Vec<InlineAttachment>>,
    pub dry_run: Option<bool>,
    // A repeat with the same key and message answers the first send (24 h). Undescribed:
    // the name says it, and the default toolset's definitions have a byte budget.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForwardEmail {
    pub message_id: MessageId,
    pub to: Vec<String>,
    pub cc: Option<Vec<String>>,
    pub bcc: Option<Vec<String>>,
    /// Note above the forwarded message
    pub body: Option<String>,
    /// Default true
    pub include_attachments: Option<bool>,
    /// Send-as address
    pub from: Option<String>,
    pub dry_run: Option<bool>,
    // A repeat with the same key and message answers the first send (24 h). Undescribed:
    // the name says it, and the default toolset's definitions have a byte budget.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DownloadAttachment {
    pub message_id: MessageId,
    /// Handle from read_email
    pub attachment_id: String,
    /// Default: its own name
    pub filename: Option<String>,
    /// Folder inside the download folder
    pub save_path: Option<String>,
    pub account: Option<String>,
}

pub(super) fn sent_text(what: &str, s: &SentMessage) -> String {
    if s.dry_run {
        return format!(
            "Dry run: nothing was sent. It would go out as:\n\n{}",
            s.rendered.as_deref().unwrap_or("")
        );
    }
    if let Some(draft) = &s.draft_id {
        return format!(
            "Drafts-only mode: nothing was sent; saved as draft {draft} (message {}) for the user to send from Gmail.",
            s.id
        );
    }
    if s.replayed && s.label_ids.iter().any(|l| l == "DRAFT") {
        return format!(
            "Drafts-only mode: an earlier call with this idempotencyKey saved it as a draft (message {}); nothing was sent.",
            s.id
        );
    }
    if s.replayed {
        return format!(
            "Already sent by an earlier call with this idempotencyKey; nothing was sent again. ID: {}\nThread ID: {}",
            s.id, s.thread_id
        );
    }
    format!(
        "{what} successfully with ID: {}\nThread ID: {}",
        s.id, s.thread_id
    )
}

/// Sends an email; with threadId or inReplyTo it is a threaded reply.
#[tool(title = "Send an email", annotations = WRITE, toolset = Compose)]
async fn send_email(ctx: ToolContext, mailbox: Mailbox, mut p: SendEmail) -> ToolResult {
    let keyed = Keyed::of("send_email", "Email sent", p.idempotency_key.take(), &p);
    let body = p.compose();
    let dry_run = body.dry_run;
    let (mut msg, at) = body.message(&ctx.env.files.attachment_dirs)?;
    let send = |mailbox: Mailbox, once_id| async move {
        msg.message_id = once_id;
        let (thread_id, in_reply_to) = (at.thread_id.as_deref(), at.in_reply_to.as_deref());
        send::send(&mailbox, msg, thread_id, in_reply_to, dry_run).await
    };
    keyed.send(&ctx, mailbox, dry_run, send).await
}

/// A send tool's call: which tool, how its answer starts, its `idempotencyKey` and the
/// message the key is bound to (the arguments, less the key).
struct Keyed {
    tool: &'static str,
    what: &'static str,
    key: Option<String>,
    message: serde_json::Value,
}

impl Keyed {
    fn of(tool: &'static str, what: &'static str, key: Option<String>, p: &impl Serialize) -> Self {
        let mut message = serde_json::to_value(p).unwrap_or_default();
        // A keyed send is never a dry run: `dryRun: false` and none are the same message.
        if let Some(m) = message.as_object_mut() {
            m.remove("dryRun");
        }
        Keyed {
            tool,
            what,
            key,
            message,
        }
    }

    /// Runs `send` (given the mailbox and the Message-ID to carry) at most once for the key,
    /// if given (see [`crate::idempotency`]; REST's `Idempotency-Key` shares the store and
    /// the rules), and answers what was sent.
    async fn send<F, Fut>(
        self,
        ctx: &ToolContext,
        mailbox: Mailbox,
        dry_run: bool,
        send: F,
    ) -> ToolResult
    where
        F: FnOnce(Mailbox, Option<String>) -> Fut,
        Fut: std::future::Future<Output = Result<SentMessage, crate::error::GmailError>>,
    {
        // A dry run changes nothing: no key to claim.
        let key = match self.key.filter(|_| !dry_run) {
            Some(k) => Some(crate::idempotency::parse_key("idempotencyKey", &k)?),
            None => None,
        };
        let caller = ctx.mailboxes.caller().map(|c| c.user_id.clone());
        let sent = SendOnce {
            store: &ctx.env.once,
            caller: &caller.unwrap_or_default(),
            key: key.as_deref(),
            route: &format!("tool/{}", self.tool),
            message: serde_json::json!({"account": mailbox.account(), "message": self.message}),
        }
        .run(std::future::ready(Ok(mailbox)), send)
        .await?;
        Ok(ToolOutput::structured(sent_text(self.what, &sent), &sent))
    }
}

/// Saves a draft; fields as send_email.
#[tool(title = "Draft an email", annotations = WRITE, toolset = Compose)]
async fn draft_email(ctx: ToolContext, mailbox: Mailbox, p: SendEmail) -> ToolResult {
    if p.idempotency_key.is_some() {
        return Err(crate::error::GmailError::invalid(
            "idempotencyKey",
            "keys a send; a draft is saved once per call (send it with send_draft)",
        ));
    }
    let (msg, at) = p.compose().draft_message(&ctx.env.files.attachment_dirs)?;
    let d = drafts::create_draft(
        &mailbox,
        msg,
        at.thread_id.as_deref(),
        at.in_reply_to.as_deref(),
    )
    .await?;
    Ok(ToolOutput::structured(
        format!("Email draft created successfully with ID: {}", d.id),
        &d,
    ))
}

/// Reads an email: headers, labels, body text, attachments.
#[tool(title = "Read an email", annotations = READ, toolset = Read)]
async fn read_email(_ctx: ToolContext, mailbox: Mailbox, p: ReadEmail) -> ToolResult {
    let mut m = read::read_message(&mailbox, &p.message_id).await?;
    let format = p.response_format.unwrap_or_default();
    let names = names_of_labels(&mailbox).await;
    let max = p.max_length.map_or(DEFAULT_MAX_LENGTH, u32::from) as usize;
    let offset = p.offset.map_or(0, u32::from) as usize;
    let w = window(&m.text, offset, max);
    let mut text = match format {
        ResponseFormat::Concise => text::headers_concise(&m, &names, mailbox.account()),
        ResponseFormat::Detailed => text::headers_detailed(&m, &names),
    };
    if m.text_from_html && format == ResponseFormat::Detailed {
        text.push_str(
            "[Note: This email is HTML-formatted; the text below was converted from the HTML.]\n",
        );
    }
    text.push('\n');
    match format {
        // The window runs over what is shown: the body without quotes and signature.
        ResponseFormat::Concise => text.push_str(
            &window(
                &text::concise_body(&m.text, &m.subject, m.bulk),
                offset,
                max,
            )
            .text_with_note(),
        ),
        ResponseFormat::Detailed => text.push_str(&w.text_with_note()),
    }
    text.push_str(&text::attachments(&m, format));
    m.text = w.text.clone();
    m.html = if p.include_html.unwrap_or(false) {
        m.html.as_deref().map(|h| window(h, offset, max).text)
    } else {
        None
    };
    let result = ReadEmailResult {
        message: m,
        body_window: BodyWindow::from(&w),
    };
    Ok(ToolOutput::structured(text, &result))
}

/// Reads a conversation, oldest first, quotes trimmed.
#[tool(title = "Read a conversation", annotations = READ, toolset = Read)]
async fn get_thread(_ctx: ToolContext, mailbox: Mailbox, p: GetThread) -> ToolResult {
    let t = read::get_thread(&mailbox, &p.thread_id).await?;
    let format = p.response_format.unwrap_or_default();
    let names = names_of_labels(&mailbox).await;
    let count = t.messages.len();
    let mut full = String::new();
    for (i, m) in t.messages.iter().enumerate() {
        full.push_str(&match format {
            ResponseFormat::Concise => format!("--- {} of {count}: {} ---\n", i + 1, m.id),
            ResponseFormat::Detailed => format!("--- Message {} of {count} ---\n", i + 1),
        });
        full.push_str(&match format {
            ResponseFormat::Concise => text::headers_concise(m, &names, mailbox.account()),
            ResponseFormat::Detailed => text::headers_detailed(m, &names),
        });
        full.push('\n');
        full.push_str(m.text.trim_end());
        full.push_str(&text::attachments(m, format));
        full.push_str("\n\n");
    }
    let w = window(
        &full,
        p.offset.map_or(0, u32::from) as usize,
        p.max_length.map_or(DEFAULT_MAX_LENGTH, u32::from) as usize,
    );
    let result = ThreadResult {
        id: t.id,
        subject: t.subject,
        message_count: count,
        messages: t
            .messages
            .into_iter()
            .map(|m| ThreadMessageInfo {
                from: m.from.as_ref().map(ToString::to_string).unwrap_or_default(),
                to: format_address_list(&m.to),
                id: m.id,
                message_id: m.message_id,
                date: m.date,
                label_ids: m.label_ids,
                attachments: m.attachments,
            })
            .collect(),
        text: w.text.clone(),
        text_window: BodyWindow::from(&w),
    };
    Ok(ToolOutput::structured(w.text_with_note(), &result))
}

/// Replies in the thread (replyAll: to everyone), threading headers set.
#[tool(title = "Reply to an email", annotations = WRITE, toolset = Compose)]
async fn reply_email(ctx: ToolContext, mailbox: Mailbox, mut p: ReplyEmail) -> ToolResult {
    let keyed = Keyed::of("reply_email", "Reply sent", p.idempotency_key.take(), &p);
    let req = ReplyBody {
        body: p.body,
        html_body: p.html_body,
        reply_all: p.reply_all.unwrap_or(false),
        cc: p.cc.unwrap_or_default(),
        bcc: p.bcc.unwrap_or_default(),
        from: p.from,
        quote_original: p.quote_original.unwrap_or(false),
        attachments: p.attachments.unwrap_or_default(),
        attachment_contents: p.attachment_contents.unwrap_or_default(),
        dry_run: p.dry_run.unwrap_or(false),
    }
    .request(p.message_id, &ctx.env.files.attachment_dirs)?;
    let dry_run = req.dry_run;
    let send = |mailbox: Mailbox, own_message_id| async move {
        let req = send::ReplyRequest {
            own_message_id,
            ..req
        };
        send::reply(&mailbox, req).await
    };
    keyed.send(&ctx, mailbox, dry_run, send).await
}

/// Forwards a message with its attachments.
#[tool(title = "Forward an email", annotations = WRITE, toolset = Compose)]
async fn forward_email(ctx: ToolContext, mailbox: Mailbox, mut p: ForwardEmail) -> ToolResult {
    let keyed = Keyed::of(
        "forward_email",
        "Email forwarded",
        p.idempotency_key.take(),
        &p,
    );
    let req = ForwardBody {
        to: p.to,
        cc: p.cc.unwrap_or_default(),
        bcc: p.bcc.unwrap_or_default(),
        body: p.body,
        include_attachments: p.include_attachments,
        from: p.from,
        dry_run: p.dry_run.unwrap_or(false),
    }
    .request(p.message_id)?;
    let dry_run = req.dry_run;
    let send = |mailbox: Mailbox, own_message_id| async move {
        let req = send::ForwardRequest {
            own_message_id,
            ..req
        };
        send::forward(&mailbox, req).await
    };
    keyed.send(&ctx, mailbox, dry_run, send).await
}

/// Saves an attachment to the server's download folder.
#[tool(title = "Download an attachment", annotations = IDEMPOTENT_WRITE, toolset = Read)]
async fn download_attachment(ctx: ToolContext, p: DownloadAttachment) -> ToolResult {
    attachments::check_download(p.save_path.as_deref(), p.filename.as_deref())?;
    let mailbox = ctx.mailbox(p.account.as_deref()).await?;
    let (root, shown_from) = ctx.env.files.download_root(&mailbox)?;
    // read_email shows each attachment's part id as its handle; Gmail's own (long)
    // attachment ids work too, and with a file name given need no look at the message.
    let handle = AttachmentHandle::parse("attachmentId", &p.attachment_id)?;
    let located = match (&handle, &p.filename) {
        (AttachmentHandle::Gmail(id), Some(_)) => Located {
            id: id.clone(),
            info: None,
        },
        _ => attachments::locate(&mailbox, &p.message_id, &handle).await?,
    };
    let attachment_id = located.id;
    let filename = match p.filename.clone() {
        Some(f) => f,
        None => located
            .info
            .and_then(|a| attachments::fitted_filename(&a.filename))
            .unwrap_or_else(|| {
                format!(
                    "attachment-{}",
                    &attachment_id.chars().take(12).collect::<String>()
                )
            }),
    };
    // A folder already full is refused before the download is paid for.
    ctx.env.files.check_room(0)?;
    let bytes = attachments::fetch(&mailbox, &p.message_id, &attachment_id).await?;
    ctx.env.files.check_room(bytes.len() as u64)?;
    let saved = attachments::save(
        &root,
        p.save_path.as_deref(),
        &filename,
        &bytes,
        shown_from.as_deref(),
    )?;
    Ok(ToolOutput::structured(
        format!(
            "Attachment downloaded successfully:\nFile: {}\nSize: {} bytes\nSaved to: {}",
            saved.filename, saved.size, saved.path
        ),
        &saved,
    ))
}

pub fn add_compose_tools(b: RegistryBuilder) -> RegistryBuilder {
    b.on_mailbox::<SendEmail, SentMessage, _, _>(SEND_EMAIL, send_email)
        .on_mailbox::<SendEmail, DraftRef, _, _>(DRAFT_EMAIL, draft_email)
        .on_mailbox::<ReadEmail, ReadEmailResult, _, _>(READ_EMAIL, read_email)
        .large_results(LARGE_RESULT_CHARS)
        .on_mailbox::<GetThread, ThreadResult, _, _>(GET_THREAD, get_thread)
        .large_results(LARGE_RESULT_CHARS)
        .on_mailbox::<ReplyEmail, SentMessage, _, _>(REPLY_EMAIL, reply_email)
        .on_mailbox::<ForwardEmail, SentMessage, _, _>(FORWARD_EMAIL, forward_email)
        .add::<DownloadAttachment, SavedFile, _, _>(DOWNLOAD_ATTACHMENT, download_attachment)
}
