use base64::Engine;

use super::*;

#[test]
fn scopes_are_canonical_and_unknown_ones_refused() {
    assert_eq!(parse_scope(None).unwrap(), SCOPE_FULL);
    assert_eq!(parse_scope(Some("gmail.readonly")).unwrap(), SCOPE_READONLY);
    assert_eq!(
        parse_scope(Some("gmail.readonly offline_access")).unwrap(),
        SCOPE_READONLY
    );
    assert_eq!(
        parse_scope(Some("gmail.readonly gmail.full")).unwrap(),
        SCOPE_FULL
    );
    assert!(parse_scope(Some("admin")).unwrap_err().contains("admin"));
}

#[test]
fn redirects_carry_state_and_issuer_encoded() {
    assert_eq!(
        with_query(
            "http://127.0.0.1:9/cb",
            &[("code", "a b"), ("iss", "http://x")]
        ),
        "http://127.0.0.1:9/cb?code=a+b&iss=http%3A%2F%2Fx"
    );
    assert_eq!(
        with_query("https://c/cb?k=1", &[("state", "s")]),
        "https://c/cb?k=1&state=s"
    );
}

#[test]
fn basic_credentials_are_url_decoded() {
    let value = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("mcp%3Aid:s%2Bcret")
    );
    assert_eq!(
        basic_credentials(&value),
        Some(("mcp:id".to_string(), "s+cret".to_string()))
    );
    assert_eq!(basic_credentials("Bearer x"), None);
}

#[test]
fn token_responses_keep_tokens_out_of_debug() {
    let t = TokenResponse {
        access_token: "gmo_secret-access".into(),
        token_type: "Bearer",
        expires_in: 3600,
        refresh_token: "gmr_secret-refresh".into(),
        scope: SCOPE_FULL.into(),
    };
    let shown = format!("{t:?}");
    assert!(!shown.contains("secret"), "{shown}");
}

/// A first decision dropped midway (the browser gave up on its request for a second click,
/// and the server dropped the handler) is forgotten: the repeat makes the decision instead of
/// waiting for an outcome that never comes.
#[tokio::test]
async fn a_decision_dropped_midway_can_be_made_again() {
    use crate::store::cipher::{generate_key, Keyring};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/auth.db", dir.path().display());
    let key = secrecy::SecretString::from(generate_key());
    let store = Store::connect(&url, Keyring::new(&key, None).unwrap())
        .await
        .unwrap();
    let server = AuthorizationServer::new(&crate::testing::settings("http://127.0.0.1:9/"), store);
    let req = AuthorizationRequest {
        id: "req-dropped".into(),
        expires_at: now() + 600,
        client_id: "client".into(),
        client_name: "App".into(),
        redirect_uri: "http://127.0.0.1:5000/cb".into(),
        scope: SCOPE_READONLY.into(),
        resource: "http://127.0.0.1:8001/mcp".into(),
        state: None,
        code_challenge: "challenge".into(),
        login_hint: None,
    };
    let never = std::future::pending::<Result<String, GmailError>>();
    let first = server.decide(&req, "alice", true, never);
    let waited = std::time::Duration::from_millis(100);
    assert!(tokio::time::timeout(waited, first).await.is_err());
    let made = async { Ok("http://127.0.0.1:5000/cb?code=gmc_2".to_string()) };
    let again = server.decide(&req, "alice", true, made).await.unwrap();
    assert_eq!(again, "http://127.0.0.1:5000/cb?code=gmc_2");
    // And from then on the same decision answers the same.
    let late = async { Ok("a second code".to_string()) };
    assert_eq!(
        server.decide(&req, "alice", true, late).await.unwrap(),
        again
    );
}
