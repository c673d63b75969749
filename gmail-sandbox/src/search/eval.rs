//! Matching a parsed query against a [`SearchDoc`].

use chrono::{DateTime, Months};

use super::ast::{AddrField, AddrValue, Node, RelUnit};
use super::doc::{DocIndex, SearchDoc};
use super::text::{contains_at_boundary, strip_angles};

/// What a query needs from the mailbox around it.
pub struct SearchContext<'a> {
    /// Milliseconds since the epoch, for `newer_than:` / `older_than:`.
    pub now_ms: i64,
    /// The mailbox owner's address, for `from:me` / `to:me`.
    pub user_email: &'a str,
    /// Every label of the mailbox as `(id, name)`, for `label:` by name.
    pub labels: &'a [(String, String)],
}

/// System label ids (anything else on a message is a user label).
fn is_system_label(id: &str) -> bool {
    matches!(
        id,
        "INBOX"
            | "SPAM"
            | "TRASH"
            | "UNREAD"
            | "STARRED"
            | "IMPORTANT"
            | "SENT"
            | "DRAFT"
            | "CHAT"
            | "SNOOZED"
            | "MUTED"
    ) || id.starts_with("CATEGORY_")
}

/// `name` (a label's display name) equals `norm` (a normalised query value) once
/// lowercased with spaces and `/` written as `-`.
fn label_name_matches(name: &str, norm: &str) -> bool {
    let name = name.trim();
    if name.is_ascii() {
        let map = |b: u8| match b {
            b' ' | b'/' => b'-',
            _ => b.to_ascii_lowercase(),
        };
        return name.len() == norm.len()
            && name.bytes().zip(norm.bytes()).all(|(a, b)| map(a) == b);
    }
    let mut a =
        name.chars()
            .flat_map(char::to_lowercase)
            .map(|c| if c == ' ' || c == '/' { '-' } else { c });
    let mut b = norm.chars();
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x == y => {}
            _ => return false,
        }
    }
}

/// What matching shares across the tree (and, for a [`super::Matcher`], across docs).
pub(crate) struct Env<'a> {
    pub labels: &'a [(String, String)],
    pub now_ms: i64,
    /// The user's address, lowercased.
    pub me: String,
    /// `label:`/`in:` values resolved to label ids once, when known.
    pub resolved: Option<Vec<(String, Vec<String>)>>,
}

impl<'a> Env<'a> {
    pub(crate) fn new(root: &Node, ctx: &SearchContext<'a>, uses_me: bool, resolve: bool) -> Self {
        let resolved = resolve.then(|| {
            let mut out: Vec<(String, Vec<String>)> = Vec::new();
            collect_labels(root, &mut |norm| {
                if out.iter().any(|(n, _)| n == norm) {
                    return;
                }
                let ids = ctx
                    .labels
                    .iter()
                    .filter(|(id, name)| {
                        label_name_matches(name, norm) || id.eq_ignore_ascii_case(norm)
                    })
                    .map(|(id, _)| id.clone())
                    .collect();
                out.push((norm.to_string(), ids));
            });
            out
        });
        Env {
            labels: ctx.labels,
            now_ms: ctx.now_ms,
            me: if uses_me {
                ctx.user_email.trim().to_lowercase()
            } else {
                String::new()
            },
            resolved,
        }
    }
}

fn collect_labels(node: &Node, f: &mut impl FnMut(&str)) {
    match node {
        Node::Label(norm) => f(norm),
        Node::And(items) | Node::Or(items) => items.iter().for_each(|n| collect_labels(n, f)),
        Node::Not(inner) => collect_labels(inner, f),
        _ => {}
    }
}

