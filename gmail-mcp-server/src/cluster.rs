//! Several instances behind a round-robin load balancer, on one database (multi-user mode).
//! Any instance serves any request:
//!
//! - Streamable HTTP: rmcp persists each session's `initialize` parameters through
//!   [`DbSessionStore`]; an instance that gets a request for a session it does not hold
//!   restores it from there and replays the handshake, for the session's own user only.
//! - Legacy SSE: the stream stays on the instance that holds it. A `POST /message` that lands
//!   elsewhere is queued in the database for that instance and acknowledged (202) once stored;
//!   the holder is woken by PostgreSQL NOTIFY, and also drains its queue every second.
//! - Each instance writes a heartbeat; the streams of one that stopped are known to be gone.
//! - Revocations already reach every instance: each polls the database (see `sessions`).

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::web;
use gmail_shared::server::problem::Problem;
use gmail_shared::store::{SessionOwner, Store};
use rmcp::transport::streamable_http_server::session::store::{
    SessionState, SessionStore, SessionStoreError,
};
use tokio_util::sync::CancellationToken;

use crate::app::AppState;

const HEARTBEAT: Duration = Duration::from_secs(5);
/// The safety net under NOTIFY (and the only wake-up on SQLite).
const RELAY_POLL: Duration = Duration::from_secs(1);
/// How much relayed JSON (wire bytes, before it is parsed) is taken from the queue at once.
const RELAY_BATCH_BYTES: usize = 4 << 20;

/// This instance among the others on the same database.
pub struct Cluster {
    store: Store,
    instance: String,
    /// Held while a request restores a session made elsewhere (see `guard`).
    pub restoring: tokio::sync::Mutex<()>,
}

impl Cluster {
    pub fn new(store: Store) -> Arc<Cluster> {
        Arc::new(Cluster {
            store,
            instance: format!("mcp-{}", uuid::Uuid::new_v4().simple()),
            restoring: tokio::sync::Mutex::new(()),
        })
    }

    pub fn instance(&self) -> &str {
        &self.instance
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Records a session this instance holds (SSE: with the instance, so posts find it).
    pub async fn register(&self, id: &str, transport: &str, owner: Option<(&str, &str)>) {
        let instance = (transport == "sse").then_some(self.instance.as_str());
        if let Err(e) = self
            .store
            .put_session_owner(id, transport, instance, owner)
            .await
        {
            tracing::warn!(session_id = %id, error = %e, "cannot record the session; other instances will not find it");
        }
    }

    pub fn forget(self: &Arc<Self>, id: &str) {
        let (me, id) = (self.clone(), id.to_string());
        tokio::spawn(async move {
            if let Err(e) = me.store.delete_session_record(&id).await {
                tracing::debug!(session_id = %id, error = %e, "cannot forget the session record");
            }
        });
    }

    /// The recorded owner of a session. A failed lookup is an error, not "no owner": the
    /// guards that read it must not let a request through unchecked.
    pub async fn owner(&self, id: &str) -> Result<Option<SessionOwner>, Problem> {
        self.store.session_owner(id).await.map_err(|e| {
            tracing::warn!(session_id = %id, error = %e, "cannot look up the session");
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "upstream-unavailable",
                "Session store unavailable",
                format!("cannot look up MCP session {id} now; retry"),
            )
            .retry_after(1)
            .jsonrpc(-32603)
        })
    }

    /// The owner of a session made elsewhere. rmcp records a new session while answering its
    /// initialize, and the instance that made it records the owner just after: a client's
    /// next request can land here in between, so an owner not recorded yet is waited for
    /// (briefly).
    pub async fn settled_owner(&self, id: &str) -> Result<Option<SessionOwner>, Problem> {
        for _ in 0..50 {
            match self.owner(id).await? {
                Some(o) if o.user_id.is_none() => {
                    tokio::time::sleep(Duration::from_millis(20)).await
                }
                other => return Ok(other),
            }
        }
        self.owner(id).await
    }

    /// Heartbeats, and the relay queue drained into this instance's SSE sessions.
    pub fn spawn(self: &Arc<Self>, state: web::Data<AppState>, shutdown: CancellationToken) {
        let me = self.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(HEARTBEAT);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tick.tick() => {
                        if let Err(e) = me.store.instance_heartbeat(&me.instance).await {
                            tracing::warn!(error = %e, "instance heartbeat failed");
                        }
                    }
                }
            }
        });
        let me = self.clone();
        tokio::spawn(async move {
            let mut listener = me.store.relay_listener().await;
            let mut poll = tokio::time::interval(RELAY_POLL);
            poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = poll.tick() => {}
                    note = async {
                        match listener.as_mut() {
                            Some(l) => l.recv().await.map(|n| n.payload() == me.instance),
                            None => std::future::pending().await,
                        }
                    } => match note {
                        Ok(true) => {}
                        Ok(false) => continue,
                        Err(e) => {
                            tracing::warn!(error = %e, "LISTEN connection lost; polling until it is back");
                            listener = None;
                        }
                    }
                }
                if listener.is_none() {
                    listener = me.store.relay_listener().await;
                }
                // A part at a time: each is delivered before the next is read.
                while !shutdown.is_cancelled() {
                    match me.store.take_relayed(&me.instance, RELAY_BATCH_BYTES).await {
                        Ok((messages, more)) => {
                            for m in messages {
                                let body = m.body.into_bytes();
                                crate::transport::sse::deliver_relayed(&state, &m.session_id, body)
                                    .await;
                            }
                            if !more {
                                break;
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot take relayed messages");
                            break;
                        }
                    }
                }
            }
        });
    }
}

/// rmcp's session store over the shared database.
pub struct DbSessionStore(pub Store);

#[async_trait::async_trait]
impl SessionStore for DbSessionStore {
    async fn load(&self, session_id: &str) -> Result<Option<SessionState>, SessionStoreError> {
        match self.0.session_state(session_id).await? {
            Some(json) => Ok(Some(serde_json::from_str(&json)?)),
            None => Ok(None),
        }
    }

    async fn store(&self, session_id: &str, state: &SessionState) -> Result<(), SessionStoreError> {
        let json = serde_json::to_string(state)?;
        Ok(self.0.put_session_state(session_id, &json).await?)
    }

    async fn delete(&self, session_id: &str) -> Result<(), SessionStoreError> {
        Ok(self.0.delete_session_record(session_id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session store that cannot answer refuses (503), never "no owner": the guards would
    /// otherwise let a request for another user's session through unchecked.
    #[tokio::test]
    async fn an_owner_that_cannot_be_looked_up_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let keys = gmail_shared::store::Keyring::new(
            &gmail_shared::store::cipher::generate_key().into(),
            None,
        )
        .unwrap();
        let url = format!("sqlite://{}/s.db", dir.path().display());
        let store = Store::connect(&url, keys).await.unwrap();
        let cluster = Cluster::new(store.clone());
        assert!(cluster.owner("nope").await.unwrap().is_none());
        store.pool().close().await;
        let problem = cluster.owner("nope").await.unwrap_err();
        assert_eq!(problem.details().status, 503);
    }
}
