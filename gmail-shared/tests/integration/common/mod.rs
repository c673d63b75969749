//! The test harness: an in-process sandbox, single-user tool context on it, and helpers that
//! read the mailbox back through the sandbox's API to check what tools did.

#![allow(dead_code)]

use std::sync::Arc;

use gmail_sandbox::{RunningSandbox, Sandbox, SandboxConfig};
use gmail_shared::config::Settings;
use gmail_shared::gmail::GmailFactory;
use gmail_shared::ops::{Mailbox, SingleMailbox};
use gmail_shared::tools::{catalog, Registry, ToolContext, ToolEnv, ToolError, ToolOutput};
use serde_json::Value;

pub struct Harness {
    pub sandbox: Arc<RunningSandbox>,
    pub registry: Registry,
    pub ctx: ToolContext,
    pub dir: Arc<tempfile::TempDir>,
    http: reqwest::Client,
    token: String,
}

pub fn settings(sandbox_url: &str, dir: &std::path::Path) -> Settings {
    let mut s = gmail_test_support::settings_in(sandbox_url, dir);
    // Tests that make Gmail fail for good should not wait the default 20 s.
    s.gmail.retry_max_wait_secs = 2;
    // These suites exercise every tool.
    s.mcp.toolsets = vec!["all".into()];
    s
}

impl Harness {
    pub async fn start() -> Harness {
        let sandbox = Sandbox::start(SandboxConfig::for_tests()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let s = settings(&sandbox.base_url(), dir.path());
        let factory = GmailFactory::new(&s.gmail).unwrap();
        let ctx = ToolContext::single_user(&factory, &s).unwrap();
        let token = sandbox.issue_access_token("demo@example.com", &["https://mail.google.com/"]);
        Harness {
            sandbox: Arc::new(sandbox),
            registry: catalog::registry(),
            ctx,
            dir: Arc::new(dir),
            http: reqwest::Client::new(),
            token,
        }
    }

    /// The same mailbox through a connection holding only `scopes`.
    pub async fn with_scopes(h: &Harness, scopes: &[&str]) -> Harness {
        let s = settings(&h.sandbox.base_url(), h.dir.path());
        let factory = GmailFactory::new(&s.gmail).unwrap();
        let token = h.sandbox.issue_access_token("demo@example.com", scopes);
        let conn = factory.connection(
            Some("demo@example.com".into()),
            factory.oauth_client().unwrap(),
            gmail_shared::gmail::credentials::StoredTokens {
                access_token: Some(token.clone().into()),
                refresh_token: "unused".to_string().into(),
                scope: None,
                expiry_date: None,
            },
            None,
        );
        Harness {
            sandbox: h.sandbox.clone(),
            registry: h.registry.clone(),
            ctx: ToolContext::new(
                Arc::new(SingleMailbox(Mailbox::new(conn))),
                Arc::new(ToolEnv::from_settings(&s)),
            ),
            dir: h.dir.clone(),
            http: reqwest::Client::new(),
            token: h.token.clone(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}gmail/v1/users/me/{path}", self.sandbox.base_url())
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn ids(&self, q: &str, n: usize) -> Vec<String> {
        let (_, v) = self
            .get(&format!("messages?maxResults={n}&q={}", urlencode(q)))
            .await;
        v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect()
    }

    pub async fn first_id(&self, q: &str) -> String {
        self.ids(q, 1).await.remove(0)
    }

    pub async fn labels_of(&self, id: &str) -> Vec<String> {
        let (_, v) = self.get(&format!("messages/{id}?format=minimal")).await;
        v["labelIds"]
            .as_array()
            .map(|a| a.iter().map(|l| l.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    }

    pub async fn message(&self, id: &str, format: &str) -> Value {
        self.get(&format!("messages/{id}?format={format}")).await.1
    }

    pub async fn is_gone(&self, id: &str) -> bool {
        self.get(&format!("messages/{id}?format=minimal")).await.0 == 404
    }

    pub async fn thread_labels(&self, id: &str) -> Vec<Vec<String>> {
        let (_, v) = self.get(&format!("threads/{id}?format=minimal")).await;
        v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                m["labelIds"]
                    .as_array()
                    .map(|a| a.iter().map(|l| l.as_str().unwrap().to_string()).collect())
                    .unwrap_or_default()
            })
            .collect()
    }

    pub async fn stats(&self) -> Value {
        self.http
            .get(format!("{}__sandbox/stats", self.sandbox.base_url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn reset_stats(&self) {
        self.http
            .post(format!("{}__sandbox/stats/reset", self.sandbox.base_url()))
            .send()
            .await
            .unwrap();
    }

    /// Gmail API requests (not token-endpoint ones) since the last reset.
    pub async fn gmail_requests(&self) -> u64 {
        let s = self.stats().await;
        s["httpRequests"]
            .as_u64()
            .or_else(|| {
                s["requests"]
                    .as_object()
                    .map(|m| m.values().filter_map(Value::as_u64).sum())
            })
            .unwrap_or(0)
    }

    pub async fn stat(&self, method: &str) -> u64 {
        let s = self.stats().await;
        s["requests"][method].as_u64().unwrap_or(0)
    }
}

fn urlencode(s: &str) -> String {
    form_urlencoded_byte_serialize(s)
}

fn form_urlencoded_byte_serialize(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn call(h: &Harness, tool: &str, args: Value) -> ToolOutput {
    match h.registry.call(h.ctx.clone(), tool, args.clone()).await {
        Ok(out) => out,
        Err(e) => panic!("{tool} {args} failed: {e}"),
    }
}

/// The error text an agent would see.
pub async fn call_err(h: &Harness, tool: &str, args: Value) -> String {
    match h.registry.call(h.ctx.clone(), tool, args.clone()).await {
        Ok(out) => panic!("{tool} {args} succeeded: {}", out.text),
        Err(ToolError::Gmail(e)) => e.tool_message(),
        Err(e) => e.to_string(),
    }
}

impl Harness {
    /// Puts a message into the mailbox (messages.insert), as if it had arrived.
    pub async fn insert(&self, raw: &str, labels: &[&str]) -> (String, String) {
        use base64::Engine;
        let body = serde_json::json!({
            "raw": base64::engine::general_purpose::URL_SAFE.encode(raw.replace('\n', "\r\n")),
            "labelIds": labels,
        });
        let r = self
            .http
            .post(self.url("messages"))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "insert: {}", r.status());
        let v: Value = r.json().await.unwrap();
        (
            v["id"].as_str().unwrap().to_string(),
            v["threadId"].as_str().unwrap().to_string(),
        )
    }

    /// The raw RFC 822 text of a stored message.
    pub async fn raw(&self, id: &str) -> String {
        use base64::Engine;
        let v = self.message(id, "raw").await;
        let bytes = base64::engine::general_purpose::URL_SAFE
            .decode(v["raw"].as_str().unwrap())
            .unwrap();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// A header of a stored message, from the metadata view.
    pub async fn header(&self, id: &str, name: &str) -> String {
        let v = self.message(id, "metadata").await;
        v["payload"]["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["name"].as_str().unwrap().eq_ignore_ascii_case(name))
            .map(|h| h["value"].as_str().unwrap().to_string())
            .unwrap_or_default()
    }
}