pub(crate) fn eval(node: &Node, doc: &SearchDoc, idx: &DocIndex, env: &Env<'_>) -> bool {
    match node {
        Node::All | Node::Anywhere => true,
        Node::Nothing => false,
        Node::And(items) => items.iter().all(|n| eval(n, doc, idx, env)),
        Node::Or(items) => items.iter().any(|n| eval(n, doc, idx, env)),
        Node::Not(inner) => !eval(inner, doc, idx, env),
        Node::Text(toks) => idx.phrase_exists(toks),
        Node::Around(a, d, b) => {
            let pa = idx.phrase_starts(a);
            if pa.is_empty() {
                return false;
            }
            let pb = idx.phrase_starts(b);
            let (la, lb) = (a.len() as i64, b.len() as i64);
            pa.iter().any(|&x| {
                pb.iter().any(|&y| {
                    let (x, y) = (i64::from(x), i64::from(y));
                    let gap = if x <= y { y - (x + la) } else { x - (y + lb) };
                    gap <= i64::from(*d)
                })
            })
        }
        Node::Addr(field, value) => {
            let needle: &str = match value {
                AddrValue::Me => &env.me,
                AddrValue::Text(t) => t,
            };
            match field {
                AddrField::From => contains_at_boundary(&doc.from, needle),
                AddrField::To => {
                    contains_at_boundary(&doc.to, needle)
                        || contains_at_boundary(&doc.cc, needle)
                        || contains_at_boundary(&doc.bcc, needle)
                }
                AddrField::Cc => contains_at_boundary(&doc.cc, needle),
                AddrField::Bcc => contains_at_boundary(&doc.bcc, needle),
            }
        }
        Node::Subject(toks) => idx.subject_has(toks),
        Node::SysLabel(id) => doc.label_ids.iter().any(|l| l == id),
        Node::Label(norm) => {
            if doc.label_ids.iter().any(|l| l.eq_ignore_ascii_case(norm)) {
                return true;
            }
            if let Some(resolved) = &env.resolved {
                if let Some((_, ids)) = resolved.iter().find(|(n, _)| n == norm) {
                    return ids.iter().any(|id| doc.label_ids.contains(id));
                }
            }
            env.labels.iter().any(|(id, name)| {
                doc.label_ids.iter().any(|l| l == id) && label_name_matches(name, norm)
            })
        }
        Node::UserLabels(want) => doc.label_ids.iter().any(|l| !is_system_label(l)) == *want,
        Node::Attachment => !doc.attachment_filenames.is_empty(),
        Node::Filename(v) => idx.has_filename(v),
        Node::After(ms) => doc.internal_date_ms >= *ms,
        Node::Before(ms) => doc.internal_date_ms < *ms,
        Node::OlderThan(n, unit) => match threshold(env.now_ms, *n, *unit) {
            Some(t) => doc.internal_date_ms < t,
            None => false,
        },
        Node::NewerThan(n, unit) => match threshold(env.now_ms, *n, *unit) {
            Some(t) => doc.internal_date_ms >= t,
            None => true,
        },
        Node::Larger(b) => doc.size_bytes >= *b,
        Node::Smaller(b) => doc.size_bytes < *b,
        Node::List(alts) => alts.iter().any(|v| contains_at_boundary(&doc.list_id, v)),
        Node::DeliveredTo(v) => contains_at_boundary(&doc.delivered_to, v),
        Node::MsgId(v) => strip_angles(&doc.message_id) == v,
    }
}

/// `now` minus `n` units, in epoch milliseconds (months and years are calendar months).
pub(crate) fn threshold(now_ms: i64, n: u32, unit: RelUnit) -> Option<i64> {
    const DAY: i64 = 86_400_000;
    match unit {
        RelUnit::Day => now_ms.checked_sub(i64::from(n) * DAY),
        RelUnit::Week => now_ms.checked_sub(i64::from(n) * 7 * DAY),
        RelUnit::Month | RelUnit::Year => {
            let months = if unit == RelUnit::Year {
                n.checked_mul(12)?
            } else {
                n
            };
            let now = DateTime::from_timestamp_millis(now_ms)?;
            Some(
                now.checked_sub_months(Months::new(months))?
                    .timestamp_millis(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_name_normalisation() {
        assert!(label_name_matches("Projects/Alpha", "projects-alpha"));
        assert!(label_name_matches("My Label", "my-label"));
        assert!(label_name_matches("Work", "work"));
        assert!(!label_name_matches("Work", "wor"));
        assert!(!label_name_matches("Workshop", "work"));
    }

    #[test]
    fn thresholds() {
        let now = 1_780_000_000_000;
        assert_eq!(threshold(now, 2, RelUnit::Day), Some(now - 2 * 86_400_000));
        assert_eq!(threshold(now, 1, RelUnit::Week), Some(now - 7 * 86_400_000));
        let y = threshold(now, 1, RelUnit::Year).unwrap();
        let m12 = threshold(now, 12, RelUnit::Month).unwrap();
        assert_eq!(y, m12);
        assert!(now - y >= 365 * 86_400_000);
    }
}
