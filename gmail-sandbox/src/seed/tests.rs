//! The demo mailboxes as a whole: counts, threading, encodings, labels, determinism.

use super::demo_mailboxes;
use super::files::BIG_ATTACHMENT_BYTES;
use super::mailboxes::{generate, Generated};
use super::mime::{Cte, Leaf};
use super::output::{SeedMailbox, SeedMessage, DEMO_EMAIL, SECOND_EMAIL};
use super::time::la_ms;
use mail_parser::{MessageParser, MimeHeaders, PartType};
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

fn generated() -> &'static [Generated] {
    static G: OnceLock<Vec<Generated>> = OnceLock::new();
    G.get_or_init(generate)
}

fn demo() -> &'static Generated {
    &generated()[0]
}

fn bob() -> &'static Generated {
    &generated()[1]
}

fn parse(raw: &[u8]) -> mail_parser::Message<'_> {
    MessageParser::default()
        .parse(raw)
        .expect("seeded message parses")
}

fn has(m: &SeedMessage, l: &str) -> bool {
    m.system_labels.iter().any(|x| x == l)
}

/// Groups messages into threads through In-Reply-To (which must point inside the
/// mailbox) and checks the References chain and the subject on the way.
fn threads(mb: &SeedMailbox) -> Vec<Vec<usize>> {
    let parsed: Vec<_> = mb.messages.iter().map(|m| parse(&m.raw)).collect();
    let ids: HashMap<String, usize> = parsed
        .iter()
        .enumerate()
        .map(|(i, p)| (p.message_id().expect("Message-ID").to_string(), i))
        .collect();
    let mut parent: Vec<usize> = (0..parsed.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (i, p) in parsed.iter().enumerate() {
        let Some(irt) = p.in_reply_to().as_text() else {
            continue;
        };
        let &j = ids
            .get(irt)
            .unwrap_or_else(|| panic!("In-Reply-To {irt} is not in the mailbox"));
        assert!(j < i, "a reply comes after its parent");
        // Full References chain: the parent's references plus the parent.
        let mut expected: Vec<String> = parsed[j]
            .references()
            .as_text_list()
            .map(|l| l.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default();
        expected.push(irt.to_string());
        let refs: Vec<String> = p
            .references()
            .as_text_list()
            .expect("References")
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(refs, expected, "References chain of {irt}");
        // Same subject with "Re: ".
        let ps = parsed[j].subject().unwrap_or_default();
        let s = p.subject().unwrap_or_default();
        assert!(
            s == ps || s == format!("Re: {ps}"),
            "subject {s:?} does not continue {ps:?}"
        );
        let (a, b) = (root(&mut parent, i), root(&mut parent, j));
        parent[a] = b;
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..parsed.len() {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    let mut out: Vec<Vec<usize>> = groups.into_values().collect();
    out.sort();
    out
}

#[test]
fn output_is_deterministic() {
    let a = demo_mailboxes();
    let b = demo_mailboxes();
    assert_eq!(a.len(), 2);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.email, y.email);
        assert_eq!(x.messages.len(), y.messages.len());
        for (m, n) in x.messages.iter().zip(&y.messages) {
            assert!(m.raw == n.raw, "raw differs");
            assert_eq!(m.system_labels, n.system_labels);
            assert_eq!(m.user_labels, n.user_labels);
            assert_eq!(m.internal_date_ms, n.internal_date_ms);
        }
        assert_eq!(x.drafts, y.drafts);
    }
}

/// The shape the docs and other crates' tests count on.
#[test]
fn demo_mailbox_shape_is_fixed() {
    let mb = &demo().mailbox;
    assert_eq!(mb.messages.len(), 300);
    assert_eq!(mb.drafts.len(), 4);
    let conversations = threads(mb).iter().filter(|t| t.len() >= 2).count();
    assert_eq!(conversations, 46);
    assert_eq!(bob().mailbox.messages.len(), 18);
    assert_eq!(bob().mailbox.drafts.len(), 1);
}

#[test]
fn demo_mailbox_counts() {
    let mb = &demo().mailbox;
    assert_eq!(mb.email, DEMO_EMAIL);
    assert_eq!(mb.display_name, "Demo User");
    assert!(mb.messages.len() >= 220, "{} messages", mb.messages.len());
    let threads = threads(mb);
    let multi: Vec<&Vec<usize>> = threads.iter().filter(|t| t.len() >= 2).collect();
    assert!(multi.len() >= 35, "{} conversations", multi.len());
    assert!(multi.iter().all(|t| t.len() <= 8));
    assert!(multi.iter().any(|t| t.len() == 8));
    // Some conversations contain the user's own replies.
    let with_sent = multi
        .iter()
        .filter(|t| t.iter().any(|&i| has(&mb.messages[i], "SENT")))
        .count();
    assert!(with_sent >= 20, "{with_sent}");
    assert!((3..=5).contains(&mb.drafts.len()));
}

#[test]
fn messages_are_time_ordered_and_in_range() {
    for g in generated() {
        let msgs = &g.mailbox.messages;
        assert!(msgs
            .windows(2)
            .all(|w| w[0].internal_date_ms < w[1].internal_date_ms));
        let lo = chrono::NaiveDate::from_ymd_opt(2025, 9, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        let hi = la_ms(2026, 11, 22, 0, 0);
        for m in msgs {
            assert!(m.internal_date_ms >= lo && m.internal_date_ms < hi);
            assert_eq!(m.internal_date_ms % 1000, 0);
        }
    }
    let first = demo().mailbox.messages.first().unwrap().internal_date_ms;
    let last = demo().mailbox.messages.last().unwrap().internal_date_ms;
    assert!(first < la_ms(2025, 9, 10, 0, 0));
    assert!(last > la_ms(2026, 11, 1, 0, 0));
}

#[test]
fn every_raw_is_well_formed_and_parses() {
    for g in generated() {
        let mut seen = HashSet::new();
        let raws = g
            .mailbox
            .messages
            .iter()
            .map(|m| (&m.raw, Some(m.internal_date_ms)))
            .chain(g.mailbox.drafts.iter().map(|d| (d, None)));
        for (raw, date) in raws {
            // CRLF only, lines ≤ 998.
            for (i, &b) in raw.iter().enumerate() {
                if b == b'\n' {
                    assert!(i > 0 && raw[i - 1] == b'\r', "bare LF");
                }
                if b == b'\r' {
                    assert_eq!(raw.get(i + 1), Some(&b'\n'), "bare CR");
                }
            }
            assert!(raw.split(|&b| b == b'\n').all(|l| l.len() <= 999));
            let head_end = raw
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .expect("header/body separator");
            let head = std::str::from_utf8(&raw[..head_end]).expect("ASCII headers");
            assert!(head.is_ascii(), "non-ASCII header: {head}");
            assert!(head.contains("\r\nMIME-Version: 1.0\r\n"));
            assert!(head.contains("\r\nContent-Type: "));
            let p = parse(raw);
            let id = p.message_id().expect("Message-ID").to_string();
            assert!(seen.insert(id.clone()), "duplicate Message-ID {id}");
            assert!(p.subject().is_some_and(|s| !s.is_empty()));
            assert!(p.from().and_then(|a| a.first()).is_some());
            let ts = p.date().expect("Date").to_timestamp();
            if let Some(ms) = date {
                assert_eq!(ts * 1000, ms, "Date header of {id}");
            }
        }
    }
}

/// The leaves a MIME parser sees, decoded, in order.
fn parsed_leaves(p: &mail_parser::Message<'_>) -> Vec<Vec<u8>> {
    p.parts
        .iter()
        .filter_map(|part| match &part.body {
            PartType::Text(t) | PartType::Html(t) => Some(t.as_bytes().to_vec()),
            PartType::Binary(b) | PartType::InlineBinary(b) => Some(b.to_vec()),
            PartType::Message(_) | PartType::Multipart(_) => None,
        })
        .collect()
}

fn norm(b: &[u8]) -> Vec<u8> {
    let s = String::from_utf8_lossy(b).replace("\r\n", "\n");
    s.trim_end().as_bytes().to_vec()
}

#[test]
fn bodies_and_attachments_decode_to_what_was_put_in() {
    for g in generated() {
        let pairs = g
            .mailbox
            .messages
            .iter()
            .map(|m| &m.raw)
            .zip(&g.mails)
            .chain(g.mailbox.drafts.iter().zip(&g.drafts));
        for (raw, mail) in pairs {
            let p = parse(raw);
            let got = parsed_leaves(&p);
            let want = mail.body.leaves();
            assert_eq!(got.len(), want.len(), "leaf count of {}", mail.subject);
            for (g, w) in got.iter().zip(want) {
                if w.content_type().starts_with("text/") {
                    assert_eq!(
                        norm(g),
                        norm(&w.expect),
                        "text of {} ({})",
                        mail.subject,
                        w.content_type()
                    );
                } else {
                    assert!(
                        *g == w.expect,
                        "bytes of {} ({})",
                        mail.subject,
                        w.content_type()
                    );
                }
            }
            // Attachment names survive.
            let names: Vec<String> = p
                .attachments()
                .filter_map(|a| a.attachment_name().map(str::to_string))
                .collect();
            let want_names: Vec<String> = mail
                .body
                .leaves()
                .iter()
                .filter_map(|l| l.filename.clone())
                .collect();
            for n in want_names {
                assert!(names.contains(&n), "{n} missing in {}", mail.subject);
            }
            // The subject decodes back.
            assert_eq!(p.subject(), Some(mail.subject.as_str()));
        }
    }
}

#[test]
fn every_kind_is_present() {
    let g = demo();
    let mut kinds: HashSet<String> = HashSet::new();
    let mut top: HashSet<String> = HashSet::new();
    for m in &g.mails {
        let mut k = Vec::new();
        m.body.kinds(&mut k);
        top.insert(k[0].clone());
        kinds.extend(k);
    }
    for k in [
        "text/plain",
        "text/html",
        "text/calendar",
        "text/csv",
        "image/png",
        "application/pdf",
        "multipart/alternative",
        "multipart/mixed",
        "multipart/related",
    ] {
        assert!(kinds.contains(k), "{k}");
    }
    for k in [
        "text/plain",
        "text/html",
        "multipart/alternative",
        "multipart/mixed",
    ] {
        assert!(top.contains(k), "top-level {k}");
    }
    let raws: Vec<String> = g
        .mailbox
        .messages
        .iter()
        .map(|m| String::from_utf8_lossy(&m.raw[..m.raw.len().min(20_000)]).into_owned())
        .collect();
    let any = |pat: &str| raws.iter().any(|r| r.contains(pat));
    assert!(any("Subject: =?UTF-8?B?"));
    assert!(any("Subject: =?UTF-8?Q?"));
    assert!(any("Subject: =?ISO-8859-1?Q?"));
    assert!(any("charset=\"ISO-8859-1\""));
    assert!(any("Content-Transfer-Encoding: quoted-printable"));
    assert!(any("Content-ID: <"));
    assert!(any("\r\nList-Id: "));
    assert!(any("\r\nList-Unsubscribe: "));
    assert!(any("\r\nIn-Reply-To: "));
    // UTF-8 text in base64 and in quoted-printable.
    let leaves: Vec<&Leaf> = g.mails.iter().flat_map(|m| m.body.leaves()).collect();
    assert!(leaves.iter().any(|l| l.cte == Cte::Base64
        && l.content_type()
            .starts_with("text/plain; charset=\"UTF-8\"")
        && !l.expect.is_ascii()));
    assert!(leaves.iter().any(|l| l.cte == Cte::QuotedPrintable
        && l.content_type()
            .starts_with("text/plain; charset=\"UTF-8\"")
        && !l.expect.is_ascii()));
    // Emoji, CJK, Cyrillic display name, forward.
    let subjects: Vec<&str> = g.mails.iter().map(|m| m.subject.as_str()).collect();
    assert!(subjects
        .iter()
        .any(|s| s.chars().any(|c| c as u32 >= 0x1F300)));
    assert!(subjects
        .iter()
        .any(|s| s.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))));
    assert!(subjects.iter().any(|s| s.starts_with("Fwd: ")));
    assert!(g.mailbox.messages.iter().any(|m| {
        parse(&m.raw)
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.name())
            == Some("Дмитрий Иванов")
    }));
}

