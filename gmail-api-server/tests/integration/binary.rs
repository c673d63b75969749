//! The real binary: exits non-zero with one clear line on bad configuration, and stops within
//! the shutdown timeout on SIGTERM even with a connection open.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_gmail-api-server");

use gmail_test_support::mailbox::ids_of;
use gmail_test_support::{free_port, server_command, url_encode, wait_until_up, SandboxMailbox};

#[test]
fn bad_configuration_exits_with_one_line_naming_the_key() {
    let cases = [
        ("GMAIL_API_PORT", "eighty", "api.port"),
        ("GMAIL_LOG_FORMAT", "xml", "log.format"),
        (
            "GMAIL_CONFIG",
            "/nonexistent/gmail.toml",
            "/nonexistent/gmail.toml",
        ),
        // What only a running server would have found: its own bind, the key, the tools.
        ("GMAIL_API_HOST", "0.0.0.0", "api.host"),
        ("GMAIL_MULTI_USER", "true", "multi_user.encryption_key"),
        ("GMAIL_EXCLUDE_TOOLS", "serach_emails", "mcp.exclude_tools"),
        ("GMAIL_TOOLS", "serach_emails", "mcp.tools"),
    ];
    for (key, value, named) in cases {
        // --check: a check that failed to refuse ends the test instead of serving on.
        let out = Command::new(BIN)
            .arg("--check")
            .env_remove("GMAIL_ENCRYPTION_KEY")
            .env(key, value)
            .env("HOME", "/nonexistent")
            .env("GMAIL_EVENTS__ENABLED", "false")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{key}={value}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(named), "{stderr}");
    }
}

/// The start checks are the servers': in multi-user mode without a key, the admin command
/// that makes one still runs (the setup scripts depend on it).
#[test]
fn a_key_can_be_generated_before_there_is_one() {
    let out = Command::new(BIN)
        .args(["admin", "generate-key"])
        .env("GMAIL_MULTI_USER", "true")
        .env("HOME", "/nonexistent")
        .env("GMAIL_EVENTS__ENABLED", "false")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8(out.stdout).unwrap();
    assert_eq!(key.trim().len(), 44, "{key}");
}

#[test]
fn flags_override_the_environment() {
    let out = Command::new(BIN)
        .args(["--check", "--port", "9123", "--host", "127.0.0.2"])
        .env("GMAIL_API_PORT", "9999")
        .env("HOME", "/nonexistent")
        .env("GMAIL_EVENTS__ENABLED", "false")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("listen=127.0.0.2:9123"), "{stdout}");
}

#[test]
fn version_flag() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("gmail-api-server {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn sigterm_stops_within_five_seconds_with_a_connection_open() {
    let port = free_port();
    let mut child = Command::new(BIN)
        .args(["--port", &port.to_string()])
        .env("HOME", "/nonexistent")
        .env("GMAIL_EVENTS__ENABLED", "false")
        .env("GMAIL_BACKEND", "sandbox")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut conn = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(c) => break c,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("server did not start: {e}"),
        }
    };
    // A keep-alive connection that has been served once and stays open.
    conn.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 512];
    let n = conn.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));

    let sent = Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(6),
            "still running 6 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn single_user_mode_refuses_a_public_bind() {
    let out = Command::new(BIN)
        .args(["--host", "0.0.0.0", "--port", &free_port().to_string()])
        .env("HOME", "/nonexistent")
        .env("GMAIL_EVENTS__ENABLED", "false")
        .env("GMAIL_BACKEND", "sandbox")
        .output()
        .unwrap();
    // Bad configuration (exit 2), which the reviver waits longest on, not a failed start.
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("without caller authentication"), "{stderr}");
}

/// Kill -9 the server while Gmail holds the answer to a send it has already carried out;
/// start it again and retry with the same Idempotency-Key: the retry answers with the first
/// attempt's message, and exactly one message exists.
#[tokio::test]
async fn a_send_cut_off_by_kill_9_happens_once_when_retried_after_restart() {
    use gmail_sandbox::{FaultConfig, Sandbox, SandboxConfig};
    let sandbox = Sandbox::start(SandboxConfig::for_tests()).await.unwrap();
    let port = free_port();
    let home = tempfile::tempdir().unwrap();
    let start = || {
        server_command(BIN, port, home.path(), &sandbox.base_url())
            .spawn()
            .unwrap()
    };
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let token = sandbox.issue_access_token("demo@example.com", &["https://mail.google.com/"]);
    let subject = format!("Exactly once {}", uuid::Uuid::new_v4().simple());
    let mailbox = SandboxMailbox::new(&sandbox.base_url(), token);
    let in_gmail = || async {
        let q = url_encode(&format!("subject:\"{subject}\""));
        let (_, found) = mailbox
            .gmail(&format!("messages?includeSpamTrash=true&q={q}"))
            .await;
        ids_of(&found["messages"])
    };
    let send = || {
        http.post(format!("{base}/api/v1/messages/send"))
            .header("Idempotency-Key", "order-kill-9")
            .json(&serde_json::json!({"to": ["carol@example.com"], "subject": subject, "body": "once"}))
            .send()
    };

    let mut server = start();
    wait_until_up(&base).await;
    // Gmail carries out the send, then holds its answer.
    sandbox.set_faults(FaultConfig {
        methods: vec!["users.messages.send".into()],
        delay_after_ms: 5_000,
        ..Default::default()
    });
    let first = tokio::spawn(send());
    let mut sent = Vec::new();
    for _ in 0..200 {
        sent = in_gmail().await;
        if !sent.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(sent.len(), 1, "the send reached Gmail");
    server.kill().unwrap(); // SIGKILL: no answer, no cleanup
    server.wait().unwrap();
    assert!(
        first.await.unwrap().is_err(),
        "the client saw the connection die"
    );
    sandbox.set_faults(FaultConfig::default());

    let mut server = start();
    wait_until_up(&base).await;
    let retry = send().await.unwrap();
    assert_eq!(retry.status(), 200);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let answer: serde_json::Value = retry.json().await.unwrap();
    assert_eq!(answer["id"], sent[0].as_str());
    assert_eq!(in_gmail().await, sent, "exactly one message");
    // The key now answers from memory too, and another request with it is refused.
    let again = send().await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let _ = server.kill();
    let _ = server.wait();
}
