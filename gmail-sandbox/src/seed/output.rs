//! What the seed hands to the store.

/// One mailbox to create.
#[derive(Debug, Clone)]
pub struct SeedMailbox {
    pub email: String,
    pub display_name: String,
    /// User labels to create, by name (nested ones contain `/`), with optional
    /// `(textColor, backgroundColor)` from Gmail's palette.
    pub labels: Vec<SeedLabel>,
    /// Messages in the order they arrived (oldest first).
    pub messages: Vec<SeedMessage>,
    /// Drafts (raw RFC 822), oldest first.
    pub drafts: Vec<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub struct SeedLabel {
    pub name: String,
    pub color: Option<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct SeedMessage {
    /// The full RFC 822 message, CRLF line endings.
    pub raw: Vec<u8>,
    /// System label ids (`INBOX`, `UNREAD`, `SENT`, `SPAM`, `TRASH`, `STARRED`,
    /// `IMPORTANT`, `CATEGORY_*`).
    pub system_labels: Vec<String>,
    /// User labels by name (each one is in [`SeedMailbox::labels`]).
    pub user_labels: Vec<String>,
    /// Milliseconds since the epoch.
    pub internal_date_ms: i64,
}

/// The default demo mailbox's address.
pub const DEMO_EMAIL: &str = "demo@example.com";
/// A second, small mailbox for multi-user tests.
pub const SECOND_EMAIL: &str = "bob@example.com";
