//! Email addresses and recipients, validated once at the edge (parse, don't validate) so the
//! rest of the code can hold an [`EmailAddress`] knowing it is safe to put in a header.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::GmailError;

/// RFC 5321 limits: the whole path is at most 254 octets, the local part 64, a label 63.
const MAX_ADDRESS_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;
const MAX_LABEL_LEN: usize = 63;
/// Display names have no RFC limit; this keeps a runaway value from filling a header.
const MAX_NAME_LEN: usize = 256;

pub(crate) const LINE_BREAK: &str = "contains a line break (header injection)";

/// A syntactically valid addr-spec (`local@domain`). Only [`EmailAddress::parse`] builds one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String", into = "String")]
#[schemars(with = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Validates `input` (surrounding whitespace ignored). `field` names the request field in the
    /// error (`to`, `cc`, `bcc`, `from`, `replyTo`).
    pub fn parse(field: &str, input: &str) -> Result<Self, GmailError> {
        validate_addr_spec(input)
            .map(EmailAddress)
            .map_err(|why| GmailError::invalid(field, format!("{} {why}", show(input))))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(l, _)| l)
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }

    /// Addresses compare case-insensitively in practice (Gmail ignores case in both parts).
    pub fn same_as(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other.trim())
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = GmailError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        EmailAddress::parse("address", &value)
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> Self {
        value.0
    }
}

/// Quotes the offending input for an error message; `{:?}` makes a CR/LF visible as `\r\n`.
fn show(input: &str) -> String {
    let shown: String = input.chars().take(120).collect();
    if shown.len() < input.len() {
        format!("{shown:?}…")
    } else {
        format!("{shown:?}")
    }
}

fn validate_addr_spec(input: &str) -> Result<String, String> {
    if input.contains(['\r', '\n']) {
        return Err(LINE_BREAK.into());
    }
    let s = input.trim();
    if s.is_empty() {
        return Err("is empty; expected an address like user@example.com".into());
    }
    if s.chars().any(char::is_control) {
        return Err("contains a control character".into());
    }
    if s.contains(['<', '>']) {
        return Err("is not a valid email address: `<` and `>` are only allowed around the whole address, as in `Name <user@example.com>`".into());
    }
    if s.contains(',') {
        return Err("is not a valid email address: it contains a comma (separate several addresses into a list)".into());
    }
    let Some((local, domain)) = s.rsplit_once('@') else {
        return Err("is not a valid email address: missing @".into());
    };
    if s.len() > MAX_ADDRESS_LEN {
        return Err(format!(
            "is not a valid email address: longer than {MAX_ADDRESS_LEN} bytes"
        ));
    }
    validate_local(local)?;
    validate_domain(domain)?;
    Ok(s.to_string())
}

fn is_atext(c: char) -> bool {
    // RFC 5322 atext, plus non-ASCII letters for internationalised addresses (RFC 6531).
    c.is_ascii_alphanumeric()
        || "!#$%&'*+-/=?^_`{|}~".contains(c)
        || (!c.is_ascii() && c.is_alphanumeric())
}

fn validate_local(local: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("is not a valid email address: {why}"));
    if local.is_empty() {
        return bad("nothing before the @");
    }
    if local.len() > MAX_LOCAL_LEN {
        return bad("the part before the @ is longer than 64 bytes");
    }
    if let Some(inner) = local.strip_prefix('"').and_then(|l| l.strip_suffix('"')) {
        // Quoted local part: printable ASCII, with `"` and `\` only as escaped pairs.
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if !chars
                        .next()
                        .is_some_and(|n| n.is_ascii() && !n.is_ascii_control())
                    {
                        return bad("a bad escape in the quoted part before the @");
                    }
                }
                '"' => return bad("an unescaped quote in the part before the @"),
                c if c.is_ascii() && !c.is_ascii_control() => {}
                _ => return bad("a character not allowed in a quoted local part"),
            }
        }
        return Ok(());
    }
    if local.contains('@') {
        return bad("more than one @");
    }
    if local.contains(char::is_whitespace) {
        return bad("it contains a space");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return bad("dots must separate words in the part before the @ (no leading, trailing or double dot)");
    }
    if let Some(c) = local.chars().find(|&c| c != '.' && !is_atext(c)) {
        return bad(&format!("the character {c:?} is not allowed before the @"));
    }
    Ok(())
}

