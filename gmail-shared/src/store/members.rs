//! Users and their API keys: creating, authenticating, expiring, revoking, disabling, and
//! the listing an admin sees.

use schemars::JsonSchema;
use secrecy::SecretString;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use super::columns::{IsSet, Rules};
use super::{new_id, now, random_token, sha256_hex, Store, User};
use crate::error::GmailError;
use crate::ops::policy::CallerPolicy;

#[derive(Debug, Clone, Serialize, JsonSchema, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyInfo {
    pub id: String,
    pub user_id: String,
    pub name: String,
    /// The first characters, to tell keys apart.
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// When it stops working (unix seconds); none for keys made without an expiry.
    pub expires_at: Option<i64>,
    #[sqlx(rename = "revoked_at", try_from = "IsSet<i64>")]
    pub revoked: bool,
    /// The key's own rules, when it has any.
    #[sqlx(rename = "policy", try_from = "Rules")]
    pub rules: Option<CallerPolicy>,
}

/// A user as an admin sees them.
#[derive(Debug, Clone, Serialize, JsonSchema, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserSummary {
    #[serde(flatten)]
    #[sqlx(flatten)]
    pub user: User,
    pub created_at: i64,
    /// The last time any of their keys was used.
    pub last_active_at: Option<i64>,
    pub connection_count: i64,
    #[sqlx(rename = "disabled_at", try_from = "IsSet<i64>")]
    pub disabled: bool,
}

/// Live (unrevoked, unexpired) API keys one user may hold: each key is a rate-limit bucket
/// of its own, so an unbounded number would be an unbounded rate.
pub const MAX_LIVE_KEYS_PER_USER: i64 = 100;

/// The columns of an [`ApiKeyInfo`]; a macro so each query stays one static string (sqlx
/// refuses dynamic SQL).
macro_rules! select_keys {
    ($rest:literal) => {
        concat!(
            "SELECT id, user_id, name, prefix, created_at, last_used_at, expires_at, ",
            "revoked_at, policy FROM api_keys ",
            $rest
        )
    };
}

impl Store {
    // ---------------------------------------------------------------- users

    /// The user with this external id, created when new.
    pub async fn ensure_user(
        &self,
        external_id: &str,
        email: Option<&str>,
    ) -> Result<User, GmailError> {
        let external_id = external_id.trim();
        if external_id.is_empty()
            || external_id.len() > 200
            || external_id.chars().any(char::is_control)
        {
            return Err(GmailError::invalid(
                "externalId",
                "must be 1 to 200 printable characters",
            ));
        }
        if let Some(u) = self.user_by_external_id(external_id).await? {
            return Ok(u);
        }
        let id = new_id("usr");
        self.run(sql!(
            "INSERT INTO users (id, external_id, email, created_at) VALUES ($1, $2, \
             $3, $4) ON CONFLICT (external_id) DO NOTHING",
            &id,
            external_id,
            email,
            now()
        ))
        .await?;
        self.user_by_external_id(external_id)
            .await?
            .ok_or_else(|| GmailError::internal("user vanished after insert"))
    }

