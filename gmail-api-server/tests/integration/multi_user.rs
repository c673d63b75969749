//! Multi-user mode over REST, against the sandbox, on SQLite and (with GMAIL_TEST_DATABASE_URL)
//! PostgreSQL: API keys, the whole OAuth web flow through /oauth/callback for two users,
//! isolation (also under 50 concurrent mixed calls), revoked keys, callback errors, and two
//! server instances sharing one database.

use secrecy::ExposeSecret;
use serde_json::Value;

use crate::common::multi_user::*;
use crate::common::{assert_detail_has, fetch};

#[tokio::test]
async fn callers_authenticate_connect_and_see_only_their_own_mail() {
    for db in database_urls() {
        let d = Deployment::start(&db).await;
        let (base, store) = (&d.base, &d.store);
        let a = new_caller(store, "alice").await;
        let b = new_caller(store, "bob").await;

        // No key, a wrong key: 401 with a Bearer challenge.
        let r = fetch(http().get(format!("{base}/api/v1/profile"))).await;
        assert_eq!(r.status(), 401);
        assert!(r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer"));
        let wrong = Caller {
            key: "gms_nope".into(),
        };
        assert_eq!(get(base, "/api/v1/profile", &wrong).await.0, 401);
        // Authenticated, but nothing connected yet.
        let (status, body) = get(base, "/api/v1/profile", &a).await;
        assert_eq!(status, 404, "{body}");

        let done = connect(base, &a, "demo@example.com").await;
        assert_eq!(done["connected"], "demo@example.com");
        // The callback shows no key: keys come only from an authenticated action.
        assert!(!done.to_string().contains("gms_"), "{done}");
        connect(base, &b, "bob@example.com").await;

        assert_eq!(
            get(base, "/api/v1/profile", &a).await.1["emailAddress"],
            "demo@example.com"
        );
        assert_eq!(
            get(base, "/api/v1/profile", &b).await.1["emailAddress"],
            "bob@example.com"
        );
        let (_, conns) = get(base, "/api/v1/connections", &b).await;
        let b_conn = conns[0]["id"].as_str().unwrap().to_string();
        for other in ["bob@example.com", b_conn.as_str()] {
            let (status, _) = get(base, &format!("/api/v1/profile?account={other}"), &a).await;
            assert_eq!(status, 404, "A reached B's {other}");
            let (status, _) = get(base, &format!("/api/v1/connections/{other}/check"), &a).await;
            assert_eq!(status, 404);
        }
        // The tools endpoint is per caller too.
        let r = fetch(
            http()
                .post(format!("{base}/api/v1/tools/get_profile"))
                .bearer_auth(&b.key)
                .json(&serde_json::json!({})),
        )
        .await;
        let v: Value = r.json().await.unwrap();
        assert!(v.to_string().contains("bob@example.com"), "{v}");

        // 50 concurrent mixed calls: every answer is the caller's own.
        let calls = (0..50).map(|i| {
            let (c, want) = if i % 2 == 0 {
                (&a, "demo@example.com")
            } else {
                (&b, "bob@example.com")
            };
            let base = base.clone();
            async move {
                let path = if i % 3 == 0 {
                    "/api/v1/profile"
                } else {
                    "/api/v1/connections"
                };
                let (status, body) = get(&base, path, c).await;
                assert_eq!(status, 200, "{body}");
                let text = body.to_string();
                let other = if want == "demo@example.com" {
                    "bob@example.com"
                } else {
                    "demo@example.com"
                };
                assert!(text.contains(want) && !text.contains(other), "{i}: {text}");
            }
        });
        futures::future::join_all(calls).await;

        // A second instance on the same database serves the same users.
        let base2 = d.another_instance().await;
        assert_eq!(
            get(&base2, "/api/v1/profile", &b).await.1["emailAddress"],
            "bob@example.com"
        );

        // An Idempotency-Key holds across instances (the keys live in the shared database):
        // the retry that lands on the second instance replays the first answer.
        let subject = format!("Once {}", uuid::Uuid::new_v4().simple());
        let msg =
            serde_json::json!({"to": ["carol@example.com"], "subject": subject, "body": "once"});
        let send = |base: &str, c: &Caller, body: &Value| {
            http()
                .post(format!("{base}/api/v1/messages/send"))
                .bearer_auth(&c.key)
                .header("Idempotency-Key", "order-77")
                .json(body)
                .send()
        };
        let first = send(base, &b, &msg).await.unwrap();
        assert_eq!(first.status(), 200);
        let first: Value = first.json().await.unwrap();
        let again = send(&base2, &b, &msg).await.unwrap();
        assert_eq!(again.status(), 200);
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        let again: Value = again.json().await.unwrap();
        assert_eq!(again["id"], first["id"]);
        let changed =
            serde_json::json!({"to": ["carol@example.com"], "subject": subject, "body": "twice"});
        assert_eq!(send(&base2, &b, &changed).await.unwrap().status(), 409);
        let q = format!("/api/v1/messages?q=subject:{}", subject.replace(' ', "+"));
        let (_, found) = get(base, &q, &b).await;
        assert_eq!(found["messages"].as_array().unwrap().len(), 1, "{found}");
        // Another caller's identical key is another request: it runs.
        let r = send(&base2, &a, &msg).await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers().get("idempotent-replayed").is_none());

        // A revoked key is refused.
        let info = store.authenticate(&a.key).await.unwrap().unwrap();
        for k in store.list_api_keys(&info.id).await.unwrap() {
            store.revoke_api_key(&k.id).await.unwrap();
        }
        assert_eq!(get(base, "/api/v1/profile", &a).await.0, 401);
        assert_eq!(get(&base2, "/api/v1/profile", &a).await.0, 401);
    }
}

