//! Multi-user storage: users, their Gmail connections (tokens sealed with AES-256-GCM), OAuth
//! states and API keys. One sqlx implementation over SQLite (default) and PostgreSQL, chosen
//! by the URL; the same portable migrations for both.

use std::borrow::Cow;
use std::sync::Arc;

use base64::Engine;
use rand::RngCore;
use schemars::JsonSchema;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Row};

use crate::error::GmailError;
use crate::gmail::credentials::StoredTokens;
use crate::ops::policy::CallerPolicy;

mod audit;
pub mod cipher;
mod idempotency;
mod oauth_states;

pub use idempotency::IdempotencyClaim;
pub use oauth_states::{FlowBinding, OAuthState, PendingFlow};

pub use cipher::Keyring;

fn db_error(e: sqlx::Error) -> GmailError {
    GmailError::internal_from("database", e)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

fn random_token(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn sha256_hex(s: &str) -> String {
    cipher::hex(&Sha256::digest(s.as_bytes()))
}

#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub external_id: String,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConnectionInfo {
    pub id: String,
    pub email: String,
    /// `active` or `needs_reauth`.
    pub status: String,
    pub scopes: Vec<String>,
    pub is_primary: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A connection with its tokens opened (never serialized).
pub struct ConnectionSecrets {
    pub info: ConnectionInfo,
    pub tokens: StoredTokens,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyInfo {
    pub id: String,
    pub user_id: String,
    pub name: String,
    /// The first characters, to tell keys apart.
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked: bool,
    /// The key's own rules, when it has any.
    pub rules: Option<CallerPolicy>,
}

/// What a key rotation did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RotationReport {
    pub resealed: usize,
    /// Connection ids whose tokens no configured key opens.
    pub unreadable: Vec<String>,
}

pub const NEEDS_REAUTH: &str = "needs_reauth";
pub const ACTIVE: &str = "active";

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    keys: Arc<Keyring>,
    kind: &'static str,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// The schema's steps, in order; the same portable SQL for SQLite and PostgreSQL.
const MIGRATIONS: [(i64, &str, &str); 5] = [
    (
        1,
        "multi user",
        include_str!("../../migrations/0001_multi_user.sql"),
    ),
    (
        2,
        "idempotency keys",
        include_str!("../../migrations/0002_idempotency.sql"),
    ),
    (
        3,
        "flows bound to browsers",
        include_str!("../../migrations/0003_flows_bound_to_browsers.sql"),
    ),
    (
        4,
        "policies and audit",
        include_str!("../../migrations/0004_policies_and_audit.sql"),
    ),
    (
        5,
        "audit order",
        include_str!("../../migrations/0005_audit_order.sql"),
    ),
];

fn migrator() -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|&(version, name, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(name),
                    MigrationType::Simple,
                    sqlx::SqlStr::from_static(sql),
                    false,
                )
            })
            .collect(),
    )
}

