//! Mailboxes: an in-memory index per mailbox (the hot path never reads SQLite) with
//! write-through persistence via [`db::DbTx`].

pub mod db;
pub mod model;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use parking_lot::RwLock;
use rand::Rng;
use sqlx::sqlite::SqlitePool;

use crate::pubsub::{PushEvent, PushTx};
use crate::render::{self, Parsed};
use crate::search::{Query, SearchContext, SearchDoc};
use db::{DbOp, DbTx, MessageRow, Table};
pub use model::*;

/// History records kept per mailbox; older ones fall off and make their ids "too old".
const HISTORY_RETENTION: usize = 50_000;

/// How a new message finds its thread (see `resolve_thread`).
#[derive(Debug, Clone, Copy)]
pub enum Threading<'a> {
    /// Sent, drafted or inserted through the API, asking for this `threadId` (or none).
    Api(Option<&'a str>),
    /// Mail arriving from outside.
    Received,
}

pub struct Store {
    mailboxes: RwLock<HashMap<String, Arc<Mailbox>>>,
    pub db: DbTx,
    push: PushTx,
}

pub struct Mailbox {
    pub email: String,
    pub display_name: String,
    pub data: RwLock<MailboxData>,
}

pub struct MailboxData {
    pub email: String,
    pub display_name: String,
    pub messages: HashMap<String, Msg>,
    /// Message ids, newest first (internalDate desc, then id desc).
    pub order: Vec<(i64, String)>,
    /// Thread id → message ids, oldest first.
    pub threads: HashMap<String, Vec<String>>,
    /// Normalised Message-ID header → Gmail message id (threading by References).
    pub msgid_index: HashMap<String, String>,
    pub labels: Vec<Label>,
    pub drafts: Vec<Draft>,
    pub filters: Vec<Filter>,
    pub history: VecDeque<HistoryRecord>,
    pub meta: Meta,
    pub vacation: serde_json::Value,
    pub send_as: Vec<serde_json::Value>,
    /// IMAP, POP, language and auto-forwarding settings by key.
    pub other_settings: HashMap<String, serde_json::Value>,
    /// Sender → when the vacation responder last answered them (not persisted).
    pub vacation_replied: HashMap<String, i64>,
    /// users.watch: changes matching it are published to its Pub/Sub topic.
    pub watch: Option<Watch>,
    db: DbTx,
    push: PushTx,
}

/// What changed in a label modification.
#[derive(Debug, Default)]
pub struct LabelChange {
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

impl Store {
    /// A store whose watches publish nothing (re-seeding, unit tests).
    pub fn new(db: DbTx) -> Store {
        Store::with_push(db, PushTx::detached())
    }

    /// A store whose watched mailboxes publish their changes on `push`.
    pub fn with_push(db: DbTx, push: PushTx) -> Store {
        Store {
            mailboxes: RwLock::new(HashMap::new()),
            db,
            push,
        }
    }

    pub fn get(&self, email: &str) -> Option<Arc<Mailbox>> {
        self.mailboxes
            .read()
            .get(&email.to_ascii_lowercase())
            .cloned()
    }

    pub fn emails(&self) -> Vec<String> {
        let mut v: Vec<String> = self.mailboxes.read().keys().cloned().collect();
        v.sort();
        v
    }

    pub fn is_empty(&self) -> bool {
        self.mailboxes.read().is_empty()
    }

    /// Create (or replace) an empty mailbox.
    pub fn create_mailbox(&self, email: &str, display_name: &str) -> Arc<Mailbox> {
        let email = email.to_ascii_lowercase();
        let mut data = MailboxData::empty(&email, display_name, self.db.clone(), self.push.clone());
        data.meta.history_id = rand::rng().random_range(1000..5000);
        data.meta.history_floor = data.meta.history_id;
        data.meta.next_label = 1;
        for l in &data.labels {
            self.db.put(Table::Labels, &email, &l.id, l);
        }
        data.save_meta();
        let mb = Arc::new(Mailbox {
            email: email.clone(),
            display_name: display_name.to_string(),
            data: RwLock::new(data),
        });
        self.mailboxes.write().insert(email, mb.clone());
        mb
    }

