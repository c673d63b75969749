//! Webhooks and their deliveries (migration 0010): subscriptions, the test delivery, and
//! the dispatcher's claims and attempts. Events reach deliveries through the outbox in
//! [`super::events`]. Times here are Unix milliseconds.

use super::columns::{Commas, Flag, JsonText};
use super::events::{insert_delivery, insert_event, now_ms, EventRow};
use super::{new_id, Store};
use crate::error::GmailError;
use schemars::JsonSchema;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// `POST /api/v1/webhooks`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewWebhook {
    /// Where deliveries are POSTed (https, or http on private networks when allowed).
    pub url: String,
    /// Event types to deliver: message.added, message.deleted, labels.changed,
    /// mailbox.resynced. Empty or absent: all.
    #[serde(default)]
    pub events: Vec<String>,
    /// Only events about messages with one of these label ids.
    #[serde(default)]
    pub label_ids: Vec<String>,
    /// Only new messages this Gmail search matches (`from:alerts@ subject:invoice`); other
    /// event types are not searched.
    pub query: Option<String>,
    /// Only events of this connected address; absent: all of the caller's.
    pub account: Option<String>,
}

/// A webhook subscription, as its owner sees it (its secret opened only where a delivery is
/// signed).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    pub id: String,
    /// Its owner: every query is by it, and the owner knows who they are.
    #[serde(skip)]
    pub user_id: String,
    pub url: String,
    #[sqlx(try_from = "Commas")]
    pub events: Vec<String>,
    #[sqlx(try_from = "Commas")]
    pub label_ids: Vec<String>,
    pub query: Option<String>,
    pub account: Option<String>,
    #[sqlx(try_from = "Flag")]
    pub enabled: bool,
    /// Why it was turned off (deliveries kept failing).
    pub disabled_reason: Option<String>,
    /// Epoch milliseconds.
    pub created_at: i64,
}

/// One delivery of one event to one webhook.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: String,
    pub webhook_id: String,
    pub event_id: String,
    #[sqlx(rename = "type")]
    pub event_type: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
}

/// A claimed delivery, with its event and where and how to send it.
#[derive(sqlx::FromRow)]
struct ClaimedRow {
    #[sqlx(flatten)]
    delivery: DeliveryRow,
    e_user: String,
    seq: i64,
    account: String,
    #[sqlx(try_from = "JsonText")]
    data: serde_json::Value,
    e_created: i64,
    url: String,
    /// Sealed under the webhook's id: opened with the store's keys once claimed.
    secret: String,
}

/// Test deliveries one webhook may have pending at once.
pub const MAX_PENDING_TESTS: i64 = 5;

const WEBHOOK_COLUMNS: &str =
    "id, user_id, url, events, label_ids, query, account, enabled, disabled_reason, created_at";
/// Why a webhook whose secret no configured key opens was turned off.
const UNREADABLE_SECRET: &str = "its signing secret cannot be read (it was sealed with an encryption key this server no longer has); create the webhook again";
const DELIVERY_COLUMNS: &str = "d.id, d.webhook_id, d.event_id, e.type, d.status, d.attempts, \
     d.next_attempt_at, d.created_at, d.last_status, d.last_error, d.delivered_at";

impl Store {
    // ------------------------------------------------------------------ webhooks

    /// Stores `new` (already checked and normalized) for `user_id`, its `secret` sealed.
    pub async fn insert_webhook(
        &self,
        user_id: &str,
        new: &NewWebhook,
        secret: &SecretString,
    ) -> Result<Webhook, GmailError> {
        let id = new_id("wh");
        self.run(sql!(
            "INSERT INTO webhooks (id, user_id, url, events, label_ids, query, \
             account, secret, enabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, \
             $7, $8, 1, $9)",
            &id,
            user_id,
            &new.url,
            new.events.join(","),
            new.label_ids.join(","),
            &new.query,
            &new.account,
            self.keys
                .seal(&format!("{id}:webhook"), secret.expose_secret())?,
            now_ms()
        ))
        .await?;
        self.webhook(user_id, &id)
            .await?
            .ok_or_else(|| GmailError::internal("webhook vanished after insert"))
    }