fn validate_domain(domain: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("is not a valid email address: {why}"));
    if domain.is_empty() {
        return bad("nothing after the @");
    }
    if domain.contains(char::is_whitespace) {
        return bad("it contains a space");
    }
    if !domain.contains('.') {
        // `user@localhost` cannot be delivered by Gmail; a typo like `user@gmail` is far likelier.
        return bad("the domain has no dot (expected something like example.com)");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    for label in &labels {
        if label.is_empty() {
            return bad("the domain has an empty label (a leading, trailing or double dot)");
        }
        if label.len() > MAX_LABEL_LEN {
            return bad("a domain label is longer than 63 bytes");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return bad("a domain label starts or ends with a hyphen");
        }
        if let Some(c) = label.chars().find(|&c| {
            !(c == '-' || c.is_ascii_alphanumeric() || (!c.is_ascii() && c.is_alphanumeric()))
        }) {
            return bad(&format!("the character {c:?} is not allowed in the domain"));
        }
    }
    if labels
        .last()
        .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
    {
        return bad("the domain ends in a number (IP addresses are not accepted)");
    }
    Ok(())
}

/// A recipient: an address with an optional display name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Recipient {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub email: EmailAddress,
}

impl Recipient {
    pub fn new(name: Option<String>, email: EmailAddress) -> Self {
        Recipient { name, email }
    }

    /// [`Recipient::parse`] for an optional field (a send-as `from`): absent stays absent.
    pub fn parse_optional(field: &str, input: Option<&str>) -> Result<Option<Self>, GmailError> {
        input.map(|i| Recipient::parse(field, i)).transpose()
    }

    /// Parses one of `user@example.com`, `<user@example.com>`, `Name <user@example.com>`,
    /// `"Last, First" <user@example.com>` or `user@example.com (Name)`.
    pub fn parse(field: &str, input: &str) -> Result<Self, GmailError> {
        if input.contains(['\r', '\n']) {
            return Err(GmailError::invalid(
                field,
                format!("{} {LINE_BREAK}", show(input)),
            ));
        }
        let s = input.trim();
        let (name, addr) = split_name_addr(s)
            .map_err(|why| GmailError::invalid(field, format!("{} {why}", show(input))))?;
        let email = EmailAddress::parse(field, addr)?;
        let name = match name {
            Some(n) => clean_name(field, &n)?,
            None => None,
        };
        Ok(Recipient { name, email })
    }

    /// Checks a recipient built by hand (the fields are public): the name must be header-safe.
    pub fn validate(&self, field: &str) -> Result<(), GmailError> {
        if let Some(name) = &self.name {
            check_name(field, name)?;
        }
        Ok(())
    }
}

fn check_name(field: &str, name: &str) -> Result<(), GmailError> {
    if name.contains(['\r', '\n']) {
        return Err(GmailError::invalid(
            field,
            format!("the name {} {LINE_BREAK}", show(name)),
        ));
    }
    if name.chars().any(|c| c.is_control() && c != '\t') {
        return Err(GmailError::invalid(
            field,
            format!("the name {} contains a control character", show(name)),
        ));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(GmailError::invalid(
            field,
            format!(
                "the name {} is longer than {MAX_NAME_LEN} characters",
                show(name)
            ),
        ));
    }
    Ok(())
}

