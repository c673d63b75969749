//! The Gmail factory against the real sandbox over real sockets: sandbox mode, the Node
//! server's credential files pointed at the sandbox's token endpoint, single-flight refresh,
//! write-back, and a revoked grant.

use gmail_sandbox::{RunningSandbox, Sandbox, SandboxConfig};
use gmail_shared::config::Backend;
use gmail_shared::gmail::GmailFactory;

async fn sandbox() -> RunningSandbox {
    Sandbox::start(SandboxConfig::for_tests())
        .await
        .expect("sandbox starts")
}

use gmail_test_support::settings_from as settings;

/// The default connection of a sandbox-backed factory, with `extra` settings on top.
fn sandbox_connection(
    sb: &RunningSandbox,
    extra: &[(&str, &str)],
) -> gmail_shared::gmail::Connection {
    let url = sb.base_url();
    let mut pairs = vec![
        ("gmail.backend", "sandbox"),
        ("gmail.sandbox_url", url.as_str()),
    ];
    pairs.extend_from_slice(extra);
    GmailFactory::new(&settings(&pairs).gmail)
        .unwrap()
        .default_connection()
        .unwrap()
}

#[tokio::test]
async fn sandbox_mode_refreshes_through_the_token_endpoint_and_reads_the_profile() {
    let sb = sandbox().await;
    let s = settings(&[
        ("gmail.backend", "auto"),
        ("gmail.sandbox_url", &sb.base_url()),
    ]);
    let factory = GmailFactory::new(&s.gmail).unwrap();
    assert_eq!(factory.backend(), Backend::Sandbox);
    let conn = factory.default_connection().unwrap();
    let (_, profile) = conn.hub.users().get_profile("me").doit().await.unwrap();
    assert_eq!(profile.email_address.as_deref(), Some("demo@example.com"));
    assert!(profile.messages_total.unwrap_or(0) > 0);
    // The cached token serves the next call.
    conn.hub.users().get_profile("me").doit().await.unwrap();
    assert_eq!(conn.token.refresh_count(), 1);
}

#[tokio::test]
async fn the_sandbox_account_is_matched_whatever_its_case() {
    let sb = sandbox().await;
    let conn = sandbox_connection(&sb, &[("gmail.sandbox_account", "Demo@Example.com")]);
    let (_, profile) = conn.hub.users().get_profile("me").doit().await.unwrap();
    assert_eq!(profile.email_address.as_deref(), Some("demo@example.com"));
    // The client's idea of the sandbox's well-known token is the sandbox's own.
    for account in ["Demo@Example.com", "bob@example.com"] {
        assert_eq!(
            gmail_shared::gmail::factory::sandbox_refresh_token(account),
            gmail_sandbox::grants::well_known_refresh_token(account)
        );
    }
}

#[tokio::test]
async fn node_server_credential_files_work_and_the_refreshed_token_is_written_back() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("gcp-oauth.keys.json");
    let creds = dir.path().join("credentials.json");
    std::fs::write(
        &keys,
        serde_json::json!({"installed": {
            "client_id": gmail_sandbox::SANDBOX_CLIENT_ID,
            "client_secret": gmail_sandbox::SANDBOX_CLIENT_SECRET,
            "auth_uri": format!("{}o/oauth2/auth", sb.base_url()),
            "token_uri": format!("{}token", sb.base_url()),
            "redirect_uris": ["http://localhost"]}})
        .to_string(),
    )
    .unwrap();
    // As the Node server leaves it: an expired access token and the refresh token.
    std::fs::write(
        &creds,
        serde_json::json!({
            "access_token": "ya29.expired",
            "refresh_token": sb.refresh_token_for("demo@example.com"),
            "scope": "https://www.googleapis.com/auth/gmail.modify",
            "token_type": "Bearer",
            "expiry_date": 1_000})
        .to_string(),
    )
    .unwrap();
    let s = settings(&[
        ("gmail.api_url", &sb.base_url()),
        ("gmail.oauth_keys_path", keys.to_str().unwrap()),
        ("gmail.credentials_path", creds.to_str().unwrap()),
    ]);
    let factory = GmailFactory::new(&s.gmail).unwrap();
    assert_eq!(factory.backend(), Backend::Google, "auto picks the files");
    let conn = factory.default_connection().unwrap();
    let (_, profile) = conn.hub.users().get_profile("me").doit().await.unwrap();
    assert_eq!(profile.email_address.as_deref(), Some("demo@example.com"));

    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&creds).unwrap()).unwrap();
    assert_ne!(written["access_token"], "ya29.expired");
    assert!(written["expiry_date"].as_i64().unwrap() > chrono::Utc::now().timestamp_millis());
    assert_eq!(
        written["refresh_token"],
        sb.refresh_token_for("demo@example.com")
    );

    // The connection does not know its address: the change feed asks Gmail once, not on
    // every sync.
    let stats = format!("{}__sandbox/stats", sb.base_url());
    let profile_reads = || async {
        let s: serde_json::Value = reqwest::get(&stats).await.unwrap().json().await.unwrap();
        s["requests"]["users.getProfile"].as_u64().unwrap_or(0)
    };
    let before = profile_reads().await;
    let mailbox = gmail_shared::mailbox::Mailbox::new(conn);
    for _ in 0..3 {
        let address = gmail_shared::events::feed::address_of(&mailbox)
            .await
            .unwrap();
        assert_eq!(address, "demo@example.com");
    }
    assert_eq!(profile_reads().await, before + 1);
}

