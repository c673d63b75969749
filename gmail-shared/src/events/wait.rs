//! Reading a caller's events: the filters streams take, and waiting for one new message.

use std::time::Duration;

use futures::future::BoxFuture;

use super::{Event, Events, LOCAL_USER, MESSAGE_ADDED};
use crate::error::GmailError;
use crate::ops::history::{self, Arrived};
use crate::ops::Mailbox;
use crate::store::{now_ms, EventRow};
use crate::tools::ToolContext;

/// A message counts as arriving after a wait began if Gmail received it at most this long
/// before (clocks differ a little).
const CLOCK_SLACK_MS: i64 = 1_000;
/// How often a wait reads the events table when nothing in this process woke it.
const WAIT_TICK: Duration = Duration::from_millis(250);

/// Which of a caller's events a stream shows.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub account: Option<String>,
    /// Only events about messages with one of these labels (resyncs always pass).
    pub label_ids: Vec<String>,
    /// Only `message.added` events this Gmail search matches (other types pass).
    pub query: Option<String>,
    pub types: Vec<String>,
}

/// The user id events are filed under for this caller: theirs on a multi-user server, the
/// one local user otherwise. A multi-user request without a caller has none.
pub fn user_of(ctx: &ToolContext) -> Result<String, GmailError> {
    match ctx.mailboxes.caller() {
        Some(c) => Ok(c.user_id.clone()),
        None if !ctx.env.multi_user => Ok(LOCAL_USER.to_string()),
        None => Err(GmailError::invalid(
            "Authorization",
            "send an API key: Authorization: Bearer <key>",
        )),
    }
}

impl Events {
    /// The caller's events after `after`, filtered; returns them and the last number read
    /// (which moves past filtered-out events too).
    pub async fn read(
        &self,
        ctx: &ToolContext,
        user_id: &str,
        after: i64,
        filter: &EventFilter,
    ) -> Result<(Vec<Event>, i64), GmailError> {
        let rows = self.store().events_after(user_id, after, 200).await?;
        let last = rows.last().map(|r| r.seq).unwrap_or(after);
        let mut kept: Vec<&EventRow> = rows.iter().filter(|r| passes(r, filter)).collect();
        if let Some(q) = filter.query.as_deref().filter(|q| !q.trim().is_empty()) {
            // One search per account among the new messages.
            let mut accounts: Vec<&str> = kept
                .iter()
                .filter(|r| r.kind == MESSAGE_ADDED)
                .map(|r| r.account.as_str())
                .collect();
            accounts.dedup();
            let mut hits = std::collections::HashSet::new();
            for account in accounts {
                let candidates: Vec<(String, i64)> = kept
                    .iter()
                    .filter(|r| r.kind == MESSAGE_ADDED && r.account == account)
                    .filter_map(|r| candidate(r))
                    .collect();
                // An account that cannot be searched now (disconnected, to re-authorize)
                // matches nothing; the stream goes on with the others.
                match ctx.mailbox(Some(account)).await {
                    Ok(mailbox) => hits.extend(history::matching(&mailbox, q, &candidates).await?),
                    Err(e) => {
                        tracing::debug!(account, error = %e, "cannot search an account's new mail")
                    }
                }
            }
            kept.retain(|r| {
                r.kind != MESSAGE_ADDED
                    || r.data
                        .get("id")
                        .and_then(|v| v.as_str())
                        .is_some_and(|id| hits.contains(id))
            });
        }
        Ok((kept.into_iter().map(Event::from).collect(), last))
    }

