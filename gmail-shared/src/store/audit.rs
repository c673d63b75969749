//! The audit log in the shared database (multi-user mode): every instance writes to it, each
//! caller reads their own entries, and the daily send cap counts from it, so the cap holds
//! across instances and restarts.

use futures::future::BoxFuture;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::columns::JsonList;
use super::Store;
use crate::error::GmailError;
use crate::ops::audit::{AuditEntry, AuditSink, CapFull, SENDING_ACTIONS};

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

/// Read by hand: `AuditEntry` belongs to `ops::audit`, where a `#[derive(sqlx::FromRow)]`
/// would replace this.
impl<'r> sqlx::FromRow<'r, AnyRow> for AuditEntry {
    fn from_row(r: &'r AnyRow) -> sqlx::Result<Self> {
        Ok(AuditEntry {
            id: r.try_get("id")?,
            at: r.try_get("at")?,
            user_id: r.try_get("user_id")?,
            key_id: r.try_get("key_id")?,
            entry: r.try_get("entry")?,
            account: r.try_get("account")?,
            action: r.try_get("action")?,
            recipients: r.try_get::<JsonList, _>("recipients")?.into(),
            ids: r.try_get::<JsonList, _>("ids")?.into(),
            request_id: r.try_get("request_id")?,
            outcome: r.try_get("outcome")?,
            detail: r.try_get("detail")?,
        })
    }
}

async fn insert<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    entry: &AuditEntry,
) -> Result<(), GmailError> {
    sql!(
        "INSERT INTO audit_log (id, at, user_id, key_id, entry, account, action, \
         recipients, ids, request_id, outcome, detail) VALUES ($1, $2, $3, $4, \
         $5, $6, $7, $8, $9, $10, $11, $12)",
        &entry.id,
        entry.at,
        &entry.user_id,
        &entry.key_id,
        &entry.entry,
        entry.account.to_ascii_lowercase(),
        &entry.action,
        json_list(&entry.recipients),
        json_list(&entry.ids),
        &entry.request_id,
        &entry.outcome,
        &entry.detail
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Rows one purge statement deletes at most: on SQLite each statement holds the database's
/// one write lock, which sends take to reserve their place under the daily cap.
const PURGE_BATCH: i64 = 500;
/// The pause between batches, so waiting writers get the lock; and the most batches one purge
/// runs (the rest wait for the next hour: a first purge after an upgrade may face years).
const PURGE_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);
const PURGE_MAX_BATCHES: u32 = 200;

impl Store {
    /// Deletes the audit entries from before `before` (unix seconds, as `at`), a batch at a
    /// time, at most [`PURGE_MAX_BATCHES`]; answers how many.
    pub async fn purge_audit(&self, before: i64) -> Result<u64, GmailError> {
        let mut purged = 0;
        for batch in 0..PURGE_MAX_BATCHES {
            if batch > 0 {
                tokio::time::sleep(PURGE_PAUSE).await;
            }
            let n = self
                .rows_changed(sql!(
                    "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < \
                     $1 LIMIT $2)",
                    before,
                    PURGE_BATCH
                ))
                .await?;
            purged += n;
            if n < PURGE_BATCH as u64 {
                return Ok(purged);
            }
        }
        tracing::warn!(
            purged,
            "the audit purge stopped at its hourly limit; the rest goes at the next"
        );
        Ok(purged)
    }
}

impl AuditSink for Store {
    fn record(&self, entry: AuditEntry) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            // The log line was written already; a lost row must not fail the action.
            if let Err(e) = insert(&self.pool, &entry).await {
                tracing::error!(error = %e, "cannot store an audit entry");
            }
        })
    }

    fn reserve(
        &self,
        entry: AuditEntry,
        max: u32,
        since: i64,
    ) -> BoxFuture<'_, Result<Result<(), CapFull>, GmailError>> {
        Box::pin(async move {
            let account = entry.account.to_ascii_lowercase();
            // Count and insert under one lock per mailbox, so concurrent sends on any
            // instance cannot all see room: SQLite's write lock, a PostgreSQL advisory lock.
            let mut tx = if self.kind == "sqlite" {
                self.pool.begin_with("BEGIN IMMEDIATE").await
            } else {
                self.pool.begin().await
            }?;
            if self.kind != "sqlite" {
                sql!("SELECT pg_advisory_xact_lock(hashtext($1))", &account)
                    .execute(&mut *tx)
                    .await?;
            }
            let row = sql!(
                "SELECT COUNT(*) AS n, MIN(at) AS oldest FROM audit_log WHERE account = \
                 $1 AND at >= $2 AND outcome IN ('ok', 'pending') AND action IN ($3, $4, \
                 $5, $6)",
                &account,
                since,
                SENDING_ACTIONS[0],
                SENDING_ACTIONS[1],
                SENDING_ACTIONS[2],
                SENDING_ACTIONS[3]
            )
            .fetch_one(&mut *tx)
            .await?;
            let n: i64 = row.try_get("n")?;
            if n >= i64::from(max) {
                return Ok(Err(CapFull {
                    sent: n as u32,
                    oldest: row.try_get("oldest")?,
                }));
            }
            insert(&mut *tx, &entry).await?;
            tx.commit().await?;
            Ok(Ok(()))
        })
    }

    fn settle<'a>(&'a self, entry: &'a AuditEntry) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let done = sql!(
                "UPDATE audit_log SET outcome = $2, ids = $3, detail = $4 WHERE id = $1",
                &entry.id,
                &entry.outcome,
                json_list(&entry.ids),
                &entry.detail
            )
            .execute(&self.pool)
            .await;
            if let Err(e) = done {
                tracing::error!(error = %e, "cannot complete an audit entry");
            }
        })
    }

    fn list<'a>(
        &'a self,
        user_id: Option<&'a str>,
        limit: usize,
        before: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<AuditEntry>, GmailError>> {
        Box::pin(async move {
            // Ids are lowercase hex: "~" sorts after every one of them.
            Ok(sql!(
                as AuditEntry,
                "SELECT id, at, user_id, key_id, entry, account, action, recipients, ids, \
                 request_id, outcome, detail FROM audit_log WHERE user_id = $1 AND id < \
                 $2 ORDER BY id DESC LIMIT $3",
                user_id.unwrap_or(""),
                before.unwrap_or("~"),
                limit.min(1000) as i64
            )
            .fetch_all(&self.pool)
            .await?)
        })
    }
}
