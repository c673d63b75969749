//! What the integration suites of gmail-shared and both servers share: settings that bind
//! port 0 and point at a sandbox, independent of the machine's environment and files; the
//! databases a multi-user test runs on; waiting for a condition; requests answered with a
//! status and JSON; the server binaries run against a sandbox; the sandbox's view of a
//! mailbox; and the health contract both servers keep. A dev-dependency only: nothing here
//! ships.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use gmail_shared::config::{Overrides, Settings};
use serde_json::Value;

pub mod health;
pub mod mailbox;

pub use mailbox::SandboxMailbox;

/// Settings from these `key = value` overrides over the defaults. HOME points nowhere, so no
/// file or credential of the machine running the tests leaks in.
pub fn settings_from(values: &[(&str, &str)]) -> Settings {
    let env: HashMap<String, String> = [("HOME".to_string(), "/nonexistent".to_string())].into();
    let overrides = Overrides {
        config_file: None,
        values: values
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    Settings::load_from(&overrides, &env).expect("test settings are valid")
}

/// Settings for a test app: both ports 0, quiet logs, the sandbox at `sandbox_url` (a URL
/// nothing listens on is fine for tests that never reach Gmail).
pub fn settings(sandbox_url: &str) -> Settings {
    settings_from(&test_values(sandbox_url, &[]))
}

/// The overrides of [`settings`], then `more`.
fn test_values<'a>(sandbox_url: &'a str, more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut values = vec![
        ("mcp.port", "0"),
        ("api.port", "0"),
        ("log.level", "warn"),
        ("gmail.backend", "sandbox"),
        ("gmail.sandbox_url", sandbox_url),
        // No change feed unless a test turns it on (it opens a database and polls).
        ("events.enabled", "false"),
    ];
    values.extend_from_slice(more);
    values
}

/// As [`settings`], with attachments read from `dir/attachments` (created) and downloads
/// saved under `dir/downloads`.
pub fn settings_in(sandbox_url: &str, dir: &Path) -> Settings {
    let attach = dir.join("attachments");
    std::fs::create_dir_all(&attach).expect("the attachment folder can be made");
    let mut s = settings(sandbox_url);
    s.tools.download_dir = dir.join("downloads");
    s.tools.attachment_dirs = vec![attach];
    s
}

/// As [`settings`], in multi-user mode on the database at `db`, sealing tokens with `key`.
pub fn multi_user_settings(sandbox_url: &str, db: &str, key: &str) -> Settings {
    settings_from(&test_values(
        sandbox_url,
        &[
            ("multi_user.enabled", "true"),
            ("multi_user.database_url", db),
            ("multi_user.encryption_key", key),
        ],
    ))
}

