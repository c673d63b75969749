//! MCP sessions shared by every instance on one database: the records that let any instance
//! restore a Streamable HTTP session, the owners of legacy SSE streams, the queue that relays
//! a `POST /message` to the instance holding its stream, and instance heartbeats.

use secrecy::ExposeSecret;
use sqlx::{FromRow, Row};

use super::{now, Store};
use crate::error::GmailError;

/// The NOTIFY channel that wakes the instance a message was queued for.
pub const RELAY_CHANNEL: &str = "gmail_mcp_relay";
/// An instance not seen for this long is gone, and so are its SSE streams.
pub const INSTANCE_TIMEOUT_SECS: i64 = 15;
/// Session records live at most this long unused (a client that comes back later starts anew).
const SESSION_RECORD_SECS: i64 = 7 * 86_400;
/// Session records one user keeps (the newest, and always the one just opened): sixteen
/// instances' worth of the default per-user session cap (256), so a loop of opens cannot
/// grow the table without bound.
pub const MAX_SESSION_RECORDS_PER_USER: i64 = 4096;
/// The largest session state stored (its `initialize` parameters as JSON); a larger one is
/// not stored, and that session lives only on the instance that opened it.
pub const MAX_SESSION_STATE_BYTES: usize = 64 * 1024;
/// Relayed messages nobody took within this long are dropped (their stream is gone).
const RELAY_TTL_US: i64 = 60_000_000;
/// Messages that may wait for one session at most: its client reads its stream, or the
/// poster hears 429 rather than the database (and the instance taking them) filling up.
pub const MAX_RELAYED_PER_SESSION: i64 = 32;

/// Who a session belongs to, and (SSE) which live instance holds its stream.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionOwner {
    pub user_id: Option<String>,
    pub key_id: Option<String>,
    pub instance: Option<String>,
}

/// A message queued for a session held by this instance.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RelayedMessage {
    pub session_id: String,
    pub body: String,
}

/// A relayed message as queued: when (and by which id, for ties), to order the taking.
#[derive(sqlx::FromRow)]
struct QueuedRow {
    created_us: i64,
    id: String,
    #[sqlx(flatten)]
    message: RelayedMessage,
}

/// A queued message's place and size (bytes), read before its body.
#[derive(sqlx::FromRow)]
struct QueuedSize {
    created_us: i64,
    id: String,
    size: i64,
}

fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

impl Store {
    /// Records a session: its transport, the instance holding it (SSE), and its owner.
    /// Upserts, so the owner and the state may arrive in either order.
    pub async fn put_session_owner(
        &self,
        id: &str,
        transport: &str,
        instance: Option<&str>,
        owner: Option<(&str, &str)>,
    ) -> Result<(), GmailError> {
        self.run(sql!(
            "INSERT INTO mcp_sessions (id, transport, instance, user_id, key_id, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE \
             SET instance = COALESCE($3, mcp_sessions.instance), user_id = $4, key_id \
             = $5",
            id,
            transport,
            instance,
            owner.map(|o| o.0),
            owner.map(|o| o.1),
            now()
        ))
        .await?;
        let Some((user, _)) = owner else {
            return Ok(());
        };
        self.run(sql!(
            "DELETE FROM mcp_sessions WHERE user_id = $1 AND id <> $3 AND id NOT IN \
             (SELECT id FROM mcp_sessions WHERE user_id = $1 ORDER BY created_at DESC, id \
             DESC LIMIT $2)",
            user,
            MAX_SESSION_RECORDS_PER_USER,
            id
        ))
        .await
    }

    /// Stores a Streamable HTTP session's state (its `initialize` parameters, as JSON),
    /// forgetting records older than a week.
    pub async fn put_session_state(&self, id: &str, state: &str) -> Result<(), GmailError> {
        if state.len() > MAX_SESSION_STATE_BYTES {
            return Err(GmailError::TooLarge {
                message: format!(
                    "the session's initialize parameters are {} bytes; they are not kept for \
                     other instances",
                    state.len()
                ),
                limit_bytes: MAX_SESSION_STATE_BYTES as u64,
            });
        }
        self.run(sql!(
            "DELETE FROM mcp_sessions WHERE created_at < $1",
            now() - SESSION_RECORD_SECS
        ))
        .await?;
        self.run(sql!(
            "INSERT INTO mcp_sessions (id, transport, state, created_at) VALUES ($1, \
             'streamable_http', $2, $3) ON CONFLICT (id) DO UPDATE SET state = $2",
            id,
            state,
            now()
        ))
        .await
    }

    pub async fn session_state(&self, id: &str) -> Result<Option<String>, GmailError> {
        let row = sql!("SELECT state FROM mcp_sessions WHERE id = $1", id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.and_then(|r| r.try_get::<Option<String>, _>("state").ok().flatten()))
    }

    /// The owner of a session; for a stream held by an instance, only while it is alive.
    pub async fn session_owner(&self, id: &str) -> Result<Option<SessionOwner>, GmailError> {
        let row = sql!(
            "SELECT s.user_id, s.key_id, s.instance, i.seen_at FROM mcp_sessions s \
             LEFT JOIN mcp_instances i ON i.id = s.instance WHERE s.id = $1",
            id
        )
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let owner = SessionOwner::from_row(&row)?;
        let seen: Option<i64> = row.try_get("seen_at")?;
        if owner.instance.is_some() && seen.is_none_or(|t| t < now() - INSTANCE_TIMEOUT_SECS) {
            return Ok(None);
        }
        Ok(Some(owner))
    }

