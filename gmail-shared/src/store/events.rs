//! Events: mailbox cursors and the outbox of events, written with their webhook deliveries
//! in one transaction (migration 0010). Times here are Unix milliseconds.

use sqlx::Row;

use super::columns::JsonText;
use super::{new_id, Store};
use crate::error::GmailError;

/// A mailbox's place in its Gmail history.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CursorRow {
    pub user_id: String,
    pub account: String,
    pub history_id: Option<String>,
    pub synced_at: i64,
    pub hinted_at: i64,
    pub watch_expires_at: Option<i64>,
    pub watch_renewed_at: i64,
    pub resyncs: i64,
    pub last_resync_at: Option<i64>,
    pub last_error: Option<String>,
}

/// An event about to be stored, with the webhooks it goes to.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: String,
    pub data: serde_json::Value,
    pub webhooks: Vec<String>,
}

/// A stored event.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: String,
    pub user_id: String,
    pub seq: i64,
    pub account: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    #[sqlx(try_from = "JsonText")]
    pub data: serde_json::Value,
    pub created_at: i64,
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Store {
    // ------------------------------------------------------------------ cursors

    /// Makes sure a mailbox has a cursor (a new one starts at no history: the first sync
    /// takes the mailbox's current historyId and reports nothing from before).
    pub async fn ensure_cursor(&self, user_id: &str, account: &str) -> Result<(), GmailError> {
        self.run(sql!(
            "INSERT INTO event_cursors (user_id, account) VALUES ($1, $2) ON CONFLICT \
             DO NOTHING",
            user_id,
            account.to_ascii_lowercase()
        ))
        .await
    }

    pub async fn cursor(
        &self,
        user_id: &str,
        account: &str,
    ) -> Result<Option<CursorRow>, GmailError> {
        Ok(sql!(
            as CursorRow,
            "SELECT * FROM event_cursors WHERE user_id = $1 AND account = $2",
            user_id,
            account.to_ascii_lowercase()
        )
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Every mailbox with a cursor.
    pub async fn cursors(&self) -> Result<Vec<CursorRow>, GmailError> {
        Ok(sql!(
            as CursorRow,
            "SELECT * FROM event_cursors ORDER BY user_id, account"
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Cursors whose mailbox should be synced now: hinted since their last sync, or not
    /// synced for `every_ms`; none leased by a sync in progress.
    pub async fn due_cursors(
        &self,
        now: i64,
        every_ms: i64,
        limit: i64,
    ) -> Result<Vec<CursorRow>, GmailError> {
        Ok(sql!(
            as CursorRow,
            "SELECT * FROM event_cursors WHERE lease_until < $1 AND (hinted_at >= \
             synced_at OR synced_at < $2) ORDER BY hinted_at DESC, synced_at LIMIT $3",
            now,
            now - every_ms,
            limit
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Takes the right to sync a mailbox until `until` (one sync per mailbox across every
    /// process sharing the database), at `now`. True when taken. With `synced_before`, a
    /// waiter's sync: taken only if no sync holds it (this process's included) and the last
    /// one started no later than that (or at a time still to come, by another instance's
    /// clock); the start is stamped at once, so waiters that ask meanwhile share this sync.
    pub async fn lease_cursor(
        &self,
        user_id: &str,
        account: &str,
        owner: &str,
        now: i64,
        until: i64,
        synced_before: Option<i64>,
    ) -> Result<bool, GmailError> {
        let statement = match synced_before {
            None => sql!(
                "UPDATE event_cursors SET lease_owner = $1, lease_until = $2 WHERE user_id = \
                 $3 AND account = $4 AND (lease_until < $5 OR lease_owner = $1)",
                owner,
                until,
                user_id,
                account,
                now
            ),
            Some(before) => sql!(
                "UPDATE event_cursors SET lease_owner = $1, lease_until = $2, synced_at = $5 \
                 WHERE user_id = $3 AND account = $4 AND lease_until < $5 AND (synced_at <= \
                 $6 OR synced_at > $5)",
                owner,
                until,
                user_id,
                account,
                now,
                before
            ),
        };
        self.changed_one(statement).await
    }

    /// Ends a lease, noting when the sync started (hints after it ask for another) and what
    /// went wrong, if anything.
    pub async fn release_cursor(
        &self,
        user_id: &str,
        account: &str,
        owner: &str,
        synced_at: Option<i64>,
        error: Option<&str>,
    ) -> Result<(), GmailError> {
        self.run(sql!(
            "UPDATE event_cursors SET lease_until = 0, lease_owner = NULL, synced_at \
             = COALESCE($1, synced_at), last_error = $2 WHERE user_id = $3 AND \
             account = $4 AND lease_owner = $5",
            synced_at,
            error,
            user_id,
            account,
            owner
        ))
        .await
    }

    /// A push or a waiting call asks for a sync of every cursor on this address. Returns how
    /// many mailboxes were hinted.
    pub async fn hint_account(&self, account: &str) -> Result<u64, GmailError> {
        self.rows_changed(sql!(
            "UPDATE event_cursors SET hinted_at = $1 WHERE account = $2",
            now_ms(),
            account.to_ascii_lowercase()
        ))
        .await
    }

    /// The first sync of a mailbox: its current historyId, no events.
    pub async fn start_cursor(
        &self,
        user_id: &str,
        account: &str,
        history_id: &str,
    ) -> Result<(), GmailError> {
        self.run(sql!(
            "UPDATE event_cursors SET history_id = $1 WHERE user_id = $2 AND account \
             = $3 AND history_id IS NULL",
            history_id,
            user_id,
            account
        ))
        .await
    }

    pub async fn set_watch(
        &self,
        user_id: &str,
        account: &str,
        expires_at: Option<i64>,
    ) -> Result<(), GmailError> {
        self.run(sql!(
            "UPDATE event_cursors SET watch_expires_at = $1, watch_renewed_at = $2 \
             WHERE user_id = $3 AND account = $4",
            expires_at,
            now_ms(),
            user_id,
            account
        ))
        .await
    }

    /// Forgets the cursors of mailboxes no longer connected.
    pub async fn drop_cursor(&self, user_id: &str, account: &str) -> Result<(), GmailError> {
        self.run(sql!(
            "DELETE FROM event_cursors WHERE user_id = $1 AND account = $2",
            user_id,
            account
        ))
        .await
    }

    /// Stores a sync's events, their deliveries and the new cursor in one transaction, if the
    /// cursor is still at `from` (otherwise another sync got there first: nothing is stored
    /// and None comes back). `resync` records that the history since `from` was lost.
    pub async fn commit_sync(
        &self,
        user_id: &str,
        account: &str,
        from: &str,
        to: &str,
        resync: bool,
        events: Vec<NewEvent>,
    ) -> Result<Option<Vec<EventRow>>, GmailError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let moved = sql!(
            "UPDATE event_cursors SET history_id = $1, resyncs = resyncs + $2, \
             last_resync_at = CASE WHEN $2 > 0 THEN $3 ELSE last_resync_at END WHERE \
             user_id = $4 AND account = $5 AND history_id = $6",
            to,
            i64::from(resync),
            now,
            user_id,
            account,
            from
        )
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() != 1 {
            return Ok(None);
        }
        let mut stored = Vec::with_capacity(events.len());
        for event in events {
            let row = EventRow {
                id: new_id("evt"),
                user_id: user_id.to_string(),
                seq: next_seq(&mut tx, user_id).await?,
                account: account.to_string(),
                kind: event.kind,
                data: event.data,
                created_at: now,
            };
            insert_event(&mut tx, &row).await?;
            for webhook in &event.webhooks {
                insert_delivery(&mut tx, webhook, &row.id, user_id, now).await?;
            }
            stored.push(row);
        }
        tx.commit().await?;
        Ok(Some(stored))
    }

    /// (user id, address) of every connection in good standing: the mailboxes the change
    /// feed follows.
    pub async fn active_connections(&self) -> Result<Vec<(String, String)>, GmailError> {
        Ok(sql!(
            as (String, String),
            "SELECT user_id, email FROM connections WHERE status = $1 ORDER BY \
             user_id, email",
            super::ACTIVE
        )
        .fetch_all(&self.pool)
        .await?)
    }

    // ------------------------------------------------------------------ events

    /// A user's events after `seq`, oldest first.
    pub async fn events_after(
        &self,
        user_id: &str,
        seq: i64,
        limit: i64,
    ) -> Result<Vec<EventRow>, GmailError> {
        Ok(sql!(
            as EventRow,
            "SELECT * FROM events WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT \
             $3",
            user_id,
            seq,
            limit
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// The number of a user's latest event (0 before the first).
    pub async fn last_event_seq(&self, user_id: &str) -> Result<i64, GmailError> {
        let row = sql!("SELECT seq FROM event_seqs WHERE user_id = $1", user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => r.try_get("seq")?,
            None => 0,
        })
    }

    /// Forgets events (and finished deliveries) older than `before`. Deliveries still
    /// pending for a webhook turned off or deleted meanwhile are failed first: nothing
    /// would ever send them.
    pub async fn purge_events(&self, before: i64) -> Result<u64, GmailError> {
        self.run(sql!(
            "UPDATE webhook_deliveries SET status = 'failed', last_error = \
             COALESCE(last_error, 'the webhook was turned off or deleted') WHERE status = \
             'pending' AND webhook_id NOT IN (SELECT id FROM webhooks WHERE enabled = 1)"
        ))
        .await?;
        self.run(sql!(
            "DELETE FROM webhook_deliveries WHERE created_at < $1 AND status <> \
             'pending'",
            before
        ))
        .await?;
        self.rows_changed(sql!(
            "DELETE FROM events WHERE created_at < $1 AND id NOT IN (SELECT event_id \
             FROM webhook_deliveries WHERE status = 'pending')",
            before
        ))
        .await
    }
}

pub(super) async fn insert_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    e: &EventRow,
) -> Result<(), GmailError> {
    sql!(
        "INSERT INTO events (id, user_id, seq, account, type, data, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &e.id,
        &e.user_id,
        e.seq,
        &e.account,
        &e.kind,
        e.data.to_string(),
        e.created_at
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn insert_delivery(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    webhook_id: &str,
    event_id: &str,
    user_id: &str,
    now: i64,
) -> Result<(), GmailError> {
    sql!(
        "INSERT INTO webhook_deliveries (id, webhook_id, event_id, user_id, \
         status, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, 'pending', \
         $5, $5)",
        new_id("dlv"),
        webhook_id,
        event_id,
        user_id,
        now
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The user's next event number. The row stays locked (PostgreSQL) until the transaction
/// ends, so a user's events commit in number order and a stream never skips one.
async fn next_seq(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
) -> Result<i64, GmailError> {
    sql!(
        "INSERT INTO event_seqs (user_id, seq) VALUES ($1, 0) ON CONFLICT DO \
         NOTHING",
        user_id
    )
    .execute(&mut **tx)
    .await?;
    let row = sql!(
        "UPDATE event_seqs SET seq = seq + 1 WHERE user_id = $1 RETURNING seq",
        user_id
    )
    .fetch_one(&mut **tx)
    .await?;
    row.try_get("seq").map_err(GmailError::from)
}
