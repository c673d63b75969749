//! The app boots on port 0 and answers /health; unknown paths get problem+json.

use gmail_api_server::Application;
use gmail_test_support::health;

async fn spawn_app() -> String {
    let settings = gmail_test_support::settings("http://127.0.0.1:9/");
    let app = Application::build(settings).await.expect("app builds");
    let port = app.port();
    tokio::spawn(app.run_until_stopped());
    format!("http://127.0.0.1:{port}")
}

#[tokio::test]
async fn health_reports_status_version_and_uptime() {
    health::reports_status_version_and_uptime(&spawn_app().await, "gmail-api-server").await;
}

#[tokio::test]
async fn a_callers_request_id_is_echoed() {
    health::echoes_the_callers_request_id(&spawn_app().await).await;
}

#[tokio::test]
async fn unknown_paths_get_problem_json() {
    health::unknown_paths_get_problem_json(&spawn_app().await).await;
}