#[test]
fn labels_are_realistic() {
    let mb = &demo().mailbox;
    let count = |l: &str| mb.messages.iter().filter(|m| has(m, l)).count();
    for l in [
        "SPAM",
        "TRASH",
        "STARRED",
        "IMPORTANT",
        "SENT",
        "CATEGORY_PERSONAL",
        "CATEGORY_SOCIAL",
        "CATEGORY_PROMOTIONS",
        "CATEGORY_UPDATES",
        "CATEGORY_FORUMS",
    ] {
        assert!(count(l) >= 2, "{l}: {}", count(l));
    }
    // Unread: about a third of inbox mail.
    let inbox = count("INBOX");
    let unread_inbox = mb
        .messages
        .iter()
        .filter(|m| has(m, "INBOX") && has(m, "UNREAD"))
        .count();
    let ratio = unread_inbox as f64 / inbox as f64;
    assert!((0.28..=0.38).contains(&ratio), "{unread_inbox}/{inbox}");
    // Inbox mail has a category; spam/trash are not in the inbox; sent mail is ours.
    for m in &mb.messages {
        if has(m, "INBOX") {
            assert!(m.system_labels.iter().any(|l| l.starts_with("CATEGORY_")));
        }
        assert!(!(has(m, "INBOX") && (has(m, "SPAM") || has(m, "TRASH"))));
        if has(m, "SENT") {
            let p = parse(&m.raw);
            let from = p.from().and_then(|a| a.first()).and_then(|a| a.address());
            assert_eq!(from, Some(DEMO_EMAIL));
            assert!(!has(m, "INBOX") && !has(m, "UNREAD"));
        }
    }
    // Archived mail exists (neither INBOX nor SENT/SPAM/TRASH).
    assert!(mb
        .messages
        .iter()
        .any(|m| { !has(m, "INBOX") && !has(m, "SENT") && !has(m, "SPAM") && !has(m, "TRASH") }));
}