    pub async fn user_by_external_id(&self, external_id: &str) -> Result<Option<User>, GmailError> {
        Ok(sql!(
            as User,
            "SELECT id, external_id, email FROM users WHERE external_id = $1",
            external_id
        )
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn user(&self, id: &str) -> Result<Option<User>, GmailError> {
        Ok(sql!(
            as User,
            "SELECT id, external_id, email FROM users WHERE id = $1",
            id
        )
        .fetch_optional(&self.pool)
        .await?)
    }

    // ---------------------------------------------------------------- API keys

    /// A new key for the user that never expires; the plaintext is returned once and stored
    /// only as a hash.
    pub async fn create_api_key(
        &self,
        user_id: &str,
        name: &str,
    ) -> Result<(ApiKeyInfo, SecretString), GmailError> {
        self.create_api_key_with(user_id, name, None, None).await
    }

    /// A new key for the user that stops working at `expires_at` (unix seconds) and carries
    /// `rules` of its own; the plaintext is returned once and stored only as a hash.
    pub async fn create_api_key_with(
        &self,
        user_id: &str,
        name: &str,
        expires_at: Option<i64>,
        rules: Option<&CallerPolicy>,
    ) -> Result<(ApiKeyInfo, SecretString), GmailError> {
        let live = self
            .count(sql!(
                "SELECT COUNT(*) AS n FROM api_keys WHERE user_id = $1 AND revoked_at IS \
                 NULL AND (expires_at IS NULL OR expires_at > $2)",
                user_id,
                now()
            ))
            .await?;
        if live >= MAX_LIVE_KEYS_PER_USER {
            return Err(GmailError::invalid(
                "keys",
                format!(
                    "at most {MAX_LIVE_KEYS_PER_USER} live API keys per user; revoke one first"
                ),
            ));
        }
        let plain = format!("gms_{}", random_token(32));
        let id = new_id("key");
        let prefix: String = plain.chars().take(10).collect();
        let created = now();
        let rules = rules.filter(|r| !r.is_empty()).cloned();
        let policy = rules
            .as_ref()
            .map(|r| serde_json::to_string(r).unwrap_or_default());
        self.run(sql!(
            "INSERT INTO api_keys (id, user_id, name, key_hash, prefix, created_at, \
             expires_at, policy) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &id,
            user_id,
            name,
            sha256_hex(&plain),
            &prefix,
            created,
            expires_at,
            policy
        ))
        .await?;
        Ok((
            ApiKeyInfo {
                id,
                user_id: user_id.to_string(),
                name: name.to_string(),
                prefix,
                created_at: created,
                last_used_at: None,
                expires_at,
                revoked: false,
                rules,
            },
            SecretString::from(plain),
        ))
    }

    /// One key's description, whoever owns it.
    pub async fn api_key(&self, key_id: &str) -> Result<Option<ApiKeyInfo>, GmailError> {
        Ok(sql!(as ApiKeyInfo, select_keys!("WHERE id = $1"), key_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The user a presented key belongs to; `None` for unknown or revoked keys.
    pub async fn authenticate(&self, presented: &str) -> Result<Option<User>, GmailError> {
        Ok(self
            .authenticate_key(presented)
            .await?
            .map(|(user, _, _)| user))
    }

    /// The user a presented key belongs to, the key's id, and the user's and the key's rules
    /// (in that order); `None` for unknown, revoked or expired keys and disabled users.
    pub async fn authenticate_key(
        &self,
        presented: &str,
    ) -> Result<Option<(User, String, Vec<CallerPolicy>)>, GmailError> {
        let hash = sha256_hex(presented.trim());
        let row = sql!(
            "SELECT k.id AS key_id, k.policy AS key_policy, u.policy AS user_policy, \
             u.id, u.external_id, u.email FROM api_keys k JOIN users u ON u.id = \
             k.user_id WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND \
             (k.expires_at IS NULL OR k.expires_at > $2) AND u.disabled_at IS NULL",
            &hash,
            now()
        )
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let key_id: String = row.try_get("key_id")?;
        self.run(sql!(
            "UPDATE api_keys SET last_used_at = $1 WHERE id = $2",
            now(),
            &key_id
        ))
        .await?;
        let mut rules = Vec::new();
        for column in ["user_policy", "key_policy"] {
            let text: Option<String> = row.try_get(column)?;
            if let Some(p) = text.and_then(|t| serde_json::from_str::<CallerPolicy>(&t).ok()) {
                rules.push(p);
            }
        }
        Ok(Some((User::from_row(&row)?, key_id, rules)))
    }

    /// Sets the rules of an API key (they narrow the user's and the server's).
    pub async fn set_key_policy(
        &self,
        key_id: &str,
        policy: &CallerPolicy,
    ) -> Result<bool, GmailError> {
        self.set_policy(
            "UPDATE api_keys SET policy = $1 WHERE id = $2",
            key_id,
            policy,
        )
        .await
    }

    /// Sets a user's rules (they narrow the server's, for every key of the user).
    pub async fn set_user_policy(
        &self,
        user_id: &str,
        policy: &CallerPolicy,
    ) -> Result<bool, GmailError> {
        self.set_policy(
            "UPDATE users SET policy = $1 WHERE id = $2",
            user_id,
            policy,
        )
        .await
    }

    /// Stores `policy` (none when empty) on the row `id`; whether there was one.
    async fn set_policy(
        &self,
        update: &'static str,
        id: &str,
        policy: &CallerPolicy,
    ) -> Result<bool, GmailError> {
        let text = (!policy.is_empty()).then(|| serde_json::to_string(policy).unwrap_or_default());
        self.changed_one(sql!(update, text, id)).await
    }

    /// Keys revoked or expired and users disabled at or after `since` (unix seconds): what a
    /// server polls to close the sessions they opened.
    pub async fn revocations_since(
        &self,
        since: i64,
    ) -> Result<(Vec<String>, Vec<String>), GmailError> {
        let keys = sql!(
            "SELECT id FROM api_keys WHERE revoked_at >= $1 OR (expires_at >= $1 AND \
             expires_at <= $2)",
            since,
            now()
        )
        .fetch_all(&self.pool)
        .await?;
        let users = sql!("SELECT id FROM users WHERE disabled_at >= $1", since)
            .fetch_all(&self.pool)
            .await?;
        let ids = |rows: Vec<AnyRow>| -> Result<Vec<String>, GmailError> {
            rows.iter()
                .map(|r| r.try_get::<String, _>("id").map_err(GmailError::from))
                .collect()
        };
        // A revoked grant ends its client's sessions like a revoked key (its id is the key id).
        let mut keys = ids(keys)?;
        keys.extend(self.grants_revoked_since(since).await?);
        Ok((keys, ids(users)?))
    }

    /// Disables (or enables again) a user: their keys stop working at once.
    pub async fn set_user_disabled(
        &self,
        user_id: &str,
        disabled: bool,
    ) -> Result<bool, GmailError> {
        self.changed_one(sql!(
            "UPDATE users SET disabled_at = $1 WHERE id = $2",
            disabled.then(now),
            user_id
        ))
        .await
    }

    /// Revokes a key (of `owner` only, when given); whether there was such a live key.
    pub async fn revoke_api_key_of(
        &self,
        owner: Option<&str>,
        key_id: &str,
    ) -> Result<bool, GmailError> {
        self.changed_one(sql!(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL \
             AND ($3 IS NULL OR user_id = $3)",
            now(),
            key_id,
            owner
        ))
        .await
    }

    pub async fn revoke_api_key(&self, key_id: &str) -> Result<bool, GmailError> {
        self.revoke_api_key_of(None, key_id).await
    }

    pub async fn list_api_keys(&self, user_id: &str) -> Result<Vec<ApiKeyInfo>, GmailError> {
        Ok(sql!(
            as ApiKeyInfo,
            select_keys!("WHERE user_id = $1 ORDER BY created_at"),
            user_id
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// The user of a team-site session signed in at `signed_in_at` (epoch ms): enabled, and
    /// not signed out since.
    pub async fn site_user(&self, id: &str, signed_in_at: i64) -> Result<Option<User>, GmailError> {
        Ok(sql!(
            as User,
            "SELECT id, external_id, email FROM users WHERE id = $1 AND disabled_at \
             IS NULL AND signed_out_at < $2",
            id,
            signed_in_at
        )
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Ends every team-site session of the user signed in before now.
    pub async fn sign_out_everywhere(&self, id: &str) -> Result<(), GmailError> {
        self.run(sql!(
            "UPDATE users SET signed_out_at = $1 WHERE id = $2",
            super::now_ms(),
            id
        ))
        .await
    }

    /// Every user, oldest first, with what an admin page shows of them.
    pub async fn list_users(&self) -> Result<Vec<UserSummary>, GmailError> {
        Ok(sql!(
            as UserSummary,
            "SELECT u.id, u.external_id, u.email, u.created_at, u.disabled_at, \
             (SELECT COUNT(*) FROM connections c WHERE c.user_id = u.id) AS \
             connection_count, (SELECT MAX(k.last_used_at) FROM api_keys k WHERE \
             k.user_id = u.id) AS last_active_at FROM users u ORDER BY u.created_at, \
             u.id"
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
