//! Device grants for the one-line setup: created by a device, approved (or denied) by a
//! signed-in user who sees the same user code, then issued once to the device that holds the
//! device code.

use super::columns::Flag;
use super::{now, sha256_hex, Store};
use crate::error::GmailError;

/// A device grant as its states need it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceGrant {
    pub user_code: String,
    pub name: String,
    pub expires_at: i64,
    pub approved_by: Option<String>,
    #[sqlx(try_from = "Flag")]
    pub denied: bool,
    #[sqlx(try_from = "Flag")]
    pub issued: bool,
}

impl Store {
    /// Stores a new grant, after forgetting expired ones; refused when `max_pending` grants
    /// are already waiting (what anyone can make the server hold is bounded).
    pub async fn create_device_grant(
        &self,
        device_code: &str,
        user_code: &str,
        name: &str,
        ttl_secs: i64,
        max_pending: i64,
    ) -> Result<(), GmailError> {
        let t = now();
        self.run(sql!("DELETE FROM device_grants WHERE expires_at < $1", t))
            .await?;
        self.below_cap(
            sql!("SELECT COUNT(*) AS n FROM device_grants"),
            max_pending,
            std::time::Duration::from_secs(60),
            "device requests are waiting for approval",
        )
        .await?;
        self.run(sql!(
            "INSERT INTO device_grants (device_hash, user_code, name, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5)",
            sha256_hex(device_code),
            user_code,
            name,
            t,
            t + ttl_secs
        ))
        .await
    }

    /// The live grant with this user code.
    pub async fn device_grant_by_user_code(
        &self,
        user_code: &str,
    ) -> Result<Option<DeviceGrant>, GmailError> {
        Ok(sql!(
            as DeviceGrant,
            "SELECT * FROM device_grants WHERE user_code = $1 AND expires_at >= $2",
            user_code,
            now()
        )
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Approves (for `user_id`) or denies a live, undecided grant; whether there was one.
    pub async fn decide_device_grant(
        &self,
        user_code: &str,
        user_id: &str,
        approve: bool,
    ) -> Result<bool, GmailError> {
        self.changed_one(sql!(
            "UPDATE device_grants SET approved_by = $1, denied = $2 WHERE user_code = \
             $3 AND expires_at >= $4 AND approved_by IS NULL AND denied = 0",
            approve.then_some(user_id),
            i64::from(!approve),
            user_code,
            now()
        ))
        .await
    }

    /// The grant of a device code, if any.
    pub async fn device_grant(&self, device_code: &str) -> Result<Option<DeviceGrant>, GmailError> {
        Ok(sql!(
            as DeviceGrant,
            "SELECT * FROM device_grants WHERE device_hash = $1",
            sha256_hex(device_code)
        )
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Marks an approved grant issued; only the first caller wins (racing polls get one key).
    pub async fn issue_device_grant(&self, device_code: &str) -> Result<bool, GmailError> {
        self.changed_one(sql!(
            "UPDATE device_grants SET issued = 1 WHERE device_hash = $1 AND issued = \
             0 AND approved_by IS NOT NULL AND expires_at >= $2",
            sha256_hex(device_code),
            now()
        ))
        .await
    }
}