#[test]
fn user_labels_are_declared() {
    for g in generated() {
        let declared: HashSet<&str> = g.mailbox.labels.iter().map(|l| l.name.as_str()).collect();
        for m in &g.mailbox.messages {
            for l in &m.user_labels {
                assert!(declared.contains(l.as_str()), "{l} not declared");
            }
        }
        for l in &declared {
            if let Some((parent, _)) = l.rsplit_once('/') {
                assert!(declared.contains(parent), "parent of {l}");
            }
        }
    }
    let demo_labels: Vec<&str> = demo()
        .mailbox
        .labels
        .iter()
        .map(|l| l.name.as_str())
        .collect();
    for l in [
        "Work",
        "Receipts",
        "Travel",
        "Projects",
        "Projects/Alpha",
        "Newsletters",
    ] {
        assert!(demo_labels.contains(&l), "{l}");
    }
    assert!(demo()
        .mailbox
        .labels
        .iter()
        .any(|l| { l.color == Some(("#ffffff".to_string(), "#fb4c2f".to_string())) }));
    // Every declared label is used.
    for l in &demo_labels {
        assert!(
            demo()
                .mailbox
                .messages
                .iter()
                .any(|m| m.user_labels.iter().any(|u| u == l))
                || *l == "Projects",
            "{l} unused"
        );
    }
}

