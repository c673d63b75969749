//! Google's OAuth endpoints: code flow with PKCE, refresh, revoke, consent page.

use crate::common;

use base64::Engine;
use common::*;
use gmail_sandbox::{SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET};
use serde_json::json;
use sha2::Digest;

fn query_param(url: &str, key: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// POST /token with a form body.
async fn token(sb: &gmail_sandbox::RunningSandbox, pairs: &[(&str, &str)]) -> HttpResponse {
    post_form(sb, "token", pairs).await
}

/// A refresh-token grant with the client's credentials in the body.
fn refresh_grant<'a>(refresh: &'a str, client: (&'a str, &'a str)) -> [(&'a str, &'a str); 4] {
    [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh),
        ("client_id", client.0),
        ("client_secret", client.1),
    ]
}

/// An authorization-code grant with the sandbox client's credentials in the body.
fn code_grant(code: &str) -> Vec<(&str, &str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", SANDBOX_CLIENT_ID),
        ("client_secret", SANDBOX_CLIENT_SECRET),
    ]
}

const CLIENT: (&str, &str) = (SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_code_flow_with_pkce_refresh_and_revoke() {
    let sb = start().await;
    let verifier = "a-very-long-code-verifier-0123456789-0123456789-abcdefghijklmnop";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    let auth_path = format!(
        "o/oauth2/v2/auth?client_id={SANDBOX_CLIENT_ID}&redirect_uri=http%3A%2F%2F127.0.0.1%3A9999%2Fcb&response_type=code\
         &scope=https%3A%2F%2Fmail.google.com%2F%20email&state=xyz&access_type=offline&prompt=consent\
         &code_challenge={challenge}&code_challenge_method=S256&login_hint=bob%40example.com"
    );
    let r = get(&sb, &auth_path).await;
    assert_eq!(r.status, 302);
    let loc = r.headers["location"].clone();
    assert!(loc.starts_with("http://127.0.0.1:9999/cb?"));
    assert_eq!(query_param(&loc, "state").as_deref(), Some("xyz"));
    let code = query_param(&loc, "code").expect("code");

    // Wrong verifier.
    let redirect = ("redirect_uri", "http://127.0.0.1:9999/cb");
    let mut wrong = code_grant(&code);
    wrong.extend([redirect, ("code_verifier", "wrong")]);
    let r = token(&sb, &wrong).await.expect(400);
    assert_eq!(
        r.json(),
        json!({"error": "invalid_grant", "error_description": "Invalid code verifier."})
    );

    // Right verifier, client credentials via HTTP Basic (Python's way).
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{SANDBOX_CLIENT_ID}:{SANDBOX_CLIENT_SECRET}"))
    );
    let exchange = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        redirect,
        ("code_verifier", verifier),
    ]);
    let basic_auth = [FORM, ("authorization", basic.as_str())];
    let r = http(&sb, "POST", "o/oauth2/token", &basic_auth, exchange.clone()).await;
    let tok = r.ok_json();
    assert_eq!(tok["token_type"], "Bearer");
    assert!(tok["expires_in"].as_u64().unwrap() > 0);
    let access = tok["access_token"].as_str().unwrap().to_string();
    let refresh = tok["refresh_token"].as_str().unwrap().to_string();
    assert!(tok["scope"]
        .as_str()
        .unwrap()
        .contains("https://www.googleapis.com/auth/userinfo.email"));

    // Codes are single-use.
    let r = http(&sb, "POST", "token", &basic_auth, exchange).await;
    assert_eq!(r.expect(400).json()["error"], "invalid_grant");

    // The token works for bob's mailbox and userinfo.
    let api = Api::new(&sb, &access);
    let p = api.get("gmail/v1/users/me/profile").await;
    assert_eq!(p.json()["emailAddress"], BOB);
    let u = api.get("oauth2/v2/userinfo").await;
    assert_eq!(u.json()["email"], BOB);
    let u = api.get("oauth2/v3/userinfo").await;
    assert_eq!(u.json()["email_verified"], true);
    let ti = get(&sb, &format!("tokeninfo?access_token={access}")).await;
    assert_eq!(ti.json()["email"], BOB);
    assert!(ti.json()["expires_in"].is_string());

    // Refresh (body credentials), no new refresh token in the answer.
    let r = token(&sb, &refresh_grant(&refresh, CLIENT)).await;
    let v = r.expect(200).json();
    assert!(v.get("refresh_token").is_none());
    let access2 = v["access_token"].as_str().unwrap().to_string();

    // Client errors.
    let r = token(&sb, &refresh_grant(&refresh, ("nope", "x"))).await;
    let r = r.expect(401);
    assert_eq!(
        r.json(),
        json!({"error": "invalid_client", "error_description": "The OAuth client was not found."})
    );
    let mut wrong_secret = refresh_grant(&refresh, CLIENT);
    wrong_secret[3].1 = "x";
    let r = token(&sb, &wrong_secret).await.expect(401);
    assert_eq!(r.json()["error_description"], "Unauthorized");
    // Without a code, then the same with a grant type Google does not know.
    let mut no_code = code_grant("");
    no_code.remove(1);
    let r = token(&sb, &no_code).await;
    assert_eq!(
        r.json(),
        json!({"error": "invalid_request", "error_description": "Missing required parameter: code"})
    );
    let r = token(&sb, &code_grant("garbage")).await;
    assert_eq!(r.json()["error_description"], "Malformed auth code.");
    let mut password = no_code;
    password[0].1 = "password";
    let r = token(&sb, &password).await;
    assert_eq!(r.json()["error"], "unsupported_grant_type");

    // Revoke the refresh token (query form): its access tokens die too.
    let r = http(
        &sb,
        "POST",
        &format!("revoke?token={refresh}"),
        &[FORM],
        vec![],
    )
    .await;
    assert_eq!(r.status, 200);
    for a in [&access, &access2] {
        let p = Api::new(&sb, a).get("gmail/v1/users/me/profile").await;
        assert_eq!(p.status, 401);
    }
    let r = token(&sb, &refresh_grant(&refresh, CLIENT)).await;
    assert_eq!(
        r.json(),
        json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
    );
    let r = post_form(&sb, "revoke", &[("token", "unknown")])
        .await
        .expect(400);
    assert_eq!(
        r.json(),
        json!({"error": "invalid_token", "error_description": "Token expired or revoked"})
    );

    // The well-known refresh token works with the sandbox client.
    let rt = sb.refresh_token_for(DEMO);
    let r = token(&sb, &refresh_grant(&rt, CLIENT)).await;
    assert_eq!(r.status, 200);
    assert!(r.json()["scope"]
        .as_str()
        .unwrap()
        .contains("https://mail.google.com/"));
    let stats = get(&sb, "__sandbox/stats").await.json();
    assert!(stats["tokenGrants"]["refresh_token"].as_u64().unwrap() >= 3);
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_page_and_denial() {
    let mut cfg = gmail_sandbox::SandboxConfig::for_tests();
    cfg.auto_approve = false;
    let sb = gmail_sandbox::Sandbox::start(cfg).await.unwrap();
    let q = format!(
        "o/oauth2/auth?client_id={SANDBOX_CLIENT_ID}&redirect_uri=http%3A%2F%2Flocalhost%3A1%2F&response_type=code&scope=email&state=s1"
    );
    let r = get(&sb, &q).await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("<form"));
    let consent = [
        ("client_id", SANDBOX_CLIENT_ID),
        ("redirect_uri", "http://localhost:1/"),
        ("response_type", "code"),
        ("scope", "email"),
        ("state", "s1"),
    ];
    let deny = [&consent[..], &[("decision", "deny")]].concat();
    let r = post_form(&sb, "o/oauth2/approve", &deny).await;
    assert_eq!(r.status, 302);
    assert_eq!(
        r.headers["location"],
        "http://localhost:1/?error=access_denied&state=s1"
    );
    let approve = [("decision", "approve"), ("authuser_email", BOB)];
    let approve = [&consent[..], &approve].concat();
    let r = post_form(&sb, "o/oauth2/approve", &approve).await;
    assert_eq!(r.status, 302);
    assert!(r.headers["location"].contains("code="));
    // Unknown client.
    let unknown = "client_id=nope&redirect_uri=http%3A%2F%2Fx%2F&response_type=code&scope=email";
    let r = get(&sb, &format!("o/oauth2/auth?{unknown}")).await;
    assert_eq!(r.status, 401);
    sb.stop().await;
}

