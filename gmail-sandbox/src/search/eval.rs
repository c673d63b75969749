//! Matching a parsed query against a [`SearchDoc`].

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Months};

use super::parser::{AddrField, AddrValue, Node, RelUnit};
use super::{SearchContext, SearchDoc};

/// Han ideographs and kana are written without spaces: each one is its own token, so a
/// query `東京` matches as the two-token phrase `東 京`.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // hiragana, katakana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xF900..=0xFAFF    // compatibility ideographs
        | 0x20000..=0x2FFFF) // extensions B…
}

/// Splits (already lowercased) text into word tokens: runs of alphanumeric characters, each
/// CJK character on its own. Everything else separates tokens.
pub(crate) fn tokenize<'a>(s: &'a str, mut f: impl FnMut(&'a str)) {
    let mut start: Option<usize> = None;
    for (i, c) in s.char_indices() {
        if c.is_alphanumeric() && !is_cjk(c) {
            if start.is_none() {
                start = Some(i);
            }
            continue;
        }
        if let Some(st) = start.take() {
            f(&s[st..i]);
        }
        if is_cjk(c) {
            f(&s[i..i + c.len_utf8()]);
        }
    }
    if let Some(st) = start {
        f(&s[st..]);
    }
}

/// True when `needle` occurs in `hay` starting at a word boundary (so `from:amy` matches
/// "Amy Lee" and "amy.lee@x.org" but not "Jeramy"). Both sides lowercase.
pub(crate) fn contains_at_boundary(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    let needle_starts_word = needle.chars().next().is_some_and(char::is_alphanumeric);
    hay.match_indices(needle).any(|(i, _)| {
        !needle_starts_word
            || hay[..i]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric())
    })
}

/// A 64-bit hash of a word (FNV-1a with a final avalanche); the index stores hashes, not
/// strings, so a lookup is a binary search in one small array. Collisions between real
/// words are astronomically unlikely at 64 bits.
pub(crate) fn word_hash(w: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in w.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h
}

/// Per-message precomputed data for fast matching, built by [`SearchDoc::new`].
#[derive(Clone, Default)]
pub struct DocIndex {
    built: bool,
    /// `(word hash, start in positions, count)`, sorted by hash: the full text (subject,
    /// from, to, cc, body, attachment names; a gap between fields keeps phrases from
    /// spanning two of them).
    words: Vec<(u64, u32, u32)>,
    /// Word positions, grouped per entry of `words`, ascending within a group.
    positions: Vec<u32>,
    /// The subject's word hashes, in order.
    subject: Vec<u64>,
    /// Attachment names, lowercased.
    filenames: Vec<String>,
}

impl fmt::Debug for DocIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DocIndex")
            .field("built", &self.built)
            .field("distinct_words", &self.words.len())
            .field("words", &self.positions.len())
            .finish()
    }
}