#[test]
fn one_attachment_over_five_megabytes() {
    let big: Vec<&Leaf> = demo()
        .mails
        .iter()
        .flat_map(|m| m.body.leaves())
        .filter(|l| l.bytes.len() > 5 * 1024 * 1024)
        .collect();
    assert_eq!(big.len(), 1);
    assert!(big[0].bytes.len() >= BIG_ATTACHMENT_BYTES);
    assert!(big[0]
        .filename
        .as_deref()
        .is_some_and(|f| f.ends_with(".csv")));
    // Everything else is small.
    let others = demo()
        .mailbox
        .messages
        .iter()
        .filter(|m| m.raw.len() > 1_000_000)
        .count();
    assert_eq!(others, 1);
}

#[test]
fn drafts_include_a_reply() {
    let g = demo();
    let ids: HashSet<String> = g
        .mailbox
        .messages
        .iter()
        .map(|m| parse(&m.raw).message_id().unwrap().to_string())
        .collect();
    let mut replies = 0;
    for d in &g.mailbox.drafts {
        let p = parse(d);
        assert_eq!(
            p.from().and_then(|a| a.first()).and_then(|a| a.address()),
            Some(DEMO_EMAIL)
        );
        if let Some(irt) = p.in_reply_to().as_text() {
            assert!(ids.contains(irt));
            assert!(p.subject().unwrap().starts_with("Re: "));
            replies += 1;
        }
    }
    assert_eq!(replies, 1);
}

#[test]
fn second_mailbox_shares_a_conversation() {
    let b = &bob().mailbox;
    assert_eq!(b.email, SECOND_EMAIL);
    assert!(
        (12..=20).contains(&b.messages.len()),
        "{}",
        b.messages.len()
    );
    let ids = |mb: &SeedMailbox| -> HashSet<String> {
        mb.messages
            .iter()
            .map(|m| parse(&m.raw).message_id().unwrap().to_string())
            .collect()
    };
    let shared = ids(b).intersection(&ids(&demo().mailbox)).count();
    assert!(shared >= 4, "{shared}");
    assert!(b.messages.iter().any(|m| has(m, "SENT")));
    assert!(b.messages.iter().any(|m| has(m, "INBOX")));
    assert!(!b.drafts.is_empty());
    assert!(threads(b).iter().any(|t| t.len() >= 3));
    // Bob's copies are delivered to Bob.
    for m in &b.messages {
        let raw = String::from_utf8_lossy(&m.raw[..m.raw.len().min(300)]).into_owned();
        if has(m, "INBOX") {
            assert!(
                raw.starts_with("Delivered-To: bob@example.com\r\n"),
                "{raw}"
            );
        }
    }
}
