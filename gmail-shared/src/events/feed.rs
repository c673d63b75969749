//! One mailbox's change feed: Gmail's history since the stored cursor, as events.
//!
//! The cursor makes the feed idempotent: a duplicated, late or out-of-order push only asks
//! for a sync, and a sync reads from where the last one stopped. A cursor Gmail no longer
//! knows (404) is reset to the mailbox's current historyId, and the reset is itself an event.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::json;

use super::{Events, LABELS_CHANGED, MAILBOX_RESYNCED, MESSAGE_ADDED, MESSAGE_DELETED};
use crate::error::GmailError;
use crate::ops::history::{self, ChangeKind, ChangesRequest};
use crate::ops::{Mailbox, PageSize};
use crate::store::{now_ms, NewEvent, Webhook};

/// History pages read per sync; a bigger backlog continues in the next sync.
const MAX_PAGES: usize = 20;
/// How long a sync may hold its mailbox before another process may take over.
const LEASE_MS: i64 = 60_000;
/// How long `pin` waits for another process's first sync of a mailbox to pin it.
const PIN_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// False when another sync held the mailbox (nothing was done).
    pub ran: bool,
    pub events: usize,
    pub resynced: bool,
    /// The types of the events stored.
    pub kinds: Vec<String>,
}

impl Events {
    /// Syncs one mailbox now, unless another sync (in any process) holds it.
    pub async fn sync(
        &self,
        user_id: &str,
        account: &str,
        mailbox: &Mailbox,
    ) -> Result<SyncReport, GmailError> {
        self.sync_unless_recent(user_id, account, mailbox, Duration::ZERO)
            .await
    }

    /// [`Self::sync`], unless a sync of this mailbox (by anyone) started less than `recent`
    /// ago: waiters share one sync in each of their poll periods, not one each.
    pub async fn sync_unless_recent(
        &self,
        user_id: &str,
        account: &str,
        mailbox: &Mailbox,
        recent: Duration,
    ) -> Result<SyncReport, GmailError> {
        let account = account.to_ascii_lowercase();
        let store = self.store();
        store.ensure_cursor(user_id, &account).await?;
        let started = now_ms();
        // A quarter period of slack: a waiter's own last sync, stamped a little after its
        // timer started, must not make it skip. Zero asks nothing of the last sync's time.
        let synced_before = match recent.as_millis() as i64 {
            0 => None,
            ms => Some(started.saturating_sub(ms - ms / 4)),
        };
        if !store
            .lease_cursor(
                user_id,
                &account,
                &self.inner.instance,
                started,
                started + LEASE_MS,
                synced_before,
            )
            .await?
        {
            return Ok(SyncReport::default());
        }
        let outcome = self.sync_leased(user_id, &account, mailbox).await;
        let error = outcome.as_ref().err().map(|e| e.to_string());
        store
            .release_cursor(
                user_id,
                &account,
                &self.inner.instance,
                Some(started),
                error.as_deref(),
            )
            .await?;
        let stored: Vec<String> = match &outcome {
            Ok(r) => r.kinds.clone(),
            Err(_) => vec![],
        };
        let label = match &outcome {
            Ok(r) if r.resynced => "resynced",
            Ok(_) => "ok",
            Err(_) => "failed",
        };
        crate::metrics::feed_sync(label, &stored);
        let report = outcome?;
        if report.events > 0 {
            self.announce();
        }
        Ok(report)
    }

    /// Where a new watcher of this mailbox starts reading the user's events: after the last
    /// one, read before the feed is pinned (see [`Events::pin`]) so that nothing a sync
    /// stores meanwhile falls before it. Also answers the mailbox's address.
    pub async fn watch_from(
        &self,
        user_id: &str,
        mailbox: &Mailbox,
    ) -> Result<(i64, String), GmailError> {
        let after = self.store().last_event_seq(user_id).await?;
        let account = self.pin(user_id, mailbox).await?;
        Ok((after, account))
    }

