//! The documentation, the tool registry over REST, and errors: problem+json everywhere, 429
//! with Retry-After and 502 when Gmail fails, 405 and 404 for wrong methods and paths.

use crate::common;

use common::{assert_bad_field, assert_detail_has, assert_problem, fetch, TestApp};
use gmail_sandbox::FaultConfig;
use serde_json::json;

#[tokio::test]
async fn openapi_lists_every_endpoint_and_docs_are_served() {
    let app = TestApp::spawn().await;
    let doc = app.get_ok("/openapi.json").await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/messages",
        "/api/v1/messages/{id}",
        "/api/v1/messages/send",
        "/api/v1/messages/{id}/reply",
        "/api/v1/messages/{id}/forward",
        "/api/v1/messages/{id}/modify",
        "/api/v1/messages/{id}/trash",
        "/api/v1/messages/{id}/untrash",
        "/api/v1/messages/batchModify",
        "/api/v1/messages/batchDelete",
        "/api/v1/messages/{id}/attachments/{attachmentId}",
        "/api/v1/threads",
        "/api/v1/threads/{id}",
        "/api/v1/threads/{id}/modify",
        "/api/v1/threads/{id}/trash",
        "/api/v1/labels",
        "/api/v1/labels/{id}",
        "/api/v1/labels/getOrCreate",
        "/api/v1/drafts",
        "/api/v1/drafts/{id}",
        "/api/v1/drafts/{id}/send",
        "/api/v1/filters",
        "/api/v1/filters/{id}",
        "/api/v1/profile",
        "/api/v1/changes",
        "/api/v1/settings/vacation",
        "/api/v1/tools",
        "/api/v1/tools/{name}",
        "/health",
    ] {
        assert!(paths.contains_key(p), "{p} missing from /openapi.json");
    }
    // Every operation documents its errors as problem+json, and every response is described.
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            for code in ["400", "404", "429", "502"] {
                assert!(responses.contains_key(code), "{method} {path} lacks {code}");
            }
            for (code, r) in responses {
                assert!(
                    r["description"].is_string() || r["$ref"].is_string(),
                    "{method} {path} {code}"
                );
            }
        }
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    // Every schema reference resolves (a hand-made schema, as for a shown-once secret, is
    // registered as a component too).
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &r[..r.find('"').unwrap()];
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{name} is referenced but not defined"
        );
    }
    assert_eq!(
        doc["components"]["schemas"]["ShownOnce"]["type"], "string",
        "{}",
        doc["components"]["schemas"]["ShownOnce"]
    );

    let r = app.get_response("/docs").await;
    // reqwest follows the redirect to /docs/.
    assert_eq!(r.status(), 200);
    assert!(r.url().path().ends_with("/docs/"));
    let html = r.text().await.unwrap();
    assert!(html.contains("swagger"), "{html}");
    let r = app.get_response("/docs/swagger-ui-bundle.js").await;
    assert_eq!(r.status(), 200, "Swagger UI assets are vendored");
}

#[tokio::test]
async fn tools_are_the_mcp_registry() {
    let app = TestApp::spawn().await;
    let list = app.get_ok("/api/v1/tools").await;
    let tools = list["tools"].as_array().unwrap();
    assert!(tools.len() > 20);
    let search = tools.iter().find(|t| t["name"] == "search_emails").unwrap();
    assert!(search["inputSchema"]["properties"]["query"].is_object());
    let one = app.get_ok("/api/v1/tools/get_profile").await;
    assert_eq!(one["name"], "get_profile");

    let (s, out) = app
        .tool(
            "search_emails",
            json!({"query": "in:inbox", "maxResults": 2}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    assert!(out["text"].is_string());
    assert_eq!(out["structured"]["messages"].as_array().unwrap().len(), 2);

    // A write through the registry changes the mailbox like the resource endpoint does.
    let id = app.first_id("in:inbox").await;
    let (s, out) = app
        .tool(
            "modify_email",
            json!({"messageId": id, "addLabelIds": ["STARRED"]}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    assert!(app.labels_of(&id).await.contains(&"STARRED".into()));

    let r = fetch(app.http.post(app.url("/api/v1/tools/get_profile"))).await;
    assert_eq!(r.status(), 200, "no body means no arguments");

    let (s, p) = app.tool("no_such_tool", json!({})).await;
    assert_problem(s, &p, 404);
    let (s, p) = app.tool("search_emails", json!({"maxResults": 2})).await;
    assert_bad_field(s, &p, "query");
    let (s, p) = app.tool("search_emails", json!([1])).await;
    assert_problem(s, &p, 400);
    // The argument at fault is named by its path, whatever went wrong with it.
    for (args, field) in [
        (json!({"query": "x", "maxResults": "ten"}), "maxResults"),
        (json!({"query": "x", "maxResuls": 5}), "maxResuls"),
        (json!({"query": "x", "labelIds": [1]}), "labelIds[0]"),
    ] {
        let (s, p) = app.tool("search_emails", args).await;
        assert_bad_field(s, &p, field);
    }
    let (s, p) = app
        .tool(
            "send_email",
            json!({"to": ["a@example.com"], "subject": "s", "body": "b",
                "attachmentContents": [{"filename": "f", "contentBase64": 7}]}),
        )
        .await;
    assert_bad_field(s, &p, "attachmentContents[0].contentBase64");
}

#[tokio::test]
async fn upstream_failures_map_to_429_and_502() {
    // Gmail fails for good here: after 1 s of retries the caller gets the error.
    let app = TestApp::spawn_with(|s| s.gmail.retry_max_wait_secs = 1).await;
    app.sandbox.set_faults(FaultConfig {
        rate_limit_rate: 1.0,
        ..Default::default()
    });
    let r = app.get_response("/api/v1/labels").await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"), "{:?}", r.headers());
    assert_eq!(r.headers()["content-type"], "application/problem+json");

    app.sandbox.set_faults(FaultConfig {
        error_rate: 1.0,
        error_status: Some(503),
        ..Default::default()
    });
    let (s, p) = app.get("/api/v1/profile").await;
    assert!(s == 502 || s == 503, "{s} {p}");
    assert_problem(s, &p, s);
    assert!(!p["detail"].as_str().unwrap().is_empty());
    app.sandbox.set_faults(FaultConfig::default());
    assert_eq!(app.get("/api/v1/profile").await.0, 200);
}

#[tokio::test]
async fn wrong_methods_paths_and_bodies_are_problems() {
    let app = TestApp::spawn().await;
    let (s, p) = app.send(reqwest::Method::PUT, "/api/v1/labels", None).await;
    assert_problem(s, &p, 405);
    let (s, p) = app.get("/api/v1/nothing-here").await;
    assert_problem(s, &p, 404);
    let r = fetch(
        app.http
            .post(app.url("/api/v1/labels"))
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = app
        .http
        .post(app.url("/api/v1/messages/send"))
        .header("content-type", "application/json")
        .body(vec![b' '; (36 << 20) + 10])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let p: serde_json::Value = r.json().await.unwrap();
    assert_detail_has(&p, &(36u64 << 20).to_string());
    let (s, p) = app
        .get("/api/v1/profile?account=someone-else@example.com")
        .await;
    assert_problem(s, &p, 404);
}
