//! The app boots on port 0 and answers /health; unknown paths get problem+json.

use gmail_api_server::Application;

async fn spawn_app() -> String {
    let settings = gmail_shared::testing::settings("http://127.0.0.1:9/");
    let app = Application::build(settings).await.expect("app builds");
    let port = app.port();
    tokio::spawn(app.run_until_stopped());
    format!("http://127.0.0.1:{port}")
}

#[tokio::test]
async fn health_reports_status_version_and_uptime() {
    let base = spawn_app().await;
    let resp = reqwest::get(format!("{base}/health")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("x-request-id"));
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["service"], "gmail-api-server");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(body["uptime_secs"].is_u64());
    assert_eq!(body["gmail_backend"], "sandbox");
}

#[tokio::test]
async fn a_callers_request_id_is_echoed() {
    let base = spawn_app().await;
    let resp = reqwest::Client::new()
        .get(format!("{base}/health"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "abc-123");
}

#[tokio::test]
async fn unknown_paths_get_problem_json() {
    let base = spawn_app().await;
    let resp = reqwest::get(format!("{base}/no/such/thing")).await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], 404);
    assert!(body["detail"].as_str().unwrap().contains("/no/such/thing"));
}
