//! Tokenizer for Gmail's search language.
//!
//! The lexer only knows about the surface syntax: parentheses, braces, the `-` and `+`
//! prefixes, `"quoted phrases"`, the uppercase keywords `OR` / `AND` / `AROUND n`, and
//! `operator:value` pairs for the operators the evaluator understands. Anything else is a
//! plain word (so `foo:bar` with an unknown `foo` is text, as in Gmail).

use super::error::QueryError;

/// Every operator name the language knows (lowercase, without the colon).
pub(crate) const OPERATORS: &[&str] = &[
    "from",
    "to",
    "cc",
    "bcc",
    "subject",
    "label",
    "is",
    "in",
    "category",
    "has",
    "filename",
    "after",
    "before",
    "newer",
    "older",
    "older_than",
    "newer_than",
    "larger",
    "smaller",
    "size",
    "list",
    "deliveredto",
    "rfc822msgid",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    LParen,
    RParen,
    LBrace,
    RBrace,
    /// `-` directly in front of a term or group.
    Not,
    /// The uppercase keyword `OR`.
    Or,
    /// The uppercase keyword `AND` (the default combination anyway).
    And,
    /// `AROUND n` (proximity).
    Around(u32),
    /// A bare word; `exact` when written `+word`.
    Word {
        text: String,
        exact: bool,
    },
    /// A `"quoted phrase"`.
    Phrase(String),
    /// `name:value` or `name:"quoted value"`.
    Op {
        name: String,
        value: String,
        quoted: bool,
    },
    /// `name:(` — the group's content follows, up to the matching `RParen`.
    OpGroup(String),
}

fn is_stop(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '{' | '}' | '"')
}

fn is_value_stop(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '{' | '}')
}

/// Splits a query into tokens.
pub(crate) fn lex(q: &str) -> Result<Vec<Tok>, QueryError> {
    let chars: Vec<char> = q.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    let n = chars.len();
    while i < n {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        match c {
            '(' => {
                toks.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                toks.push(Tok::RParen);
                i += 1;
            }
            '{' => {
                toks.push(Tok::LBrace);
                i += 1;
            }
            '}' => {
                toks.push(Tok::RBrace);
                i += 1;
            }
            '"' => {
                let (text, next) = read_quoted(&chars, i + 1);
                toks.push(Tok::Phrase(text));
                i = next;
            }
            '-' | '+' => {
                // A prefix only when something follows directly; a lone sign is ignored.
                if i + 1 >= n || chars[i + 1].is_whitespace() {
                    i += 1;
                    continue;
                }
                if c == '-' {
                    toks.push(Tok::Not);
                    i += 1;
                } else {
                    // `+word`: an exact word (a `+` in front of anything else is ignored).
                    i += 1;
                    if is_stop(chars[i]) {
                        continue;
                    }
                    let (tok, next) = read_word(&chars, i)?;
                    toks.push(match tok {
                        Tok::Word { text, .. } => Tok::Word { text, exact: true },
                        other => other,
                    });
                    i = next;
                }
            }
            _ => {
                let (tok, next) = read_word(&chars, i)?;
                i = next;
                if let Tok::Word { text, exact: false } = &tok {
                    match text.as_str() {
                        "OR" => {
                            toks.push(Tok::Or);
                            continue;
                        }
                        "AND" => {
                            toks.push(Tok::And);
                            continue;
                        }
                        "AROUND" => {
                            // `AROUND n`: the distance must follow as a number.
                            let mut j = i;
                            while j < n && chars[j].is_whitespace() {
                                j += 1;
                            }
                            let start = j;
                            while j < n && chars[j].is_ascii_digit() {
                                j += 1;
                            }
                            if j > start && (j == n || is_stop(chars[j])) {
                                let num: String = chars[start..j].iter().collect();
                                if let Ok(d) = num.parse::<u32>() {
                                    toks.push(Tok::Around(d));
                                    i = j;
                                    continue;
                                }
                            }
                        }
                        _ => {}
                    }
                }
                toks.push(tok);
            }
        }
    }
    Ok(toks)
}

/// Reads a quoted string starting after the opening quote; an unterminated quote runs to
/// the end of the query (Gmail is lenient there). Returns the text and the next index.
fn read_quoted(chars: &[char], start: usize) -> (String, usize) {
    let mut j = start;
    while j < chars.len() && chars[j] != '"' {
        j += 1;
    }
    let text: String = chars[start..j].iter().collect();
    let next = if j < chars.len() { j + 1 } else { j };
    (text, next)
}

