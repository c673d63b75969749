//! Holes found by probing the REST server from outside, each closed and kept closed: a web
//! page in a browser on the same machine must not be able to drive the API (CSRF, DNS
//! rebinding, bodies browsers send without a preflight), and no other origin may read it.

use serde_json::json;

use crate::common::{fetch, status_json, TestApp};

#[tokio::test]
async fn a_web_page_cannot_drive_the_api() {
    let app = TestApp::spawn().await;
    let filter =
        json!({"criteria": {"from": "x@evil.example"}, "action": {"addLabelIds": ["TRASH"]}});
    let before = app.upstream_requests();

    // The probe's requests, each refused before any Gmail call: (what it tries, the request,
    // the status, words the problem's detail must hold).
    let port = app.base.rsplit(':').next().unwrap().to_string();
    let form =
        "--b\r\nContent-Disposition: form-data; name=\"to\"\r\n\r\nvictim@example.com\r\n--b--\r\n";
    let create_filter = || app.http.post(app.url("/api/v1/tools/create_filter"));
    let profile = || app.http.get(app.url("/api/v1/profile"));
    let probes = [
        (
            "a cross-origin text/plain post",
            create_filter()
                .header("origin", "http://evil.example")
                .header("content-type", "text/plain")
                .body(filter.to_string()),
            403,
            Some("Origin"),
        ),
        (
            "a text/plain post",
            create_filter()
                .header("content-type", "text/plain")
                .body(filter.to_string()),
            415,
            Some("application/json"),
        ),
        (
            "another Host",
            profile().header("host", "evil.com"),
            403,
            None,
        ),
        // A rebinding page on the server's own port still sends its own name.
        (
            "another Host on this port",
            profile().header("host", format!("evil.com:{port}")),
            403,
            None,
        ),
        // No Origin, but the browser says the request comes from another site.
        (
            "a cross-site fetch",
            profile().header("sec-fetch-site", "cross-site"),
            403,
            None,
        ),
        // Multipart is a "simple" request too: a cross-origin page may not send one.
        (
            "a cross-origin multipart post",
            app.http
                .post(app.url("/api/v1/messages/send"))
                .header("origin", "https://evil.example")
                .header("content-type", "multipart/form-data; boundary=b")
                .body(form),
            403,
            None,
        ),
        // Form-encoded bodies are not JSON.
        (
            "a form-encoded body",
            app.http
                .post(app.url("/api/v1/labels"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("name=evil"),
            415,
            None,
        ),
        // The docs answer only to allowed hosts as well.
        (
            "the docs for another Host",
            app.http
                .get(app.url("/openapi.json"))
                .header("host", "evil.com"),
            403,
            None,
        ),
    ];
    for (what, request, expected, detail) in probes {
        let (s, body) = status_json(request).await;
        assert_eq!(s, expected, "{what}: {body}");
        if let Some(words) = detail {
            assert!(
                body["detail"].as_str().unwrap().contains(words),
                "{what}: {body}"
            );
        }
    }
    assert_eq!(
        app.upstream_requests(),
        before,
        "a refused request reached Gmail"
    );

    // Local callers and pages on allowed origins still work, and get no CORS headers.
    let r = profile_from(&app, "http://localhost:5173").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let r = fetch(
        app.http
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/profile"))
            .header("origin", "http://localhost:5173")
            .header("access-control-request-method", "POST"),
    )
    .await;
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let (s, body) = status_json(
        app.http
            .post(app.url("/api/v1/tools/get_profile"))
            .json(&json!({})),
    )
    .await;
    assert_eq!(s, 200, "{body}");
}

/// GET /api/v1/profile as a page on `origin` sends it.
async fn profile_from(app: &TestApp, origin: &str) -> reqwest::Response {
    fetch(
        app.http
            .get(app.url("/api/v1/profile"))
            .header("origin", origin),
    )
    .await
}

#[tokio::test]
async fn cors_answers_only_the_configured_origins() {
    let app = TestApp::spawn_with(|s| {
        s.api.cors_allowed_origins = vec!["https://app.example.com".into()];
    })
    .await;
    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/messages/send"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type, idempotency-key",
            )
            .send()
    };
    let r = preflight("https://app.example.com").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let r = preflight("https://evil.example").await.unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let r = profile_from(&app, "https://app.example.com").await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
}

/// Bodies in flight share one memory budget: while a large send is being processed, another
/// large body waits for its share, then gets 503 with Retry-After; a body that trickles in is
/// cut off with 408.
#[tokio::test]
async fn request_bodies_are_bounded_in_memory_and_time() {
    use base64::Engine;
    let app = TestApp::spawn_with(|s| {
        s.limits.body_timeout_secs = 1;
        s.limits.max_body_bytes = 1 << 20;
        s.limits.body_memory_bytes = 1 << 20;
    })
    .await;
    // Gmail answers slowly: the first send holds its body's share for ~2 s.
    app.sandbox.set_faults(gmail_sandbox::FaultConfig {
        latency_ms: 2000,
        ..Default::default()
    });
    let attachment = base64::engine::general_purpose::STANDARD.encode(vec![7u8; 600 * 1024]);
    let big = json!({"to": ["a@example.com"], "subject": "big", "body": "x",
        "attachmentContents": [{"filename": "a.bin", "contentBase64": attachment}]});
    let hog = {
        let http = app.http.clone();
        let url = app.url("/api/v1/tools/send_email");
        tokio::spawn(async move {
            http.post(url)
                .json(&big)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let r = fetch(
        app.http
            .post(app.url("/api/v1/tools/get_profile"))
            .header("content-type", "application/json")
            .body(format!("{{{}}}", " ".repeat(400 * 1024))),
    )
    .await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    assert_eq!(hog.await.unwrap(), 200);
    app.sandbox
        .set_faults(gmail_sandbox::FaultConfig::default());

    // A body that never finishes arriving.
    let port: u16 = app.base.rsplit(':').next().unwrap().parse().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(s, "POST /api/v1/tools/get_profile HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{{").unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).unwrap_or(0);
        String::from_utf8_lossy(&buf[..n]).to_string()
    })
    .await
    .unwrap();
    assert!(line.starts_with("HTTP/1.1 408"), "{line}");
}
