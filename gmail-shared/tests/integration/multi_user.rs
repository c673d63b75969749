//! Multi-user accounts against the sandbox, on SQLite and (when GMAIL_TEST_DATABASE_URL is set)
//! PostgreSQL: the whole OAuth web flow for two users, isolation, single-use states, sealed
//! tokens, single-flight refresh, invalid_grant, disconnect, API keys and key rotation.

use std::collections::HashMap;
use std::sync::Arc;

use gmail_sandbox::{RunningSandbox, Sandbox, SandboxConfig};
use gmail_shared::config::Settings;
use gmail_shared::gmail::GmailFactory;
use gmail_shared::mailbox::Caller;
use gmail_shared::oauth::accounts::{Accounts, UserMailboxes};
use gmail_shared::ops::profile::get_profile;
use gmail_shared::store::{cipher, FlowBinding, Keyring, OAuthState, Store, User};
use gmail_shared::tools::{catalog, ToolContext, ToolEnv, ToolError};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sqlx::Row;

use crate::webhooks::{new_webhook, now};

/// A flow as `Accounts::start` records one, for states made by hand.
fn flow_of(user_id: &str) -> OAuthState {
    OAuthState {
        user_id: user_id.into(),
        code_verifier: SecretString::from("v".repeat(43)),
        redirect_uri: "http://127.0.0.1/cb".into(),
        scopes: vec![],
        return_to: None,
    }
}

pub(crate) struct World {
    sandbox: RunningSandbox,
    accounts: Arc<Accounts>,
    pub(crate) settings: Settings,
    key: String,
    pub(crate) url: String,
}

pub(crate) fn database_urls() -> Vec<String> {
    gmail_test_support::database_urls("mu")
}

pub(crate) async fn world(url: &str) -> World {
    world_with(url, |_| {}).await
}

/// A world whose settings `edit` changes first.
pub(crate) async fn world_with(url: &str, edit: impl FnOnce(&mut Settings)) -> World {
    let sandbox = Sandbox::start(SandboxConfig::for_tests()).await.unwrap();
    let key = cipher::generate_key();
    let mut settings = gmail_test_support::multi_user_settings(&sandbox.base_url(), url, &key);
    edit(&mut settings);
    let factory = GmailFactory::new(&settings.gmail).unwrap();
    let accounts = Accounts::open(&settings, factory).await.unwrap();
    World {
        sandbox,
        accounts,
        settings,
        key,
        url: url.to_string(),
    }
}

impl World {
    pub(crate) fn store(&self) -> &Store {
        self.accounts.store()
    }

    /// A new user, known by `name` made unique.
    pub(crate) async fn user(&self, name: &str) -> User {
        self.store().ensure_user(&unique(name), None).await.unwrap()
    }

    /// Marks the user's stored access token expired, so the next call has to refresh it.
    async fn expire_access_token(&self, user: &User, conn_id: &str) {
        let mut tokens = self
            .store()
            .connection_for(&user.id, None)
            .await
            .unwrap()
            .tokens;
        tokens.expiry_date = Some(1_000);
        self.store().store_tokens(conn_id, &tokens).await.unwrap();
    }

