//! Reading a raw RFC 822 message (forwarding, imports): mail-parser's tree; Gmail ids stay
//! empty.

use mail_parser::{MessageParser, MimeHeaders, PartType};

use super::headers::{addresses_of, flatten};
use super::{mailing, set_bodies, AttachmentInfo, ReadableMessage};
use crate::error::GmailError;
use crate::mail::compose::{sanitize_filename, OutgoingAttachment};
use crate::mail::ids::{normalize_message_id, parse_message_ids};

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
                    .map(|c| crate::mail::ids::strip_brackets(c).to_string()),
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
            // A type or Content-ID the sender malformed does not stop the forward: the
            // generic type, no id.
            content_type: Some(
                Some(part_mime(part))
                    .filter(|t| crate::mail::compose::is_content_type(t))
                    .unwrap_or_else(|| "application/octet-stream".into()),
            ),
            data: part.contents().to_vec(),
            content_id: part
                .content_id()
                .filter(|_| is_inline(part))
                .and_then(|c| crate::mail::compose::normalize_content_id(c).ok()),
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
