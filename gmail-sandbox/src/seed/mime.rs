//! A small MIME model of each demo message, rendered with mail-builder.
//!
//! The model names each part's transfer encoding (the mailbox deliberately has 7bit,
//! quoted-printable and base64 text), so bodies are encoded in [`super::encode`] and handed
//! to mail-builder as they are; mail-builder writes the headers and the multipart framing.

use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::message_id::MessageId;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::{BodyPart, MimePart};
use mail_builder::MessageBuilder;
use rand::rngs::StdRng;
use rand::Rng;

use super::encode::{base64_body, encode_latin1_q, encode_words, latin1, qp_body, HdrEnc};
use super::people::Person;
use super::text::crlf;
use super::time::rfc2822;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cte {
    SevenBit,
    QuotedPrintable,
    Base64,
}

impl Cte {
    fn name(self) -> &'static str {
        match self {
            Cte::SevenBit => "7bit",
            Cte::QuotedPrintable => "quoted-printable",
            Cte::Base64 => "base64",
        }
    }
}

#[derive(Clone, Debug)]
#[cfg_attr(not(test), allow(dead_code))]
pub struct Leaf {
    /// `type/subtype`.
    pub mime: String,
    /// Content-Type parameters.
    pub params: Vec<(&'static str, String)>,
    pub cte: Cte,
    /// Content-Disposition (`attachment` or `inline`, with the file name).
    pub disposition: Option<&'static str>,
    /// Content-ID without the angle brackets.
    pub content_id: Option<String>,
    /// The bytes before transfer encoding.
    pub bytes: Vec<u8>,
    /// What a MIME parser should decode this part to (UTF-8 for text, raw otherwise).
    pub expect: Vec<u8>,
    /// Attachment file name, when there is one.
    pub filename: Option<String>,
}

impl Leaf {
    /// The Content-Type as the model means it: `type/subtype; key="value"…`.
    #[cfg(test)]
    pub fn content_type(&self) -> String {
        let mut s = self.mime.clone();
        for (k, v) in &self.params {
            s.push_str(&format!("; {k}=\"{v}\""));
        }
        s
    }
}

#[derive(Clone, Debug)]
pub enum Part {
    Leaf(Leaf),
    Multi {
        subtype: &'static str,
        /// Content-Type parameters besides the boundary (`type` for related).
        params: &'static [(&'static str, &'static str)],
        parts: Vec<Part>,
    },
}

#[cfg_attr(not(test), allow(dead_code))]
impl Part {
    /// Leaves in depth-first order.
    pub fn leaves(&self) -> Vec<&Leaf> {
        match self {
            Part::Leaf(l) => vec![l],
            Part::Multi { parts, .. } => parts.iter().flat_map(Part::leaves).collect(),
        }
    }

