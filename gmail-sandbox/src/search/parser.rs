//! Recursive-descent parser: tokens → [`Node`] tree.
//!
//! Grammar (OR binds tighter than the implicit AND, as in Gmail: `a b OR c` = `a (b OR c)`):
//!
//! ```text
//! query   := seq EOF
//! seq     := or_expr*                      (implicit AND; `AND` keywords are skipped)
//! or_expr := unary ( (OR | AROUND n) unary )*
//! unary   := '-' unary | primary
//! primary := '(' seq ')' | '{' unary* '}' | name ':(' seq ')' | word | phrase | name ':' value
//! ```
//!
//! Inside `name:( … )` every bare word or phrase becomes `name:word` (so `subject:(a b)` is
//! `subject:a subject:b`, and `from:(amy OR bob)` works too).

use chrono::{NaiveDate, TimeZone};
use chrono_tz::America::Los_Angeles;

use super::ast::{AddrField, AddrValue, Node, RelUnit};
use super::error::QueryError;
use super::lexer::Tok;
use super::text::{strip_angles, tokenize};

pub(crate) fn parse(toks: Vec<Tok>) -> Result<Node, QueryError> {
    let mut p = Parser {
        toks,
        pos: 0,
        ctx: Vec::new(),
        depth: 0,
    };
    let node = p.seq()?;
    match p.peek() {
        None => Ok(node),
        Some(Tok::RParen) => Err(QueryError(
            "unbalanced parentheses: unexpected ')'".to_string(),
        )),
        Some(Tok::RBrace) => Err(QueryError("unbalanced braces: unexpected '}'".to_string())),
        Some(t) => Err(QueryError(format!("unexpected token {t:?}"))),
    }
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    /// Operator names of the enclosing `name:( … )` groups, innermost last.
    ctx: Vec<String>,
    /// Current nesting depth (groups and negations), bounded by [`MAX_DEPTH`].
    depth: usize,
}

