//! Gmail's search language (`q`): parse once, match many.
//!
//! * `lexer` turns the query into tokens (words, phrases, `op:value`, `(`, `)`, `{`, `}`,
//!   `-`, `OR`, `AROUND n`);
//! * `parser` builds an AST by recursive descent (`OR` binds tighter than the implicit
//!   AND, `-` negates the next term or group, `name:( … )` applies `name:` to every word
//!   inside);
//! * `eval` matches the AST against a [`SearchDoc`], whose word index is built once in
//!   [`SearchDoc::new`].
//!
//! Semantics worth knowing (see `shared/gmail-api/README.md` §8):
//! * bare words and phrases are word-based and case-insensitive over subject, from, to, cc,
//!   body and attachment names (CJK characters are single words);
//! * `from:`/`to:`/`cc:`/`bcc:`/`list:`/`deliveredto:`/`filename:` match the value at a
//!   word boundary of the header (so partial tokens like `from:amy` work; `to:` also looks
//!   at Cc and Bcc; `me` is the user's address);
//! * `after:`/`before:` dates are midnight America/Los_Angeles, epoch seconds are exact;
//!   `after` is inclusive, `before` exclusive; a value that is not a date (e.g. with a
//!   time) matches nothing;
//! * `larger:`/`size:` are `size ≥ n`, `smaller:` is `size < n`, with binary `K`/`M`/`G`;
//! * unknown values of known operators (`is:bogus`, `has:drive`) match nothing; unknown
//!   operators (`foo:bar`) are plain text;
//! * errors ([`QueryError`]): unbalanced `(`/`)` or `{`/`}`, an operator without a value
//!   (`from:`), an empty operator group (`subject:()`), absurd nesting.

use std::fmt;

mod eval;
mod lexer;
mod parser;

pub use eval::DocIndex;
use parser::Node;

/// Everything the matcher may look at for one message, normalised once when the message is
/// stored (so a search does no parsing per message).
#[derive(Debug, Clone, Default)]
pub struct SearchDoc {
    pub from: String,
    pub to: String,
    pub cc: String,
    pub bcc: String,
    pub subject: String,
    pub body: String,
    pub list_id: String,
    pub delivered_to: String,
    pub message_id: String,
    pub label_ids: Vec<String>,
    pub attachment_filenames: Vec<String>,
    pub size_bytes: u64,
    pub internal_date_ms: i64,
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

impl SearchDoc {
    pub fn new(parts: DocParts) -> Self {
        let mut doc = SearchDoc {
            from: parts.from.to_lowercase(),
            to: parts.to.to_lowercase(),
            cc: parts.cc.to_lowercase(),
            bcc: parts.bcc.to_lowercase(),
            subject: parts.subject.to_lowercase(),
            body: parts.body_text.to_lowercase(),
            list_id: parts.list_id.to_lowercase(),
            delivered_to: parts.delivered_to.to_lowercase(),
            message_id: parts.message_id.to_lowercase(),
            label_ids: parts.label_ids,
            attachment_filenames: parts.attachment_filenames,
            size_bytes: parts.size_bytes,
            internal_date_ms: parts.internal_date_ms,
            index: DocIndex::default(),
        };
        doc.index = DocIndex::build(&doc);
        doc
    }

    /// Labels change after storage (modify, trash): the mailbox keeps this in step.
    pub fn set_labels(&mut self, label_ids: Vec<String>) {
        self.label_ids = label_ids;
    }
}

/// What a query needs from the mailbox around it.
pub struct SearchContext<'a> {
    /// Milliseconds since the epoch, for `newer_than:` / `older_than:`.
    pub now_ms: i64,
    /// The mailbox owner's address, for `from:me` / `to:me`.
    pub user_email: &'a str,
    /// Every label of the mailbox as `(id, name)`, for `label:` by name.
    pub labels: &'a [(String, String)],
}

/// A query that could not be parsed (Gmail answers such queries with 400 Invalid query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError(pub String);

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Invalid query: {}", self.0)
    }
}

impl std::error::Error for QueryError {}

/// A parsed query.
#[derive(Debug, Clone)]
pub struct Query {
    root: Node,
    uses_me: bool,
}

impl Query {
    pub fn parse(q: &str) -> Result<Query, QueryError> {
        let toks = lexer::lex(q)?;
        let root = parser::parse(toks)?;
        let uses_me = uses_me(&root);
        Ok(Query { root, uses_me })
    }

    /// True when the query itself asks for SPAM or TRASH (`in:spam`, `in:trash`,
    /// `in:anywhere`, `label:spam`, `label:trash`, at any depth), which lifts the default
    /// exclusion. Negated terms (`-in:spam`) do not count.
    pub fn targets_spam_or_trash(&self) -> bool {
        targets(&self.root, true)
    }

    /// True for a query that matches every message (empty, or only ignorable terms).
    pub fn is_match_all(&self) -> bool {
        matches!(self.root, Node::All)
    }

    pub fn matches(&self, doc: &SearchDoc, ctx: &SearchContext<'_>) -> bool {
        let env = eval::Env::new(&self.root, ctx, self.uses_me, false);
        eval_doc(&self.root, doc, &env)
    }

    /// The query bound to one mailbox context, with label names resolved and the user's
    /// address lowercased once: the fast way to match many docs.
    pub fn matcher<'a>(&'a self, ctx: &SearchContext<'a>) -> Matcher<'a> {
        Matcher {
            root: &self.root,
            env: eval::Env::new(&self.root, ctx, self.uses_me, true),
        }
    }
}

/// A [`Query`] bound to a [`SearchContext`] (see [`Query::matcher`]).
pub struct Matcher<'a> {
    root: &'a Node,
    env: eval::Env<'a>,
}

impl Matcher<'_> {
    pub fn matches(&self, doc: &SearchDoc) -> bool {
        eval_doc(self.root, doc, &self.env)
    }
}

fn eval_doc(root: &Node, doc: &SearchDoc, env: &eval::Env<'_>) -> bool {
    if doc.index.is_built() {
        eval::eval(root, doc, &doc.index, env)
    } else {
        let idx = DocIndex::build(doc);
        eval::eval(root, doc, &idx, env)
    }
}

fn targets(node: &Node, positive: bool) -> bool {
    match node {
        Node::Anywhere | Node::SysLabel("SPAM") | Node::SysLabel("TRASH") => positive,
        Node::And(items) | Node::Or(items) => items.iter().any(|n| targets(n, positive)),
        Node::Not(inner) => targets(inner, !positive),
        _ => false,
    }
}

fn uses_me(node: &Node) -> bool {
    match node {
        Node::Addr(_, parser::AddrValue::Me) => true,
        Node::And(items) | Node::Or(items) => items.iter().any(uses_me),
        Node::Not(inner) => uses_me(inner),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