    pub fn kinds(&self, out: &mut Vec<String>) {
        match self {
            Part::Leaf(l) => out.push(l.mime.clone()),
            Part::Multi { subtype, parts, .. } => {
                out.push(format!("multipart/{subtype}"));
                for p in parts {
                    p.kinds(out);
                }
            }
        }
    }
}

fn text_leaf(mime: &str, charset: &str, cte: Cte, bytes: Vec<u8>, expect: String) -> Part {
    Part::Leaf(Leaf {
        mime: mime.into(),
        params: vec![("charset", charset.into())],
        cte,
        disposition: None,
        content_id: None,
        bytes,
        expect: expect.into_bytes(),
        filename: None,
    })
}

/// A UTF-8 text part: `text` with CRLF line ends, sent as `cte`.
fn utf8_leaf(mime: &str, cte: Cte, text: &str) -> Part {
    let t = crlf(text);
    text_leaf(mime, "UTF-8", cte, t.clone().into_bytes(), t)
}

/// `text/plain`, UTF-8: 7bit when ASCII, otherwise quoted-printable.
pub fn text_plain(text: &str) -> Part {
    let cte = if text.is_ascii() {
        Cte::SevenBit
    } else {
        Cte::QuotedPrintable
    };
    utf8_leaf("text/plain", cte, text)
}

/// `text/plain`, UTF-8, base64 (as some clients send CJK text).
pub fn text_plain_b64(text: &str) -> Part {
    utf8_leaf("text/plain", Cte::Base64, text)
}

/// `text/plain` in ISO-8859-1, quoted-printable.
pub fn text_plain_latin1(text: &str) -> Part {
    let t = crlf(text);
    text_leaf(
        "text/plain",
        "ISO-8859-1",
        Cte::QuotedPrintable,
        latin1(&t),
        t,
    )
}

/// `text/html`, UTF-8, quoted-printable (HTML lines are long).
pub fn text_html(html: &str) -> Part {
    utf8_leaf("text/html", Cte::QuotedPrintable, html)
}

/// A calendar invitation (`method=REQUEST`).
pub fn text_calendar(ics: &str) -> Part {
    let mut part = utf8_leaf("text/calendar", Cte::SevenBit, ics);
    if let Part::Leaf(l) = &mut part {
        l.params.push(("method", "REQUEST".into()));
    }
    part
}

fn file(mime: &str, filename: &str, disposition: &'static str, bytes: Vec<u8>) -> Leaf {
    Leaf {
        mime: mime.into(),
        params: vec![("name", filename.into())],
        cte: Cte::Base64,
        disposition: Some(disposition),
        content_id: None,
        expect: bytes.clone(),
        bytes,
        filename: Some(filename.to_string()),
    }
}

pub fn attachment(mime: &str, filename: &str, bytes: Vec<u8>) -> Part {
    Part::Leaf(file(mime, filename, "attachment", bytes))
}

/// An inline PNG that HTML refers to as `cid:{cid}`.
pub fn inline_image(filename: &str, cid: &str, bytes: Vec<u8>) -> Part {
    let mut leaf = file("image/png", filename, "inline", bytes);
    leaf.content_id = Some(cid.to_string());
    Part::Leaf(leaf)
}

/// multipart/alternative: `plain` as text/plain, `text` rendered as text/html.
pub fn alternative(plain: &str, text: &str) -> Part {
    let html = super::text::text_to_html(text);
    multi("alternative", vec![text_plain(plain), text_html(&html)])
}

pub fn multi(subtype: &'static str, parts: Vec<Part>) -> Part {
    Part::Multi {
        subtype,
        params: &[],
        parts,
    }
}

/// multipart/related: an HTML part and the images it refers to.
pub fn related(parts: Vec<Part>) -> Part {
    Part::Multi {
        subtype: "related",
        params: &[("type", "text/html")],
        parts,
    }
}

/// Attachments after the body, in multipart/mixed (the body alone when there are none).
pub fn with_attachments(body: Part, atts: Vec<Part>) -> Part {
    if atts.is_empty() {
        body
    } else {
        let mut parts = vec![body];
        parts.extend(atts);
        multi("mixed", parts)
    }
}

fn boundary(rng: &mut StdRng) -> String {
    format!(
        "000000000000{:012x}",
        rng.random::<u64>() & 0xFFFF_FFFF_FFFF
    )
}

fn mime_part(part: &Part, rng: &mut StdRng) -> MimePart<'static> {
    match part {
        Part::Leaf(l) => {
            let mut ct = ContentType::new(l.mime.clone());
            for (k, v) in &l.params {
                ct = ct.attribute(*k, v.clone());
            }
            let mut body = Vec::new();
            match l.cte {
                Cte::SevenBit => body.extend_from_slice(&l.bytes),
                Cte::QuotedPrintable => qp_body(&l.bytes, &mut body),
                Cte::Base64 => base64_body(&l.bytes, &mut body),
            }
            let mut p = MimePart::new(ct, BodyPart::Binary(body.into()));
            if let (Some(d), Some(name)) = (l.disposition, &l.filename) {
                let cd = ContentType::new(d).attribute("filename", name.clone());
                p = p.header("Content-Disposition", cd);
            }
            if let Some(cid) = &l.content_id {
                p = p
                    .cid(cid.clone())
                    .header("X-Attachment-Id", Raw::new(cid.clone()));
            }
            // Names the encoding already applied, so mail-builder writes the body as it is.
            p.transfer_encoding(l.cte.name())
        }
        Part::Multi {
            subtype,
            params,
            parts,
        } => {
            let mut ct = ContentType::new(format!("multipart/{subtype}"))
                .attribute("boundary", boundary(rng));
            for (k, v) in *params {
                ct = ct.attribute(*k, *v);
            }
            let children = parts.iter().map(|p| mime_part(p, rng)).collect();
            MimePart::new(ct, BodyPart::Multipart(children))
        }
    }
}

/// How a subject is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubjectEnc {
    Utf8(HdrEnc),
    Latin1Q,
}

/// One message before rendering.
#[derive(Clone, Debug)]
pub struct Mail {
    pub from: Person,
    pub to: Vec<Person>,
    pub cc: Vec<Person>,
    pub date_ms: i64,
    pub subject: String,
    pub subject_enc: SubjectEnc,
    /// `<id@domain>`.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub extra_headers: Vec<(String, String)>,
    pub body: Part,
    pub system_labels: Vec<String>,
    pub user_labels: Vec<String>,
    /// The plain text of this message's own words (for quoting in replies).
    pub text: String,
    /// Thread key (for tests and unread selection).
    pub thread: usize,
}

fn address(p: &Person) -> Address<'static> {
    Address::new_address(Some(p.name), p.email)
}

fn bare(id: &str) -> String {
    id.trim_matches(|c| c == '<' || c == '>').to_string()
}

impl Mail {
    /// RFC 822 bytes, CRLF line endings; `rng` picks the multipart boundaries.
    pub fn render(&self, delivered_to: Option<&str>, rng: &mut StdRng) -> Vec<u8> {
        let mut m = MessageBuilder::new();
        if let Some(d) = delivered_to {
            m = m.header("Delivered-To", Raw::new(d.to_string()));
        }
        m = m
            .header("Return-Path", Raw::new(format!("<{}>", self.from.email)))
            .header("MIME-Version", Raw::new("1.0"))
            .header("Date", Raw::new(rfc2822(self.date_ms, self.from.tz)))
            .message_id(bare(&self.message_id));
        if let Some(irt) = &self.in_reply_to {
            m = m.in_reply_to(bare(irt));
        }
        if !self.references.is_empty() {
            m = m.references(MessageId::new_list(self.references.iter().map(|r| bare(r))));
        }
        let subject = match self.subject_enc {
            SubjectEnc::Utf8(enc) => encode_words(&self.subject, enc),
            SubjectEnc::Latin1Q => encode_latin1_q(&self.subject),
        };
        m = m
            .header("Subject", Raw::new(subject))
            .from(address(&self.from));
        if !self.to.is_empty() {
            m = m.to(Address::new_list(self.to.iter().map(address).collect()));
        }
        if !self.cc.is_empty() {
            m = m.cc(Address::new_list(self.cc.iter().map(address).collect()));
        }
        for (k, v) in &self.extra_headers {
            m = m.header(k.clone(), Raw::new(v.clone()));
        }
        m.body(mime_part(&self.body, rng))
            .write_to_vec()
            .expect("writing to a Vec cannot fail")
    }
}
