//! Shared helpers for the integration tests: a sandbox per test, a google-gmail1 hub and a
//! tiny raw HTTP client, and the requests several test modules make.

#![allow(dead_code)]

use std::collections::HashMap;
use std::fmt::Debug;
use std::future::Future;
use std::io::Cursor;
use std::path::PathBuf;

use base64::Engine;
use gmail_sandbox::{DatabaseLocation, RunningSandbox, Sandbox, SandboxConfig};
use google_gmail1::api::{Filter, FilterAction, FilterCriteria, Message};
use google_gmail1::{Error, Gmail};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::json;

pub type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
pub type Hub = Gmail<Connector>;

pub const FULL: &str = "https://mail.google.com/";
pub const SETTINGS_BASIC: &str = "https://www.googleapis.com/auth/gmail.settings.basic";
pub const SETTINGS_SHARING: &str = "https://www.googleapis.com/auth/gmail.settings.sharing";
pub const DEMO: &str = "demo@example.com";
pub const BOB: &str = "bob@example.com";

pub async fn start() -> RunningSandbox {
    start_with(SandboxConfig::for_tests()).await
}

pub async fn start_with(cfg: SandboxConfig) -> RunningSandbox {
    Sandbox::start(cfg).await.expect("sandbox starts")
}

/// A fresh directory for a file database; the test removes it when done.
pub fn temp_dir() -> PathBuf {
    std::env::temp_dir().join(format!("gmail-sandbox-test-{}", uuid::Uuid::new_v4()))
}

/// The test configuration with its database in the file `path`.
pub fn file_config(path: PathBuf) -> SandboxConfig {
    SandboxConfig {
        database: DatabaseLocation::File(path),
        ..SandboxConfig::for_tests()
    }
}

pub fn connector() -> Connector {
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .build()
}

pub fn hub_with_token(sb: &RunningSandbox, token: String) -> Hub {
    let client = Client::builder(TokioExecutor::new()).build(connector());
    let mut hub = Gmail::new(client, token);
    hub.base_url(sb.base_url());
    hub.root_url(sb.base_url());
    hub
}

/// A fresh sandbox and DEMO's hub: where most client tests start.
pub async fn start_demo() -> (RunningSandbox, Hub) {
    let sb = start().await;
    let hub = hub(&sb, DEMO);
    (sb, hub)
}

/// A hub for `email` with full mail access plus the settings scopes.
pub fn hub(sb: &RunningSandbox, email: &str) -> Hub {
    let token = sb.issue_access_token(email, &[FULL, SETTINGS_BASIC, SETTINGS_SHARING]);
    hub_with_token(sb, token)
}

pub fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE.encode(data)
}

pub fn unb64url(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE
        .decode(s)
        .expect("padded base64url")
}

pub fn simple_message(from: &str, to: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Tue, 06 Jan 2026 10:00:00 +0000\r\n\
         Message-ID: <{}@test.local>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
        uuid::Uuid::new_v4()
    )
    .into_bytes()
}

pub fn unique_word() -> String {
    format!("zq{}", uuid::Uuid::new_v4().simple())
}

pub struct HttpResponse {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "invalid JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts the status (the body shows when it differs); the response, for more checks.
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status, status, "{}", self.text());
        self
    }

    /// Asserts 200; the JSON body.
    pub fn ok_json(self) -> serde_json::Value {
        self.expect(200).json()
    }
}

/// Raw HTTP request against the sandbox (`path` relative to the base URL, no leading slash).
pub async fn http(
    sb: &RunningSandbox,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> HttpResponse {
    let url = format!("{}{}", sb.base_url(), path.trim_start_matches('/'));
    http_url(method, &url, headers, body).await
}

pub async fn http_url(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> HttpResponse {
    let client: Client<HttpConnector, Full<bytes::Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut b = hyper::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let req = b
        .body(Full::new(bytes::Bytes::from(body)))
        .expect("request");
    let resp = client.request(req).await.expect("http request");
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = resp
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    HttpResponse {
        status,
        headers,
        body,
    }
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A GET without credentials (admin endpoints, OAuth pages).
pub async fn get(sb: &RunningSandbox, path: &str) -> HttpResponse {
    http(sb, "GET", path, &[], vec![]).await
}

/// A JSON POST without credentials (the `__sandbox/…` admin endpoints).
pub async fn post_json(sb: &RunningSandbox, path: &str, body: impl ToString) -> HttpResponse {
    http(sb, "POST", path, &[JSON_CT], body.to_string().into_bytes()).await
}

/// A form POST without credentials (the OAuth endpoints).
pub async fn post_form(sb: &RunningSandbox, path: &str, pairs: &[(&str, &str)]) -> HttpResponse {
    http(sb, "POST", path, &[FORM], form(pairs)).await
}

/// Raw HTTP as one user: every request carries that user's bearer token.
pub struct Api<'a> {
    pub sb: &'a RunningSandbox,
    pub auth: String,
}

impl<'a> Api<'a> {
    pub fn new(sb: &'a RunningSandbox, token: &str) -> Self {
        Api {
            sb,
            auth: bearer(token),
        }
    }

    /// `email` with a fresh token for full mail access.
    pub fn full(sb: &'a RunningSandbox, email: &str) -> Self {
        Self::new(sb, &sb.issue_access_token(email, &[FULL]))
    }

    /// A request with the bearer token plus `headers`.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> HttpResponse {
        let mut all = vec![("authorization", self.auth.as_str())];
        all.extend_from_slice(headers);
        http(self.sb, method, path, &all, body).await
    }

    pub async fn get(&self, path: &str) -> HttpResponse {
        self.call("GET", path, &[], vec![]).await
    }

    pub async fn delete(&self, path: &str) -> HttpResponse {
        self.call("DELETE", path, &[], vec![]).await
    }

    /// A JSON body (`serde_json::Value` or already serialized text).
    pub async fn send_json(&self, method: &str, path: &str, body: impl ToString) -> HttpResponse {
        let body = body.to_string().into_bytes();
        self.call(method, path, &[JSON_CT], body).await
    }

    pub async fn post_json(&self, path: &str, body: impl ToString) -> HttpResponse {
        self.send_json("POST", path, body).await
    }

    /// users.messages.send with a JSON `raw` body.
    pub async fn send_message(&self, raw: &[u8]) -> HttpResponse {
        let body = json!({"raw": b64url(raw)});
        self.post_json("gmail/v1/users/me/messages/send", body)
            .await
    }

    /// users.messages.insert with a JSON `raw` body; the new message's id.
    pub async fn insert(&self, raw: &[u8], labels: &[&str]) -> String {
        let body = json!({"raw": b64url(raw), "labelIds": labels});
        let r = self.post_json("gmail/v1/users/me/messages", body).await;
        id_of(&r.ok_json())
    }

    /// The JSON of a GET that must answer 200.
    pub async fn get_ok(&self, path: &str) -> serde_json::Value {
        self.get(path).await.ok_json()
    }
}

// ---- raw HTTP ----

pub fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
        .into_bytes()
}