/// Deeper nesting is rejected rather than risking the stack.
const MAX_DEPTH: usize = 200;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Closer {
    Paren,
    Brace,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    fn at_closer(&self) -> bool {
        matches!(self.peek(), None | Some(Tok::RParen) | Some(Tok::RBrace))
    }

    /// An implicit-AND sequence up to a closer (not consumed) or the end.
    fn seq(&mut self) -> Result<Node, QueryError> {
        let mut items = Vec::new();
        loop {
            match self.peek() {
                None => break,
                // A closer ends the sequence; the caller checks it matches.
                Some(Tok::RParen) | Some(Tok::RBrace) => break,
                Some(Tok::And) => {
                    self.pos += 1;
                }
                _ => items.push(self.or_expr()?),
            }
        }
        Ok(and_of(items))
    }

    fn or_expr(&mut self) -> Result<Node, QueryError> {
        let first = self.unary()?;
        let mut alts = vec![first];
        loop {
            match self.peek() {
                Some(Tok::Or) => {
                    self.pos += 1;
                    if self.at_closer() {
                        // A dangling `OR` is just the word "or".
                        alts.push(self.word_node("or", false));
                        break;
                    }
                    if matches!(self.peek(), Some(Tok::Or | Tok::And)) {
                        continue;
                    }
                    alts.push(self.unary()?);
                }
                Some(Tok::Around(_)) => {
                    let Some(Tok::Around(d)) = self.next() else {
                        unreachable!()
                    };
                    if self.at_closer() {
                        alts.push(self.word_node("around", false));
                        break;
                    }
                    let rhs = self.unary()?;
                    let lhs = alts.pop().unwrap_or(Node::All);
                    alts.push(match (lhs, rhs) {
                        (Node::Text(a), Node::Text(b)) => Node::Around(a, d, b),
                        (a, b) => and_of(vec![a, b]),
                    });
                }
                _ => break,
            }
        }
        Ok(if alts.len() == 1 {
            alts.pop().unwrap_or(Node::All)
        } else {
            Node::Or(alts)
        })
    }

    fn unary(&mut self) -> Result<Node, QueryError> {
        self.depth += 1;
        let r = if self.depth > MAX_DEPTH {
            Err(QueryError("query is nested too deeply".to_string()))
        } else {
            self.unary_inner()
        };
        self.depth -= 1;
        r
    }

    fn unary_inner(&mut self) -> Result<Node, QueryError> {
        match self.peek() {
            Some(Tok::Not) => {
                self.pos += 1;
                if self.at_closer() {
                    return Ok(Node::All);
                }
                let inner = self.unary()?;
                Ok(match inner {
                    Node::Not(x) => *x,
                    Node::All => Node::All,
                    other => Node::Not(Box::new(other)),
                })
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Node, QueryError> {
        let Some(tok) = self.next() else {
            return Ok(Node::All);
        };
        match tok {
            Tok::LParen => {
                let inner = self.seq()?;
                self.expect(Closer::Paren)?;
                Ok(inner)
            }
            Tok::LBrace => {
                let mut alts = Vec::new();
                loop {
                    match self.peek() {
                        None | Some(Tok::RParen) | Some(Tok::RBrace) => break,
                        Some(Tok::Or) | Some(Tok::And) => self.pos += 1,
                        _ => alts.push(self.unary()?),
                    }
                }
                self.expect(Closer::Brace)?;
                Ok(if alts.is_empty() {
                    Node::All
                } else if alts.len() == 1 {
                    alts.pop().unwrap_or(Node::All)
                } else {
                    Node::Or(alts)
                })
            }
            Tok::OpGroup(name) => {
                if matches!(self.peek(), Some(Tok::RParen)) {
                    return Err(QueryError(format!("operator '{name}:' has an empty group")));
                }
                self.ctx.push(name);
                let inner = self.seq();
                self.ctx.pop();
                let inner = inner?;
                self.expect(Closer::Paren)?;
                Ok(inner)
            }
            Tok::Word { text, exact } => Ok(self.word_node(&text, exact)),
            Tok::Phrase(text) => Ok(match self.ctx.last() {
                Some(op) => build_op(op, &text, true),
                None => text_node(&text),
            }),
            Tok::Op {
                name,
                value,
                quoted,
            } => Ok(build_op(&name, &value, quoted)),
            Tok::Or => Ok(self.word_node("or", false)),
            Tok::And => Ok(Node::All),
            Tok::Around(d) => Ok(and_of(vec![
                self.word_node("around", false),
                self.word_node(&d.to_string(), false),
            ])),
            Tok::Not => Ok(Node::All),
            Tok::RParen => Err(QueryError(
                "unbalanced parentheses: unexpected ')'".to_string(),
            )),
            Tok::RBrace => Err(QueryError("unbalanced braces: unexpected '}'".to_string())),
        }
    }

    fn expect(&mut self, closer: Closer) -> Result<(), QueryError> {
        match (self.next(), closer) {
            (Some(Tok::RParen), Closer::Paren) | (Some(Tok::RBrace), Closer::Brace) => Ok(()),
            (None, Closer::Paren) => Err(QueryError(
                "unbalanced parentheses: missing ')'".to_string(),
            )),
            (None, Closer::Brace) => Err(QueryError("unbalanced braces: missing '}'".to_string())),
            (Some(Tok::RBrace), Closer::Paren) => Err(QueryError(
                "unbalanced parentheses: expected ')' but found '}'".to_string(),
            )),
            (Some(_), Closer::Brace) => Err(QueryError(
                "unbalanced braces: expected '}' but found ')'".to_string(),
            )),
            (Some(t), Closer::Paren) => Err(QueryError(format!("unexpected token {t:?}"))),
        }
    }

    fn word_node(&self, text: &str, _exact: bool) -> Node {
        match self.ctx.last() {
            Some(op) => build_op(op, text, false),
            None => text_node(text),
        }
    }
}

fn and_of(mut items: Vec<Node>) -> Node {
    items.retain(|n| *n != Node::All);
    match items.len() {
        0 => Node::All,
        1 => items.pop().unwrap_or(Node::All),
        _ => Node::And(items),
    }
}

/// A bare word or phrase over the full text. Text without any word characters (`&`, `*`)
/// is ignored, as Gmail ignores punctuation.
fn text_node(text: &str) -> Node {
    let toks = tokenize_owned(text);
    if toks.is_empty() {
        Node::All
    } else {
        Node::Text(toks)
    }
}

fn tokenize_owned(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut out = Vec::new();
    tokenize(&lower, |t| out.push(t.to_string()));
    out
}

/// Normalises a label name or query value: lowercase, spaces and `/` written as `-`.
pub(crate) fn normalize_label(s: &str) -> String {
    s.trim()
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == ' ' || c == '/' { '-' } else { c })
        .collect()
}

/// System labels reachable by name through `label:` (and `in:` for the same names).
fn system_label(v: &str) -> Option<&'static str> {
    Some(match v {
        "inbox" => "INBOX",
        "spam" => "SPAM",
        "trash" | "bin" => "TRASH",
        "unread" => "UNREAD",
        "starred" => "STARRED",
        "important" => "IMPORTANT",
        "sent" => "SENT",
        "draft" | "drafts" => "DRAFT",
        "chat" | "chats" => "CHAT",
        "snoozed" => "SNOOZED",
        "category_personal" | "category-personal" => "CATEGORY_PERSONAL",
        "category_social" | "category-social" => "CATEGORY_SOCIAL",
        "category_promotions" | "category-promotions" => "CATEGORY_PROMOTIONS",
        "category_updates" | "category-updates" => "CATEGORY_UPDATES",
        "category_forums" | "category-forums" => "CATEGORY_FORUMS",
        _ => return None,
    })
}

/// Builds the node for `name:value` (`name` lowercase and known to the lexer).
pub(crate) fn build_op(name: &str, value: &str, quoted: bool) -> Node {
    let raw = value.trim();
    if raw.is_empty() {
        return Node::All;
    }
    let v = raw.to_lowercase();
    match name {
        "from" | "to" | "cc" | "bcc" => {
            let field = match name {
                "from" => AddrField::From,
                "to" => AddrField::To,
                "cc" => AddrField::Cc,
                _ => AddrField::Bcc,
            };
            let value = if v == "me" && !quoted {
                AddrValue::Me
            } else {
                AddrValue::Text(collapse_ws(&v))
            };
            Node::Addr(field, value)
        }
        "subject" => {
            let toks = tokenize_owned(&v);
            if toks.is_empty() {
                Node::All
            } else {
                Node::Subject(toks)
            }
        }
        "label" => {
            let norm = normalize_label(&v);
            match system_label(&norm) {
                Some(id) => Node::SysLabel(id),
                None => Node::Label(norm),
            }
        }
        "is" => match v.as_str() {
            "unread" => Node::SysLabel("UNREAD"),
            "read" => Node::Not(Box::new(Node::SysLabel("UNREAD"))),
            "starred" => Node::SysLabel("STARRED"),
            "important" => Node::SysLabel("IMPORTANT"),
            "snoozed" => Node::SysLabel("SNOOZED"),
            "muted" => Node::SysLabel("MUTED"),
            "chat" | "chats" => Node::SysLabel("CHAT"),
            _ => Node::Nothing,
        },
        "in" => match v.as_str() {
            "anywhere" | "all" => Node::Anywhere,
            _ => {
                let norm = normalize_label(&v);
                match system_label(&norm) {
                    Some(id) => Node::SysLabel(id),
                    None => Node::Label(norm),
                }
            }
        },
        "category" => match v.as_str() {
            "primary" | "personal" => Node::SysLabel("CATEGORY_PERSONAL"),
            "social" => Node::SysLabel("CATEGORY_SOCIAL"),
            "promotions" => Node::SysLabel("CATEGORY_PROMOTIONS"),
            "updates" => Node::SysLabel("CATEGORY_UPDATES"),
            "forums" => Node::SysLabel("CATEGORY_FORUMS"),
            _ => Node::Nothing,
        },
        "has" => match v.as_str() {
            "attachment" | "attachments" => Node::Attachment,
            "userlabels" => Node::UserLabels(true),
            "nouserlabels" => Node::UserLabels(false),
            "yellow-star" => Node::SysLabel("STARRED"),
            _ => Node::Nothing,
        },
        "filename" => Node::Filename(v),
        "after" | "newer" => match parse_date_ms(&v) {
            Some(ms) => Node::After(ms),
            None => Node::Nothing,
        },
        "before" | "older" => match parse_date_ms(&v) {
            Some(ms) => Node::Before(ms),
            None => Node::Nothing,
        },
        "older_than" | "newer_than" => match parse_relative(&v) {
            Some((n, unit)) if name == "older_than" => Node::OlderThan(n, unit),
            Some((n, unit)) => Node::NewerThan(n, unit),
            None => Node::Nothing,
        },
        "larger" | "size" | "smaller" => match parse_size(&v) {
            Some(b) if name == "smaller" => Node::Smaller(b),
            Some(b) => Node::Larger(b),
            None => Node::Nothing,
        },
        "list" => {
            let mut alts = vec![v.clone()];
            if v.contains('@') {
                alts.push(v.replace('@', "."));
            }
            Node::List(alts)
        }
        "deliveredto" => Node::DeliveredTo(v),
        "rfc822msgid" => Node::MsgId(strip_angles(&v).to_string()),
        _ => Node::Nothing,
    }
}

fn collapse_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(crate) fn parse_date_ms(v: &str) -> Option<i64> {
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return v.parse::<i64>().ok()?.checked_mul(1000);
    }
    let parts: Vec<&str> = v.split(['/', '-']).collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    // One separator style per date.
    let seps: Vec<char> = v.chars().filter(|c| *c == '/' || *c == '-').collect();
    if seps[0] != seps[1] {
        return None;
    }
    let nums: Vec<u32> = parts
        .iter()
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let (y, m, d) = if parts[0].len() == 4 {
        (nums[0], nums[1], nums[2])
    } else if parts[2].len() == 4 && seps[0] == '/' {
        (nums[2], nums[0], nums[1])
    } else {
        return None;
    };
    let date = NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)?;
    let local = date.and_hms_opt(0, 0, 0)?;
    let dt = Los_Angeles.from_local_datetime(&local).earliest()?;
    Some(dt.timestamp_millis())
}

