//! Reading a Gmail message as the API gives it (`format=full`): a tree of parts with
//! base64url bodies and attachment ids.

use google_gmail1::api::{Message, MessagePart};

use super::headers::{
    decode_charset, decode_header_text, flatten, header_param, parse_address_header,
};
use super::{mailing, readable_from_raw, set_bodies, AttachmentInfo, ReadableMessage};
use crate::mail::html::decode_entities;
use crate::mail::ids::{normalize_message_id, parse_message_ids};

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
        .map(|c| crate::mail::ids::strip_brackets(c).to_string())
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
