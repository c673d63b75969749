//! Building outgoing RFC 822 messages with mail-builder: headers checked for injection, UTF-8
//! encoded properly (RFC 2047 subjects, quoted-printable/base64 bodies, never 7bit for non-ASCII),
//! HTML always paired with a text alternative, attachments and inline images in the right
//! multipart structure, and Gmail's size limits enforced with messages that state the limit.

use std::borrow::Cow;

use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::message_id::MessageId;
use mail_builder::mime::{BodyPart, MimePart};
use mail_builder::MessageBuilder;

use crate::error::GmailError;

use super::address::{Recipient, LINE_BREAK};
use super::html::html_to_text;
use super::ids::{normalize_message_id, strip_brackets};

/// Gmail's limit on the attachments of one message (25 MiB).
pub const MAX_ATTACHMENTS_BYTES: u64 = 25 * 1024 * 1024;
/// Gmail's limit on a whole message as uploaded (35 MB, counted in MiB by the API).
pub const MAX_MESSAGE_BYTES: u64 = 35 * 1024 * 1024;

/// Refuses attachments that total over Gmail's limit, saying the limit.
pub fn check_attachments_total(total: u64) -> Result<(), GmailError> {
    if total <= MAX_ATTACHMENTS_BYTES {
        return Ok(());
    }
    Err(GmailError::TooLarge {
        message: format!(
            "attachments total {total} bytes, over the 25 MiB limit ({MAX_ATTACHMENTS_BYTES} bytes)"
        ),
        limit_bytes: MAX_ATTACHMENTS_BYTES,
    })
}

/// A file to attach. With `content_id` it is an inline part (referenced from the HTML as
/// `cid:<content_id>`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutgoingAttachment {
    pub filename: String,
    /// `type/subtype`; guessed from the filename's extension when `None`.
    pub content_type: Option<String>,
    pub data: Vec<u8>,
    pub content_id: Option<String>,
}

impl OutgoingAttachment {
    pub fn new(filename: impl Into<String>, data: Vec<u8>) -> Self {
        OutgoingAttachment {
            filename: filename.into(),
            content_type: None,
            data,
            content_id: None,
        }
    }

    /// The content type that will be sent: the given one (parameters dropped) or a guess.
    pub fn effective_content_type(&self) -> String {
        self.content_type
            .as_deref()
            .map(|ct| {
                ct.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .filter(|ct| !ct.is_empty())
            .unwrap_or_else(|| guess_content_type(&self.filename))
    }
}

/// A message to send or save as a draft.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// `None` lets Gmail fill in the authenticated account (or its default send-as alias).
    pub from: Option<Recipient>,
    pub to: Vec<Recipient>,
    pub cc: Vec<Recipient>,
    pub bcc: Vec<Recipient>,
    pub reply_to: Vec<Recipient>,
    pub subject: String,
    pub text_body: Option<String>,
    pub html_body: Option<String>,
    /// With or without angle brackets.
    pub in_reply_to: Option<String>,
    /// With or without angle brackets; one id per entry.
    pub references: Vec<String>,
    pub attachments: Vec<OutgoingAttachment>,
    /// The Message-ID to carry; a fresh one when `None`. A send that must happen once sets
    /// it, so Gmail can later say whether it went out.
    pub message_id: Option<String>,
}

/// A built message and the Message-ID it carries (bracketed), for threading later replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltMessage {
    pub raw: Vec<u8>,
    pub message_id: String,
}

impl OutgoingMessage {
    /// Builds the message to send; at least one of to/cc/bcc is required.
    pub fn to_rfc822(&self) -> Result<Vec<u8>, GmailError> {
        self.build(false).map(|b| b.raw)
    }

    /// Builds a draft: recipients may be empty.
    pub fn to_rfc822_draft(&self) -> Result<Vec<u8>, GmailError> {
        self.build(true).map(|b| b.raw)
    }