/// Reads a word or an `operator:value` starting at `start`.
fn read_word(chars: &[char], start: usize) -> Result<(Tok, usize), QueryError> {
    let n = chars.len();
    let mut j = start;
    while j < n && !is_stop(chars[j]) {
        if chars[j] == ':' {
            let name: String = chars[start..j].iter().collect::<String>().to_lowercase();
            if OPERATORS.contains(&name.as_str()) {
                return read_op_value(chars, name, j + 1);
            }
        }
        j += 1;
    }
    let text: String = chars[start..j].iter().collect();
    Ok((Tok::Word { text, exact: false }, j))
}

fn read_op_value(chars: &[char], name: String, start: usize) -> Result<(Tok, usize), QueryError> {
    let n = chars.len();
    if start >= n || chars[start].is_whitespace() || matches!(chars[start], ')' | '{' | '}') {
        return Err(QueryError(format!("operator '{name}:' needs a value")));
    }
    match chars[start] {
        '(' => Ok((Tok::OpGroup(name), start + 1)),
        '"' => {
            let (value, next) = read_quoted(chars, start + 1);
            if value.trim().is_empty() {
                return Err(QueryError(format!("operator '{name}:' needs a value")));
            }
            Ok((
                Tok::Op {
                    name,
                    value,
                    quoted: true,
                },
                next,
            ))
        }
        _ => {
            let mut j = start;
            while j < n && !is_value_stop(chars[j]) {
                j += 1;
            }
            let value: String = chars[start..j].iter().collect();
            Ok((
                Tok::Op {
                    name,
                    value,
                    quoted: false,
                },
                j,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Tok {
        Tok::Word {
            text: s.into(),
            exact: false,
        }
    }

    fn op(name: &str, value: &str) -> Tok {
        Tok::Op {
            name: name.into(),
            value: value.into(),
            quoted: false,
        }
    }

    #[test]
    fn lexes_words_ops_and_punctuation() {
        let t = lex(r#"from:amy -(a OR b) {c d} "hi there" +exact subject:(x y)"#).unwrap();
        assert_eq!(
            t,
            vec![
                op("from", "amy"),
                Tok::Not,
                Tok::LParen,
                w("a"),
                Tok::Or,
                w("b"),
                Tok::RParen,
                Tok::LBrace,
                w("c"),
                w("d"),
                Tok::RBrace,
                Tok::Phrase("hi there".into()),
                Tok::Word {
                    text: "exact".into(),
                    exact: true
                },
                Tok::OpGroup("subject".into()),
                w("x"),
                w("y"),
                Tok::RParen,
            ]
        );
    }

    #[test]
    fn operator_names_are_case_insensitive_and_unknown_ones_are_words() {
        assert_eq!(lex("FROM:Bob").unwrap(), vec![op("from", "Bob")]);
        assert_eq!(lex("foo:bar").unwrap(), vec![w("foo:bar")]);
    }

    #[test]
    fn lowercase_or_is_a_word_and_around_takes_a_number() {
        assert_eq!(lex("a or b").unwrap(), vec![w("a"), w("or"), w("b")]);
        assert_eq!(
            lex("a AROUND 3 b").unwrap(),
            vec![w("a"), Tok::Around(3), w("b")]
        );
        assert_eq!(lex("AROUND x").unwrap(), vec![w("AROUND"), w("x")]);
    }

    #[test]
    fn quoted_operator_value_and_empty_value_error() {
        assert_eq!(
            lex(r#"subject:"big news""#).unwrap(),
            vec![Tok::Op {
                name: "subject".into(),
                value: "big news".into(),
                quoted: true
            }]
        );
        assert!(lex("from:").is_err());
        assert!(lex("from: bob").is_err());
        assert!(lex(r#"to:"""#).is_err());
        let e = lex("(from:)").unwrap_err();
        assert!(e.0.contains("from:"), "{e}");
    }

    #[test]
    fn minus_inside_words_is_kept_and_lone_signs_are_ignored() {
        assert_eq!(
            lex("label:my-label e-mail - +").unwrap(),
            vec![op("label", "my-label"), w("e-mail")]
        );
    }

    #[test]
    fn unterminated_quote_runs_to_end() {
        assert_eq!(
            lex("\"abc def").unwrap(),
            vec![Tok::Phrase("abc def".into())]
        );
    }
}
