//! Request rates: a caller over limits.caller_per_minute gets 429 problem+json with
//! Retry-After before anything runs; an address that keeps failing to authenticate gets 429
//! instead of 401, while a valid key from it still works.

use crate::common::multi_user::{get, new_caller, Caller, Deployment};
use crate::common::{assert_detail_has, assert_problem, retry_after, TestApp};

#[tokio::test]
async fn a_caller_over_its_rate_gets_429_with_retry_after() {
    let app = TestApp::spawn_with(|s| {
        s.limits.caller_per_minute = 60;
        s.limits.caller_burst = 3;
    })
    .await;
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/labels").await.0, 200);
    }
    let upstream = app.upstream_requests();
    let r = app.get_response("/api/v1/labels").await;
    assert_eq!(r.status(), 429);
    let wait = retry_after(&r);
    assert!((1..=60).contains(&wait), "{wait}");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_problem(429, &body, 429);
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .ends_with("/too-many-requests"),
        "{body}"
    );
    assert_detail_has(&body, "limits.caller_per_minute");
    assert_eq!(app.upstream_requests(), upstream, "refused before Gmail");
}

#[tokio::test]
async fn guessing_keys_meets_a_per_address_limit() {
    let db = gmail_test_support::database_urls("api-rate").remove(0);
    let d = Deployment::start_with(&db, |s| {
        s.limits.failed_auth_per_minute = 60;
        s.limits.failed_auth_burst = 2;
    })
    .await;
    let base = &d.base;
    let real = new_caller(&d.store, "alice").await;
    let wrong = Caller {
        key: "gms_guess".into(),
    };
    assert_eq!(get(base, "/api/v1/me", &wrong).await.0, 401);
    assert_eq!(get(base, "/api/v1/me", &wrong).await.0, 401);
    let (status, body) = get(base, "/api/v1/me", &wrong).await;
    assert_eq!(status, 429, "{body}");
    assert_detail_has(&body, "failed authentications");
    // A real key is not held back by the guesses.
    assert_eq!(get(base, "/api/v1/me", &real).await.0, 200);
}

/// 40 reads at once, in every format, against a sandbox that enforces Gmail's per-user quota
/// (50 units/s, bursts of 150): with the budget set a little under it, Google refuses nothing
/// (the calls wait their turn); without the budget the same burst is refused in part (and
/// retried). A format whose read skipped the budget would be refused with it set.
#[tokio::test]
async fn the_quota_budget_keeps_gmail_from_refusing_a_burst() {
    for (budget, refused) in [(3000, false), (0, true)] {
        let app = with_quota_budget(budget).await;
        let (_, list) = app.get("/api/v1/messages?maxResults=40").await;
        let ids: Vec<String> = list["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids.len(), 40);
        enforce_gmail_quota(&app);
        let app = &app;
        let formats = ["text", "full", "raw"];
        let reads = ids
            .iter()
            .zip(formats.iter().cycle())
            .map(|(id, format)| async move {
                let path = format!("/api/v1/messages/{id}?format={format}");
                app.get(&path).await
            });
        for (status, body) in futures::future::join_all(reads).await {
            assert_eq!(status, 200, "{body}");
        }
        let rejections = quota_rejections(app);
        assert_eq!(
            rejections > 0,
            refused,
            "budget {budget}: {rejections} refused"
        );
    }
}

/// Sending drafts is budgeted like every other call (drafts.send is posted by hand, outside
/// the google-gmail1 calls that charge themselves): three at once cost 300 units, twice the
/// sandbox's burst, and with the budget on Google refuses none of them.
#[tokio::test]
async fn sending_drafts_is_budgeted_too() {
    let app = with_quota_budget(3000).await;
    let mut drafts = Vec::new();
    for n in 0..3 {
        let d = app
            .post_expect(
                "/api/v1/drafts",
                serde_json::json!({"to": ["gina@example.com"], "subject": format!("d{n}"), "body": "x"}),
                201,
            )
            .await;
        drafts.push(d["id"].as_str().unwrap().to_string());
    }
    enforce_gmail_quota(&app);
    let app = &app;
    let sends = drafts.iter().map(|id| async move {
        let path = format!("/api/v1/drafts/{id}/send");
        app.post(&path, serde_json::json!(null)).await
    });
    for (status, body) in futures::future::join_all(sends).await {
        assert_eq!(status, 200, "{body}");
    }
    let rejections = quota_rejections(app);
    assert_eq!(rejections, 0, "{rejections} refused");
}

/// A thread costs Google 10 units where a message costs 5, in a batch as alone: three
/// listings of 8 threads at once (270 units) pass the sandbox's quota only when the budget
/// counts them at that price.
#[tokio::test]
async fn thread_listings_are_budgeted_at_what_threads_cost() {
    let app = with_quota_budget(3000).await;
    enforce_gmail_quota(&app);
    let app = &app;
    let lists = (0..3).map(|_| async move { app.get("/api/v1/threads?maxResults=8").await });
    for (status, body) in futures::future::join_all(lists).await {
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["threads"].as_array().map(Vec::len), Some(8), "{body}");
    }
    let rejections = quota_rejections(app);
    assert_eq!(rejections, 0, "{rejections} refused");
}