    /// Waits up to `timeout` for a message matching `query` (any, when empty) to arrive in
    /// this mailbox after the call, without holding a Gmail request open: it syncs the
    /// mailbox's history every `poll_every` (less often when Gmail pushes) and reads the
    /// events in between. `lookback` also accepts mail that came that long before the call.
    /// `progress` is told (elapsed, total) seconds every few seconds.
    pub async fn wait_for_email<'a>(
        &self,
        user_id: &str,
        mailbox: &Mailbox,
        query: &str,
        timeout: Duration,
        lookback: Duration,
        progress: &(dyn Fn(u64, u64) -> BoxFuture<'a, ()> + Sync),
    ) -> Result<Option<Arrived>, GmailError> {
        let started = now_ms();
        let (mut after, account) = self.watch_from(user_id, mailbox).await?;
        if !lookback.is_zero() {
            let since = (started - lookback.as_millis() as i64) / 1000;
            let q = format!("{} after:{since}", query.trim());
            if let Some(found) = history::newest_matching(mailbox, q.trim()).await? {
                return Ok(Some(found));
            }
        }
        let sync_every = Duration::from_secs(if self.push_enabled() { 15 } else { 2 });
        let mut last_sync = tokio::time::Instant::now();
        let mut last_progress = tokio::time::Instant::now();
        let deadline = tokio::time::Instant::now() + timeout;
        let mut stored = self.stored_signal();
        loop {
            let rows = self.store().events_after(user_id, after, 200).await?;
            if let Some(last) = rows.last() {
                after = last.seq;
            }
            let candidates: Vec<&EventRow> = rows
                .iter()
                .filter(|r| r.kind == MESSAGE_ADDED && r.account.eq_ignore_ascii_case(&account))
                .filter(|r| {
                    r.data
                        .get("internalDate")
                        .and_then(|v| v.as_i64())
                        .unwrap_or(0)
                        >= started - CLOCK_SLACK_MS
                })
                .collect();
            if !candidates.is_empty() {
                let ids: Vec<(String, i64)> =
                    candidates.iter().filter_map(|r| candidate(r)).collect();
                let hits = history::matching(mailbox, query, &ids).await?;
                if let Some(first) = candidates.iter().find(|r| {
                    r.data
                        .get("id")
                        .and_then(|v| v.as_str())
                        .is_some_and(|id| hits.iter().any(|h| h == id))
                }) {
                    return Ok(serde_json::from_value(first.data.clone()).ok());
                }
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            if now.duration_since(last_progress) >= Duration::from_secs(5) {
                last_progress = now;
                let elapsed = now.duration_since(deadline - timeout).as_secs();
                progress(elapsed, timeout.as_secs()).await;
            }
            if now.duration_since(last_sync) >= sync_every {
                last_sync = now;
                // Another process may hold the mailbox; its events show up all the same.
                let synced = self.sync_unless_recent(user_id, &account, mailbox, sync_every);
                if let Err(e) = synced.await {
                    tracing::debug!(error = %e, "sync during a wait failed; trying again");
                }
                continue;
            }
            let pause = WAIT_TICK.min(deadline - now);
            tokio::select! {
                _ = stored.changed() => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }
}

/// A `message.added` event's message as [`history::matching`] takes it: id, internalDate.
fn candidate(r: &EventRow) -> Option<(String, i64)> {
    let id = r.data.get("id")?.as_str()?.to_string();
    let at = r.data.get("internalDate").and_then(|v| v.as_i64());
    Some((id, at.unwrap_or(0)))
}

fn passes(r: &EventRow, f: &EventFilter) -> bool {
    if !f.types.is_empty() && !f.types.contains(&r.kind) {
        return false;
    }
    if let Some(a) = &f.account {
        if !a.eq_ignore_ascii_case(&r.account) {
            return false;
        }
    }
    if f.label_ids.is_empty() || r.kind == super::MAILBOX_RESYNCED {
        return true;
    }
    let labels = |key: &str| -> Vec<String> {
        r.data
            .get(key)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut touched = labels("labelIds");
    touched.extend(labels("labelsAdded"));
    touched.extend(labels("labelsRemoved"));
    touched.iter().any(|l| f.label_ids.contains(l))
}

impl Events {
    /// Waits (however long it takes) for mail to arrive in, or leave, the inbox of `account`
    /// after event `after`, which it moves forward. What resource subscriptions wait on.
    pub async fn next_inbox_change(
        &self,
        user_id: &str,
        account: &str,
        after: &mut i64,
    ) -> Result<(), GmailError> {
        let mut stored = self.stored_signal();
        loop {
            let rows = self.store().events_after(user_id, *after, 200).await?;
            if let Some(last) = rows.last() {
                *after = last.seq;
            }
            let inbox = EventFilter {
                account: Some(account.to_string()),
                label_ids: vec!["INBOX".into()],
                ..Default::default()
            };
            if rows
                .iter()
                .any(|r| r.kind != super::MESSAGE_DELETED && passes(r, &inbox))
                || rows.iter().any(|r| {
                    r.kind == super::MESSAGE_DELETED && r.account.eq_ignore_ascii_case(account)
                })
            {
                return Ok(());
            }
            tokio::select! {
                _ = stored.changed() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
    }
}