    pub async fn webhooks(&self, user_id: &str) -> Result<Vec<Webhook>, GmailError> {
        Ok(sql!(
            as Webhook,
            sqlx::AssertSqlSafe(format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE user_id = $1 ORDER BY created_at, id"
            )),
            user_id
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn webhook(&self, user_id: &str, id: &str) -> Result<Option<Webhook>, GmailError> {
        Ok(sql!(
            as Webhook,
            sqlx::AssertSqlSafe(format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE user_id = $1 AND id = $2"
            )),
            user_id,
            id
        )
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Deletes a webhook and its deliveries; false when the user has no such webhook.
    pub async fn delete_webhook(&self, user_id: &str, id: &str) -> Result<bool, GmailError> {
        let deleted = sql!(
            "DELETE FROM webhooks WHERE user_id = $1 AND id = $2",
            user_id,
            id
        );
        if !self.changed_one(deleted).await? {
            return Ok(false);
        }
        self.run(sql!(
            "DELETE FROM webhook_deliveries WHERE webhook_id = $1",
            id
        ))
        .await?;
        Ok(true)
    }

    /// Turns a webhook off with the reason shown to its owner; its pending deliveries stop.
    pub async fn disable_webhook(&self, id: &str, reason: &str) -> Result<(), GmailError> {
        self.run(sql!(
            "UPDATE webhooks SET enabled = 0, disabled_reason = $1 WHERE id = $2",
            reason,
            id
        ))
        .await?;
        self.run(sql!(
            "UPDATE webhook_deliveries SET status = 'failed', last_error = \
             COALESCE(last_error, $1) WHERE webhook_id = $2 AND status = 'pending'",
            reason,
            id
        ))
        .await
    }

    /// Stores a test event for one webhook (not part of any stream) and its delivery.
    pub async fn insert_test_delivery(
        &self,
        webhook: &Webhook,
        data: serde_json::Value,
    ) -> Result<String, GmailError> {
        // A receiver that never answers keeps tests pending for a day: a few at a time.
        self.below_cap(
            sql!(
                "SELECT COUNT(*) AS n FROM webhook_deliveries d JOIN events e ON e.id = \
                 d.event_id WHERE d.webhook_id = $1 AND d.status = 'pending' AND e.type = \
                 'webhook.test'",
                &webhook.id
            ),
            MAX_PENDING_TESTS,
            std::time::Duration::from_secs(30),
            "test deliveries to this webhook are still pending",
        )
        .await?;
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let row = EventRow {
            id: new_id("evt"),
            user_id: webhook.user_id.clone(),
            // Numbered below zero so no stream ever shows it; at random, so two tests in one
            // millisecond do not collide on the (user, seq) key.
            seq: -(rand::random::<i64>() & i64::MAX).max(1),
            account: webhook.account.clone().unwrap_or_default(),
            kind: "webhook.test".into(),
            data,
            created_at: now,
        };
        insert_event(&mut tx, &row).await?;
        insert_delivery(&mut tx, &webhook.id, &row.id, &webhook.user_id, now).await?;
        tx.commit().await?;
        Ok(row.id)
    }

    // ------------------------------------------------------------------ deliveries

    /// Claims up to `limit` due deliveries until `until` (so no other process sends them
    /// meanwhile), with what is needed to send them.
    pub async fn claim_deliveries(
        &self,
        now: i64,
        until: i64,
        limit: i64,
    ) -> Result<Vec<(DeliveryRow, EventRow, String, SecretString)>, GmailError> {
        // A read first: most ticks find nothing due, and should not take SQLite's write lock.
        let due = sql!(
            "SELECT id FROM webhook_deliveries WHERE status = 'pending' AND \
             next_attempt_at <= $1 AND claimed_until < $1 AND webhook_id IN (SELECT id \
             FROM webhooks WHERE enabled = 1) LIMIT 1",
            now
        )
        .fetch_optional(&self.pool)
        .await?;
        if due.is_none() {
            return Ok(vec![]);
        }
        let claim = new_id("claim");
        // The outer conditions repeat the inner ones: PostgreSQL re-checks them on rows
        // another claimer changed meanwhile, so no delivery is claimed twice. Deliveries of
        // a webhook turned off or deleted are never claimed (they would hold the front of
        // the queue for ever); the hourly purge fails them. Users take turns: each one's
        // oldest due delivery first, then each one's second, so one tenant's backlog (or a
        // receiver that never answers) cannot fill every wave.
        self.run(sql!(
            "UPDATE webhook_deliveries SET claimed_until = $1, claim = $2 WHERE id IN \
             (SELECT id FROM (SELECT id, next_attempt_at, ROW_NUMBER() OVER (PARTITION \
             BY user_id ORDER BY next_attempt_at, id) AS turn FROM webhook_deliveries \
             WHERE status = 'pending' AND next_attempt_at <= $3 AND claimed_until < $3 \
             AND webhook_id IN (SELECT id FROM webhooks WHERE enabled = 1)) due ORDER BY \
             turn, next_attempt_at LIMIT $4) AND status = 'pending' AND claimed_until < $3",
            until,
            &claim,
            now,
            limit
        ))
        .await?;
        let rows = sql!(as ClaimedRow, sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS}, e.user_id AS e_user, e.seq, e.account, e.data, e.created_at AS e_created, w.url, w.secret \
             FROM webhook_deliveries d JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id \
             WHERE d.status = 'pending' AND d.claim = $1 AND w.enabled = 1"
        )), &claim)
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for r in rows {
            // The signing secret comes with the claim: no read per attempt.
            let secret = match self
                .keys
                .open(&format!("{}:webhook", r.delivery.webhook_id), &r.secret)
            {
                Ok(secret) => secret,
                Err(e) => {
                    // Sealed with a key this server no longer has: that webhook stops, the
                    // rest of the batch goes out.
                    tracing::error!(webhook = %r.delivery.webhook_id, error = %e, "cannot open a webhook's signing secret");
                    self.disable_webhook(&r.delivery.webhook_id, UNREADABLE_SECRET)
                        .await?;
                    continue;
                }
            };
            let event = EventRow {
                id: r.delivery.event_id.clone(),
                user_id: r.e_user,
                seq: r.seq,
                account: r.account,
                kind: r.delivery.event_type.clone(),
                data: r.data,
                created_at: r.e_created,
            };
            claimed.push((r.delivery, event, r.url, secret));
        }
        Ok(claimed)
    }