    /// Builds the message, returning its generated Message-ID too.
    pub fn build(&self, draft: bool) -> Result<BuiltMessage, GmailError> {
        self.validate(draft)?;

        let mut builder = MessageBuilder::new();
        if let Some(from) = &self.from {
            builder = builder.from(address(from));
        }
        for (name, list) in [
            ("To", &self.to),
            ("Cc", &self.cc),
            ("Bcc", &self.bcc),
            ("Reply-To", &self.reply_to),
        ] {
            if !list.is_empty() {
                // Gmail reads Bcc from the uploaded message and strips it before delivery.
                builder =
                    builder.header(name, Address::new_list(list.iter().map(address).collect()));
            }
        }
        builder = builder.subject(self.subject.trim().to_string());

        let domain = self
            .from
            .as_ref()
            .map(|f| f.email.domain().to_string())
            .unwrap_or_else(|| "gmail-servers.local".to_string());
        let message_id = match &self.message_id {
            Some(id) => normalize_message_id("messageId", id)?,
            None => new_message_id(&domain),
        };
        builder = builder.message_id(strip_brackets(&message_id).to_string());

        if let Some(id) = &self.in_reply_to {
            let id = normalize_message_id("inReplyTo", id)?;
            builder = builder.in_reply_to(strip_brackets(&id).to_string());
        }
        let references = self.normalized_references()?;
        if !references.is_empty() {
            let ids: Vec<String> = references
                .iter()
                .map(|r| strip_brackets(r).to_string())
                .collect();
            builder = builder.references(MessageId::new_list(ids.into_iter()));
        }

        builder = builder.body(self.body_tree()?);
        let raw = builder
            .write_to_vec()
            .map_err(|e| GmailError::internal_from("could not build the message", e))?;
        if raw.len() as u64 > MAX_MESSAGE_BYTES {
            return Err(GmailError::TooLarge {
                message: format!(
                    "the message is {} bytes once encoded, over Gmail's 35 MB limit ({MAX_MESSAGE_BYTES} bytes); send fewer or smaller attachments",
                    raw.len()
                ),
                limit_bytes: MAX_MESSAGE_BYTES,
            });
        }
        Ok(BuiltMessage { raw, message_id })
    }

    /// References as sent: the given ids bracketed, de-duplicated, with In-Reply-To appended
    /// when missing (RFC 5322 §3.6.4: the parent's id ends the chain).
    fn normalized_references(&self) -> Result<Vec<String>, GmailError> {
        let mut refs: Vec<String> = Vec::new();
        for r in &self.references {
            // Tolerate several ids in one entry, as a caller may pass a whole header value.
            for part in r.split_whitespace() {
                let id = normalize_message_id("references", part)?;
                if !refs.contains(&id) {
                    refs.push(id);
                }
            }
        }
        if let Some(parent) = &self.in_reply_to {
            let parent = normalize_message_id("inReplyTo", parent)?;
            if !refs.contains(&parent) {
                refs.push(parent);
            }
        }
        Ok(refs)
    }

    fn validate(&self, draft: bool) -> Result<(), GmailError> {
        if self.subject.contains(['\r', '\n']) {
            return Err(GmailError::invalid(
                "subject",
                format!("subject {LINE_BREAK}"),
            ));
        }
        if self.subject.chars().any(|c| c.is_control() && c != '\t') {
            return Err(GmailError::invalid(
                "subject",
                "subject contains a control character",
            ));
        }
        if let Some(from) = &self.from {
            from.validate("from")?;
        }
        for (field, list) in [
            ("to", &self.to),
            ("cc", &self.cc),
            ("bcc", &self.bcc),
            ("replyTo", &self.reply_to),
        ] {
            for r in list {
                r.validate(field)?;
            }
        }
        if !draft && self.to.is_empty() && self.cc.is_empty() && self.bcc.is_empty() {
            return Err(GmailError::invalid(
                "to",
                "at least one recipient (to, cc or bcc) is required to send",
            ));
        }
        check_attachments_total(self.attachments.iter().map(|a| a.data.len() as u64).sum())?;
        for a in &self.attachments {
            check_content_type(&a.effective_content_type())?;
            if let Some(cid) = &a.content_id {
                normalize_content_id(cid)?;
            }
        }
        Ok(())
    }

    /// text / alternative, wrapped in related (inline images) and mixed (attachments) as needed.
    fn body_tree(&self) -> Result<MimePart<'static>, GmailError> {
        let html = self.html_body.as_deref().filter(|h| !h.trim().is_empty());
        let text = match (&self.text_body, html) {
            (Some(t), None) => normalize_newlines(t),
            (Some(t), Some(_)) if !t.trim().is_empty() => normalize_newlines(t),
            // HTML alone still gets a text part, for clients and agents that read text.
            (_, Some(h)) => html_to_text(h),
            (None, None) => String::new(),
        };
        let text_part = MimePart::new("text/plain", BodyPart::Text(Cow::Owned(text)));
        let mut body = match html {
            Some(h) => MimePart::new(
                "multipart/alternative",
                vec![
                    text_part,
                    MimePart::new(
                        "text/html",
                        BodyPart::Text(Cow::Owned(normalize_newlines(h))),
                    ),
                ],
            ),
            None => text_part,
        };

