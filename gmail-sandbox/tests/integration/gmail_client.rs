//! The real google-gmail1 client against the sandbox, over real sockets.

use crate::common;

use std::io::Cursor;

use common::*;
use google_gmail1::api::{
    BatchDeleteMessagesRequest, BatchModifyMessagesRequest, Draft, Filter, FilterAction,
    FilterCriteria, Label, LabelColor, Message, ModifyMessageRequest, ModifyThreadRequest, SendAs,
    VacationSettings,
};
use google_gmail1::Error;

fn rfc822() -> mime::Mime {
    "message/rfc822".parse().expect("mime")
}

fn status_of(e: &Error) -> Option<u16> {
    match e {
        Error::BadRequest(v) => v["error"]["code"].as_u64().map(|c| c as u16),
        Error::Failure(r) => Some(r.status().as_u16()),
        _ => None,
    }
}

fn error_body(e: &Error) -> serde_json::Value {
    match e {
        Error::BadRequest(v) => v.clone(),
        other => panic!("expected a JSON error, got {other:?}"),
    }
}

async fn insert(hub: &Hub, raw: Vec<u8>, labels: &[&str]) -> Message {
    let msg = Message {
        label_ids: Some(labels.iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    };
    hub.users()
        .messages_insert(msg, "me")
        .upload(Cursor::new(raw), rfc822())
        .await
        .expect("insert")
        .1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_and_labels_list() {
    let sb = start().await;
    let hub = hub(&sb, DEMO);
    let (_, p) = hub.users().get_profile("me").doit().await.expect("profile");
    assert_eq!(p.email_address.as_deref(), Some(DEMO));
    assert!(p.messages_total.unwrap_or(0) > 0);
    assert!(p.history_id.unwrap_or(0) > 0);
    // userId may also be the address itself; another address is delegation-denied.
    hub.users()
        .get_profile(DEMO)
        .doit()
        .await
        .expect("by address");
    let err = hub.users().get_profile(BOB).doit().await.unwrap_err();
    assert_eq!(status_of(&err), Some(403));

    let (_, labels) = hub.users().labels_list("me").doit().await.expect("labels");
    let labels = labels.labels.unwrap_or_default();
    assert!(labels.iter().any(|l| l.id.as_deref() == Some("INBOX")));
    assert!(labels.iter().all(|l| l.messages_total.is_none()));
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_query_label_filter_and_paging() {
    let sb = start().await;
    let hub = hub(&sb, DEMO);
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
    let (_, r) = hub
        .users()
        .messages_list("me")
        .q(&word)
        .add_label_ids("INBOX")
        .add_label_ids("UNREAD")
        .doit()
        .await
        .expect("list");
    assert_eq!(r.messages.unwrap_or_default().len(), 3);

    // No hits → no `messages` key, estimate 0.
    let (_, r) = hub
        .users()
        .messages_list("me")
        .q(&unique_word())
        .doit()
        .await
        .expect("empty list");
    assert!(r.messages.is_none());
    assert_eq!(r.result_size_estimate, Some(0));
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_in_every_format() {
    let sb = start().await;
    let hub = hub(&sb, DEMO);
    let raw = b"From: Alice <alice@example.org>\r\nTo: demo@example.com\r\nReceived: one\r\nReceived: two\r\nSubject: Formats\r\nDate: Tue, 06 Jan 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n--b2\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nI've got caf=C3=A9 & more\r\n--b2\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>I've got caf\xc3\xa9</p>\r\n--b2--\r\n--b1\r\nContent-Type: application/pdf; name=\"r.pdf\"\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n".to_vec();
    let id = insert(&hub, raw.clone(), &["INBOX", "UNREAD"])
        .await
        .id
        .expect("id");

    let (_, full) = hub
        .users()
        .messages_get("me", &id)
        .doit()
        .await
        .expect("full");
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

    let (_, a) = hub
        .users()
        .messages_attachments_get("me", &id, &att_id)
        .doit()
        .await
        .expect("attachment");
    assert_eq!(a.data.as_deref(), Some(&b"%PDF-1.4\n"[..]));
    assert_eq!(a.size, Some(9));
    // Attachment ids are stable across fetches.
    let (_, again) = hub
        .users()
        .messages_get("me", &id)
        .doit()
        .await
        .expect("again");
    let again_id = again.payload.unwrap().parts.unwrap()[1]
        .body
        .as_ref()
        .unwrap()
        .attachment_id
        .clone();
    assert_eq!(again_id.as_deref(), Some(att_id.as_str()));

    let (_, min) = hub
        .users()
        .messages_get("me", &id)
        .format("minimal")
        .doit()
        .await
        .expect("minimal");
    assert!(min.payload.is_none() && min.raw.is_none());
    assert_eq!(min.label_ids.as_ref().map(|l| l.len()), Some(2));

    let (_, meta) = hub
        .users()
        .messages_get("me", &id)
        .format("metadata")
        .add_metadata_headers("subject")
        .add_metadata_headers("From")
        .doit()
        .await
        .expect("metadata");
    let mp = meta.payload.expect("metadata payload");
    assert!(mp.parts.is_none() && mp.body.is_none());
    let names: Vec<_> = mp
        .headers
        .unwrap()
        .into_iter()
        .filter_map(|h| h.name)
        .collect();
    assert_eq!(names, vec!["From".to_string(), "Subject".to_string()]);

    let (_, r) = hub
        .users()
        .messages_get("me", &id)
        .format("raw")
        .doit()
        .await
        .expect("raw");
    assert_eq!(r.raw.as_deref(), Some(&raw[..]));
    assert!(r.payload.is_none());

    // Unknown and malformed ids.
    let e = hub
        .users()
        .messages_get("me", "0000000000000001")
        .doit()
        .await
        .unwrap_err();
    assert_eq!(status_of(&e), Some(404));
    let e = hub
        .users()
        .messages_get("me", "not-an-id!")
        .doit()
        .await
        .unwrap_err();
    assert_eq!(error_body(&e)["error"]["message"], "Invalid id value");
    sb.stop().await;
}

fn message_with_attachment(from: &str, to: &str, subject: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nBcc: secret@example.net\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\n\
         See attached.\r\n--zz\r\nContent-Type: text/plain; name=\"notes.txt\"\r\n\
         Content-Disposition: attachment; filename=\"notes.txt\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
         bm90ZXMgZm9yIGJvYg==\r\n--zz--\r\n"
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_multipart_and_resumable_deliver_to_sandbox_recipient() {
    let sb = start().await;
    let demo = hub(&sb, DEMO);
    let bob = hub(&sb, BOB);
    let word = unique_word();

    let (_, sent) = demo
        .users()
        .messages_send(Message::default(), "me")
        .upload(
            Cursor::new(message_with_attachment(
                "someone@else.org",
                BOB,
                &format!("Hello {word}"),
            )),
            rfc822(),
        )
        .await
        .expect("send multipart");
    assert_eq!(sent.label_ids, Some(vec!["SENT".to_string()]));
    let sent_id = sent.id.expect("id");
    assert_eq!(sent.thread_id.as_deref(), Some(sent_id.as_str()));
    // From was rewritten to the account.
    let (_, m) = demo
        .users()
        .messages_get("me", &sent_id)
        .format("metadata")
        .doit()
        .await
        .expect("get sent");
    let from = m
        .payload
        .unwrap()
        .headers
        .unwrap()
        .into_iter()
        .find(|h| h.name.as_deref() == Some("From"))
        .and_then(|h| h.value)
        .unwrap();
    assert!(from.contains(DEMO), "{from}");

    // Bob got a copy in INBOX, without Bcc.
    let (_, r) = bob
        .users()
        .messages_list("me")
        .q(&word)
        .doit()
        .await
        .expect("bob list");
    let got = r.messages.expect("delivered");
    assert_eq!(got.len(), 1);
    let (_, copy) = bob
        .users()
        .messages_get("me", got[0].id.as_deref().unwrap())
        .format("raw")
        .doit()
        .await
        .expect("bob get");
    let labels = copy.label_ids.unwrap();
    assert!(labels.contains(&"INBOX".to_string()) && labels.contains(&"UNREAD".to_string()));
    let raw = String::from_utf8(copy.raw.unwrap()).unwrap();
    assert!(!raw.contains("secret@example.net"));

    // Resumable upload: to self → SENT + INBOX + UNREAD.
    let word2 = unique_word();
    let (_, sent2) = demo
        .users()
        .messages_send(Message::default(), "me")
        .upload_resumable(
            Cursor::new(message_with_attachment(
                DEMO,
                DEMO,
                &format!("Self {word2}"),
            )),
            rfc822(),
        )
        .await
        .expect("send resumable");
    let l = sent2.label_ids.unwrap();
    for want in ["SENT", "INBOX", "UNREAD"] {
        assert!(l.contains(&want.to_string()), "{l:?}");
    }
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_import_threading_and_label_changes() {
    let sb = start().await;
    let hub = hub(&sb, DEMO);
    let first = b"From: a@example.org\r\nTo: demo@example.com\r\nSubject: Lunch plans\r\nMessage-ID: <lunch-1@example.org>\r\nDate: Tue, 06 Jan 2026 10:00:00 +0000\r\n\r\nNoon?\r\n".to_vec();
    let reply = b"From: a@example.org\r\nTo: demo@example.com\r\nSubject: Re: Lunch plans\r\nIn-Reply-To: <lunch-1@example.org>\r\nReferences: <lunch-1@example.org>\r\nDate: Wed, 07 Jan 2026 10:00:00 +0000\r\n\r\nOr one?\r\n".to_vec();
    let m1 = insert(&hub, first, &["INBOX"]).await;
    let (_, m2) = hub
        .users()
        .messages_import(
            Message {
                label_ids: Some(vec!["INBOX".into(), "UNREAD".into()]),
                ..Default::default()
            },
            "me",
        )
        .upload(Cursor::new(reply), rfc822())
        .await
        .expect("import");
    assert_eq!(m2.thread_id, m1.thread_id);
    let m2_id = m2.id.clone().unwrap();
    // import uses the Date header by default.
    let (_, full) = hub
        .users()
        .messages_get("me", &m2_id)
        .format("minimal")
        .doit()
        .await
        .unwrap();
    assert_eq!(full.internal_date, Some(1_767_780_000_000));

    // modify
    let (_, modified) = hub
        .users()
        .messages_modify(
            ModifyMessageRequest {
                add_label_ids: Some(vec!["STARRED".into()]),
                remove_label_ids: Some(vec!["UNREAD".into()]),
            },
            "me",
            &m2_id,
        )
        .doit()
        .await
        .expect("modify");
    let l = modified.label_ids.unwrap();
    assert!(l.contains(&"STARRED".to_string()) && !l.contains(&"UNREAD".to_string()));

    // Gmail's label rules.
    let cases: [(Vec<&str>, Vec<&str>, &str); 4] = [
        (vec!["SENT"], vec![], "Invalid label: SENT"),
        (
            vec!["INBOX", "SPAM"],
            vec![],
            "Can only add one of: INBOX, SPAM, TRASH",
        ),
        (vec![], vec![], "No label add or removes specified"),
        (vec!["Label_999999"], vec![], "Invalid label: Label_999999"),
    ];
    for (add, remove, msg) in cases {
        let e = hub
            .users()
            .messages_modify(
                ModifyMessageRequest {
                    add_label_ids: Some(add.into_iter().map(String::from).collect()),
                    remove_label_ids: Some(remove.into_iter().map(String::from).collect()),
                },
                "me",
                &m2_id,
            )
            .doit()
            .await
            .unwrap_err();
        let body = error_body(&e);
        assert_eq!(body["error"]["code"], 400);
        assert_eq!(body["error"]["message"], msg);
        assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
        assert!(body["error"]["errors"][0]["reason"].is_string());
    }

    // threads
    let tid = m1.thread_id.clone().unwrap();
    let (_, t) = hub
        .users()
        .threads_get("me", &tid)
        .doit()
        .await
        .expect("thread");
    assert_eq!(t.messages.as_ref().map(|m| m.len()), Some(2));
    assert!(t.history_id.is_some());
    let (_, t) = hub
        .users()
        .threads_modify(
            ModifyThreadRequest {
                add_label_ids: Some(vec!["IMPORTANT".into()]),
                remove_label_ids: None,
            },
            "me",
            &tid,
        )
        .doit()
        .await
        .expect("thread modify");
    assert!(t.messages.unwrap().iter().all(|m| m
        .label_ids
        .as_ref()
        .unwrap()
        .contains(&"IMPORTANT".to_string())));
    let (_, tl) = hub
        .users()
        .threads_list("me")
        .add_label_ids("IMPORTANT")
        .doit()
        .await
        .unwrap();
    assert!(tl
        .threads
        .unwrap()
        .iter()
        .any(|t| t.id.as_deref() == Some(tid.as_str())));

    // trash / untrash thread, then delete it.
    let (_, t) = hub
        .users()
        .threads_trash("me", &tid)
        .doit()
        .await
        .expect("trash thread");
    assert!(t.messages.unwrap().iter().all(|m| m
        .label_ids
        .as_ref()
        .unwrap()
        .contains(&"TRASH".to_string())));
    let (_, r) = hub
        .users()
        .messages_list("me")
        .add_label_ids("IMPORTANT")
        .doit()
        .await
        .unwrap();
    assert!(!r
        .messages
        .unwrap_or_default()
        .iter()
        .any(|m| m.thread_id.as_deref() == Some(tid.as_str())));
    let (_, r) = hub
        .users()
        .messages_list("me")
        .add_label_ids("IMPORTANT")
        .include_spam_trash(true)
        .doit()
        .await
        .unwrap();
    assert!(r
        .messages
        .unwrap_or_default()
        .iter()
        .any(|m| m.thread_id.as_deref() == Some(tid.as_str())));
    hub.users()
        .threads_untrash("me", &tid)
        .doit()
        .await
        .expect("untrash thread");
    hub.users()
        .threads_delete("me", &tid)
        .doit()
        .await
        .expect("delete thread");
    let e = hub
        .users()
        .threads_get("me", &tid)
        .doit()
        .await
        .unwrap_err();
    assert_eq!(status_of(&e), Some(404));
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_modify_batch_delete_trash_delete() {
    let sb = start().await;
    let hub = hub(&sb, DEMO);
    let mut ids = Vec::new();
    for i in 0..3 {
        let raw = simple_message("x@example.org", DEMO, &format!("Batch {i}"), "b");
        ids.push(insert(&hub, raw, &["INBOX", "UNREAD"]).await.id.unwrap());
    }
    let resp = hub
        .users()
        .messages_batch_modify(
            BatchModifyMessagesRequest {
                ids: Some(ids.clone()),
                add_label_ids: Some(vec!["STARRED".into()]),
                remove_label_ids: Some(vec!["UNREAD".into()]),
            },
            "me",
        )
        .doit()
        .await
        .expect("batchModify");
    assert_eq!(resp.status().as_u16(), 204);
    for id in &ids {
        let (_, m) = hub
            .users()
            .messages_get("me", id)
            .format("minimal")
            .doit()
            .await
            .unwrap();
        let l = m.label_ids.unwrap();
        assert!(l.contains(&"STARRED".to_string()) && !l.contains(&"UNREAD".to_string()));
    }
    // trash / untrash / delete one message.
    let (_, t) = hub
        .users()
        .messages_trash("me", &ids[0])
        .doit()
        .await
        .unwrap();
    assert!(t.label_ids.unwrap().contains(&"TRASH".to_string()));
    let (_, u) = hub
        .users()
        .messages_untrash("me", &ids[0])
        .doit()
        .await
        .unwrap();
    assert!(!u.label_ids.unwrap().contains(&"TRASH".to_string()));
    let resp = hub
        .users()
        .messages_delete("me", &ids[0])
        .doit()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    let e = hub
        .users()
        .messages_get("me", &ids[0])
        .doit()
        .await
        .unwrap_err();
    assert_eq!(status_of(&e), Some(404));
    // batchDelete: unknown ids are fine.
    let mut del = ids[1..].to_vec();
    del.push("00000000000000ff".into());
    let resp = hub
        .users()
        .messages_batch_delete(BatchDeleteMessagesRequest { ids: Some(del) }, "me")
        .doit()
        .await
        .expect("batchDelete");
    assert_eq!(resp.status().as_u16(), 204);
    let e = hub
        .users()
        .messages_get("me", &ids[2])
        .doit()
        .await
        .unwrap_err();
    assert_eq!(status_of(&e), Some(404));

    // messages.delete needs https://mail.google.com/.
    let modify_only =
        sb.issue_access_token(DEMO, &["https://www.googleapis.com/auth/gmail.modify"]);
    let h2 = hub_with_token(&sb, modify_only);
    let some = insert(&hub, simple_message("x@y.z", DEMO, "s", "b"), &["INBOX"])
        .await
        .id
        .unwrap();
    let e = h2
        .users()
        .messages_delete("me", &some)
        .doit()
        .await
        .unwrap_err();
    let body = error_body(&e);
    assert_eq!(body["error"]["code"], 403);
    assert_eq!(
        body["error"]["errors"][0]["reason"],
        "insufficientPermissions"
    );
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_crud_and_rules() {
    let sb = start().await;
    let hub = hub(&sb, DEMO);
    let (_, l) = hub
        .users()
        .labels_create(
            Label {
                name: Some("Zeta/Alpha".into()),
                message_list_visibility: Some("show".into()),
                label_list_visibility: Some("labelShow".into()),
                color: Some(LabelColor {
                    text_color: Some("#ffffff".into()),
                    background_color: Some("#16a766".into()),
                }),
                ..Default::default()
            },
            "me",
        )
        .doit()
        .await
        .expect("create");
    let id = l.id.clone().unwrap();
    assert!(id.starts_with("Label_"));
    assert_eq!(l.type_.as_deref(), Some("user"));

    // Case-insensitive duplicate → 409.
    let e = hub
        .users()
        .labels_create(
            Label {
                name: Some("zeta/ALPHA".into()),
                ..Default::default()
            },
            "me",
        )
        .doit()
        .await
        .unwrap_err();
    let b = error_body(&e);
    assert_eq!(b["error"]["code"], 409);
    assert_eq!(b["error"]["status"], "ALREADY_EXISTS");
    assert_eq!(b["error"]["message"], "Label name exists or conflicts");
    // Reserved names → 400.
    for name in ["INBOX", "Inbox", "Sent", "chats"] {
        let e = hub
            .users()
            .labels_create(
                Label {
                    name: Some(name.into()),
                    ..Default::default()
                },
                "me",
            )
            .doit()
            .await
            .unwrap_err();
        assert_eq!(
            error_body(&e)["error"]["message"],
            "Invalid label name",
            "{name}"
        );
    }
    // Bad colour.
    let e = hub
        .users()
        .labels_create(
            Label {
                name: Some("Colourful".into()),
                color: Some(LabelColor {
                    text_color: Some("#123456".into()),
                    background_color: Some("#16a766".into()),
                }),
                ..Default::default()
            },
            "me",
        )
        .doit()
        .await
        .unwrap_err();
    assert_eq!(status_of(&e), Some(400));

    // Counts only on get.
    let m = insert(
        &hub,
        simple_message("x@y.z", DEMO, "lbl", "b"),
        &["INBOX", "UNREAD", &id],
    )
    .await;
    let (_, got) = hub.users().labels_get("me", &id).doit().await.expect("get");
    assert_eq!(got.messages_total, Some(1));
    assert_eq!(got.messages_unread, Some(1));
    assert_eq!(got.threads_total, Some(1));
    let (_, inbox) = hub.users().labels_get("me", "INBOX").doit().await.unwrap();
    assert!(inbox.messages_total.unwrap() >= 1);

    // patch + update
    let (_, p) = hub
        .users()
        .labels_patch(
            Label {
                name: Some("Zeta/Beta".into()),
                ..Default::default()
            },
            "me",
            &id,
        )
        .doit()
        .await
        .expect("patch");
    assert_eq!(p.name.as_deref(), Some("Zeta/Beta"));
    assert!(p.color.is_some());
    let (_, u) = hub
        .users()
        .labels_update(
            Label {
                id: Some(id.clone()),
                name: Some("Zeta/Gamma".into()),
                label_list_visibility: Some("labelHide".into()),
                message_list_visibility: Some("hide".into()),
                ..Default::default()
            },
            "me",
            &id,
        )
        .doit()
        .await
        .expect("update");
    assert_eq!(u.name.as_deref(), Some("Zeta/Gamma"));
    assert!(u.color.is_none());
    // System labels are immutable.
    let e = hub
        .users()
        .labels_patch(
            Label {
                name: Some("Box".into()),
                ..Default::default()
            },
            "me",
            "INBOX",
        )
        .doit()
        .await
        .unwrap_err();
    assert_eq!(status_of(&e), Some(400));
    let e = hub
        .users()
        .labels_delete("me", "INBOX")
        .doit()
        .await
        .unwrap_err();
    assert_eq!(status_of(&e), Some(400));

    // delete removes it from messages.
    hub.users()
        .labels_delete("me", &id)
        .doit()
        .await
        .expect("delete");
    let e = hub.users().labels_get("me", &id).doit().await.unwrap_err();
    assert_eq!(status_of(&e), Some(404));
    let (_, mm) = hub
        .users()
        .messages_get("me", m.id.as_deref().unwrap())
        .format("minimal")
        .doit()
        .await
        .unwrap();
    assert!(!mm.label_ids.unwrap().contains(&id));
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_lifecycle() {
    let sb = start().await;
    let hub = hub(&sb, DEMO);
    let bob = common::hub(&sb, BOB);
    let word = unique_word();
    let (_, d) = hub
        .users()
        .drafts_create(Draft::default(), "me")
        .upload(
            Cursor::new(simple_message(DEMO, BOB, &format!("Draft {word}"), "v1")),
            rfc822(),
        )
        .await
        .expect("create");
    let did = d.id.clone().unwrap();
    assert!(did.starts_with('r'));
    let msg = d.message.unwrap();
    assert_eq!(msg.label_ids, Some(vec!["DRAFT".to_string()]));

    let (_, list) = hub.users().drafts_list("me").doit().await.expect("list");
    assert!(list
        .drafts
        .unwrap()
        .iter()
        .any(|x| x.id.as_deref() == Some(did.as_str())));

    let (_, upd) = hub
        .users()
        .drafts_update(
            Draft {
                id: Some(did.clone()),
                ..Default::default()
            },
            "me",
            &did,
        )
        .upload(
            Cursor::new(simple_message(
                DEMO,
                BOB,
                &format!("Draft {word}"),
                "v2 body",
            )),
            rfc822(),
        )
        .await
        .expect("update");
    assert_eq!(upd.id.as_deref(), Some(did.as_str()));
    let (_, got) = hub
        .users()
        .drafts_get("me", &did)
        .doit()
        .await
        .expect("get");
    let snippet = got.message.unwrap().snippet.unwrap();
    assert!(snippet.contains("v2 body"), "{snippet}");

    let (_, sent) = hub
        .users()
        .drafts_send(
            Draft {
                id: Some(did.clone()),
                ..Default::default()
            },
            "me",
        )
        .upload(
            Cursor::new(simple_message(DEMO, BOB, &format!("Draft {word}"), "final")),
            rfc822(),
        )
        .await
        .expect("send");
    assert!(sent.label_ids.unwrap().contains(&"SENT".to_string()));
    let e = hub.users().drafts_get("me", &did).doit().await.unwrap_err();
    assert_eq!(status_of(&e), Some(404));
    let (_, r) = bob
        .users()
        .messages_list("me")
        .q(&word)
        .doit()
        .await
        .unwrap();
    assert_eq!(r.messages.map(|m| m.len()), Some(1));

    // delete
    let (_, d2) = hub
        .users()
        .drafts_create(Draft::default(), "me")
        .upload(Cursor::new(simple_message(DEMO, BOB, "tmp", "x")), rfc822())
        .await
        .unwrap();
    let d2id = d2.id.unwrap();
    let resp = hub.users().drafts_delete("me", &d2id).doit().await.unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    let e = hub
        .users()
        .drafts_delete("me", &d2id)
        .doit()
        .await
        .unwrap_err();
    assert_eq!(status_of(&e), Some(404));
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_records_changes() {
    let sb = start().await;
    let hub = hub(&sb, DEMO);
    let (_, p) = hub.users().get_profile("me").doit().await.unwrap();
    let start = p.history_id.unwrap();
    let m = insert(
        &hub,
        simple_message("x@y.z", DEMO, "hist", "b"),
        &["INBOX", "UNREAD"],
    )
    .await;
    let id = m.id.unwrap();
    hub.users()
        .messages_modify(
            ModifyMessageRequest {
                add_label_ids: None,
                remove_label_ids: Some(vec!["UNREAD".into()]),
            },
            "me",
            &id,
        )
        .doit()
        .await
        .unwrap();
    // A no-op modify records nothing.
    hub.users()
        .messages_modify(
            ModifyMessageRequest {
                add_label_ids: None,
                remove_label_ids: Some(vec!["UNREAD".into()]),
            },
            "me",
            &id,
        )
        .doit()
        .await
        .unwrap();
    hub.users().messages_delete("me", &id).doit().await.unwrap();

    let (_, h) = hub
        .users()
        .history_list("me")
        .start_history_id(start)
        .doit()
        .await
        .expect("history");
    let recs = h.history.unwrap();
    assert_eq!(recs.len(), 3);
    assert!(recs[0].messages_added.is_some());
    assert_eq!(
        recs[1].labels_removed.as_ref().unwrap()[0].label_ids,
        Some(vec!["UNREAD".to_string()])
    );
    assert!(recs[2].messages_deleted.is_some());
    let ids: Vec<u64> = recs.iter().map(|r| r.id.unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert!(h.history_id.unwrap() >= ids[2]);

    let (_, h) = hub
        .users()
        .history_list("me")
        .start_history_id(start)
        .add_history_types("labelRemoved")
        .doit()
        .await
        .unwrap();
    assert_eq!(h.history.unwrap().len(), 1);

    // Paging.
    let (_, h1) = hub
        .users()
        .history_list("me")
        .start_history_id(start)
        .max_results(2)
        .doit()
        .await
        .unwrap();
    assert_eq!(h1.history.unwrap().len(), 2);
    let (_, h2) = hub
        .users()
        .history_list("me")
        .start_history_id(start)
        .max_results(2)
        .page_token(&h1.next_page_token.unwrap())
        .doit()
        .await
        .unwrap();
    assert_eq!(h2.history.unwrap().len(), 1);
    assert!(h2.next_page_token.is_none());

    // Nothing new → only historyId.
    let now = h.history_id.unwrap();
    let (_, none) = hub
        .users()
        .history_list("me")
        .start_history_id(now)
        .doit()
        .await
        .unwrap();
    assert!(none.history.is_none());
    assert_eq!(none.history_id, Some(now));
    // Too old → 404.
    let e = hub
        .users()
        .history_list("me")
        .start_history_id(1)
        .doit()
        .await
        .unwrap_err();
    assert_eq!(status_of(&e), Some(404));
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_send_as_vacation() {
    let sb = start().await;
    let hub = hub(&sb, DEMO);
    let (_, l) = hub
        .users()
        .labels_create(
            Label {
                name: Some(format!("Receipts {}", unique_word())),
                ..Default::default()
            },
            "me",
        )
        .doit()
        .await
        .unwrap();
    let label = l.id.unwrap();
    let (_, f) = hub
        .users()
        .settings_filters_create(
            Filter {
                criteria: Some(FilterCriteria {
                    from: Some("shop@store.example".into()),
                    ..Default::default()
                }),
                action: Some(FilterAction {
                    add_label_ids: Some(vec![label.clone()]),
                    remove_label_ids: Some(vec!["INBOX".into()]),
                    ..Default::default()
                }),
                ..Default::default()
            },
            "me",
        )
        .doit()
        .await
        .expect("filter create");
    let fid = f.id.unwrap();
    let (_, list) = hub
        .users()
        .settings_filters_list("me")
        .doit()
        .await
        .unwrap();
    assert_eq!(list.filter.map(|f| f.len()), Some(1));
    hub.users()
        .settings_filters_get("me", &fid)
        .doit()
        .await
        .expect("filter get");

    let m = insert(
        &hub,
        simple_message("Shop <shop@store.example>", DEMO, "Your receipt", "thanks"),
        &["INBOX", "UNREAD"],
    )
    .await;
    let labels = m.label_ids.unwrap();
    assert!(
        labels.contains(&label) && !labels.contains(&"INBOX".to_string()),
        "{labels:?}"
    );

    // Unknown label in a filter action.
    let e = hub
        .users()
        .settings_filters_create(
            Filter {
                criteria: Some(FilterCriteria {
                    from: Some("a@b.c".into()),
                    ..Default::default()
                }),
                action: Some(FilterAction {
                    add_label_ids: Some(vec!["Label_4242".into()]),
                    ..Default::default()
                }),
                ..Default::default()
            },
            "me",
        )
        .doit()
        .await
        .unwrap_err();
    assert_eq!(
        error_body(&e)["error"]["message"],
        "Invalid label: Label_4242"
    );

    // filters.create needs gmail.settings.basic, not just mail.google.com.
    let full_only = hub_with_token(&sb, sb.issue_access_token(DEMO, &[FULL]));
    let e = full_only
        .users()
        .settings_filters_create(Filter::default(), "me")
        .doit()
        .await
        .unwrap_err();
    assert_eq!(status_of(&e), Some(403));

    hub.users()
        .settings_filters_delete("me", &fid)
        .doit()
        .await
        .expect("filter delete");
    let (_, list) = hub
        .users()
        .settings_filters_list("me")
        .doit()
        .await
        .unwrap();
    assert!(list.filter.is_none());

    // sendAs: primary always present.
    let (_, sa) = hub
        .users()
        .settings_send_as_list("me")
        .doit()
        .await
        .unwrap();
    let sa = sa.send_as.unwrap();
    assert_eq!(sa[0].send_as_email.as_deref(), Some(DEMO));
    assert_eq!(sa[0].is_primary, Some(true));
    let (_, one) = hub
        .users()
        .settings_send_as_get("me", DEMO)
        .doit()
        .await
        .unwrap();
    assert_eq!(one.is_default, Some(true));
    let (_, patched) = hub
        .users()
        .settings_send_as_patch(
            SendAs {
                signature: Some("-- demo".into()),
                ..Default::default()
            },
            "me",
            DEMO,
        )
        .doit()
        .await
        .unwrap();
    assert_eq!(patched.signature.as_deref(), Some("-- demo"));

    // vacation
    let (_, v) = hub
        .users()
        .settings_get_vacation("me")
        .doit()
        .await
        .unwrap();
    assert_eq!(v.enable_auto_reply, Some(false));
    let (_, v) = hub
        .users()
        .settings_update_vacation(
            VacationSettings {
                enable_auto_reply: Some(true),
                response_subject: Some("Away".into()),
                response_body_plain_text: Some("Back soon".into()),
                start_time: Some(1_767_000_000_000),
                end_time: Some(1_768_000_000_000),
                ..Default::default()
            },
            "me",
        )
        .doit()
        .await
        .expect("vacation");
    assert_eq!(v.enable_auto_reply, Some(true));
    assert_eq!(v.end_time, Some(1_768_000_000_000));
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_pop_language_settings() {
    let sb = start().await;
    let hub = hub(&sb, DEMO);
    let (_, imap) = hub
        .users()
        .settings_get_imap("me")
        .doit()
        .await
        .expect("imap");
    assert_eq!(imap.enabled, Some(true));
    let (_, imap) = hub
        .users()
        .settings_update_imap(
            google_gmail1::api::ImapSettings {
                enabled: Some(false),
                ..Default::default()
            },
            "me",
        )
        .doit()
        .await
        .expect("update imap");
    assert_eq!(imap.enabled, Some(false));
    let (_, imap) = hub.users().settings_get_imap("me").doit().await.unwrap();
    assert_eq!(imap.enabled, Some(false));
    let (_, pop) = hub
        .users()
        .settings_get_pop("me")
        .doit()
        .await
        .expect("pop");
    assert_eq!(pop.access_window.as_deref(), Some("disabled"));
    let (_, lang) = hub
        .users()
        .settings_get_language("me")
        .doit()
        .await
        .expect("language");
    assert_eq!(lang.display_language.as_deref(), Some("en"));
    let (_, fwd) = hub
        .users()
        .settings_forwarding_addresses_list("me")
        .doit()
        .await
        .expect("forwarding");
    assert!(fwd.forwarding_addresses.is_none());
    sb.stop().await;
}

mod refresh_flow {
    use super::*;
    use std::sync::Mutex;
    use yup_oauth2::storage::{TokenInfo, TokenStorage, TokenStorageError};

    /// Storage pre-loaded with a refresh token and an expired access token, so the
    /// installed-flow authenticator refreshes against `token_uri` without a browser.
    struct Seeded(Mutex<Option<TokenInfo>>);

    #[async_trait::async_trait]
    impl TokenStorage for Seeded {
        async fn set(&self, _scopes: &[&str], token: TokenInfo) -> Result<(), TokenStorageError> {
            *self.0.lock().unwrap() = Some(token);
            Ok(())
        }
        async fn get(&self, _scopes: &[&str]) -> Option<TokenInfo> {
            self.0.lock().unwrap().clone()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn yup_oauth2_refreshes_against_sandbox() {
        let sb = start().await;
        let base = sb.base_url();
        let secret = yup_oauth2::ApplicationSecret {
            client_id: gmail_sandbox::SANDBOX_CLIENT_ID.into(),
            client_secret: gmail_sandbox::SANDBOX_CLIENT_SECRET.into(),
            token_uri: format!("{base}token"),
            auth_uri: format!("{base}o/oauth2/auth"),
            redirect_uris: vec!["http://localhost".into()],
            ..Default::default()
        };
        let storage = Seeded(Mutex::new(Some(TokenInfo {
            access_token: Some("expired".into()),
            refresh_token: Some(sb.refresh_token_for(DEMO)),
            expires_at: Some(time::OffsetDateTime::now_utc() - time::Duration::hours(1)),
            id_token: None,
        })));
        let client = yup_oauth2::client::CustomHyperClientBuilder::from(
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(connector()),
        );
        let auth = yup_oauth2::InstalledFlowAuthenticator::with_client(
            secret,
            yup_oauth2::InstalledFlowReturnMethod::HTTPRedirect,
            client,
        )
        .with_storage(Box::new(storage))
        .build()
        .await
        .expect("authenticator");
        let http =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(connector());
        let mut hub = google_gmail1::Gmail::new(http, auth);
        hub.base_url(base.clone());
        hub.root_url(base);
        let (_, p) = hub
            .users()
            .get_profile("me")
            .doit()
            .await
            .expect("profile via refresh");
        assert_eq!(p.email_address.as_deref(), Some(DEMO));
        assert_eq!(sb.stats()["tokenGrants"]["refresh_token"], 1);
        sb.stop().await;
    }
}
