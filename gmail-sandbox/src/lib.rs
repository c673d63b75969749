//! gmail-sandbox: a faithful local emulator of the Gmail REST API v1 and Google's OAuth
//! endpoints, for demos and tests.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use gmail_sandbox::{Sandbox, SandboxConfig};
//! let sb = Sandbox::start(SandboxConfig::for_tests()).await?;
//! let token = sb.issue_access_token("demo@example.com", &["https://mail.google.com/"]);
//! println!("{} {}", sb.base_url(), token);
//! sb.stop().await;
//! # Ok(()) }
//! ```

pub mod admin;
pub mod config;
pub mod deliver;
pub mod error;
pub mod form;
pub mod grants;
pub mod methods;
pub mod mime;
pub mod oauth;
pub mod pubsub;
pub mod quota;
pub mod render;
pub mod routes;
pub mod search;
pub mod seed;
pub mod state;
pub mod store;
pub mod uploads;

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::dev::ServerHandle;
use actix_web::{middleware, web, App, HttpServer};
use parking_lot::Mutex;

pub use config::{DatabaseLocation, FaultConfig, PushSubscription, QuotaConfig, SandboxConfig};
pub use grants::{SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET};

use crate::grants::OAuthState;
use crate::pubsub::Pubsub;
use crate::quota::{Faults, Quota, Stats};
use crate::state::AppState;
use crate::store::db::{self, DbTx};
use crate::store::{Draft, Label, LabelColor, Store};

/// Largest request body accepted (imports may be 150 MB).
const MAX_BODY: usize = 160 * 1024 * 1024;

pub struct Sandbox;

/// A sandbox serving on a local port.
pub struct RunningSandbox {
    port: u16,
    host: String,
    state: web::Data<AppState>,
    handle: ServerHandle,
    join: tokio::task::JoinHandle<std::io::Result<()>>,
    db: DbTx,
}

struct CachedMessage {
    id: String,
    raw: Arc<Vec<u8>>,
    parsed: Arc<render::Parsed>,
    labels: Vec<String>,
    user_labels: Vec<String>,
    date: i64,
}

struct CachedMailbox {
    email: String,
    display_name: String,
    labels: Vec<seed::SeedLabel>,
    messages: Vec<CachedMessage>,
    drafts: Vec<CachedMessage>,
}

/// Deterministic id for a seeded message, so demo ids are stable across re-seeds.
fn seed_id(date_ms: i64, raw: &[u8], taken: &mut std::collections::HashSet<u64>) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in raw {
        h = (h ^ *b as u64).wrapping_mul(0x100000001b3);
    }
    let mut n = ((date_ms.max(1) as u64) << 20) | (h & 0xfffff);
    while !taken.insert(n) {
        n = n.wrapping_add(1);
    }
    format!("{n:016x}")
}

/// The demo mailboxes, generated and parsed once per process (tests start many sandboxes).
fn seed_cache() -> &'static [CachedMailbox] {
    static CACHE: std::sync::OnceLock<Vec<CachedMailbox>> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| {
        seed::demo_mailboxes()
            .into_iter()
            .map(|mb| {
                let mut taken = std::collections::HashSet::new();
                let prep = |raw: Vec<u8>,
                            date: i64,
                            labels: Vec<String>,
                            user: Vec<String>,
                            taken: &mut std::collections::HashSet<u64>| {
                    let id = seed_id(date, &raw, taken);
                    let parsed = Arc::new(render::parse_message(&raw, &id));
                    CachedMessage {
                        id,
                        raw: Arc::new(raw),
                        parsed,
                        labels,
                        user_labels: user,
                        date,
                    }
                };
                let messages = mb
                    .messages
                    .iter()
                    .cloned()
                    .map(|m| {
                        prep(
                            m.raw,
                            m.internal_date_ms,
                            m.system_labels,
                            m.user_labels,
                            &mut taken,
                        )
                    })
                    .collect();
                // Drafts are dated "just now" when seeded; the id only needs to be unique.
                let base = 1_700_000_000_000i64;
                let drafts = mb
                    .drafts
                    .into_iter()
                    .enumerate()
                    .map(|(i, raw)| {
                        prep(
                            raw,
                            base + i as i64,
                            vec!["DRAFT".into()],
                            vec![],
                            &mut taken,
                        )
                    })
                    .collect();
                CachedMailbox {
                    email: mb.email,
                    display_name: mb.display_name,
                    labels: mb.labels,
                    messages,
                    drafts,
                }
            })
            .collect()
    })
}

