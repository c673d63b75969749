//! Paging long text for agents whose clients cap a tool result: a window of characters (not
//! bytes, so a UTF-8 character is never split) with the arithmetic to ask for the next one.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A slice of a longer text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    pub text: String,
    /// Character offset of `text` in the whole (clamped to the end).
    pub offset: usize,
    pub returned_chars: usize,
    pub total_chars: usize,
    /// Where the next window starts, when more text follows.
    pub next_offset: Option<usize>,
    /// True when `text` is not the whole text.
    pub truncated: bool,
}

/// The characters `offset..offset + max_len` of `text`. `max_len == 0` means no limit.
pub fn window(text: &str, offset: usize, max_len: usize) -> Window {
    let total_chars = text.chars().count();
    let offset = offset.min(total_chars);
    let end = if max_len == 0 {
        total_chars
    } else {
        offset.saturating_add(max_len).min(total_chars)
    };
    let byte_at = |chars: usize| {
        text.char_indices()
            .nth(chars)
            .map_or(text.len(), |(b, _)| b)
    };
    let (start_b, end_b) = (byte_at(offset), byte_at(end));
    Window {
        text: text[start_b..end_b].to_string(),
        offset,
        returned_chars: end - offset,
        total_chars,
        next_offset: (end < total_chars).then_some(end),
        truncated: offset > 0 || end < total_chars,
    }
}

impl Window {
    /// Tells the agent what it is seeing and how to continue; `None` for the whole text.
    pub fn note(&self) -> Option<String> {
        if !self.truncated {
            return None;
        }
        let end = self.offset + self.returned_chars;
        Some(match self.next_offset {
            Some(next) => format!(
                "… [truncated: showing chars {}–{end} of {}; call again with offset={next}]",
                self.offset, self.total_chars
            ),
            None => format!(
                "[showing chars {}–{end} of {}; this is the end of the text]",
                self.offset, self.total_chars
            ),
        })
    }

    /// The text followed by the note, when there is one.
    pub fn text_with_note(&self) -> String {
        match self.note() {
            Some(note) => format!("{}\n\n{note}", self.text),
            None => self.text.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_text_fits() {
        let w = window("héllo", 0, 10);
        assert_eq!(w.text, "héllo");
        assert_eq!(
            (w.returned_chars, w.total_chars, w.next_offset, w.truncated),
            (5, 5, None, false)
        );
        assert_eq!(w.note(), None);
        assert_eq!(w.text_with_note(), "héllo");
        assert_eq!(window("abc", 0, 0).text, "abc");
    }

    #[test]
    fn multibyte_chars_are_counted_not_split() {
        let text = "日本語のテキスト😀é-end"; // 14 chars, many multi-byte
        assert_eq!(text.chars().count(), 14);
        let w = window(text, 0, 4);
        assert_eq!(w.text, "日本語の");
        assert_eq!(
            (w.offset, w.returned_chars, w.total_chars, w.next_offset),
            (0, 4, 14, Some(4))
        );
        assert!(w.truncated);
        let w2 = window(text, 4, 5);
        assert_eq!(w2.text, "テキスト😀");
        assert_eq!(w2.next_offset, Some(9));
        let w3 = window(text, 9, 100);
        assert_eq!(w3.text, "é-end");
        assert_eq!(
            (w3.returned_chars, w3.next_offset, w3.truncated),
            (5, None, true)
        );
        assert_eq!(format!("{}{}{}", w.text, w2.text, w3.text), text);
        assert_eq!(
            w3.note().unwrap(),
            "[showing chars 9–14 of 14; this is the end of the text]"
        );
    }

    #[test]
    fn note_tells_how_to_continue() {
        let text = "x".repeat(15000);
        let w = window(&text, 0, 2000);
        assert_eq!(
            w.note().unwrap(),
            "… [truncated: showing chars 0–2000 of 15000; call again with offset=2000]"
        );
        assert!(w.text_with_note().ends_with("offset=2000]"));
        let json = serde_json::to_value(&w).unwrap();
        assert_eq!(json["nextOffset"], 2000);
        assert_eq!(json["returnedChars"], 2000);
    }

    #[test]
    fn offset_past_the_end_is_clamped() {
        let w = window("abc", 10, 5);
        assert_eq!(
            (w.text.as_str(), w.offset, w.returned_chars, w.next_offset),
            ("", 3, 0, None)
        );
    }
}
