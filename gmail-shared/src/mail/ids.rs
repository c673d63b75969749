//! Message-ID handling. Ids are kept in their bracketed form (`<id@host>`) everywhere outside the
//! builder, since that is what In-Reply-To/References must carry (a bare or Gmail id breaks
//! threading in other clients).

use crate::error::GmailError;

use super::address::LINE_BREAK;

/// Normalises one Message-ID given with or without angle brackets to `<id>`.
pub fn normalize_message_id(field: &str, input: &str) -> Result<String, GmailError> {
    if input.contains(['\r', '\n']) {
        return Err(GmailError::invalid(
            field,
            format!("{input:?} {LINE_BREAK}"),
        ));
    }
    let inner = strip_brackets(input);
    if inner.is_empty() {
        return Err(GmailError::invalid(field, "the Message-ID is empty"));
    }
    if inner
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
    {
        return Err(GmailError::invalid(
            field,
            format!("{input:?} is not a Message-ID (expected one id like <abc@example.com>, without spaces)"),
        ));
    }
    Ok(format!("<{inner}>"))
}

/// `<id>` → `id` (what mail-builder wants; it adds the brackets itself).
pub fn strip_brackets(id: &str) -> &str {
    let t = id.trim();
    let t = t.strip_prefix('<').unwrap_or(t);
    t.strip_suffix('>').unwrap_or(t).trim()
}

/// Extracts every id from a References/In-Reply-To header value, bracketed. Tolerates ids without
/// brackets separated by whitespace or commas, and drops comments between ids.
pub fn parse_message_ids(value: &str) -> Vec<String> {
    let mut ids = Vec::new();
    if value.contains('<') {
        let mut rest = value;
        while let Some(open) = rest.find('<') {
            let after = &rest[open + 1..];
            let Some(close) = after.find('>') else { break };
            let id: String = after[..close].split_whitespace().collect();
            // An id a message of ours could not carry (`<<x@y>`, a stray `<`) is left out:
            // replying must not fail on the original's malformed header.
            ids.extend(normalize_message_id("references", &format!("<{id}>")).ok());
            rest = &after[close + 1..];
        }
    } else {
        ids.extend(
            value
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter_map(|s| normalize_message_id("references", &format!("<{s}>")).ok()),
        );
    }
    ids
}

/// Appends ids not already present (compared exactly, as Message-IDs are case-sensitive).
pub(crate) fn push_unique(list: &mut Vec<String>, id: String) {
    if !list.contains(&id) {
        list.push(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_with_or_without_brackets() {
        assert_eq!(
            normalize_message_id("inReplyTo", "abc@x.com").unwrap(),
            "<abc@x.com>"
        );
        assert_eq!(
            normalize_message_id("inReplyTo", " <abc@x.com> ").unwrap(),
            "<abc@x.com>"
        );
        assert!(normalize_message_id("inReplyTo", "<>").is_err());
        assert!(normalize_message_id("inReplyTo", "a b@x").is_err());
        let e = normalize_message_id("references", "<a@x>\r\nBcc: y@z.com").unwrap_err();
        assert!(e.to_string().contains("header injection"), "{e}");
    }

    #[test]
    fn parses_reference_lists() {
        assert_eq!(
            parse_message_ids("<a@x> <b@y>\r\n\t<c@z>"),
            vec!["<a@x>", "<b@y>", "<c@z>"]
        );
        assert_eq!(parse_message_ids("a@x, b@y"), vec!["<a@x>", "<b@y>"]);
        assert_eq!(
            parse_message_ids("<a@x> (comment) <b@y>"),
            vec!["<a@x>", "<b@y>"]
        );
        assert!(parse_message_ids("  ").is_empty());
    }
}
