//! Multi-user storage: users, their Gmail connections (tokens sealed with AES-256-GCM), OAuth
//! states and API keys. One sqlx implementation over SQLite (default) and PostgreSQL, chosen
//! by the URL; the same portable migrations for both.

use std::borrow::Cow;
use std::sync::Arc;

use base64::Engine;
use rand::RngCore;
use schemars::JsonSchema;
use secrecy::ExposeSecret;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::any::{AnyArguments, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::query::Query;
use sqlx::{Any, AnyPool, Row};

use crate::error::GmailError;

/// `sqlx::query(sql)` with its `$1, $2, …` bound in order: `sql!("… $1 … $2", a, b)`;
/// `sql!(as T, "…", a)` reads the rows as `T` (a `sqlx::FromRow`), as `sqlx::query_as` does.
/// Defined before the submodules so that each of them can use it.
macro_rules! sql {
    (as $row:ty, $sql:expr $(, $arg:expr)* $(,)?) => {
        sqlx::query_as::<_, $row>($sql)$(.bind($arg))*
    };
    ($sql:expr $(, $arg:expr)* $(,)?) => {
        sqlx::query($sql)$(.bind($arg))*
    };
}

mod audit;
pub mod cipher;
mod columns;
mod connections;
mod device;
mod events;
mod grants;
mod idempotency;
mod members;
mod oauth_states;
mod sessions;
mod webhooks;

pub use connections::{ConnectionInfo, ConnectionSecrets};
pub use device::DeviceGrant;
pub use events::{now_ms, CursorRow, EventRow, NewEvent};
pub use grants::{
    ClientRecord, Decision, GrantInfo, GrantRecord, NewGrant, Presented, Redeemed, TokenOwner,
    MAX_GRANTS_PER_USER,
};
pub use idempotency::IdempotencyClaim;
pub use members::{ApiKeyInfo, UserSummary, MAX_LIVE_KEYS_PER_USER};
pub use oauth_states::{FlowBinding, OAuthState, PendingFlow};
pub use sessions::{
    RelayedMessage, SessionOwner, MAX_RELAYED_PER_SESSION, MAX_SESSION_RECORDS_PER_USER,
    MAX_SESSION_STATE_BYTES,
};
pub use webhooks::{AttemptOutcome, DeliveryRow, NewWebhook, Webhook, MAX_PENDING_TESTS};

pub use cipher::Keyring;

/// A database failure is an internal error that keeps its cause, so `?` works on every query.
impl From<sqlx::Error> for GmailError {
    fn from(e: sqlx::Error) -> Self {
        GmailError::internal_from("database", e)
    }
}

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

pub(crate) fn random_token(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

pub(crate) fn sha256_hex(s: &str) -> String {
    cipher::hex(&Sha256::digest(s.as_bytes()))
}

#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq, Eq, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub external_id: String,
    pub email: Option<String>,
}

/// What a key rotation did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RotationReport {
    /// Connections whose tokens were re-sealed.
    pub resealed: usize,
    /// Webhooks whose signing secrets were re-sealed.
    pub resealed_webhooks: usize,
    /// Connection and webhook ids whose secrets no configured key opens.
    pub unreadable: Vec<String>,
}

pub const NEEDS_REAUTH: &str = "needs_reauth";
pub const ACTIVE: &str = "active";

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// PostgreSQL only: connections that hold refresh locks, apart from the main pool, so
    /// lock holders can always write their result back.
    locks: Option<AnyPool>,
    keys: Arc<Keyring>,
    kind: &'static str,
    /// PostgreSQL only: where LISTEN connections go (it may carry a password).
    listen_url: Option<Arc<secrecy::SecretString>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// The schema's steps, in order; the same portable SQL for SQLite and PostgreSQL.
