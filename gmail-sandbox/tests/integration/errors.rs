//! Error envelopes and authentication, as raw HTTP sees them.

use crate::common;

use base64::Engine;
use common::*;
use serde_json::json;

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