        let mut inline = Vec::new();
        let mut regular = Vec::new();
        for a in &self.attachments {
            let filename = sanitize_filename(&a.filename);
            let ct = ContentType::new(a.effective_content_type());
            let data = BodyPart::Binary(Cow::Owned(a.data.clone()));
            match (&a.content_id, html.is_some()) {
                // Inline images only make sense next to HTML that references them.
                (Some(cid), true) => inline.push(
                    MimePart::new(ct, data)
                        .header(
                            "Content-Disposition",
                            ContentType::new("inline").attribute("filename", filename),
                        )
                        .cid(normalize_content_id(cid)?),
                ),
                _ => regular.push(MimePart::new(ct, data).attachment(filename)),
            }
        }
        if !inline.is_empty() {
            let mut parts = vec![body];
            parts.extend(inline);
            body = MimePart::new("multipart/related", parts);
        }
        if !regular.is_empty() {
            let mut parts = vec![body];
            parts.extend(regular);
            body = MimePart::new("multipart/mixed", parts);
        }
        Ok(body)
    }
}

fn address(r: &Recipient) -> Address<'static> {
    let name = r.name.clone().filter(|n| !n.trim().is_empty());
    Address::new_address(name, r.email.as_str().to_string())
}

/// Bodies go out with CRLF line ends whatever the caller used.
fn normalize_newlines(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

/// A fresh `<uuid@domain>` id: a random v4 UUID is unique without any coordination.
pub fn new_message_id(domain: &str) -> String {
    format!("<{}@{domain}>", uuid::Uuid::new_v4().simple())
}

/// `type/subtype` of RFC 2045 tokens.
pub(crate) fn is_content_type(ct: &str) -> bool {
    let token = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c))
    };
    ct.split_once('/')
        .is_some_and(|(t, s)| token(t) && token(s))
}

fn check_content_type(ct: &str) -> Result<(), GmailError> {
    match is_content_type(ct) {
        true => Ok(()),
        false => Err(GmailError::invalid(
            "attachments",
            format!("{ct:?} is not a content type (expected type/subtype, e.g. application/pdf)"),
        )),
    }
}

pub(crate) fn normalize_content_id(cid: &str) -> Result<String, GmailError> {
    let t = cid.trim();
    let t = t.strip_prefix("cid:").unwrap_or(t);
    let id = normalize_message_id("attachments.contentId", t)?;
    Ok(strip_brackets(&id).to_string())
}

/// Keeps the basename, drops control characters (CR/LF included) and quotes, never empty.
pub fn sanitize_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .trim()
        .to_string();
    let cleaned: String = cleaned.chars().take(255).collect();
    if cleaned.is_empty() {
        "attachment".to_string()
    } else {
        cleaned
    }
}

