//! The records a mailbox keeps in memory (and mirrors to SQLite).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::db::MessageRow;
use crate::render::{MsgView, Parsed};
use crate::search::SearchDoc;

/// A stored message: its row (raw bytes and mutable state, as SQLite keeps it) and what is
/// derived from the bytes. It reads as its row (`m.id`, `m.labels`).
#[derive(Debug, Clone)]
pub struct Msg {
    pub row: MessageRow,
    pub parsed: Arc<Parsed>,
    pub doc: SearchDoc,
}

impl std::ops::Deref for Msg {
    type Target = MessageRow;
    fn deref(&self) -> &MessageRow {
        &self.row
    }
}

impl std::ops::DerefMut for Msg {
    fn deref_mut(&mut self) -> &mut MessageRow {
        &mut self.row
    }
}

impl Msg {
    pub fn view(&self) -> MsgView<'_> {
        MsgView {
            id: &self.id,
            thread_id: &self.thread_id,
            labels: &self.labels,
            history_id: self.history_id,
            internal_date: self.internal_date,
            raw: &self.raw,
            parsed: &self.parsed,
        }
    }

    pub fn has(&self, label: &str) -> bool {
        self.labels.iter().any(|l| l == label)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LabelColor {
    #[serde(rename = "textColor")]
    pub text_color: String,
    #[serde(rename = "backgroundColor")]
    pub background_color: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Label {
    pub id: String,
    pub name: String,
    #[serde(
        rename = "messageListVisibility",
        skip_serializing_if = "Option::is_none"
    )]
    pub message_list_visibility: Option<String>,
    #[serde(
        rename = "labelListVisibility",
        skip_serializing_if = "Option::is_none"
    )]
    pub label_list_visibility: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<LabelColor>,
}

impl Label {
    pub fn is_system(&self) -> bool {
        self.kind == "system"
    }
}

/// A history record: one change to one message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HistoryRecord {
    pub id: u64,
    pub message_id: String,
    pub thread_id: String,
    /// Labels after the change.
    pub labels: Vec<String>,
    #[serde(default)]
    pub added: bool,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub labels_added: Vec<String>,
    #[serde(default)]
    pub labels_removed: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Draft {
    pub id: String,
    pub message_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Filter {
    pub id: String,
    pub criteria: serde_json::Value,
    pub action: serde_json::Value,
}

/// A users.watch registration, saved with the mailbox's settings (key `watch`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Watch {
    #[serde(rename = "topicName")]
    pub topic: String,
    #[serde(rename = "labelIds", default)]
    pub label_ids: Vec<String>,
    /// `labelFilterBehavior`: true = exclude, false = include (Gmail's default).
    #[serde(default)]
    pub exclude: bool,
    /// Epoch ms after which nothing is pushed any more.
    pub expiration: i64,
}

impl Watch {
    /// Whether a change is pushed: a change "relates to" a label when the message carries it
    /// afterwards or the change added or removed it.
    pub fn wants(&self, rec: &HistoryRecord, now_ms: i64) -> bool {
        if now_ms >= self.expiration {
            return false;
        }
        if self.label_ids.is_empty() {
            return true;
        }
        let relates = rec
            .labels
            .iter()
            .chain(&rec.labels_added)
            .chain(&rec.labels_removed)
            .any(|l| self.label_ids.contains(l));
        relates != self.exclude
    }
}

/// Per-mailbox counters and settings saved in the `mailboxes.meta` column.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Meta {
    pub history_id: u64,
    pub history_floor: u64,
    pub next_label: u64,
}

/// Gmail's system labels with the visibilities a real account shows.
pub fn system_labels() -> Vec<Label> {
    let mk = |id: &str, mlv: Option<&str>, llv: Option<&str>| Label {
        id: id.to_string(),
        name: id.to_string(),
        message_list_visibility: mlv.map(str::to_string),
        label_list_visibility: llv.map(str::to_string),
        kind: "system".into(),
        color: None,
    };
    vec![
        mk("CHAT", Some("hide"), Some("labelHide")),
        mk("SENT", Some("hide"), Some("labelShow")),
        mk("INBOX", Some("hide"), Some("labelShow")),
        mk("IMPORTANT", Some("hide"), Some("labelHide")),
        mk("TRASH", Some("hide"), Some("labelHide")),
        mk("DRAFT", Some("hide"), Some("labelShow")),
        mk("SPAM", Some("hide"), Some("labelHide")),
        mk("CATEGORY_FORUMS", Some("hide"), Some("labelHide")),
        mk("CATEGORY_UPDATES", Some("hide"), Some("labelHide")),
        mk("CATEGORY_PERSONAL", Some("hide"), Some("labelHide")),
        mk("CATEGORY_PROMOTIONS", Some("hide"), Some("labelHide")),
        mk("CATEGORY_SOCIAL", Some("hide"), Some("labelHide")),
        mk("STARRED", Some("hide"), Some("labelShow")),
        mk("UNREAD", None, None),
    ]
}

/// Gmail's fixed label colour palette (`LabelColor` in the discovery document).
pub const PALETTE: &[&str] = &[
    "#000000", "#434343", "#666666", "#999999", "#cccccc", "#efefef", "#f3f3f3", "#ffffff",
    "#fb4c2f", "#ffad47", "#fad165", "#16a766", "#43d692", "#4a86e8", "#a479e2", "#f691b3",
    "#f6c5be", "#ffe6c7", "#fef1d1", "#b9e4d0", "#c6f3de", "#c9daf8", "#e4d7f5", "#fcdee8",
    "#efa093", "#ffd6a2", "#fce8b3", "#89d3b2", "#a0eac9", "#a4c2f4", "#d0bcf1", "#fbc8d9",
    "#e66550", "#ffbc6b", "#fcda83", "#44b984", "#68dfa9", "#6d9eeb", "#b694e8", "#f7a7c0",
    "#cc3a21", "#eaa041", "#f2c960", "#149e60", "#3dc789", "#3c78d8", "#8e63ce", "#e07798",
    "#ac2b16", "#cf8933", "#d5ae49", "#0b804b", "#2a9c68", "#285bac", "#653e9b", "#b65775",
    "#822111", "#a46a21", "#aa8831", "#076239", "#1a764d", "#1c4587", "#41236d", "#83334c",
    "#464646", "#e7e7e7", "#0d3472", "#b6cff5", "#0d3b44", "#98d7e4", "#3d188e", "#e3d7ff",
    "#711a36", "#fbd3e0", "#8a1c0a", "#f2b2a8", "#7a2e0b", "#ffc8af", "#7a4706", "#ffdeb5",
    "#594c05", "#fbe983", "#684e07", "#fdedc1", "#0b4f30", "#b3efd3", "#04502e", "#a2dcc1",
    "#c2c2c2", "#4986e7", "#2da2bb", "#b99aff", "#994a64", "#f691b2", "#ff7537", "#ffad46",
    "#662e37", "#ebdbde", "#cca6ac", "#094228", "#42d692", "#16a765", "#007286", "#083018",
    "#1e53b8", "#202124", "#521d28", "#54240e", "#633e04", "#757575", "#7858c3", "#c2185b",
    "#d93025",
];