/// The Google OAuth client alone makes `auto` Google: `auth` then consents at Google (not at
/// the sandbox), and until it has written the credentials the server says to run it.
#[test]
fn the_oauth_client_alone_picks_google_and_asks_for_auth() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("gcp-oauth.keys.json");
    std::fs::write(
        &keys,
        serde_json::json!({"installed": {"client_id": "id.apps.googleusercontent.com",
            "client_secret": "s", "redirect_uris": ["http://localhost"],
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": "https://oauth2.googleapis.com/token"}})
        .to_string(),
    )
    .unwrap();
    let creds = dir.path().join("credentials.json");
    let s = settings(&[
        ("gmail.oauth_keys_path", keys.to_str().unwrap()),
        ("gmail.credentials_path", creds.to_str().unwrap()),
    ]);
    let factory = GmailFactory::new(&s.gmail).unwrap();
    assert_eq!(factory.backend(), Backend::Google);
    let Err(err) = factory.default_connection() else {
        panic!("a connection without credentials")
    };
    assert!(err.to_string().contains("gmail-mcp-server auth"), "{err}");
    let client = factory.oauth_client().unwrap();
    assert!(
        !client.auth_uri.contains("127.0.0.1"),
        "{}",
        client.auth_uri
    );
}

#[tokio::test]
async fn concurrent_calls_on_an_expired_token_make_one_refresh() {
    let sb = sandbox().await;
    let conn = sandbox_connection(&sb, &[]);
    let calls = (0..20).map(|_| {
        let hub = conn.hub.clone();
        async move { hub.users().get_profile("me").doit().await.map(|_| ()) }
    });
    for result in futures::future::join_all(calls).await {
        result.unwrap();
    }
    assert_eq!(conn.token.refresh_count(), 1);
}

#[tokio::test]
async fn a_revoked_grant_is_reported_as_auth_expired() {
    let sb = sandbox().await;
    let conn = sandbox_connection(&sb, &[("gmail.sandbox_account", "nobody@example.com")]);
    let err = conn.hub.users().get_profile("me").doit().await.unwrap_err();
    let err = gmail_shared::GmailError::from(err);
    assert_eq!(err.kind(), "auth-expired", "{err}");
    assert!(err.to_string().contains("invalid_grant"), "{err}");
    let debug = format!("{conn:?}");
    assert!(!debug.contains("sandbox-refresh"), "{debug}");
    assert!(
        !debug.contains(gmail_sandbox::SANDBOX_CLIENT_SECRET),
        "{debug}"
    );
}

#[tokio::test]
async fn a_gmail_that_stops_answering_is_given_up_on_at_the_deadline() {
    let sb = sandbox().await;
    let conn = sandbox_connection(
        &sb,
        &[
            ("gmail.request_timeout_secs", "1"),
            ("gmail.retry_max_wait_secs", "1"),
        ],
    );
    let mailbox = gmail_shared::ops::Mailbox::new(conn.clone());
    // The token first, at full speed: the hang is Gmail's API, not its token endpoint.
    gmail_shared::ops::profile::get_profile(&mailbox)
        .await
        .unwrap();
    sb.set_faults(gmail_sandbox::FaultConfig {
        latency_ms: 30_000,
        ..Default::default()
    });
    let started = std::time::Instant::now();
    let err = gmail_shared::ops::profile::get_profile(&mailbox)
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind(), "upstream-unavailable", "{err}");
    assert!(
        err.to_string().contains("did not answer within 2 s"),
        "{err}"
    );
    assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    // Requests google-gmail1 cannot make (the batch endpoint) end too.
    let started = std::time::Instant::now();
    let err = gmail_shared::gmail::raw::request(
        &conn,
        hyper::Method::GET,
        "gmail/v1/users/me/profile",
        None,
        Default::default(),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("did not answer within 1 s"),
        "{err}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
}
