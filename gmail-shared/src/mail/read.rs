//! Turning a Gmail message (format `full`, or raw RFC 822) into one readable shape: decoded
//! headers, the text body (converted from HTML when that is all there is, so it is never empty
//! for HTML-only mail), the HTML, and the attachment list with the ids needed to fetch them.

use std::fmt;

use google_gmail1::api::{Message, MessagePart};
use mail_parser::{MessageParser, MimeHeaders, PartType};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::GmailError;

use super::address::{format_mailbox, EmailAddress, Recipient};
use super::compose::{sanitize_filename, OutgoingAttachment};
use super::html::{decode_entities, html_to_text};
use super::ids::{normalize_message_id, parse_message_ids};

/// An address as found in a received message: not validated (real mail holds odd ones), with
/// its display name decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddressInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub email: String,
}

impl AddressInfo {
    /// As a validated recipient (for replying); fails on an address we could not send to.
    pub fn to_recipient(&self, field: &str) -> Result<Recipient, GmailError> {
        Ok(Recipient {
            name: self.name.clone().filter(|n| !n.contains(['\r', '\n'])),
            email: EmailAddress::parse(field, &self.email)?,
        })
    }
}

impl fmt::Display for AddressInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_mailbox(self.name.as_deref(), &self.email))
    }
}

/// `a@x.com, "Doe, John" <j@x.com>`.
pub fn format_address_list(list: &[AddressInfo]) -> String {
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// An attachment (or inline image) of a received message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AttachmentInfo {
    pub filename: String,
    pub mime_type: String,
    /// Decoded size in bytes.
    pub size: u64,
    /// Gmail's id for `messages.attachments.get`; absent for raw messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_id: Option<String>,
    /// Content-ID without brackets, as referenced by `cid:` in the HTML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_id: Option<String>,
    /// An inline part (an image shown in the HTML) rather than a separate file.
    pub inline: bool,
}

/// A message as an agent reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReadableMessage {
    /// Gmail message id (empty for a raw message).
    pub id: String,
    /// Gmail thread id (empty for a raw message).
    pub thread_id: String,
    pub label_ids: Vec<String>,
    pub snippet: String,
    pub subject: String,
    pub from: Option<AddressInfo>,
    pub to: Vec<AddressInfo>,
    pub cc: Vec<AddressInfo>,
    pub bcc: Vec<AddressInfo>,
    pub reply_to: Vec<AddressInfo>,
    /// The Date header as sent.
    pub date: Option<String>,
    /// The RFC 822 Message-ID, bracketed (`<id@host>`): what a reply's In-Reply-To carries.
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// The plain-text body; converted from the HTML when the message has no text part.
    pub text: String,
    pub html: Option<String>,
    /// True when `text` was converted from `html`.
    pub text_from_html: bool,
    pub attachments: Vec<AttachmentInfo>,
    pub internal_date_ms: Option<i64>,
    pub size_estimate: Option<i64>,
    /// How to unsubscribe (the List-Unsubscribe header), when the sender says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_unsubscribe: Option<String>,
    /// A bulk mailing (newsletter, promotion, notification) rather than a letter or a
    /// discussion list: it has List-Unsubscribe or `Precedence: bulk`, and no
    /// `Precedence: list` or List-Post.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bulk: bool,
}

/// (List-Unsubscribe, bulk) from a header lookup; see [`ReadableMessage::bulk`].
fn mailing<'a>(h: impl Fn(&'static str) -> Option<&'a str>) -> (Option<String>, bool) {
    let unsubscribe = h("List-Unsubscribe").map(|v| flatten(v).trim().to_string());
    let precedence = h("Precedence").map(|p| p.trim().to_ascii_lowercase());
    let discussion = precedence.as_deref() == Some("list") || h("List-Post").is_some();
    let bulk = !discussion
        && (unsubscribe.is_some() || matches!(precedence.as_deref(), Some("bulk" | "junk")));
    (unsubscribe, bulk)
}

// ---------------------------------------------------------------------------------------------
// Header and charset decoding

/// Decodes RFC 2047 encoded words (`=?utf-8?B?...?=`) in an unstructured header value.
pub fn decode_header_text(value: &str) -> String {
    let flat = flatten(value);
    if !flat.contains("=?") {
        return flat.trim().to_string();
    }
    let raw = format!("Subject: {flat}\r\n\r\n");
    MessageParser::default()
        .parse_headers(raw.as_bytes())
        .and_then(|m| m.subject().map(str::to_string))
        .unwrap_or_else(|| flat.trim().to_string())
}

/// Parses an address header value (`To`, `Cc`, …), decoding encoded names; groups flattened.
pub fn parse_address_header(value: &str) -> Vec<AddressInfo> {
    let raw = format!("To: {}\r\n\r\n", flatten(value));
    let Some(parsed) = MessageParser::default().parse_headers(raw.as_bytes()) else {
        return Vec::new();
    };
    parsed.to().map(addresses_of).unwrap_or_default()
}

