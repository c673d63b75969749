//! Gmail's JSON for a message, computed once from the raw RFC 822 bytes when the message is
//! stored, so a `messages.get` only stitches cached strings together.

use std::fmt::Write as _;

use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::mime::{self, Part};
use crate::search::DocParts;

/// Base64url with `=` padding: what Gmail emits and what the Rust client requires.
pub fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE.encode(data)
}

/// Input side: base64url, padded or not. `+` and `/` are rejected as Gmail does.
pub fn decode_b64url_input(s: &str) -> Option<Vec<u8>> {
    let trimmed: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if trimmed.contains('+') || trimmed.contains('/') {
        return None;
    }
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    engine.decode(trimmed.as_bytes()).ok()
}

/// One attachment of a stored message: where its bytes are, and its opaque id.
#[derive(Debug, Clone)]
pub struct AttachmentRef {
    pub id: String,
    pub start: usize,
    pub end: usize,
    pub encoding: String,
    pub size: usize,
}

/// Everything derived from the raw bytes of one message (immutable).
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The `payload` object for `format=full`, already serialized.
    pub payload_full: String,
    pub mime_type: String,
    pub top_headers: Vec<(String, String)>,
    /// HTML-escaped, as Gmail sends it.
    pub snippet: String,
    pub size_estimate: usize,
    pub attachments: Vec<AttachmentRef>,
    /// Message-ID without angle brackets, lower-cased.
    pub message_id: Option<String>,
    /// In-Reply-To and References ids, normalised like `message_id`.
    pub references: Vec<String>,
    pub subject: String,
    /// Subject without `Re:`/`Fwd:` prefixes, lower-cased: threading compares these.
    pub base_subject: String,
    pub from_addr: Option<String>,
    /// Every To/Cc/Bcc address, lower-cased.
    pub recipients: Vec<String>,
    pub doc_parts: DocParts,
}

/// Stable attachment id: a function of the message id and the part, so refetches agree.
/// Gmail's attachment ids encode the message and the part and run to several hundred
/// characters; these are as long (606), so clients meet the lengths real mail gives them.
fn attachment_id(msg_id: &str, part_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"gmail-sandbox-attachment:");
    h.update(msg_id.as_bytes());
    h.update(b":");
    h.update(part_id.as_bytes());
    let mut block = h.finalize();
    let mut bytes = Vec::with_capacity(480);
    while bytes.len() < 450 {
        bytes.extend_from_slice(&block);
        block = Sha256::digest(block);
    }
    bytes.truncate(450);
    format!(
        "ANGjdJ{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

pub fn normalize_msgid(s: &str) -> String {
    s.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .to_ascii_lowercase()
}

fn msgids_in(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(a) = rest.find('<') {
        match rest[a..].find('>') {
            Some(b) => {
                let id = normalize_msgid(&rest[a + 1..a + b]);
                if !id.is_empty() {
                    out.push(id);
                }
                rest = &rest[a + b + 1..];
            }
            None => break,
        }
    }
    if out.is_empty() {
        out.extend(
            s.split_whitespace()
                .map(normalize_msgid)
                .filter(|x| !x.is_empty()),
        );
    }
    out
}

/// Subject without reply/forward prefixes, lower-cased.
pub fn base_subject(s: &str) -> String {
    let mut cur = s.trim();
    loop {
        let lower = cur.to_ascii_lowercase();
        let mut stripped = false;
        for p in ["re:", "fw:", "fwd:", "aw:", "tr:", "sv:", "re :", "fwd :"] {
            if lower.starts_with(p) {
                cur = cur[p.len()..].trim_start();
                stripped = true;
                break;
            }
        }
        if !stripped {
            // `[list] Re: x` style prefixes are left alone on purpose: Gmail keeps them.
            break;
        }
    }
    cur.to_lowercase()
}

/// HTML-escape a snippet the way Gmail does (`&#39;` for apostrophes).
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn make_snippet(text: &str) -> String {
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = collapsed.chars().take(200).collect();
    if collapsed.chars().count() > 200 {
        if let Some(sp) = cut.rfind(' ') {
            if sp > 150 {
                cut.truncate(sp);
            }
        }
    }
    escape_html(cut.trim())
}

fn part_json(
    p: &Part,
    part_id: &str,
    raw: &[u8],
    msg_id: &str,
    atts: &mut Vec<AttachmentRef>,
    filenames: &mut Vec<String>,
) -> Value {
    let headers: Vec<Value> = p
        .headers
        .iter()
        .map(|(n, v)| json!({"name": n, "value": v}))
        .collect();
    let mut obj = serde_json::Map::new();
    obj.insert("partId".into(), json!(part_id));
    obj.insert("mimeType".into(), json!(p.mime_type));
    obj.insert("filename".into(), json!(p.filename));
    obj.insert("headers".into(), Value::Array(headers));
    if p.is_multipart() {
        obj.insert("body".into(), json!({"size": 0}));
        let children: Vec<Value> = p
            .children
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let cid = if part_id.is_empty() {
                    i.to_string()
                } else {
                    format!("{part_id}.{i}")
                };
                part_json(c, &cid, raw, msg_id, atts, filenames)
            })
            .collect();
        obj.insert("parts".into(), Value::Array(children));
    } else {
        let data = p.decoded_body(raw);
        if p.is_attachment() {
            let id = attachment_id(msg_id, part_id);
            if !p.filename.is_empty() {
                filenames.push(p.filename.clone());
            }
            atts.push(AttachmentRef {
                id: id.clone(),
                start: p.body_start,
                end: p.body_end,
                encoding: p.transfer_encoding.clone(),
                size: data.len(),
            });
            obj.insert(
                "body".into(),
                json!({"attachmentId": id, "size": data.len()}),
            );
        } else if data.is_empty() {
            obj.insert("body".into(), json!({"size": 0}));
        } else {
            obj.insert(
                "body".into(),
                json!({"size": data.len(), "data": b64url(&data)}),
            );
        }
    }
    Value::Object(obj)
}

