//! The app boots on port 0 and answers /health; unknown paths get problem+json.

gmail_test_support::health_suite!(gmail_mcp_server::Application, "gmail-mcp-server");
