//! Request shapes clients use: method override, upload variants, batch requests.

use crate::common;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn method_override_and_upload_variants() {
    let sb = start().await;
    let api = Api::full(&sb, DEMO);
    let word = unique_word();

    // uploadType=media
    let raw = simple_message("a@b.c", DEMO, &format!("Media {word}"), "m");
    let media = "upload/gmail/v1/users/me/messages?uploadType=media";
    let rfc822 = ("content-type", "message/rfc822");
    api.call("POST", media, &[rfc822], raw).await.expect(200);

    // Node-style multipart: lower-case part headers, no trailing CRLF, JSON metadata with labels.
    let raw = simple_message("a@b.c", DEMO, &format!("Node {word}"), "n");
    let mut body = b"--node123\r\ncontent-type: application/json\r\n\r\n{\"labelIds\":[\"INBOX\"]}\r\n--node123\r\ncontent-type: message/rfc822\r\n\r\n".to_vec();
    body.extend_from_slice(&raw);
    body.extend_from_slice(b"\r\n--node123--");
    let multipart = "upload/gmail/v1/users/me/messages?uploadType=multipart";
    let related = ("content-type", "multipart/related; boundary=node123");
    let r = api.call("POST", multipart, &[related], body).await;
    assert_eq!(r.ok_json()["labelIds"], json!(["INBOX"]));

    // Python-style resumable: init on /upload/, chunks by PUT, 308 with Range in between.
    let raw = simple_message("a@b.c", DEMO, &format!("Resumable {word}"), "r");
    let resumable = "upload/gmail/v1/users/me/messages/import?uploadType=resumable";
    let headers = [JSON_CT, ("x-upload-content-type", "message/rfc822")];
    let metadata = br#"{"labelIds":["INBOX","UNREAD"]}"#.to_vec();
    let r = api.call("POST", resumable, &headers, metadata).await;
    assert_eq!(r.status, 200);
    let location = r.headers["location"].clone();
    let total = raw.len();
    let (a, b) = raw.split_at(10);
    let chunk = |range: String, bytes: &[u8]| {
        let (location, bytes) = (location.clone(), bytes.to_vec());
        async move { http_url("PUT", &location, &[("content-range", &range)], bytes).await }
    };
    let r = chunk(format!("bytes 0-9/{total}"), a).await;
    assert_eq!(r.status, 308);
    assert_eq!(r.headers["range"], "bytes=0-9");
    let r = chunk(format!("bytes 10-{}/{total}", total - 1), b).await;
    assert_eq!(r.ok_json()["labelIds"], json!(["INBOX", "UNREAD"]));

    // Long-URL GET as POST + X-HTTP-Method-Override with a form body.
    let headers = [FORM, ("x-http-method-override", "GET")];
    let query = form(&[("q", &word), ("maxResults", "10")]);
    let r = api
        .call("POST", "gmail/v1/users/me/messages", &headers, query)
        .await;
    assert_eq!(r.ok_json()["resultSizeEstimate"], 3);
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_endpoint() {
    let sb = start().await;
    let api = Api::full(&sb, DEMO);
    let raw = simple_message("a@b.c", DEMO, "batch me", "x");
    let id = api.insert(&raw, &["INBOX", "UNREAD"]).await;
    let auth = &api.auth;
    let mut body = String::new();
    body.push_str(&format!(
        "--XYZ\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <abc + 1>\r\n\r\n\
         GET /gmail/v1/users/me/messages/{id}?format=minimal HTTP/1.1\r\nauthorization: {auth}\r\n\r\n\r\n"
    ));
    body.push_str(&format!(
        "--XYZ\r\nContent-Type: application/http\r\nContent-ID: <abc + 2>\r\n\r\n\
         POST /gmail/v1/users/me/messages/{id}/modify HTTP/1.1\r\nContent-Type: application/json\r\n\r\n\
         {{\"removeLabelIds\":[\"UNREAD\"]}}\r\n"
    ));
    body.push_str(
        "--XYZ\r\nContent-Type: application/http\r\nContent-ID: <abc + 3>\r\n\r\n\
         GET /gmail/v1/users/me/messages/00000000000000ab HTTP/1.1\r\n\r\n\r\n--XYZ--\r\n",
    );
    let mixed = ("content-type", "multipart/mixed; boundary=XYZ");
    for path in ["batch", "batch/gmail/v1"] {
        let r = api
            .call("POST", path, &[mixed], body.clone().into_bytes())
            .await;
        assert_eq!(r.status, 200);
        assert!(r.headers["content-type"].starts_with("multipart/mixed; boundary=batch_"));
        let text = r.text();
        assert!(text.contains("Content-ID: <response-abc + 1>"), "{text}");
        assert!(text.contains("Content-ID: <response-abc + 2>"));
        assert!(text.contains("HTTP/1.1 404 Not Found"));
        assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 2);
    }
    // More than 100 parts → 400.
    let mut big = String::new();
    for i in 0..101 {
        big.push_str(&format!(
            "--B\r\nContent-Type: application/http\r\nContent-ID: <{i}>\r\n\r\nGET /gmail/v1/users/me/profile HTTP/1.1\r\n\r\n\r\n"
        ));
    }
    big.push_str("--B--\r\n");
    let mixed = ("content-type", "multipart/mixed; boundary=B");
    let r = api
        .call("POST", "batch/gmail/v1", &[mixed], big.into_bytes())
        .await;
    assert_eq!(r.status, 400);
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_style_batch() {
    let sb = start().await;
    let auth = Api::full(&sb, DEMO).auth;
    // google-api-python-client: quoted boundary, MIME-Version per part, LF line endings,
    // auth inside each part, Content-ID "<uuid + n>", no body on GETs.
    let mut body = String::new();
    for n in 1..=3 {
        body.push_str(&format!(
            "--===============7330845974216740156==\nContent-Type: application/http\nMIME-Version: 1.0\n\
             Content-Transfer-Encoding: binary\nContent-ID: <8a1b0c1e-uuid + {n}>\n\n\
             GET /gmail/v1/users/me/labels?alt=json HTTP/1.1\nContent-Type: application/json\nMIME-Version: 1.0\n\
             accept: application/json\nhost: gmail.googleapis.com\nauthorization: {auth}\n\n\n"
        ));
    }
    body.push_str("--===============7330845974216740156==--");
    let quoted = "multipart/mixed; boundary=\"===============7330845974216740156==\"";
    let r = http(
        &sb,
        "POST",
        "batch",
        &[("content-type", quoted)],
        body.into_bytes(),
    )
    .await;
    assert_eq!(r.status, 200);
    let text = r.text();
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 3, "{text}");
    assert!(text.contains("Content-ID: <response-8a1b0c1e-uuid + 3>"));
    assert!(text.contains("\"labels\""));
    sb.stop().await;
}
