//! Reading messages: both walkers, over Gmail's part trees and raw RFC 822.

use super::gmail::*;
use super::raw::*;
use super::*;
use google_gmail1::api::{Message, MessagePart, MessagePartBody, MessagePartHeader};

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

/// A one-part message of this Content-Type, read as Gmail gives it.
fn read_one_part(content_type: &str, body: &[u8]) -> ReadableMessage {
    let mime = content_type.split(';').next().unwrap_or_default();
    let headers = top_headers(&[("Content-Type", content_type)]);
    readable_from_gmail(&gmail(leaf("", mime, headers, body)))
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
    let r = read_one_part(
        "text/html; charset=utf-8",
        b"<html><body><h1>Sale</h1><p>Everything <a href=\"https://shop.example.com\">50% off</a></p></body></html>",
    );
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
    let r = read_one_part(
        "text/plain; charset=ISO-8859-1",
        b"Caf\xe9 cr\xe8me, \xe0 bient\xf4t",
    );
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
