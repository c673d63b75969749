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