fn addresses_of(address: &mail_parser::Address<'_>) -> Vec<AddressInfo> {
    address
        .iter()
        .filter_map(|a| {
            let email = a.address()?.trim().to_string();
            if email.is_empty() {
                return None;
            }
            let name = a
                .name()
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty() && !n.eq_ignore_ascii_case(&email));
            Some(AddressInfo { name, email })
        })
        .collect()
}

/// Header values never carry line breaks onward (unfolded; a stray CR/LF becomes a space).
fn flatten(value: &str) -> String {
    if value.contains(['\r', '\n']) {
        value.replace("\r\n", " ").replace(['\r', '\n'], " ")
    } else {
        value.to_string()
    }
}

/// Decodes body bytes in `charset` (utf-8 when absent). Bytes that are valid multi-byte UTF-8
/// are taken as UTF-8 whatever the label says, since mislabelled mail is far more common than
/// legacy text that happens to form valid UTF-8.
pub fn decode_charset(bytes: &[u8], charset: Option<&str>) -> String {
    let cs = charset
        .map(|c| c.trim().trim_matches('"').to_ascii_lowercase())
        .unwrap_or_default();
    let wide =
        cs.starts_with("utf-16") || cs.starts_with("utf-32") || cs == "utf-7" || cs == "ucs-2";
    if !wide {
        if let Ok(s) = std::str::from_utf8(bytes) {
            return s.to_string();
        }
    }
    let label = match cs.as_str() {
        "" | "utf-8" | "utf8" | "us-ascii" | "ascii" | "unknown-8bit" | "x-unknown" => {
            // Invalid UTF-8 with no usable label: windows-1252 is the usual culprit.
            "windows-1252"
        }
        "latin1" | "latin-1" | "l1" => "iso-8859-1",
        other => other,
    };
    match mail_parser::decoders::charsets::map::charset_decoder(label.as_bytes()) {
        Some(decode) => decode(bytes),
        None => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// A parameter of a `Content-Type`/`Content-Disposition` value (`charset`, `name`, …).
pub fn header_param(value: &str, param: &str) -> Option<String> {
    let mut rest = value.split_once(';')?.1;
    loop {
        rest = rest.trim_start_matches([';', ' ', '\t']);
        if rest.is_empty() {
            return None;
        }
        let eq = rest.find('=')?;
        let key = rest[..eq].trim().to_ascii_lowercase();
        let after = rest[eq + 1..].trim_start();
        let (val, next) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"').unwrap_or(q.len());
            (q[..end].to_string(), q.get(end + 1..).unwrap_or(""))
        } else {
            let end = after.find(';').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        if key == param {
            return Some(val);
        }
        rest = next;
    }
}

// ---------------------------------------------------------------------------------------------
// Gmail messages

fn header<'a>(part: &'a MessagePart, name: &str) -> Option<&'a str> {
    part.headers
        .as_ref()?
        .iter()
        .find(|h| {
            h.name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .and_then(|h| h.value.as_deref())
}

#[derive(Default)]
struct Collected {
    text: Vec<String>,
    html: Vec<String>,
    attachments: Vec<AttachmentInfo>,
}

impl Collected {
    fn absorb(&mut self, other: Collected) {
        self.text.extend(other.text);
        self.html.extend(other.html);
        self.attachments.extend(other.attachments);
    }
}

/// MIME nesting deeper than this is hostile, not mail.
const MAX_DEPTH: usize = 32;

fn walk(part: &MessagePart, out: &mut Collected, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let mime = part
        .mime_type
        .as_deref()
        .unwrap_or("text/plain")
        .trim()
        .to_ascii_lowercase();
    let children = part.parts.as_deref().unwrap_or(&[]);
    if mime.starts_with("multipart/") {
        if mime == "multipart/alternative" {
            // Alternatives of one content: take the text from the first that has text and the
            // HTML from the last that has HTML (the richest), but keep every attachment.
            let subs: Vec<Collected> = children
                .iter()
                .map(|c| {
                    let mut sub = Collected::default();
                    walk(c, &mut sub, depth + 1);
                    sub
                })
                .collect();
            let text_idx = subs.iter().position(|s| !s.text.is_empty());
            let html_idx = subs.iter().rposition(|s| !s.html.is_empty());
            for (i, mut sub) in subs.into_iter().enumerate() {
                if Some(i) != text_idx {
                    sub.text.clear();
                }
                if Some(i) != html_idx {
                    sub.html.clear();
                }
                out.absorb(sub);
            }
        } else {
            for c in children {
                walk(c, out, depth + 1);
            }
        }
        return;
    }

    let body = part.body.as_ref();
    let filename = part
        .filename
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty());
    let disposition = header(part, "Content-Disposition")
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let content_id = header(part, "Content-ID")
        .or_else(|| header(part, "X-Attachment-Id"))
        .map(|c| super::ids::strip_brackets(c).to_string())
        .filter(|c| !c.is_empty());
    let attachment_id = body.and_then(|b| b.attachment_id.clone());
    let is_text_body = mime == "text/plain" || mime == "text/html";
    // A body too large to inline comes with only an attachment id; list it so it can be fetched.
    let body_elsewhere = attachment_id.is_some() && body.and_then(|b| b.data.as_ref()).is_none();
    let is_attachment = filename.is_some()
        || disposition.starts_with("attachment")
        || body_elsewhere
        || (!is_text_body
            && (attachment_id.is_some() || body.and_then(|b| b.size).unwrap_or(0) > 0));

    if is_attachment {
        let size = body
            .and_then(|b| {
                b.size
                    .map(|s| s.max(0) as u64)
                    .or_else(|| b.data.as_ref().map(|d| d.len() as u64))
            })
            .unwrap_or(0);
        out.attachments.push(AttachmentInfo {
            filename: filename.map(decode_header_text).unwrap_or_default(),
            mime_type: mime.clone(),
            size,
            attachment_id,
            part_id: part.part_id.clone(),
            inline: disposition.starts_with("inline")
                || (content_id.is_some() && disposition.is_empty()),
            content_id,
        });
        return;
    }
    if is_text_body {
        let charset = header(part, "Content-Type").and_then(|ct| header_param(ct, "charset"));
        let data = body.and_then(|b| b.data.as_deref()).unwrap_or(&[]);
        let decoded = decode_charset(data, charset.as_deref()).replace("\r\n", "\n");
        if mime == "text/html" {
            out.html.push(decoded);
        } else {
            out.text.push(decoded);
        }
        return;
    }
    // message/rfc822 without a filename, or an unknown container: look inside.
    for c in children {
        walk(c, out, depth + 1);
    }
}

fn join_bodies(parts: &[String]) -> String {
    parts
        .iter()
        .map(|p| p.trim_end())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Reads a Gmail message fetched with `format=full` (or `format=raw`).
pub fn readable_from_gmail(msg: &Message) -> ReadableMessage {
    let mut r = match (&msg.payload, &msg.raw) {
        (Some(payload), _) => readable_from_payload(payload),
        (None, Some(raw)) => readable_from_raw(raw).unwrap_or_default(),
        (None, None) => ReadableMessage::default(),
    };
    r.id = msg.id.clone().unwrap_or_default();
    r.thread_id = msg.thread_id.clone().unwrap_or_default();
    r.label_ids = msg.label_ids.clone().unwrap_or_default();
    // Gmail's snippet is HTML-escaped text (`&#39;`), not markup.
    r.snippet = msg
        .snippet
        .as_deref()
        .map(decode_entities)
        .unwrap_or_default();
    r.internal_date_ms = msg.internal_date;
    r.size_estimate = msg.size_estimate.map(i64::from).or(r.size_estimate);
    r
}

fn readable_from_payload(payload: &MessagePart) -> ReadableMessage {
    let h = |name: &str| header(payload, name);
    let addrs = |name: &str| h(name).map(parse_address_header).unwrap_or_default();
    let mut collected = Collected::default();
    walk(payload, &mut collected, 0);
    let mut r = ReadableMessage {
        subject: h("Subject").map(decode_header_text).unwrap_or_default(),
        from: addrs("From").into_iter().next(),
        to: addrs("To"),
        cc: addrs("Cc"),
        bcc: addrs("Bcc"),
        reply_to: addrs("Reply-To"),
        date: h("Date").map(|d| flatten(d).trim().to_string()),
        message_id: h("Message-ID").and_then(first_id),
        in_reply_to: h("In-Reply-To").and_then(first_id),
        references: h("References").map(parse_message_ids).unwrap_or_default(),
        attachments: collected.attachments,
        ..Default::default()
    };
    (r.list_unsubscribe, r.bulk) = mailing(h);
    set_bodies(&mut r, &collected.text, &collected.html);
    r
}

fn first_id(value: &str) -> Option<String> {
    parse_message_ids(value)
        .into_iter()
        .next()
        .and_then(|id| normalize_message_id("messageId", &id).ok())
}

fn set_bodies(r: &mut ReadableMessage, text: &[String], html: &[String]) {
    let html = join_bodies(html);
    let text = join_bodies(text);
    r.html = (!html.is_empty()).then_some(html);
    if text.trim().is_empty() {
        if let Some(h) = &r.html {
            r.text = html_to_text(h);
            r.text_from_html = true;
        }
    } else {
        r.text = text;
    }
}

// ---------------------------------------------------------------------------------------------
// Raw RFC 822 messages

/// Reads a raw RFC 822 message (used when forwarding). Gmail ids stay empty.
pub fn readable_from_raw(raw: &[u8]) -> Result<ReadableMessage, GmailError> {
    let msg = MessageParser::default()
        .parse(raw)
        .ok_or_else(|| GmailError::invalid("raw", "not an RFC 822 message"))?;
    let list = |a: Option<&mail_parser::Address<'_>>| a.map(addresses_of).unwrap_or_default();
    let ids = |v: &mail_parser::HeaderValue<'_>| -> Vec<String> {
        match v {
            mail_parser::HeaderValue::Text(t) => parse_message_ids(&format!("<{t}>")),
            mail_parser::HeaderValue::TextList(l) => {
                l.iter().map(|t| format!("<{}>", t.trim())).collect()
            }
            _ => Vec::new(),
        }
    };

    let mut text = Vec::new();
    for part in msg.text_bodies() {
        if let PartType::Text(t) = &part.body {
            if part.content_type().is_none() || part.is_content_type("text", "plain") {
                text.push(t.replace("\r\n", "\n"));
            }
        }
    }
    let html: Vec<String> = msg
        .html_bodies()
        .filter_map(|p| match &p.body {
            PartType::Html(h) => Some(h.replace("\r\n", "\n")),
            _ => None,
        })
        .collect();

    let mut r = ReadableMessage {
        subject: msg.subject().map(str::to_string).unwrap_or_default(),
        from: list(msg.from()).into_iter().next(),
        to: list(msg.to()),
        cc: list(msg.cc()),
        bcc: list(msg.bcc()),
        reply_to: list(msg.reply_to()),
        date: msg
            .header_raw("Date")
            .map(|d| flatten(d).trim().to_string()),
        message_id: msg
            .message_id()
            .and_then(|id| normalize_message_id("messageId", id).ok()),
        in_reply_to: ids(msg.in_reply_to()).into_iter().next(),
        references: ids(msg.references()),
        attachments: raw_attachment_parts(&msg)
            .map(|(part, _)| AttachmentInfo {
                filename: part_filename(part),
                mime_type: part_mime(part),
                size: part.contents().len() as u64,
                attachment_id: None,
                part_id: None,
                content_id: part
                    .content_id()
                    .map(|c| super::ids::strip_brackets(c).to_string()),
                inline: is_inline(part),
            })
            .collect(),
        size_estimate: Some(raw.len() as i64),
        ..Default::default()
    };
    (r.list_unsubscribe, r.bulk) = mailing(|name| msg.header_raw(name));
    set_bodies(&mut r, &text, &html);
    Ok(r)
}

/// The attachments of a raw message, ready to attach to a forward (inline parts keep their
/// Content-ID so an HTML forward still shows them).
pub fn raw_attachments(raw: &[u8]) -> Result<Vec<OutgoingAttachment>, GmailError> {
    let msg = MessageParser::default()
        .parse(raw)
        .ok_or_else(|| GmailError::invalid("raw", "not an RFC 822 message"))?;
    Ok(raw_attachment_parts(&msg)
        .map(|(part, _)| OutgoingAttachment {
            filename: sanitize_filename(&part_filename(part)),
            content_type: Some(part_mime(part)),
            data: part.contents().to_vec(),
            content_id: part
                .content_id()
                .filter(|_| is_inline(part))
                .map(|c| super::ids::strip_brackets(c).to_string()),
        })
        .collect())
}

/// Attachment parts, minus the body parts mail-parser also lists there.
fn raw_attachment_parts<'a>(
    msg: &'a mail_parser::Message<'a>,
) -> impl Iterator<Item = (&'a mail_parser::MessagePart<'a>, u32)> + 'a {
    msg.attachments.iter().filter_map(move |&idx| {
        if msg.text_body.contains(&idx) || msg.html_body.contains(&idx) {
            return None;
        }
        msg.parts.get(idx as usize).map(|p| (p, idx))
    })
}

