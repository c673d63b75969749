//! Quota, fault injection and request statistics: the knobs tests turn to make the sandbox
//! misbehave like Gmail does.

use std::time::{Duration, Instant};

use crate::common;

use common::*;
use gmail_sandbox::{FaultConfig, QuotaConfig};
use serde_json::json;

const SEND: &str = "users.messages.send";

fn only(methods: &[&str]) -> Vec<String> {
    methods.iter().map(|m| m.to_string()).collect()
}

async fn send_json(sb: &gmail_sandbox::RunningSandbox, auth: &str, subject: &str) -> HttpResponse {
    let raw = simple_message(DEMO, BOB, subject, "body");
    http(
        sb,
        "POST",
        "gmail/v1/users/me/messages/send",
        &[("authorization", auth), JSON_CT],
        json!({"raw": b64url(&raw)}).to_string().into_bytes(),
    )
    .await
}

async fn count_matching(sb: &gmail_sandbox::RunningSandbox, auth: &str, word: &str) -> u64 {
    let r = http(
        sb,
        "GET",
        &format!("gmail/v1/users/me/messages?q={word}"),
        &[("authorization", auth)],
        vec![],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["resultSizeEstimate"].as_u64().unwrap()
}

/// A multipart/mixed batch of `(method, path, json body)` parts.
fn batch_body(parts: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut body = String::new();
    for (i, (method, path, json)) in parts.iter().enumerate() {
        body.push_str(&format!(
            "--B\r\nContent-Type: application/http\r\nContent-ID: <p{i}>\r\n\r\n{method} {path} HTTP/1.1\r\n"
        ));
        if json.is_empty() {
            body.push_str("\r\n\r\n");
        } else {
            body.push_str(&format!("Content-Type: application/json\r\n\r\n{json}\r\n"));
        }
    }
    body.push_str("--B--\r\n");
    body.into_bytes()
}

async fn batch(
    sb: &gmail_sandbox::RunningSandbox,
    path: &str,
    auth: &str,
    body: Vec<u8>,
) -> HttpResponse {
    http(
        sb,
        "POST",
        path,
        &[
            ("authorization", auth),
            ("content-type", "multipart/mixed; boundary=B"),
        ],
        body,
    )
    .await
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
async fn errors_target_listed_methods_and_batch_parts() {
    let sb = start().await;
    let auth = bearer(&sb.issue_access_token(DEMO, &[FULL]));
    let h = [("authorization", auth.as_str())];
    let r = http(
        &sb,
        "POST",
        "__sandbox/faults",
        &[JSON_CT],
        br#"{"error_rate":1.0,"methods":["users.messages.send"]}"#.to_vec(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let f = r.json();
    assert_eq!(f["methods"], json!([SEND]));
    assert_eq!(f["batch_disabled"], false);
    assert_eq!(f["delay_after_ms"], 0);
    assert_eq!(f["retry_after_secs"], json!(null));

    for path in ["gmail/v1/users/me/profile", "gmail/v1/users/me/messages"] {
        let r = http(&sb, "GET", path, &h, vec![]).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
    }
    let word = unique_word();
    let r = send_json(&sb, &auth, &word).await;
    assert_eq!(r.status, 500, "{}", r.text());
    assert_eq!(r.json()["error"]["errors"][0]["reason"], "backendError");
    // The upload endpoint runs as the same method.
    let r = http(
        &sb,
        "POST",
        "upload/gmail/v1/users/me/messages/send?uploadType=media",
        &[("authorization", &auth), ("content-type", "message/rfc822")],
        simple_message(DEMO, BOB, &word, "x"),
    )
    .await;
    assert_eq!(r.status, 500, "{}", r.text());

    // Batch parts count by their own method.
    let raw = json!({"raw": b64url(&simple_message(DEMO, BOB, &word, "x"))}).to_string();
    let body = batch_body(&[
        ("GET", "/gmail/v1/users/me/profile", ""),
        ("POST", "/gmail/v1/users/me/messages/send", &raw),
    ]);
    let r = batch(&sb, "batch/gmail/v1", &auth, body).await;
    assert_eq!(r.status, 200);
    let text = r.text();
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 1, "{text}");
    assert_eq!(
        text.matches("HTTP/1.1 500 Internal Server Error").count(),
        1,
        "{text}"
    );
    assert_eq!(count_matching(&sb, &auth, &word).await, 0);

    // Unlisted methods are untouched; listing a method that is not called changes nothing.
    sb.set_faults(FaultConfig {
        error_rate: 1.0,
        methods: only(&["users.drafts.send"]),
        ..Default::default()
    });
    assert_eq!(send_json(&sb, &auth, &word).await.status, 200);
    assert_eq!(count_matching(&sb, &auth, &word).await, 1);
    sb.set_faults(FaultConfig::default());
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_targets_listed_methods() {
    let sb = start().await;
    let auth = bearer(&sb.issue_access_token(DEMO, &[FULL]));
    let h = [("authorization", auth.as_str())];
    let list = http(
        &sb,
        "GET",
        "gmail/v1/users/me/messages?maxResults=1",
        &h,
        vec![],
    )
    .await;
    let id = list.json()["messages"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let get_path = format!("gmail/v1/users/me/messages/{id}?format=minimal");
    sb.set_faults(FaultConfig {
        latency_ms: 800,
        methods: only(&["users.messages.get"]),
        ..Default::default()
    });
    let t0 = Instant::now();
    assert_eq!(
        http(&sb, "GET", "gmail/v1/users/me/profile", &h, vec![])
            .await
            .status,
        200
    );
    assert!(
        t0.elapsed() < Duration::from_millis(800),
        "{:?}",
        t0.elapsed()
    );
    let t0 = Instant::now();
    assert_eq!(http(&sb, "GET", &get_path, &h, vec![]).await.status, 200);
    assert!(t0.elapsed() >= Duration::from_millis(800));

    // A batch waits when one of its parts is a listed method.
    let inner = format!("/{get_path}");
    let t0 = Instant::now();
    let r = batch(
        &sb,
        "batch",
        &auth,
        batch_body(&[("GET", "/gmail/v1/users/me/profile", "")]),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(
        t0.elapsed() < Duration::from_millis(800),
        "{:?}",
        t0.elapsed()
    );
    let t0 = Instant::now();
    let body = batch_body(&[
        ("GET", "/gmail/v1/users/me/profile", ""),
        ("GET", &inner, ""),
    ]);
    let r = batch(&sb, "batch", &auth, body).await;
    assert_eq!(
        r.text().matches("HTTP/1.1 200 OK").count(),
        2,
        "{}",
        r.text()
    );
    assert!(t0.elapsed() >= Duration::from_millis(800));
    sb.set_faults(FaultConfig::default());
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_can_be_disabled() {
    let sb = start().await;
    let auth = bearer(&sb.issue_access_token(DEMO, &[FULL]));
    let body = batch_body(&[("GET", "/gmail/v1/users/me/profile", "")]);
    let r = http(
        &sb,
        "POST",
        "__sandbox/faults",
        &[JSON_CT],
        br#"{"batch_disabled":true}"#.to_vec(),
    )
    .await;
    assert_eq!(r.status, 200);
    for path in ["batch", "batch/gmail/v1"] {
        let r = batch(&sb, path, &auth, body.clone()).await;
        assert_eq!(r.status, 404, "{path}");
        assert!(r.headers["content-type"].starts_with("application/json"));
        let e = r.json();
        assert_eq!(e["error"]["code"], 404);
        assert_eq!(e["error"]["status"], "NOT_FOUND");
        assert_eq!(e["error"]["errors"][0]["reason"], "notFound");
    }
    // The rest of the API is unaffected, and batch comes back when switched off.
    let r = http(
        &sb,
        "GET",
        "gmail/v1/users/me/profile",
        &[("authorization", &auth)],
        vec![],
    )
    .await;
    assert_eq!(r.status, 200);
    sb.set_faults(FaultConfig::default());
    let r = batch(&sb, "batch/gmail/v1", &auth, body).await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("HTTP/1.1 200 OK"));
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delay_after_holds_the_answer_once_the_send_is_stored() {
    let dir = std::env::temp_dir().join(format!("gmail-sandbox-test-{}", uuid::Uuid::new_v4()));
    let path = dir.join("sb.db");
    let sb = gmail_sandbox::Sandbox::start(gmail_sandbox::SandboxConfig {
        database: gmail_sandbox::DatabaseLocation::File(path.clone()),
        ..gmail_sandbox::SandboxConfig::for_tests()
    })
    .await
    .unwrap();
    let auth = bearer(&sb.issue_access_token(DEMO, &[FULL]));
    let h = [("authorization", auth.as_str())];
    sb.set_faults(FaultConfig {
        delay_after_ms: 600,
        methods: only(&[SEND]),
        ..Default::default()
    });
    // Other methods answer at once; a send answers only after the delay.
    let t0 = Instant::now();
    assert_eq!(
        http(&sb, "GET", "gmail/v1/users/me/profile", &h, vec![])
            .await
            .status,
        200
    );
    assert!(
        t0.elapsed() < Duration::from_millis(600),
        "{:?}",
        t0.elapsed()
    );
    let t0 = Instant::now();
    let r = send_json(&sb, &auth, &unique_word()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(t0.elapsed() >= Duration::from_millis(600));

    // A client killed while the answer is held: the send already happened, and is on disk.
    sb.set_faults(FaultConfig {
        delay_after_ms: 5_000,
        methods: only(&[SEND]),
        ..Default::default()
    });
    let word = unique_word();
    let killed =
        tokio::time::timeout(Duration::from_millis(400), send_json(&sb, &auth, &word)).await;
    assert!(killed.is_err(), "the answer came before the delay");
    assert_eq!(count_matching(&sb, &auth, &word).await, 1);
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .read_only(true);
    let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
    let on_disk: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM messages WHERE mailbox = ? AND instr(CAST(raw AS TEXT), ?) > 0",
    )
    .bind(DEMO)
    .bind(&word)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(on_disk, 1);
    pool.close().await;
    sb.set_faults(FaultConfig::default());
    sb.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_429s_carry_retry_after_when_asked() {
    let sb = start().await;
    let auth = bearer(&sb.issue_access_token(DEMO, &[FULL]));
    let h = [("authorization", auth.as_str())];
    // Without the knob, no Retry-After (Gmail sends none).
    sb.set_faults(FaultConfig {
        rate_limit_rate: 1.0,
        ..Default::default()
    });
    let r = http(&sb, "GET", "gmail/v1/users/me/profile", &h, vec![]).await;
    assert_eq!(r.status, 429);
    assert!(!r.headers.contains_key("retry-after"));

    let r = http(
        &sb,
        "POST",
        "__sandbox/faults",
        &[JSON_CT],
        br#"{"rate_limit_rate":1.0,"retry_after_secs":7,"methods":["users.messages.send"]}"#
            .to_vec(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["retry_after_secs"], 7);
    assert_eq!(
        http(&sb, "GET", "gmail/v1/users/me/profile", &h, vec![])
            .await
            .status,
        200
    );
    let r = send_json(&sb, &auth, &unique_word()).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.headers["retry-after"], "7");
    assert_eq!(
        r.json()["error"]["message"],
        "Too many concurrent requests for user"
    );
    // Inside a batch, the part's answer carries it.
    let raw = json!({"raw": b64url(&simple_message(DEMO, BOB, "x", "x"))}).to_string();
    let r = batch(
        &sb,
        "batch",
        &auth,
        batch_body(&[("POST", "/gmail/v1/users/me/messages/send", &raw)]),
    )
    .await;
    let text = r.text();
    assert!(text.contains("HTTP/1.1 429 Too Many Requests"), "{text}");
    assert!(text.contains("Retry-After: 7"), "{text}");

    // The concurrency cap's 429 carries it too.
    sb.set_faults(FaultConfig {
        latency_ms: 400,
        max_concurrent_per_user: 1,
        retry_after_secs: Some(3),
        ..Default::default()
    });
    let url = format!("{}gmail/v1/users/me/profile", sb.base_url());
    let first = {
        let (url, auth) = (url.clone(), auth.clone());
        tokio::spawn(
            async move { http_url("GET", &url, &[("authorization", &auth)], vec![]).await },
        )
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    let r = http_url("GET", &url, &[("authorization", &auth)], vec![]).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.headers["retry-after"], "3");
    assert_eq!(first.await.unwrap().status, 200);
    sb.set_faults(FaultConfig::default());
    sb.stop().await;
}
