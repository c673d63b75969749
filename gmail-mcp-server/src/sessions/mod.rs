//! Live MCP sessions across transports: who is connected, how busy, and the handle that
//! closes each one. Backs `/sessions`, the counts in `/health`, and idle reaping.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio_util::sync::CancellationToken;

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

/// Who opened a session (multi-user mode): the user and the API key they used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub user_id: String,
    pub key_id: String,
}

/// What a client message does to a session's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// `initialize`: a request, but the session is not ready until something follows it.
    Initialize,
    /// Any other request (counted).
    Request,
    /// A notification or response.
    Other,
    /// The transport itself (a stream opened, a ping written): not the client's doing.
    Transport,
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
    /// Set once the client sent anything after `initialize` (`notifications/initialized` or
    /// a request): a session that never gets there is closed after the init timeout.
    ready: AtomicBool,
    /// Cancelling it closes the session, whatever its transport.
    closer: CancellationToken,
    /// The user who opened it (multi-user mode): only they may use, see or close it. Set
    /// once, when the session opens (Streamable HTTP learns it from the initialize response).
    owner: OnceLock<Owner>,
}

impl Session {
    /// Records a client message.
    pub fn touch(&self, activity: Activity) {
        if activity == Activity::Transport {
            return;
        }
        let ms = self.created.elapsed().as_millis() as u64;
        self.last_activity_ms.fetch_max(ms, Ordering::Relaxed);
        if matches!(activity, Activity::Initialize | Activity::Request) {
            self.requests.fetch_add(1, Ordering::Relaxed);
        }
        if matches!(activity, Activity::Request | Activity::Other) {
            self.ready.store(true, Ordering::Relaxed);
        }
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    pub fn age(&self) -> Duration {
        self.created.elapsed()
    }

    pub fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last_activity_ms.load(Ordering::Relaxed));
        self.created.elapsed().saturating_sub(last)
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub fn owner(&self) -> Option<&str> {
        self.owner.get().map(|o| o.user_id.as_str())
    }

    pub fn owner_key(&self) -> Option<&str> {
        self.owner.get().map(|o| o.key_id.as_str())
    }

    /// Binds the session to its user; a session already bound keeps its first owner.
    pub fn set_owner(&self, owner: Owner) {
        let _ = self.owner.set(owner);
    }

    /// Whether `caller` (None outside multi-user mode) may use this session.
    pub fn belongs_to(&self, caller: Option<&str>) -> bool {
        self.owner() == caller
    }

    /// Whether `caller` (user id, key id) is the credential that opened the session. An SSE
    /// session runs every message with its opener's rights, so another credential of the
    /// same user (a read-only token, a key with a send policy) must not post into it.
    pub fn opened_by(&self, caller: Option<(&str, &str)>) -> bool {
        self.owner()
            .zip(self.owner_key())
            .map_or(caller.is_none(), |owner| Some(owner) == caller)
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

/// How many sessions may be open.
#[derive(Debug, Clone, Copy)]
pub struct SessionCaps {
    pub total: usize,
    pub per_caller: usize,
}

impl Default for SessionCaps {
    fn default() -> Self {
        SessionCaps {
            total: usize::MAX,
            per_caller: usize::MAX,
        }
    }
}

/// Why a new session was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The server is at its cap: 503.
    Full { cap: usize },
    /// This caller is at theirs: 429.
    CallerFull { cap: usize },
    /// This caller has its cap of requests in flight on `/mcp`: 429.
    CallerBusy { cap: usize },
}

impl Refusal {
    pub fn problem(&self) -> gmail_shared::server::problem::Problem {
        use actix_web::http::StatusCode;
        gmail_shared::metrics::rejection("sessions");
        use gmail_shared::server::problem::Problem;
        match self {
            Refusal::Full { cap } => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "too-many-sessions",
                "Too many sessions",
                format!("the server has {cap} MCP sessions open, its limit (mcp.max_sessions); retry later"),
            )
            .retry_after(5),
            Refusal::CallerFull { cap } => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-sessions",
                "Too many sessions",
                format!("you have {cap} MCP sessions open, the limit per caller (mcp.max_sessions_per_caller); close some (DELETE /sessions/{{id}}) or let them idle out"),
            )
            .retry_after(5),
            Refusal::CallerBusy { cap } => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "Too many requests in flight",
                format!("you have {cap} requests in flight on /mcp, the limit per caller (mcp.max_sessions_per_caller; a protocol 2026-07-28 client holds requests, not sessions); wait for one to finish"),
            )
            .retry_after(1),
        }
        .jsonrpc(-32000)
    }
}

