//! Multi-user deployments for the suites that need one: a sandbox, the REST server in
//! multi-user mode on a given database in front of it, the store it uses (to make users and
//! keys as an operator would), callers with API keys, and the browser's part of connecting a
//! mailbox.

use gmail_api_server::Application;
use gmail_sandbox::{RunningSandbox, Sandbox, SandboxConfig};
use gmail_shared::config::Settings;
use gmail_shared::store::{cipher, ApiKeyInfo, Keyring, Store};
use gmail_test_support::{fetch, status_json};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

pub(crate) fn database_urls() -> Vec<String> {
    gmail_test_support::database_urls("api-mu")
}

pub(crate) fn settings(sandbox: &RunningSandbox, db: &str, key: &str) -> Settings {
    gmail_test_support::multi_user_settings(&sandbox.base_url(), db, key)
}

pub(crate) async fn spawn(s: Settings) -> String {
    try_spawn(s).await.unwrap()
}

/// As [`spawn`], or why the server could not start (a port taken in the meantime).
pub(crate) async fn try_spawn(s: Settings) -> anyhow::Result<String> {
    let app = Application::build(s).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    Ok(base)
}

/// The store on `db`, sealing with `key`, as the servers open it.
pub(crate) async fn store_for(db: &str, key: &str) -> Store {
    let keyring = Keyring::new(&SecretString::from(key.to_string()), None).unwrap();
    Store::connect(db, keyring).await.unwrap()
}

/// A sandbox and the REST server in multi-user mode in front of it.
pub(crate) struct Deployment {
    /// `http://127.0.0.1:PORT` of the REST server.
    pub(crate) base: String,
    pub(crate) store: Store,
    pub(crate) sandbox: RunningSandbox,
    /// What the server started with: another instance on them shares its database.
    pub(crate) settings: Settings,
}

impl Deployment {
    pub(crate) async fn start(db: &str) -> Deployment {
        Deployment::start_with(db, |_| {}).await
    }

    /// With the settings changed by `tweak` before the server starts.
    pub(crate) async fn start_with(db: &str, tweak: impl FnOnce(&mut Settings)) -> Deployment {
        Deployment::try_start_with(db, tweak).await.unwrap()
    }

    /// As [`Deployment::start_with`], or why the REST server could not start.
    pub(crate) async fn try_start_with(
        db: &str,
        tweak: impl FnOnce(&mut Settings),
    ) -> anyhow::Result<Deployment> {
        let sandbox = Sandbox::start(SandboxConfig::for_tests()).await.unwrap();
        let key = cipher::generate_key();
        let mut s = settings(&sandbox, db, &key);
        tweak(&mut s);
        let base = try_spawn(s.clone()).await?;
        Ok(Deployment {
            base,
            store: store_for(db, &key).await,
            sandbox,
            settings: s,
        })
    }

    /// A second server instance on the same settings and database; answers its base URL.
    pub(crate) async fn another_instance(&self) -> String {
        spawn(self.settings.clone()).await
    }
}

pub(crate) struct Caller {
    pub(crate) key: String,
}

impl Caller {
    pub(crate) fn new(key: &SecretString) -> Caller {
        Caller {
            key: key.expose_secret().to_string(),
        }
    }
}

/// A user (known by `name` made unique, and by `email` when given) with one key named
/// `key_name`: the caller holding it and the key's record (its id, the user's id).
pub(crate) async fn user_with_key(
    store: &Store,
    name: &str,
    email: Option<&str>,
    key_name: &str,
) -> (Caller, ApiKeyInfo) {
    let external = format!("{name}-{}", uuid::Uuid::new_v4().simple());
    let u = store.ensure_user(&external, email).await.unwrap();
    let (info, key) = store.create_api_key(&u.id, key_name).await.unwrap();
    (Caller::new(&key), info)
}

pub(crate) async fn new_caller(store: &Store, name: &str) -> Caller {
    user_with_key(store, name, None, "test").await.0
}

pub(crate) fn http() -> reqwest::Client {
    gmail_test_support::no_redirects()
}

/// A request as `c` (its key as the bearer): the status and the JSON body (Null when none).
pub(crate) async fn call(
    base: &str,
    method: reqwest::Method,
    path: &str,
    c: &Caller,
    body: Option<Value>,
) -> (u16, Value) {
    let mut rb = http()
        .request(method, format!("{base}{path}"))
        .bearer_auth(&c.key);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    status_json(rb).await
}

pub(crate) async fn get(base: &str, path: &str, c: &Caller) -> (u16, Value) {
    call(base, reqwest::Method::GET, path, c, None).await
}

pub(crate) async fn post(base: &str, path: &str, c: &Caller, body: Value) -> (u16, Value) {
    call(base, reqwest::Method::POST, path, c, Some(body)).await
}

/// A browser's first steps on a start link: the page, then its button. Answers the cookie
/// that binds the flow to this browser and Google's (the sandbox's) consent URL.
pub(crate) async fn open_start_link(base: &str, auth_url: &str) -> (String, String) {
    // The configured redirect URL names port 8000; the server under test is on another.
    let link = reqwest::Url::parse(auth_url).unwrap();
    assert_eq!(link.path(), "/oauth/start");
    let auth_url = format!("{base}/oauth/start?{}", link.query().unwrap());
    let page = fetch(http().get(&auth_url)).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    let html = page.text().await.unwrap();
    assert!(html.contains("Continue to Google"), "{html}");
    let state = link
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let r = fetch(
        http()
            .post(format!("{base}/oauth/start"))
            .header("origin", base)
            .form(&[("state", state.as_str())]),
    )
    .await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().unwrap().to_string();
    let consent = r.headers()["location"].to_str().unwrap().to_string();
    (cookie, consent)
}

/// Consent at the sandbox: answers the callback query Google would redirect with.
pub(crate) async fn consent_at_google(consent_url: &str) -> String {
    let consent = fetch(http().get(consent_url)).await;
    assert_eq!(consent.status(), 302);
    let location = consent.headers()["location"].to_str().unwrap().to_string();
    location.split_once('?').unwrap().1.to_string()
}

/// Connects `email` for the caller as a browser would: start over REST, open the start link,
/// consent at the sandbox, then come back to /oauth/callback with the binding cookie.
/// Answers the callback's JSON.
pub(crate) async fn connect(base: &str, c: &Caller, email: &str) -> Value {
    let r = fetch(
        http()
            .post(format!("{base}/api/v1/connections"))
            .bearer_auth(&c.key)
            .json(&serde_json::json!({"loginHint": email})),
    )
    .await;
    assert_eq!(r.status(), 201);
    let start: Value = r.json().await.unwrap();
    let (cookie, consent) = open_start_link(base, start["authUrl"].as_str().unwrap()).await;
    let query = consent_at_google(&consent).await;
    let cb = fetch(
        http()
            .get(format!("{base}/oauth/callback?{query}"))
            .header("accept", "application/json")
            .header("cookie", cookie),
    )
    .await;
    assert_eq!(cb.status(), 200, "{:?}", cb.text().await);
    cb.json().await.unwrap()
}