    /// Revokes a refresh token (and its access tokens) at the sandbox's Google.
    async fn revoke_at_google(&self, token: &SecretString) {
        let r = reqwest::Client::new()
            .post(format!("{}revoke", self.sandbox.base_url()))
            .form(&[("token", token.expose_secret())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    /// Another server process's view of the same database.
    pub(crate) async fn instance(&self) -> Arc<Accounts> {
        Accounts::open(
            &self.settings,
            GmailFactory::new(&self.settings.gmail).unwrap(),
        )
        .await
        .unwrap()
    }

    /// `calls` get_profile calls for `user` at once, taking `instances` in turn, from zeroed
    /// sandbox counters; every call must succeed. The sandbox's counters after.
    async fn stats_after_profiles(
        &self,
        instances: &[Arc<Accounts>],
        user: &User,
        calls: usize,
    ) -> serde_json::Value {
        self.sandbox.reset_stats();
        let calls = (0..calls).map(|i| {
            let accounts = instances[i % instances.len()].clone();
            let uid = user.id.clone();
            async move { get_profile(&accounts.mailbox(&uid, None).await?).await }
        });
        for r in futures::future::join_all(calls).await {
            r.unwrap();
        }
        self.sandbox.stats()
    }
}

/// The store at `url`, sealing with a key of its own.
pub(crate) async fn store_with_a_fresh_key(url: &str) -> Store {
    let keys = Keyring::new(&SecretString::from(cipher::generate_key()), None).unwrap();
    Store::connect(url, keys).await.unwrap()
}

pub(crate) fn unique(name: &str) -> String {
    format!("{name}-{}", uuid::Uuid::new_v4().simple())
}

/// Runs the consent step as a browser would: the sandbox approves and redirects with a code.
async fn consent(auth_url: &str) -> (String, String) {
    let resp = gmail_test_support::no_redirects()
        .get(auth_url)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302, "consent page did not redirect");
    let location = resp.headers()["location"].to_str().unwrap();
    let pairs: HashMap<String, String> = reqwest::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    (pairs["code"].clone(), pairs["state"].clone())
}

async fn connect(w: &World, user: &User, email: &str) -> String {
    let start = w.accounts.start(user, None, Some(email)).await.unwrap();
    let (code, state) = consent(&w.accounts.consent_url(&start.state).await.unwrap()).await;
    assert_eq!(state, start.state);
    let (_, info, _) = w
        .accounts
        .complete(&state, &code, FlowBinding::Owner(&user.id))
        .await
        .unwrap();
    assert_eq!(info.email, email);
    info.id
}

fn ctx(w: &World, user: &User) -> ToolContext {
    ToolContext::new(
        Arc::new(UserMailboxes {
            accounts: w.accounts.clone(),
            caller: Caller {
                user_id: user.id.clone(),
                key_id: "test-key".into(),
            },
            policy: Default::default(),
        }),
        Arc::new(ToolEnv::from_settings(&w.settings)),
    )
    .with_accounts(w.accounts.clone())
}

async fn tool_err(ctx: &ToolContext, tool: &str, args: serde_json::Value) -> String {
    match catalog::registry().call(ctx.clone(), tool, args).await {
        Ok(out) => panic!("{tool} succeeded: {}", out.text),
        Err(ToolError::Gmail(e)) => e.tool_message(),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn two_users_connect_and_see_only_their_own_mail() {
    for url in database_urls() {
        let w = world(&url).await;
        let a = w.user("alice").await;
        let b = w.user("bob").await;
        let _a_conn = connect(&w, &a, "demo@example.com").await;
        let b_conn = connect(&w, &b, "bob@example.com").await;

        let pa = get_profile(&w.accounts.mailbox(&a.id, None).await.unwrap())
            .await
            .unwrap();
        let pb = get_profile(&w.accounts.mailbox(&b.id, None).await.unwrap())
            .await
            .unwrap();
        assert_eq!(pa.email_address, "demo@example.com");
        assert_eq!(pb.email_address, "bob@example.com");

        // A naming B's connection, by id or by address, finds nothing.
        for other in [b_conn.as_str(), "bob@example.com"] {
            let err = w.accounts.mailbox(&a.id, Some(other)).await.unwrap_err();
            assert_eq!(err.kind(), "not-found", "{url}: {err}");
            let msg = tool_err(
                &ctx(&w, &a),
                "search_emails",
                serde_json::json!({"query": "", "account": other}),
            )
            .await;
            assert!(msg.contains("not found"), "{msg}");
        }

        // Tools act on the caller's own mailbox.
        let out = catalog::registry()
            .call(ctx(&w, &b), "get_profile", serde_json::json!({}))
            .await
            .unwrap();
        assert!(out.text.contains("bob@example.com"));
        let list = catalog::registry()
            .call(ctx(&w, &a), "gmail_list_connections", serde_json::json!({}))
            .await
            .unwrap();
        assert!(list.text.contains("demo@example.com") && !list.text.contains("bob@example.com"));
    }
}

#[tokio::test]
async fn a_state_is_consumed_only_by_the_party_it_is_bound_to() {
    for url in database_urls() {
        let w = world(&url).await;
        let store = w.store();
        let alice = w.user("alice").await;
        let bob = w.user("bob").await;
        let start = w
            .accounts
            .start(&alice, None, Some("demo@example.com"))
            .await
            .unwrap();
        // The link is the server's start page, not Google's: it binds the browser first.
        assert!(
            start.auth_url.contains("/oauth/start?state="),
            "{}",
            start.auth_url
        );

        // Bob's tool call, a browser without the cookie, and an error callback from such a
        // browser all fail and burn nothing.
        let err = w
            .accounts
            .complete(&start.state, "4/x", FlowBinding::Owner(&bob.id))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("another user"), "{err}");
        let err = w
            .accounts
            .complete(&start.state, "4/x", FlowBinding::Browser("not-the-cookie"))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("not started in this browser"),
            "{err}"
        );
        assert!(w
            .accounts
            .abandon(&start.state, FlowBinding::Browser(""))
            .await
            .is_err());

        // The first browser to open the link owns the flow; a second one is refused.
        let first = w.accounts.open_in_browser(&start.state).await.unwrap();
        assert!(first.consent_url.contains("code_challenge="));
        let err = w
            .accounts
            .open_in_browser(&start.state)
            .await
            .err()
            .unwrap();
        assert!(err.to_string().contains("another browser"), "{err}");
        let err = w
            .accounts
            .complete(&start.state, "4/x", FlowBinding::Browser("someone-else"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("another browser"), "{err}");

        // Still usable by the browser that holds the binding.
        let (code, state) = consent(&first.consent_url).await;
        let binding = first.binding.expose_secret().to_string();
        let (user, info, _) = w
            .accounts
            .complete(&state, &code, FlowBinding::Browser(&binding))
            .await
            .unwrap();
        assert_eq!(
            (user.id, info.email.as_str()),
            (alice.id.clone(), "demo@example.com")
        );

        // Expired states are purged when new ones are made.
        store
            .create_oauth_state(&flow_of(&alice.id), None, -5)
            .await
            .unwrap();
        w.accounts.start(&alice, None, None).await.unwrap();
        let stale: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM oauth_states WHERE expires_at < $1")
                .bind(chrono::Utc::now().timestamp())
                .fetch_one(store.pool())
                .await
                .unwrap()
                .try_get("n")
                .unwrap();
        assert_eq!(stale, 0);

        // returnTo is a path or an allowed origin, never an open redirect.
        for bad in [
            "https://evil.example",
            "//evil.example",
            "javascript:alert(1)",
            "http://127.0.0.1@evil.example/",
        ] {
            let err = w.accounts.start(&alice, Some(bad), None).await.unwrap_err();
            assert_eq!(err.field(), Some("returnTo"), "{bad}");
        }
        assert!(w
            .accounts
            .start(&alice, Some("/connected"), None)
            .await
            .is_ok());
    }
}

#[tokio::test]
async fn states_are_single_use_and_expire() {
    for url in database_urls() {
        let w = world(&url).await;
        let u = w.user("u").await;
        let start = w.accounts.start(&u, None, None).await.unwrap();
        let (code, state) = consent(&w.accounts.consent_url(&start.state).await.unwrap()).await;
        let owner = FlowBinding::Owner(&u.id);
        w.accounts.complete(&state, &code, owner).await.unwrap();
        let err = w.accounts.complete(&state, &code, owner).await.unwrap_err();
        assert!(err.to_string().contains("already used"), "{err}");

        let expired = w
            .store()
            .create_oauth_state(&flow_of(&u.id), None, -1)
            .await
            .unwrap();
        let err = w.accounts.complete(&expired, "x", owner).await.unwrap_err();
        assert!(err.to_string().contains("expire"), "{err}");

        // A wrong code is Google's invalid_grant, explained.
        let start = w.accounts.start(&u, None, None).await.unwrap();
        let err = w
            .accounts
            .complete(&start.state, "4/bogus", owner)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("refused the authorization code"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn tokens_are_sealed_and_refresh_once_under_concurrency() {
    for url in database_urls() {
        let w = world(&url).await;
        #[cfg(unix)]
        if let Some(path) = url.strip_prefix("sqlite://") {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "the database file is {mode:o}");
            // The write-ahead log holds the same secrets: SQLite gives it the file's mode.
            let wal = std::fs::metadata(format!("{path}-wal")).expect("WAL mode");
            let mode = wal.permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "the write-ahead log is {mode:o}");
        }
        let u = w.user("u").await;
        let conn_id = connect(&w, &u, "demo@example.com").await;

        let rows = sqlx::query("SELECT access_token, refresh_token FROM connections WHERE id = $1")
            .bind(&conn_id)
            .fetch_all(w.store().pool())
            .await
            .unwrap();
        let refresh: String = rows[0].try_get("refresh_token").unwrap();
        let access: Option<String> = rows[0].try_get("access_token").unwrap();
        assert!(
            refresh.starts_with("v1.") && !refresh.contains("1//"),
            "{refresh}"
        );
        assert!(access.unwrap().starts_with("v1."));

        // Expire the stored access token, then race 20 calls through a fresh process view.
        w.expire_access_token(&u, &conn_id).await;
        let fresh = w.instance().await;
        let stats = w.stats_after_profiles(&[fresh], &u, 20).await;
        assert_eq!(stats["tokenGrants"]["refresh_token"], 1, "{url}: {stats}");
    }
}

/// Two instances sharing PostgreSQL, 50 concurrent calls each on an expired token: one
/// refresh in all (issue 13's target). The second instance waits on the advisory lock, then
/// finds the token the first one stored. (SQLite is one machine: not run there.)
#[tokio::test]
async fn instances_sharing_postgres_refresh_a_token_once() {
    let Some(url) = database_urls()
        .into_iter()
        .find(|u| u.starts_with("postgres"))
    else {
        return;
    };
    let w = world(&url).await;
    let u = w.user("u").await;
    let conn_id = connect(&w, &u, "demo@example.com").await;
    w.expire_access_token(&u, &conn_id).await;
    let (one, two) = (w.instance().await, w.instance().await);
    let stats = w.stats_after_profiles(&[one, two], &u, 100).await;
    assert_eq!(stats["tokenGrants"]["refresh_token"], 1, "{stats}");
}

#[tokio::test]
async fn a_revoked_grant_marks_the_connection_and_says_how_to_reconnect() {
    for url in database_urls() {
        let w = world(&url).await;
        let u = w.user("u").await;
        connect(&w, &u, "demo@example.com").await;
        let found = w.store().connection_for(&u.id, None).await.unwrap();
        // Revoked at Google's end, and the access token is stale.
        w.revoke_at_google(&found.tokens.refresh_token).await;
        let mut tokens = found.tokens;
        tokens.expiry_date = Some(1_000);
        w.store()
            .store_tokens(&found.info.id, &tokens)
            .await
            .unwrap();
        let fresh = Accounts::open(&w.settings, GmailFactory::new(&w.settings.gmail).unwrap())
            .await
            .unwrap();
        let err = get_profile(&fresh.mailbox(&u.id, None).await.unwrap())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "auth-expired", "{err}");
        let again = fresh.mailbox(&u.id, None).await.unwrap_err();
        assert!(again.to_string().contains("gmail_get_auth_url"), "{again}");
        // Background work (the feed) mints no consent link.
        assert!(!again.public_message().contains("state="), "{again}");
        // A caller gets one in its answer; the text logs print leaves it out (it binds
        // whichever browser opens it first).
        let asked = tool_err(&ctx(&w, &u), "get_profile", serde_json::json!({})).await;
        assert!(
            asked.contains("/oauth/start?state="),
            "a re-authorization link (the start page that binds the browser): {asked}"
        );
        let logged = ctx(&w, &u).mailbox(None).await.unwrap_err().to_string();
        assert!(logged.contains("demo@example.com"), "{logged}");
        assert!(!logged.contains("state="), "{logged}");
        let list = fresh.list(&u.id).await.unwrap();
        assert_eq!(list[0].status, "needs_reauth");
    }
}

/// A reconnect through one process reaches the others: a process that cached the old
/// connection uses the new tokens on its next call, instead of refreshing with the revoked
/// refresh token and marking the fresh connection broken.
#[tokio::test]
async fn a_reconnect_in_one_process_reaches_the_others() {
    for url in database_urls() {
        let w = world(&url).await;
        let u = w.user("u").await;
        connect(&w, &u, "demo@example.com").await;
        let other = w.instance().await;
        get_profile(&other.mailbox(&u.id, None).await.unwrap())
            .await
            .unwrap();
        // Google revokes the grant (the user removed the app's access, say) ...
        let old = w.store().connection_for(&u.id, None).await.unwrap().tokens;
        w.revoke_at_google(&old.refresh_token).await;
        // ... and the user connects again, through this process.
        connect(&w, &u, "demo@example.com").await;
        let profile = get_profile(&other.mailbox(&u.id, None).await.unwrap()).await;
        assert!(profile.is_ok(), "{profile:?}");
        assert_eq!(w.accounts.list(&u.id).await.unwrap()[0].status, "active");
        // A refresh with the old token that was under way when the user reconnected does
        // not mark the new connection broken; a refusal of the token it holds does.
        let now = w.store().connection_for(&u.id, None).await.unwrap();
        let status = || async { w.accounts.list(&u.id).await.unwrap()[0].status.clone() };
        w.store()
            .mark_needs_reauth(&now.info.id, &old.refresh_token)
            .await
            .unwrap();
        assert_eq!(status().await, "active");
        w.store()
            .mark_needs_reauth(&now.info.id, &now.tokens.refresh_token)
            .await
            .unwrap();
        assert_eq!(status().await, "needs_reauth");
    }
}

/// Two OAuth callbacks at once for one address (a double-clicked consent, two tabs) make one
/// connection, not a unique-key error.
#[tokio::test]
async fn concurrent_connects_of_one_address_make_one_connection() {
    for url in database_urls() {
        let w = world(&url).await;
        let u = w.user("u").await;
        let tokens = gmail_shared::gmail::credentials::StoredTokens {
            access_token: None,
            refresh_token: "1//refresh".to_string().into(),
            scope: None,
            expiry_date: None,
        };
        let connects = (0..8).map(|_| {
            w.store()
                .upsert_connection(&u.id, "Demo@Example.com", &tokens, &[])
        });
        for r in futures::future::join_all(connects).await {
            r.unwrap();
        }
        let list = w.accounts.list(&u.id).await.unwrap();
        assert_eq!(list.len(), 1);
        assert!(list[0].is_primary);
    }
}

#[tokio::test]
async fn disconnect_revokes_at_google() {
    for url in database_urls() {
        let w = world(&url).await;
        let u = w.user("u").await;
        connect(&w, &u, "demo@example.com").await;
        let refresh = w
            .store()
            .connection_for(&u.id, None)
            .await
            .unwrap()
            .tokens
            .refresh_token;
        w.accounts
            .disconnect(&u.id, "demo@example.com")
            .await
            .unwrap();
        assert!(w.accounts.list(&u.id).await.unwrap().is_empty());
        let resp = reqwest::Client::new()
            .post(format!("{}token", w.sandbox.base_url()))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.expose_secret()),
                ("client_id", gmail_sandbox::SANDBOX_CLIENT_ID),
                ("client_secret", gmail_sandbox::SANDBOX_CLIENT_SECRET),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            400,
            "the refresh token still works after disconnect"
        );
    }
}

#[tokio::test]
async fn api_keys_and_key_rotation() {
    // A database of its own: claims here take every due delivery in it.
    for url in gmail_test_support::fresh_database_urls("mu_keys").await {
        let w = world(&url).await;
        let store = w.store();
        let u = store
            .ensure_user(&unique("u"), Some("u@corp.example"))
            .await
            .unwrap();
        let (info, plain) = store.create_api_key(&u.id, "laptop").await.unwrap();
        assert!(plain.expose_secret().starts_with("gms_"));
        assert_eq!(
            store
                .authenticate(plain.expose_secret())
                .await
                .unwrap()
                .unwrap()
                .id,
            u.id
        );
        assert!(store.authenticate("gms_wrong").await.unwrap().is_none());
        let row = sqlx::query("SELECT key_hash FROM api_keys WHERE id = $1")
            .bind(&info.id)
            .fetch_one(store.pool())
            .await
            .unwrap();
        let hash: String = row.try_get("key_hash").unwrap();
        assert!(!hash.contains(plain.expose_secret()));
        assert!(store.revoke_api_key(&info.id).await.unwrap());
        assert!(store
            .authenticate(plain.expose_secret())
            .await
            .unwrap()
            .is_none());

        connect(&w, &u, "demo@example.com").await;
        let hook = store
            .insert_webhook(&u.id, &new_webhook(), &SecretString::from("whsec_old"))
            .await
            .unwrap();
        let new_key = cipher::generate_key();
        let rotated = Store::connect(
            &w.url,
            Keyring::new(
                &SecretString::from(new_key.clone()),
                Some(&SecretString::from(w.key.clone())),
            )
            .unwrap(),
        )
        .await
        .unwrap();
        let report = rotated.rotate_keys().await.unwrap();
        assert!(report.resealed >= 1);
        assert!(report.resealed_webhooks >= 1);
        assert!(report.unreadable.is_empty(), "{:?}", report.unreadable);
        let only_new = Store::connect(
            &w.url,
            Keyring::new(&SecretString::from(new_key), None).unwrap(),
        )
        .await
        .unwrap();
        // The webhook still signs once the old key is gone.
        only_new
            .insert_test_delivery(&hook, json!({}))
            .await
            .unwrap();
        let claimed = only_new
            .claim_deliveries(now(), now() + 30_000, 16)
            .await
            .unwrap();
        let ours: Vec<_> = claimed
            .iter()
            .filter(|c| c.0.webhook_id == hook.id)
            .collect();
        assert_eq!(ours.len(), 1);
        assert_eq!(ours[0].3.expose_secret(), "whsec_old");
        let found = only_new.connection_for(&u.id, None).await.unwrap();
        assert!(found
            .tokens
            .refresh_token
            .expose_secret()
            .starts_with("1//"));
        gmail_test_support::drop_database(&url).await;
    }
}

#[tokio::test]
async fn multi_user_mode_refuses_to_start_without_a_key() {
    let settings = gmail_test_support::settings_from(&[("multi_user.enabled", "true")]);
    let err = Accounts::open(&settings, GmailFactory::new(&settings.gmail).unwrap())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("openssl rand -base64 32"), "{err}");
}