/// The databases a multi-user test runs on: a fresh SQLite file (named after `prefix`), and
/// PostgreSQL when `GMAIL_TEST_DATABASE_URL` names one (CI sets it).
pub fn database_urls(prefix: &str) -> Vec<String> {
    let mut urls = vec![format!(
        "sqlite://{}/{prefix}-{}.db",
        std::env::temp_dir().display(),
        uuid::Uuid::new_v4().simple()
    )];
    urls.extend(
        std::env::var("GMAIL_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty()),
    );
    urls
}

/// Polls `check` every 50 ms until it holds (true) or `within` has passed (false).
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The strings of a JSON array (none when it is not one).
pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Percent-encodes everything but RFC 3986's unreserved characters (a query value).
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// As [`database_urls`], with PostgreSQL in a database of its own, made for this test: for
/// tests whose rows would collide with other tests' on the shared database (the sandbox's
/// Google accounts keep their `sub` from run to run). Drop it with [`drop_database`].
pub async fn fresh_database_urls(prefix: &str) -> Vec<String> {
    use sqlx::Connection;
    let mut urls = database_urls(prefix);
    if let Some(pg) = urls.get_mut(1) {
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(pg)
            .await
            .expect("GMAIL_TEST_DATABASE_URL answers");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("the test may create a database");
        let mut url = url::Url::parse(pg).expect("GMAIL_TEST_DATABASE_URL is a URL");
        url.set_path(&name);
        *pg = url.to_string();
    }
    urls
}

/// Drops a database [`fresh_database_urls`] made (SQLite files are left in the temp dir).
pub async fn drop_database(db: &str) {
    use sqlx::Connection;
    let (Some(admin), Ok(url)) = (
        std::env::var("GMAIL_TEST_DATABASE_URL").ok(),
        url::Url::parse(db),
    ) else {
        return;
    };
    if url.scheme() != "postgres" {
        return;
    }
    let name = url.path().trim_start_matches('/').to_string();
    let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await else {
        return;
    };
    // The apps under test may still hold pools that reconnect between the terminate and the
    // drop: try a few times.
    for _ in 0..5 {
        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        match sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
        {
            Ok(_) => return,
            Err(e) => eprintln!("drop {name}: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A port nobody listens on right now (for a server that must know its port before it binds).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Sends a request: its status and JSON body (Null when the body is not JSON).
pub async fn status_json(req: reqwest::RequestBuilder) -> (u16, Value) {
    let r = req.send().await.expect("the request is answered");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Sends a request: the response, whatever its status (for tests that read headers or bytes).
pub async fn fetch(req: reqwest::RequestBuilder) -> reqwest::Response {
    req.send().await.expect("the request is answered")
}

/// Mail from outside into a sandbox mailbox (`POST /__sandbox/deliver`); answers its Gmail
/// id. `sandbox_base` ends with a slash, as `RunningSandbox::base_url` does.
pub async fn deliver(sandbox_base: &str, to: &str, subject: &str) -> String {
    let body = serde_json::json!({"to": to, "from": "Alerts <alerts@outside.example>",
        "subject": subject, "text": format!("Body of {subject}")});
    delivered(sandbox_base, body).await
}

/// A whole RFC 822 message from outside into the demo mailbox; answers its Gmail id.
pub async fn deliver_raw(sandbox_base: &str, raw: &[u8]) -> String {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    delivered(
        sandbox_base,
        serde_json::json!({"to": "demo@example.com", "raw": raw}),
    )
    .await
}

async fn delivered(sandbox_base: &str, body: Value) -> String {
    let r = fetch(
        reqwest::Client::new()
            .post(format!("{sandbox_base}__sandbox/deliver"))
            .json(&body),
    )
    .await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .expect("an id")
        .to_string()
}

/// Asserts that a problem+json body's `detail` names `needle` (what the caller must change).
pub fn assert_detail_has(body: &Value, needle: &str) {
    let detail = body["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("no detail: {body}"));
    assert!(detail.contains(needle), "{needle:?} not in {body}");
}

/// The whole seconds of a response's `Retry-After`; panics when it is missing or not a number.
pub fn retry_after(r: &reqwest::Response) -> u64 {
    let value = r
        .headers()
        .get("retry-after")
        .expect("a Retry-After header");
    value
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds")
}

/// Sends a request whose answer must be JSON: the body.
pub async fn json_body(req: reqwest::RequestBuilder) -> Value {
    let r = req.send().await.expect("the request is answered");
    r.json().await.expect("the answer is JSON")
}

/// A client that follows no redirect (so a test sees each 302/303 and where it points).
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A server binary (`bin`) on `port` against the sandbox at `sandbox_url`, as a test runs it:
/// HOME at `home`, no config file, no change feed, quiet logs, output discarded. Callers add
/// or override what they test.
pub fn server_command(
    bin: &str,
    port: u16,
    home: &Path,
    sandbox_url: &str,
) -> std::process::Command {
    use std::process::Stdio;
    let mut cmd = std::process::Command::new(bin);
    cmd.args(["--port", &port.to_string()])
        .env("HOME", home)
        .env("GMAIL_EVENTS__ENABLED", "false")
        .env("GMAIL_CONFIG", "/dev/null")
        .env("GMAIL_BACKEND", "sandbox")
        .env("GMAIL_SANDBOX_URL", sandbox_url)
        .env("GMAIL_LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// Waits until `base`/health answers (a server process just started); panics after 10 s.
pub async fn wait_until_up(base: &str) {
    let up = eventually(Duration::from_secs(10), || async {
        reqwest::get(format!("{base}/health")).await.is_ok()
    })
    .await;
    assert!(up, "{base} did not come up");
}
