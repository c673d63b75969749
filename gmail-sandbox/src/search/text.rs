//! Words: how text splits into search tokens, shared by the parser and the index.

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

pub(crate) fn strip_angles(s: &str) -> &str {
    let s = s.trim();
    let s = s.strip_prefix('<').unwrap_or(s);
    s.strip_suffix('>').unwrap_or(s)
}

/// `YYYY/MM/DD`, `YYYY-MM-DD`, `MM/DD/YYYY` (midnight America/Los_Angeles) or epoch
/// seconds. Anything else (e.g. a date with a time) is `None`.
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
}
