//! The test harness: an in-process sandbox, single-user tool context on it, and helpers that
//! read the mailbox back through the sandbox's API to check what tools did.

#![allow(dead_code)]

use std::sync::Arc;

use gmail_sandbox::{RunningSandbox, Sandbox, SandboxConfig};
use gmail_shared::config::Settings;
use gmail_shared::gmail::GmailFactory;
use gmail_shared::ops::{Mailbox, SingleMailbox};
use gmail_shared::tools::{catalog, Registry, ToolContext, ToolEnv, ToolError, ToolOutput};
use gmail_test_support::{json_body, strings, SandboxMailbox};
use serde_json::Value;

pub struct Harness {
    pub sandbox: Arc<RunningSandbox>,
    pub registry: Registry,
    pub ctx: ToolContext,
    pub dir: Arc<tempfile::TempDir>,
    /// The mailbox as the sandbox sees it (ids, labels_of, raw, ...; see the Deref below).
    pub mailbox: SandboxMailbox,
    http: reqwest::Client,
}

/// The sandbox's readers (`h.ids(..)`, `h.raw(..)`) straight from the harness.
impl std::ops::Deref for Harness {
    type Target = SandboxMailbox;
    fn deref(&self) -> &SandboxMailbox {
        &self.mailbox
    }
}

pub fn settings(sandbox_url: &str, dir: &std::path::Path) -> Settings {
    let mut s = gmail_test_support::settings_in(sandbox_url, dir);
    // Tests that make Gmail fail for good should not wait the default 20 s.
    s.gmail.retry_max_wait_secs = 2;
    // These suites exercise every tool.
    s.mcp.toolsets = vec!["all".into()];
    s
}

/// The demo mailbox as the sandbox shows it, read with full scope.
fn reader(sandbox: &RunningSandbox) -> SandboxMailbox {
    let token = sandbox.issue_access_token("demo@example.com", &["https://mail.google.com/"]);
    SandboxMailbox::new(&sandbox.base_url(), token)
}

impl Harness {
    pub async fn start() -> Harness {
        let sandbox = Sandbox::start(SandboxConfig::for_tests()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let s = settings(&sandbox.base_url(), dir.path());
        let factory = GmailFactory::new(&s.gmail).unwrap();
        let ctx = ToolContext::single_user(&factory, &s).unwrap();
        Harness {
            mailbox: reader(&sandbox),
            sandbox: Arc::new(sandbox),
            registry: catalog::registry(),
            ctx,
            dir: Arc::new(dir),
            http: reqwest::Client::new(),
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
            // Reads back with full scope: only the tools run with `scopes`.
            mailbox: reader(&h.sandbox),
            http: reqwest::Client::new(),
        }
    }

    pub async fn is_gone(&self, id: &str) -> bool {
        self.gmail(&format!("messages/{id}?format=minimal")).await.0 == 404
    }

    pub async fn thread_labels(&self, id: &str) -> Vec<Vec<String>> {
        let (_, v) = self.gmail(&format!("threads/{id}?format=minimal")).await;
        v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| strings(&m["labelIds"]))
            .collect()
    }

    pub async fn stats(&self) -> Value {
        json_body(
            self.http
                .get(format!("{}__sandbox/stats", self.sandbox.base_url())),
        )
        .await
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

pub async fn call(h: &Harness, tool: &str, args: Value) -> ToolOutput {
    match h.registry.call(h.ctx.clone(), tool, args.clone()).await {
        Ok(out) => out,
        Err(e) => panic!("{tool} {args} failed: {e}"),
    }
}

/// A tool's structured result.
pub async fn structured(h: &Harness, tool: &str, args: Value) -> Value {
    call(h, tool, args)
        .await
        .structured
        .expect("a structured result")
}

/// The `id` of what a tool made (a message, a draft, a label, a filter).
pub async fn made(h: &Harness, tool: &str, args: Value) -> String {
    structured(h, tool, args).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// read_email in its detailed format.
pub async fn read_detailed(h: &Harness, message_id: &str) -> ToolOutput {
    let args = serde_json::json!({"messageId": message_id, "responseFormat": "detailed"});
    call(h, "read_email", args).await
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