/// What [`Sessions::on_close`] is given.
type OnClose = Box<dyn Fn(&str) + Send + Sync>;

/// The registry of live sessions, shared by every transport.
#[derive(Default)]
pub struct Sessions {
    map: RwLock<HashMap<String, Arc<Session>>>,
    /// Parent of every session's closer, so shutdown closes them all at once.
    root: CancellationToken,
    caps: SessionCaps,
    /// Told the id of each session ended from outside (see [`Sessions::on_close`]).
    closed: OnceLock<OnClose>,
    /// Requests in flight on `/mcp` (see [`Sessions::hold_request`]).
    requests: Requests,
    next_request: AtomicU64,
    /// Sessions admitted but not registered with their owner yet, per caller ("" outside
    /// multi-user mode): they count against the caps, so concurrent opens cannot all pass.
    admitting: Counts,
}

/// How many of something each caller holds.
type Counts = Arc<Mutex<HashMap<String, usize>>>;

/// Requests in flight on `/mcp`: each by number with its caller (user id, key id) and what
/// ends its response, and how many each user has.
#[derive(Default)]
struct RequestTable {
    by_number: HashMap<u64, (String, String, CancellationToken)>,
    per_user: HashMap<String, usize>,
}

type Requests = Arc<Mutex<RequestTable>>;

fn table(r: &Requests) -> std::sync::MutexGuard<'_, RequestTable> {
    r.lock().unwrap_or_else(|e| e.into_inner())
}

/// A request in flight on `/mcp` (see [`Sessions::hold_request`]): counted for its caller
/// while it lives, and `ended` when the caller's key is revoked or their user disabled.
pub struct InFlight {
    number: u64,
    requests: Requests,
    pub ended: CancellationToken,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut t = table(&self.requests);
        if let Some((user, _, _)) = t.by_number.remove(&self.number) {
            if let Some(n) = t.per_user.get_mut(&user) {
                *n -= 1;
                if *n == 0 {
                    t.per_user.remove(&user);
                }
            }
        }
    }
}

fn counts(c: &Counts) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
    c.lock().unwrap_or_else(|e| e.into_inner())
}

/// One of a caller's [`Counts`], given back when dropped: an admitted session, until it is
/// registered with its owner.
pub struct Counted {
    counts: Counts,
    caller: String,
}

impl Counted {
    /// Counts one more for `caller`; the lock on `held` must be `counts`'s.
    fn take(counts: &Counts, held: &mut HashMap<String, usize>, caller: &str) -> Counted {
        *held.entry(caller.to_string()).or_default() += 1;
        Counted {
            counts: counts.clone(),
            caller: caller.to_string(),
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut held = counts(&self.counts);
        if let Some(n) = held.get_mut(&self.caller) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.caller);
            }
        }
    }
}

impl Sessions {
    pub fn new(root: CancellationToken) -> Self {
        Sessions::with_caps(root, SessionCaps::default())
    }

    pub fn with_caps(root: CancellationToken, caps: SessionCaps) -> Self {
        Sessions {
            map: RwLock::default(),
            root,
            caps,
            closed: OnceLock::new(),
            requests: Arc::default(),
            next_request: AtomicU64::new(0),
            admitting: Arc::default(),
        }
    }

    /// Counts one request in flight on `/mcp` for `caller`, or refuses past the per-caller
    /// cap. A protocol 2026-07-28 client has no session (rmcp serves each request on its
    /// own), so the session caps never see it: what it holds open is requests (a
    /// `subscriptions/listen` stream, a long `wait_for_email`), and this bounds them.
    pub fn hold_request(&self, user: &str, key: &str) -> Result<InFlight, Refusal> {
        let mut t = table(&self.requests);
        let held = t.per_user.entry(user.to_string()).or_default();
        if *held >= self.caps.per_caller {
            return Err(Refusal::CallerBusy {
                cap: self.caps.per_caller,
            });
        }
        *held += 1;
        let number = self.next_request.fetch_add(1, Ordering::Relaxed);
        let ended = self.root.child_token();
        t.by_number
            .insert(number, (user.into(), key.into(), ended.clone()));
        Ok(InFlight {
            number,
            requests: self.requests.clone(),
            ended,
        })
    }

