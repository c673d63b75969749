//! Reading mail with the real google-gmail1 client: profile, list, search, paging, formats.

use crate::common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_and_labels_list() {
    let (sb, hub) = start_demo().await;
    let users = hub.users();
    let p = ok(users.get_profile("me").doit(), "profile").await;
    assert_eq!(p.email_address.as_deref(), Some(DEMO));
    assert!(p.messages_total.unwrap_or(0) > 0);
    assert!(p.history_id.unwrap_or(0) > 0);
    // userId may also be the address itself; another address is delegation-denied.
    ok(users.get_profile(DEMO).doit(), "by address").await;
    fails_with(users.get_profile(BOB).doit(), 403).await;

    let labels = ok(users.labels_list("me").doit(), "labels").await;
    let labels = labels.labels.unwrap_or_default();
    assert!(labels.iter().any(|l| l.id.as_deref() == Some("INBOX")));
    assert!(labels.iter().all(|l| l.messages_total.is_none()));
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_query_label_filter_and_paging() {
    let (sb, hub) = start_demo().await;
    let word = unique_word();
    let mut ids = Vec::new();
    for i in 0..5 {
        let raw = simple_message("x@example.org", DEMO, &format!("Paging {word} {i}"), "body");
        let labels: &[&str] = if i % 2 == 0 {
            &["INBOX", "UNREAD"]
        } else {
            &["INBOX"]
        };
        ids.push(insert(&hub, raw, labels).await.id.expect("id"));
    }
    // q + page size 2 → 3 pages, no token on the last.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut call = hub.users().messages_list("me").q(&word).max_results(2);
        if let Some(t) = &token {
            call = call.page_token(t);
        }
        let (_, r) = call.doit().await.expect("list");
        pages += 1;
        assert_eq!(r.result_size_estimate, Some(5));
        for m in r.messages.unwrap_or_default() {
            assert!(m.thread_id.is_some());
            seen.push(m.id.expect("id"));
        }
        token = r.next_page_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    seen.sort();
    ids.sort();
    assert_eq!(seen, ids);

    // labelIds are AND-ed.
    let call = hub.users().messages_list("me").q(&word);
    let call = call.add_label_ids("INBOX").add_label_ids("UNREAD");
    let r = ok(call.doit(), "list").await;
    assert_eq!(r.messages.unwrap_or_default().len(), 3);

    // No hits → no `messages` key, estimate 0.
    let call = hub.users().messages_list("me").q(&unique_word());
    let r = ok(call.doit(), "empty list").await;
    assert!(r.messages.is_none());
    assert_eq!(r.result_size_estimate, Some(0));
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_in_every_format() {
    let (sb, hub) = start_demo().await;
    let raw = b"From: Alice <alice@example.org>\r\nTo: demo@example.com\r\nReceived: one\r\nReceived: two\r\nSubject: Formats\r\nDate: Tue, 06 Jan 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n--b2\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nI've got caf=C3=A9 & more\r\n--b2\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>I've got caf\xc3\xa9</p>\r\n--b2--\r\n--b1\r\nContent-Type: application/pdf; name=\"r.pdf\"\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n".to_vec();
    let id = insert(&hub, raw.clone(), &["INBOX", "UNREAD"])
        .await
        .id
        .expect("id");

    let users = hub.users();
    let full = ok(users.messages_get("me", &id).doit(), "full").await;
    assert_eq!(
        full.snippet.as_deref(),
        Some("I&#39;ve got café &amp; more")
    );
    assert!(full.history_id.is_some() && full.internal_date.is_some());
    assert_eq!(full.size_estimate, Some(raw.len() as i32));
    let payload = full.payload.expect("payload");
    assert_eq!(payload.part_id.as_deref(), Some(""));
    assert_eq!(payload.mime_type.as_deref(), Some("multipart/mixed"));
    let headers = payload.headers.expect("headers");
    assert_eq!(
        headers
            .iter()
            .filter(|h| h.name.as_deref() == Some("Received"))
            .count(),
        2
    );
    assert_eq!(headers[0].name.as_deref(), Some("From"));
    assert_eq!(payload.body.as_ref().and_then(|b| b.size), Some(0));
    let parts = payload.parts.expect("parts");
    assert_eq!(parts[0].part_id.as_deref(), Some("0"));
    let alt = parts[0].parts.as_ref().expect("alternative parts");
    assert_eq!(alt[0].part_id.as_deref(), Some("0.0"));
    let text = alt[0].body.as_ref().expect("body");
    assert_eq!(
        text.data.as_deref(),
        Some("I've got café & more".as_bytes())
    );
    assert_eq!(text.size, Some("I've got café & more".len() as i32));
    assert!(alt[0].parts.is_none());
    let att = &parts[1];
    assert_eq!(att.part_id.as_deref(), Some("1"));
    assert_eq!(att.filename.as_deref(), Some("report.pdf"));
    let att_body = att.body.as_ref().expect("att body");
    assert!(att_body.data.is_none());
    assert_eq!(att_body.size, Some(9));
    let att_id = att_body.attachment_id.clone().expect("attachment id");
    // As long as Gmail's own, so clients are tried with real lengths.
    assert!(att_id.len() > 512, "{} characters", att_id.len());

    let call = users.messages_attachments_get("me", &id, &att_id);
    let a = ok(call.doit(), "attachment").await;
    assert_eq!(a.data.as_deref(), Some(&b"%PDF-1.4\n"[..]));
    assert_eq!(a.size, Some(9));
    // Attachment ids are stable across fetches.
    let again = ok(users.messages_get("me", &id).doit(), "again").await;
    let again_id = again.payload.unwrap().parts.unwrap()[1]
        .body
        .as_ref()
        .unwrap()
        .attachment_id
        .clone();
    assert_eq!(again_id.as_deref(), Some(att_id.as_str()));

    let min = get_message(&hub, &id, "minimal").await;
    assert!(min.payload.is_none() && min.raw.is_none());
    assert_eq!(min.label_ids.as_ref().map(|l| l.len()), Some(2));

    let call = users.messages_get("me", &id).format("metadata");
    let call = call
        .add_metadata_headers("subject")
        .add_metadata_headers("From");
    let meta = ok(call.doit(), "metadata").await;
    let mp = meta.payload.expect("metadata payload");
    assert!(mp.parts.is_none() && mp.body.is_none());
    let names: Vec<_> = mp
        .headers
        .unwrap()
        .into_iter()
        .filter_map(|h| h.name)
        .collect();
    assert_eq!(names, vec!["From".to_string(), "Subject".to_string()]);

    let r = get_message(&hub, &id, "raw").await;
    assert_eq!(r.raw.as_deref(), Some(&raw[..]));
    assert!(r.payload.is_none());

    // Unknown and malformed ids.
    fails_with(users.messages_get("me", "0000000000000001").doit(), 404).await;
    let e = fails(users.messages_get("me", "not-an-id!").doit()).await;
    assert_eq!(error_body(&e)["error"]["message"], "Invalid id value");
    sb.stop().await;
}
