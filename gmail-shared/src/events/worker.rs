//! What runs in the background of each server process: the sync loop (polling, push hints,
//! `users.watch` renewal, retention) and the webhook dispatcher. Every process may run both:
//! leases in the database make one sync per mailbox at a time, and claims one send per
//! delivery attempt.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::StreamExt;

use super::{Event, Events, Inner, LOCAL_USER};
use crate::auth::CallerAuth;
use crate::error::GmailError;
use crate::ops::Mailbox;
use crate::store::{now_ms, AttemptOutcome};

/// Mailboxes synced at once by one process.
const SYNC_CONCURRENCY: usize = 8;
/// Deliveries sent at once by one process.
const SEND_CONCURRENCY: usize = 16;
/// How long a claimed delivery is this process's to send. A claim takes one wave of
/// [`SEND_CONCURRENCY`] sends, each bounded by the send timeout (10 s) plus the address
/// check, so no claim runs out while its sends are still going (which would let another
/// process send them again).
const CLAIM_MS: i64 = 30_000;
/// How often the loops look at the database when nothing woke them (other processes'
/// hints and events are found this way).
const TICK: Duration = Duration::from_millis(500);
/// How often the connected mailboxes are listed (a new connection is followed this soon).
const LIST_EVERY_MS: i64 = 2_000;
/// `users.watch` is renewed this often (Google recommends daily).
const WATCH_RENEW_MS: i64 = 24 * 3600 * 1000;

/// The mailboxes the feed follows, and how to act on one.
pub trait MailboxSource: Send + Sync {
    /// (user id, address) of every connected mailbox.
    fn mailboxes(&self) -> BoxFuture<'_, Result<Vec<(String, String)>, GmailError>>;
    fn open<'a>(
        &'a self,
        user_id: &'a str,
        account: &'a str,
    ) -> BoxFuture<'a, Result<Mailbox, GmailError>>;
    /// The list never changes (a single-user server): listed once.
    fn fixed(&self) -> bool {
        false
    }
}

impl MailboxSource for CallerAuth {
    fn mailboxes(&self) -> BoxFuture<'_, Result<Vec<(String, String)>, GmailError>> {
        Box::pin(async move {
            match self.accounts() {
                Some(accounts) => accounts.store().active_connections().await,
                None => {
                    let mailbox = self.fallback_context().mailbox(None).await?;
                    let address = super::feed::address_of(&mailbox).await?;
                    Ok(vec![(LOCAL_USER.to_string(), address)])
                }
            }
        })
    }

    fn fixed(&self) -> bool {
        self.accounts().is_none()
    }

    fn open<'a>(
        &'a self,
        user_id: &'a str,
        account: &'a str,
    ) -> BoxFuture<'a, Result<Mailbox, GmailError>> {
        Box::pin(async move {
            match self.accounts() {
                Some(accounts) => accounts.mailbox(user_id, Some(account)).await,
                None => self.fallback_context().mailbox(None).await,
            }
        })
    }
}

impl Events {
    /// Starts this process's sync loop and dispatcher (when `events.enabled`). They stop when
    /// the last handle to these events is dropped.
    pub fn start(&self, source: Arc<dyn MailboxSource>) {
        if !self.settings().enabled {
            return;
        }
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(sync_loop(weak.clone(), source));
        tokio::spawn(dispatch_loop(weak));
    }

    /// Asks this process's dispatcher to look for due deliveries now.
    pub fn wake_dispatcher(&self) {
        self.inner.dispatch.notify_one();
    }
}

fn upgrade(weak: &Weak<Inner>) -> Option<Events> {
    weak.upgrade().map(|inner| Events { inner })
}

