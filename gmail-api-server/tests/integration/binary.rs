//! The real binary: exits non-zero with one clear line on bad configuration, and stops within
//! the shutdown timeout on SIGTERM even with a connection open.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_gmail-api-server");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

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
    ];
    for (key, value, named) in cases {
        let out = Command::new(BIN)
            .env(key, value)
            .env("HOME", "/nonexistent")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{key}={value}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(named), "{stderr}");
    }
}

#[test]
fn flags_override_the_environment() {
    let out = Command::new(BIN)
        .args(["--check", "--port", "9123", "--host", "127.0.0.2"])
        .env("GMAIL_API_PORT", "9999")
        .env("HOME", "/nonexistent")
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
        .env("GMAIL_BACKEND", "sandbox")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("without caller authentication"), "{stderr}");
}
