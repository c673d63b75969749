//! Replies and forwards: subjects, threading headers (the real Message-ID and the full References
//! chain, bracketed), recipients for reply / reply-all, quoting, and trimming quoted history
//! when showing a thread.

use chrono::DateTime;

use super::address::Recipient;
use super::ids::push_unique;
use super::read::{format_address_list, AddressInfo, ReadableMessage};

fn has_prefix_ci(s: &str, prefixes: &[&str]) -> bool {
    let lower = s.trim_start().to_lowercase();
    prefixes.iter().any(|p| lower.starts_with(p))
}

/// A subject taken from received mail is cut to this (Gmail's own subjects stay far below).
const MAX_SUBJECT_BYTES: usize = 998;

/// `Hello` → `Re: Hello`; a subject already starting with `Re:` (any case) is kept as it is.
pub fn reply_subject(subject: &str) -> String {
    let cleaned = super::address::header_text(subject, MAX_SUBJECT_BYTES);
    let s = cleaned.as_str();
    if has_prefix_ci(s, &["re:", "re :"]) {
        s.to_string()
    } else {
        format!("Re: {s}").trim_end().to_string()
    }
}

/// `Hello` → `Fwd: Hello`; a subject already starting with `Fwd:`/`Fw:` is kept.
pub fn forward_subject(subject: &str) -> String {
    let cleaned = super::address::header_text(subject, MAX_SUBJECT_BYTES);
    let s = cleaned.as_str();
    if has_prefix_ci(s, &["fwd:", "fw:", "fwd :", "fw :"]) {
        s.to_string()
    } else {
        format!("Fwd: {s}").trim_end().to_string()
    }
}

/// `(In-Reply-To, References)` for a reply: the original's Message-ID, and its References (or,
/// lacking them, its In-Reply-To) followed by its Message-ID, de-duplicated and bracketed.
pub fn reply_headers(original: &ReadableMessage) -> (Option<String>, Vec<String>) {
    let mut refs = Vec::new();
    if original.references.is_empty() {
        if let Some(parent) = &original.in_reply_to {
            push_unique(&mut refs, parent.clone());
        }
    }
    for r in &original.references {
        push_unique(&mut refs, r.clone());
    }
    if let Some(id) = &original.message_id {
        push_unique(&mut refs, id.clone());
    }
    (original.message_id.clone(), refs)
}

/// `(to, cc)` for a reply. Replies go to Reply-To when present, else From; replying to a message
/// I sent goes to its original To. Reply-all adds the original To and Cc, minus me and anyone
/// already listed (case-insensitive). Addresses we could not send to are left out.
pub fn reply_recipients(
    original: &ReadableMessage,
    me: &str,
    reply_all: bool,
) -> (Vec<Recipient>, Vec<Recipient>) {
    reply_recipients_excluding(original, &[me], reply_all)
}

/// [`reply_recipients`] for an account with several addresses (send-as aliases): all of `me`
/// count as me.
pub fn reply_recipients_excluding(
    original: &ReadableMessage,
    me: &[&str],
    reply_all: bool,
) -> (Vec<Recipient>, Vec<Recipient>) {
    let is_me = |a: &AddressInfo| {
        me.iter()
            .any(|m| !m.trim().is_empty() && a.email.trim().eq_ignore_ascii_case(m.trim()))
    };
    let from_me = original.from.as_ref().is_some_and(is_me);

    let primary: Vec<&AddressInfo> = if !original.reply_to.is_empty() && !from_me {
        original.reply_to.iter().collect()
    } else if from_me {
        original.to.iter().collect()
    } else {
        original.from.iter().collect()
    };

    let mut seen: Vec<String> = Vec::new();
    let mut take = |a: &AddressInfo, field: &str| -> Option<Recipient> {
        let key = a.email.trim().to_ascii_lowercase();
        if seen.contains(&key) {
            return None;
        }
        let r = a.to_recipient(field).ok()?;
        seen.push(key);
        Some(r)
    };

    let mut to: Vec<Recipient> = primary
        .into_iter()
        .filter(|a| !is_me(a))
        .filter_map(|a| take(a, "to"))
        .collect();
    if to.is_empty() && from_me {
        // A note to myself: reply to myself.
        to.extend(original.from.iter().filter_map(|a| take(a, "to")));
    }
    let mut cc = Vec::new();
    if reply_all {
        for a in original.to.iter().chain(&original.cc) {
            if is_me(a) {
                continue;
            }
            if let Some(r) = take(a, "cc") {
                cc.push(r);
            }
        }
    }
    (to, cc)
}

