//! What a caller asks to send, one type per operation: a new message (send, draft), a reply,
//! a forward. REST takes them as its JSON bodies; the MCP tools, whose argument names and
//! optional fields follow the peer server's, convert into them. Each parses once into what
//! [`super::send`] and [`super::drafts`] take, so both servers build a message one way.

use std::path::PathBuf;

use base64::Engine;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::attachments;
use super::send::{ForwardRequest, ReplyRequest};
use super::MessageId;
use crate::error::GmailError;
use crate::mail::{parse_recipient_items, OutgoingAttachment, OutgoingMessage, Recipient};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MimeType {
    #[serde(rename = "text/plain")]
    TextPlain,
    #[serde(rename = "text/html")]
    TextHtml,
    #[serde(rename = "multipart/alternative")]
    MultipartAlternative,
}

// An attachment given inline, for agents that cannot put files on the server.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InlineAttachment {
    pub filename: String,
    pub mime_type: Option<String>,
    /// Base64 bytes
    pub content_base64: String,
}

/// A new message (send, drafts).
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"to": ["alice@example.com"], "subject": "Quarterly report", "body": "Hi Alice,\n\nthe report is attached.\n", "attachmentContents": [{"filename": "report.txt", "mimeType": "text/plain", "contentBase64": "SGVsbG8="}]})))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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

/// Where a new message threads: the thread id and the message it answers, if any.
pub struct Threading {
    pub thread_id: Option<String>,
    pub in_reply_to: Option<String>,
}

impl ComposeBody {
    /// As [`Self::message`], for a draft: saving one is not a dry run of anything, so
    /// `dryRun` is refused rather than ignored.
    pub fn draft_message(
        self,
        dirs: &[PathBuf],
    ) -> Result<(OutgoingMessage, Threading), GmailError> {
        if self.dry_run {
            return Err(GmailError::invalid(
                "dryRun",
                "a draft sends nothing; dryRun is for sending (send, reply, forward)",
            ));
        }
        self.message(dirs)
    }

    /// The message (files read from `dirs`, addresses parsed) and where it threads.
    pub fn message(self, dirs: &[PathBuf]) -> Result<(OutgoingMessage, Threading), GmailError> {
        let (text, html) = bodies(self.body, self.html_body, self.mime_type);
        let files = attachments_of(dirs, &self.attachments, &self.attachment_contents)?;
        let message = OutgoingMessage {
            from: Recipient::parse_optional("from", self.from.as_deref())?,
            to: parse_recipient_items("to", &self.to)?,
            cc: parse_recipient_items("cc", &self.cc)?,
            bcc: parse_recipient_items("bcc", &self.bcc)?,
            reply_to: parse_recipient_items("replyTo", &self.reply_to)?,
            subject: self.subject,
            text_body: text,
            html_body: html,
            in_reply_to: None,
            references: self.references,
            attachments: files,
            message_id: None,
        };
        let threading = Threading {
            thread_id: self.thread_id,
            in_reply_to: self.in_reply_to,
        };
        Ok((message, threading))
    }
}

/// A reply; recipients, subject and threading headers come from the original.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"body": "Thanks, see you then.", "replyAll": true})))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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

impl ReplyBody {
    /// The reply to `message_id`, files read from `dirs`.
    pub fn request(
        self,
        message_id: MessageId,
        dirs: &[PathBuf],
    ) -> Result<ReplyRequest, GmailError> {
        let files = attachments_of(dirs, &self.attachments, &self.attachment_contents)?;
        Ok(ReplyRequest {
            message_id,
            body: self.body,
            html_body: self.html_body,
            reply_all: self.reply_all,
            cc: parse_recipient_items("cc", &self.cc)?,
            bcc: parse_recipient_items("bcc", &self.bcc)?,
            from: Recipient::parse_optional("from", self.from.as_deref())?,
            attachments: files,
            quote_original: self.quote_original,
            own_message_id: None,
            dry_run: self.dry_run,
        })
    }
}

/// A forward of a message, with its attachments, to new recipients.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"to": ["bob@example.com"], "body": "FYI"})))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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

impl ForwardBody {
    /// The forward of `message_id`; at least one recipient.
    pub fn request(self, message_id: MessageId) -> Result<ForwardRequest, GmailError> {
        let to = parse_recipient_items("to", &self.to)?;
        if to.is_empty() {
            return Err(GmailError::invalid("to", "give at least one recipient"));
        }
        Ok(ForwardRequest {
            message_id,
            to,
            cc: parse_recipient_items("cc", &self.cc)?,
            bcc: parse_recipient_items("bcc", &self.bcc)?,
            from: Recipient::parse_optional("from", self.from.as_deref())?,
            note: self.body,
            include_attachments: self.include_attachments.unwrap_or(true),
            own_message_id: None,
            dry_run: self.dry_run,
        })
    }
}

/// The bodies to send. HTML is sent whenever htmlBody is given (the peer server dropped it
/// unless mimeType was changed); mimeType text/html with only `body` means body is HTML.
fn bodies(
    body: String,
    html: Option<String>,
    mime: Option<MimeType>,
) -> (Option<String>, Option<String>) {
    match (mime, html) {
        (Some(MimeType::TextHtml), None) => (None, Some(body)),
        (Some(MimeType::TextHtml), Some(h)) => (None, Some(h)),
        (_, Some(h)) => (Some(body), Some(h)),
        (_, None) => (Some(body), None),
    }
}

/// Inline attachments decoded; either base64 alphabet, padded or not, line breaks allowed.
fn inline_attachments(list: &[InlineAttachment]) -> Result<Vec<OutgoingAttachment>, GmailError> {
    let mut out = Vec::new();
    for (i, a) in list.iter().enumerate() {
        // Normalise to the standard alphabet, unpadded.
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

/// Files from the server's attachment directories (nothing outside them), then the ones
/// given inline.
fn attachments_of(
    dirs: &[PathBuf],
    paths: &[String],
    inline: &[InlineAttachment],
) -> Result<Vec<OutgoingAttachment>, GmailError> {
    let mut files: Vec<OutgoingAttachment> = attachments::read_files(dirs, paths)?
        .into_iter()
        .map(|f| OutgoingAttachment::new(f.filename, f.data))
        .collect();
    files.extend(inline_attachments(inline)?);
    Ok(files)
}