/// A content type from the file extension (mime_guess's table); `application/octet-stream`
/// when unknown.
pub fn guess_content_type(filename: &str) -> String {
    mime_guess::from_path(filename)
        .first_or_octet_stream()
        .essence_str()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::address::parse_recipients;
    use mail_parser::{MessageParser, MimeHeaders};

    fn base() -> OutgoingMessage {
        OutgoingMessage {
            to: parse_recipients("to", "Ann <ann@example.com>").unwrap(),
            subject: "Hello".into(),
            text_body: Some("Hi Ann".into()),
            ..Default::default()
        }
    }

    fn text(raw: &[u8]) -> String {
        String::from_utf8_lossy(raw).into_owned()
    }

    #[test]
    fn text_only_message() {
        let mut m = base();
        m.from = Some(Recipient::parse("from", "Me <me@example.org>").unwrap());
        m.cc = parse_recipients("cc", "\"Doe, John\" <john@example.com>").unwrap();
        m.bcc = parse_recipients("bcc", "hidden@example.com").unwrap();
        m.reply_to = parse_recipients("replyTo", "replies@example.org").unwrap();
        let built = m.build(false).unwrap();
        let raw = text(&built.raw);
        assert!(
            raw.contains("Content-Type: text/plain; charset=\"utf-8\""),
            "{raw}"
        );
        assert!(!raw.contains("multipart"), "{raw}");
        assert!(raw.contains("Bcc: <hidden@example.com>"), "{raw}");
        assert!(raw.contains("Date: "));
        assert!(raw.contains("MIME-Version: 1.0"));
        assert!(built.message_id.starts_with('<') && built.message_id.ends_with("@example.org>"));
        assert!(
            raw.contains(&format!("Message-ID: {}", built.message_id)),
            "{raw}"
        );

        let parsed = MessageParser::default().parse(&built.raw).unwrap();
        assert_eq!(parsed.subject(), Some("Hello"));
        assert_eq!(parsed.body_text(0).unwrap().trim_end(), "Hi Ann");
        let cc = parsed.cc().unwrap().first().unwrap();
        assert_eq!(cc.name(), Some("Doe, John"));
        assert_eq!(
            parsed.reply_to().unwrap().first().unwrap().address(),
            Some("replies@example.org")
        );
    }

    #[test]
    fn non_ascii_subject_and_body_round_trip() {
        let mut m = base();
        m.subject = "Réunion : ça marche — 日本語 ✓".into();
        m.text_body = Some("Grüße aus Köln\nZeile 2 — ünïcödé".into());
        m.to = parse_recipients("to", "Jürgen Müller <j@example.de>").unwrap();
        let raw = m.to_rfc822().unwrap();
        let s = text(&raw);
        assert!(s.is_ascii(), "headers and bodies must be 7-bit encoded");
        assert!(s.contains("=?utf-8?"), "{s}");
        assert!(!s.contains("Content-Transfer-Encoding: 7bit"), "{s}");
        let parsed = MessageParser::default().parse(&raw).unwrap();
        assert_eq!(parsed.subject(), Some("Réunion : ça marche — 日本語 ✓"));
        assert_eq!(
            parsed
                .body_text(0)
                .unwrap()
                .replace("\r\n", "\n")
                .trim_end(),
            "Grüße aus Köln\nZeile 2 — ünïcödé"
        );
        assert_eq!(
            parsed.to().unwrap().first().unwrap().name(),
            Some("Jürgen Müller")
        );
    }

    #[test]
    fn header_injection_is_rejected() {
        let mut m = base();
        m.subject = "Hi\r\nBcc: victim@example.com".into();
        let err = m.to_rfc822().unwrap_err();
        assert!(
            matches!(&err, GmailError::InvalidArgument { field, message }
            if field == "subject" && message.contains("subject contains a line break")),
            "{err}"
        );

        let mut m = base();
        m.subject = "Hi\nthere".into();
        assert!(m.to_rfc822().is_err());

        let mut m = base();
        m.to[0].name = Some("Ann\r\nBcc: victim@example.com".into());
        let err = m.to_rfc822().unwrap_err();
        assert!(
            err.to_string().contains("`to`") && err.to_string().contains("header injection"),
            "{err}"
        );

        let mut m = base();
        m.in_reply_to = Some("<a@b>\r\nBcc: v@example.com".into());
        let err = m.to_rfc822().unwrap_err();
        assert!(err.to_string().contains("inReplyTo"), "{err}");
    }

    #[test]
    fn recipients_required_except_for_drafts() {
        let mut m = base();
        m.to.clear();
        let err = m.to_rfc822().unwrap_err();
        assert!(err.to_string().contains("at least one recipient"), "{err}");
        let raw = m.to_rfc822_draft().unwrap();
        assert!(!text(&raw).contains("\nTo:"));
        m.bcc = parse_recipients("bcc", "b@example.com").unwrap();
        assert!(m.to_rfc822().is_ok());
    }

    #[test]
    fn html_builds_alternative_with_text_part() {
        let mut m = base();
        m.text_body = None;
        m.html_body = Some("<p>Hello <b>there</b></p><p>Bye</p>".into());
        let raw = m.to_rfc822().unwrap();
        let s = text(&raw);
        assert!(s.contains("multipart/alternative"), "{s}");
        let parsed = MessageParser::default().parse(&raw).unwrap();
        let text_part = parsed.text_part(0).unwrap();
        assert!(text_part.is_content_type("text", "plain"));
        assert_eq!(
            text_part
                .text_contents()
                .unwrap()
                .replace("\r\n", "\n")
                .trim_end(),
            "Hello there\n\nBye"
        );
        assert!(parsed.body_html(0).unwrap().contains("<b>there</b>"));

        m.text_body = Some("Given text".into());
        let parsed_raw = m.to_rfc822().unwrap();
        let parsed = MessageParser::default().parse(&parsed_raw).unwrap();
        assert_eq!(parsed.body_text(0).unwrap().trim_end(), "Given text");
    }

    #[test]
    fn attachments_mixed_and_inline_related() {
        let mut m = base();
        m.html_body = Some("<p>Logo: <img src=\"cid:logo1\"></p>".into());
        m.attachments = vec![
            OutgoingAttachment::new("../../etc/report.pdf", b"%PDF-1.4 fake".to_vec()),
            OutgoingAttachment {
                filename: "evil\r\nname.txt".into(),
                content_type: Some("text/plain; charset=utf-8".into()),
                data: b"hello".to_vec(),
                content_id: None,
            },
            OutgoingAttachment {
                filename: "logo.png".into(),
                content_type: None,
                data: vec![0x89, b'P', b'N', b'G', 0, 1, 2],
                content_id: Some("<logo1>".into()),
            },
        ];
        let raw = m.to_rfc822().unwrap();
        let s = text(&raw);
        assert!(
            s.contains("multipart/mixed") && s.contains("multipart/related"),
            "{s}"
        );
        assert!(s.contains("Content-ID: <logo1>"), "{s}");
        let parsed = MessageParser::default().parse(&raw).unwrap();
        let atts: Vec<_> = parsed.attachments().collect();
        assert_eq!(atts.len(), 3);
        let names: Vec<_> = atts
            .iter()
            .map(|a| a.attachment_name().unwrap_or("").to_string())
            .collect();
        assert!(names.contains(&"report.pdf".to_string()), "{names:?}");
        assert!(names.contains(&"evilname.txt".to_string()), "{names:?}");
        let pdf = atts
            .iter()
            .find(|a| a.attachment_name() == Some("report.pdf"))
            .unwrap();
        assert!(pdf.is_content_type("application", "pdf"));
        assert_eq!(pdf.contents(), b"%PDF-1.4 fake");
        let logo = atts
            .iter()
            .find(|a| a.content_id() == Some("logo1"))
            .unwrap();
        assert_eq!(logo.contents(), &[0x89, b'P', b'N', b'G', 0, 1, 2]);
    }

    #[test]
    fn attachment_limit_states_the_limit() {
        let mut m = base();
        m.attachments = vec![
            OutgoingAttachment::new("a.bin", vec![0; 20 << 20]),
            OutgoingAttachment::new("b.bin", vec![0; 6 << 20]),
        ];
        let err = m.to_rfc822().unwrap_err();
        match &err {
            GmailError::TooLarge {
                message,
                limit_bytes,
            } => {
                assert_eq!(*limit_bytes, 26_214_400);
                assert!(
                    message.contains("attachments total 27262976 bytes"),
                    "{message}"
                );
                assert!(
                    message.contains("25 MiB limit (26214400 bytes)"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("26214400"));
    }

    #[test]
    fn reply_headers_are_bracketed_and_chained() {
        let mut m = base();
        m.in_reply_to = Some("parent@example.com".into());
        m.references = vec![
            "<root@example.com>".into(),
            "mid@example.com <parent@example.com>".into(),
        ];
        let raw = m.to_rfc822().unwrap();
        let s = text(&raw);
        assert!(s.contains("In-Reply-To: <parent@example.com>"), "{s}");
        let parsed = MessageParser::default().parse(&raw).unwrap();
        let refs: Vec<String> = parsed
            .references()
            .as_text_list()
            .map(|l| l.iter().map(|x| x.to_string()).collect())
            .unwrap_or_default();
        assert_eq!(
            refs,
            vec!["root@example.com", "mid@example.com", "parent@example.com"]
        );

        let mut m = base();
        m.in_reply_to = Some("<only@example.com>".into());
        let s = text(&m.to_rfc822().unwrap());
        assert!(s.contains("References: <only@example.com>"), "{s}");
    }

    #[test]
    fn filenames_and_content_types() {
        assert_eq!(sanitize_filename("C:\\Users\\me\\doc.docx"), "doc.docx");
        assert_eq!(sanitize_filename("/tmp/x/../a.pdf"), "a.pdf");
        assert_eq!(sanitize_filename("bad\r\nname\".txt"), "badname.txt");
        assert_eq!(sanitize_filename("../.."), "attachment");
        assert_eq!(sanitize_filename(""), "attachment");
        assert_eq!(sanitize_filename(".bashrc"), "bashrc");
        assert_eq!(guess_content_type("Report.PDF"), "application/pdf");
        assert_eq!(guess_content_type("a.jpeg"), "image/jpeg");
        assert_eq!(
            guess_content_type("sheet.xlsx"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        assert_eq!(guess_content_type("noext"), "application/octet-stream");
        let mut m = base();
        m.attachments = vec![OutgoingAttachment {
            content_type: Some("not a type".into()),
            ..OutgoingAttachment::new("a.txt", vec![1])
        }];
        assert!(m
            .to_rfc822()
            .unwrap_err()
            .to_string()
            .contains("attachments"));
    }

    #[test]
    fn message_ids_are_unique() {
        let a = new_message_id("example.com");
        let b = new_message_id("example.com");
        assert_ne!(a, b);
        assert!(normalize_message_id("x", &a).is_ok());
    }
}