const MIGRATIONS: [(i64, &str, &str); 14] = [
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
    (
        6,
        "key expiry",
        include_str!("../../migrations/0006_key_expiry.sql"),
    ),
    (
        7,
        "device grants",
        include_str!("../../migrations/0007_device_grants.sql"),
    ),
    (
        8,
        "oauth server",
        include_str!("../../migrations/0008_oauth_server.sql"),
    ),
    (
        9,
        "shared sessions",
        include_str!("../../migrations/0009_shared_sessions.sql"),
    ),
    (
        10,
        "events",
        include_str!("../../migrations/0010_events.sql"),
    ),
    (
        11,
        "site sign-out",
        include_str!("../../migrations/0011_site_sign_out.sql"),
    ),
    (
        12,
        "session records by user",
        include_str!("../../migrations/0012_session_records_by_user.sql"),
    ),
    (
        13,
        "oauth decisions",
        include_str!("../../migrations/0013_oauth_decisions.sql"),
    ),
    (
        14,
        "audit retention",
        include_str!("../../migrations/0014_audit_retention.sql"),
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
                format!(
                    "{} is neither a sqlite: nor a postgres:// URL",
                    kind_of_url(url)
                ),
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
        let mut options = AnyPoolOptions::new()
            // One connection for in-memory SQLite, or each would see its own database.
            .max_connections(if url.contains(":memory:") { 1 } else { 10 });
        if kind == "sqlite" {
            // Per connection: foreign keys on; with WAL (below), a commit need not wait for
            // a checkpoint's fsync (what the event outbox's many small writes need).
            options = options.after_connect(|conn, _| {
                Box::pin(async move {
                    use sqlx::Executor;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    Ok(())
                })
            });
        }
        let pool = options
            .connect(&url)
            .await
            .map_err(|e| GmailError::internal_from("cannot open the database", e))?;
        if kind == "sqlite" && !url.contains(":memory:") {
            // Readers no longer wait for writers (both servers share the file). The WAL file
            // takes the database file's owner-only permissions (SQLite copies them).
            sql!("PRAGMA journal_mode = WAL").execute(&pool).await?;
        }
        // SQLite has no migration lock (PostgreSQL takes an advisory one): when both servers
        // start at once on a fresh file, one of them loses the race on `_sqlx_migrations`.
        // The winner finishes in milliseconds; the loser retries and finds the work done.
        let mut attempt = 0;
        loop {
            match migrator().run(&pool).await {
                Ok(()) => break,
                Err(e) if attempt < 10 && kind == "sqlite" => {
                    attempt += 1;
                    tracing::debug!(attempt, error = %e, "migration raced another process; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await;
                }
                Err(e) => return Err(GmailError::internal_from("database migration failed", e)),
            }
        }
        let locks = (kind != "sqlite")
            .then(|| AnyPoolOptions::new().max_connections(4).connect_lazy(&url))
            .transpose()
            .map_err(|e| GmailError::internal_from("cannot open the database", e))?;
        Ok(Store {
            pool,
            locks,
            keys: Arc::new(keys),
            kind,
            listen_url: (kind != "sqlite")
                .then(|| Arc::new(secrecy::SecretString::from(url.clone()))),
        })
    }

    /// `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Runs a statement on the pool.
    async fn run(&self, statement: Query<'_, Any, AnyArguments>) -> Result<(), GmailError> {
        self.rows_changed(statement).await.map(drop)
    }

    /// Runs a statement; how many rows it changed.
    async fn rows_changed(
        &self,
        statement: Query<'_, Any, AnyArguments>,
    ) -> Result<u64, GmailError> {
        Ok(statement.execute(&self.pool).await?.rows_affected())
    }

    /// Runs a statement; whether it changed exactly one row (the one it names, under its
    /// conditions).
    async fn changed_one(
        &self,
        statement: Query<'_, Any, AnyArguments>,
    ) -> Result<bool, GmailError> {
        Ok(self.rows_changed(statement).await? == 1)
    }

    /// The `n` of a `SELECT COUNT(*) AS n …`.
    async fn count(&self, query: Query<'_, Any, AnyArguments>) -> Result<i64, GmailError> {
        Ok(query.fetch_one(&self.pool).await?.try_get("n")?)
    }

    /// Refuses with 429 (`full`, retry after `retry_after`) when the `SELECT COUNT(*) AS n …`
    /// finds `max` rows or more: what callers can make the store hold has a bound.
    async fn below_cap(
        &self,
        count: Query<'_, Any, AnyArguments>,
        max: i64,
        retry_after: std::time::Duration,
        full: &str,
    ) -> Result<(), GmailError> {
        let n = self.count(count).await?;
        if n < max {
            return Ok(());
        }
        Err(GmailError::TooManyRequests {
            message: format!("{n} {full}; the limit is {max}"),
            retry_after,
        })
    }

    /// Re-seals every token and webhook secret under the current key. Rows sealed with a key
    /// that is not configured are reported, not fatal, so one bad row does not stop a
    /// rotation. Each update names the value it replaces: a row a refresh or a reconnect
    /// rewrote meanwhile (under the current key already) is left as that writer made it.
    pub async fn rotate_keys(&self) -> Result<RotationReport, GmailError> {
        let rows = sql!("SELECT id, access_token, refresh_token FROM connections")
            .fetch_all(&self.pool)
            .await?;
        let mut report = RotationReport::default();
        for r in rows {
            let id: String = r.try_get("id")?;
            let access: Option<String> = r.try_get("access_token")?;
            let refresh: String = r.try_get("refresh_token")?;
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
                        .as_ref()
                        .map(|a| self.keys.open(&format!("{id}:access"), a))
                        .transpose()?;
                    Ok((r, a))
                });
            let Ok((new_refresh, new_access)) = opened else {
                report.unreadable.push(id);
                continue;
            };
            let changed = self
                .changed_one(sql!(
                    "UPDATE connections SET access_token = $1, refresh_token = $2 WHERE \
                     id = $3 AND refresh_token = $4 AND access_token IS NOT DISTINCT FROM $5",
                    new_access
                        .map(|a| self.keys.seal(&format!("{id}:access"), a.expose_secret()))
                        .transpose()?,
                    self.keys
                        .seal(&format!("{id}:refresh"), new_refresh.expose_secret())?,
                    &id,
                    &refresh,
                    &access
                ))
                .await?;
            report.resealed += usize::from(changed);
        }
        let rows = sql!("SELECT id, secret FROM webhooks")
            .fetch_all(&self.pool)
            .await?;
        for r in rows {
            let id: String = r.try_get("id")?;
            let sealed: String = r.try_get("secret")?;
            if !self.keys.needs_rotation(&sealed) {
                continue;
            }
            let aad = format!("{id}:webhook");
            let Ok(secret) = self.keys.open(&aad, &sealed) else {
                report.unreadable.push(id);
                continue;
            };
            let changed = self
                .changed_one(sql!(
                    "UPDATE webhooks SET secret = $1 WHERE id = $2 AND secret = $3",
                    self.keys.seal(&aad, secret.expose_secret())?,
                    &id,
                    &sealed
                ))
                .await?;
            report.resealed_webhooks += usize::from(changed);
        }
        Ok(report)
    }
}

/// What an unusable database URL is, by its scheme alone: anything else in it (a password
/// in the userinfo or the query, a libpq keyword string) may be a secret.
fn kind_of_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!("the database URL (a {}: URL)", u.scheme()),
        Err(_) => "the database URL (not a URL)".to_string(),
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

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_bad_database_url_is_named_without_its_password() {
        for url in [
            "postgresql+asyncpg://app:hunter2@db:5432/mail",
            "postgresql+asyncpg://app@db/mail?password=hunter2",
            "mysql://app:hunt@er2@db/mail",
            "host=db user=app password=hunter2",
        ] {
            let keys = super::Keyring::new(&super::cipher::generate_key().into(), None).unwrap();
            let Err(err) = super::Store::connect(url, keys).await else {
                panic!("refused")
            };
            let text = err.to_string();
            assert!(
                text.contains("the database URL")
                    && !text.contains("hunter2")
                    && !text.contains("er2"),
                "{text}"
            );
        }
    }
}
