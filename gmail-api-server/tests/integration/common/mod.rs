//! The test harness: an in-process sandbox and the REST server on port 0 in front of it, in
//! one line (`TestApp::spawn().await`), plus readers that check the mailbox through the
//! sandbox's own Gmail API.

#![allow(dead_code)]

pub mod multi_user;
pub mod oauth;

use std::sync::Arc;

use gmail_api_server::Application;
use gmail_sandbox::{RunningSandbox, Sandbox, SandboxConfig};
use gmail_shared::config::Settings;
use gmail_test_support::SandboxMailbox;
use serde_json::Value;

pub struct TestApp {
    pub sandbox: Arc<RunningSandbox>,
    /// `http://127.0.0.1:PORT` of the REST server.
    pub base: String,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
    /// The mailbox as the sandbox sees it (ids, labels_of, raw, ...; see the Deref below).
    pub mailbox: SandboxMailbox,
}

/// The sandbox's readers (`app.ids(..)`, `app.raw(..)`) straight from the app; the app's own
/// `get`/`url` (the REST server) come first.
impl std::ops::Deref for TestApp {
    type Target = SandboxMailbox;
    fn deref(&self) -> &SandboxMailbox {
        &self.mailbox
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    /// The app with settings changed by `change` before it starts.
    pub async fn spawn_with(change: impl FnOnce(&mut Settings)) -> TestApp {
        let sandbox = Sandbox::start(SandboxConfig::for_tests()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut s = gmail_test_support::settings_in(&sandbox.base_url(), dir.path());
        change(&mut s);
        let app = Application::build(s).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        let token = sandbox.issue_access_token("demo@example.com", &["https://mail.google.com/"]);
        TestApp {
            mailbox: SandboxMailbox::new(&sandbox.base_url(), token),
            sandbox: Arc::new(sandbox),
            base,
            http: reqwest::Client::new(),
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET on the REST server: status and JSON body (Null when not JSON).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        status_json(self.http.get(self.url(path))).await
    }

    /// GET that must answer 200: the JSON body.
    pub async fn get_ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// GET on the REST server: the whole response (headers, bytes), whatever its status.
    pub async fn get_response(&self, path: &str) -> reqwest::Response {
        fetch(self.http.get(self.url(path))).await
    }

    /// A tool of the registry over REST (`POST /api/v1/tools/{name}`): status and JSON body.
    pub async fn tool(&self, name: &str, args: Value) -> (u16, Value) {
        self.post(&format!("/api/v1/tools/{name}"), args).await
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut rb = self.http.request(method, self.url(path));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        status_json(rb).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    /// POST that must answer `expected`: the JSON body.
    pub async fn post_expect(&self, path: &str, body: Value, expected: u16) -> Value {
        let (status, body) = self.post(path, body).await;
        assert_eq!(status, expected, "POST {path}: {body}");
        body
    }

    pub async fn delete(&self, path: &str) -> u16 {
        self.send(reqwest::Method::DELETE, path, None).await.0
    }

    /// Upstream Gmail requests the sandbox has received so far.
    pub fn upstream_requests(&self) -> u64 {
        self.sandbox.stats()["httpRequests"].as_u64().unwrap()
    }

    /// Calls of one Gmail method (`users.messages.send`, ...) the sandbox has received.
    pub fn gmail_calls(&self, method: &str) -> u64 {
        self.sandbox.stats()["requests"][method]
            .as_u64()
            .unwrap_or(0)
    }

    /// A message with an attachment: (message id, attachment id, filename).
    pub async fn with_attachment(&self) -> (String, String, String) {
        for id in self.ids("has:attachment", 10).await {
            let (_, m) = self.get(&format!("/api/v1/messages/{id}")).await;
            if let Some(a) = m["attachments"].as_array().and_then(|a| a.first()) {
                return (
                    id,
                    a["attachmentId"].as_str().unwrap().to_string(),
                    a["filename"].as_str().unwrap().to_string(),
                );
            }
        }
        panic!("the demo mailbox has no message with an attachment");
    }
}

pub use gmail_test_support::{assert_detail_has, fetch, retry_after, status_json, strings};

/// Asserts an RFC 7807 answer with this status, and returns it.
pub fn assert_problem(status: u16, body: &Value, expected: u16) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["status"], expected, "{body}");
    for key in ["type", "title", "detail"] {
        assert!(body[key].is_string(), "{key} missing in {body}");
    }
}

/// Asserts a 400 problem that names the argument at fault in `field`.
pub fn assert_bad_field(status: u16, body: &Value, field: &str) {
    assert_problem(status, body, 400);
    assert_eq!(body["field"], field, "{body}");
}
