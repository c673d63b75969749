//! Writing mail with the real google-gmail1 client: send, insert, import, threading, label
//! changes, batch modify and delete.

use crate::common;

use std::io::Cursor;

use common::*;
use google_gmail1::api::{
    BatchDeleteMessagesRequest, BatchModifyMessagesRequest, Message, ModifyMessageRequest,
    ModifyThreadRequest,
};

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