/// A date header as `Mon, 3 Feb 2025 at 10:15`, or as given when unparsable.
fn attribution_date(date: &str) -> String {
    match DateTime::parse_from_rfc2822(date.trim()) {
        Ok(d) => d.format("%a, %-d %b %Y at %H:%M").to_string(),
        Err(_) => date.trim().to_string(),
    }
}

fn sender(original: &ReadableMessage) -> String {
    original
        .from
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| "someone".to_string())
}

/// The original quoted below a reply: `On <date>, <from> wrote:` then `> ` lines.
pub fn quote_for_reply(original: &ReadableMessage) -> String {
    let head = match original.date.as_deref().filter(|d| !d.trim().is_empty()) {
        Some(d) => format!("On {}, {} wrote:", attribution_date(d), sender(original)),
        None => format!("{} wrote:", sender(original)),
    };
    let mut out = head;
    out.push('\n');
    for line in original.text.trim_end().lines() {
        if line.is_empty() {
            out.push_str(">\n");
        } else if line.starts_with('>') {
            out.push('>');
            out.push_str(line);
            out.push('\n');
        } else {
            out.push_str("> ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The body of a forward: Gmail's `---------- Forwarded message ---------` block, then the text.
pub fn forward_body(original: &ReadableMessage) -> String {
    let mut out = String::from("---------- Forwarded message ---------\n");
    out.push_str(&format!("From: {}\n", sender(original)));
    if let Some(d) = original.date.as_deref() {
        out.push_str(&format!("Date: {}\n", attribution_date(d)));
    }
    out.push_str(&format!("Subject: {}\n", original.subject));
    if !original.to.is_empty() {
        out.push_str(&format!("To: {}\n", format_address_list(&original.to)));
    }
    if !original.cc.is_empty() {
        out.push_str(&format!("Cc: {}\n", format_address_list(&original.cc)));
    }
    out.push('\n');
    out.push_str(original.text.trim_end());
    out.push('\n');
    out
}

const WROTE_MARKERS: &[&str] = &[
    "wrote:",
    "a écrit :",
    "a écrit:",
    "schrieb:",
    "escribió:",
    "ha scritto:",
    "skrev:",
    "schreef:",
    "escreveu:",
];
const ATTRIBUTION_STARTS: &[&str] = &[
    "on ", "le ", "am ", "el ", "il ", "op ", "den ", "em ", "в ",
];

fn is_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

/// Index of the first line of an attribution (`On … wrote:`) starting at `i`, with how many
/// lines it spans (clients wrap long ones over two).
fn attribution_at(lines: &[&str], i: usize) -> Option<usize> {
    let first = lines[i].trim();
    let lower = first.to_lowercase();
    if !ATTRIBUTION_STARTS.iter().any(|s| lower.starts_with(s)) {
        return None;
    }
    if WROTE_MARKERS.iter().any(|m| lower.ends_with(m)) {
        return Some(1);
    }
    let next = lines.get(i + 1)?.trim().to_lowercase();
    WROTE_MARKERS.iter().any(|m| next.ends_with(m)).then_some(2)
}

fn is_original_message_marker(line: &str) -> bool {
    let t = line
        .trim()
        .trim_matches(|c| c == '-' || c == '_' || c == ' ')
        .to_lowercase();
    line.trim().starts_with("---")
        && (t == "original message" || t == "ursprüngliche nachricht" || t == "message d'origine")
}

/// Outlook's header block: `From:` followed within a few lines by `Sent:` (or `Date:`).
fn is_outlook_header(lines: &[&str], i: usize) -> bool {
    let starts = |l: &str, p: &str| l.trim_start().to_lowercase().starts_with(p);
    if !(starts(lines[i], "from:") || starts(lines[i], "*from:*")) {
        return false;
    }
    // Our own forward block (and Gmail's) uses the same shape but is content, not history.
    let prev = lines[..i].iter().rev().find(|l| !l.trim().is_empty());
    if prev.is_some_and(|p| p.to_lowercase().contains("forwarded message")) {
        return false;
    }
    lines
        .iter()
        .skip(i + 1)
        .take(4)
        .any(|l| starts(l, "sent:") || starts(l, "*sent:*") || starts(l, "date:"))
}

/// Drops quoted history from the end of a message, for showing a thread without repeating every
/// earlier message: an `On … wrote:` line followed only by `>` lines, Outlook's
/// `-----Original Message-----` or `From: … Sent: …` blocks, and a trailing `>` block. Inline
/// answers between quotes are kept. Returns the text unchanged if nothing else would remain.
pub fn trim_quoted_history(text: &str) -> String {
    let normalized = text.replace("\r\n", "\n");
    let lines: Vec<&str> = normalized.lines().collect();
    let mut cut = lines.len();

    for i in 0..lines.len() {
        if is_original_message_marker(lines[i]) || is_outlook_header(&lines, i) {
            // Include a `____` rule Outlook puts just above the header block.
            let mut start = i;
            while start > 0 && {
                let p = lines[start - 1].trim();
                p.is_empty() || (p.len() >= 5 && p.chars().all(|c| c == '_' || c == '-'))
            } {
                start -= 1;
            }
            cut = start;
            break;
        }
        if let Some(span) = attribution_at(&lines, i) {
            let rest = &lines[i + span..];
            if rest.iter().all(|l| l.trim().is_empty() || is_quoted(l)) {
                cut = i;
                break;
            }
        }
    }

    // A trailing block of `>` lines with no attribution.
    let mut end = cut;
    while end > 0 && lines[end - 1].trim().is_empty() {
        end -= 1;
    }
    let mut start = end;
    while start > 0 && (is_quoted(lines[start - 1]) || lines[start - 1].trim().is_empty()) {
        start -= 1;
    }
    if start < end && lines[..start].iter().any(|l| !l.trim().is_empty()) {
        cut = start;
    }

    let kept = lines[..cut].join("\n");
    let kept = kept.trim_end();
    if kept.trim().is_empty() {
        normalized.trim_end().to_string()
    } else {
        kept.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::read::{parse_address_header, readable_from_raw};

    fn msg(
        from: &str,
        to: &str,
        cc: &str,
        id: &str,
        in_reply_to: Option<&str>,
        refs: &[&str],
    ) -> ReadableMessage {
        ReadableMessage {
            subject: "Plan".into(),
            from: parse_address_header(from).into_iter().next(),
            to: parse_address_header(to),
            cc: parse_address_header(cc),
            date: Some("Mon, 3 Feb 2025 10:15:00 +0100".into()),
            message_id: Some(id.into()),
            in_reply_to: in_reply_to.map(Into::into),
            references: refs.iter().map(|s| s.to_string()).collect(),
            text: "Line one\n\n> earlier\nLine two".into(),
            ..Default::default()
        }
    }

    fn emails(list: &[Recipient]) -> Vec<&str> {
        list.iter().map(|r| r.email.as_str()).collect()
    }

    #[test]
    fn subjects() {
        assert_eq!(reply_subject("Hello"), "Re: Hello");
        assert_eq!(reply_subject("Re: Hello"), "Re: Hello");
        assert_eq!(reply_subject("RE: Hello"), "RE: Hello");
        assert_eq!(reply_subject("re:Hello"), "re:Hello");
        assert_eq!(reply_subject("Fwd: Hello"), "Re: Fwd: Hello");
        assert_eq!(reply_subject("Reunion"), "Re: Reunion");
        assert_eq!(reply_subject(""), "Re:");
        assert_eq!(forward_subject("Hello"), "Fwd: Hello");
        assert_eq!(forward_subject("FW: Hello"), "FW: Hello");
        assert_eq!(forward_subject("Fwd: Hello"), "Fwd: Hello");
        assert_eq!(forward_subject("Re: Hello"), "Fwd: Re: Hello");
    }

    #[test]
    fn references_chain_over_a_three_message_thread() {
        // m1 starts the thread, m2 replies to it, m3 replies to m2; we now reply to m3.
        let m1 = msg(
            "alice@example.com",
            "bob@example.com",
            "",
            "<m1@a>",
            None,
            &[],
        );
        let (irt, refs) = reply_headers(&m1);
        assert_eq!(irt.as_deref(), Some("<m1@a>"));
        assert_eq!(refs, vec!["<m1@a>"]);

        let m2 = msg(
            "bob@example.com",
            "alice@example.com",
            "",
            "<m2@b>",
            irt.as_deref(),
            &refs.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        let (irt, refs) = reply_headers(&m2);
        assert_eq!(irt.as_deref(), Some("<m2@b>"));
        assert_eq!(refs, vec!["<m1@a>", "<m2@b>"]);

        let m3 = msg(
            "alice@example.com",
            "bob@example.com",
            "",
            "<m3@a>",
            irt.as_deref(),
            &refs.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        let (irt, refs) = reply_headers(&m3);
        assert_eq!(irt.as_deref(), Some("<m3@a>"));
        assert_eq!(refs, vec!["<m1@a>", "<m2@b>", "<m3@a>"]);

        // A client that sent only In-Reply-To: the parent still starts the chain.
        let odd = msg(
            "a@example.com",
            "b@example.com",
            "",
            "<x@a>",
            Some("<p@a>"),
            &[],
        );
        assert_eq!(reply_headers(&odd).1, vec!["<p@a>", "<x@a>"]);
        // Duplicates (a client that repeated its own id) collapse.
        let dup = msg(
            "a@example.com",
            "b@example.com",
            "",
            "<x@a>",
            None,
            &["<r@a>", "<r@a>", "<x@a>"],
        );
        assert_eq!(reply_headers(&dup).1, vec!["<r@a>", "<x@a>"]);
    }

    #[test]
    fn reply_and_reply_all_recipients() {
        let m = msg(
            "Alice <alice@example.com>",
            "Me <ME@example.com>, bob@example.com",
            "carol@example.com, Alice <ALICE@example.com>, bad-address",
            "<m@a>",
            None,
            &[],
        );
        let (to, cc) = reply_recipients(&m, "me@example.com", false);
        assert_eq!(emails(&to), vec!["alice@example.com"]);
        assert_eq!(to[0].name.as_deref(), Some("Alice"));
        assert!(cc.is_empty());

        let (to, cc) = reply_recipients(&m, "me@example.com", true);
        assert_eq!(emails(&to), vec!["alice@example.com"]);
        assert_eq!(emails(&cc), vec!["bob@example.com", "carol@example.com"]);

        let mut with_reply_to = m.clone();
        with_reply_to.reply_to = parse_address_header("list@example.com");
        let (to, cc) = reply_recipients(&with_reply_to, "me@example.com", true);
        assert_eq!(emails(&to), vec!["list@example.com"]);
        // Alice is in Cc under another case: kept once, as she was written there.
        assert_eq!(
            emails(&cc),
            vec!["bob@example.com", "carol@example.com", "ALICE@example.com"]
        );

        // Every send-as alias counts as me.
        let (to, cc) = reply_recipients_excluding(&m, &["me@example.com", "bob@example.com"], true);
        assert_eq!(emails(&to), vec!["alice@example.com"]);
        assert_eq!(emails(&cc), vec!["carol@example.com"]);

        // Replying to my own sent message goes to its recipients.
        let sent = msg(
            "me@example.com",
            "bob@example.com",
            "carol@example.com",
            "<s@a>",
            None,
            &[],
        );
        let (to, cc) = reply_recipients(&sent, "me@example.com", true);
        assert_eq!(emails(&to), vec!["bob@example.com"]);
        assert_eq!(emails(&cc), vec!["carol@example.com"]);
    }

    #[test]
    fn quoting_and_forwarding() {
        let m = msg(
            "Alice <alice@example.com>",
            "Bob <bob@example.com>",
            "carol@example.com",
            "<m@a>",
            None,
            &[],
        );
        assert_eq!(
            quote_for_reply(&m),
            "On Mon, 3 Feb 2025 at 10:15, Alice <alice@example.com> wrote:\n> Line one\n>\n>> earlier\n> Line two\n"
        );
        let body = forward_body(&m);
        assert_eq!(
            body,
            "---------- Forwarded message ---------\nFrom: Alice <alice@example.com>\n\
             Date: Mon, 3 Feb 2025 at 10:15\nSubject: Plan\nTo: Bob <bob@example.com>\n\
             Cc: carol@example.com\n\nLine one\n\n> earlier\nLine two\n"
        );
        let mut undated = m.clone();
        undated.date = None;
        assert!(quote_for_reply(&undated).starts_with("Alice <alice@example.com> wrote:\n"));

        let raw = readable_from_raw(crate::mail::read::tests::RAW.as_bytes()).unwrap();
        assert!(forward_body(&raw).ends_with("Voici le résumé.\n"));
    }

    #[test]
    fn trims_gmail_style_history() {
        let text = "Sounds good, see you then.\n\nOn Mon, 3 Feb 2025 at 10:15, Alice <alice@example.com> wrote:\n> Shall we meet?\n>\n> > older\n";
        assert_eq!(trim_quoted_history(text), "Sounds good, see you then.");
        let wrapped = "Yes.\r\n\r\nOn Mon, 3 Feb 2025 at 10:15, Alice Longname <alice.longname@example.com>\r\nwrote:\r\n\r\n> Question?\r\n";
        assert_eq!(trim_quoted_history(wrapped), "Yes.");
        let french = "D'accord.\n\nLe lun. 3 févr. 2025 à 10:15, Alice <a@example.com> a écrit :\n> Question ?\n";
        assert_eq!(trim_quoted_history(french), "D'accord.");
    }

    #[test]
    fn trims_outlook_history_but_keeps_forwards_and_inline_answers() {
        let outlook = "Approved.\n\n-----Original Message-----\nFrom: Bob\nSent: Monday\nSubject: Budget\n\nPlease approve.";
        assert_eq!(trim_quoted_history(outlook), "Approved.");
        let outlook2 = "Thanks!\n\n________________________________\nFrom: Bob <bob@example.com>\nSent: Monday, February 3, 2025 10:15 AM\nTo: Me\nSubject: Budget\n\nPlease approve.";
        assert_eq!(trim_quoted_history(outlook2), "Thanks!");

        let inline = "On Mon, 3 Feb 2025, Alice wrote:\n> Q1?\nA1.\n> Q2?\nA2.";
        assert_eq!(trim_quoted_history(inline), inline);

        let fwd = "FYI\n\n---------- Forwarded message ---------\nFrom: Alice <a@example.com>\nDate: Mon, 3 Feb 2025 at 10:15\nSubject: Plan\n\nThe plan.";
        assert_eq!(trim_quoted_history(fwd), fwd);

        let trailing = "Agreed.\n\n> what they said\n> more";
        assert_eq!(trim_quoted_history(trailing), "Agreed.");
        let only_quote = "> everything quoted";
        assert_eq!(trim_quoted_history(only_quote), only_quote);
        assert_eq!(trim_quoted_history("Just text.\n"), "Just text.");
    }
}