#[tokio::test]
async fn idempotency_keys_claim_replay_release_and_expire() {
    use gmail_shared::store::IdempotencyClaim::*;
    for url in database_urls() {
        let store = store_with_a_fresh_key(&url).await;
        let user = store
            .ensure_user(&format!("idem-{}", uuid::Uuid::new_v4().simple()), None)
            .await
            .unwrap();
        let day = 24 * 3600;
        let claim = |key: &'static str, fp: &'static str, ttl: i64, lease: i64| {
            let fp = fp.as_bytes();
            let (store, user) = (store.clone(), user.id.clone());
            async move {
                store
                    .claim_idempotency_key(&user, key, fp, ttl, lease)
                    .await
                    .unwrap()
            }
        };
        let claimed = |c: gmail_shared::store::IdempotencyClaim| match c {
            Claimed { lease } => lease,
            other => panic!("not claimed: {other:?}"),
        };
        let done = |body: &str| Done {
            status: 200,
            body: body.into(),
        };
        let k = claimed(claim("k", "fp1", day, 300).await);
        assert_eq!(claim("k", "fp1", day, 300).await, InProgress);
        assert_eq!(claim("k", "fp2", day, 300).await, Mismatch);
        assert!(store
            .complete_idempotency_key(&user.id, "k", k, 200, r#"{"id":"m1"}"#)
            .await
            .unwrap());
        assert_eq!(claim("k", "fp1", day, 300).await, done(r#"{"id":"m1"}"#));
        // A failed request releases its key; an abandoned claim is taken over after the lease.
        let r = claimed(claim("r", "fp", day, 300).await);
        assert!(store
            .release_idempotency_key(&user.id, "r", r)
            .await
            .unwrap());
        let first = claimed(claim("r", "fp", day, 300).await);
        let second = claimed(claim("r", "fp", day, -1).await);
        assert_ne!(first, second);
        // The request whose claim was taken over can neither release the new claim (a third
        // request would then send again) nor overwrite its answer.
        assert!(!store
            .release_idempotency_key(&user.id, "r", first)
            .await
            .unwrap());
        assert_eq!(claim("r", "fp", day, 300).await, InProgress);
        assert!(!store
            .complete_idempotency_key(&user.id, "r", first, 500, "{}")
            .await
            .unwrap());
        assert!(store
            .complete_idempotency_key(&user.id, "r", second, 200, r#"{"id":"m2"}"#)
            .await
            .unwrap());
        assert_eq!(claim("r", "fp", day, 300).await, done(r#"{"id":"m2"}"#));
        // Answers older than the TTL are forgotten.
        claimed(claim("k", "fp2", -1, 300).await);
    }
}

/// A refresh that began before the user reconnected the address does not undo the
/// reconnect: its tokens are kept only while the connection holds the token it started from.
#[tokio::test]
async fn a_refresh_from_the_old_grant_does_not_overwrite_a_reconnect() {
    use gmail_shared::gmail::credentials::StoredTokens;
    let tokens = |refresh: &str, access: &str| StoredTokens {
        access_token: Some(access.to_string().into()),
        refresh_token: refresh.to_string().into(),
        scope: None,
        expiry_date: Some(i64::MAX / 2),
    };
    for url in database_urls() {
        let w = world(&url).await;
        let store = w.store();
        let u = w.user("u").await;
        let scopes = ["https://mail.google.com/".to_string()];
        let first = store
            .upsert_connection(&u.id, "demo@example.com", &tokens("r1", "a1"), &scopes)
            .await
            .unwrap();
        // The reconnect lands while a refresh with r1 is in flight ...
        store
            .upsert_connection(&u.id, "demo@example.com", &tokens("r2", "a2"), &scopes)
            .await
            .unwrap();
        // ... whose write-back is refused, so r2 stays.
        let from_r1 = SecretString::from("r1");
        assert!(!store
            .store_refreshed_tokens(&first.id, &tokens("r1", "a1-new"), &from_r1)
            .await
            .unwrap());
        let held = store.stored_tokens(&first.id).await.unwrap();
        assert_eq!(held.refresh_token.expose_secret(), "r2");
        // A refresh of the token it holds is stored.
        let from_r2 = SecretString::from("r2");
        assert!(store
            .store_refreshed_tokens(&first.id, &tokens("r2", "a2-new"), &from_r2)
            .await
            .unwrap());
        let held = store.stored_tokens(&first.id).await.unwrap();
        assert_eq!(held.access_token.unwrap().expose_secret(), "a2-new");
    }
}
