//! Shared helpers for the integration tests: a sandbox per test, a google-gmail1 hub and a
//! tiny raw HTTP client, and the requests several test modules make.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Cursor;

use base64::Engine;
use gmail_sandbox::{RunningSandbox, Sandbox, SandboxConfig};
use google_gmail1::api::Message;
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
    Sandbox::start(SandboxConfig::for_tests())
        .await
        .expect("sandbox starts")
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

// ---- raw HTTP ----

pub fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
        .into_bytes()
}

pub const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

pub const JSON_CT: (&str, &str) = ("content-type", "application/json");

pub async fn insert_raw(
    sb: &gmail_sandbox::RunningSandbox,
    token: &str,
    raw: &[u8],
    labels: &[&str],
) -> String {
    let body = json!({"raw": b64url(raw), "labelIds": labels}).to_string();
    let auth = bearer(token);
    let r = http(
        sb,
        "POST",
        "gmail/v1/users/me/messages",
        &[("authorization", &auth), JSON_CT],
        body.into_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
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

pub fn error_body(e: &Error) -> serde_json::Value {
    match e {
        Error::BadRequest(v) => v.clone(),
        other => panic!("expected a JSON error, got {other:?}"),
    }
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
