//! Gmail's search language (`q`): parse once, match many.
//!
//! * `lexer` turns the query into tokens (words, phrases, `op:value`, `(`, `)`, `{`, `}`,
//!   `-`, `OR`, `AROUND n`);
//! * `parser` builds an AST (`ast`) by recursive descent (`OR` binds tighter than the
//!   implicit AND, `-` negates the next term or group, `name:( … )` applies `name:` to every
//!   word inside);
//! * `eval` matches the AST against a [`SearchDoc`] (`doc`), whose word index is built once
//!   in [`SearchDoc::new`];
//! * `text` splits text into words, the same way for queries and for the index.
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

mod ast;
mod doc;
mod error;
mod eval;
mod lexer;
mod parser;
mod text;

use ast::{AddrValue, Node};
pub use doc::{DocIndex, DocParts, SearchDoc};
pub use error::QueryError;
pub use eval::SearchContext;

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
        Node::Addr(_, AddrValue::Me) => true,
        Node::And(items) | Node::Or(items) => items.iter().any(uses_me),
        Node::Not(inner) => uses_me(inner),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
