//! The demo mailbox's words: people, conversations, mailing lists and notification texts,
//! kept in `data/seed/*.json` and compiled into the binary.

use std::sync::OnceLock;

use serde::de::DeserializeOwned;
use serde::Deserialize;

/// Everything the seed reads from its data files.
pub struct SeedData {
    pub people: Vec<PersonEntry>,
    pub conversations: Vec<Conversation>,
    pub generated: Generated,
    pub lists: Lists,
    pub notifications: Notifications,
}

/// The data, parsed once per process.
pub fn data() -> &'static SeedData {
    static DATA: OnceLock<SeedData> = OnceLock::new();
    DATA.get_or_init(|| SeedData {
        people: parse("people.json", include_str!("../../data/seed/people.json")),
        conversations: parse(
            "conversations.json",
            include_str!("../../data/seed/conversations.json"),
        ),
        generated: parse(
            "generated.json",
            include_str!("../../data/seed/generated.json"),
        ),
        lists: parse("lists.json", include_str!("../../data/seed/lists.json")),
        notifications: parse(
            "notifications.json",
            include_str!("../../data/seed/notifications.json"),
        ),
    })
}

fn parse<T: DeserializeOwned>(name: &str, text: &str) -> T {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("seed: data/seed/{name}: {e}"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonEntry {
    /// How conversations refer to this person (`me` is the mailbox owner).
    pub key: String,
    pub name: String,
    pub email: String,
    /// IANA time zone their `Date` headers are written in.
    pub tz: String,
}

/// A hand-written conversation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conversation {
    pub subject: String,
    /// Local (Los Angeles) start: year, month, day, hour, minute.
    pub start: (i32, u32, u32, u32, u32),
    /// User labels on every message.
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default = "personal_category")]
    pub category: String,
    /// The first received message is starred.
    #[serde(default)]
    pub starred: bool,
    #[serde(default)]
    pub important: bool,
    #[serde(default)]
    pub subject_encoding: SubjectEncoding,
    /// Messages are archived (no INBOX) once read.
    #[serde(default)]
    pub archived: bool,
    /// Also in Bob's mailbox.
    #[serde(default)]
    pub shared_with_bob: bool,
    pub messages: Vec<ConversationMessage>,
}

fn personal_category() -> String {
    "CATEGORY_PERSONAL".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationMessage {
    pub from: String,
    /// Recipients of the first message (replies go back to the previous sender).
    #[serde(default)]
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    /// Minutes after the previous message of the thread.
    #[serde(default = "sixty")]
    pub gap_minutes: i64,
    #[serde(default)]
    pub style: Style,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    pub body: String,
}

fn sixty() -> i64 {
    60
}

/// How a message body is built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Style {
    /// text/plain (7bit, or quoted-printable when non-ASCII).
    #[default]
    Plain,
    /// multipart/alternative: text/plain + text/html.
    Alternative,
    /// text/plain UTF-8 in base64.
    Base64,
    /// text/plain ISO-8859-1 in quoted-printable.
    Latin1,
    /// multipart/related: HTML with an inline logo (Content-ID), inside alternative.
    Related,
}

/// How a subject is encoded: RFC 2047 B or Q in UTF-8, or Q in ISO-8859-1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectEncoding {
    #[default]
    B,
    Q,
    Latin1Q,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Attachment {
    Pdf {
        name: String,
        title: String,
    },
    Png {
        name: String,
    },
    Csv {
        name: String,
    },
    /// The one attachment over 5 MB.
    BigCsv {
        name: String,
    },
}

/// Conversations written from sentence pools.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generated {
    pub pools: Pools,
    pub conversations: Vec<GeneratedConversation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pools {
    pub work: Pool,
    pub personal: Pool,
}

/// Sentences to pick from; `{name}`, `{me}`, `{topic}` and `{other}` are filled in.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pool {
    pub greet: Vec<String>,
    pub open: Vec<String>,
    pub reply: Vec<String>,
    pub close: Vec<String>,
    pub sign: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratedConversation {
    pub subject: String,
    pub topic: String,
    /// Everyone but the mailbox owner; the first one starts it (unless the owner does).
    pub people: Vec<String>,
    pub labels: Vec<String>,
    /// Local (Los Angeles) date it starts.
    pub date: (i32, u32, u32),
    pub personal: bool,
    pub important: bool,
    /// Its length is data, not chance, so the mailbox's counts stay fixed.
    pub messages: usize,
}

/// Mailing-list discussions and code-hosting notification threads.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lists {
    pub mailing_lists: Vec<ListThread>,
    pub codehub: Vec<CodehubThread>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListThread {
    pub subject: String,
    pub start: (i32, u32, u32, u32, u32),
    pub posts: Vec<Post>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Post {
    pub from: String,
    pub body: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodehubThread {
    pub number: u32,
    pub title: String,
    pub start: (i32, u32, u32, u32, u32),
    pub events: Vec<String>,
}

/// Texts of newsletters, receipts, social notifications, promotions and spam.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notifications {
    pub rust_weekly_headlines: Vec<String>,
    pub morning_brief_headlines: Vec<String>,
    pub shop_items: Vec<ShopItem>,
    pub social_events: Vec<SocialEvent>,
    pub promo_offers: Vec<String>,
    pub spam: Vec<Spam>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopItem {
    pub name: String,
    pub cents: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SocialEvent {
    pub subject: String,
    pub line: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spam {
    pub from: String,
    pub subject: String,
    pub body: String,
}
