//! The one-line setup, end to end: `curl -sSL $BASE/install.sh | bash` runs for real (with a
//! temporary HOME and a fake `claude` on PATH that records its arguments) while a browser
//! signs in at the sandbox's Google and approves the code the script printed; the script
//! gets its own key (once) and hands Claude Code the line with it.

use std::process::Stdio;
use std::time::Duration;

use gmail_test_support::{drop_database, fetch, fresh_database_urls, json_body, status_json};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::common::multi_user::Deployment;
use crate::site::{browser, csrf, page, post, sign_in};

/// Approves or denies a device code from the approval page's form; answers the status.
async fn decide(b: &reqwest::Client, base: &str, csrf: &str, code: &str, decision: &str) -> u16 {
    let form = [("csrf", csrf), ("code", code), ("decision", decision)];
    post(b, base, "/device", &form).await.status().as_u16()
}

#[tokio::test]
async fn install_sh_gets_an_approved_key_and_connects_claude() {
    for db in fresh_database_urls("device").await {
        let s = Deployment::start(&db).await;
        let base = s.base.clone();
        let home = tempfile::tempdir().unwrap();
        let bin = home.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let args_file = home.path().join("claude-args");
        let fake = bin.join("claude");
        std::fs::write(
            &fake,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\n",
                args_file.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();

        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
        let mut script = tokio::process::Command::new("bash")
            .args([
                "-c",
                &format!("curl -sSL {base}/install.sh | bash -s -- --desktop"),
            ])
            .env("HOME", home.path())
            .env("GMAIL_EVENTS__ENABLED", "false")
            .env("PATH", path)
            .env("GMAIL_SERVERS_NO_BROWSER", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(script.stdout.take().unwrap()).lines();
        let mut printed = Vec::new();
        let code = loop {
            let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
                .await
                .expect("the script prints its code")
                .unwrap()
                .expect("the script is still running");
            printed.push(line.clone());
            if let Some(code) = line.strip_prefix("Check that the page shows the code: ") {
                break code.to_string();
            }
        };
        assert!(
            printed[0].contains(&format!("{base}/device?code={code}")),
            "{printed:?}"
        );

        // Nothing is issued before approval: a poll now is pending.
        let b = browser();
        let (status, html) = page(&b, format!("{base}/device?code={code}")).await;
        assert_eq!(status, 200);
        assert!(html.contains("Sign in to approve"), "{html}");
        // Sign in from the approval page, and come back to it.
        let r = post(
            &b,
            &base,
            "/signin",
            &[("next", &format!("/device?code={code}"))],
        )
        .await;
        assert_eq!(r.status(), 303);
        let r = sign_in(&b, &base, "demo@example.com").await;
        assert_eq!(
            r.headers()["location"],
            format!("/device?code={code}").as_str()
        );
        let (_, html) = page(&b, format!("{base}/device?code={code}")).await;
        assert!(html.contains(&code) && html.contains("Approve"), "{html}");
        let token = csrf(&html);
        assert_eq!(
            decide(&b, &base, token.as_str(), &code, "approve").await,
            200
        );

        let status = tokio::time::timeout(Duration::from_secs(30), script.wait())
            .await
            .expect("the script finishes once approved")
            .unwrap();
        while let Ok(Some(line)) = lines.next_line().await {
            printed.push(line);
        }
        assert!(status.success(), "{printed:?}");
        let args = std::fs::read_to_string(&args_file).expect("claude was run");
        let args: Vec<&str> = args.lines().collect();
        assert_eq!(
            &args[..5],
            ["mcp", "add", "--transport", "sse", "gmail"],
            "{args:?}"
        );
        assert_eq!(args[5], "http://127.0.0.1:8001/sse");
        assert_eq!(args[6], "--header");
        let key = args[7].strip_prefix("Authorization: Bearer ").unwrap();
        let profile = reqwest::Client::new().get(format!("{base}/api/v1/profile"));
        assert_eq!(status_json(profile.bearer_auth(key)).await.0, 200);
        // Claude Desktop's config, written because there was none, readable only by the user.
        let desktop = home
            .path()
            .join(".config/Claude/claude_desktop_config.json");
        let config = std::fs::read_to_string(&desktop).unwrap();
        let config: serde_json::Value = serde_json::from_str(&config).unwrap();
        let gmail = &config["mcpServers"]["gmail"];
        assert_eq!(gmail["env"]["GMAIL_MCP_AUTH"], format!("Bearer {key}"));
        let args = gmail["args"].to_string();
        assert!(args.contains("mcp-remote") && !args.contains(key), "{args}");
        assert!(args.contains("Authorization:${GMAIL_MCP_AUTH}"), "{args}");
        let mode = std::fs::metadata(&desktop).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);

        // The key was the user's, and the code works once: a second approval finds nothing.
        let users = s.store.list_users().await.unwrap();
        assert_eq!(users.len(), 1);
        let keys = s.store.list_api_keys(&users[0].user.id).await.unwrap();
        assert_eq!(keys.len(), 1, "one key, for this device");
        assert!(keys[0].name.starts_with("setup on "), "{:?}", keys[0]);
        assert_eq!(
            decide(&b, &base, token.as_str(), &code, "approve").await,
            404
        );
        drop_database(&db).await;
    }
}

#[tokio::test]
async fn device_codes_poll_pending_then_denied_and_strangers_cannot_approve() {
    for db in fresh_database_urls("device_deny").await {
        let s = Deployment::start(&db).await;
        let base = &s.base;
        let http = reqwest::Client::new();
        let start = json_body(
            http.post(format!("{base}/device/code"))
                .json(&serde_json::json!({"name": "ci box"})),
        )
        .await;
        let device_code = start["deviceCode"].as_str().unwrap().to_string();
        let code = start["userCode"].as_str().unwrap().to_string();
        assert_eq!(code.len(), 9, "{start}");
        let poll = || {
            let http = http.clone();
            let url = format!("{base}/device/token");
            let device_code = device_code.clone();
            async move {
                let r = fetch(
                    http.post(url)
                        .json(&serde_json::json!({"deviceCode": device_code})),
                )
                .await;
                let status = r.status().as_u16();
                let body: serde_json::Value = r.json().await.unwrap();
                (status, body)
            }
        };
        assert_eq!(poll().await.1["error"], "authorization_pending");
        // A form post without the session's CSRF token decides nothing.
        let b = browser();
        assert_eq!(sign_in(&b, base, "bob@example.com").await.status(), 303);
        assert_eq!(decide(&b, base, "forged", &code, "approve").await, 403);
        assert_eq!(poll().await.1["error"], "authorization_pending");
        // JSON only as application/json.
        let r = fetch(
            http.post(format!("{base}/device/code"))
                .header("content-type", "text/plain")
                .body("{\"name\":\"x\"}"),
        )
        .await;
        assert_eq!(r.status(), 400);
        // Denied (typed in lower case, without the dash): the device gets no key.
        let (_, html) = page(&b, format!("{base}/")).await;
        let token = csrf(&html);
        let typed = code.replace('-', "").to_lowercase();
        assert_eq!(decide(&b, base, token.as_str(), &typed, "deny").await, 200);
        assert_eq!(poll().await.1["error"], "access_denied");
        let (status, body) = poll().await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("access_denied"))
        );
        drop_database(&db).await;
    }
}

/// User codes cannot be guessed at speed: every look at one spends from the address's
/// failed-authentication budget, and past it the page says so (429).
#[tokio::test]
async fn user_codes_cannot_be_guessed_at_speed() {
    let db = fresh_database_urls("device_guess").await.remove(0);
    let s = Deployment::start_with(&db, |s| {
        s.limits.failed_auth_per_minute = 5;
        s.limits.failed_auth_burst = 5;
    })
    .await;
    let b = browser();
    sign_in(&b, &s.base, "demo@example.com").await;
    let mut statuses = Vec::new();
    for i in 0..8 {
        let (status, _) = page(&b, format!("{}/device?code=ZZZZ-{i:04}", s.base)).await;
        statuses.push(status);
    }
    assert!(statuses[..5].iter().all(|s| *s == 404), "{statuses:?}");
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    drop_database(&db).await;
}
