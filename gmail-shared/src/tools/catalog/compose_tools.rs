//! Tools that read, write and send mail: read_email, get_thread, send_email, draft_email,
//! reply_email, forward_email, the draft lifecycle and download_attachment.

use base64::Engine;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::super::{Annotations, Decl, RegistryBuilder, ToolContext, ToolOutput};
use super::count;
use crate::error::GmailError;
use crate::mail::{
    format_address_list, parse_recipient_items, window, OutgoingAttachment, OutgoingMessage,
    ReadableMessage, Recipient, Window,
};
use crate::ops::attachments::{self, SavedFile};
use crate::ops::drafts::{self, DraftPage, DraftRef};
use crate::ops::read;
use crate::ops::send::{self, ForwardRequest, ReplyRequest, SentMessage};

/// Default window of body text per call, so one huge email never floods an agent's context.
const DEFAULT_MAX_LENGTH: u32 = 20_000;

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MimeType {
    #[serde(rename = "text/plain")]
    TextPlain,
    #[serde(rename = "text/html")]
    TextHtml,
    #[serde(rename = "multipart/alternative")]
    MultipartAlternative,
}

/// An attachment given inline, for agents that cannot put files on the server.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InlineAttachment {
    pub filename: String,
    /// Content type, e.g. application/pdf (guessed from the filename when absent)
    #[serde(default)]
    pub mime_type: Option<String>,
    /// The file's bytes, base64 (standard or URL-safe alphabet)
    pub content_base64: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendEmail {
    /// List of recipient email addresses
    pub to: Vec<String>,
    /// Email subject
    pub subject: String,
    /// Email body content (used for text/plain or when htmlBody not provided)
    pub body: String,
    /// HTML version of the email body (sent as HTML whenever given)
    #[serde(default)]
    pub html_body: Option<String>,
    /// Email content type
    #[serde(default)]
    pub mime_type: Option<MimeType>,
    /// List of CC recipients
    #[serde(default)]
    pub cc: Option<Vec<String>>,
    /// List of BCC recipients
    #[serde(default)]
    pub bcc: Option<Vec<String>>,
    /// Thread ID to reply to
    #[serde(default)]
    pub thread_id: Option<String>,
    /// Message being replied to: its Gmail message id or its Message-ID header
    #[serde(default)]
    pub in_reply_to: Option<String>,
    /// List of file paths to attach to the email (inside the server's attachment directories)
    #[serde(default)]
    pub attachments: Option<Vec<String>>,
    /// Attachments given inline as base64
    #[serde(default)]
    pub attachment_contents: Option<Vec<InlineAttachment>>,
    /// Send-as address (see list_send_as), optionally with a display name
    #[serde(default)]
    pub from: Option<String>,
    /// Reply-To addresses
    #[serde(default)]
    pub reply_to: Option<Vec<String>>,
    /// Extra References message ids (normally computed from inReplyTo/threadId)
    #[serde(default)]
    pub references: Option<Vec<String>>,
    #[serde(default)]
    pub account: Option<String>,
}

pub fn recipients(field: &str, list: &Option<Vec<String>>) -> Result<Vec<Recipient>, GmailError> {
    match list {
        Some(items) => parse_recipient_items(field, items),
        None => Ok(vec![]),
    }
}

pub fn inline_attachments(
    list: &Option<Vec<InlineAttachment>>,
) -> Result<Vec<OutgoingAttachment>, GmailError> {
    let mut out = Vec::new();
    for (i, a) in list.iter().flatten().enumerate() {
        // Either alphabet, padded or not, line breaks allowed: normalise to standard, unpadded.
        let cleaned: String = a
            .content_base64
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '=')
            .map(|c| match c {
                '-' => '+',
                '_' => '/',
                c => c,
            })
            .collect();
        let data = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(cleaned)
            .map_err(|e| {
                GmailError::invalid(
                    format!("attachmentContents[{i}].contentBase64"),
                    format!("is not base64: {e}"),
                )
            })?;
        out.push(OutgoingAttachment {
            filename: a.filename.clone(),
            content_type: a.mime_type.clone(),
            data,
            content_id: None,
        });
    }
    Ok(out)
}