fn addresses(list: Option<&mail_parser::Address<'_>>, out: &mut Vec<String>) {
    if let Some(a) = list {
        for addr in a.iter() {
            if let Some(e) = addr.address() {
                out.push(e.to_ascii_lowercase());
            }
        }
    }
}

/// Analyse a raw message. `msg_id` feeds the attachment ids.
pub fn parse_message(raw: &[u8], msg_id: &str) -> Parsed {
    let root = mime::parse(raw);
    let mut atts = Vec::new();
    let mut filenames = Vec::new();
    let payload = part_json(&root, "", raw, msg_id, &mut atts, &mut filenames);
    let payload_full = payload.to_string();

    let parsed = mail_parser::MessageParser::default().parse(raw);
    let body_text: String = parsed
        .as_ref()
        .and_then(|m| m.body_text(0).map(|c| c.into_owned()))
        .unwrap_or_else(|| {
            if !root.is_multipart() && root.mime_type.starts_with("text/") {
                let bytes = root.decoded_body(raw);
                let cs = root
                    .param("charset")
                    .unwrap_or("utf-8")
                    .to_ascii_lowercase();
                let text = mime::decode_charset(&cs, &bytes);
                if root.mime_type == "text/html" {
                    mail_parser::decoders::html::html_to_text(&text)
                } else {
                    text
                }
            } else {
                String::new()
            }
        });
    let mut recipients = Vec::new();
    let mut from_addr = None;
    if let Some(m) = parsed.as_ref() {
        addresses(m.to(), &mut recipients);
        addresses(m.cc(), &mut recipients);
        addresses(m.bcc(), &mut recipients);
        from_addr = m
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .map(|s| s.to_ascii_lowercase());
    }
    let h = |name: &str| root.header(name).unwrap_or("").to_string();
    let subject = h("Subject");
    let message_id = root
        .header("Message-ID")
        .map(normalize_msgid)
        .filter(|s| !s.is_empty());
    let mut references = Vec::new();
    if let Some(v) = root.header("References") {
        references.extend(msgids_in(v));
    }
    if let Some(v) = root.header("In-Reply-To") {
        references.extend(msgids_in(v));
    }
    let doc_parts = DocParts {
        from: h("From"),
        to: h("To"),
        cc: h("Cc"),
        bcc: h("Bcc"),
        subject: subject.clone(),
        body_text: body_text.clone(),
        list_id: h("List-Id"),
        delivered_to: h("Delivered-To"),
        message_id: message_id.clone().unwrap_or_default(),
        label_ids: vec![],
        attachment_filenames: filenames,
        size_bytes: raw.len() as u64,
        internal_date_ms: 0,
    };
    Parsed {
        payload_full,
        mime_type: root.mime_type.clone(),
        top_headers: root.headers.clone(),
        snippet: make_snippet(&body_text),
        size_estimate: raw.len(),
        attachments: atts,
        message_id,
        references,
        base_subject: base_subject(&subject),
        subject,
        from_addr,
        recipients,
        doc_parts,
    }
}

/// The requested representation of a message (`format=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Minimal,
    Metadata,
    Full,
    Raw,
}

impl Format {
    pub fn parse(s: Option<&str>) -> Option<Format> {
        match s.map(|s| s.to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("full") => Some(Format::Full),
            Some("minimal") => Some(Format::Minimal),
            Some("metadata") => Some(Format::Metadata),
            Some("raw") => Some(Format::Raw),
            _ => None,
        }
    }
}