    pub fn clear(&self) {
        self.mailboxes.write().clear();
        self.db.send(DbOp::ResetMail);
    }

    /// Rebuild every mailbox from SQLite (parses each message once).
    pub async fn load(&self, pool: &SqlitePool) -> anyhow::Result<()> {
        for row in db::load_mailboxes(pool).await? {
            let meta: Meta = serde_json::from_str(&row.meta).unwrap_or_default();
            let mut data = MailboxData::empty(
                &row.email,
                &row.display_name,
                self.db.clone(),
                self.push.clone(),
            );
            data.meta = meta;
            data.labels = db::load_kv(pool, Table::Labels, &row.email)
                .await?
                .into_iter()
                .filter_map(|(_, d)| serde_json::from_str(&d).ok())
                .collect();
            if data.labels.is_empty() {
                data.labels = system_labels();
            }
            for m in db::load_messages(pool, &row.email).await? {
                data.index_message(m);
            }
            data.drafts = db::load_kv(pool, Table::Drafts, &row.email)
                .await?
                .into_iter()
                .filter_map(|(_, d)| serde_json::from_str(&d).ok())
                .collect();
            data.filters = db::load_kv(pool, Table::Filters, &row.email)
                .await?
                .into_iter()
                .filter_map(|(_, d)| serde_json::from_str(&d).ok())
                .collect();
            let mut hist: Vec<HistoryRecord> = db::load_kv(pool, Table::History, &row.email)
                .await?
                .into_iter()
                .filter_map(|(_, d)| serde_json::from_str(&d).ok())
                .collect();
            hist.sort_by_key(|h| h.id);
            data.history = hist.into();
            for (id, d) in db::load_kv(pool, Table::Settings, &row.email).await? {
                let v: serde_json::Value = serde_json::from_str(&d).unwrap_or_default();
                match id.as_str() {
                    "vacation" => data.vacation = v,
                    "watch" => data.watch = serde_json::from_value(v).ok(),
                    "sendAs" => {
                        data.send_as = serde_json::from_value(v).unwrap_or_default();
                    }
                    other => {
                        data.other_settings.insert(other.to_string(), v);
                    }
                }
            }
            let mb = Arc::new(Mailbox {
                email: row.email.clone(),
                display_name: row.display_name.clone(),
                data: RwLock::new(data),
            });
            self.mailboxes.write().insert(row.email.clone(), mb);
        }
        Ok(())
    }
}

/// Gmail-style message id: milliseconds shifted left 20 bits plus random low bits, as hex.
fn new_hex_id(date_ms: i64, taken: impl Fn(&str) -> bool) -> String {
    let mut rng = rand::rng();
    let base = (date_ms.max(1) as u64) << 20;
    loop {
        let id = format!("{:016x}", base | rng.random_range(0..(1u64 << 20)));
        if !taken(&id) {
            return id;
        }
    }
}

impl MailboxData {
    fn empty(email: &str, display_name: &str, db: DbTx, push: PushTx) -> MailboxData {
        MailboxData {
            email: email.to_string(),
            display_name: display_name.to_string(),
            messages: HashMap::new(),
            order: Vec::new(),
            threads: HashMap::new(),
            msgid_index: HashMap::new(),
            labels: system_labels(),
            drafts: Vec::new(),
            filters: Vec::new(),
            history: VecDeque::new(),
            meta: Meta::default(),
            vacation: serde_json::json!({
                "enableAutoReply": false,
                "responseSubject": "",
                "responseBodyPlainText": "",
                "restrictToContacts": false,
                "restrictToDomain": false
            }),
            send_as: Vec::new(),
            other_settings: HashMap::new(),
            vacation_replied: HashMap::new(),
            watch: None,
            db,
            push,
        }
    }

