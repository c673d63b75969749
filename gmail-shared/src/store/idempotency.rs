//! Idempotency keys in the database, so every server instance on it sees the same keys.

use super::{now, Store};
use crate::error::GmailError;

/// What claiming a key found.
#[derive(Debug, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// New (or abandoned): the caller runs the request, then completes or releases the key
    /// with this `lease` (the claim's stamp), which a later takeover changes: a request whose
    /// claim was taken over can neither overwrite the new answer nor release the new claim.
    Claimed { lease: i64 },
    /// The first request with this key is still running.
    InProgress,
    /// The key was used for a different request.
    Mismatch,
    /// The first request's answer.
    Done { status: u16, body: String },
}

/// A key as stored: its request's fingerprint, and its answer (status 0 until there is one).
#[derive(sqlx::FromRow)]
struct StoredKey {
    fingerprint: String,
    status: i64,
    body: Option<String>,
    created_at: i64,
}

impl Store {
    /// Claims `key` for `user_id`'s request with this fingerprint. Answers older than `ttl_secs`
    /// are forgotten; a claim whose request has not finished within `lease_secs` (its server
    /// died mid-request) may be taken over.
    pub async fn claim_idempotency_key(
        &self,
        user_id: &str,
        key: &str,
        fingerprint: &[u8],
        ttl_secs: i64,
        lease_secs: i64,
    ) -> Result<IdempotencyClaim, GmailError> {
        let now = now();
        let fingerprint = super::cipher::hex(fingerprint);
        self.run(sql!(
            "DELETE FROM idempotency_keys WHERE created_at < $1",
            now - ttl_secs
        ))
        .await?;
        // The primary key makes the insert the arbiter: of two instances racing on one key,
        // exactly one inserts.
        let inserted = self
            .changed_one(sql!(
                "INSERT INTO idempotency_keys (user_id, idem_key, fingerprint, status, \
                 body, created_at) VALUES ($1, $2, $3, 0, NULL, $4) ON CONFLICT DO \
                 NOTHING",
                user_id,
                key,
                &fingerprint,
                now
            ))
            .await?;
        if inserted {
            return Ok(IdempotencyClaim::Claimed { lease: now });
        }
        let stored = sql!(
            as StoredKey,
            "SELECT fingerprint, status, body, created_at FROM idempotency_keys WHERE \
             user_id = $1 AND idem_key = $2",
            user_id,
            key
        )
        .fetch_optional(&self.pool)
        .await?;
        // Released between the insert and the read: the retry is the client's to make.
        let Some(stored) = stored else {
            return Ok(IdempotencyClaim::InProgress);
        };
        if stored.fingerprint != fingerprint {
            return Ok(IdempotencyClaim::Mismatch);
        }
        if stored.status != 0 {
            return Ok(IdempotencyClaim::Done {
                status: u16::try_from(stored.status).unwrap_or(200),
                body: stored.body.unwrap_or_default(),
            });
        }
        if stored.created_at < now - lease_secs {
            // Later than the abandoned claim's stamp even within its second.
            let lease = now.max(stored.created_at + 1);
            let taken = self
                .changed_one(sql!(
                    "UPDATE idempotency_keys SET created_at = $1 WHERE user_id = $2 AND \
                     idem_key = $3 AND status = 0 AND created_at = $4",
                    lease,
                    user_id,
                    key,
                    stored.created_at
                ))
                .await?;
            if taken {
                return Ok(IdempotencyClaim::Claimed { lease });
            }
        }
        Ok(IdempotencyClaim::InProgress)
    }

    /// Records the answer to a key this request still holds (`lease`); whether it did.
    pub async fn complete_idempotency_key(
        &self,
        user_id: &str,
        key: &str,
        lease: i64,
        status: u16,
        body: &str,
    ) -> Result<bool, GmailError> {
        self.changed_one(sql!(
            "UPDATE idempotency_keys SET status = $1, body = $2 WHERE user_id = $3 \
             AND idem_key = $4 AND status = 0 AND created_at = $5",
            i64::from(status),
            body,
            user_id,
            key,
            lease
        ))
        .await
    }

    /// Lets a key this request still holds (`lease`) go (the request failed and sent
    /// nothing), so a retry runs; whether it held it.
    pub async fn release_idempotency_key(
        &self,
        user_id: &str,
        key: &str,
        lease: i64,
    ) -> Result<bool, GmailError> {
        self.changed_one(sql!(
            "DELETE FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2 AND \
             status = 0 AND created_at = $3",
            user_id,
            key,
            lease
        ))
        .await
    }
}
