//! Messages, searches, threads and drafts as text a model reads: `concise` by default (every
//! fact, few bytes: one line per search hit, label names, short dates, attachment handles),
//! `detailed` on request (every header, Gmail's ids, snippets).

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::mail::{
    format_address_list, parse_address_header, trim_quoted_history, AddressInfo, ReadableMessage,
};
use crate::ops::drafts::DraftPage;
use crate::ops::messages::SearchPage;
use crate::ops::threads::ThreadPage;

// How much a result says: `concise` (every fact in few bytes) or `detailed` (every header,
// Gmail's long ids, snippets). Plain comments: doc comments would go into every schema.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResponseFormat {
    #[default]
    Concise,
    Detailed,
}

/// `Nov 19`, or `Nov 19 2025` outside the current year.
pub fn short_date(ms: Option<i64>, fallback: &str) -> String {
    let Some(at) = ms.and_then(chrono::DateTime::from_timestamp_millis) else {
        return fallback.to_string();
    };
    if at.format("%Y").to_string() == chrono::Utc::now().format("%Y").to_string() {
        at.format("%b %-d").to_string()
    } else {
        at.format("%b %-d %Y").to_string()
    }
}

/// A Date header as `2026-11-19 13:30 +0000` (as sent, when it does not parse).
pub fn header_date(date: &str) -> String {
    chrono::DateTime::parse_from_rfc2822(date.trim())
        .map(|d| d.format("%Y-%m-%d %H:%M %z").to_string())
        .unwrap_or_else(|_| date.trim().to_string())
}

/// A Date header in UTC, as search lines date messages: `Nov 19 13:30` (the year when it is
/// not this one).
pub fn short_header_date(date: &str) -> String {
    let Ok(d) = chrono::DateTime::parse_from_rfc2822(date.trim()) else {
        return date.trim().to_string();
    };
    let d = d.with_timezone(&chrono::Utc);
    if d.format("%Y").to_string() == chrono::Utc::now().format("%Y").to_string() {
        d.format("%b %-d %H:%M").to_string()
    } else {
        d.format("%b %-d %Y %H:%M").to_string()
    }
}

/// The display name of a From header, or its address when it has none.
pub fn sender(from: &str) -> String {
    match parse_address_header(from).into_iter().next() {
        Some(a) => a.name.filter(|n| !n.trim().is_empty()).unwrap_or(a.email),
        None => from.trim().to_string(),
    }
}

/// `900 B`, `12 KB`, `1.4 MB`.
pub fn size(bytes: u64) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1024 * 1024 {
        format!("{} KB", bytes.div_ceil(1024))
    } else {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    }
}

fn next_page(token: &Option<String>) -> String {
    token
        .as_ref()
        .map(|t| format!("next pageToken={t}\n"))
        .unwrap_or_default()
}

/// A page of results: each item's text, `No {what} found.` when there is none, then the token
/// of the next page.
fn listing<T>(
    items: &[T],
    what: &str,
    next: &Option<String>,
    item: impl Fn(&T) -> String,
) -> String {
    let mut out: String = items.iter().map(item).collect();
    if items.is_empty() {
        out.push_str(&format!("No {what} found.\n"));
    }
    out.push_str(&next_page(next));
    out
}

/// Flags: U unread, S starred, A attachment (the server instructions say so).
fn flags(labels: &[String], attachment: bool) -> String {
    let mut f = String::new();
    if labels.iter().any(|l| l == "UNREAD") {
        f.push('U');
    }
    if labels.iter().any(|l| l == "STARRED") {
        f.push('S');
    }
    if attachment {
        f.push('A');
    }
    f
}

/// Flags after a subject, bracketed.
fn markers(labels: &[String], attachment: bool) -> String {
    let f = flags(labels, attachment);
    if f.is_empty() {
        f
    } else {
        format!(" [{f}]")
    }
}

