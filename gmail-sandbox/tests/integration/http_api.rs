//! Raw HTTP against the sandbox: batch, error envelopes, OAuth, uploads, quota and faults.

use crate::common;

use base64::Engine;
use common::*;
use gmail_sandbox::{FaultConfig, QuotaConfig, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET};
use serde_json::json;
use sha2::Digest;

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
        .into_bytes()
}

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");
const JSON_CT: (&str, &str) = ("content-type", "application/json");

async fn insert_raw(
    sb: &gmail_sandbox::RunningSandbox,
    token: &str,
    raw: &[u8],
    labels: &[&str],
) -> String {
    let body = json!({"raw": b64url(raw), "labelIds": labels}).to_string();
    let auth = bearer(token);
    let r = http(
        sb,
        "POST",
        "gmail/v1/users/me/messages",
        &[("authorization", &auth), JSON_CT],
        body.into_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_envelopes_and_auth() {
    let sb = start().await;
    // No token → 401 with WWW-Authenticate and Google's envelope.
    let r = http(&sb, "GET", "gmail/v1/users/me/profile", &[], vec![]).await;
    assert_eq!(r.status, 401);
    assert!(r.headers["www-authenticate"].contains("invalid_token"));
    let b = r.json();
    assert_eq!(b["error"]["status"], "UNAUTHENTICATED");
    assert_eq!(b["error"]["errors"][0]["reason"], "authError");
    assert_eq!(b["error"]["errors"][0]["location"], "Authorization");

    // Expired token → 401.
    let t = sb.issue_access_token(DEMO, &[FULL]);
    let auth = bearer(&t);
    let ok = http(
        &sb,
        "GET",
        "gmail/v1/users/me/profile",
        &[("authorization", &auth)],
        vec![],
    )
    .await;
    assert_eq!(ok.status, 200);
    assert!(ok.json()["historyId"].is_string());
    sb.expire_access_token(&t);
    let r = http(
        &sb,
        "GET",
        "gmail/v1/users/me/profile",
        &[("authorization", &auth)],
        vec![],
    )
    .await;
    assert_eq!(r.status, 401);

    let t = sb.issue_access_token(DEMO, &[FULL]);
    let auth = bearer(&t);
    let h = [("authorization", auth.as_str()), JSON_CT];
    // Unknown message id → 404 notFound.
    let r = http(
        &sb,
        "GET",
        "gmail/v1/users/me/messages/00000000000000aa",
        &h,
        vec![],
    )
    .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["errors"][0]["reason"], "notFound");
    assert_eq!(r.json()["error"]["status"], "NOT_FOUND");
    // Bad JSON.
    let r = http(
        &sb,
        "POST",
        "gmail/v1/users/me/messages/send",
        &h,
        b"{nope".to_vec(),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Invalid JSON payload received."));
    // Missing raw.
    let r = http(
        &sb,
        "POST",
        "gmail/v1/users/me/messages/send",
        &h,
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["error"]["message"],
        "'raw' RFC822 payload message string or uploading message via /upload/* URL required"
    );
    // Standard base64 is rejected.
    let r = http(
        &sb,
        "POST",
        "gmail/v1/users/me/messages/send",
        &h,
        br#"{"raw":"ab+/cd=="}"#.to_vec(),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Invalid value at 'message.raw' (TYPE_BYTES), Base64 decoding failed for"));
    // JSON raw send with unpadded base64url works.
    let raw = simple_message(DEMO, "nobody@example.org", "json send", "hi");
    let unpadded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&raw);
    let r = http(
        &sb,
        "POST",
        "gmail/v1/users/me/messages/send",
        &h,
        json!({"raw": unpadded}).to_string().into_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["labelIds"], json!(["SENT"]));
    // Deletes answer 204 with no body.
    let id = r.json()["id"].as_str().unwrap().to_string();
    let r = http(
        &sb,
        "DELETE",
        &format!("gmail/v1/users/me/messages/{id}"),
        &h,
        vec![],
    )
    .await;
    assert_eq!(r.status, 204);
    assert!(r.body.is_empty());
    // Ignored standard params, repeated labelIds, includeSpamTrash.
    let r = http(
        &sb,
        "GET",
        "gmail/v1/users/me/messages?alt=json&prettyPrint=false&fields=messages&labelIds=INBOX&labelIds=UNREAD&maxResults=3",
        &h,
        vec![],
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.json()["messages"].as_array().unwrap().len() <= 3);
    // Partial responses.
    let r = http(
        &sb,
        "GET",
        "gmail/v1/users/me/messages?maxResults=2&fields=messages(id),nextPageToken",
        &h,
        vec![],
    )
    .await;
    let v = r.json();
    assert!(v.get("resultSizeEstimate").is_none());
    assert!(v["messages"][0].get("threadId").is_none());
    assert!(v["messages"][0]["id"].is_string());
    assert!(v["nextPageToken"].is_string());
    // int64 as strings.
    let mid = r.json()["messages"][0]["id"].as_str().unwrap().to_string();
    let m = http(
        &sb,
        "GET",
        &format!("gmail/v1/users/me/messages/{mid}?format=minimal"),
        &h,
        vec![],
    )
    .await
    .json();
    assert!(
        m["historyId"].is_string()
            && m["internalDate"].is_string()
            && m["sizeEstimate"].is_number()
    );
    // Bad format / maxResults.
    let r = http(
        &sb,
        "GET",
        &format!("gmail/v1/users/me/messages/{mid}?format=bogus"),
        &h,
        vec![],
    )
    .await;
    assert_eq!(r.status, 400);
    let r = http(
        &sb,
        "GET",
        "gmail/v1/users/me/messages?maxResults=abc",
        &h,
        vec![],
    )
    .await;
    assert_eq!(r.status, 400);
    // Other user's mailbox → 403.
    let r = http(
        &sb,
        "GET",
        "gmail/v1/users/bob%40example.com/profile",
        &h,
        vec![],
    )
    .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"]["status"], "PERMISSION_DENIED");
    // Unknown path → 404 envelope.
    let r = http(&sb, "GET", "gmail/v1/users/me/nothing", &h, vec![]).await;
    assert_eq!(r.status, 404);
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn method_override_and_upload_variants() {
    let sb = start().await;
    let t = sb.issue_access_token(DEMO, &[FULL]);
    let auth = bearer(&t);
    let word = unique_word();

    // uploadType=media
    let raw = simple_message("a@b.c", DEMO, &format!("Media {word}"), "m");
    let r = http(
        &sb,
        "POST",
        "upload/gmail/v1/users/me/messages?uploadType=media",
        &[("authorization", &auth), ("content-type", "message/rfc822")],
        raw,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());

    // Node-style multipart: lower-case part headers, no trailing CRLF, JSON metadata with labels.
    let raw = simple_message("a@b.c", DEMO, &format!("Node {word}"), "n");
    let mut body = b"--node123\r\ncontent-type: application/json\r\n\r\n{\"labelIds\":[\"INBOX\"]}\r\n--node123\r\ncontent-type: message/rfc822\r\n\r\n".to_vec();
    body.extend_from_slice(&raw);
    body.extend_from_slice(b"\r\n--node123--");
    let r = http(
        &sb,
        "POST",
        "upload/gmail/v1/users/me/messages?uploadType=multipart",
        &[
            ("authorization", &auth),
            ("content-type", "multipart/related; boundary=node123"),
        ],
        body,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["labelIds"], json!(["INBOX"]));

    // Python-style resumable: init on /upload/, chunks by PUT, 308 with Range in between.
    let raw = simple_message("a@b.c", DEMO, &format!("Resumable {word}"), "r");
    let r = http(
        &sb,
        "POST",
        "upload/gmail/v1/users/me/messages/import?uploadType=resumable",
        &[
            ("authorization", &auth),
            JSON_CT,
            ("x-upload-content-type", "message/rfc822"),
        ],
        br#"{"labelIds":["INBOX","UNREAD"]}"#.to_vec(),
    )
    .await;
    assert_eq!(r.status, 200);
    let location = r.headers["location"].clone();
    let total = raw.len();
    let (a, b) = raw.split_at(10);
    let r = http_url(
        "PUT",
        &location,
        &[("content-range", &format!("bytes 0-9/{total}"))],
        a.to_vec(),
    )
    .await;
    assert_eq!(r.status, 308);
    assert_eq!(r.headers["range"], "bytes=0-9");
    let r = http_url(
        "PUT",
        &location,
        &[("content-range", &format!("bytes 10-{}/{total}", total - 1))],
        b.to_vec(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["labelIds"], json!(["INBOX", "UNREAD"]));

    // Long-URL GET as POST + X-HTTP-Method-Override with a form body.
    let r = http(
        &sb,
        "POST",
        "gmail/v1/users/me/messages",
        &[
            ("authorization", &auth),
            FORM,
            ("x-http-method-override", "GET"),
        ],
        form(&[("q", &word), ("maxResults", "10")]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["resultSizeEstimate"], 3);
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_endpoint() {
    let sb = start().await;
    let t = sb.issue_access_token(DEMO, &[FULL]);
    let auth = bearer(&t);
    let id = insert_raw(
        &sb,
        &t,
        &simple_message("a@b.c", DEMO, "batch me", "x"),
        &["INBOX", "UNREAD"],
    )
    .await;
    let mut body = String::new();
    body.push_str(&format!(
        "--XYZ\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <abc + 1>\r\n\r\n\
         GET /gmail/v1/users/me/messages/{id}?format=minimal HTTP/1.1\r\nauthorization: {auth}\r\n\r\n\r\n"
    ));
    body.push_str(&format!(
        "--XYZ\r\nContent-Type: application/http\r\nContent-ID: <abc + 2>\r\n\r\n\
         POST /gmail/v1/users/me/messages/{id}/modify HTTP/1.1\r\nContent-Type: application/json\r\n\r\n\
         {{\"removeLabelIds\":[\"UNREAD\"]}}\r\n"
    ));
    body.push_str(
        "--XYZ\r\nContent-Type: application/http\r\nContent-ID: <abc + 3>\r\n\r\n\
         GET /gmail/v1/users/me/messages/00000000000000ab HTTP/1.1\r\n\r\n\r\n--XYZ--\r\n",
    );
    for path in ["batch", "batch/gmail/v1"] {
        let r = http(
            &sb,
            "POST",
            path,
            &[
                ("authorization", &auth),
                ("content-type", "multipart/mixed; boundary=XYZ"),
            ],
            body.clone().into_bytes(),
        )
        .await;
        assert_eq!(r.status, 200);
        assert!(r.headers["content-type"].starts_with("multipart/mixed; boundary=batch_"));
        let text = r.text();
        assert!(text.contains("Content-ID: <response-abc + 1>"), "{text}");
        assert!(text.contains("Content-ID: <response-abc + 2>"));
        assert!(text.contains("HTTP/1.1 404 Not Found"));
        assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 2);
    }
    // More than 100 parts → 400.
    let mut big = String::new();
    for i in 0..101 {
        big.push_str(&format!(
            "--B\r\nContent-Type: application/http\r\nContent-ID: <{i}>\r\n\r\nGET /gmail/v1/users/me/profile HTTP/1.1\r\n\r\n\r\n"
        ));
    }
    big.push_str("--B--\r\n");
    let r = http(
        &sb,
        "POST",
        "batch/gmail/v1",
        &[
            ("authorization", &auth),
            ("content-type", "multipart/mixed; boundary=B"),
        ],
        big.into_bytes(),
    )
    .await;
    assert_eq!(r.status, 400);
    sb.stop().await;
}

fn query_param(url: &str, key: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

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
    let r = http(&sb, "GET", &auth_path, &[], vec![]).await;
    assert_eq!(r.status, 302);
    let loc = r.headers["location"].clone();
    assert!(loc.starts_with("http://127.0.0.1:9999/cb?"));
    assert_eq!(query_param(&loc, "state").as_deref(), Some("xyz"));
    let code = query_param(&loc, "code").expect("code");

    // Wrong verifier.
    let r = http(
        &sb,
        "POST",
        "token",
        &[FORM],
        form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", SANDBOX_CLIENT_ID),
            ("client_secret", SANDBOX_CLIENT_SECRET),
            ("redirect_uri", "http://127.0.0.1:9999/cb"),
            ("code_verifier", "wrong"),
        ]),
    )
    .await;
    assert_eq!(r.status, 400);
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
        ("redirect_uri", "http://127.0.0.1:9999/cb"),
        ("code_verifier", verifier),
    ]);
    let r = http(
        &sb,
        "POST",
        "o/oauth2/token",
        &[FORM, ("authorization", &basic)],
        exchange.clone(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let tok = r.json();
    assert_eq!(tok["token_type"], "Bearer");
    assert!(tok["expires_in"].as_u64().unwrap() > 0);
    let access = tok["access_token"].as_str().unwrap().to_string();
    let refresh = tok["refresh_token"].as_str().unwrap().to_string();
    assert!(tok["scope"]
        .as_str()
        .unwrap()
        .contains("https://www.googleapis.com/auth/userinfo.email"));

    // Codes are single-use.
    let r = http(
        &sb,
        "POST",
        "token",
        &[FORM, ("authorization", &basic)],
        exchange,
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_grant");

    // The token works for bob's mailbox and userinfo.
    let ab = bearer(&access);
    let p = http(
        &sb,
        "GET",
        "gmail/v1/users/me/profile",
        &[("authorization", &ab)],
        vec![],
    )
    .await;
    assert_eq!(p.json()["emailAddress"], BOB);
    let u = http(
        &sb,
        "GET",
        "oauth2/v2/userinfo",
        &[("authorization", &ab)],
        vec![],
    )
    .await;
    assert_eq!(u.json()["email"], BOB);
    let u = http(
        &sb,
        "GET",
        "oauth2/v3/userinfo",
        &[("authorization", &ab)],
        vec![],
    )
    .await;
    assert_eq!(u.json()["email_verified"], true);
    let ti = http(
        &sb,
        "GET",
        &format!("tokeninfo?access_token={access}"),
        &[],
        vec![],
    )
    .await;
    assert_eq!(ti.json()["email"], BOB);
    assert!(ti.json()["expires_in"].is_string());

    // Refresh (body credentials), no new refresh token in the answer.
    let r = http(
        &sb,
        "POST",
        "token",
        &[FORM],
        form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", SANDBOX_CLIENT_ID),
            ("client_secret", SANDBOX_CLIENT_SECRET),
        ]),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.json().get("refresh_token").is_none());
    let access2 = r.json()["access_token"].as_str().unwrap().to_string();

    // Client errors.
    let r = http(
        &sb,
        "POST",
        "token",
        &[FORM],
        form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", "nope"),
            ("client_secret", "x"),
        ]),
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        json!({"error": "invalid_client", "error_description": "The OAuth client was not found."})
    );
    let r = http(
        &sb,
        "POST",
        "token",
        &[FORM],
        form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", SANDBOX_CLIENT_ID),
            ("client_secret", "x"),
        ]),
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error_description"], "Unauthorized");
    let r = http(
        &sb,
        "POST",
        "token",
        &[FORM],
        form(&[
            ("grant_type", "authorization_code"),
            ("client_id", SANDBOX_CLIENT_ID),
            ("client_secret", SANDBOX_CLIENT_SECRET),
        ]),
    )
    .await;
    assert_eq!(
        r.json(),
        json!({"error": "invalid_request", "error_description": "Missing required parameter: code"})
    );
    let r = http(
        &sb,
        "POST",
        "token",
        &[FORM],
        form(&[
            ("grant_type", "authorization_code"),
            ("code", "garbage"),
            ("client_id", SANDBOX_CLIENT_ID),
            ("client_secret", SANDBOX_CLIENT_SECRET),
        ]),
    )
    .await;
    assert_eq!(r.json()["error_description"], "Malformed auth code.");
    let r = http(
        &sb,
        "POST",
        "token",
        &[FORM],
        form(&[
            ("grant_type", "password"),
            ("client_id", SANDBOX_CLIENT_ID),
            ("client_secret", SANDBOX_CLIENT_SECRET),
        ]),
    )
    .await;
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
        let p = http(
            &sb,
            "GET",
            "gmail/v1/users/me/profile",
            &[("authorization", &bearer(a))],
            vec![],
        )
        .await;
        assert_eq!(p.status, 401);
    }
    let r = http(
        &sb,
        "POST",
        "token",
        &[FORM],
        form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", SANDBOX_CLIENT_ID),
            ("client_secret", SANDBOX_CLIENT_SECRET),
        ]),
    )
    .await;
    assert_eq!(
        r.json(),
        json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
    );
    let r = http(
        &sb,
        "POST",
        "revoke",
        &[FORM],
        form(&[("token", "unknown")]),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"error": "invalid_token", "error_description": "Token expired or revoked"})
    );

    // The well-known refresh token works with the sandbox client.
    let rt = sb.refresh_token_for(DEMO);
    let r = http(
        &sb,
        "POST",
        "token",
        &[FORM],
        form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
            ("client_id", SANDBOX_CLIENT_ID),
            ("client_secret", SANDBOX_CLIENT_SECRET),
        ]),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.json()["scope"]
        .as_str()
        .unwrap()
        .contains("https://mail.google.com/"));
    let stats = http(&sb, "GET", "__sandbox/stats", &[], vec![])
        .await
        .json();
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
    let r = http(&sb, "GET", &q, &[], vec![]).await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("<form"));
    let deny = form(&[
        ("client_id", SANDBOX_CLIENT_ID),
        ("redirect_uri", "http://localhost:1/"),
        ("response_type", "code"),
        ("scope", "email"),
        ("state", "s1"),
        ("decision", "deny"),
    ]);
    let r = http(&sb, "POST", "o/oauth2/approve", &[FORM], deny).await;
    assert_eq!(r.status, 302);
    assert_eq!(
        r.headers["location"],
        "http://localhost:1/?error=access_denied&state=s1"
    );
    let approve = form(&[
        ("client_id", SANDBOX_CLIENT_ID),
        ("redirect_uri", "http://localhost:1/"),
        ("response_type", "code"),
        ("scope", "email"),
        ("state", "s1"),
        ("decision", "approve"),
        ("authuser_email", BOB),
    ]);
    let r = http(&sb, "POST", "o/oauth2/approve", &[FORM], approve).await;
    assert_eq!(r.status, 302);
    assert!(r.headers["location"].contains("code="));
    // Unknown client.
    let r = http(&sb, "GET", "o/oauth2/auth?client_id=nope&redirect_uri=http%3A%2F%2Fx%2F&response_type=code&scope=email", &[], vec![]).await;
    assert_eq!(r.status, 401);
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_faults_and_stats() {
    let sb = start().await;
    let t = sb.issue_access_token(DEMO, &[FULL]);
    let auth = bearer(&t);
    let h = [("authorization", auth.as_str())];
    http(&sb, "POST", "__sandbox/stats/reset", &[], vec![]).await;

    // Quota: 12 units of burst, messages.list costs 5 → the third call is refused.
    sb.set_quota(QuotaConfig {
        enabled: true,
        units_per_second: 0.001,
        burst_units: 12.0,
        ..Default::default()
    });
    assert_eq!(
        http(&sb, "GET", "gmail/v1/users/me/messages", &h, vec![])
            .await
            .status,
        200
    );
    assert_eq!(
        http(&sb, "GET", "gmail/v1/users/me/messages", &h, vec![])
            .await
            .status,
        200
    );
    let r = http(&sb, "GET", "gmail/v1/users/me/messages", &h, vec![]).await;
    assert_eq!(r.status, 429);
    let b = r.json();
    assert_eq!(b["error"]["status"], "RESOURCE_EXHAUSTED");
    assert_eq!(b["error"]["errors"][0]["reason"], "rateLimitExceeded");
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("User-rate limit exceeded.  Retry after "));
    assert!(!r.headers.contains_key("retry-after"));
    // The same condition as 403, the other way Gmail reports it.
    sb.set_quota(QuotaConfig {
        enabled: true,
        units_per_second: 0.001,
        burst_units: 1.0,
        exceeded_status: 403,
    });
    assert_eq!(
        http(&sb, "GET", "gmail/v1/users/me/profile", &h, vec![])
            .await
            .status,
        200
    );
    let r = http(&sb, "GET", "gmail/v1/users/me/profile", &h, vec![]).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json()["error"]["errors"][0]["reason"],
        "rateLimitExceeded"
    );
    // Quota can be switched off at runtime through the admin endpoint.
    let r = http(
        &sb,
        "POST",
        "__sandbox/quota",
        &[JSON_CT],
        br#"{"enabled":false}"#.to_vec(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        http(&sb, "GET", "gmail/v1/users/me/messages", &h, vec![])
            .await
            .status,
        200
    );

    // Faults through the admin endpoint.
    let r = http(
        &sb,
        "POST",
        "__sandbox/faults",
        &[JSON_CT],
        br#"{"error_rate":1.0}"#.to_vec(),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = http(&sb, "GET", "gmail/v1/users/me/profile", &h, vec![]).await;
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["error"]["errors"][0]["reason"], "backendError");
    sb.set_faults(FaultConfig {
        rate_limit_rate: 1.0,
        ..Default::default()
    });
    let r = http(&sb, "GET", "gmail/v1/users/me/profile", &h, vec![]).await;
    assert_eq!(r.status, 429);
    assert_eq!(
        r.json()["error"]["message"],
        "Too many concurrent requests for user"
    );
    sb.set_faults(FaultConfig {
        latency_ms: 150,
        ..Default::default()
    });
    let t0 = std::time::Instant::now();
    assert_eq!(
        http(&sb, "GET", "gmail/v1/users/me/profile", &h, vec![])
            .await
            .status,
        200
    );
    assert!(t0.elapsed().as_millis() >= 150);
    let f = http(&sb, "GET", "__sandbox/faults", &[], vec![])
        .await
        .json();
    assert_eq!(f["latency_ms"], 150);
    // Concurrency cap: with latency, 6 parallel requests against a cap of 2.
    sb.set_faults(FaultConfig {
        latency_ms: 300,
        max_concurrent_per_user: 2,
        ..Default::default()
    });
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let url = format!("{}gmail/v1/users/me/profile", sb.base_url());
        let auth = auth.clone();
        tasks.push(tokio::spawn(async move {
            http_url("GET", &url, &[("authorization", &auth)], vec![])
                .await
                .status
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    assert_eq!(codes.iter().filter(|c| **c == 200).count(), 2, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 429).count(), 4, "{codes:?}");
    sb.set_faults(FaultConfig::default());

    let stats = http(&sb, "GET", "__sandbox/stats", &[], vec![])
        .await
        .json();
    assert_eq!(stats["requests"]["users.messages.list"], 4);
    assert!(
        stats["requests"]["users.getProfile"].as_u64().unwrap() >= 7,
        "{stats}"
    );
    let health = http(&sb, "GET", "health", &[], vec![]).await;
    assert_eq!(health.status, 200);
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_database_persists_across_restarts() {
    let dir = std::env::temp_dir().join(format!("gmail-sandbox-test-{}", uuid::Uuid::new_v4()));
    let path = dir.join("sb.db");
    let cfg = || gmail_sandbox::SandboxConfig {
        database: gmail_sandbox::DatabaseLocation::File(path.clone()),
        ..gmail_sandbox::SandboxConfig::for_tests()
    };
    let sb = gmail_sandbox::Sandbox::start(cfg()).await.unwrap();
    let t = sb.issue_access_token(DEMO, &[FULL]);
    let id = insert_raw(
        &sb,
        &t,
        &simple_message("a@b.c", DEMO, "persist", "p"),
        &["INBOX", "STARRED"],
    )
    .await;
    let auth = bearer(&t);
    let r = http(
        &sb,
        "POST",
        "gmail/v1/users/me/labels",
        &[("authorization", &auth), JSON_CT],
        br#"{"name":"Persisted label"}"#.to_vec(),
    )
    .await;
    assert_eq!(r.status, 200);
    sb.stop().await;

    let sb = gmail_sandbox::Sandbox::start(cfg()).await.unwrap();
    // The access token survived too.
    let r = http(
        &sb,
        "GET",
        &format!("gmail/v1/users/me/messages/{id}?format=minimal"),
        &[("authorization", &auth)],
        vec![],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["labelIds"], json!(["INBOX", "STARRED"]));
    let r = http(
        &sb,
        "GET",
        "gmail/v1/users/me/labels",
        &[("authorization", &auth)],
        vec![],
    )
    .await;
    assert!(r.text().contains("Persisted label"));
    sb.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vacation_responder_answers_once() {
    let sb = start().await;
    let bob = sb.issue_access_token(BOB, &[FULL, SETTINGS_BASIC]);
    let demo = sb.issue_access_token(DEMO, &[FULL]);
    let r = http(
        &sb,
        "PUT",
        "gmail/v1/users/me/settings/vacation",
        &[("authorization", &bearer(&bob)), JSON_CT],
        br#"{"enableAutoReply":true,"responseSubject":"Out of office","responseBodyPlainText":"Back Monday"}"#.to_vec(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let word = unique_word();
    for i in 0..2 {
        let raw = simple_message(DEMO, BOB, &format!("Ping {word} {i}"), "hello");
        let r = http(
            &sb,
            "POST",
            "gmail/v1/users/me/messages/send",
            &[("authorization", &bearer(&demo)), JSON_CT],
            json!({"raw": b64url(&raw)}).to_string().into_bytes(),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let r = http(
        &sb,
        "GET",
        "gmail/v1/users/me/messages?q=%22Out%20of%20office%22&labelIds=INBOX",
        &[("authorization", &bearer(&demo))],
        vec![],
    )
    .await;
    assert_eq!(r.json()["resultSizeEstimate"], 1, "{}", r.text());
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_style_batch() {
    let sb = start().await;
    let t = sb.issue_access_token(DEMO, &[FULL]);
    let auth = bearer(&t);
    // google-api-python-client: quoted boundary, MIME-Version per part, LF line endings,
    // auth inside each part, Content-ID "<uuid + n>", no body on GETs.
    let mut body = String::new();
    for n in 1..=3 {
        body.push_str(&format!(
            "--===============7330845974216740156==\nContent-Type: application/http\nMIME-Version: 1.0\n\
             Content-Transfer-Encoding: binary\nContent-ID: <8a1b0c1e-uuid + {n}>\n\n\
             GET /gmail/v1/users/me/labels?alt=json HTTP/1.1\nContent-Type: application/json\nMIME-Version: 1.0\n\
             accept: application/json\nhost: gmail.googleapis.com\nauthorization: {auth}\n\n\n"
        ));
    }
    body.push_str("--===============7330845974216740156==--");
    let r = http(
        &sb,
        "POST",
        "batch",
        &[(
            "content-type",
            "multipart/mixed; boundary=\"===============7330845974216740156==\"",
        )],
        body.into_bytes(),
    )
    .await;
    assert_eq!(r.status, 200);
    let text = r.text();
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 3, "{text}");
    assert!(text.contains("Content-ID: <response-8a1b0c1e-uuid + 3>"));
    assert!(text.contains("\"labels\""));
    sb.stop().await;
}
