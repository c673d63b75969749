//! The mailbox as the sandbox's own Gmail API shows it: how a suite checks what a tool or a
//! route really did, without asking the code under test.

use base64::Engine;
use serde_json::Value;

use crate::{status_json, strings, url_encode};

/// Reads one sandbox mailbox with an access token the sandbox issued for it.
pub struct SandboxMailbox {
    http: reqwest::Client,
    sandbox_url: String,
    token: String,
}

impl SandboxMailbox {
    /// `sandbox_url` ends with a slash, as `RunningSandbox::base_url` gives it.
    pub fn new(sandbox_url: &str, token: String) -> SandboxMailbox {
        SandboxMailbox {
            http: reqwest::Client::new(),
            sandbox_url: sandbox_url.to_string(),
            token,
        }
    }

    /// A Gmail API URL under `users/me/`.
    pub fn gmail_url(&self, path: &str) -> String {
        format!("{}gmail/v1/users/me/{path}", self.sandbox_url)
    }

    /// GET under `users/me/`: status and JSON body (Null when not JSON).
    pub async fn gmail(&self, path: &str) -> (u16, Value) {
        let req = self.http.get(self.gmail_url(path)).bearer_auth(&self.token);
        status_json(req).await
    }

    /// messages.insert, as if the message had arrived: its (id, threadId).
    pub async fn insert(&self, raw: &str, labels: &[&str]) -> (String, String) {
        let body = serde_json::json!({
            "raw": base64::engine::general_purpose::URL_SAFE.encode(raw.replace('\n', "\r\n")),
            "labelIds": labels,
        });
        let req = self
            .http
            .post(self.gmail_url("messages"))
            .bearer_auth(&self.token);
        let (status, v) = status_json(req.json(&body)).await;
        assert!((200..300).contains(&status), "insert: {status} {v}");
        (
            v["id"].as_str().unwrap().to_string(),
            v["threadId"].as_str().unwrap().to_string(),
        )
    }

    /// The ids of up to `n` messages matching the search `q`.
    pub async fn ids(&self, q: &str, n: usize) -> Vec<String> {
        let (_, v) = self
            .gmail(&format!("messages?maxResults={n}&q={}", url_encode(q)))
            .await;
        ids_of(&v["messages"])
    }

    pub async fn first_id(&self, q: &str) -> String {
        self.ids(q, 1).await.remove(0)
    }

    /// A message in one of Gmail's formats (minimal, metadata, full, raw).
    pub async fn message(&self, id: &str, format: &str) -> Value {
        self.gmail(&format!("messages/{id}?format={format}"))
            .await
            .1
    }

    pub async fn labels_of(&self, id: &str) -> Vec<String> {
        strings(&self.message(id, "minimal").await["labelIds"])
    }

    pub async fn exists(&self, id: &str) -> bool {
        self.gmail(&format!("messages/{id}?format=minimal")).await.0 == 200
    }

    /// The raw RFC 822 text of a stored message.
    pub async fn raw(&self, id: &str) -> String {
        decode_raw(self.message(id, "raw").await["raw"].as_str().unwrap())
    }
}

/// The `id`s of a JSON array of messages (none when it is not one).
pub fn ids_of(messages: &Value) -> Vec<String> {
    messages
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| m["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The text of a `raw` field (URL-safe base64, as Gmail gives it).
pub fn decode_raw(raw: &str) -> String {
    let bytes = base64::engine::general_purpose::URL_SAFE
        .decode(raw)
        .expect("raw is URL-safe base64");
    String::from_utf8_lossy(&bytes).into_owned()
}