    pub fn save_meta(&self) {
        self.db.send(DbOp::PutMailbox {
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            meta: serde_json::to_string(&self.meta).unwrap_or_default(),
        });
    }

    /// History ids grow by random gaps so clients cannot assume `+1`.
    pub fn bump_history(&mut self) -> u64 {
        self.meta.history_id += rand::rng().random_range(1..=9);
        self.save_meta();
        self.meta.history_id
    }

    fn push_history(&mut self, rec: HistoryRecord) {
        self.notify_watch(&rec);
        self.save_row(Table::History, &rec.id.to_string(), &rec);
        self.history.push_back(rec);
        if self.history.len() > HISTORY_RETENTION {
            if let Some(old) = self.history.pop_front() {
                self.meta.history_floor = old.id;
                self.db.send(DbOp::TrimHistory {
                    mailbox: self.email.clone(),
                    below: old.id as i64 + 1,
                });
                self.save_meta();
            }
        }
    }

    /// Hand a change to the push task (never waits: the caller holds the mailbox lock).
    fn notify_watch(&self, rec: &HistoryRecord) {
        let Some(w) = &self.watch else {
            return;
        };
        if w.wants(rec, chrono::Utc::now().timestamp_millis()) {
            self.push.send(PushEvent {
                email: self.email.clone(),
                topic: w.topic.clone(),
                history_id: rec.id,
            });
        }
    }

    /// Replace (or with `None` remove) the mailbox's watch, persisted with its settings.
    pub fn set_watch(&mut self, watch: Option<Watch>) {
        match &watch {
            Some(w) => self.save_setting("watch", &serde_json::to_value(w).unwrap_or_default()),
            None => self.db.delete(Table::Settings, &self.email, "watch"),
        }
        self.watch = watch;
    }

    pub fn label_pairs(&self) -> Vec<(String, String)> {
        self.labels
            .iter()
            .map(|l| (l.id.clone(), l.name.clone()))
            .collect()
    }

    pub fn label(&self, id: &str) -> Option<&Label> {
        self.labels.iter().find(|l| l.id == id)
    }

    pub fn new_message_id(&self, date_ms: i64) -> String {
        new_hex_id(date_ms, |id| {
            self.messages.contains_key(id) || self.threads.contains_key(id)
        })
    }

    /// Put a message into the in-memory index (no history, no persistence).
    fn index_message(&mut self, message: MessageRow) {
        let parsed = Arc::new(render::parse_message(&message.raw, &message.id));
        self.index_parsed(message, parsed);
    }

    fn index_parsed(&mut self, row: MessageRow, parsed: Arc<Parsed>) {
        let (id, internal_date) = (row.id.clone(), row.internal_date);
        let mut parts = parsed.doc_parts.clone();
        parts.label_ids = row.labels.clone();
        parts.internal_date_ms = internal_date;
        let doc = SearchDoc::new(parts);
        if let Some(mid) = &parsed.message_id {
            self.msgid_index
                .entry(mid.clone())
                .or_insert_with(|| id.clone());
        }
        let key = (internal_date, id.clone());
        let pos = self
            .order
            .binary_search_by(|probe| key.cmp(probe))
            .unwrap_or_else(|p| p);
        self.order.insert(pos, key);
        let thread = self.threads.entry(row.thread_id.clone()).or_default();
        thread.push(id.clone());
        let msgs = &self.messages;
        thread.sort_by_key(|mid| {
            msgs.get(mid)
                .map(|m| (m.internal_date, m.id.clone()))
                .unwrap_or((internal_date, id.clone()))
        });
        self.messages.insert(id, Msg { row, parsed, doc });
    }