    /// Ends the requests in flight whose (user id, key id) is `doomed`; answers how many.
    pub fn end_requests_where(&self, doomed: impl Fn(&str, &str) -> bool) -> usize {
        table(&self.requests)
            .by_number
            .values()
            .filter(|(user, key, _)| doomed(user, key))
            .map(|(_, _, ended)| ended.cancel())
            .count()
    }

    /// `f` is told the id of every session ended from outside (DELETE /sessions, a revoked
    /// key): a cluster forgets its record there, so no instance restores a session that was
    /// ended.
    pub fn on_close(&self, f: impl Fn(&str) + Send + Sync + 'static) {
        let _ = self.closed.set(Box::new(f));
    }

    /// Whether one more session may open for `caller` (None outside multi-user mode). The
    /// answer counts as one of the caller's sessions until dropped: keep it until the new
    /// session is registered with its owner.
    pub fn admit(&self, caller: Option<&str>) -> Result<Counted, Refusal> {
        // One admission at a time, so concurrent opens see each other.
        let mut admitting = counts(&self.admitting);
        let map = self.read();
        if map.len() + admitting.values().sum::<usize>() >= self.caps.total {
            return Err(Refusal::Full {
                cap: self.caps.total,
            });
        }
        if let Some(user) = caller {
            let mine = map.values().filter(|s| s.owner() == Some(user)).count()
                + admitting.get(user).copied().unwrap_or(0);
            if mine >= self.caps.per_caller {
                return Err(Refusal::CallerFull {
                    cap: self.caps.per_caller,
                });
            }
        }
        drop(map);
        Ok(Counted::take(
            &self.admitting,
            &mut admitting,
            caller.unwrap_or_default(),
        ))
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
            ready: AtomicBool::new(false),
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

    /// Ends a session from outside (DELETE /sessions, a revoked key): here, and on every
    /// instance; false when there is none by that id.
    pub fn close(&self, id: &str) -> bool {
        let closed = self.close_here(id);
        if let (true, Some(forget)) = (closed, self.closed.get()) {
            forget(id);
        }
        closed
    }

    /// Closes this instance's copy of a session. The reaper does only this: a session a
    /// client uses through another instance is idle here, not over.
    fn close_here(&self, id: &str) -> bool {
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

    /// Closes sessions idle for longer than `idle`, and those whose client has not finished
    /// initializing within `init`; stdio is exempt (it lives as long as the process its client
    /// started). Returns how many it closed.
    pub fn reap(&self, idle: Duration, init: Duration) -> usize {
        let doomed: Vec<(String, &'static str)> = self
            .read()
            .values()
            .filter(|s| s.transport != TransportKind::Stdio)
            .filter_map(|s| {
                if s.idle() > idle {
                    Some((s.id.clone(), "idle"))
                } else if !s.is_ready() && s.age() > init {
                    Some((s.id.clone(), "never initialized"))
                } else {
                    None
                }
            })
            .collect();
        let mut closed = 0;
        for (id, why) in doomed {
            tracing::info!(session_id = %id, reason = why, "closing session");
            if self.close_here(&id) {
                closed += 1;
            }
        }
        closed
    }

    /// Closes every session matching `doomed` (revoked keys, disabled users); answers how many.
    pub fn close_where(&self, doomed: impl Fn(&Session) -> bool) -> usize {
        let ids: Vec<String> = self
            .read()
            .values()
            .filter(|s| doomed(s))
            .map(|s| s.id.clone())
            .collect();
        ids.iter().filter(|id| self.close(id)).count()
    }

    /// The API keys of open sessions and requests in flight (multi-user mode).
    pub fn owner_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .read()
            .values()
            .filter_map(|s| s.owner_key().map(str::to_owned))
            .collect();
        keys.extend(
            table(&self.requests)
                .by_number
                .values()
                .map(|(_, key, _)| key.clone()),
        );
        keys.sort();
        keys.dedup();
        keys
    }

    /// Runs the reaper until the root token is cancelled; checks several times per timeout so
    /// a session outlives its timeouts by a small fraction at most.
    pub fn spawn_reaper(self: &Arc<Self>, idle: Duration, init: Duration) {
        let sessions = self.clone();
        let period = (idle.min(init) / 4).clamp(Duration::from_millis(20), Duration::from_secs(5));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = sessions.root.cancelled() => break,
                    _ = tick.tick() => { sessions.reap(idle, init); }
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

mod revocation;
#[cfg(test)]
mod tests;

pub use revocation::spawn_revocation_watch;
