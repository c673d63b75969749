//! The audit log in the shared database (multi-user mode): every instance writes to it, each
//! caller reads their own entries, and the daily send cap counts from it, so the cap holds
//! across instances and restarts.

use sqlx::Row;

use super::{db_error, new_id, Store};
use crate::error::GmailError;
use crate::ops::audit::{AuditEntry, AuditFuture, AuditSink, SENDING_ACTIONS};

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

fn from_json_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

impl AuditSink for Store {
    fn record(&self, entry: AuditEntry) -> AuditFuture<'_, ()> {
        Box::pin(async move {
            let done = sqlx::query("INSERT INTO audit_log (id, at, user_id, key_id, entry, account, action, recipients, ids, request_id, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
                .bind(new_id("aud"))
                .bind(entry.at)
                .bind(&entry.user_id)
                .bind(&entry.key_id)
                .bind(&entry.entry)
                .bind(&entry.account)
                .bind(&entry.action)
                .bind(json_list(&entry.recipients))
                .bind(json_list(&entry.ids))
                .bind(&entry.request_id)
                .bind(&entry.outcome)
                .bind(&entry.detail)
                .execute(&self.pool)
                .await;
            // The log line was written already; a lost row must not fail the action.
            if let Err(e) = done {
                tracing::error!(error = %e, "cannot store an audit entry");
            }
        })
    }

    fn list<'a>(
        &'a self,
        user_id: Option<&'a str>,
        limit: usize,
        before: Option<i64>,
    ) -> AuditFuture<'a, Result<Vec<AuditEntry>, GmailError>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT at, user_id, key_id, entry, account, action, recipients, ids, request_id, outcome, detail FROM audit_log WHERE user_id = $1 AND at < $2 ORDER BY at DESC, id DESC LIMIT $3")
                .bind(user_id.unwrap_or(""))
                .bind(before.unwrap_or(i64::MAX))
                .bind(limit.min(1000) as i64)
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
            rows.iter()
                .map(|r| {
                    Ok(AuditEntry {
                        at: r.try_get("at").map_err(db_error)?,
                        user_id: r.try_get("user_id").map_err(db_error)?,
                        key_id: r.try_get("key_id").map_err(db_error)?,
                        entry: r.try_get("entry").map_err(db_error)?,
                        account: r.try_get("account").map_err(db_error)?,
                        action: r.try_get("action").map_err(db_error)?,
                        recipients: from_json_list(
                            &r.try_get::<String, _>("recipients").map_err(db_error)?,
                        ),
                        ids: from_json_list(&r.try_get::<String, _>("ids").map_err(db_error)?),
                        request_id: r.try_get("request_id").map_err(db_error)?,
                        outcome: r.try_get("outcome").map_err(db_error)?,
                        detail: r.try_get("detail").map_err(db_error)?,
                    })
                })
                .collect()
        })
    }

    fn sends_since<'a>(
        &'a self,
        account: &'a str,
        since: i64,
    ) -> AuditFuture<'a, Result<(u32, Option<i64>), GmailError>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT COUNT(*) AS n, MIN(at) AS oldest FROM audit_log WHERE account = $1 AND at >= $2 AND outcome = 'ok' AND action IN ($3, $4, $5, $6)")
                .bind(account.to_ascii_lowercase())
                .bind(since)
                .bind(SENDING_ACTIONS[0])
                .bind(SENDING_ACTIONS[1])
                .bind(SENDING_ACTIONS[2])
                .bind(SENDING_ACTIONS[3])
                .fetch_one(&self.pool)
                .await
                .map_err(db_error)?;
            let n: i64 = row.try_get("n").map_err(db_error)?;
            let oldest: Option<i64> = row.try_get("oldest").map_err(db_error)?;
            Ok((n as u32, oldest))
        })
    }
}
