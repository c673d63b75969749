//! The contract both servers keep on `/health` and on unknown paths; each server's suite runs
//! these against its own app, through [`health_suite!`](crate::health_suite).

/// The health tests for one server's `Application` (both servers build, report their port and
/// run alike), named after `service`. Expands to a `spawn_app` and three `#[tokio::test]`s.
#[macro_export]
macro_rules! health_suite {
    ($application:ty, $service:literal) => {
        async fn spawn_app() -> String {
            let settings = $crate::settings("http://127.0.0.1:9/");
            let app = <$application>::build(settings).await.expect("app builds");
            let port = app.port();
            tokio::spawn(app.run_until_stopped());
            format!("http://127.0.0.1:{port}")
        }

        #[tokio::test]
        async fn health_reports_status_version_and_uptime() {
            $crate::health::reports_status_version_and_uptime(&spawn_app().await, $service).await;
        }

        #[tokio::test]
        async fn a_callers_request_id_is_echoed() {
            $crate::health::echoes_the_callers_request_id(&spawn_app().await).await;
        }

        #[tokio::test]
        async fn unknown_paths_get_problem_json() {
            $crate::health::unknown_paths_get_problem_json(&spawn_app().await).await;
        }
    };
}

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