async fn sync_loop(weak: Weak<Inner>, source: Arc<dyn MailboxSource>) {
    let mut last_listed = 0i64;
    let mut last_purged = 0i64;
    let mut watches = std::collections::HashMap::new();
    loop {
        let Some(events) = upgrade(&weak) else { return };
        let now = now_ms();
        if now - last_listed > LIST_EVERY_MS && !(source.fixed() && last_listed > 0) {
            match list_mailboxes(&events, source.as_ref()).await {
                Ok(()) => last_listed = now,
                Err(e) => tracing::warn!(error = %e, "cannot list mailboxes for the change feed"),
            }
        }
        if events.push_enabled() {
            renew_watches(&events, source.as_ref(), &mut watches).await;
        }
        let every = if events.push_enabled() {
            events.settings().safety_poll_secs
        } else {
            events.settings().poll_interval_secs
        };
        let every_ms = (every.max(1) * 1000) as i64;
        match events.store().due_cursors(now, every_ms, 64).await {
            Ok(due) => {
                futures::stream::iter(due)
                    .for_each_concurrent(SYNC_CONCURRENCY, |c| {
                        let events = events.clone();
                        let source = source.clone();
                        async move {
                            let outcome = async {
                                let mailbox = source.open(&c.user_id, &c.account).await?;
                                events.sync(&c.user_id, &c.account, &mailbox).await
                            }
                            .await;
                            match outcome {
                                Ok(report) if report.events > 0 => events.wake_dispatcher(),
                                Ok(_) => {}
                                Err(e) => {
                                    tracing::warn!(account = %c.account, error = %e, "mailbox sync failed")
                                }
                            }
                        }
                    })
                    .await
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the change feed's cursors"),
        }
        if now - last_purged > 3_600_000 {
            let keep = events.settings().retention_hours as i64 * 3_600_000;
            if let Err(e) = events.store().purge_events(now - keep).await {
                tracing::warn!(error = %e, "cannot purge old events");
            }
            last_purged = now;
        }
        let wake = events.inner.clone();
        drop(events);
        tokio::select! {
            _ = wake.wake.notified() => {}
            _ = tokio::time::sleep(TICK) => {}
        }
    }
}

/// Makes a cursor for every connected mailbox and forgets those of mailboxes gone.
async fn list_mailboxes(events: &Events, source: &dyn MailboxSource) -> Result<(), GmailError> {
    let connected = source.mailboxes().await?;
    let cursors = events.store().cursors().await?;
    for (user, account) in &connected {
        if !cursors
            .iter()
            .any(|c| c.user_id == *user && c.account.eq_ignore_ascii_case(account))
        {
            events.store().ensure_cursor(user, account).await?;
        }
    }
    for c in cursors {
        if !connected
            .iter()
            .any(|(u, a)| *u == c.user_id && a.eq_ignore_ascii_case(&c.account))
        {
            events.store().drop_cursor(&c.user_id, &c.account).await?;
        }
    }
    Ok(())
}

/// This process's `users.watch` calls for one mailbox.
#[derive(Default)]
struct WatchState {
    /// Failures in a row, and when to try again after the last.
    failures: u32,
    retry_at: i64,
}

/// How long after `failures` failed `users.watch` calls in a row to try again: a minute,
/// doubling, at most an hour (a watch costs 100 quota units; a topic Gmail may not publish to
/// fails every time until someone fixes it).
fn watch_retry_ms(failures: u32) -> i64 {
    (60_000i64 << failures.saturating_sub(1).min(6)).min(3_600_000)
}

/// `users.watch` for every mailbox at start-up and then daily; after a failure, later.
async fn renew_watches(
    events: &Events,
    source: &dyn MailboxSource,
    watches: &mut std::collections::HashMap<(String, String), WatchState>,
) {
    let Ok(cursors) = events.store().cursors().await else {
        return;
    };
    let topic = events.settings().pubsub_topic.clone();
    for c in cursors {
        let key = (c.user_id.clone(), c.account.clone());
        let now = now_ms();
        match watches.get(&key) {
            Some(w) if w.failures > 0 && now < w.retry_at => continue,
            // Renewed lately (by this process or another).
            Some(w) if w.failures == 0 && now - c.watch_renewed_at < WATCH_RENEW_MS => continue,
            _ => {}
        }
        let outcome = async {
            let mailbox = source.open(&c.user_id, &c.account).await?;
            let watch = crate::ops::history::watch(&mailbox, &topic).await?;
            events
                .store()
                .set_watch(&c.user_id, &c.account, watch.expiration)
                .await
        }
        .await;
        let state = watches.entry(key).or_default();
        match outcome {
            Ok(()) => *state = WatchState::default(),
            Err(e) => {
                // Polling still covers the mailbox (the safety net).
                state.failures += 1;
                state.retry_at = now + watch_retry_ms(state.failures);
                tracing::warn!(account = %c.account, error = %e, retry_in_secs = (state.retry_at - now) / 1000, "users.watch failed");
            }
        }
    }
}

async fn dispatch_loop(weak: Weak<Inner>) {
    loop {
        let Some(events) = upgrade(&weak) else { return };
        // A full claim: more may be due, so claim again without pausing.
        let mut more = false;
        let now = now_ms();
        let until = now + CLAIM_MS;
        match events
            .store()
            .claim_deliveries(now, until, SEND_CONCURRENCY as i64)
            .await
        {
            Ok(claimed) => {
                more = claimed.len() == SEND_CONCURRENCY;
                futures::stream::iter(claimed)
                    .for_each_concurrent(SEND_CONCURRENCY, |(delivery, row, url, secret)| {
                        let events = events.clone();
                        async move {
                            let attempt = events.attempt(&delivery, until, &row, &url, &secret);
                            if let Err(e) = attempt.await {
                                tracing::warn!(delivery = %delivery.id, error = %e, "cannot record a delivery attempt");
                            }
                        }
                    })
                    .await
            }
            Err(e) => tracing::warn!(error = %e, "cannot claim webhook deliveries"),
        }
        let wake = events.inner.clone();
        drop(events);
        if more {
            continue;
        }
        tokio::select! {
            _ = wake.dispatch.notified() => {}
            _ = tokio::time::sleep(TICK) => {}
        }
    }
}

impl Events {
    /// One attempt of one delivery, and what it comes to: delivered, retried later (doubling
    /// pauses up to `webhook_backoff_max_secs`), or given up after `webhook_retry_secs` — which
    /// also turns the webhook off, with the reason its owner sees.
    async fn attempt(
        &self,
        delivery: &crate::store::DeliveryRow,
        until: i64,
        row: &crate::store::EventRow,
        url: &str,
        secret: &secrecy::SecretString,
    ) -> Result<(), GmailError> {
        let event = Event::from(row);
        let answer = self.send(url, &event, secret).await;
        let (status, error) = match answer {
            Ok(code) if (200..300).contains(&code) => {
                crate::metrics::webhook_attempt("delivered");
                self.store()
                    .record_attempt(
                        &delivery.id,
                        until,
                        AttemptOutcome::Delivered {
                            status: i64::from(code),
                        },
                    )
                    .await?;
                return Ok(());
            }
            Ok(code) => (Some(i64::from(code)), format!("answered HTTP {code}")),
            Err(e) => (None, e),
        };
        let settings = self.settings();
        let pause = 1000i64
            .saturating_mul(1i64 << delivery.attempts.clamp(0, 20))
            .min(settings.webhook_backoff_max_secs.max(1) as i64 * 1000);
        let now = now_ms();
        if now + pause - delivery.created_at > settings.webhook_retry_secs as i64 * 1000 {
            crate::metrics::webhook_attempt("gave_up");
            let held = self
                .store()
                .record_attempt(
                    &delivery.id,
                    until,
                    AttemptOutcome::GaveUp {
                        status,
                        error: &error,
                    },
                )
                .await?;
            // Claimed by another instance since: its attempt decides.
            if !held {
                return Ok(());
            }
            let reason = format!(
                "deliveries to {} failed for {} s (last: {error}); fix the receiver and create the webhook again",
                super::webhooks::redacted(url),
                settings.webhook_retry_secs
            );
            tracing::warn!(webhook = %delivery.webhook_id, %reason, "webhook disabled");
            return self
                .store()
                .disable_webhook(&delivery.webhook_id, &reason)
                .await;
        }
        crate::metrics::webhook_attempt("retry");
        self.store()
            .record_attempt(
                &delivery.id,
                until,
                AttemptOutcome::Retry {
                    status,
                    error: &error,
                    retry_at: now + pause,
                },
            )
            .await?;
        Ok(())
    }
}