pub fn file_attachments(
    ctx: &ToolContext,
    paths: &Option<Vec<String>>,
) -> Result<Vec<OutgoingAttachment>, GmailError> {
    let files = attachments::read_files(
        &ctx.env.files.attachment_dirs,
        paths.as_deref().unwrap_or_default(),
    )?;
    Ok(files
        .into_iter()
        .map(|f| OutgoingAttachment::new(f.filename, f.data))
        .collect())
}

impl SendEmail {
    fn message(&self, ctx: &ToolContext) -> Result<OutgoingMessage, GmailError> {
        let (text, html) = bodies(&self.body, self.html_body.as_deref(), self.mime_type);
        let mut attachments = file_attachments(ctx, &self.attachments)?;
        attachments.extend(inline_attachments(&self.attachment_contents)?);
        Ok(OutgoingMessage {
            from: self
                .from
                .as_deref()
                .map(|f| Recipient::parse("from", f))
                .transpose()?,
            to: parse_recipient_items("to", &self.to)?,
            cc: recipients("cc", &self.cc)?,
            bcc: recipients("bcc", &self.bcc)?,
            reply_to: recipients("replyTo", &self.reply_to)?,
            subject: self.subject.clone(),
            text_body: text,
            html_body: html,
            in_reply_to: None,
            references: self.references.clone().unwrap_or_default(),
            attachments,
            message_id: None,
        })
    }
}