    /// The thread a new message joins. Mail sent or stored through the API joins the
    /// `threadId` it asks for only when, as Gmail requires, its References or In-Reply-To
    /// name a message of that thread and its subject matches (`Message.threadId` in the
    /// discovery document); otherwise it starts its own. Received mail joins the thread of a
    /// message it references whose subject matches.
    fn resolve_thread(&self, parsed: &Parsed, threading: Threading<'_>, new_id: &str) -> String {
        let same_subject = |m: &Msg| {
            m.parsed.base_subject == parsed.base_subject || parsed.base_subject.is_empty()
        };
        let referenced = || {
            parsed
                .references
                .iter()
                .rev()
                .filter_map(|r| self.msgid_index.get(r))
                .filter_map(|mid| self.messages.get(mid))
        };
        match threading {
            Threading::Api(Some(t)) if self.threads.contains_key(t) => {
                if referenced().any(|m| m.thread_id == t && same_subject(m)) {
                    return t.to_string();
                }
            }
            Threading::Api(_) => {}
            Threading::Received => {
                if let Some(m) = referenced().find(|m| same_subject(m)) {
                    return m.thread_id.clone();
                }
            }
        }
        new_id.to_string()
    }

    /// Store a new message, record `messageAdded`, persist. Returns its id.
    pub fn add_message(
        &mut self,
        raw: Vec<u8>,
        labels: Vec<String>,
        internal_date: i64,
        threading: Threading<'_>,
    ) -> String {
        let id = self.new_message_id(internal_date);
        let parsed = Arc::new(render::parse_message(&raw, &id));
        self.add_prepared(id, Arc::new(raw), parsed, labels, internal_date, threading)
    }

    /// Like [`add_message`](Self::add_message) for a message already parsed under `id`
    /// (the seed cache); a taken id is replaced by a fresh one and the message re-parsed.
    pub fn add_prepared(
        &mut self,
        id: String,
        raw: Arc<Vec<u8>>,
        parsed: Arc<Parsed>,
        labels: Vec<String>,
        internal_date: i64,
        threading: Threading<'_>,
    ) -> String {
        let (id, parsed) = if self.messages.contains_key(&id) || self.threads.contains_key(&id) {
            let fresh = self.new_message_id(internal_date);
            let p = Arc::new(render::parse_message(&raw, &fresh));
            (fresh, p)
        } else {
            (id, parsed)
        };
        let thread_id = self.resolve_thread(&parsed, threading, &id);
        let mut labels = labels;
        labels.dedup();
        let hid = self.bump_history();
        let message = MessageRow {
            id: id.clone(),
            thread_id: thread_id.clone(),
            labels: labels.clone(),
            internal_date,
            history_id: hid,
            raw,
        };
        self.db.send(DbOp::PutMessage {
            mailbox: self.email.clone(),
            message: message.clone(),
        });
        self.index_parsed(message, parsed);
        self.push_history(HistoryRecord {
            id: hid,
            message_id: id.clone(),
            thread_id,
            labels,
            added: true,
            deleted: false,
            labels_added: vec![],
            labels_removed: vec![],
        });
        id
    }

    /// Apply a label delta; records history only when something changed.
    pub fn modify_labels(&mut self, id: &str, add: &[String], remove: &[String]) -> LabelChange {
        let mut change = LabelChange::default();
        let Some(m) = self.messages.get(id) else {
            return change;
        };
        let mut labels = m.labels.clone();
        for r in remove {
            if labels.contains(r) && !add.contains(r) {
                labels.retain(|l| l != r);
                change.removed.push(r.clone());
            }
        }
        for a in add {
            if !labels.contains(a) {
                labels.push(a.clone());
                change.added.push(a.clone());
            }
        }
        if change.added.is_empty() && change.removed.is_empty() {
            return change;
        }
        let hid = self.bump_history();
        let Some(m) = self.messages.get_mut(id) else {
            return change;
        };
        m.labels = labels.clone();
        m.history_id = hid;
        m.doc.set_labels(labels.clone());
        let thread_id = m.thread_id.clone();
        self.db.send(DbOp::SetMessageLabels {
            mailbox: self.email.clone(),
            id: id.to_string(),
            labels: serde_json::to_string(&labels).unwrap_or_default(),
            history_id: hid as i64,
        });
        self.push_history(HistoryRecord {
            id: hid,
            message_id: id.to_string(),
            thread_id,
            labels,
            added: false,
            deleted: false,
            labels_added: change.added.clone(),
            labels_removed: change.removed.clone(),
        });
        change
    }