/// A real OAuth client library refreshing against the sandbox.
mod refresh_flow {
    use super::*;
    use std::sync::Mutex;
    use yup_oauth2::storage::{TokenInfo, TokenStorage, TokenStorageError};

    /// Storage pre-loaded with a refresh token and an expired access token, so the
    /// installed-flow authenticator refreshes against `token_uri` without a browser.
    struct Seeded(Mutex<Option<TokenInfo>>);

    #[async_trait::async_trait]
    impl TokenStorage for Seeded {
        async fn set(&self, _scopes: &[&str], token: TokenInfo) -> Result<(), TokenStorageError> {
            *self.0.lock().unwrap() = Some(token);
            Ok(())
        }
        async fn get(&self, _scopes: &[&str]) -> Option<TokenInfo> {
            self.0.lock().unwrap().clone()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn yup_oauth2_refreshes_against_sandbox() {
        let sb = start().await;
        let base = sb.base_url();
        let secret = yup_oauth2::ApplicationSecret {
            client_id: gmail_sandbox::SANDBOX_CLIENT_ID.into(),
            client_secret: gmail_sandbox::SANDBOX_CLIENT_SECRET.into(),
            token_uri: format!("{base}token"),
            auth_uri: format!("{base}o/oauth2/auth"),
            redirect_uris: vec!["http://localhost".into()],
            ..Default::default()
        };
        let storage = Seeded(Mutex::new(Some(TokenInfo {
            access_token: Some("expired".into()),
            refresh_token: Some(sb.refresh_token_for(DEMO)),
            expires_at: Some(time::OffsetDateTime::now_utc() - time::Duration::hours(1)),
            id_token: None,
        })));
        let client = yup_oauth2::client::CustomHyperClientBuilder::from(
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(connector()),
        );
        let auth = yup_oauth2::InstalledFlowAuthenticator::with_client(
            secret,
            yup_oauth2::InstalledFlowReturnMethod::HTTPRedirect,
            client,
        )
        .with_storage(Box::new(storage))
        .build()
        .await
        .expect("authenticator");
        let http =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(connector());
        let mut hub = google_gmail1::Gmail::new(http, auth);
        hub.base_url(base.clone());
        hub.root_url(base);
        let (_, p) = hub
            .users()
            .get_profile("me")
            .doit()
            .await
            .expect("profile via refresh");
        assert_eq!(p.email_address.as_deref(), Some(DEMO));
        assert_eq!(sb.stats()["tokenGrants"]["refresh_token"], 1);
        sb.stop().await;
    }
}