fn clean_name(field: &str, raw: &str) -> Result<Option<String>, GmailError> {
    let raw = raw.trim();
    let name = match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => unescape_quoted(inner),
        None => raw.split_whitespace().collect::<Vec<_>>().join(" "),
    };
    let name = name.trim().to_string();
    check_name(field, &name)?;
    Ok((!name.is_empty()).then_some(name))
}

fn unescape_quoted(inner: &str) -> String {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The characters of `s` outside double-quoted strings (where a backslash escapes the next
/// character), with their byte offsets; and whether a quote was left open at the end.
fn outside_quotes(s: &str) -> (Vec<(usize, char)>, bool) {
    let (mut out, mut in_quotes, mut escaped) = (Vec::new(), false, false);
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            _ if !in_quotes => out.push((i, c)),
            _ => {}
        }
    }
    (out, in_quotes)
}

/// Splits `Name <addr>` into its parts, honouring quotes in the name.
fn split_name_addr(s: &str) -> Result<(Option<String>, &str), String> {
    let (chars, open_quote) = outside_quotes(s);
    if open_quote {
        return Err("has an unterminated quote".into());
    }
    let mut opens = chars.iter().filter(|(_, c)| *c == '<').map(|&(i, _)| i);
    let open = opens.next();
    if opens.next().is_some() {
        return Err("has more than one `<`".into());
    }
    if let Some(open) = open {
        let rest = &s[open + 1..];
        let Some(close) = rest.find('>') else {
            return Err("has a `<` without a closing `>`".into());
        };
        if !rest[close + 1..].trim().is_empty() {
            return Err("has text after the closing `>`".into());
        }
        // A `>` inside a quoted name is part of the name.
        if chars.iter().any(|&(i, c)| c == '>' && i < open) {
            return Err("has a stray `>`".into());
        }
        let name = s[..open].trim();
        return Ok(((!name.is_empty()).then(|| name.to_string()), &rest[..close]));
    }
    // Old-style `addr (Name)`.
    if let Some(inner) = s.strip_suffix(')') {
        if let Some(open) = inner.find('(') {
            let name = inner[open + 1..].trim();
            return Ok((
                (!name.is_empty()).then(|| name.to_string()),
                inner[..open].trim(),
            ));
        }
    }
    Ok((None, s))
}

/// Splits a comma- (or semicolon-) separated list, ignoring separators inside quotes,
/// angle brackets and comments.
fn split_list(input: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut angle, mut paren, mut start) = (0usize, 0usize, 0);
    for (i, c) in outside_quotes(input).0 {
        match c {
            '<' => angle += 1,
            '>' => angle = angle.saturating_sub(1),
            '(' => paren += 1,
            ')' => paren = paren.saturating_sub(1),
            ',' | ';' if angle == 0 && paren == 0 => {
                items.push(&input[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&input[start..]);
    items
}

/// Parses a comma-separated recipient list such as
/// `Ann <ann@example.com>, "Doe, John" <john@example.com>, bob@example.com`.
/// Empty items (a trailing comma) are skipped; an empty input gives an empty list.
pub fn parse_recipients(field: &str, input: &str) -> Result<Vec<Recipient>, GmailError> {
    if input.contains(['\r', '\n']) {
        return Err(GmailError::invalid(
            field,
            format!("{} {LINE_BREAK}", show(input)),
        ));
    }
    let items: Vec<&str> = split_list(input)
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .collect();
    let count = items.len();
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            Recipient::parse(field, item).map_err(|e| match e {
                GmailError::InvalidArgument { field, message } if count > 1 => {
                    GmailError::invalid(field, format!("recipient {} of {count}: {message}", i + 1))
                }
                other => other,
            })
        })
        .collect()
}

/// Parses a list of strings (as the tools take `to: string[]`), each of which may itself be a
/// comma-separated list.
pub fn parse_recipient_items<S: AsRef<str>>(
    field: &str,
    items: &[S],
) -> Result<Vec<Recipient>, GmailError> {
    let mut out = Vec::new();
    for item in items {
        out.extend(parse_recipients(field, item.as_ref())?);
    }
    Ok(out)
}

/// Quotes a display name when it holds RFC 5322 specials, so `Doe, John` stays one name.
pub fn format_display_name(name: &str) -> String {
    let needs_quotes = name.chars().any(|c| "()<>[]:;@\\,.\"".contains(c))
        || name.starts_with(' ')
        || name.ends_with(' ');
    if needs_quotes {
        let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{escaped}\"")
    } else {
        name.to_string()
    }
}