    /// Gives this mailbox's feed its starting point now, if it has none yet, so that a watcher
    /// starting to read hears of the next message. The sync loop pins a mailbox a little
    /// after it is connected or after the server starts; a message that came in that gap
    /// would become the starting point instead of an event, and be missed. Answers the
    /// mailbox's address, which names its feed.
    pub async fn pin(&self, user_id: &str, mailbox: &Mailbox) -> Result<String, GmailError> {
        let account = address_of(mailbox).await?;
        let deadline = tokio::time::Instant::now() + PIN_WAIT;
        loop {
            let cursor = self.store().cursor(user_id, &account).await?;
            if cursor.is_some_and(|c| c.history_id.is_some()) {
                return Ok(account);
            }
            // Not ran: another process's first sync holds the mailbox and pins it shortly.
            if self.sync(user_id, &account, mailbox).await?.ran {
                return Ok(account);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(GmailError::unavailable(format!(
                    "the change feed of {account} is busy starting; try again in a few seconds"
                )));
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    async fn sync_leased(
        &self,
        user_id: &str,
        account: &str,
        mailbox: &Mailbox,
    ) -> Result<SyncReport, GmailError> {
        let store = self.store();
        let cursor = store
            .cursor(user_id, account)
            .await?
            .ok_or_else(|| GmailError::internal("cursor vanished"))?;
        let Some(from) = cursor.history_id else {
            // First sync: start from now; what is already in the mailbox is no event.
            let profile = crate::ops::profile::get_profile(mailbox).await?;
            store
                .start_cursor(user_id, account, &profile.history_id)
                .await?;
            return Ok(SyncReport {
                ran: true,
                ..Default::default()
            });
        };
        let (to, events, resynced) = match read_history(mailbox, &from).await {
            Ok((to, changes)) => {
                let webhooks = store.webhooks(user_id).await?;
                let events = self
                    .events_of(mailbox, account, &changes, &webhooks)
                    .await?;
                (to, events, false)
            }
            Err(GmailError::NotFound { .. }) => {
                let profile = crate::ops::profile::get_profile(mailbox).await?;
                tracing::warn!(
                    account,
                    from = %from,
                    to = %profile.history_id,
                    "history cursor too old; resynced, changes in between are not reported"
                );
                let data = json!({
                    "account": account,
                    "fromHistoryId": from,
                    "historyId": profile.history_id,
                    "reason": "Gmail no longer has the history since the last sync; re-read the mailbox",
                });
                let webhooks = store.webhooks(user_id).await?;
                let targets = webhooks
                    .iter()
                    .filter(|w| wants(w, MAILBOX_RESYNCED, account, &[]))
                    .map(|w| w.id.clone())
                    .collect();
                let event = NewEvent {
                    kind: MAILBOX_RESYNCED.into(),
                    data,
                    webhooks: targets,
                };
                (profile.history_id, vec![event], true)
            }
            Err(e) => return Err(e),
        };
        let stored = store
            .commit_sync(user_id, account, &from, &to, resynced, events)
            .await?;
        let kinds: Vec<String> = stored.iter().flatten().map(|e| e.kind.clone()).collect();
        Ok(SyncReport {
            ran: stored.is_some(),
            events: kinds.len(),
            resynced: resynced && stored.is_some(),
            kinds,
        })
    }

    /// Turns history records into events, fetching what `message.added` shows in one batch
    /// and deciding which webhooks each event goes to.
    async fn events_of(
        &self,
        mailbox: &Mailbox,
        account: &str,
        changes: &[history::Change],
        webhooks: &[Webhook],
    ) -> Result<Vec<NewEvent>, GmailError> {
        let mut added_ids: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        let drafts_added: HashSet<&str> = changes
            .iter()
            .filter(|c| c.kind == ChangeKind::MessageAdded)
            .filter(|c| c.label_ids.iter().any(|l| l == "DRAFT"))
            .map(|c| c.message_id.as_str())
            .collect();
        for c in changes {
            // A draft is not mail arriving or leaving.
            if c.kind == ChangeKind::MessageAdded
                && !c.label_ids.iter().any(|l| l == "DRAFT")
                && seen.insert(c.message_id.clone())
            {
                added_ids.push(c.message_id.clone());
            }
        }
        let arrived: HashMap<String, history::Arrived> = history::arrived(mailbox, &added_ids)
            .await?
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect();
        // Webhooks with a search: one messages.list per distinct query.
        let mut matched: HashMap<&str, HashSet<String>> = HashMap::new();
        let present: Vec<(String, i64)> = added_ids
            .iter()
            .filter_map(|id| arrived.get(id).map(|a| (id.clone(), a.internal_date)))
            .collect();
        for w in webhooks.iter().filter(|w| w.enabled) {
            if let Some(q) = w.query.as_deref() {
                if !matched.contains_key(q) && !present.is_empty() {
                    let hits = match history::matching(mailbox, q, &present).await {
                        Ok(hits) => hits,
                        // Gmail refuses the search itself: that webhook's fault, which must
                        // not stop the mailbox's feed for every other watcher.
                        Err(GmailError::InvalidArgument { message, .. }) => {
                            let reason = format!("Gmail refused its search {q:?}: {message}; create the webhook again with a valid query");
                            for bad in webhooks.iter().filter(|b| b.query.as_deref() == Some(q)) {
                                self.store().disable_webhook(&bad.id, &reason).await?;
                            }
                            vec![]
                        }
                        Err(e) => return Err(e),
                    };
                    matched.insert(q, hits.into_iter().collect());
                }
            }
        }
        let targets = |kind: &str, id: &str, labels: &[String]| -> Vec<String> {
            webhooks
                .iter()
                .filter(|w| w.enabled && wants(w, kind, account, labels))
                // The search picks among new messages; other events pass (as on streams).
                .filter(|w| match w.query.as_deref() {
                    Some(q) if kind == MESSAGE_ADDED => {
                        matched.get(q).is_some_and(|hits| hits.contains(id))
                    }
                    _ => true,
                })
                .map(|w| w.id.clone())
                .collect()
        };
        let mut events = Vec::new();
        let mut labels_by_message: Vec<(String, String, Vec<String>, Vec<String>)> = Vec::new();
        for c in changes {
            match c.kind {
                ChangeKind::MessageAdded => {
                    if let Some(a) = arrived.get(&c.message_id) {
                        if added_ids.contains(&a.id) && !events_has(&events, MESSAGE_ADDED, &a.id) {
                            events.push(NewEvent {
                                kind: MESSAGE_ADDED.into(),
                                webhooks: targets(MESSAGE_ADDED, &a.id, &a.label_ids),
                                data: serde_json::to_value(a).unwrap_or_default(),
                            });
                        }
                    }
                }
                // A draft saved anew (Gmail replaces its message) or discarded is no mail
                // leaving the mailbox, as an added draft is none arriving.
                ChangeKind::MessageDeleted
                    if c.label_ids.iter().any(|l| l == "DRAFT")
                        || drafts_added.contains(c.message_id.as_str()) => {}
                ChangeKind::MessageDeleted => events.push(NewEvent {
                    kind: MESSAGE_DELETED.into(),
                    webhooks: targets(MESSAGE_DELETED, &c.message_id, &c.label_ids),
                    data: json!({"id": c.message_id, "threadId": c.thread_id}),
                }),
                ChangeKind::LabelAdded | ChangeKind::LabelRemoved => {
                    // Merged per message within the sync: one labels.changed each.
                    let entry = match labels_by_message
                        .iter_mut()
                        .find(|(id, ..)| *id == c.message_id)
                    {
                        Some(e) => e,
                        None => {
                            labels_by_message.push((
                                c.message_id.clone(),
                                c.thread_id.clone(),
                                vec![],
                                vec![],
                            ));
                            labels_by_message.last_mut().expect("just pushed")
                        }
                    };
                    let (added, removed) = (&mut entry.2, &mut entry.3);
                    for l in &c.label_ids {
                        if c.kind == ChangeKind::LabelAdded {
                            removed.retain(|x| x != l);
                            if !added.contains(l) {
                                added.push(l.clone());
                            }
                        } else {
                            added.retain(|x| x != l);
                            if !removed.contains(l) {
                                removed.push(l.clone());
                            }
                        }
                    }
                }
            }
        }
        for (id, thread_id, added, removed) in labels_by_message {
            if added.is_empty() && removed.is_empty() {
                continue;
            }
            let touched: Vec<String> = added.iter().chain(&removed).cloned().collect();
            events.push(NewEvent {
                kind: LABELS_CHANGED.into(),
                webhooks: targets(LABELS_CHANGED, &id, &touched),
                data: json!({"id": id, "threadId": thread_id, "labelsAdded": added, "labelsRemoved": removed}),
            });
        }
        Ok(events)
    }
}

fn events_has(events: &[NewEvent], kind: &str, id: &str) -> bool {
    events
        .iter()
        .any(|e| e.kind == kind && e.data.get("id").and_then(|v| v.as_str()) == Some(id))
}

/// Whether a webhook takes this kind of event on this account with these labels (its
/// search, if any, is checked separately).
pub fn wants(w: &Webhook, kind: &str, account: &str, labels: &[String]) -> bool {
    (w.events.is_empty() || w.events.iter().any(|e| e == kind))
        && w.account
            .as_deref()
            .is_none_or(|a| a.eq_ignore_ascii_case(account))
        && (w.label_ids.is_empty() || labels.iter().any(|l| w.label_ids.contains(l)))
}

/// The mailbox's address, which names its cursor (asked of Gmail, now and then, when the
/// connection does not know it).
pub async fn address_of(mailbox: &Mailbox) -> Result<String, GmailError> {
    if let Some(a) = mailbox.account() {
        return Ok(a.to_ascii_lowercase());
    }
    let cache = &mailbox.connection().profile_address;
    let generation = match cache.get() {
        Ok(address) => return Ok(address),
        Err(generation) => generation,
    };
    let address = crate::ops::profile::get_profile(mailbox)
        .await?
        .email_address
        .to_ascii_lowercase();
    cache.set(generation, address.clone());
    Ok(address)
}

/// Every history record since `from`, up to [`MAX_PAGES`] pages or [`MAX_NEW`] new messages,
/// and where the next sync starts.
async fn read_history(
    mailbox: &Mailbox,
    from: &str,
) -> Result<(String, Vec<history::Change>), GmailError> {
    let mut request = ChangesRequest {
        start_history_id: from.to_string(),
        max_results: PageSize::fixed(PageSize::MAX),
        ..Default::default()
    };
    let mut changes = Vec::new();
    for _ in 0..MAX_PAGES {
        let page = history::list_changes(mailbox, &request).await?;
        changes.extend(page.changes);
        if cut_at_new(&mut changes, MAX_NEW) {
            break;
        }
        match page.next_page_token {
            Some(token) => request.page_token = Some(token),
            None => return Ok((page.history_id, changes)),
        }
    }
    // Stopped early: continue after the last record read.
    let last = changes
        .last()
        .map(|c| c.history_id.clone())
        .unwrap_or_else(|| from.to_string());
    Ok((last, changes))
}

/// New messages one sync describes at most (each costs a metadata get, about 5 quota units;
/// a backlog of thousands in one sync would spend minutes of the mailbox's quota, and fail
/// whole). A bigger backlog continues in the next sync.
const MAX_NEW: usize = 500;

/// Keeps the changes up to the record in which the `max`th new message was added (a record
/// is kept whole, so the next sync can start after it); whether any were cut or the limit
/// was reached.
fn cut_at_new(changes: &mut Vec<history::Change>, max: usize) -> bool {
    // Counted as `events_of` fetches them: once each, drafts not at all.
    let mut added = HashSet::new();
    let Some(reached) = changes.iter().position(|c| {
        if c.kind == ChangeKind::MessageAdded && !c.label_ids.iter().any(|l| l == "DRAFT") {
            added.insert(c.message_id.as_str());
        }
        added.len() >= max
    }) else {
        return false;
    };
    let record = changes[reached].history_id.clone();
    let end = changes[reached..]
        .iter()
        .position(|c| c.history_id != record)
        .map_or(changes.len(), |n| reached + n);
    changes.truncate(end);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(history_id: &str, kind: ChangeKind) -> history::Change {
        history::Change {
            history_id: history_id.into(),
            kind,
            message_id: format!("m{history_id}"),
            thread_id: "t".into(),
            label_ids: vec![],
        }
    }

    #[test]
    fn a_sync_stops_after_the_record_with_the_last_new_message_it_takes() {
        use ChangeKind::{LabelAdded, MessageAdded};
        let mut changes = vec![
            change("1", MessageAdded),
            change("2", LabelAdded),
            change("3", MessageAdded),
            change("3", LabelAdded),
            change("4", MessageAdded),
        ];
        assert!(!cut_at_new(&mut changes.clone(), 4));
        // A draft, and a message added twice, count as nothing more.
        let mut drafts = changes.clone();
        drafts[0].label_ids = vec!["DRAFT".into()];
        drafts[4].message_id = "m3".into();
        assert!(!cut_at_new(&mut drafts, 2));
        assert!(cut_at_new(&mut changes, 2));
        // Record 3 is kept whole; the next sync starts after it, at record 4.
        let ids: Vec<&str> = changes.iter().map(|c| c.history_id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "3", "3"]);
    }
}