pub const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

pub const JSON_CT: (&str, &str) = ("content-type", "application/json");

/// The `id` string of a JSON answer.
pub fn id_of(v: &serde_json::Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

// ---- google-gmail1 ----

pub fn rfc822() -> mime::Mime {
    "message/rfc822".parse().expect("mime")
}

pub fn status_of(e: &Error) -> Option<u16> {
    match e {
        Error::BadRequest(v) => v["error"]["code"].as_u64().map(|c| c as u16),
        Error::Failure(r) => Some(r.status().as_u16()),
        _ => None,
    }
}

/// What a google-gmail1 call answers: a typed body, or only the response (deletes, stop).
pub trait Answer {
    type Body;
    fn body(self) -> Self::Body;
}

impl<T> Answer for (google_gmail1::common::Response, T) {
    type Body = T;
    fn body(self) -> T {
        self.1
    }
}

impl Answer for google_gmail1::common::Response {
    type Body = Self;
    fn body(self) -> Self {
        self
    }
}

/// The answer of a google-gmail1 call that must succeed; `what` names it when it fails.
pub async fn ok<A: Answer>(call: impl Future<Output = Result<A, Error>>, what: &str) -> A::Body {
    match call.await {
        Ok(a) => a.body(),
        Err(e) => panic!("{what}: {e:?}"),
    }
}

/// The error of a google-gmail1 call that must fail.
pub async fn fails<T: Debug>(call: impl Future<Output = Result<T, Error>>) -> Error {
    call.await.unwrap_err()
}

/// Asserts a google-gmail1 call fails with HTTP `status`; the error.
pub async fn fails_with<T: Debug>(
    call: impl Future<Output = Result<T, Error>>,
    status: u16,
) -> Error {
    let e = fails(call).await;
    assert_eq!(status_of(&e), Some(status), "{e:?}");
    e
}

/// A header's value in a message's payload.
pub fn header(m: &Message, name: &str) -> Option<String> {
    let headers = m.payload.as_ref()?.headers.as_ref()?;
    headers
        .iter()
        .find(|h| h.name.as_deref() == Some(name))
        .and_then(|h| h.value.clone())
}

/// users.messages.get in `format`.
pub async fn get_message(hub: &Hub, id: &str, format: &str) -> Message {
    let call = hub.users().messages_get("me", id).format(format).doit();
    ok(call, "messages.get").await
}

/// A filter on the sender that adds and removes labels.
pub fn filter_from(from: &str, add: &[&str], remove: Option<&[&str]>) -> Filter {
    Filter {
        criteria: Some(FilterCriteria {
            from: Some(from.into()),
            ..Default::default()
        }),
        action: Some(FilterAction {
            add_label_ids: Some(strings(add)),
            remove_label_ids: remove.map(strings),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Label ids as the client types them.
pub fn strings(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

pub fn error_body(e: &Error) -> serde_json::Value {
    match e {
        Error::BadRequest(v) => v.clone(),
        other => panic!("expected a JSON error, got {other:?}"),
    }
}

/// Inserts a [`simple_message`] from `from` to DEMO.
pub async fn insert_simple(hub: &Hub, from: &str, subject: &str, labels: &[&str]) -> Message {
    insert(hub, simple_message(from, DEMO, subject, "b"), labels).await
}

pub async fn insert(hub: &Hub, raw: Vec<u8>, labels: &[&str]) -> Message {
    let msg = Message {
        label_ids: Some(labels.iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    };
    hub.users()
        .messages_insert(msg, "me")
        .upload(Cursor::new(raw), rfc822())
        .await
        .expect("insert")
        .1
}
