//! Quota, fault injection and request statistics: the knobs tests turn to make the sandbox
//! misbehave like Gmail does.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::common;

use common::*;
use gmail_sandbox::{FaultConfig, QuotaConfig};
use serde_json::json;

const SEND: &str = "users.messages.send";
const PROFILE: &str = "gmail/v1/users/me/profile";
const LIST: &str = "gmail/v1/users/me/messages";

fn only(methods: &[&str]) -> Vec<String> {
    methods.iter().map(|m| m.to_string()).collect()
}

async fn send_json(api: &Api<'_>, subject: &str) -> HttpResponse {
    api.send_message(&simple_message(DEMO, BOB, subject, "body"))
        .await
}

async fn count_matching(api: &Api<'_>, word: &str) -> u64 {
    let r = api.get_ok(&format!("{LIST}?q={word}")).await;
    r["resultSizeEstimate"].as_u64().unwrap()
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

async fn batch(api: &Api<'_>, path: &str, body: Vec<u8>) -> HttpResponse {
    let ct = ("content-type", "multipart/mixed; boundary=B");
    api.call("POST", path, &[ct], body).await
}

/// Sets the faults through the admin endpoint; its answer.
async fn faults(sb: &gmail_sandbox::RunningSandbox, body: &str) -> serde_json::Value {
    post_json(sb, "__sandbox/faults", body).await.ok_json()
}

/// The output of `f` and how long it took.
async fn timed<T>(f: impl Future<Output = T>) -> (T, Duration) {
    let t0 = Instant::now();
    let out = f.await;
    (out, t0.elapsed())
}

/// Asserts a GET answers `status`, sooner than `limit`.
async fn answers_within(api: &Api<'_>, path: &str, status: u16, limit: Duration) {
    let (r, took) = timed(api.get(path)).await;
    assert_eq!(r.status, status, "{path}: {}", r.text());
    assert!(took < limit, "{path}: {took:?}");
}

/// The statuses of concurrent profile GETs, started `gap` apart.
async fn concurrent_profiles(api: &Api<'_>, n: usize, gap: Duration) -> Vec<HttpResponse> {
    let url = format!("{}{PROFILE}", api.sb.base_url());
    let mut tasks = Vec::new();
    for _ in 0..n {
        let (url, auth) = (url.clone(), api.auth.clone());
        tasks.push(tokio::spawn(async move {
            http_url("GET", &url, &[("authorization", &auth)], vec![]).await
        }));
        if !gap.is_zero() && tasks.len() < n {
            tokio::time::sleep(gap).await;
        }
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_faults_and_stats() {
    let sb = start().await;
    let api = Api::full(&sb, DEMO);
    http(&sb, "POST", "__sandbox/stats/reset", &[], vec![]).await;

    // Quota: 12 units of burst, messages.list costs 5 → the third call is refused.
    sb.set_quota(QuotaConfig {
        enabled: true,
        units_per_second: 0.001,
        burst_units: 12.0,
        ..Default::default()
    });
    assert_eq!(api.get(LIST).await.status, 200);
    assert_eq!(api.get(LIST).await.status, 200);
    let r = api.get(LIST).await;
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
    assert_eq!(api.get(PROFILE).await.status, 200);
    let r = api.get(PROFILE).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json()["error"]["errors"][0]["reason"],
        "rateLimitExceeded"
    );
    // Quota can be switched off at runtime through the admin endpoint.
    let r = post_json(&sb, "__sandbox/quota", r#"{"enabled":false}"#).await;
    assert_eq!(r.status, 200);
    assert_eq!(api.get(LIST).await.status, 200);

    // Faults through the admin endpoint.
    faults(&sb, r#"{"error_rate":1.0}"#).await;
    let r = api.get(PROFILE).await;
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["error"]["errors"][0]["reason"], "backendError");
    sb.set_faults(FaultConfig {
        rate_limit_rate: 1.0,
        ..Default::default()
    });
    let r = api.get(PROFILE).await;
    assert_eq!(r.status, 429);
    assert_eq!(
        r.json()["error"]["message"],
        "Too many concurrent requests for user"
    );
    sb.set_faults(FaultConfig {
        latency_ms: 150,
        ..Default::default()
    });
    let (r, took) = timed(api.get(PROFILE)).await;
    assert_eq!(r.status, 200);
    assert!(took.as_millis() >= 150);
    let f = get(&sb, "__sandbox/faults").await.json();
    assert_eq!(f["latency_ms"], 150);
    // Concurrency cap: with latency, 6 parallel requests against a cap of 2.
    sb.set_faults(FaultConfig {
        latency_ms: 300,
        max_concurrent_per_user: 2,
        ..Default::default()
    });
    let answers = concurrent_profiles(&api, 6, Duration::ZERO).await;
    let codes: Vec<u16> = answers.iter().map(|r| r.status).collect();
    assert_eq!(codes.iter().filter(|c| **c == 200).count(), 2, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 429).count(), 4, "{codes:?}");
    sb.set_faults(FaultConfig::default());

    let stats = get(&sb, "__sandbox/stats").await.json();
    assert_eq!(stats["requests"]["users.messages.list"], 4);
    assert!(
        stats["requests"]["users.getProfile"].as_u64().unwrap() >= 7,
        "{stats}"
    );
    let health = get(&sb, "health").await;
    assert_eq!(health.status, 200);
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_target_listed_methods_and_batch_parts() {
    let sb = start().await;
    let api = Api::full(&sb, DEMO);
    let f = faults(
        &sb,
        r#"{"error_rate":1.0,"methods":["users.messages.send"]}"#,
    )
    .await;
    assert_eq!(f["methods"], json!([SEND]));
    assert_eq!(f["batch_disabled"], false);
    assert_eq!(f["delay_after_ms"], 0);
    assert_eq!(f["retry_after_secs"], json!(null));

    for path in [PROFILE, LIST] {
        api.get(path).await.expect(200);
    }
    let word = unique_word();
    let r = send_json(&api, &word).await.expect(500);
    assert_eq!(r.json()["error"]["errors"][0]["reason"], "backendError");
    // The upload endpoint runs as the same method.
    let upload = "upload/gmail/v1/users/me/messages/send?uploadType=media";
    let rfc822 = ("content-type", "message/rfc822");
    let raw = simple_message(DEMO, BOB, &word, "x");
    api.call("POST", upload, &[rfc822], raw).await.expect(500);

    // Batch parts count by their own method.
    let raw = json!({"raw": b64url(&simple_message(DEMO, BOB, &word, "x"))}).to_string();
    let body = batch_body(&[
        ("GET", "/gmail/v1/users/me/profile", ""),
        ("POST", "/gmail/v1/users/me/messages/send", &raw),
    ]);
    let r = batch(&api, "batch/gmail/v1", body).await;
    assert_eq!(r.status, 200);
    let text = r.text();
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 1, "{text}");
    assert_eq!(
        text.matches("HTTP/1.1 500 Internal Server Error").count(),
        1,
        "{text}"
    );
    assert_eq!(count_matching(&api, &word).await, 0);

    // Unlisted methods are untouched; listing a method that is not called changes nothing.
    sb.set_faults(FaultConfig {
        error_rate: 1.0,
        methods: only(&["users.drafts.send"]),
        ..Default::default()
    });
    assert_eq!(send_json(&api, &word).await.status, 200);
    assert_eq!(count_matching(&api, &word).await, 1);
    sb.set_faults(FaultConfig::default());
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_targets_listed_methods() {
    let sb = start().await;
    let api = Api::full(&sb, DEMO);
    let list = api.get(&format!("{LIST}?maxResults=1")).await;
    let id = id_of(&list.json()["messages"][0]);
    let get_path = format!("gmail/v1/users/me/messages/{id}?format=minimal");
    sb.set_faults(FaultConfig {
        latency_ms: 800,
        methods: only(&["users.messages.get"]),
        ..Default::default()
    });
    let delay = Duration::from_millis(800);
    answers_within(&api, PROFILE, 200, delay).await;
    let (r, took) = timed(api.get(&get_path)).await;
    assert_eq!(r.status, 200);
    assert!(took >= delay);

    // A batch waits when one of its parts is a listed method.
    let inner = format!("/{get_path}");
    let profile_only = batch_body(&[("GET", "/gmail/v1/users/me/profile", "")]);
    let (r, took) = timed(batch(&api, "batch", profile_only)).await;
    assert_eq!(r.status, 200);
    assert!(took < delay, "{took:?}");
    let body = batch_body(&[
        ("GET", "/gmail/v1/users/me/profile", ""),
        ("GET", &inner, ""),
    ]);
    let (r, took) = timed(batch(&api, "batch", body)).await;
    assert_eq!(
        r.text().matches("HTTP/1.1 200 OK").count(),
        2,
        "{}",
        r.text()
    );
    assert!(took >= delay);
    sb.set_faults(FaultConfig::default());
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_can_be_disabled() {
    let sb = start().await;
    let api = Api::full(&sb, DEMO);
    let body = batch_body(&[("GET", "/gmail/v1/users/me/profile", "")]);
    faults(&sb, r#"{"batch_disabled":true}"#).await;
    for path in ["batch", "batch/gmail/v1"] {
        let r = batch(&api, path, body.clone()).await;
        assert_eq!(r.status, 404, "{path}");
        assert!(r.headers["content-type"].starts_with("application/json"));
        let e = r.json();
        assert_eq!(e["error"]["code"], 404);
        assert_eq!(e["error"]["status"], "NOT_FOUND");
        assert_eq!(e["error"]["errors"][0]["reason"], "notFound");
    }
    // The rest of the API is unaffected, and batch comes back when switched off.
    assert_eq!(api.get(PROFILE).await.status, 200);
    sb.set_faults(FaultConfig::default());
    let r = batch(&api, "batch/gmail/v1", body).await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("HTTP/1.1 200 OK"));
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delay_after_holds_the_answer_once_the_send_is_stored() {
    let dir = temp_dir();
    let path = dir.join("sb.db");
    let sb = start_with(file_config(path.clone())).await;
    let api = Api::full(&sb, DEMO);
    sb.set_faults(FaultConfig {
        delay_after_ms: 600,
        methods: only(&[SEND]),
        ..Default::default()
    });
    // Other methods answer at once; a send answers only after the delay.
    answers_within(&api, PROFILE, 200, Duration::from_millis(600)).await;
    let (r, took) = timed(send_json(&api, &unique_word())).await;
    r.expect(200);
    assert!(took >= Duration::from_millis(600));

    // A client killed while the answer is held: the send already happened, and is on disk.
    sb.set_faults(FaultConfig {
        delay_after_ms: 5_000,
        methods: only(&[SEND]),
        ..Default::default()
    });
    let word = unique_word();
    let killed = tokio::time::timeout(Duration::from_millis(400), send_json(&api, &word)).await;
    assert!(killed.is_err(), "the answer came before the delay");
    assert_eq!(count_matching(&api, &word).await, 1);
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
    let api = Api::full(&sb, DEMO);
    // Without the knob, no Retry-After (Gmail sends none).
    sb.set_faults(FaultConfig {
        rate_limit_rate: 1.0,
        ..Default::default()
    });
    let r = api.get(PROFILE).await;
    assert_eq!(r.status, 429);
    assert!(!r.headers.contains_key("retry-after"));

    let knobs = r#"{"rate_limit_rate":1.0,"retry_after_secs":7,"methods":["users.messages.send"]}"#;
    assert_eq!(faults(&sb, knobs).await["retry_after_secs"], 7);
    assert_eq!(api.get(PROFILE).await.status, 200);
    let r = send_json(&api, &unique_word()).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.headers["retry-after"], "7");
    assert_eq!(
        r.json()["error"]["message"],
        "Too many concurrent requests for user"
    );
    // Inside a batch, the part's answer carries it.
    let raw = json!({"raw": b64url(&simple_message(DEMO, BOB, "x", "x"))}).to_string();
    let body = batch_body(&[("POST", "/gmail/v1/users/me/messages/send", &raw)]);
    let text = batch(&api, "batch", body).await.text();
    assert!(text.contains("HTTP/1.1 429 Too Many Requests"), "{text}");
    assert!(text.contains("Retry-After: 7"), "{text}");

    // The concurrency cap's 429 carries it too.
    sb.set_faults(FaultConfig {
        latency_ms: 400,
        max_concurrent_per_user: 1,
        retry_after_secs: Some(3),
        ..Default::default()
    });
    let answers = concurrent_profiles(&api, 2, Duration::from_millis(150)).await;
    assert_eq!(answers[1].status, 429);
    assert_eq!(answers[1].headers["retry-after"], "3");
    assert_eq!(answers[0].status, 200);
    sb.set_faults(FaultConfig::default());
    sb.stop().await;
}
