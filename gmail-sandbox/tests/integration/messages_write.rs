//! Writing mail with the real google-gmail1 client: send, insert, import, threading, label
//! changes, batch modify and delete.

use crate::common;

use std::io::Cursor;

use common::*;
use google_gmail1::api::{
    BatchDeleteMessagesRequest, BatchModifyMessagesRequest, Message, ModifyMessageRequest,
    ModifyThreadRequest,
};

fn has(labels: &Option<Vec<String>>, label: &str) -> bool {
    labels.as_ref().unwrap().iter().any(|l| l == label)
}

fn modify(add: &[&str], remove: &[&str]) -> ModifyMessageRequest {
    ModifyMessageRequest {
        add_label_ids: Some(strings(add)),
        remove_label_ids: Some(strings(remove)),
    }
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

    let hello = message_with_attachment("someone@else.org", BOB, &format!("Hello {word}"));
    let call = demo.users().messages_send(Message::default(), "me");
    let sent = ok(call.upload(Cursor::new(hello), rfc822()), "send multipart").await;
    assert_eq!(sent.label_ids, Some(vec!["SENT".to_string()]));
    let sent_id = sent.id.expect("id");
    assert_eq!(sent.thread_id.as_deref(), Some(sent_id.as_str()));
    // From was rewritten to the account.
    let m = get_message(&demo, &sent_id, "metadata").await;
    let from = header(&m, "From").unwrap();
    assert!(from.contains(DEMO), "{from}");

    // Bob got a copy in INBOX, without Bcc.
    let r = ok(bob.users().messages_list("me").q(&word).doit(), "bob list").await;
    let got = r.messages.expect("delivered");
    assert_eq!(got.len(), 1);
    let copy = get_message(&bob, got[0].id.as_deref().unwrap(), "raw").await;
    assert!(has(&copy.label_ids, "INBOX") && has(&copy.label_ids, "UNREAD"));
    let raw = String::from_utf8(copy.raw.unwrap()).unwrap();
    assert!(!raw.contains("secret@example.net"));

    // Resumable upload: to self → SENT + INBOX + UNREAD.
    let word2 = unique_word();
    let to_self = message_with_attachment(DEMO, DEMO, &format!("Self {word2}"));
    let call = demo.users().messages_send(Message::default(), "me");
    let upload = call.upload_resumable(Cursor::new(to_self), rfc822());
    let sent2 = ok(upload, "send resumable").await;
    let l = sent2.label_ids.unwrap();
    for want in ["SENT", "INBOX", "UNREAD"] {
        assert!(l.contains(&want.to_string()), "{l:?}");
    }
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_import_threading_and_label_changes() {
    let (sb, hub) = start_demo().await;
    let users = hub.users();
    let first = b"From: a@example.org\r\nTo: demo@example.com\r\nSubject: Lunch plans\r\nMessage-ID: <lunch-1@example.org>\r\nDate: Tue, 06 Jan 2026 10:00:00 +0000\r\n\r\nNoon?\r\n".to_vec();
    let reply = b"From: a@example.org\r\nTo: demo@example.com\r\nSubject: Re: Lunch plans\r\nIn-Reply-To: <lunch-1@example.org>\r\nReferences: <lunch-1@example.org>\r\nDate: Wed, 07 Jan 2026 10:00:00 +0000\r\n\r\nOr one?\r\n".to_vec();
    let m1 = insert(&hub, first, &["INBOX"]).await;
    let unread = Message {
        label_ids: Some(strings(&["INBOX", "UNREAD"])),
        ..Default::default()
    };
    let call = users.messages_import(unread, "me");
    let m2 = ok(call.upload(Cursor::new(reply), rfc822()), "import").await;
    assert_eq!(m2.thread_id, m1.thread_id);
    let m2_id = m2.id.clone().unwrap();
    // import uses the Date header by default.
    let full = get_message(&hub, &m2_id, "minimal").await;
    assert_eq!(full.internal_date, Some(1_767_780_000_000));

    // modify
    let star = modify(&["STARRED"], &["UNREAD"]);
    let modified = ok(users.messages_modify(star, "me", &m2_id).doit(), "modify").await;
    assert!(has(&modified.label_ids, "STARRED") && !has(&modified.label_ids, "UNREAD"));

    // Gmail's label rules.
    let cases: [(&[&str], &str); 4] = [
        (&["SENT"], "Invalid label: SENT"),
        (
            &["INBOX", "SPAM"],
            "Can only add one of: INBOX, SPAM, TRASH",
        ),
        (&[], "No label add or removes specified"),
        (&["Label_999999"], "Invalid label: Label_999999"),
    ];
    for (add, msg) in cases {
        let e = fails(users.messages_modify(modify(add, &[]), "me", &m2_id).doit()).await;
        let body = error_body(&e);
        assert_eq!(body["error"]["code"], 400);
        assert_eq!(body["error"]["message"], msg);
        assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
        assert!(body["error"]["errors"][0]["reason"].is_string());
    }

    // threads
    let tid = m1.thread_id.clone().unwrap();
    let t = ok(users.threads_get("me", &tid).doit(), "thread").await;
    assert_eq!(t.messages.as_ref().map(|m| m.len()), Some(2));
    assert!(t.history_id.is_some());
    let important = ModifyThreadRequest {
        add_label_ids: Some(strings(&["IMPORTANT"])),
        remove_label_ids: None,
    };
    let call = users.threads_modify(important, "me", &tid);
    let t = ok(call.doit(), "thread modify").await;
    assert!(t
        .messages
        .unwrap()
        .iter()
        .all(|m| has(&m.label_ids, "IMPORTANT")));
    let tl = ok(
        users.threads_list("me").add_label_ids("IMPORTANT").doit(),
        "threads",
    )
    .await;
    assert!(tl
        .threads
        .unwrap()
        .iter()
        .any(|t| t.id.as_deref() == Some(tid.as_str())));

    // trash / untrash thread, then delete it.
    let t = ok(users.threads_trash("me", &tid).doit(), "trash thread").await;
    assert!(t
        .messages
        .unwrap()
        .iter()
        .all(|m| has(&m.label_ids, "TRASH")));
    let important_has_thread = |r: google_gmail1::api::ListMessagesResponse| {
        r.messages
            .unwrap_or_default()
            .iter()
            .any(|m| m.thread_id.as_deref() == Some(tid.as_str()))
    };
    let list = || users.messages_list("me").add_label_ids("IMPORTANT");
    let r = ok(list().doit(), "list").await;
    assert!(!important_has_thread(r));
    let r = ok(list().include_spam_trash(true).doit(), "list with trash").await;
    assert!(important_has_thread(r));
    ok(users.threads_untrash("me", &tid).doit(), "untrash thread").await;
    ok(users.threads_delete("me", &tid).doit(), "delete thread").await;
    fails_with(users.threads_get("me", &tid).doit(), 404).await;
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_modify_batch_delete_trash_delete() {
    let (sb, hub) = start_demo().await;
    let users = hub.users();
    let mut ids = Vec::new();
    for i in 0..3 {
        let raw = simple_message("x@example.org", DEMO, &format!("Batch {i}"), "b");
        ids.push(insert(&hub, raw, &["INBOX", "UNREAD"]).await.id.unwrap());
    }
    let star = BatchModifyMessagesRequest {
        ids: Some(ids.clone()),
        add_label_ids: Some(strings(&["STARRED"])),
        remove_label_ids: Some(strings(&["UNREAD"])),
    };
    let resp = ok(
        users.messages_batch_modify(star, "me").doit(),
        "batchModify",
    )
    .await;
    assert_eq!(resp.status().as_u16(), 204);
    for id in &ids {
        let m = get_message(&hub, id, "minimal").await;
        assert!(has(&m.label_ids, "STARRED") && !has(&m.label_ids, "UNREAD"));
    }
    // trash / untrash / delete one message.
    let t = ok(users.messages_trash("me", &ids[0]).doit(), "trash").await;
    assert!(has(&t.label_ids, "TRASH"));
    let u = ok(users.messages_untrash("me", &ids[0]).doit(), "untrash").await;
    assert!(!has(&u.label_ids, "TRASH"));
    let resp = ok(users.messages_delete("me", &ids[0]).doit(), "delete").await;
    assert_eq!(resp.status().as_u16(), 204);
    fails_with(users.messages_get("me", &ids[0]).doit(), 404).await;
    // batchDelete: unknown ids are fine.
    let mut del = ids[1..].to_vec();
    del.push("00000000000000ff".into());
    let del = BatchDeleteMessagesRequest { ids: Some(del) };
    let resp = ok(users.messages_batch_delete(del, "me").doit(), "batchDelete").await;
    assert_eq!(resp.status().as_u16(), 204);
    fails_with(users.messages_get("me", &ids[2]).doit(), 404).await;

    // messages.delete needs https://mail.google.com/.
    let modify_only =
        sb.issue_access_token(DEMO, &["https://www.googleapis.com/auth/gmail.modify"]);
    let h2 = hub_with_token(&sb, modify_only);
    let some = insert_simple(&hub, "x@y.z", "s", &["INBOX"])
        .await
        .id
        .unwrap();
    let e = fails(h2.users().messages_delete("me", &some).doit()).await;
    let body = error_body(&e);
    assert_eq!(body["error"]["code"], 403);
    assert_eq!(
        body["error"]["errors"][0]["reason"],
        "insufficientPermissions"
    );
    sb.stop().await;
}
