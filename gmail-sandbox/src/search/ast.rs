//! The parsed query: what the parser builds and the evaluator walks.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddrField {
    From,
    /// `to:` — To, Cc and Bcc.
    To,
    Cc,
    Bcc,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AddrValue {
    Me,
    /// Lowercased text matched at a word boundary in the header (address or display name).
    Text(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RelUnit {
    Day,
    Week,
    Month,
    Year,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    /// Matches every message.
    All,
    /// Matches no message (unknown `is:` value, dates with times, `has:drive`, …).
    Nothing,
    /// `in:anywhere`: matches everything and lifts the SPAM/TRASH exclusion.
    Anywhere,
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    /// A word or phrase (lowercased word tokens, consecutive) over the full text.
    Text(Vec<String>),
    /// `a AROUND n b`: both within n words of each other.
    Around(Vec<String>, u32, Vec<String>),
    Addr(AddrField, AddrValue),
    /// Word tokens that must appear consecutively in the Subject.
    Subject(Vec<String>),
    /// A system label id (`INBOX`, `UNREAD`, `CATEGORY_SOCIAL`, …).
    SysLabel(&'static str),
    /// A label by name or id, normalised (lowercase, spaces and `/` as `-`); resolved
    /// through the context's label list at match time.
    Label(String),
    /// `has:userlabels` (true) / `has:nouserlabels` (false).
    UserLabels(bool),
    Attachment,
    Filename(String),
    /// internalDate ≥ ms.
    After(i64),
    /// internalDate < ms.
    Before(i64),
    OlderThan(u32, RelUnit),
    NewerThan(u32, RelUnit),
    /// size ≥ bytes.
    Larger(u64),
    /// size < bytes.
    Smaller(u64),
    /// List-Id alternatives (`list:info@example.com` also tries `info.example.com`).
    List(Vec<String>),
    DeliveredTo(String),
    MsgId(String),
}
