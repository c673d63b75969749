//! The app boots on port 0 and answers /health; unknown paths get problem+json.

gmail_test_support::health_suite!(gmail_api_server::Application, "gmail-api-server");