fn part_mime(part: &mail_parser::MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => match &ct.c_subtype {
            Some(sub) => format!("{}/{}", ct.c_type, sub).to_ascii_lowercase(),
            None => ct.c_type.to_ascii_lowercase(),
        },
        None if matches!(part.body, PartType::Message(_)) => "message/rfc822".into(),
        None => "text/plain".into(),
    }
}

fn part_filename(part: &mail_parser::MessagePart<'_>) -> String {
    match part.attachment_name() {
        Some(n) if !n.trim().is_empty() => n.trim().to_string(),
        _ => match &part.body {
            PartType::Message(m) => {
                let subject = m.subject().unwrap_or("message");
                format!("{}.eml", sanitize_filename(subject))
            }
            _ => String::new(),
        },
    }
}

fn is_inline(part: &mail_parser::MessagePart<'_>) -> bool {
    match part.content_disposition() {
        Some(cd) => cd.c_type.eq_ignore_ascii_case("inline"),
        None => part.content_id().is_some(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use google_gmail1::api::{MessagePartBody, MessagePartHeader};

    #[test]
    fn bulk_mailings_are_told_from_letters_and_discussion_lists() {
        let read = |extra: &str| {
            let raw =
                format!("From: a@x.example\r\nTo: b@y.example\r\nSubject: s\r\n{extra}\r\nhi\r\n");
            let m = readable_from_raw(raw.as_bytes()).unwrap();
            (m.bulk, m.list_unsubscribe)
        };
        assert_eq!(read(""), (false, None));
        let news = read("List-Unsubscribe: <https://x.example/u>\r\n");
        assert_eq!(news, (true, Some("<https://x.example/u>".into())));
        assert!(read("Precedence: bulk\r\n").0);
        let list = "List-Unsubscribe: <mailto:l-leave@x.example>\r\nPrecedence: list\r\n";
        assert!(!read(list).0);
        assert!(!read("List-Unsubscribe: <u>\r\nList-Post: <mailto:l@x.example>\r\n").0);
    }

    pub(crate) fn hdr(name: &str, value: &str) -> MessagePartHeader {
        MessagePartHeader {
            name: Some(name.into()),
            value: Some(value.into()),
        }
    }

    pub(crate) fn leaf(
        part_id: &str,
        mime: &str,
        headers: Vec<MessagePartHeader>,
        data: &[u8],
    ) -> MessagePart {
        MessagePart {
            part_id: Some(part_id.into()),
            mime_type: Some(mime.into()),
            filename: Some(String::new()),
            headers: Some(headers),
            body: Some(MessagePartBody {
                size: Some(data.len() as i32),
                data: Some(data.to_vec()),
                attachment_id: None,
            }),
            parts: None,
        }
    }

    fn multipart(
        part_id: &str,
        mime: &str,
        headers: Vec<MessagePartHeader>,
        parts: Vec<MessagePart>,
    ) -> MessagePart {
        MessagePart {
            part_id: Some(part_id.into()),
            mime_type: Some(mime.into()),
            filename: Some(String::new()),
            headers: Some(headers),
            body: Some(MessagePartBody {
                size: Some(0),
                ..Default::default()
            }),
            parts: Some(parts),
        }
    }

    fn attachment(
        part_id: &str,
        mime: &str,
        filename: &str,
        id: &str,
        size: i32,
        extra: Vec<MessagePartHeader>,
    ) -> MessagePart {
        MessagePart {
            part_id: Some(part_id.into()),
            mime_type: Some(mime.into()),
            filename: Some(filename.into()),
            headers: Some(extra),
            body: Some(MessagePartBody {
                attachment_id: Some(id.into()),
                size: Some(size),
                data: None,
            }),
            parts: None,
        }
    }

    pub(crate) fn top_headers(extra: &[(&str, &str)]) -> Vec<MessagePartHeader> {
        let mut h = vec![
            hdr(
                "From",
                "=?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <jurgen@example.de>",
            ),
            hdr(
                "To",
                "Me <me@example.com>, \"Doe, John\" <john@example.com>",
            ),
            hdr("Cc", "carol@example.com"),
            hdr("Subject", "=?UTF-8?Q?R=C3=A9union_demain?="),
            hdr("Date", "Mon, 3 Feb 2025 10:15:00 +0100"),
            hdr("Message-ID", "<msg-3@example.de>"),
        ];
        h.extend(extra.iter().map(|(n, v)| hdr(n, v)));
        h
    }

    fn gmail(payload: MessagePart) -> Message {
        Message {
            id: Some("18c0ffee".into()),
            thread_id: Some("18c0ffe0".into()),
            label_ids: Some(vec!["INBOX".into(), "UNREAD".into()]),
            snippet: Some("Bonjour &amp; salut".into()),
            internal_date: Some(1_738_574_100_000),
            size_estimate: Some(4321),
            payload: Some(payload),
            ..Default::default()
        }
    }

    #[test]
    fn alternative_prefers_text_plain_and_keeps_html() {
        let payload = multipart(
            "",
            "multipart/alternative",
            top_headers(&[
                ("References", "<msg-1@example.com> <msg-2@example.com>"),
                ("In-Reply-To", "<msg-2@example.com>"),
            ]),
            vec![
                leaf(
                    "0",
                    "text/plain",
                    vec![hdr("Content-Type", "text/plain; charset=\"UTF-8\"")],
                    "Plain body ✓\r\nline 2\r\n".as_bytes(),
                ),
                leaf(
                    "1",
                    "text/html",
                    vec![hdr("Content-Type", "text/html; charset=UTF-8")],
                    b"<p>HTML body</p>",
                ),
            ],
        );
        let r = readable_from_gmail(&gmail(payload));
        assert_eq!(r.id, "18c0ffee");
        assert_eq!(r.thread_id, "18c0ffe0");
        assert_eq!(r.label_ids, vec!["INBOX", "UNREAD"]);
        assert_eq!(r.snippet, "Bonjour & salut");
        assert_eq!(r.subject, "Réunion demain");
        let from = r.from.clone().unwrap();
        assert_eq!(from.name.as_deref(), Some("Jürgen Müller"));
        assert_eq!(from.email, "jurgen@example.de");
        assert_eq!(r.to.len(), 2);
        assert_eq!(r.to[1].name.as_deref(), Some("Doe, John"));
        assert_eq!(
            format_address_list(&r.to),
            "Me <me@example.com>, \"Doe, John\" <john@example.com>"
        );
        assert_eq!(r.cc[0].email, "carol@example.com");
        assert_eq!(r.message_id.as_deref(), Some("<msg-3@example.de>"));
        assert_eq!(r.in_reply_to.as_deref(), Some("<msg-2@example.com>"));
        assert_eq!(
            r.references,
            vec!["<msg-1@example.com>", "<msg-2@example.com>"]
        );
        assert_eq!(r.date.as_deref(), Some("Mon, 3 Feb 2025 10:15:00 +0100"));
        assert_eq!(r.text, "Plain body ✓\nline 2");
        assert!(!r.text_from_html);
        assert_eq!(r.html.as_deref(), Some("<p>HTML body</p>"));
        assert_eq!(r.internal_date_ms, Some(1_738_574_100_000));
        assert_eq!(r.size_estimate, Some(4321));

        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["threadId"], "18c0ffe0");
        assert_eq!(json["textFromHtml"], false);
        assert_eq!(json["messageId"], "<msg-3@example.de>");
    }

    #[test]
    fn html_only_mail_has_text() {
        let payload = leaf(
            "",
            "text/html",
            top_headers(&[("Content-Type", "text/html; charset=utf-8")]),
            b"<html><body><h1>Sale</h1><p>Everything <a href=\"https://shop.example.com\">50% off</a></p></body></html>",
        );
        let r = readable_from_gmail(&gmail(payload));
        assert!(r.text_from_html);
        assert_eq!(
            r.text,
            "Sale\n\nEverything 50% off (https://shop.example.com)"
        );
        assert!(r.html.unwrap().contains("<h1>Sale</h1>"));
    }

    #[test]
    fn attachments_listed_with_ids_and_inline_marked() {
        let payload = multipart(
            "",
            "multipart/mixed",
            top_headers(&[]),
            vec![
                multipart(
                    "0",
                    "multipart/related",
                    vec![],
                    vec![
                        multipart(
                            "0.0",
                            "multipart/alternative",
                            vec![],
                            vec![
                                leaf("0.0.0", "text/plain", vec![], b"See the logo"),
                                leaf(
                                    "0.0.1",
                                    "text/html",
                                    vec![],
                                    b"<p>See <img src=\"cid:logo@x\"></p>",
                                ),
                            ],
                        ),
                        attachment(
                            "0.1",
                            "image/png",
                            "logo.png",
                            "ANGjdJ_logo",
                            2048,
                            vec![
                                hdr("Content-ID", "<logo@x>"),
                                hdr("Content-Disposition", "inline; filename=\"logo.png\""),
                            ],
                        ),
                    ],
                ),
                attachment(
                    "1",
                    "application/pdf",
                    "report.pdf",
                    "ANGjdJ_report",
                    123_456,
                    vec![hdr(
                        "Content-Disposition",
                        "attachment; filename=\"report.pdf\"",
                    )],
                ),
                attachment("2", "text/csv", "data.csv", "ANGjdJ_csv", 10, vec![]),
            ],
        );
        let r = readable_from_gmail(&gmail(payload));
        assert_eq!(r.text, "See the logo");
        assert_eq!(r.attachments.len(), 3);
        let logo = &r.attachments[0];
        assert_eq!(logo.filename, "logo.png");
        assert_eq!(logo.content_id.as_deref(), Some("logo@x"));
        assert!(logo.inline);
        assert_eq!(logo.attachment_id.as_deref(), Some("ANGjdJ_logo"));
        let pdf = &r.attachments[1];
        assert_eq!(
            (
                pdf.filename.as_str(),
                pdf.mime_type.as_str(),
                pdf.size,
                pdf.attachment_id.as_deref(),
                pdf.part_id.as_deref(),
                pdf.inline
            ),
            (
                "report.pdf",
                "application/pdf",
                123_456,
                Some("ANGjdJ_report"),
                Some("1"),
                false
            )
        );
        assert_eq!(r.attachments[2].filename, "data.csv");
        let json = serde_json::to_value(&r.attachments[1]).unwrap();
        assert_eq!(json["attachmentId"], "ANGjdJ_report");
        assert_eq!(json["mimeType"], "application/pdf");
    }

    #[test]
    fn latin1_and_cp1252_bodies_decode() {
        let payload = leaf(
            "",
            "text/plain",
            top_headers(&[("Content-Type", "text/plain; charset=ISO-8859-1")]),
            b"Caf\xe9 cr\xe8me, \xe0 bient\xf4t",
        );
        let r = readable_from_gmail(&gmail(payload));
        assert_eq!(r.text, "Café crème, à bientôt");

        assert_eq!(
            decode_charset(b"\x93quoted\x94 \x80", Some("windows-1252")),
            "“quoted” €"
        );
        assert_eq!(decode_charset(b"caf\xe9", None), "café");
        assert_eq!(
            decode_charset("déjà".as_bytes(), Some("iso-8859-1")),
            "déjà"
        );
        assert_eq!(decode_charset(b"plain", Some("us-ascii")), "plain");
        assert_eq!(
            decode_charset(b"\xcf\xf0\xe8\xe2\xe5\xf2", Some("windows-1251")),
            "Привет"
        );
        assert_eq!(
            header_param("text/plain; format=flowed; charset=\"latin1\"", "charset").as_deref(),
            Some("latin1")
        );
        assert_eq!(header_param("text/plain", "charset"), None);
    }

    #[test]
    fn header_decoding() {
        assert_eq!(
            decode_header_text("=?iso-8859-1?Q?Gr=FC=DFe?= aus =?UTF-8?B?S8O2bG4=?="),
            "Grüße aus Köln"
        );
        assert_eq!(decode_header_text("  plain subject "), "plain subject");
        assert_eq!(decode_header_text("folded\r\n subject"), "folded  subject");
        let a = parse_address_header("undisclosed-recipients:;");
        assert!(a.is_empty());
        let a = parse_address_header("Team: a@example.com, b@example.com;, c@example.com");
        assert_eq!(
            a.iter().map(|x| x.email.as_str()).collect::<Vec<_>>(),
            vec!["a@example.com", "b@example.com", "c@example.com"]
        );
    }

    pub(crate) const RAW: &str = "From: Alice <alice@example.com>\r\n\
To: Bob <bob@example.com>\r\n\
Subject: =?utf-8?q?Quarterly_r=C3=A9sum=C3=A9?=\r\n\
Date: Tue, 4 Feb 2025 09:00:00 +0000\r\n\
Message-ID: <raw-1@example.com>\r\n\
References: <r0@example.com>\r\n\
In-Reply-To: <r0@example.com>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\
\r\n\
--b1\r\n\
Content-Type: multipart/alternative; boundary=\"b2\"\r\n\
\r\n\
--b2\r\n\
Content-Type: text/plain; charset=iso-8859-1\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
Voici le r=E9sum=E9.\r\n\
--b2\r\n\
Content-Type: text/html; charset=utf-8\r\n\
\r\n\
<p>Voici le résumé.</p>\r\n\
--b2--\r\n\
--b1\r\n\
Content-Type: application/pdf; name=\"q1.pdf\"\r\n\
Content-Disposition: attachment; filename=\"q1.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
JVBERi0xLjQgZmFrZQ==\r\n\
--b1--\r\n";

    #[test]
    fn raw_messages_read_and_keep_attachments() {
        let r = readable_from_raw(RAW.as_bytes()).unwrap();
        assert_eq!(r.id, "");
        assert_eq!(r.subject, "Quarterly résumé");
        assert_eq!(r.from.as_ref().unwrap().email, "alice@example.com");
        assert_eq!(r.message_id.as_deref(), Some("<raw-1@example.com>"));
        assert_eq!(r.in_reply_to.as_deref(), Some("<r0@example.com>"));
        assert_eq!(r.references, vec!["<r0@example.com>"]);
        assert_eq!(r.date.as_deref(), Some("Tue, 4 Feb 2025 09:00:00 +0000"));
        assert_eq!(r.text, "Voici le résumé.");
        assert_eq!(r.html.as_deref(), Some("<p>Voici le résumé.</p>"));
        assert_eq!(r.attachments.len(), 1);
        assert_eq!(r.attachments[0].filename, "q1.pdf");
        assert_eq!(r.attachments[0].mime_type, "application/pdf");
        assert_eq!(r.attachments[0].size, 13);

        let atts = raw_attachments(RAW.as_bytes()).unwrap();
        assert_eq!(atts.len(), 1);
        assert_eq!(atts[0].filename, "q1.pdf");
        assert_eq!(atts[0].content_type.as_deref(), Some("application/pdf"));
        assert_eq!(atts[0].data, b"%PDF-1.4 fake");
        assert!(readable_from_raw(b"").is_err());

        // Gmail format=raw goes through the same path and keeps Gmail's ids.
        let m = Message {
            id: Some("abc".into()),
            raw: Some(RAW.as_bytes().to_vec()),
            ..Default::default()
        };
        let r = readable_from_gmail(&m);
        assert_eq!(
            (r.id.as_str(), r.subject.as_str()),
            ("abc", "Quarterly résumé")
        );
    }

    #[test]
    fn html_only_raw_message_has_text() {
        let raw = "From: a@example.com\r\nSubject: hi\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<div>Hello<br>there</div>\r\n";
        let r = readable_from_raw(raw.as_bytes()).unwrap();
        assert!(r.text_from_html);
        assert_eq!(r.text, "Hello\nthere");
        assert!(r.attachments.is_empty());
    }

    #[test]
    fn built_message_reads_back_for_forwarding() {
        use crate::mail::address::parse_recipients;
        use crate::mail::compose::{OutgoingAttachment, OutgoingMessage};
        let out = OutgoingMessage {
            from: Some(Recipient::parse("from", "Zoë <zoe@example.com>").unwrap()),
            to: parse_recipients(
                "to",
                "Bob <bob@example.com>, \"Doe, Jane\" <jane@example.com>",
            )
            .unwrap(),
            subject: "Ünïcode plan ✓".into(),
            text_body: Some(String::new()),
            html_body: Some("<p>Plan attached. <img src=\"cid:chart\"></p>".into()),
            in_reply_to: Some("prev@example.com".into()),
            attachments: vec![
                OutgoingAttachment::new("plan.pdf", b"%PDF plan".to_vec()),
                OutgoingAttachment {
                    content_id: Some("chart".into()),
                    ..OutgoingAttachment::new("chart.png", vec![0x89, 0x50, 0x4e, 0x47])
                },
            ],
            ..Default::default()
        };
        let built = out.build(false).unwrap();
        let r = readable_from_raw(&built.raw).unwrap();
        assert_eq!(r.subject, "Ünïcode plan ✓");
        assert_eq!(
            r.from.as_ref().unwrap().to_string(),
            "Zoë <zoe@example.com>"
        );
        assert_eq!(r.to[1].name.as_deref(), Some("Doe, Jane"));
        assert_eq!(r.message_id.as_deref(), Some(built.message_id.as_str()));
        assert_eq!(r.in_reply_to.as_deref(), Some("<prev@example.com>"));
        assert_eq!(r.references, vec!["<prev@example.com>"]);
        // An empty text body next to HTML is replaced by the HTML's text.
        assert_eq!(r.text, "Plan attached.");
        assert!(!r.text_from_html);
        let chart = r
            .attachments
            .iter()
            .find(|a| a.filename == "chart.png")
            .unwrap();
        assert!(chart.inline);
        assert_eq!(chart.content_id.as_deref(), Some("chart"));

        let atts = raw_attachments(&built.raw).unwrap();
        assert_eq!(atts.len(), 2);
        let pdf = atts.iter().find(|a| a.filename == "plan.pdf").unwrap();
        assert_eq!(
            (
                pdf.data.as_slice(),
                pdf.content_type.as_deref(),
                pdf.content_id.as_deref()
            ),
            (&b"%PDF plan"[..], Some("application/pdf"), None)
        );
        let png = atts.iter().find(|a| a.filename == "chart.png").unwrap();
        assert_eq!(png.content_id.as_deref(), Some("chart"));

        // Forward them on: the original's attachments travel with the new message.
        let fwd = OutgoingMessage {
            to: parse_recipients("to", "carol@example.com").unwrap(),
            subject: crate::mail::reply::forward_subject(&r.subject),
            text_body: Some(crate::mail::reply::forward_body(&r)),
            attachments: atts,
            ..Default::default()
        };
        let again = readable_from_raw(&fwd.to_rfc822().unwrap()).unwrap();
        assert_eq!(again.subject, "Fwd: Ünïcode plan ✓");
        assert!(again
            .text
            .contains("---------- Forwarded message ---------"));
        assert_eq!(again.attachments.len(), 2);
    }

    #[test]
    fn body_only_reachable_by_attachment_id_is_listed() {
        let mut big = leaf("1", "text/html", vec![], b"");
        big.body = Some(MessagePartBody {
            attachment_id: Some("ANGbig".into()),
            size: Some(5_000_000),
            data: None,
        });
        let payload = multipart(
            "",
            "multipart/alternative",
            top_headers(&[]),
            vec![leaf("0", "text/plain", vec![], b"short text"), big],
        );
        let r = readable_from_gmail(&gmail(payload));
        assert_eq!(r.text, "short text");
        assert_eq!(r.attachments.len(), 1);
        assert_eq!(r.attachments[0].attachment_id.as_deref(), Some("ANGbig"));
        assert_eq!(r.attachments[0].size, 5_000_000);
    }
}