#[tokio::test]
async fn the_callback_explains_what_went_wrong() {
    let d = Deployment::start(&database_urls().remove(0)).await;
    let base = &d.base;
    let json = |path: String| async move {
        let r = fetch(http().get(path).header("accept", "application/json")).await;
        (
            r.status().as_u16(),
            r.json::<Value>().await.unwrap_or(Value::Null),
        )
    };
    let (s, body) = json(format!("{base}/oauth/callback?error=access_denied&state=x")).await;
    assert_eq!(s, 400);
    assert_detail_has(&body, "declined");
    let (s, body) = json(format!("{base}/oauth/callback?code=4/x&state=never-issued")).await;
    assert_eq!(s, 400);
    assert_detail_has(&body, "unknown or already used");
    let (s, _) = json(format!("{base}/oauth/callback")).await;
    assert_eq!(s, 400);
    // The browser gets a page, not JSON.
    let r = fetch(http().get(format!("{base}/oauth/callback?error=access_denied"))).await;
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
}

/// Holes found by probing: a consent link held by someone else, a victim's browser completing
/// an attacker's link (login CSRF), states burnt by others, and open redirects.
#[tokio::test]
async fn authorizations_belong_to_the_browser_that_started_them() {
    let d = Deployment::start(&database_urls().remove(0)).await;
    let base = &d.base;
    let alice = new_caller(&d.store, "alice").await;
    let bob = new_caller(&d.store, "bob").await;
    let start = |c: &Caller, body: Value| {
        http()
            .post(format!("{base}/api/v1/connections"))
            .bearer_auth(&c.key)
            .json(&body)
            .send()
    };
    let r = start(&alice, serde_json::json!({"loginHint": "demo@example.com"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let link: Value = r.json().await.unwrap();
    let auth_url = link["authUrl"].as_str().unwrap().to_string();
    let state = link["state"].as_str().unwrap().to_string();
    assert!(auth_url.contains("/oauth/start?state="), "{auth_url}");

    // A page elsewhere cannot press the button for the user (cross-site form post).
    let r = fetch(
        http()
            .post(format!("{base}/oauth/start"))
            .header("origin", "http://evil.example")
            .form(&[("state", state.as_str())]),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("set-cookie").is_none());

    // Alice's browser opens the link; a second browser holding it gets nothing.
    let (cookie, consent_url) = open_start_link(base, &auth_url).await;
    let r = fetch(
        http()
            .post(format!("{base}/oauth/start"))
            .header("origin", base.as_str())
            .form(&[("state", state.as_str())]),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("another browser"));

    // Someone who got hold of Google's consent URL completes it in their browser: refused,
    // and the state survives. So does an error callback, and bob's tool call with it.
    let query = consent_at_google(&consent_url).await;
    let r = fetch(
        http()
            .get(format!("{base}/oauth/callback?{query}"))
            .header("accept", "application/json"),
    )
    .await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_detail_has(&body, "another browser");
    let r = fetch(http().get(format!(
        "{base}/oauth/callback?error=access_denied&state={state}"
    )))
    .await;
    assert_eq!(r.status(), 400);
    let code = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("code="))
        .unwrap();
    let r = fetch(
        http()
            .post(format!("{base}/api/v1/tools/gmail_handle_oauth_callback"))
            .bearer_auth(&bob.key)
            .json(&serde_json::json!({"code": code, "state": state})),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("another user"));

    // Alice's own browser still finishes, and the page shows no key.
    let r = fetch(
        http()
            .get(format!("{base}/oauth/callback?{query}"))
            .header("cookie", cookie),
    )
    .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("demo@example.com is connected")
            || html.contains("<b>demo@example.com</b> is connected"),
        "{html}"
    );
    assert!(!html.contains("gms_") && !html.contains("Bearer"), "{html}");
    let (status, profile) = get(base, "/api/v1/profile", &alice).await;
    assert_eq!(
        (status, profile["emailAddress"].as_str()),
        (200, Some("demo@example.com"))
    );
    assert_eq!(get(base, "/api/v1/profile", &bob).await.0, 404);

    // returnTo: paths and configured origins only.
    for bad in [
        "https://evil.example",
        "//evil.example",
        "javascript:alert(1)",
        "http://127.0.0.1@evil.example/",
    ] {
        let r = start(&alice, serde_json::json!({"returnTo": bad}))
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["field"], "returnTo", "{bad}");
    }
    let r = start(&alice, serde_json::json!({"returnTo": "/connected"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

async fn tool(base: &str, c: &Caller, name: &str, args: Value) -> (u16, Value) {
    post(base, &format!("/api/v1/tools/{name}"), c, args).await
}

/// Each user has their own attachment and download folders: nobody attaches, overwrites or
/// even detects another's files, and no answer shows a server path.
#[tokio::test]
async fn users_never_share_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = Deployment::start_with(&database_urls().remove(0), |s| {
        s.tools.attachment_dirs = vec![dir.path().join("attach")];
        s.tools.download_dir = dir.path().join("downloads");
    })
    .await;
    let (base, store) = (&d.base, &d.store);
    let alice = new_caller(store, "alice").await;
    let bob = new_caller(store, "bob").await;
    connect(base, &alice, "demo@example.com").await;
    connect(base, &bob, "bob@example.com").await;
    let alice_id = store.authenticate(&alice.key).await.unwrap().unwrap().id;
    let mine = dir.path().join("attach/users").join(&alice_id);
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("alice-payroll.csv"), "name,salary\nalice,1\n").unwrap();
    let server_path = dir.path().display().to_string();

    // Alice attaches her file; bob cannot, by name, by climbing, or by absolute path, and
    // those answers read exactly like a file that does not exist.
    let send = |file: String| {
        serde_json::json!({"to": ["bob@example.com"], "subject": "payroll", "body": "attached",
            "attachments": [file]})
    };
    let (status, sent) = tool(base, &alice, "send_email", send("alice-payroll.csv".into())).await;
    assert_eq!(status, 200, "{sent}");
    let absolute = mine.join("alice-payroll.csv").display().to_string();
    let mut answers = Vec::new();
    for probe in [
        "alice-payroll.csv".to_string(),
        format!("../{alice_id}/alice-payroll.csv"),
        absolute.clone(),
        "/etc/passwd".to_string(),
        "no-such-file.csv".to_string(),
    ] {
        let (status, body) = tool(base, &bob, "send_email", send(probe.clone())).await;
        assert_eq!(status, 400, "{probe}: {body}");
        assert_eq!(body["field"], "attachments", "{body}");
        let detail = body["detail"].as_str().unwrap().replace(&probe, "P");
        assert!(
            !detail.contains(&server_path),
            "a server path leaked: {detail}"
        );
        answers.push(detail);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");

    // Downloads land in each caller's own folder (per connected account), shown relative.
    let (_, found) = tool(
        base,
        &bob,
        "search_emails",
        serde_json::json!({"query": "subject:payroll"}),
    )
    .await;
    let id = found["structured"]["messages"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, read) = tool(
        base,
        &bob,
        "read_email",
        serde_json::json!({"messageId": id}),
    )
    .await;
    let att = read["structured"]["message"]["attachments"][0]["attachmentId"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, saved) = tool(
        base,
        &bob,
        "download_attachment",
        serde_json::json!({"messageId": id, "attachmentId": att, "savePath": "in"}),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(
        saved["structured"]["path"],
        "bob@example.com/in/alice-payroll.csv"
    );
    assert!(!saved.to_string().contains(&server_path), "{saved}");
    let bob_id = store.authenticate(&bob.key).await.unwrap().unwrap().id;
    let on_disk = dir
        .path()
        .join("downloads/users")
        .join(&bob_id)
        .join("bob@example.com/in/alice-payroll.csv");
    assert!(on_disk.is_file(), "{}", on_disk.display());
    // Bob cannot write into alice's folder by climbing out of his.
    let (status, body) = tool(
        base,
        &bob,
        "download_attachment",
        serde_json::json!({"messageId": id, "attachmentId": att,
            "savePath": format!("../../{alice_id}/demo@example.com")}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "savePath");
    assert!(!dir.path().join("downloads/users").join(&alice_id).exists());

    // Names and paths that cannot be files are 400s naming the field, never 500s; a link out
    // of bob's folder is refused before anything is created at its far end.
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let bob_root = dir.path().join("downloads/users").join(&bob_id);
    std::os::unix::fs::symlink(&outside, bob_root.join("bob@example.com/link")).unwrap();
    for (args, field) in [
        (serde_json::json!({"savePath": "a\u{0}b"}), "savePath"),
        (
            serde_json::json!({"savePath": "a/".repeat(2500)}),
            "savePath",
        ),
        (serde_json::json!({"filename": "é".repeat(200)}), "filename"),
        (
            serde_json::json!({"savePath": "link/new/deeper"}),
            "savePath",
        ),
    ] {
        let mut call = serde_json::json!({"messageId": id, "attachmentId": att});
        call.as_object_mut()
            .unwrap()
            .extend(args.as_object().unwrap().clone());
        let (status, body) = tool(base, &bob, "download_attachment", call).await;
        assert_eq!(
            (status, body["field"].as_str()),
            (400, Some(field)),
            "{args}: {body}"
        );
        assert!(!body.to_string().contains(&server_path), "{body}");
    }
    assert!(
        std::fs::read_dir(&outside).unwrap().next().is_none(),
        "something was created through the link"
    );
}

#[tokio::test]
async fn debug_logs_carry_no_secret() {
    let sandbox = gmail_sandbox::Sandbox::start(gmail_sandbox::SandboxConfig::for_tests())
        .await
        .unwrap();
    let key = gmail_shared::store::cipher::generate_key();
    let db = database_urls().remove(0);
    let port = gmail_test_support::free_port();
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("api.log");
    let bin = env!("CARGO_BIN_EXE_gmail-api-server");
    let mut child = gmail_test_support::server_command(bin, port, dir.path(), &sandbox.base_url())
        .args(["--log-level", "debug"])
        .env("GMAIL_LOG_FORMAT", "json")
        .env("GMAIL_MULTI_USER", "true")
        .env("GMAIL_DATABASE_URL", &db)
        .env("GMAIL_ENCRYPTION_KEY", &key)
        .stdout(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    gmail_test_support::wait_until_up(&base).await;
    let store = store_for(&db, &key).await;
    let c = new_caller(&store, "logs").await;
    connect(&base, &c, "demo@example.com").await;
    // Both must succeed, or the paths that might log a token never ran.
    for path in ["/api/v1/profile", "/api/v1/messages?maxResults=3"] {
        let (status, body) = get(&base, path, &c).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let user = store.authenticate(&c.key).await.unwrap().unwrap();
    let tokens = store.connection_for(&user.id, None).await.unwrap().tokens;
    let _ = child.kill();
    let _ = child.wait();
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(logs.contains("http_request"), "the server logged requests");
    let secrets = [
        c.key.clone(),
        tokens.refresh_token.expose_secret().to_string(),
        tokens.access_token.unwrap().expose_secret().to_string(),
        gmail_sandbox::SANDBOX_CLIENT_SECRET.to_string(),
        key,
    ];
    for s in secrets {
        assert!(!logs.contains(&s), "a secret ({}…) is in the logs", &s[..6]);
    }
}