/// A server that budgets `per_minute` quota units per mailbox (0: none), bursts of 100.
async fn with_quota_budget(per_minute: u32) -> TestApp {
    TestApp::spawn_with(|s| {
        s.gmail.quota_units_per_minute = per_minute;
        s.gmail.quota_burst_units = 100;
    })
    .await
}

/// From now on the sandbox refuses, as Google does, more than 50 units/s (bursts of 150).
fn enforce_gmail_quota(app: &TestApp) {
    app.sandbox.set_quota(gmail_sandbox::QuotaConfig {
        enabled: true,
        units_per_second: 50.0,
        burst_units: 150.0,
        exceeded_status: 429,
    });
    app.sandbox.reset_stats();
}

fn quota_rejections(app: &TestApp) -> u64 {
    app.sandbox.stats()["quotaRejections"].as_u64().unwrap()
}

/// A budget of 100 units (1 a second after that), and a retry budget of 1 s to wait in.
fn small_quota_budget(s: &mut gmail_shared::config::Settings) {
    s.gmail.quota_units_per_minute = 60;
    s.gmail.quota_burst_units = 100;
    s.gmail.retry_max_wait_secs = 1;
}

/// A caller queued behind a spent budget is not held without end: past the retry budget it
/// hears 429, and what did not fit is not asked of Gmail.
#[tokio::test]
async fn a_spent_quota_budget_answers_429_instead_of_waiting_on() {
    let app = TestApp::spawn_with(small_quota_budget).await;
    // 5 units for the list and 5 for each of 10 messages: 55 of the burst of 100.
    let (status, body) = app.get("/api/v1/messages?maxResults=10").await;
    assert_eq!(status, 200, "{body}");
    let upstream = app.upstream_requests();
    let started = std::time::Instant::now();
    let r = app.get_response("/api/v1/messages?maxResults=10").await;
    assert_eq!(r.status(), 429);
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_problem(429, &body, 429);
    // The listing fit in the 45 units left; the 50 units of metadata did not, and were
    // neither asked of Gmail nor fetched one message at a time instead.
    assert_eq!(app.upstream_requests() - upstream, 1);
}

/// A draft send the quota budget refused is settled in the audit log as failed, not left
/// pending, where it would hold a place under the daily cap for a day.
#[tokio::test]
async fn a_draft_send_the_budget_refused_does_not_hold_a_place_under_the_cap() {
    let app = TestApp::spawn_with(|s| {
        small_quota_budget(s);
        s.send.max_per_day = 5;
    })
    .await;
    let draft = app
        .post_expect(
            "/api/v1/drafts",
            serde_json::json!({"to": ["gina@example.com"], "subject": "d", "body": "x"}),
            201,
        )
        .await;
    // drafts.send costs 100 units; creating the draft spent 10 of the burst of 100.
    let path = format!("/api/v1/drafts/{}/send", draft["id"].as_str().unwrap());
    let (status, body) = app.post(&path, serde_json::json!(null)).await;
    assert_eq!(status, 429, "{body}");
    let audit = app.get_ok("/api/v1/audit").await;
    let sends: Vec<&serde_json::Value> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "draft_send")
        .collect();
    assert_eq!(sends.len(), 1, "{audit}");
    assert_eq!(sends[0]["outcome"], "failed", "{audit}");
}
