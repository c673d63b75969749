//! The built binary: stdio mode keeps stdout for JSON-RPC only, and SIGTERM stops the HTTP
//! server promptly even with SSE streams open.

use crate::common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gmail_sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

fn command(sandbox_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gmail-mcp-server"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent")
        .env("GMAIL_EVENTS__ENABLED", "false")
        .env("GMAIL_BACKEND", "sandbox")
        .env("GMAIL_SANDBOX_URL", sandbox_url)
        .env("GMAIL_LOG_LEVEL", "info")
        .env("GMAIL_LOG_FORMAT", "json");
    cmd
}

use gmail_test_support::free_port;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_serves_one_session_with_only_json_rpc_on_stdout() {
    let sandbox = Sandbox::start(SandboxConfig::for_tests()).await.unwrap();
    let url = sandbox.base_url();
    let (lines, stderr, status) =
        tokio::task::spawn_blocking(move || common::stdio_get_profile(command(&url)))
            .await
            .unwrap();
    assert!(status.success(), "{status}");
    assert!(
        stderr.contains("session opened"),
        "logs go to stderr: {stderr}"
    );
    assert_eq!(lines.len(), 2, "{lines:?}");
    for line in &lines {
        let v: Value = serde_json::from_str(line).expect("stdout carries JSON-RPC only");
        assert_eq!(v["jsonrpc"], "2.0");
    }
    let call: Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(
        call["result"]["structuredContent"]["emailAddress"],
        "demo@example.com"
    );
}

/// Started in `/`, as Claude Desktop starts stdio servers, the server keeps its data in
/// ~/.gmail-mcp (it tried to make /data).
#[tokio::test]
async fn a_stdio_server_started_in_the_root_keeps_its_data_in_its_home() {
    let sb = Sandbox::start(SandboxConfig::for_tests()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut cmd = command(&sb.base_url());
    cmd.current_dir("/")
        .env("HOME", home.path())
        .env("GMAIL_EVENTS__ENABLED", "true");
    let (lines, stderr, status) =
        tokio::task::spawn_blocking(move || common::stdio_get_profile(cmd))
            .await
            .unwrap();
    assert!(status.success(), "{stderr}");
    assert!(
        lines.last().unwrap().contains("demo@example.com"),
        "{lines:?}"
    );
    let db = home.path().join(".gmail-mcp/data/gmail-servers.db");
    assert!(db.is_file(), "no {} ({stderr})", db.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_promptly_with_open_sse_streams() {
    let sandbox = Sandbox::start(SandboxConfig::for_tests()).await.unwrap();
    let port = free_port();
    let mut child = command(&sandbox.base_url())
        .args(["--port", &port.to_string()])
        .env("GMAIL_MCP__SHUTDOWN_TIMEOUT_SECS", "30")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let base = format!("http://127.0.0.1:{port}");
    let up = common::eventually(Duration::from_secs(10), || async {
        reqwest::get(format!("{base}/health")).await.is_ok()
    })
    .await;
    assert!(up, "server came up");
    let mut clients = Vec::new();
    for _ in 0..3 {
        let mut c = common::SseClient::connect(&base).await;
        c.initialize().await;
        clients.push(c);
    }
    let started = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(exit.success(), "{exit}");
    // Well under the 30 s shutdown timeout: the streams were closed, not waited for.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    for c in &mut clients {
        assert!(c.closed_within(Duration::from_secs(1)).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_port_fails_the_start_with_one_line_that_names_it() {
    let sandbox = Sandbox::start(SandboxConfig::for_tests()).await.unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut cmd = command(&sandbox.base_url());
    // The change feed on: nothing of it may start (or log) before the port is had.
    cmd.args(["--port", &port.to_string()])
        .env("GMAIL_EVENTS__ENABLED", "true")
        .env("GMAIL_LOG_LEVEL", "debug");
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stderr.trim_end(),
        format!("gmail-mcp-server: cannot listen on 127.0.0.1:{port}: Address already in use (os error 98)")
    );
    assert!(
        stdout.trim().is_empty(),
        "nothing started, nothing logged: {stdout}"
    );
}