    pub async fn delete_session_record(&self, id: &str) -> Result<(), GmailError> {
        self.run(sql!("DELETE FROM mcp_sessions WHERE id = $1", id))
            .await
    }

    /// This instance is alive; the records of instances gone for a minute, and relayed
    /// messages nobody took within a minute, are removed.
    pub async fn instance_heartbeat(&self, instance: &str) -> Result<(), GmailError> {
        let t = now();
        self.run(sql!(
            "INSERT INTO mcp_instances (id, seen_at) VALUES ($1, $2) ON CONFLICT (id) \
             DO UPDATE SET seen_at = $2",
            instance,
            t
        ))
        .await?;
        self.run(sql!(
            "DELETE FROM mcp_sessions WHERE instance IN (SELECT id FROM mcp_instances \
             WHERE seen_at < $1)",
            t - 60
        ))
        .await?;
        self.run(sql!("DELETE FROM mcp_instances WHERE seen_at < $1", t - 60))
            .await?;
        // Relayed messages that waited too long for anybody; here, every few seconds, not on
        // every take (a busy relay is woken for each message).
        self.run(sql!(
            "DELETE FROM mcp_relay WHERE created_us < $1",
            now_us() - RELAY_TTL_US
        ))
        .await
    }

    /// Queues a message for the session `session_id` held by `instance`, and wakes that
    /// instance (PostgreSQL NOTIFY; it also polls).
    pub async fn relay_message(
        &self,
        instance: &str,
        session_id: &str,
        body: &str,
    ) -> Result<(), GmailError> {
        self.below_cap(
            sql!(
                "SELECT COUNT(*) AS n FROM mcp_relay WHERE session_id = $1",
                session_id
            ),
            MAX_RELAYED_PER_SESSION,
            std::time::Duration::from_secs(1),
            "messages wait for this SSE session; its client is not reading its stream",
        )
        .await?;
        self.run(sql!(
            "INSERT INTO mcp_relay (id, instance, session_id, body, created_us) \
             VALUES ($1, $2, $3, $4, $5)",
            uuid::Uuid::new_v4().simple().to_string(),
            instance,
            session_id,
            body,
            now_us()
        ))
        .await?;
        if self.kind == "postgres" {
            self.run(sql!("SELECT pg_notify($1, $2)", RELAY_CHANNEL, instance))
                .await?;
        }
        Ok(())
    }

    /// Takes (removes) the oldest messages queued for this instance, about `max_bytes` of
    /// them (at least one), so a backlog of large bodies is delivered a part at a time
    /// instead of all held at once (the heartbeat drops the ones that waited too long for
    /// anybody). Answers them, and whether more wait.
    pub async fn take_relayed(
        &self,
        instance: &str,
        max_bytes: usize,
    ) -> Result<(Vec<RelayedMessage>, bool), GmailError> {
        // Sizes first, bodies not: which prefix of the queue fits.
        let sizes = if self.kind == "postgres" {
            sql!(
                as QueuedSize,
                "SELECT created_us, id, CAST(OCTET_LENGTH(body) AS BIGINT) AS size FROM \
                 mcp_relay WHERE instance = $1 ORDER BY created_us, id",
                instance
            )
        } else {
            sql!(
                as QueuedSize,
                "SELECT created_us, id, LENGTH(CAST(body AS BLOB)) AS size FROM mcp_relay \
                 WHERE instance = $1 ORDER BY created_us, id",
                instance
            )
        };
        let queued: Vec<QueuedSize> = sizes.fetch_all(&self.pool).await?;
        let mut bytes = 0usize;
        let fits = queued
            .iter()
            .enumerate()
            .take_while(|(n, q)| {
                bytes = bytes.saturating_add(q.size as usize);
                *n == 0 || bytes <= max_bytes
            })
            .count();
        let Some(last) = fits.checked_sub(1).map(|n| &queued[n]) else {
            return Ok((vec![], false));
        };
        let mut taken = sql!(
            as QueuedRow,
            "DELETE FROM mcp_relay WHERE instance = $1 AND (created_us < $2 OR (created_us = \
             $2 AND id <= $3)) RETURNING session_id, body, created_us, id",
            instance,
            last.created_us,
            last.id.as_str()
        )
        .fetch_all(&self.pool)
        .await?;
        // One client's posts wait for each other's 202, so their times order them.
        taken.sort_by(|a, b| (a.created_us, &a.id).cmp(&(b.created_us, &b.id)));
        let more = fits < queued.len();
        Ok((taken.into_iter().map(|q| q.message).collect(), more))
    }

    /// A connection listening on the relay channel (PostgreSQL only).
    pub async fn relay_listener(&self) -> Option<sqlx::postgres::PgListener> {
        let url = self.listen_url.as_ref()?;
        let mut listener = sqlx::postgres::PgListener::connect(url.expose_secret())
            .await
            .inspect_err(
                |e| tracing::warn!(error = %e, "cannot LISTEN for relayed messages; polling"),
            )
            .ok()?;
        listener
            .listen(RELAY_CHANNEL)
            .await
            .inspect_err(
                |e| tracing::warn!(error = %e, "cannot LISTEN for relayed messages; polling"),
            )
            .ok()?;
        Some(listener)
    }
}