/// Load the demo mailboxes into an (empty) store.
pub fn seed_store(store: &Store) {
    for mb in seed_cache() {
        let mailbox = store.create_mailbox(&mb.email, &mb.display_name);
        let mut data = mailbox.data.write();
        let mut by_name: HashMap<String, String> = HashMap::new();
        for l in &mb.labels {
            let id = data.new_label_id();
            let label = Label {
                id: id.clone(),
                name: l.name.clone(),
                message_list_visibility: Some("show".into()),
                label_list_visibility: Some("labelShow".into()),
                kind: "user".into(),
                color: l.color.as_ref().map(|(t, b)| LabelColor {
                    text_color: t.clone(),
                    background_color: b.clone(),
                }),
            };
            data.save_label(&label);
            data.labels.push(label);
            by_name.insert(l.name.to_lowercase(), id);
        }
        for m in &mb.messages {
            let mut labels = m.labels.clone();
            for n in &m.user_labels {
                if let Some(id) = by_name.get(&n.to_lowercase()) {
                    labels.push(id.clone());
                }
            }
            data.add_prepared(
                m.id.clone(),
                m.raw.clone(),
                m.parsed.clone(),
                labels,
                m.date,
                store::Threading::Received,
            );
        }
        for m in &mb.drafts {
            let date = m.date;
            let mid = data.add_prepared(
                m.id.clone(),
                m.raw.clone(),
                m.parsed.clone(),
                m.labels.clone(),
                date,
                store::Threading::Received,
            );
            let d = Draft {
                id: data.new_draft_id(),
                message_id: mid,
            };
            data.save_draft(&d);
            data.drafts.push(d);
        }
    }
}

/// Drop every mailbox in the database and create the demo mailboxes again.
pub async fn reseed(location: &DatabaseLocation) -> anyhow::Result<Vec<String>> {
    let pool = db::open(location).await?;
    let tx = db::spawn_writer(pool.clone());
    let store = Store::new(tx.clone());
    store.clear();
    seed_store(&store);
    let oauth = OAuthState::new(3600, tx.clone());
    oauth.load(&pool).await?;
    oauth.ensure_sandbox_client();
    for e in store.emails() {
        oauth.ensure_well_known_refresh(&e);
    }
    tx.flush().await;
    pool.close().await;
    Ok(store.emails())
}

impl Sandbox {
    /// Open the database, seed it if asked and empty, bind, and serve on the current runtime.
    pub async fn start(cfg: SandboxConfig) -> anyhow::Result<RunningSandbox> {
        let stats = Stats::default();
        let pubsub = Pubsub::new(stats.push.clone());
        for sub in &cfg.pubsub_push {
            pubsub
                .subscribe(sub)
                .map_err(|e| anyhow::anyhow!("push subscription: {e}"))?;
        }
        let pool = db::open(&cfg.database).await?;
        let tx = db::spawn_writer(pool.clone());
        let store = Store::with_push(tx.clone(), pubsub.spawn());
        store.load(&pool).await?;
        let oauth = OAuthState::new(cfg.access_token_ttl_secs, tx.clone());
        oauth.load(&pool).await?;
        oauth.ensure_sandbox_client();
        if store.is_empty() && cfg.seed_if_empty {
            seed_store(&store);
        }
        for e in store.emails() {
            oauth.ensure_well_known_refresh(&e);
        }
        let state = web::Data::new(AppState {
            quota: Quota::new(cfg.quota.clone()),
            faults: Faults::new(cfg.faults.clone()),
            stats,
            uploads: Mutex::new(HashMap::new()),
            pubsub,
            store,
            oauth,
            cfg: cfg.clone(),
        });
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .app_data(web::PayloadConfig::new(MAX_BODY))
                .wrap(middleware::Compress::default())
                .configure(configure)
        })
        .shutdown_timeout(2)
        // Small answers on keep-alive connections otherwise wait ~40 ms (Nagle + delayed ACK).
        .tcp_nodelay(true)
        // A library must not take over the process's signals; `serve` handles them.
        .disable_signals()
        // One worker per core, at most four: plenty for an emulator, light for test processes.
        .workers(
            std::thread::available_parallelism()
                .map(|n| n.get().clamp(1, 4))
                .unwrap_or(2),
        );
        let server = server.bind((cfg.host.as_str(), cfg.port))?;
        let port = server
            .addrs()
            .first()
            .map(|a| a.port())
            .ok_or_else(|| anyhow::anyhow!("server bound to no address"))?;
        let server = server.run();
        let handle = server.handle();
        let join = tokio::spawn(server);
        Ok(RunningSandbox {
            port,
            host: cfg.host.clone(),
            state,
            handle,
            join,
            db: tx,
        })
    }
}

