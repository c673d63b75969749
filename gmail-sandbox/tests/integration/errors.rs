//! Error envelopes and authentication, as raw HTTP sees them.

use crate::common;

use base64::Engine;
use common::*;
use serde_json::json;

const PROFILE: &str = "gmail/v1/users/me/profile";
const SEND: &str = "gmail/v1/users/me/messages/send";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_envelopes_and_auth() {
    let sb = start().await;
    // No token → 401 with WWW-Authenticate and Google's envelope.
    let r = get(&sb, PROFILE).await;
    assert_eq!(r.status, 401);
    assert!(r.headers["www-authenticate"].contains("invalid_token"));
    let b = r.json();
    assert_eq!(b["error"]["status"], "UNAUTHENTICATED");
    assert_eq!(b["error"]["errors"][0]["reason"], "authError");
    assert_eq!(b["error"]["errors"][0]["location"], "Authorization");

    // Expired token → 401.
    let t = sb.issue_access_token(DEMO, &[FULL]);
    let expiring = Api::new(&sb, &t);
    let ok = expiring.get(PROFILE).await;
    assert_eq!(ok.status, 200);
    assert!(ok.json()["historyId"].is_string());
    sb.expire_access_token(&t);
    assert_eq!(expiring.get(PROFILE).await.status, 401);

    let api = Api::full(&sb, DEMO);
    // Unknown message id → 404 notFound.
    let r = api.get("gmail/v1/users/me/messages/00000000000000aa").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["errors"][0]["reason"], "notFound");
    assert_eq!(r.json()["error"]["status"], "NOT_FOUND");
    // Bad JSON, a missing raw, standard base64: each a 400 with Gmail's message (whole, or
    // its start where the rest quotes the input).
    let missing_raw =
        "'raw' RFC822 payload message string or uploading message via /upload/* URL required";
    let base64 = "Invalid value at 'message.raw' (TYPE_BYTES), Base64 decoding failed for";
    let bad_sends = [
        ("{nope", "Invalid JSON payload received.", false),
        ("{}", missing_raw, true),
        (r#"{"raw":"ab+/cd=="}"#, base64, false),
    ];
    for (body, message, whole) in bad_sends {
        let r = api.post_json(SEND, body).await.expect(400);
        let got = r.json()["error"]["message"].as_str().unwrap().to_string();
        if whole {
            assert_eq!(got, message);
        } else {
            assert!(got.starts_with(message), "{got}");
        }
    }
    // JSON raw send with unpadded base64url works.
    let raw = simple_message(DEMO, "nobody@example.org", "json send", "hi");
    let unpadded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&raw);
    let r = api.post_json(SEND, json!({"raw": unpadded})).await;
    let sent = r.ok_json();
    assert_eq!(sent["labelIds"], json!(["SENT"]));
    // Over 1 MiB, the metadata path refuses and the upload path is the way (Gmail's limit).
    let big = simple_message(DEMO, "nobody@example.org", "big", &"x".repeat(1_100_000));
    let body = json!({"raw": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&big)});
    let r = api.post_json(SEND, body).await.expect(400);
    assert_eq!(
        r.json()["error"]["message"],
        "Request payload size exceeds the limit: 1048576 bytes."
    );
    // Deletes answer 204 with no body.
    let r = api
        .delete(&format!("gmail/v1/users/me/messages/{}", id_of(&sent)))
        .await;
    assert_eq!(r.status, 204);
    assert!(r.body.is_empty());
    // Ignored standard params, repeated labelIds, includeSpamTrash.
    let params = "alt=json&prettyPrint=false&fields=messages&labelIds=INBOX&labelIds=UNREAD";
    let r = api
        .get(&format!("gmail/v1/users/me/messages?{params}&maxResults=3"))
        .await;
    assert_eq!(r.status, 200);
    assert!(r.json()["messages"].as_array().unwrap().len() <= 3);
    // Partial responses.
    let r = api
        .get("gmail/v1/users/me/messages?maxResults=2&fields=messages(id),nextPageToken")
        .await;
    let v = r.json();
    assert!(v.get("resultSizeEstimate").is_none());
    assert!(v["messages"][0].get("threadId").is_none());
    assert!(v["messages"][0]["id"].is_string());
    assert!(v["nextPageToken"].is_string());
    // int64 as strings.
    let mid = id_of(&v["messages"][0]);
    let m = api
        .get(&format!("gmail/v1/users/me/messages/{mid}?format=minimal"))
        .await
        .json();
    assert!(
        m["historyId"].is_string()
            && m["internalDate"].is_string()
            && m["sizeEstimate"].is_number()
    );
    // Bad format / maxResults.
    for path in [
        format!("gmail/v1/users/me/messages/{mid}?format=bogus"),
        "gmail/v1/users/me/messages?maxResults=abc".to_string(),
    ] {
        assert_eq!(api.get(&path).await.status, 400, "{path}");
    }
    // Other user's mailbox → 403.
    let r = api.get("gmail/v1/users/bob%40example.com/profile").await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"]["status"], "PERMISSION_DENIED");
    // Unknown path → 404 envelope.
    let r = api.get("gmail/v1/users/me/nothing").await;
    assert_eq!(r.status, 404);
    sb.stop().await;
}
