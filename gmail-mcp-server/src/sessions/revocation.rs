//! Revoked keys and disabled users lose their sessions on every instance: each polls the
//! shared database for revocations.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Sessions;

/// Closes, within about `every`, the open sessions of keys revoked and users disabled
/// since the server started (multi-user mode); any instance's admin command reaches them all
/// through the shared database.
pub fn spawn_revocation_watch(
    store: gmail_shared::store::Store,
    sessions: Arc<Sessions>,
    stop: CancellationToken,
    every: Duration,
) {
    tokio::spawn(async move {
        let now = || chrono::Utc::now().timestamp();
        // A little overlap: revocations are stamped in whole seconds by another process.
        let mut since = now() - 2;
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tick.tick() => {}
            }
            let polled_at = now();
            if sessions.owner_keys().is_empty() {
                since = polled_at - 2;
                continue;
            }
            match store.revocations_since(since).await {
                Ok((keys, users)) => {
                    if !keys.is_empty() || !users.is_empty() {
                        let doomed = |user: Option<&str>, key: Option<&str>| {
                            key.is_some_and(|k| keys.iter().any(|r| r == k))
                                || user.is_some_and(|u| users.iter().any(|d| d == u))
                        };
                        let closed = sessions.close_where(|s| doomed(s.owner(), s.owner_key()))
                            + sessions.end_requests_where(|u, k| doomed(Some(u), Some(k)));
                        if closed > 0 {
                            tracing::info!(
                                closed,
                                "closed sessions and requests of revoked keys or disabled users"
                            );
                        }
                    }
                    since = polled_at - 2;
                }
                Err(e) => tracing::warn!(error = %e, "cannot check for revoked keys"),
            }
        }
    });
}