/// Every route the sandbox serves.
pub fn configure(cfg: &mut web::ServiceConfig) {
    use actix_web::web::{delete, get, post};
    cfg.route("/health", get().to(admin::health))
        .route("/__sandbox/stats", get().to(admin::stats))
        .route("/__sandbox/stats/reset", post().to(admin::stats_reset))
        .route("/__sandbox/faults", get().to(admin::faults_get))
        .route("/__sandbox/faults", post().to(admin::faults_set))
        .route("/__sandbox/quota", get().to(admin::quota_get))
        .route("/__sandbox/quota", post().to(admin::quota_set))
        .route(
            "/__sandbox/pubsub/subscriptions",
            get().to(admin::pubsub_list),
        )
        .route(
            "/__sandbox/pubsub/subscriptions",
            post().to(admin::pubsub_add),
        )
        .route(
            "/__sandbox/pubsub/subscriptions",
            delete().to(admin::pubsub_clear),
        )
        .route("/__sandbox/deliver", post().to(deliver::deliver))
        .route("/__sandbox/mailboxes", post().to(admin::mailbox_create))
        .route("/o/oauth2/v2/auth", get().to(oauth::authorize))
        .route("/o/oauth2/auth", get().to(oauth::authorize))
        .route("/o/oauth2/approve", post().to(oauth::approve))
        .route("/token", post().to(oauth::token))
        .route("/o/oauth2/token", post().to(oauth::token))
        .route("/oauth2/v4/token", post().to(oauth::token))
        .route("/revoke", post().to(oauth::revoke))
        .route("/revoke", get().to(oauth::revoke))
        .route("/o/oauth2/revoke", post().to(oauth::revoke))
        .route("/o/oauth2/revoke", get().to(oauth::revoke))
        .route("/oauth2/v2/userinfo", get().to(oauth::userinfo_v2))
        .route("/userinfo/v2/me", get().to(oauth::userinfo_v2))
        .route("/oauth2/v3/userinfo", get().to(oauth::userinfo_oidc))
        .route("/v1/userinfo", get().to(oauth::userinfo_oidc))
        .route("/tokeninfo", get().to(oauth::tokeninfo))
        .route("/tokeninfo", post().to(oauth::tokeninfo))
        .route("/oauth2/v3/tokeninfo", get().to(oauth::tokeninfo))
        .route("/oauth2/v3/tokeninfo", post().to(oauth::tokeninfo))
        .route("/oauth2/v2/tokeninfo", post().to(oauth::tokeninfo))
        .route("/oauth2/v2/tokeninfo", get().to(oauth::tokeninfo))
        .route("/batch", post().to(routes::batch::entry))
        .route("/batch/gmail/v1", post().to(routes::batch::entry))
        .default_service(web::to(routes::dispatch::gmail_entry));
}

impl RunningSandbox {
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://HOST:PORT/` with the trailing slash google-gmail1 needs.
    pub fn base_url(&self) -> String {
        let host = if self.host == "0.0.0.0" {
            "127.0.0.1"
        } else {
            self.host.as_str()
        };
        format!("http://{}:{}/", host, self.port)
    }

    /// The well-known refresh token of a mailbox (for the sandbox client).
    pub fn refresh_token_for(&self, email: &str) -> String {
        self.state.oauth.ensure_well_known_refresh(email)
    }

    /// Mint an access token directly (no OAuth round trip). Scopes may be full URLs or
    /// short names (`gmail.modify`, `email`).
    pub fn issue_access_token(&self, email: &str, scopes: &[&str]) -> String {
        let scopes = scopes
            .iter()
            .map(|s| {
                if s.starts_with("gmail.") || s.starts_with("userinfo.") {
                    format!("https://www.googleapis.com/auth/{s}")
                } else {
                    grants::canonical_scope(s)
                }
            })
            .collect();
        self.state
            .oauth
            .issue_access(email, scopes, SANDBOX_CLIENT_ID, None)
            .0
    }

    /// Make an access token expire now (to exercise 401 handling).
    pub fn expire_access_token(&self, token: &str) {
        self.state.oauth.expire(token);
    }

    pub fn set_faults(&self, faults: FaultConfig) {
        self.state.faults.set(faults);
    }

    pub fn set_quota(&self, quota: QuotaConfig) {
        self.state.quota.set_config(quota);
    }

    pub fn stats(&self) -> serde_json::Value {
        self.state.stats.json()
    }

    /// Starts the request counters again from zero.
    pub fn reset_stats(&self) {
        self.state.stats.reset();
    }

    /// Shared state, for white-box tests.
    pub fn state(&self) -> Arc<AppState> {
        self.state.clone().into_inner()
    }

    /// Stop serving and pushing, and flush pending writes to SQLite.
    pub async fn stop(self) {
        self.state.pubsub.shutdown();
        self.handle.stop(true).await;
        let _ = self.join.await;
        self.db.flush().await;
    }
}