    /// Permanently delete a message (and a draft pointing at it).
    pub fn delete_message(&mut self, id: &str) -> bool {
        let Some(m) = self.messages.remove(id) else {
            return false;
        };
        self.order.retain(|(_, mid)| mid != id);
        if let Some(t) = self.threads.get_mut(&m.thread_id) {
            t.retain(|mid| mid != id);
            if t.is_empty() {
                self.threads.remove(&m.thread_id);
            }
        }
        if let Some(mid) = &m.parsed.message_id {
            if self.msgid_index.get(mid).map(|x| x == id).unwrap_or(false) {
                self.msgid_index.remove(mid);
            }
        }
        let email = self.email.clone();
        let db = self.db.clone();
        self.drafts.retain(|d| {
            if d.message_id == id {
                db.delete(Table::Drafts, &email, &d.id);
                false
            } else {
                true
            }
        });
        let hid = self.bump_history();
        self.db.send(DbOp::DeleteMessage {
            mailbox: self.email.clone(),
            id: id.to_string(),
        });
        self.push_history(HistoryRecord {
            id: hid,
            message_id: id.to_string(),
            thread_id: m.thread_id.clone(),
            labels: m.labels.clone(),
            added: false,
            deleted: true,
            labels_added: vec![],
            labels_removed: vec![],
        });
        true
    }

    /// Ids of messages matching a list request, newest first.
    pub fn matching_messages(
        &self,
        query: Option<&Query>,
        label_ids: &[String],
        include_spam_trash: bool,
        now_ms: i64,
    ) -> Vec<&Msg> {
        let exclude = !include_spam_trash
            && !query.map(|q| q.targets_spam_or_trash()).unwrap_or(false)
            && !label_ids.iter().any(|l| l == "SPAM" || l == "TRASH");
        let labels = if query.is_some() {
            self.label_pairs()
        } else {
            Vec::new()
        };
        let ctx = SearchContext {
            now_ms,
            user_email: &self.email,
            labels: &labels,
        };
        self.order
            .iter()
            .filter_map(|(_, id)| self.messages.get(id))
            .filter(|m| {
                if exclude && m.labels.iter().any(|l| l == "SPAM" || l == "TRASH") {
                    return false;
                }
                if !label_ids.iter().all(|l| m.has(l)) {
                    return false;
                }
                match query {
                    Some(q) => q.matches(&m.doc, &ctx),
                    None => true,
                }
            })
            .collect()
    }

    pub fn thread_history_id(&self, thread_id: &str) -> u64 {
        self.threads
            .get(thread_id)
            .map(|ids| {
                ids.iter()
                    .filter_map(|i| self.messages.get(i))
                    .map(|m| m.history_id)
                    .max()
                    .unwrap_or(0)
            })
            .unwrap_or(0)
    }

    pub fn thread_messages(&self, thread_id: &str) -> Vec<&Msg> {
        self.threads
            .get(thread_id)
            .map(|ids| ids.iter().filter_map(|i| self.messages.get(i)).collect())
            .unwrap_or_default()
    }

    /// Remove a user label from every message (labels.delete).
    pub fn strip_label(&mut self, label_id: &str) {
        let ids: Vec<String> = self
            .messages
            .values()
            .filter(|m| m.has(label_id))
            .map(|m| m.id.clone())
            .collect();
        for id in ids {
            self.modify_labels(&id, &[], &[label_id.to_string()]);
        }
    }

    /// One row of a per-mailbox table, stored as its JSON.
    fn save_row(&self, table: Table, id: &str, row: &impl serde::Serialize) {
        self.db.put(table, &self.email, id, row);
    }