fn parse_relative(v: &str) -> Option<(u32, RelUnit)> {
    let unit = match v.chars().last()? {
        'd' => RelUnit::Day,
        'w' => RelUnit::Week,
        'm' => RelUnit::Month,
        'y' => RelUnit::Year,
        _ => return None,
    };
    let num = &v[..v.len() - 1];
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((num.parse().ok()?, unit))
}

/// Bytes, with an optional `K` / `M` / `G` suffix (binary multiples; a trailing `B` is
/// allowed: `10MB`).
pub(crate) fn parse_size(v: &str) -> Option<u64> {
    let v = v.strip_suffix('b').unwrap_or(v);
    let (num, mult) = match v.chars().last()? {
        'k' => (&v[..v.len() - 1], 1u64 << 10),
        'm' => (&v[..v.len() - 1], 1u64 << 20),
        'g' => (&v[..v.len() - 1], 1u64 << 30),
        _ => (v, 1),
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    num.parse::<u64>().ok()?.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::super::lexer::lex;
    use super::*;

    fn p(q: &str) -> Node {
        parse(lex(q).unwrap()).unwrap()
    }

    fn t(s: &str) -> Node {
        Node::Text(vec![s.to_string()])
    }

    #[test]
    fn or_binds_tighter_than_and() {
        assert_eq!(
            p("a b OR c"),
            Node::And(vec![t("a"), Node::Or(vec![t("b"), t("c")])])
        );
        assert_eq!(p("a OR b OR c"), Node::Or(vec![t("a"), t("b"), t("c")]));
    }

    #[test]
    fn braces_are_disjunction_and_minus_negates_groups() {
        assert_eq!(p("{a b}"), Node::Or(vec![t("a"), t("b")]));
        assert_eq!(
            p("-(a b)"),
            Node::Not(Box::new(Node::And(vec![t("a"), t("b")])))
        );
        assert_eq!(p("--a"), t("a"));
    }

    #[test]
    fn operator_groups_distribute() {
        assert_eq!(
            p("subject:(dinner movie)"),
            Node::And(vec![
                Node::Subject(vec!["dinner".into()]),
                Node::Subject(vec!["movie".into()])
            ])
        );
        assert_eq!(
            p("from:(amy OR bob)"),
            Node::Or(vec![
                Node::Addr(AddrField::From, AddrValue::Text("amy".into())),
                Node::Addr(AddrField::From, AddrValue::Text("bob".into())),
            ])
        );
    }

    #[test]
    fn empty_query_is_all_and_dangling_or_is_a_word() {
        assert_eq!(p(""), Node::All);
        assert_eq!(p("   "), Node::All);
        assert_eq!(p("a OR"), Node::Or(vec![t("a"), t("or")]));
        assert_eq!(p("OR a"), Node::And(vec![t("or"), t("a")]));
    }

    #[test]
    fn around_builds_proximity() {
        assert_eq!(
            p("holiday AROUND 10 vacation"),
            Node::Around(vec!["holiday".into()], 10, vec!["vacation".into()])
        );
    }

    #[test]
    fn errors_are_specific() {
        let e = |q: &str| parse(lex(q).unwrap()).unwrap_err().0;
        assert!(e("(a b").contains("missing ')'"));
        assert!(e("a b)").contains("unexpected ')'"));
        assert!(e("{a b").contains("missing '}'"));
        assert!(e("(a}").contains("found '}'"));
        assert!(e("subject:()").contains("empty group"));
        assert!(e("subject:(a").contains("missing ')'"));
    }

    #[test]
    fn dates_parse_in_pacific_time() {
        // 2026-01-15 is PST (UTC-8); 2026-07-15 is PDT (UTC-7).
        assert_eq!(parse_date_ms("2026/01/15"), Some(1_768_464_000_000));
        assert_eq!(parse_date_ms("2026-07-15"), Some(1_784_098_800_000));
        assert_eq!(parse_date_ms("07/15/2026"), Some(1_784_098_800_000));
        assert_eq!(parse_date_ms("2026/7/5"), parse_date_ms("2026/07/05"));
        assert_eq!(parse_date_ms("1700000000"), Some(1_700_000_000_000));
        assert_eq!(parse_date_ms("2024-08-12T09:27:27Z"), None);
        assert_eq!(parse_date_ms("2026/02/30"), None);
        assert_eq!(parse_date_ms("2026/01-15"), None);
        assert_eq!(parse_date_ms("yesterday"), None);
    }

    #[test]
    fn sizes_and_relative_values() {
        assert_eq!(parse_size("10m"), Some(10 << 20));
        assert_eq!(parse_size("500k"), Some(500 << 10));
        assert_eq!(parse_size("10mb"), Some(10 << 20));
        assert_eq!(parse_size("1234"), Some(1234));
        assert_eq!(parse_size("big"), None);
        assert_eq!(parse_relative("3d"), Some((3, RelUnit::Day)));
        assert_eq!(parse_relative("2m"), Some((2, RelUnit::Month)));
        assert_eq!(parse_relative("1y"), Some((1, RelUnit::Year)));
        assert_eq!(parse_relative("d"), None);
        assert_eq!(parse_relative("5x"), None);
    }

    #[test]
    fn label_values_normalise() {
        assert_eq!(
            p("label:Projects/Alpha"),
            Node::Label("projects-alpha".into())
        );
        assert_eq!(p("label:\"My Label\""), Node::Label("my-label".into()));
        assert_eq!(p("label:INBOX"), Node::SysLabel("INBOX"));
        assert_eq!(p("in:anywhere"), Node::Anywhere);
        assert_eq!(p("is:bogus"), Node::Nothing);
    }
}