impl DocIndex {
    /// Builds the index from a doc's fields (lowercased by [`SearchDoc::new`]; lowercased
    /// here again only when they are not).
    pub(crate) fn build(doc: &SearchDoc) -> DocIndex {
        fn lc(s: &str) -> Cow<'_, str> {
            if s.chars().any(char::is_uppercase) {
                Cow::Owned(s.to_lowercase())
            } else {
                Cow::Borrowed(s)
            }
        }
        let filenames: Vec<String> = doc
            .attachment_filenames
            .iter()
            .map(|f| f.to_lowercase())
            .collect();
        let mut pairs: Vec<(u64, u32)> = Vec::new();
        let mut pos: u32 = 0;
        {
            let mut add_field = |text: &str| {
                tokenize(text, |t| {
                    pairs.push((word_hash(t), pos));
                    pos = pos.saturating_add(1);
                });
                pos = pos.saturating_add(2);
            };
            add_field(&lc(&doc.subject));
            add_field(&lc(&doc.from));
            add_field(&lc(&doc.to));
            add_field(&lc(&doc.cc));
            add_field(&lc(&doc.body));
            for f in &filenames {
                add_field(f);
            }
        }
        pairs.sort_unstable();
        let mut words: Vec<(u64, u32, u32)> = Vec::new();
        let mut positions: Vec<u32> = Vec::with_capacity(pairs.len());
        for (h, p) in pairs {
            match words.last_mut() {
                Some(last) if last.0 == h => last.2 += 1,
                _ => words.push((h, positions.len() as u32, 1)),
            }
            positions.push(p);
        }
        let mut subject = Vec::new();
        tokenize(&lc(&doc.subject), |t| subject.push(word_hash(t)));
        DocIndex {
            built: true,
            words,
            positions,
            subject,
            filenames,
        }
    }

    pub(crate) fn is_built(&self) -> bool {
        self.built
    }

    fn lookup(&self, h: u64) -> Option<&[u32]> {
        let i = self.words.binary_search_by_key(&h, |w| w.0).ok()?;
        let (_, start, count) = self.words[i];
        self.positions.get(start as usize..(start + count) as usize)
    }

    fn phrase_exists(&self, toks: &[String]) -> bool {
        let Some(first) = toks.first().and_then(|t| self.lookup(word_hash(t))) else {
            return false;
        };
        if toks.len() == 1 {
            return true;
        }
        let rest: Option<Vec<&[u32]>> = toks[1..]
            .iter()
            .map(|t| self.lookup(word_hash(t)))
            .collect();
        let Some(rest) = rest else {
            return false;
        };
        first.iter().any(|&p| {
            rest.iter()
                .enumerate()
                .all(|(i, v)| v.binary_search(&(p + 1 + i as u32)).is_ok())
        })
    }

    fn phrase_starts(&self, toks: &[String]) -> Vec<u32> {
        let Some(first) = toks.first().and_then(|t| self.lookup(word_hash(t))) else {
            return Vec::new();
        };
        let rest: Option<Vec<&[u32]>> = toks[1..]
            .iter()
            .map(|t| self.lookup(word_hash(t)))
            .collect();
        let Some(rest) = rest else {
            return Vec::new();
        };
        first
            .iter()
            .copied()
            .filter(|&p| {
                rest.iter()
                    .enumerate()
                    .all(|(i, v)| v.binary_search(&(p + 1 + i as u32)).is_ok())
            })
            .collect()
    }

    fn subject_has(&self, toks: &[String]) -> bool {
        if toks.is_empty() || toks.len() > self.subject.len() {
            return false;
        }
        let hs: Vec<u64> = toks.iter().map(|t| word_hash(t)).collect();
        self.subject.windows(hs.len()).any(|w| w == hs.as_slice())
    }
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
        Node::Filename(v) => idx.filenames.iter().any(|f| contains_at_boundary(f, v)),
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
        Node::MsgId(v) => super::parser::strip_angles(&doc.message_id) == v,
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

    fn toks(s: &str) -> Vec<String> {
        let mut v = Vec::new();
        tokenize(s, |t| v.push(t.to_string()));
        v
    }

    #[test]
    fn tokenizer_splits_words_and_cjk() {
        assert_eq!(toks("hello, world!"), vec!["hello", "world"]);
        assert_eq!(toks("don't"), vec!["don", "t"]);
        assert_eq!(toks("a@b.com"), vec!["a", "b", "com"]);
        assert_eq!(toks("東京へ行く"), vec!["東", "京", "へ", "行", "く"]);
        assert_eq!(toks("привет мир"), vec!["привет", "мир"]);
        assert_eq!(toks("  "), Vec::<String>::new());
    }

    #[test]
    fn boundary_substring() {
        assert!(contains_at_boundary("amy lee <amy.lee@x.org>", "amy"));
        assert!(contains_at_boundary("jeramy <j@x.org>", "j@x.org"));
        assert!(!contains_at_boundary("jeramy <j@x.org>", "amy"));
        assert!(contains_at_boundary("a <b@example.org>", "@example.org"));
        assert!(contains_at_boundary("report.pdf", "pdf"));
        assert!(!contains_at_boundary("report.pdf", "port"));
        assert!(!contains_at_boundary("x", ""));
    }

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