    pub fn save_label(&self, l: &Label) {
        self.save_row(Table::Labels, &l.id, l);
    }

    pub fn delete_label_row(&self, id: &str) {
        self.db.delete(Table::Labels, &self.email, id);
    }

    pub fn save_draft(&self, d: &Draft) {
        self.save_row(Table::Drafts, &d.id, d);
    }

    pub fn delete_draft_row(&self, id: &str) {
        self.db.delete(Table::Drafts, &self.email, id);
    }

    pub fn save_filter(&self, f: &Filter) {
        self.save_row(Table::Filters, &f.id, f);
    }

    pub fn delete_filter_row(&self, id: &str) {
        self.db.delete(Table::Filters, &self.email, id);
    }

    pub fn save_setting(&self, key: &str, v: &serde_json::Value) {
        self.save_row(Table::Settings, key, v);
    }

    pub fn new_draft_id(&self) -> String {
        let mut rng = rand::rng();
        loop {
            let id = format!(
                "r{}",
                rng.random_range(1_000_000_000_000_000_000u64..u64::MAX / 2)
            );
            if !self.drafts.iter().any(|d| d.id == id) {
                return id;
            }
        }
    }

    pub fn new_label_id(&mut self) -> String {
        loop {
            let id = format!("Label_{}", self.meta.next_label);
            self.meta.next_label += 1;
            if self.label(&id).is_none() {
                self.save_meta();
                return id;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_mail_joins_the_thread_it_asks_for_only_under_gmails_rules() {
        let store = Store::new(DbTx::detached());
        let mb = store.create_mailbox("a@b.c", "A");
        let mut d = mb.data.write();
        let first = d.add_message(
            b"Subject: Plan\r\nMessage-ID: <p1@x>\r\n\r\nhi".to_vec(),
            vec!["INBOX".into()],
            1000,
            Threading::Received,
        );
        let thread = d.messages[&first].thread_id.clone();
        let mut api = |raw: &[u8], hint: Option<&str>| {
            let id = d.add_message(
                raw.to_vec(),
                vec!["SENT".into()],
                2000,
                Threading::Api(hint),
            );
            d.messages[&id].thread_id.clone()
        };
        let reply = b"Subject: Re: Plan\r\nIn-Reply-To: <p1@x>\r\n\r\nyes";
        // All three: the threadId, the headers, the subject.
        assert_eq!(api(reply, Some(&thread)), thread);
        // No threadId: a thread of its own, headers or not.
        assert_ne!(api(reply, None), thread);
        // The threadId without the headers, or with another subject: its own thread too.
        assert_ne!(api(b"Subject: Re: Plan\r\n\r\nyes", Some(&thread)), thread);
        let renamed = b"Subject: Something else\r\nIn-Reply-To: <p1@x>\r\n\r\nyes";
        assert_ne!(api(renamed, Some(&thread)), thread);
    }

    #[test]
    fn threading_by_references() {
        let store = Store::new(DbTx::detached());
        let mb = store.create_mailbox("a@b.c", "A");
        let mut d = mb.data.write();
        let a = d.add_message(
            b"Subject: Plan\r\nMessage-ID: <m1@x>\r\n\r\nhi".to_vec(),
            vec!["INBOX".into()],
            1000,
            Threading::Received,
        );
        let b = d.add_message(
            b"Subject: Re: Plan\r\nIn-Reply-To: <m1@x>\r\n\r\nyo".to_vec(),
            vec!["INBOX".into()],
            2000,
            Threading::Received,
        );
        let c = d.add_message(
            b"Subject: Other\r\nIn-Reply-To: <m1@x>\r\n\r\nyo".to_vec(),
            vec!["INBOX".into()],
            3000,
            Threading::Received,
        );
        assert_eq!(d.messages[&b].thread_id, a);
        assert_eq!(d.messages[&c].thread_id, c);
        assert_eq!(d.order[0].1, c);
    }
}