impl Store {
    /// Opens (creating a SQLite file and its folder when needed) and migrates.
    pub async fn connect(url: &str, keys: Keyring) -> Result<Store, GmailError> {
        sqlx::any::install_default_drivers();
        let kind = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            "postgres"
        } else if url.starts_with("sqlite:") {
            "sqlite"
        } else {
            return Err(GmailError::invalid(
                "database_url",
                format!("{url:?} is neither a sqlite: nor a postgres:// URL"),
            ));
        };
        let mut url = url.to_string();
        if kind == "sqlite" && !url.contains(":memory:") {
            let path = url
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:")
                .split('?')
                .next()
                .unwrap_or("")
                .to_string();
            if let Some(dir) = std::path::Path::new(&path).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        GmailError::internal_from(format!("cannot create {}", dir.display()), e)
                    })?;
                }
            }
            owner_only(std::path::Path::new(&path))?;
            if !url.contains("mode=") {
                url.push_str(if url.contains('?') {
                    "&mode=rwc"
                } else {
                    "?mode=rwc"
                });
            }
        }
        let pool = AnyPoolOptions::new()
            // One connection for in-memory SQLite, or each would see its own database.
            .max_connections(if url.contains(":memory:") { 1 } else { 10 })
            .connect(&url)
            .await
            .map_err(|e| GmailError::internal_from("cannot open the database", e))?;
        if kind == "sqlite" {
            sqlx::query("PRAGMA foreign_keys = ON")
                .execute(&pool)
                .await
                .map_err(db_error)?;
        }
        migrator()
            .run(&pool)
            .await
            .map_err(|e| GmailError::internal_from("database migration failed", e))?;
        Ok(Store {
            pool,
            keys: Arc::new(keys),
            kind,
        })
    }

    /// `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

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
        sqlx::query("INSERT INTO users (id, external_id, email, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (external_id) DO NOTHING")
            .bind(&id)
            .bind(external_id)
            .bind(email)
            .bind(now())
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        self.user_by_external_id(external_id)
            .await?
            .ok_or_else(|| GmailError::internal("user vanished after insert"))
    }

    pub async fn user_by_external_id(&self, external_id: &str) -> Result<Option<User>, GmailError> {
        let row = sqlx::query("SELECT id, external_id, email FROM users WHERE external_id = $1")
            .bind(external_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.map(|r| user_row(&r)).transpose()
    }

    pub async fn user(&self, id: &str) -> Result<Option<User>, GmailError> {
        let row = sqlx::query("SELECT id, external_id, email FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.map(|r| user_row(&r)).transpose()
    }

    // ---------------------------------------------------------------- API keys

    /// A new key for the user; the plaintext is returned once and stored only as a hash.
    pub async fn create_api_key(
        &self,
        user_id: &str,
        name: &str,
    ) -> Result<(ApiKeyInfo, SecretString), GmailError> {
        let plain = format!("gms_{}", random_token(32));
        let id = new_id("key");
        let prefix: String = plain.chars().take(10).collect();
        let created = now();
        sqlx::query("INSERT INTO api_keys (id, user_id, name, key_hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&id)
            .bind(user_id)
            .bind(name)
            .bind(sha256_hex(&plain))
            .bind(&prefix)
            .bind(created)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok((
            ApiKeyInfo {
                id,
                user_id: user_id.to_string(),
                name: name.to_string(),
                prefix,
                created_at: created,
                last_used_at: None,
                revoked: false,
                rules: None,
            },
            SecretString::from(plain),
        ))
    }

    /// The user a presented key belongs to; `None` for unknown or revoked keys.
    pub async fn authenticate(&self, presented: &str) -> Result<Option<User>, GmailError> {
        Ok(self
            .authenticate_key(presented)
            .await?
            .map(|(user, _, _)| user))
    }

    /// The user a presented key belongs to, the key's id, and the user's and the key's rules
    /// (in that order); `None` for unknown or revoked keys and disabled users.
    pub async fn authenticate_key(
        &self,
        presented: &str,
    ) -> Result<Option<(User, String, Vec<CallerPolicy>)>, GmailError> {
        let hash = sha256_hex(presented.trim());
        let row = sqlx::query(
            "SELECT k.id AS key_id, k.policy AS key_policy, u.policy AS user_policy, u.id, u.external_id, u.email FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND u.disabled_at IS NULL",
        )
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        let Some(row) = row else { return Ok(None) };
        let key_id: String = row.try_get("key_id").map_err(db_error)?;
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(now())
            .bind(&key_id)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        let mut rules = Vec::new();
        for column in ["user_policy", "key_policy"] {
            let text: Option<String> = row.try_get(column).map_err(db_error)?;
            if let Some(p) = text.and_then(|t| serde_json::from_str::<CallerPolicy>(&t).ok()) {
                rules.push(p);
            }
        }
        Ok(Some((user_row(&row)?, key_id, rules)))
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
        let done = sqlx::query(update)
            .bind(text)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    /// Keys revoked and users disabled at or after `since` (unix seconds): what a server
    /// polls to close the sessions they opened.
    pub async fn revocations_since(
        &self,
        since: i64,
    ) -> Result<(Vec<String>, Vec<String>), GmailError> {
        let keys = sqlx::query("SELECT id FROM api_keys WHERE revoked_at >= $1")
            .bind(since)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        let users = sqlx::query("SELECT id FROM users WHERE disabled_at >= $1")
            .bind(since)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        let ids = |rows: Vec<AnyRow>| -> Result<Vec<String>, GmailError> {
            rows.iter()
                .map(|r| r.try_get::<String, _>("id").map_err(db_error))
                .collect()
        };
        Ok((ids(keys)?, ids(users)?))
    }

    /// Disables (or enables again) a user: their keys stop working at once.
    pub async fn set_user_disabled(
        &self,
        user_id: &str,
        disabled: bool,
    ) -> Result<bool, GmailError> {
        let done = sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2")
            .bind(disabled.then(now))
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn revoke_api_key(&self, key_id: &str) -> Result<bool, GmailError> {
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now())
                .bind(key_id)
                .execute(&self.pool)
                .await
                .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn list_api_keys(&self, user_id: &str) -> Result<Vec<ApiKeyInfo>, GmailError> {
        let rows = sqlx::query("SELECT id, user_id, name, prefix, created_at, last_used_at, revoked_at, policy FROM api_keys WHERE user_id = $1 ORDER BY created_at")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(|r| {
                Ok(ApiKeyInfo {
                    id: r.try_get("id").map_err(db_error)?,
                    user_id: r.try_get("user_id").map_err(db_error)?,
                    name: r.try_get("name").map_err(db_error)?,
                    prefix: r.try_get("prefix").map_err(db_error)?,
                    created_at: r.try_get("created_at").map_err(db_error)?,
                    last_used_at: r.try_get("last_used_at").map_err(db_error)?,
                    revoked: r
                        .try_get::<Option<i64>, _>("revoked_at")
                        .map_err(db_error)?
                        .is_some(),
                    rules: r
                        .try_get::<Option<String>, _>("policy")
                        .map_err(db_error)?
                        .and_then(|t| serde_json::from_str::<CallerPolicy>(&t).ok())
                        .filter(|p| !p.is_empty()),
                })
            })
            .collect()
    }

    // ---------------------------------------------------------------- connections

    /// Stores a user's connection to a Gmail address (updating tokens when it exists). The
    /// first connection of a user is their primary one.
    pub async fn upsert_connection(
        &self,
        user_id: &str,
        email: &str,
        tokens: &StoredTokens,
        scopes: &[String],
    ) -> Result<ConnectionInfo, GmailError> {
        let email = email.trim().to_ascii_lowercase();
        let existing = sqlx::query("SELECT id FROM connections WHERE user_id = $1 AND email = $2")
            .bind(user_id)
            .bind(&email)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        let id = match existing {
            Some(r) => r.try_get::<String, _>("id").map_err(db_error)?,
            None => {
                let id = new_id("conn");
                let has_any = sqlx::query("SELECT id FROM connections WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_error)?
                    .is_some();
                sqlx::query("INSERT INTO connections (id, user_id, email, refresh_token, scopes, status, is_primary, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                    .bind(&id)
                    .bind(user_id)
                    .bind(&email)
                    .bind(self.keys.seal(&format!("{id}:refresh"), tokens.refresh_token.expose_secret())?)
                    .bind(scopes.join(" "))
                    .bind(ACTIVE)
                    .bind(if has_any { 0i64 } else { 1i64 })
                    .bind(now())
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
                id
            }
        };
        self.store_tokens(&id, tokens).await?;
        sqlx::query("UPDATE connections SET scopes = $1, status = $2 WHERE id = $3")
            .bind(scopes.join(" "))
            .bind(ACTIVE)
            .bind(&id)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        self.connection_info(user_id, &id)
            .await?
            .ok_or_else(|| GmailError::internal("connection vanished after upsert"))
    }

    /// Writes refreshed tokens (sealed).
    pub async fn store_tokens(
        &self,
        connection_id: &str,
        tokens: &StoredTokens,
    ) -> Result<(), GmailError> {
        let access = tokens
            .access_token
            .as_ref()
            .map(|a| {
                self.keys
                    .seal(&format!("{connection_id}:access"), a.expose_secret())
            })
            .transpose()?;
        let refresh = self.keys.seal(
            &format!("{connection_id}:refresh"),
            tokens.refresh_token.expose_secret(),
        )?;
        sqlx::query("UPDATE connections SET access_token = $1, refresh_token = $2, expires_at = $3 WHERE id = $4")
            .bind(access)
            .bind(refresh)
            .bind(tokens.expiry_date)
            .bind(connection_id)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    pub async fn mark_needs_reauth(&self, connection_id: &str) -> Result<(), GmailError> {
        sqlx::query("UPDATE connections SET status = $1, access_token = NULL WHERE id = $2")
            .bind(NEEDS_REAUTH)
            .bind(connection_id)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    pub async fn touch_connection(&self, connection_id: &str) -> Result<(), GmailError> {
        sqlx::query("UPDATE connections SET last_used_at = $1 WHERE id = $2")
            .bind(now())
            .bind(connection_id)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    pub async fn list_connections(&self, user_id: &str) -> Result<Vec<ConnectionInfo>, GmailError> {
        let rows = sqlx::query("SELECT id, email, status, scopes, is_primary, created_at, last_used_at FROM connections WHERE user_id = $1 ORDER BY is_primary DESC, created_at")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(connection_row).collect()
    }

    async fn connection_info(
        &self,
        user_id: &str,
        id: &str,
    ) -> Result<Option<ConnectionInfo>, GmailError> {
        Ok(self
            .list_connections(user_id)
            .await?
            .into_iter()
            .find(|c| c.id == id))
    }

    /// The user's connection named by id or address (the primary one when `account` is
    /// `None`), with its tokens opened. Another user's connection is simply not found.
    pub async fn connection_for(
        &self,
        user_id: &str,
        account: Option<&str>,
    ) -> Result<ConnectionSecrets, GmailError> {
        let conns = self.list_connections(user_id).await?;
        let info = match account.map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) => conns
                .into_iter()
                .find(|c| c.id == a || c.email.eq_ignore_ascii_case(a))
                .ok_or_else(|| GmailError::not_found(format!("connected account {a}")))?,
            None => conns
                .into_iter()
                .next()
                .ok_or_else(|| GmailError::NotFound {
                    what: "a connected Gmail account (connect one with gmail_get_auth_url)".into(),
                })?,
        };
        let row = sqlx::query("SELECT access_token, refresh_token, expires_at FROM connections WHERE id = $1 AND user_id = $2")
            .bind(&info.id)
            .bind(user_id)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        let access: Option<String> = row.try_get("access_token").map_err(db_error)?;
        let refresh: String = row.try_get("refresh_token").map_err(db_error)?;
        let tokens = StoredTokens {
            access_token: access
                .map(|a| self.keys.open(&format!("{}:access", info.id), &a))
                .transpose()?,
            refresh_token: self.keys.open(&format!("{}:refresh", info.id), &refresh)?,
            scope: Some(info.scopes.join(" ")),
            expiry_date: row.try_get("expires_at").map_err(db_error)?,
        };
        Ok(ConnectionSecrets { info, tokens })
    }

    pub async fn delete_connection(&self, user_id: &str, id: &str) -> Result<bool, GmailError> {
        let done = sqlx::query("DELETE FROM connections WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        if done.rows_affected() == 1 {
            // Keep a primary when others remain.
            let rest = self.list_connections(user_id).await?;
            if !rest.is_empty() && !rest.iter().any(|c| c.is_primary) {
                sqlx::query("UPDATE connections SET is_primary = 1 WHERE id = $1")
                    .bind(&rest[0].id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_error)?;
            }
        }
        Ok(done.rows_affected() == 1)
    }

    /// Re-seals every token under the current key. Rows sealed with a key that is not
    /// configured are reported, not fatal, so one bad row does not stop a rotation.
    pub async fn rotate_keys(&self) -> Result<RotationReport, GmailError> {
        let rows = sqlx::query("SELECT id, access_token, refresh_token FROM connections")
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        let mut report = RotationReport::default();
        for r in rows {
            let id: String = r.try_get("id").map_err(db_error)?;
            let access: Option<String> = r.try_get("access_token").map_err(db_error)?;
            let refresh: String = r.try_get("refresh_token").map_err(db_error)?;
            if !self.keys.needs_rotation(&refresh)
                && access
                    .as_deref()
                    .is_none_or(|a| !self.keys.needs_rotation(a))
            {
                continue;
            }
            let opened = self
                .keys
                .open(&format!("{id}:refresh"), &refresh)
                .and_then(|r| {
                    let a = access
                        .map(|a| self.keys.open(&format!("{id}:access"), &a))
                        .transpose()?;
                    Ok((r, a))
                });
            let Ok((refresh, access)) = opened else {
                report.unreadable.push(id);
                continue;
            };
            sqlx::query(
                "UPDATE connections SET access_token = $1, refresh_token = $2 WHERE id = $3",
            )
            .bind(
                access
                    .map(|a| self.keys.seal(&format!("{id}:access"), a.expose_secret()))
                    .transpose()?,
            )
            .bind(
                self.keys
                    .seal(&format!("{id}:refresh"), refresh.expose_secret())?,
            )
            .bind(&id)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
            report.resealed += 1;
        }
        Ok(report)
    }
}

/// The database holds sealed tokens and key hashes: readable by its owner only, from the
/// moment it exists (SQLite gives its journal files the same mode).
fn owner_only(path: &std::path::Path) -> Result<(), GmailError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let io = |e: std::io::Error| {
            GmailError::internal_from(format!("cannot secure {}", path.display()), e)
        };
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(io)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn user_row(r: &AnyRow) -> Result<User, GmailError> {
    Ok(User {
        id: r.try_get("id").map_err(db_error)?,
        external_id: r.try_get("external_id").map_err(db_error)?,
        email: r.try_get("email").map_err(db_error)?,
    })
}

fn connection_row(r: &AnyRow) -> Result<ConnectionInfo, GmailError> {
    let scopes: String = r.try_get("scopes").map_err(db_error)?;
    Ok(ConnectionInfo {
        id: r.try_get("id").map_err(db_error)?,
        email: r.try_get("email").map_err(db_error)?,
        status: r.try_get("status").map_err(db_error)?,
        scopes: scopes.split_whitespace().map(str::to_owned).collect(),
        is_primary: r.try_get::<i64, _>("is_primary").map_err(db_error)? == 1,
        created_at: r.try_get("created_at").map_err(db_error)?,
        last_used_at: r.try_get("last_used_at").map_err(db_error)?,
    })
}