    /// Records an attempt made under the claim that lasts `until`: delivered (2xx), to be
    /// retried at `retry_at`, or given up. Whether the claim still held: an attempt that
    /// outlived it (another instance claimed the delivery since) records nothing.
    pub async fn record_attempt(
        &self,
        id: &str,
        until: i64,
        outcome: AttemptOutcome<'_>,
    ) -> Result<bool, GmailError> {
        let now = now_ms();
        let (status, next, code, error) = match outcome {
            AttemptOutcome::Delivered { status } => ("delivered", now, Some(status), None),
            AttemptOutcome::Retry {
                status,
                error,
                retry_at,
            } => ("pending", retry_at, status, Some(error)),
            AttemptOutcome::GaveUp { status, error } => ("failed", now, status, Some(error)),
        };
        self.changed_one(sql!(
            "UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, \
             next_attempt_at = $2, claimed_until = 0, last_status = $3, last_error = \
             $4, delivered_at = CASE WHEN $1 = 'delivered' THEN $5 ELSE delivered_at \
             END WHERE id = $6 AND claimed_until = $7",
            status,
            next,
            code,
            error,
            now,
            id,
            until
        ))
        .await
    }

    /// A webhook's latest deliveries, newest first.
    pub async fn deliveries(
        &self,
        webhook_id: &str,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>, GmailError> {
        Ok(sql!(as DeliveryRow, sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN events e ON e.id = d.event_id \
             WHERE d.webhook_id = $1 ORDER BY d.created_at DESC, d.id DESC LIMIT $2"
        )), webhook_id, limit)
        .fetch_all(&self.pool)
        .await?)
    }
}

/// What one delivery attempt came to.
pub enum AttemptOutcome<'a> {
    Delivered {
        status: i64,
    },
    Retry {
        status: Option<i64>,
        error: &'a str,
        retry_at: i64,
    },
    GaveUp {
        status: Option<i64>,
        error: &'a str,
    },
}
