//! Live MCP sessions across transports: who is connected, how busy, and the handle that
//! closes each one. Backs `/sessions`, the counts in `/health`, and idle reaping.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use actix_web::{delete, get, web, HttpRequest, HttpResponse};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::app::AppState;
use gmail_shared::auth::caller_id;

/// The door a session came in through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum TransportKind {
    #[serde(rename = "sse")]
    Sse,
    #[serde(rename = "streamable-http")]
    StreamableHttp,
    #[serde(rename = "stdio")]
    Stdio,
}

impl TransportKind {
    pub const ALL: [TransportKind; 3] = [
        TransportKind::Sse,
        TransportKind::StreamableHttp,
        TransportKind::Stdio,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Sse => "sse",
            TransportKind::StreamableHttp => "streamable-http",
            TransportKind::Stdio => "stdio",
        }
    }
}

/// One live session.
pub struct Session {
    pub id: String,
    pub transport: TransportKind,
    created: Instant,
    created_at: chrono::DateTime<chrono::Utc>,
    /// Milliseconds after `created` of the last client message (atomic: touched per message).
    last_activity_ms: AtomicU64,
    requests: AtomicU64,
    /// Cancelling it closes the session, whatever its transport.
    closer: CancellationToken,
    /// The user who opened it (multi-user mode): only they may use, see or close it. Set
    /// once, when the session opens (Streamable HTTP learns it from the initialize response).
    owner: OnceLock<String>,
}

impl Session {
    /// Records a client message; `is_request` also counts it as a request.
    pub fn touch(&self, is_request: bool) {
        let ms = self.created.elapsed().as_millis() as u64;
        self.last_activity_ms.fetch_max(ms, Ordering::Relaxed);
        if is_request {
            self.requests.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last_activity_ms.load(Ordering::Relaxed));
        self.created.elapsed().saturating_sub(last)
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub fn owner(&self) -> Option<&str> {
        self.owner.get().map(String::as_str)
    }

    /// Binds the session to its user; a session already bound keeps its first owner.
    pub fn set_owner(&self, user: String) {
        let _ = self.owner.set(user);
    }

    /// Whether `caller` (None outside multi-user mode) may use this session.
    pub fn belongs_to(&self, caller: Option<&str>) -> bool {
        self.owner() == caller
    }

    /// Fires when the session is closed from outside (DELETE, reaper, shutdown).
    pub fn closer(&self) -> &CancellationToken {
        &self.closer
    }

    fn info(&self) -> SessionInfo {
        SessionInfo {
            id: self.id.clone(),
            transport: self.transport,
            created_at: self
                .created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            age_secs: self.created.elapsed().as_secs(),
            idle_secs: self.idle().as_secs(),
            requests: self.requests(),
        }
    }
}

/// One row of `GET /sessions`.
#[derive(Debug, Clone, Serialize)]
pub struct SessionInfo {
    pub id: String,
    pub transport: TransportKind,
    pub created_at: String,
    pub age_secs: u64,
    pub idle_secs: u64,
    pub requests: u64,
}

/// The registry of live sessions, shared by every transport.
#[derive(Default)]
pub struct Sessions {
    map: RwLock<HashMap<String, Arc<Session>>>,
    /// Parent of every session's closer, so shutdown closes them all at once.
    root: CancellationToken,
}

impl Sessions {
    pub fn new(root: CancellationToken) -> Self {
        Sessions {
            map: RwLock::default(),
            root,
        }
    }

    /// Adds a session. Its closer is a child of the registry's root token.
    pub fn register(&self, id: impl Into<String>, transport: TransportKind) -> Arc<Session> {
        let id = id.into();
        let session = Arc::new(Session {
            id: id.clone(),
            transport,
            created: Instant::now(),
            created_at: chrono::Utc::now(),
            last_activity_ms: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            closer: self.root.child_token(),
            owner: OnceLock::new(),
        });
        self.write().insert(id, session.clone());
        tracing::info!(session_id = %session.id, transport = transport.as_str(), "session opened");
        session
    }

    pub fn get(&self, id: &str) -> Option<Arc<Session>> {
        self.read().get(id).cloned()
    }

    /// Forgets a session that has ended (its transport's own cleanup calls this).
    pub fn remove(&self, id: &str) {
        if let Some(session) = self.write().remove(id) {
            // Whatever still waits on the closer (streams, watchers) lets go now.
            session.closer.cancel();
            tracing::info!(
                session_id = %id,
                transport = session.transport.as_str(),
                requests = session.requests(),
                "session closed"
            );
        }
    }

    /// Closes a session from outside; false when there is none by that id.
    pub fn close(&self, id: &str) -> bool {
        match self.write().remove(id) {
            Some(session) => {
                tracing::info!(session_id = %id, transport = session.transport.as_str(), "closing session");
                session.closer.cancel();
                true
            }
            None => false,
        }
    }