/// One line per message: id, date, sender, subject, markers, the thread when it differs.
pub fn search_concise(page: &SearchPage, snippets: bool) -> String {
    listing(&page.messages, "messages", &page.next_page_token, |m| {
        let f = flags(&m.label_ids, m.has_attachment);
        let mut out = format!(
            "{} {}{}{} {}: {}",
            m.id,
            short_date(m.internal_date_ms, &m.date),
            if f.is_empty() { "" } else { " " },
            f,
            sender(&m.from),
            m.subject,
        );
        if m.thread_id != m.id {
            out.push_str(&format!(" thread:{}", m.thread_id));
        }
        out.push('\n');
        if snippets && !m.snippet.is_empty() {
            out.push_str(&format!("  {}\n", m.snippet));
        }
        out
    })
}

/// The peer server's layout plus thread ids, full dates and snippets.
pub fn search_detailed(page: &SearchPage) -> String {
    let mut out = page
        .messages
        .iter()
        .map(|m| {
            format!(
                "ID: {}\nThread ID: {}\nSubject: {}\nFrom: {}\nTo: {}\nDate: {}\nLabels: {}\nSnippet: {}\n",
                m.id,
                m.thread_id,
                m.subject,
                m.from,
                m.to,
                m.date,
                m.label_ids.join(", "),
                m.snippet
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    if page.messages.is_empty() {
        out.push_str("No messages found.\n");
    }
    if let Some(token) = &page.next_page_token {
        out.push_str(&format!("\nMore results: pass pageToken=\"{token}\"\n"));
    }
    out
}

/// Label ids as names (`Label_6` → `Projects/Alpha`).
pub fn label_names(ids: &[String], names: &HashMap<String, String>) -> String {
    ids.iter()
        .map(|id| names.get(id).cloned().unwrap_or_else(|| id.clone()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Addresses with the mailbox's own shown as `me`.
fn people(list: &[AddressInfo], me: Option<&str>) -> String {
    list.iter()
        .map(|a| match me {
            Some(me) if a.email.eq_ignore_ascii_case(me) => "me".to_string(),
            _ => a.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A message's headers in three lines: subject and flags; sender, recipients and date;
/// Message-ID and labels by name. `me` is the mailbox's address. (The thread id is in the
/// structured result and in search lines.)
pub fn headers_concise(
    m: &ReadableMessage,
    names: &HashMap<String, String>,
    me: Option<&str>,
) -> String {
    let mut out = format!("{}{}\n", m.subject, markers(&m.label_ids, false));
    let from = m
        .from
        .as_ref()
        .map(|f| people(std::slice::from_ref(f), me))
        .unwrap_or_default();
    out.push_str(&format!("{from} → {}", people(&m.to, me)));
    if !m.cc.is_empty() {
        out.push_str(&format!(", cc {}", people(&m.cc, me)));
    }
    if let Some(date) = &m.date {
        out.push_str(&format!(", {}", short_header_date(date)));
    }
    out.push('\n');
    if let Some(id) = &m.message_id {
        out.push_str(&format!("Message-ID: {id}"));
    }
    let labels: Vec<String> = m
        .label_ids
        .iter()
        // Primary is where uncategorised mail is: saying so says nothing.
        .filter(|l| !matches!(l.as_str(), "UNREAD" | "STARRED" | "CATEGORY_PERSONAL"))
        .map(|id| short_label(id, names))
        .collect();
    if !labels.is_empty() {
        out.push_str(&format!("; {}", labels.join(", ")));
    }
    out.push('\n');
    out
}

/// A label by name: user labels by theirs, system ones in a word (`CATEGORY_UPDATES` is
/// `Updates`).
fn short_label(id: &str, names: &HashMap<String, String>) -> String {
    if let Some(category) = id.strip_prefix("CATEGORY_") {
        let lower = category.to_ascii_lowercase();
        let mut c = lower.chars();
        return c
            .next()
            .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
            .unwrap_or_default();
    }
    match id {
        "INBOX" => "Inbox".into(),
        "SENT" => "Sent".into(),
        "DRAFT" => "Draft".into(),
        "SPAM" => "Spam".into(),
        "TRASH" => "Trash".into(),
        "IMPORTANT" => "Important".into(),
        _ => names.get(id).cloned().unwrap_or_else(|| id.to_string()),
    }
}

/// The body a model needs: without quoted history (earlier messages of the thread), a
/// signature (after a `-- ` line, or a sign-off such as `Thanks,` / `Lena` that the From line
/// already says), or a mailing list's closing boilerplate (`List-Unsubscribe` has that); also
/// without what the headers already say: an opening line that repeats the subject, a greeting
/// such as `Hi Lena,`. Of a bulk mailing (newsletter, promotion, notification) only the
/// opening paragraph, its gist. Blank lines dropped. `[…]` says something was left out;
/// `responseFormat: detailed` shows the body as sent.
pub fn concise_body(text: &str, subject: &str, bulk: bool) -> String {
    let trimmed = trim_quoted_history(text);
    let mut cut = trimmed.len() < text.trim_end().len();
    let mut lines: Vec<&str> = trimmed.lines().map(str::trim_end).collect();
    if let Some(sig) = lines.iter().rposition(|l| matches!(l.trim(), "--" | "__")) {
        if sig > 0 {
            lines.truncate(sig);
            cut = true;
        }
    }
    let blank = |l: &&str| l.trim().is_empty();
    let opening = |lines: &[&str]| lines.iter().position(|l| !blank(l));
    let more_after = |lines: &[&str], i: usize| lines[i + 1..].iter().any(|l| !blank(l));
    for drop in [
        &(|l: &str| repeats_subject(l, subject)) as &dyn Fn(&str) -> bool,
        &is_greeting,
    ] {
        if let Some(i) = opening(&lines) {
            if more_after(&lines, i) && drop(lines[i]) {
                lines.drain(..=i);
            }
        }
    }
    if bulk {
        if let Some(i) = opening(&lines) {
            if let Some(end) = lines[i..].iter().position(blank).map(|e| e + i) {
                if more_after(&lines, end) {
                    lines.truncate(end);
                    cut = true;
                }
            }
        }
    }
    lines.retain(|l| !blank(l));
    while lines.len() > 1 {
        let last = lines[lines.len() - 1].trim().to_ascii_lowercase();
        let boilerplate = last.starts_with("unsubscribe")
            || last.starts_with("to unsubscribe")
            || last.starts_with("you are receiving this")
            || last.starts_with("you received this")
            || last.starts_with("manage your preferences")
            || last.starts_with("update your preferences");
        if !boilerplate {
            break;
        }
        cut = true;
        lines.pop();
    }
    let signed_off = sign_off_lines(&lines);
    if signed_off > 0 {
        lines.truncate(lines.len() - signed_off);
        cut = true;
    }
    let mut out = lines.join("\n");
    if cut {
        out.push_str(" […]");
    }
    out
}

/// Short words, as in a greeting or a signed name.
fn words(line: &str) -> usize {
    line.split_whitespace().count()
}

/// `Hi Lena,`, `Dear team,`, `Hello!`, `Lena,`: a first line that only addresses the reader.
fn is_greeting(line: &str) -> bool {
    let l = line.trim();
    let Some(head) = l.strip_suffix(',').or_else(|| l.strip_suffix('!')) else {
        return false;
    };
    let lower = head.to_lowercase();
    let greeting = [
        "hi",
        "hey",
        "hello",
        "dear",
        "good morning",
        "good afternoon",
        "good evening",
    ]
    .iter()
    .any(|g| lower == *g || lower.starts_with(&format!("{g} ")));
    let name = l.ends_with(',')
        && words(head) == 1
        && head.chars().all(char::is_alphabetic)
        && !is_valediction(l);
    (greeting && words(head) <= 4) || name
}

/// `Thanks,`, `Best regards,`: the line before a signed name.
fn is_valediction(line: &str) -> bool {
    let l = line.trim();
    let lower = l.to_lowercase();
    l.ends_with(',')
        && words(l) <= 3
        && [
            "thanks",
            "thank you",
            "many thanks",
            "cheers",
            "best",
            "regards",
            "kind regards",
            "best regards",
            "warm regards",
            "all the best",
            "sincerely",
            "talk soon",
            "love",
            "cordialement",
            "saludos",
            "grüße",
            "viele grüße",
        ]
        .iter()
        .any(|v| lower.trim_end_matches(',') == *v || lower.starts_with(&format!("{v} ")))
}

/// A first line that the subject already says (`Rust Weekly #611` under
/// `Rust Weekly #611: Designing builder APIs`).
fn repeats_subject(line: &str, subject: &str) -> bool {
    let l = line.trim().trim_end_matches(['.', ':', '!']).to_lowercase();
    l.len() >= 8 && subject.to_lowercase().contains(&l)
}

/// How many closing lines are a sign-off: `— Lena`, or a valediction (`Thanks,`, `Best
/// regards,`) and the name under it.
fn sign_off_lines(lines: &[&str]) -> usize {
    let n = lines.len();
    if n < 2 {
        return 0;
    }
    let last = lines[n - 1].trim();
    let is_name = |l: &str| {
        words(l) <= 3
            && l.chars().next().is_some_and(char::is_alphabetic)
            && l.chars()
                .all(|c| c.is_alphabetic() || c == ' ' || c == '.' || c == '-')
    };
    if let Some(name) = last.strip_prefix('—').or_else(|| last.strip_prefix("- ")) {
        return usize::from(is_name(name.trim()));
    }
    if n >= 3 && is_name(last) && is_valediction(lines[n - 2]) {
        return 2;
    }
    0
}

/// Every header as read, with Gmail's ids.
pub fn headers_detailed(m: &ReadableMessage, names: &HashMap<String, String>) -> String {
    let mut out = format!("ID: {}\nThread ID: {}\n", m.id, m.thread_id);
    if let Some(id) = &m.message_id {
        out.push_str(&format!("Message-ID: {id}\n"));
    }
    out.push_str(&format!("Subject: {}\n", m.subject));
    if let Some(from) = &m.from {
        out.push_str(&format!("From: {from}\n"));
    }
    out.push_str(&format!("To: {}\n", format_address_list(&m.to)));
    if !m.cc.is_empty() {
        out.push_str(&format!("Cc: {}\n", format_address_list(&m.cc)));
    }
    if !m.reply_to.is_empty() {
        out.push_str(&format!("Reply-To: {}\n", format_address_list(&m.reply_to)));
    }
    if let Some(date) = &m.date {
        out.push_str(&format!("Date: {date}\n"));
    }
    if let Some(irt) = &m.in_reply_to {
        out.push_str(&format!("In-Reply-To: {irt}\n"));
    }
    if !m.references.is_empty() {
        out.push_str(&format!("References: {}\n", m.references.join(" ")));
    }
    if !m.label_ids.is_empty() {
        out.push_str(&format!(
            "Labels: {} ({})\n",
            label_names(&m.label_ids, names),
            m.label_ids.join(", ")
        ));
    }
    out
}

/// Attachments with the short handle download_attachment takes (their part id) and, in
/// detail, Gmail's own attachment id.
pub fn attachments(m: &ReadableMessage, format: ResponseFormat) -> String {
    if m.attachments.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nAttachments:\n");
    for a in &m.attachments {
        let handle = a.part_id.as_deref().unwrap_or("-");
        let name = if a.filename.is_empty() {
            "(no name)"
        } else {
            &a.filename
        };
        out.push_str(&format!(
            "- {name} ({}, {}) attachmentId: {handle}",
            a.mime_type,
            size(a.size)
        ));
        if format == ResponseFormat::Detailed {
            if let Some(id) = &a.attachment_id {
                out.push_str(&format!(" (Gmail id {id})"));
            }
        }
        out.push('\n');
    }
    out
}

/// One line per conversation.
pub fn threads(page: &ThreadPage, format: ResponseFormat) -> String {
    listing(&page.threads, "threads", &page.next_page_token, |t| {
        match format {
        ResponseFormat::Concise => format!(
            "{} {} ({} messages, {}){}\n",
            t.id,
            t.subject,
            t.message_count,
            t.participants
                .iter()
                .map(|p| sender(p))
                .collect::<Vec<_>>()
                .join(", "),
            markers(&t.label_ids, false)
        ),
        ResponseFormat::Detailed => format!(
            "Thread ID: {}\nSubject: {}\nMessages: {}\nParticipants: {}\nLast: {}\nLabels: {}\nSnippet: {}\n\n",
            t.id,
            t.subject,
            t.message_count,
            t.participants.join("; "),
            t.last_date,
            t.label_ids.join(", "),
            t.snippet
        ),
    }
    })
}

/// One line per draft (concise) or the draft's summary block.
pub fn drafts(page: &DraftPage, format: ResponseFormat) -> String {
    listing(
        &page.drafts,
        "drafts",
        &page.next_page_token,
        |d| match format {
            ResponseFormat::Concise => format!(
                "{} to {}: {}\n",
                d.id,
                if d.to.is_empty() {
                    "(nobody yet)"
                } else {
                    &d.to
                },
                d.subject
            ),
            ResponseFormat::Detailed => format!(
                "Draft ID: {}\nMessage ID: {}\nThread ID: {}\nTo: {}\nSubject: {}\nSnippet: {}\n\n",
                d.id, d.message_id, d.thread_id, d.to, d.subject, d.snippet
            ),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_senders_and_sizes_are_short() {
        assert_eq!(
            header_date("Thu, 19 Nov 2026 13:30:38 +0000"),
            "2026-11-19 13:30 +0000"
        );
        assert_eq!(header_date("garbage"), "garbage");
        assert_eq!(sender("\"Rust Weekly\" <news@rw.example>"), "Rust Weekly");
        assert_eq!(sender("bob@example.com"), "bob@example.com");
        assert_eq!(size(900), "900 B");
        assert_eq!(size(12_000), "12 KB");
        assert_eq!(size(5_600_000), "5.3 MB");
        assert_eq!(short_date(Some(1_600_000_000_000), "x"), "Sep 13 2020");
    }

    #[test]
    fn concise_bodies_leave_out_quotes_and_signatures_and_say_so() {
        let body = "Perfect!\n\n\n\nSee you.\n\nOn Tue, Nov 17, 2026 at 9:42 PM, Demo <d@x.example> wrote:\n> earlier\n> text\n";
        assert_eq!(concise_body(body, "s", false), "Perfect!\nSee you. […]");
        let list = "News.\n\nYou are receiving this because you subscribed.\nUnsubscribe: https://x.example/u\n";
        assert_eq!(concise_body(list, "s", false), "News. […]");
        let sig = "Released.\n\n--\nReply on CodeHub: https://x.example\n";
        assert_eq!(concise_body(sig, "s", false), "Released. […]");
        assert_eq!(concise_body("Just this.\n", "s", false), "Just this.");
    }

    #[test]
    fn concise_bodies_leave_out_what_the_headers_say() {
        let mail = "Hey Demo,\n\nThe deploy is done.\nRollback plan attached.\n\nThanks,\nLena\n";
        assert_eq!(
            concise_body(mail, "Deploy", false),
            "The deploy is done.\nRollback plan attached. […]"
        );
        assert_eq!(concise_body("Lena,\nOK.\n— Kenji\n", "x", false), "OK. […]");
        assert_eq!(concise_body("Hello!\nOK.\n", "x", false), "OK.");
        let news = "Rust Weekly #611\nThis week: builders.\n";
        assert_eq!(
            concise_body(news, "Rust Weekly #611: builders", false),
            "This week: builders."
        );
        // What is not a greeting or a sign-off stays.
        let kept = "Perfect, see you then!\nThanks, that helps a lot,\nand more\n";
        assert_eq!(concise_body(kept, "x", false), kept.trim_end());
        assert_eq!(concise_body("Thanks,\nLena\n", "x", false), "Thanks,\nLena");
    }

    #[test]
    fn a_bulk_mailing_is_its_opening_paragraph() {
        let news = "Weekly #1\n\nThis week: builders\nand more.\n\n- one (https://x.example/1)\n";
        assert_eq!(
            concise_body(news, "Weekly #1", true),
            "This week: builders\nand more. […]"
        );
        assert_eq!(
            concise_body(news, "Weekly #1", false),
            "This week: builders\nand more.\n- one (https://x.example/1)"
        );
        assert_eq!(concise_body("Only this.\n", "x", true), "Only this.");
    }
}
