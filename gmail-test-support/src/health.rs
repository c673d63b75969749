//! The contract both servers keep on `/health` and on unknown paths; each server's suite runs
//! these against its own app.

/// `/health` answers 200 with the service name, version, uptime and backend, and a request id.
pub async fn reports_status_version_and_uptime(base: &str, service: &str) {
    let resp = reqwest::get(format!("{base}/health")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("x-request-id"));
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["service"], service);
    // The workspace shares one version.
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(body["uptime_secs"].is_u64());
    assert_eq!(body["gmail_backend"], "sandbox");
}

/// A caller's `X-Request-Id` comes back unchanged.
pub async fn echoes_the_callers_request_id(base: &str) {
    let resp = reqwest::Client::new()
        .get(format!("{base}/health"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "abc-123");
}

/// An unknown path is a 404 problem+json that names the path.
pub async fn unknown_paths_get_problem_json(base: &str) {
    let resp = reqwest::get(format!("{base}/no/such/thing")).await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], 404);
    assert!(body["detail"].as_str().unwrap().contains("/no/such/thing"));
}