    /// The sessions `caller` may see: all of them outside multi-user mode (caller None),
    /// else only the caller's own.
    pub fn list(&self, caller: Option<&str>) -> Vec<SessionInfo> {
        let mut rows: Vec<SessionInfo> = self
            .read()
            .values()
            .filter(|s| s.belongs_to(caller))
            .map(|s| s.info())
            .collect();
        rows.sort_by(|a, b| b.age_secs.cmp(&a.age_secs).then_with(|| a.id.cmp(&b.id)));
        rows
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Open sessions per transport, every transport listed.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts: BTreeMap<&'static str, usize> =
            TransportKind::ALL.iter().map(|t| (t.as_str(), 0)).collect();
        for session in self.read().values() {
            *counts.entry(session.transport.as_str()).or_default() += 1;
        }
        counts
    }

    /// Closes sessions idle for longer than `timeout`; stdio is exempt (it lives as long as
    /// the process its client started). Returns how many it closed.
    pub fn reap_idle(&self, timeout: Duration) -> usize {
        let idle: Vec<String> = self
            .read()
            .values()
            .filter(|s| s.transport != TransportKind::Stdio && s.idle() > timeout)
            .map(|s| s.id.clone())
            .collect();
        let mut closed = 0;
        for id in idle {
            tracing::info!(session_id = %id, idle_timeout_secs = timeout.as_secs(), "closing idle session");
            if self.close(&id) {
                closed += 1;
            }
        }
        closed
    }

    /// Runs the reaper until the root token is cancelled; checks several times per timeout so
    /// a session outlives its idle timeout by a small fraction at most.
    pub fn spawn_reaper(self: &Arc<Self>, timeout: Duration) {
        let sessions = self.clone();
        let period = (timeout / 4).clamp(Duration::from_millis(20), Duration::from_secs(30));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = sessions.root.cancelled() => break,
                    _ = tick.tick() => { sessions.reap_idle(timeout); }
                }
            }
        });
    }

    /// Closes every session (shutdown).
    pub fn close_all(&self) {
        self.root.cancel();
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<Session>>> {
        // A panic while holding the lock cannot leave the map half-updated; keep serving.
        self.map.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<Session>>> {
        self.map.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Serialize)]
struct SessionList {
    count: usize,
    sessions: Vec<SessionInfo>,
}

#[get("/sessions")]
pub async fn list_sessions(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let sessions = state.sessions.list(caller_id(&req).as_deref());
    HttpResponse::Ok().json(SessionList {
        count: sessions.len(),
        sessions,
    })
}

#[delete("/sessions/{id}")]
pub async fn delete_session(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    // Another user's session is not found, exactly like one that does not exist.
    let owned = state
        .sessions
        .get(&id)
        .is_some_and(|s| s.belongs_to(caller_id(&req).as_deref()));
    if owned && state.sessions.close(&id) {
        HttpResponse::NoContent().finish()
    } else {
        gmail_shared::server::problem::Problem::not_found(format!("session {id} not found"))
            .response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_list_every_transport() {
        let sessions = Sessions::new(CancellationToken::new());
        sessions.register("a", TransportKind::Sse);
        sessions.register("b", TransportKind::Sse);
        sessions.register("c", TransportKind::StreamableHttp);
        let counts = sessions.counts();
        assert_eq!(counts["sse"], 2);
        assert_eq!(counts["streamable-http"], 1);
        assert_eq!(counts["stdio"], 0);
    }

    #[test]
    fn close_cancels_and_forgets() {
        let sessions = Sessions::new(CancellationToken::new());
        let s = sessions.register("a", TransportKind::Sse);
        assert!(sessions.close("a"));
        assert!(s.closer().is_cancelled());
        assert!(!sessions.close("a"));
        assert!(sessions.is_empty());
    }

    #[test]
    fn reaping_spares_active_and_stdio_sessions() {
        let sessions = Sessions::new(CancellationToken::new());
        let idle = sessions.register("idle", TransportKind::StreamableHttp);
        sessions.register("stdio", TransportKind::Stdio);
        std::thread::sleep(Duration::from_millis(30));
        let busy = sessions.register("busy", TransportKind::Sse);
        busy.touch(true);
        assert_eq!(sessions.reap_idle(Duration::from_millis(20)), 1);
        assert!(idle.closer().is_cancelled());
        assert!(sessions.get("busy").is_some() && sessions.get("stdio").is_some());
        assert_eq!(busy.requests(), 1);
    }

    #[test]
    fn root_cancellation_closes_all() {
        let root = CancellationToken::new();
        let sessions = Sessions::new(root.clone());
        let s = sessions.register("a", TransportKind::Sse);
        sessions.close_all();
        assert!(s.closer().is_cancelled());
    }
}
