//! Holes found by probing the REST server from outside, each closed and kept closed: a web
//! page in a browser on the same machine must not be able to drive the API (CSRF, DNS
//! rebinding, bodies browsers send without a preflight), and no other origin may read it.

use serde_json::{json, Value};

use crate::common::TestApp;

async fn status_of(r: reqwest::RequestBuilder) -> (u16, Value) {
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_web_page_cannot_drive_the_api() {
    let app = TestApp::spawn().await;
    let filter =
        json!({"criteria": {"from": "x@evil.example"}, "action": {"addLabelIds": ["TRASH"]}});
    let before = app.upstream_requests();

    // The probe's requests, each refused before any Gmail call.
    let (s, body) = status_of(
        app.http
            .post(app.url("/api/v1/tools/create_filter"))
            .header("origin", "http://evil.example")
            .header("content-type", "text/plain")
            .body(filter.to_string()),
    )
    .await;
    assert_eq!(s, 403, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("Origin"),
        "{body}"
    );
    let (s, body) = status_of(
        app.http
            .post(app.url("/api/v1/tools/create_filter"))
            .header("content-type", "text/plain")
            .body(filter.to_string()),
    )
    .await;
    assert_eq!(s, 415, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("application/json"),
        "{body}"
    );
    let (s, _) = status_of(
        app.http
            .get(app.url("/api/v1/profile"))
            .header("host", "evil.com"),
    )
    .await;
    assert_eq!(s, 403);
    // A rebinding page on the server's own port still sends its own name.
    let port = app.base.rsplit(':').next().unwrap().to_string();
    let (s, _) = status_of(
        app.http
            .get(app.url("/api/v1/profile"))
            .header("host", format!("evil.com:{port}")),
    )
    .await;
    assert_eq!(s, 403);
    // No Origin, but the browser says the request comes from another site.
    let (s, _) = status_of(
        app.http
            .get(app.url("/api/v1/profile"))
            .header("sec-fetch-site", "cross-site"),
    )
    .await;
    assert_eq!(s, 403);
    // Multipart is a "simple" request too: a cross-origin page may not send one.
    let form =
        "--b\r\nContent-Disposition: form-data; name=\"to\"\r\n\r\nvictim@example.com\r\n--b--\r\n";
    let (s, _) = status_of(
        app.http
            .post(app.url("/api/v1/messages/send"))
            .header("origin", "https://evil.example")
            .header("content-type", "multipart/form-data; boundary=b")
            .body(form),
    )
    .await;
    assert_eq!(s, 403);
    // Form-encoded bodies are not JSON.
    let (s, _) = status_of(
        app.http
            .post(app.url("/api/v1/labels"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("name=evil"),
    )
    .await;
    assert_eq!(s, 415);
    // The docs answer only to allowed hosts as well.
    let (s, _) = status_of(
        app.http
            .get(app.url("/openapi.json"))
            .header("host", "evil.com"),
    )
    .await;
    assert_eq!(s, 403);
    assert_eq!(
        app.upstream_requests(),
        before,
        "a refused request reached Gmail"
    );

    // Local callers and pages on allowed origins still work, and get no CORS headers.
    let r = app
        .http
        .get(app.url("/api/v1/profile"))
        .header("origin", "http://localhost:5173")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let r = app
        .http
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/profile"))
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let (s, body) = status_of(
        app.http
            .post(app.url("/api/v1/tools/get_profile"))
            .json(&json!({})),
    )
    .await;
    assert_eq!(s, 200, "{body}");
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
    let r = app
        .http
        .get(app.url("/api/v1/profile"))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
}