/// The pieces of a stored message the renderer needs.
pub struct MsgView<'a> {
    pub id: &'a str,
    pub thread_id: &'a str,
    pub labels: &'a [String],
    pub history_id: u64,
    pub internal_date: i64,
    pub raw: &'a [u8],
    pub parsed: &'a Parsed,
}

fn push_str_json(out: &mut String, s: &str) {
    // serde_json never fails to serialize a &str.
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()));
}

pub fn push_label_ids(out: &mut String, labels: &[String]) {
    out.push('[');
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str_json(out, l);
    }
    out.push(']');
}

/// A message in Gmail's field order; int64 fields as strings.
pub fn message_json(m: &MsgView<'_>, format: Format, metadata_headers: &[String]) -> String {
    let mut out = String::with_capacity(match format {
        Format::Full => m.parsed.payload_full.len() + 512,
        Format::Raw => m.raw.len() * 4 / 3 + 512,
        _ => 512,
    });
    out.push_str("{\"id\":");
    push_str_json(&mut out, m.id);
    out.push_str(",\"threadId\":");
    push_str_json(&mut out, m.thread_id);
    if !m.labels.is_empty() {
        out.push_str(",\"labelIds\":");
        push_label_ids(&mut out, m.labels);
    }
    out.push_str(",\"snippet\":");
    push_str_json(&mut out, &m.parsed.snippet);
    match format {
        Format::Full => {
            out.push_str(",\"payload\":");
            out.push_str(&m.parsed.payload_full);
        }
        Format::Metadata => {
            let headers: Vec<Value> = m
                .parsed
                .top_headers
                .iter()
                .filter(|(n, _)| {
                    metadata_headers.is_empty()
                        || metadata_headers.iter().any(|w| w.eq_ignore_ascii_case(n))
                })
                .map(|(n, v)| json!({"name": n, "value": v}))
                .collect();
            let payload = json!({"mimeType": m.parsed.mime_type, "headers": headers});
            out.push_str(",\"payload\":");
            out.push_str(&payload.to_string());
        }
        _ => {}
    }
    let _ = write!(out, ",\"sizeEstimate\":{}", m.parsed.size_estimate);
    if format == Format::Raw {
        out.push_str(",\"raw\":\"");
        out.push_str(&b64url(m.raw));
        out.push('"');
    }
    let _ = write!(
        out,
        ",\"historyId\":\"{}\",\"internalDate\":\"{}\"}}",
        m.history_id, m.internal_date
    );
    out
}

/// `{"id","threadId","labelIds"}`: what modify/trash/send/insert answer with.
pub fn message_min_json(id: &str, thread_id: &str, labels: &[String]) -> Value {
    let mut v = json!({"id": id, "threadId": thread_id});
    if !labels.is_empty() {
        v["labelIds"] = json!(labels);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_output_and_tolerant_input() {
        assert_eq!(b64url(b"ab"), "YWI=");
        assert_eq!(decode_b64url_input("YWI").as_deref(), Some(&b"ab"[..]));
        assert_eq!(decode_b64url_input("YWI=").as_deref(), Some(&b"ab"[..]));
        assert!(decode_b64url_input("a+b/").is_none());
    }

    #[test]
    fn snippet_is_escaped() {
        let p = parse_message(
            b"Subject: x\r\nContent-Type: text/html\r\n\r\n<p>I've got <b>5 &amp; 6</b></p>",
            "1",
        );
        assert_eq!(p.snippet, "I&#39;ve got 5 &amp; 6");
    }

    #[test]
    fn garbage_never_panics() {
        // Through both the MIME walker and the renderer on top of it.
        let mut nested = String::new();
        for i in 0..40 {
            nested.push_str(&format!(
                "Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n"
            ));
        }
        let inputs: Vec<Vec<u8>> = vec![
            vec![],
            b"\n\n".to_vec(),
            b":".to_vec(),
            b"Subject: =?utf-8?B?####?= =?x?Q?a?= =?".to_vec(),
            b"Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\n".to_vec(),
            b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\n--x".to_vec(),
            b"Content-Type: text/plain; name*0*=utf-8''%E2%82; name*1=\"\xff\"\r\nContent-Transfer-Encoding: base64\r\n\r\n=\r\n".to_vec(),
            vec![0xff, 0xfe, b':', b'\n', 0x80],
            nested.into_bytes(),
        ];
        for raw in inputs {
            let p = mime::parse(&raw);
            let _ = p.decoded_body(&raw);
            let r = parse_message(&raw, "0123456789abcdef");
            let _ = r.payload_full.len();
        }
    }
}