/// The bodies to send. HTML is sent whenever htmlBody is given (the peer server dropped it
/// unless mimeType was changed); mimeType text/html with only `body` means body is HTML.
pub fn bodies(
    body: &str,
    html: Option<&str>,
    mime: Option<MimeType>,
) -> (Option<String>, Option<String>) {
    match (mime, html) {
        (Some(MimeType::TextHtml), None) => (None, Some(body.to_string())),
        (Some(MimeType::TextHtml), Some(h)) => (None, Some(h.to_string())),
        (_, Some(h)) => (Some(body.to_string()), Some(h.to_string())),
        (_, None) => (Some(body.to_string()), None),
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReadEmail {
    /// ID of the email message to retrieve
    pub message_id: String,
    /// Maximum characters of body text to return (default 20000; 0 = no limit)
    #[serde(default, deserialize_with = "count")]
    #[schemars(with = "Option<f64>")]
    pub max_length: Option<u32>,
    /// Character offset to continue a long body from (see the truncation note)
    #[serde(default, deserialize_with = "count")]
    #[schemars(with = "Option<f64>")]
    pub offset: Option<u32>,
    /// Also return the HTML body (windowed the same way)
    #[serde(default)]
    pub include_html: Option<bool>,
    #[serde(default)]
    pub account: Option<String>,
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

fn render_headers(m: &ReadableMessage) -> String {
    let mut out = format!("ID: {}\nThread ID: {}\n", m.id, m.thread_id);
    if let Some(id) = &m.message_id {
        out.push_str(&format!("Message-ID: {id}\n"));
    }
    out.push_str(&format!("Subject: {}\n", m.subject));
    if let Some(from) = &m.from {
        out.push_str(&format!("From: {from}\n"));
    }
    out.push_str(&format!("To: {}\n", format_address_list(&m.to)));
    if !m.cc.is_empty() {
        out.push_str(&format!("Cc: {}\n", format_address_list(&m.cc)));
    }
    if let Some(date) = &m.date {
        out.push_str(&format!("Date: {date}\n"));
    }
    if let Some(irt) = &m.in_reply_to {
        out.push_str(&format!("In-Reply-To: {irt}\n"));
    }
    if !m.references.is_empty() {
        out.push_str(&format!("References: {}\n", m.references.join(" ")));
    }
    if !m.label_ids.is_empty() {
        out.push_str(&format!("Labels: {}\n", m.label_ids.join(", ")));
    }
    out
}

fn render_attachments(m: &ReadableMessage) -> String {
    if m.attachments.is_empty() {
        return String::new();
    }
    let mut out = format!("\n\nAttachments ({}):\n", m.attachments.len());
    for a in &m.attachments {
        out.push_str(&format!(
            "- {} ({}, {} KB, ID: {})\n",
            a.filename,
            a.mime_type,
            a.size.div_ceil(1024),
            a.attachment_id.as_deref().unwrap_or("-")
        ));
    }
    out
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetThread {
    /// ID of the thread (conversation)
    pub thread_id: String,
    /// Maximum characters of conversation text to return (default 20000; 0 = no limit)
    #[serde(default, deserialize_with = "count")]
    #[schemars(with = "Option<f64>")]
    pub max_length: Option<u32>,
    /// Character offset to continue from (see the truncation note)
    #[serde(default, deserialize_with = "count")]
    #[schemars(with = "Option<f64>")]
    pub offset: Option<u32>,
    #[serde(default)]
    pub account: Option<String>,
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

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplyEmail {
    /// ID of the message to answer
    pub message_id: String,
    /// Reply text
    pub body: String,
    /// HTML version of the reply
    #[serde(default)]
    pub html_body: Option<String>,
    /// Reply to everyone on the original (To and Cc), not only the sender
    #[serde(default)]
    pub reply_all: Option<bool>,
    /// Additional CC recipients
    #[serde(default)]
    pub cc: Option<Vec<String>>,
    /// BCC recipients
    #[serde(default)]
    pub bcc: Option<Vec<String>>,
    /// Send-as address
    #[serde(default)]
    pub from: Option<String>,
    /// Quote the original below the reply
    #[serde(default)]
    pub quote_original: Option<bool>,
    /// File paths to attach (inside the server's attachment directories)
    #[serde(default)]
    pub attachments: Option<Vec<String>>,
    /// Attachments given inline as base64
    #[serde(default)]
    pub attachment_contents: Option<Vec<InlineAttachment>>,
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForwardEmail {
    /// ID of the message to forward
    pub message_id: String,
    /// Recipients
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Option<Vec<String>>,
    #[serde(default)]
    pub bcc: Option<Vec<String>>,
    /// A note above the forwarded message
    #[serde(default)]
    pub body: Option<String>,
    /// Keep the original's attachments (default true)
    #[serde(default)]
    pub include_attachments: Option<bool>,
    /// Send-as address
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DownloadAttachment {
    /// ID of the email message containing the attachment
    pub message_id: String,
    /// ID of the attachment to download
    pub attachment_id: String,
    /// Filename to save the attachment as (if not provided, uses original filename)
    #[serde(default)]
    pub filename: Option<String>,
    /// Directory to save into, relative to the server's download directory (defaults to it)
    #[serde(default)]
    pub save_path: Option<String>,
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListDrafts {
    /// Gmail search query over drafts
    #[serde(default)]
    pub query: Option<String>,
    /// Maximum number of drafts (default 20, at most 500)
    #[serde(default, deserialize_with = "count")]
    #[schemars(with = "Option<f64>")]
    pub max_results: Option<u32>,
    #[serde(default)]
    pub page_token: Option<String>,
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DraftId {
    /// ID of the draft (from draft_email or list_drafts)
    pub draft_id: String,
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateDraft {
    /// ID of the draft to replace
    pub draft_id: String,
    /// Recipients
    #[serde(default)]
    pub to: Option<Vec<String>>,
    pub subject: String,
    pub body: String,
    #[serde(default)]
    pub html_body: Option<String>,
    #[serde(default)]
    pub cc: Option<Vec<String>>,
    #[serde(default)]
    pub bcc: Option<Vec<String>>,
    /// Keep the draft in this thread
    #[serde(default)]
    pub thread_id: Option<String>,
    #[serde(default)]
    pub attachments: Option<Vec<String>>,
    #[serde(default)]
    pub attachment_contents: Option<Vec<InlineAttachment>>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub account: Option<String>,
}

fn sent_text(what: &str, s: &SentMessage) -> String {
    format!(
        "{what} successfully with ID: {}\nThread ID: {}",
        s.id, s.thread_id
    )
}

pub fn add_compose_tools(b: RegistryBuilder) -> RegistryBuilder {
    b.add::<SendEmail, SentMessage, _, _>(
        Decl {
            name: "send_email",
            title: "Send an email",
            description: "Sends a new email. With threadId or inReplyTo (a Gmail message id or a Message-ID) it is sent as a reply that threads for every recipient (In-Reply-To, full References, Re: subject). htmlBody is always sent as HTML with a text alternative. Attach server files (attachments) or inline base64 content (attachmentContents); 25 MB in total.",
            annotations: Annotations::WRITE,
        },
        |ctx, p: SendEmail| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let msg = p.message(&ctx)?;
            let sent = send::send(&mailbox, msg, p.thread_id.as_deref(), p.in_reply_to.as_deref()).await?;
            Ok(ToolOutput::structured(sent_text("Email sent", &sent), &sent))
        },
    )
    .add::<SendEmail, DraftRef, _, _>(
        Decl {
            name: "draft_email",
            title: "Draft an email",
            description: "Saves a new draft (not sent). Same fields as send_email; with threadId or inReplyTo the draft is a reply in that thread. Send it later with send_draft.",
            annotations: Annotations::WRITE,
        },
        |ctx, p: SendEmail| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let msg = p.message(&ctx)?;
            let d = drafts::create_draft(&mailbox, msg, p.thread_id.as_deref(), p.in_reply_to.as_deref()).await?;
            Ok(ToolOutput::structured(format!("Email draft created successfully with ID: {}", d.id), &d))
        },
    )
    .add::<ReadEmail, ReadEmailResult, _, _>(
        Decl {
            name: "read_email",
            title: "Read an email",
            description: "Retrieves the content of a specific email: headers (including Message-ID, In-Reply-To, References), the body as text (HTML-only mail is converted to readable text), and attachments with their ids. Long bodies come in windows of maxLength characters; continue with offset.",
            annotations: Annotations::READ,
        },
        |ctx, p: ReadEmail| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let mut m = read::read_message(&mailbox, &p.message_id).await?;
            let max = p.max_length.unwrap_or(DEFAULT_MAX_LENGTH) as usize;
            let offset = p.offset.unwrap_or(0) as usize;
            let w = window(&m.text, offset, max);
            let mut text = render_headers(&m);
            if m.text_from_html {
                text.push_str("\n[Note: This email is HTML-formatted; the text below was converted from the HTML.]\n");
            }
            text.push('\n');
            text.push_str(&w.text_with_note());
            text.push_str(&render_attachments(&m));
            m.text = w.text.clone();
            m.html = if p.include_html.unwrap_or(false) {
                m.html.as_deref().map(|h| window(h, offset, max).text)
            } else {
                None
            };
            let result = ReadEmailResult { message: m, body_window: BodyWindow::from(&w) };
            Ok(ToolOutput::structured(text, &result))
        },
    )
    .add::<GetThread, ThreadResult, _, _>(
        Decl {
            name: "get_thread",
            title: "Read a conversation",
            description: "Reads a whole conversation (thread), oldest message first, with each message's quoted history trimmed so it reads once. Long threads come in windows of maxLength characters; continue with offset.",
            annotations: Annotations::READ,
        },
        |ctx, p: GetThread| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let t = read::get_thread(&mailbox, &p.thread_id).await?;
            let count = t.messages.len();
            let mut full = String::new();
            for (i, m) in t.messages.iter().enumerate() {
                full.push_str(&format!("--- Message {} of {count} ---\n", i + 1));
                full.push_str(&render_headers(m));
                full.push('\n');
                full.push_str(m.text.trim_end());
                full.push_str(&render_attachments(m));
                full.push_str("\n\n");
            }
            let w = window(&full, p.offset.unwrap_or(0) as usize, p.max_length.unwrap_or(DEFAULT_MAX_LENGTH) as usize);
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
        },
    )
    .add::<ReplyEmail, SentMessage, _, _>(
        Decl {
            name: "reply_email",
            title: "Reply to an email",
            description: "Replies to a message in its thread: to the sender (or Reply-To), or with replyAll to everyone on it except you; sets In-Reply-To, the full References chain and the Re: subject so it threads in every mail client.",
            annotations: Annotations::WRITE,
        },
        |ctx, p: ReplyEmail| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let mut attachments = file_attachments(&ctx, &p.attachments)?;
            attachments.extend(inline_attachments(&p.attachment_contents)?);
            let req = ReplyRequest {
                message_id: p.message_id,
                body: p.body,
                html_body: p.html_body,
                reply_all: p.reply_all.unwrap_or(false),
                cc: recipients("cc", &p.cc)?,
                bcc: recipients("bcc", &p.bcc)?,
                from: p.from.as_deref().map(|f| Recipient::parse("from", f)).transpose()?,
                attachments,
                quote_original: p.quote_original.unwrap_or(false),
                own_message_id: None,
            };
            let sent = send::reply(&mailbox, req).await?;
            Ok(ToolOutput::structured(sent_text("Reply sent", &sent), &sent))
        },
    )
    .add::<ForwardEmail, SentMessage, _, _>(
        Decl {
            name: "forward_email",
            title: "Forward an email",
            description: "Forwards a message to new recipients with an optional note, keeping the original's attachments.",
            annotations: Annotations::WRITE,
        },
        |ctx, p: ForwardEmail| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let req = ForwardRequest {
                message_id: p.message_id,
                to: parse_recipient_items("to", &p.to)?,
                cc: recipients("cc", &p.cc)?,
                bcc: recipients("bcc", &p.bcc)?,
                from: p.from.as_deref().map(|f| Recipient::parse("from", f)).transpose()?,
                note: p.body,
                include_attachments: p.include_attachments.unwrap_or(true),
                own_message_id: None,
            };
            let sent = send::forward(&mailbox, req).await?;
            Ok(ToolOutput::structured(sent_text("Email forwarded", &sent), &sent))
        },
    )
    .add::<DownloadAttachment, SavedFile, _, _>(
        Decl {
            name: "download_attachment",
            title: "Download an attachment",
            description: "Downloads an email attachment into the server's download directory (savePath is a folder inside it; paths that leave it are refused). Attachment ids come from read_email.",
            annotations: Annotations::IDEMPOTENT_WRITE,
        },
        |ctx, p: DownloadAttachment| async move {
            attachments::check_download(p.save_path.as_deref(), p.filename.as_deref())?;
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let (root, shown_from) = ctx.env.files.download_root(&mailbox)?;
            let filename = match p.filename.clone() {
                Some(f) => f,
                None => {
                    let m = read::read_message(&mailbox, &p.message_id).await?;
                    m.attachments
                        .iter()
                        .find(|a| a.attachment_id.as_deref() == Some(p.attachment_id.as_str()))
                        .and_then(|a| attachments::fitted_filename(&a.filename))
                        .unwrap_or_else(|| format!("attachment-{}", &p.attachment_id.chars().take(12).collect::<String>()))
                }
            };
            let bytes = attachments::fetch(&mailbox, &p.message_id, &p.attachment_id).await?;
            let saved = attachments::save(&root, p.save_path.as_deref(), &filename, &bytes, shown_from.as_deref())?;
            Ok(ToolOutput::structured(
                format!("Attachment downloaded successfully:\nFile: {}\nSize: {} bytes\nSaved to: {}", saved.filename, saved.size, saved.path),
                &saved,
            ))
        },
    )
    .add::<ListDrafts, DraftPage, _, _>(
        Decl {
            name: "list_drafts",
            title: "List drafts",
            description: "Lists drafts with subject, recipients and snippet, newest first.",
            annotations: Annotations::READ,
        },
        |ctx, p: ListDrafts| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let page = drafts::list_drafts(&mailbox, p.query.as_deref(), p.max_results.unwrap_or(20), p.page_token.as_deref()).await?;
            let mut text = page
                .drafts
                .iter()
                .map(|d| format!("Draft ID: {}\nTo: {}\nSubject: {}\nSnippet: {}\n", d.id, d.to, d.subject, d.snippet))
                .collect::<Vec<_>>()
                .join("\n");
            if page.drafts.is_empty() {
                text.push_str("No drafts found.\n");
            }
            if let Some(t) = &page.next_page_token {
                text.push_str(&format!("\nMore drafts: pass pageToken=\"{t}\"\n"));
            }
            Ok(ToolOutput::structured(text, &page))
        },
    )
    .add::<DraftId, drafts::DraftView, _, _>(
        Decl {
            name: "get_draft",
            title: "Read a draft",
            description: "Reads a draft: recipients, subject, body and attachments.",
            annotations: Annotations::READ,
        },
        |ctx, p: DraftId| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let d = drafts::get_draft(&mailbox, &p.draft_id).await?;
            let text = format!("Draft ID: {}\n{}\n{}{}", d.id, render_headers(&d.message), d.message.text, render_attachments(&d.message));
            Ok(ToolOutput::structured(text, &d))
        },
    )
    .add::<UpdateDraft, DraftRef, _, _>(
        Decl {
            name: "update_draft",
            title: "Replace a draft",
            description: "Replaces a draft's recipients, subject, body and attachments (the draft id stays; its message id changes).",
            annotations: Annotations::IDEMPOTENT_WRITE,
        },
        |ctx, p: UpdateDraft| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let (text, html) = bodies(&p.body, p.html_body.as_deref(), None);
            let mut attachments = file_attachments(&ctx, &p.attachments)?;
            attachments.extend(inline_attachments(&p.attachment_contents)?);
            let msg = OutgoingMessage {
                from: p.from.as_deref().map(|f| Recipient::parse("from", f)).transpose()?,
                to: recipients("to", &p.to)?,
                cc: recipients("cc", &p.cc)?,
                bcc: recipients("bcc", &p.bcc)?,
                subject: p.subject,
                text_body: text,
                html_body: html,
                attachments,
                ..Default::default()
            };
            let d = drafts::update_draft(&mailbox, &p.draft_id, msg, p.thread_id.as_deref()).await?;
            Ok(ToolOutput::structured(format!("Draft {} updated", d.id), &d))
        },
    )
    .add::<DraftId, SentMessage, _, _>(
        Decl {
            name: "send_draft",
            title: "Send a draft",
            description: "Sends an existing draft as it is; the draft disappears and the sent message is returned.",
            annotations: Annotations::WRITE,
        },
        |ctx, p: DraftId| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let sent = drafts::send_draft(&mailbox, &p.draft_id).await?;
            Ok(ToolOutput::structured(sent_text("Draft sent", &sent), &sent))
        },
    )
    .add_text::<DraftId, _, _>(
        Decl {
            name: "delete_draft",
            title: "Delete a draft",
            description: "Deletes a draft permanently.",
            annotations: Annotations::DESTRUCTIVE,
        },
        |ctx, p: DraftId| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            drafts::delete_draft(&mailbox, &p.draft_id).await?;
            Ok(ToolOutput::text(format!("Draft {} deleted successfully.", p.draft_id)))
        },
    )
}
