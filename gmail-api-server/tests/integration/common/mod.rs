//! The test harness: an in-process sandbox and the REST server on port 0 in front of it, in
//! one line (`TestApp::spawn().await`), plus readers that check the mailbox through the
//! sandbox's own Gmail API.

#![allow(dead_code)]

use std::sync::Arc;

use gmail_api_server::Application;
use gmail_sandbox::{RunningSandbox, Sandbox, SandboxConfig};
use gmail_shared::config::Settings;
use serde_json::Value;

pub struct TestApp {
    pub sandbox: Arc<RunningSandbox>,
    /// `http://127.0.0.1:PORT` of the REST server.
    pub base: String,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
    token: String,
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
            sandbox: Arc::new(sandbox),
            base,
            http: reqwest::Client::new(),
            dir,
            token,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET on the REST server: status and JSON body (Null when not JSON).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.http.get(self.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
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
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
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

    // ---- the mailbox as the sandbox sees it ----

    pub fn gmail_url(&self, path: &str) -> String {
        format!("{}gmail/v1/users/me/{path}", self.sandbox.base_url())
    }

    pub async fn gmail(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(self.gmail_url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn ids(&self, q: &str, n: usize) -> Vec<String> {
        let q: String = url_encode(q);
        let (_, v) = self.gmail(&format!("messages?maxResults={n}&q={q}")).await;
        v["messages"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|m| m["id"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub async fn first_id(&self, q: &str) -> String {
        self.ids(q, 1).await.remove(0)
    }

    pub async fn labels_of(&self, id: &str) -> Vec<String> {
        let (_, v) = self.gmail(&format!("messages/{id}?format=minimal")).await;
        strings(&v["labelIds"])
    }

    pub async fn exists(&self, id: &str) -> bool {
        self.gmail(&format!("messages/{id}?format=minimal")).await.0 == 200
    }

    /// The raw RFC 822 text of a stored message.
    pub async fn raw(&self, id: &str) -> String {
        use base64::Engine;
        let (_, v) = self.gmail(&format!("messages/{id}?format=raw")).await;
        let bytes = base64::engine::general_purpose::URL_SAFE
            .decode(v["raw"].as_str().unwrap())
            .unwrap();
        String::from_utf8_lossy(&bytes).into_owned()
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

pub use gmail_test_support::{strings, url_encode};

/// Asserts an RFC 7807 answer with this status, and returns it.
pub fn assert_problem(status: u16, body: &Value, expected: u16) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["status"], expected, "{body}");
    for key in ["type", "title", "detail"] {
        assert!(body[key].is_string(), "{key} missing in {body}");
    }
}
