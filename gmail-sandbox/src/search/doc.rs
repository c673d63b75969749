//! A stored message as search sees it, and its word index (built once, when stored).

use std::borrow::Cow;
use std::fmt;

use super::text::{contains_at_boundary, tokenize, word_hash};

/// Everything the matcher may look at for one message, normalised once when the message is
/// stored (so a search does no parsing per message): its parts, lower-cased, and their word
/// index. The parts are read through `Deref` (`doc.from`).
#[derive(Debug, Clone, Default)]
pub struct SearchDoc {
    /// Header values and text lower-cased by [`SearchDoc::new`].
    pub parts: DocParts,
    /// Word index built by [`SearchDoc::new`]. A doc built any other way (e.g.
    /// `..Default::default()`) still matches correctly, just more slowly.
    pub index: DocIndex,
}

/// The raw material for a [`SearchDoc`]: decoded header values (display names included),
/// the message's readable text, and its facts.
#[derive(Debug, Clone, Default)]
pub struct DocParts {
    pub from: String,
    pub to: String,
    pub cc: String,
    pub bcc: String,
    pub subject: String,
    pub body_text: String,
    pub list_id: String,
    pub delivered_to: String,
    pub message_id: String,
    pub label_ids: Vec<String>,
    pub attachment_filenames: Vec<String>,
    pub size_bytes: u64,
    pub internal_date_ms: i64,
}

impl std::ops::Deref for SearchDoc {
    type Target = DocParts;
    fn deref(&self) -> &DocParts {
        &self.parts
    }
}

impl SearchDoc {
    pub fn new(parts: DocParts) -> Self {
        let lower = |s: String| s.to_lowercase();
        let parts = DocParts {
            from: lower(parts.from),
            to: lower(parts.to),
            cc: lower(parts.cc),
            bcc: lower(parts.bcc),
            subject: lower(parts.subject),
            body_text: lower(parts.body_text),
            list_id: lower(parts.list_id),
            delivered_to: lower(parts.delivered_to),
            message_id: lower(parts.message_id),
            ..parts
        };
        let index = DocIndex::build(&parts);
        SearchDoc { parts, index }
    }

    /// Labels change after storage (modify, trash): the mailbox keeps this in step.
    pub fn set_labels(&mut self, label_ids: Vec<String>) {
        self.parts.label_ids = label_ids;
    }
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
    /// Builds the index from a doc's parts (lowercased by [`SearchDoc::new`]; lowercased
    /// here again only when they are not).
    pub(crate) fn build(doc: &DocParts) -> DocIndex {
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
            add_field(&lc(&doc.body_text));
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

    pub(crate) fn lookup(&self, h: u64) -> Option<&[u32]> {
        let i = self.words.binary_search_by_key(&h, |w| w.0).ok()?;
        let (_, start, count) = self.words[i];
        self.positions.get(start as usize..(start + count) as usize)
    }

    pub(crate) fn phrase_exists(&self, toks: &[String]) -> bool {
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

    pub(crate) fn phrase_starts(&self, toks: &[String]) -> Vec<u32> {
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

    /// An attachment name contains `v` at a word boundary.
    pub(crate) fn has_filename(&self, v: &str) -> bool {
        self.filenames.iter().any(|f| contains_at_boundary(f, v))
    }

    pub(crate) fn subject_has(&self, toks: &[String]) -> bool {
        if toks.is_empty() || toks.len() > self.subject.len() {
            return false;
        }
        let hs: Vec<u64> = toks.iter().map(|t| word_hash(t)).collect();
        self.subject.windows(hs.len()).any(|w| w == hs.as_slice())
    }
}