/// `Name <user@example.com>` or the bare address; readable, not RFC 2047-encoded.
pub fn format_mailbox(name: Option<&str>, email: &str) -> String {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => format!("{} <{email}>", format_display_name(n)),
        None => email.to_string(),
    }
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_mailbox(self.name.as_deref(), self.email.as_str()))
    }
}

/// Joins recipients for display: `a@x.com, "Doe, John" <j@x.com>`.
pub fn format_recipients(list: &[Recipient]) -> String {
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Text from received mail as a header may carry it: control characters (an encoded CR/LF
/// included) become spaces, and it is cut to `max` bytes.
pub fn header_text(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string();
    out.truncate(out.floor_char_boundary(max));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(e: GmailError) -> (String, String) {
        match e {
            GmailError::InvalidArgument { field, message } => (field, message),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn accepts_ordinary_addresses() {
        for a in [
            "user@example.com",
            "a.b+tag@sub.example.co.uk",
            "x_y-z@ex-ample.org",
            "\"john doe\"@example.com",
            "  padded@example.com ",
            "josé@例え.jp",
        ] {
            let e = EmailAddress::parse("to", a).unwrap_or_else(|e| panic!("{a}: {e}"));
            assert_eq!(e.as_str(), a.trim());
        }
        let e = EmailAddress::parse("to", "a.b+tag@sub.example.co.uk").unwrap();
        assert_eq!(e.local_part(), "a.b+tag");
        assert_eq!(e.domain(), "sub.example.co.uk");
    }

    #[test]
    fn rejects_bad_addresses_naming_the_field_and_problem() {
        let cases = [
            ("", "empty"),
            ("userexample.com", "missing @"),
            ("us er@example.com", "space"),
            ("user@exa mple.com", "space"),
            ("user@", "nothing after the @"),
            ("@example.com", "nothing before the @"),
            ("user@localhost", "no dot"),
            ("a@b@example.com", "more than one @"),
            ("a..b@example.com", "double dot"),
            (".a@example.com", "leading"),
            ("a@example..com", "empty label"),
            ("a@-example.com", "hyphen"),
            ("a<b@example.com", "`<`"),
            ("a>b@example.com", "`>`"),
            ("a@example.com,b@example.com", "comma"),
            ("a@1.2.3.4", "number"),
            ("a(b@example.com", "not allowed"),
        ];
        for (input, want) in cases {
            let (field, m) = msg(EmailAddress::parse("cc", input).unwrap_err());
            assert_eq!(field, "cc");
            assert!(m.contains(want), "{input:?}: {m}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(EmailAddress::parse("to", &long_local).is_err());
        let long = format!("a@{}.com", "b".repeat(250));
        assert!(EmailAddress::parse("to", &long).is_err());
    }

    #[test]
    fn line_breaks_anywhere_are_header_injection() {
        for input in [
            "user@example.com\r\nBcc: evil@example.com",
            "user@exam\nple.com",
            "Evil\r\nBcc: x@y.com <user@example.com>",
            "\"Na\rme\" <user@example.com>",
        ] {
            let (field, m) = msg(Recipient::parse("to", input).unwrap_err());
            assert_eq!(field, "to");
            assert!(m.contains("line break (header injection)"), "{m}");
            assert!(
                !m.contains('\n') && !m.contains('\r'),
                "error echoes a raw newline: {m:?}"
            );
        }
        let (f, m) = msg(parse_recipients("bcc", "a@b.com,\nc@d.com").unwrap_err());
        assert_eq!(f, "bcc");
        assert!(m.contains("header injection"));
        let r = Recipient {
            name: Some("x\r\nBcc: y@z.com".into()),
            email: EmailAddress::parse("from", "a@b.com").unwrap(),
        };
        assert!(msg(r.validate("from").unwrap_err())
            .1
            .contains("header injection"));
    }

    #[test]
    fn parses_recipient_forms() {
        let r = Recipient::parse("to", "Ann Smith <ann@example.com>").unwrap();
        assert_eq!(r.name.as_deref(), Some("Ann Smith"));
        assert_eq!(r.email.as_str(), "ann@example.com");

        let r = Recipient::parse("to", "\"Last, First\" <lf@example.com>").unwrap();
        assert_eq!(r.name.as_deref(), Some("Last, First"));
        assert_eq!(r.to_string(), "\"Last, First\" <lf@example.com>");

        let r = Recipient::parse("to", "bare@example.com").unwrap();
        assert_eq!(r.name, None);
        assert_eq!(r.to_string(), "bare@example.com");

        let r = Recipient::parse("to", "<angle@example.com>").unwrap();
        assert_eq!(r.name, None);

        let r = Recipient::parse("to", "NoSpace<ns@example.com>").unwrap();
        assert_eq!(r.name.as_deref(), Some("NoSpace"));

        let r = Recipient::parse("to", "old@example.com (Old Style)").unwrap();
        assert_eq!(r.name.as_deref(), Some("Old Style"));

        let r = Recipient::parse("to", r#""Quote \"Q\" Man" <q@example.com>"#).unwrap();
        assert_eq!(r.name.as_deref(), Some("Quote \"Q\" Man"));
        assert_eq!(r.to_string(), r#""Quote \"Q\" Man" <q@example.com>"#);

        for bad in [
            "Name <a@example.com",
            "Name <a@example.com> trailing",
            "A <a@example.com> <b@example.com>",
            "\"unterminated <a@example.com>",
            "Name <>",
        ] {
            assert!(Recipient::parse("to", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn splits_lists_respecting_quotes() {
        let list = parse_recipients(
            "to",
            "\"Doe, John\" <john@example.com>, Ann <ann@example.com>; bob@example.com,",
        )
        .unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list[0].name.as_deref(), Some("Doe, John"));
        assert_eq!(list[1].email.as_str(), "ann@example.com");
        assert_eq!(list[2].email.as_str(), "bob@example.com");
        assert_eq!(
            format_recipients(&list),
            "\"Doe, John\" <john@example.com>, Ann <ann@example.com>, bob@example.com"
        );
        assert!(parse_recipients("to", "  ").unwrap().is_empty());
        // Separators and brackets inside a quoted name, escaped quotes among them.
        let list =
            parse_recipients("to", r#""A \"B, <C>\" D" <x@example.com>, y@example.com"#).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].name.as_deref(), Some(r#"A "B, <C>" D"#));
        assert_eq!(list[1].email.as_str(), "y@example.com");

        let (f, m) = msg(parse_recipients("replyTo", "ok@example.com, broken").unwrap_err());
        assert_eq!(f, "replyTo");
        assert!(
            m.contains("recipient 2 of 2") && m.contains("missing @"),
            "{m}"
        );

        let items = parse_recipient_items("to", &["a@example.com, b@example.com", "c@example.com"])
            .unwrap();
        assert_eq!(items.len(), 3);
    }

    #[test]
    fn serde_round_trip_validates() {
        let r = Recipient::parse("to", "Ann <ann@example.com>").unwrap();
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, r#"{"name":"Ann","email":"ann@example.com"}"#);
        let back: Recipient = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        assert!(serde_json::from_str::<EmailAddress>("\"not-an-address\"").is_err());
    }
}
