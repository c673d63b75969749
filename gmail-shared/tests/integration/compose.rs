//! Reading, sending, replying, forwarding, drafts and attachments through the tools, against
//! the sandbox, checking the stored messages.

use crate::common;

use common::{call, call_err, made, read_detailed, structured, Harness};
use serde_json::{json, Value};

const ORIGINAL: &str = "From: Carol Client <carol@client.example>
To: Demo User <demo@example.com>, Dave <dave@partner.example>
Cc: Erin <erin@partner.example>
Subject: Contract review
Date: Tue, 10 Nov 2026 09:00:00 +0000
Message-ID: <contract-1@client.example>
References: <kickoff-0@client.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Could you review the attached contract by Friday?
";

const HTML_ONLY: &str = "From: News <news@shop.example>
To: demo@example.com
Subject: Weekly deals
Date: Tue, 10 Nov 2026 10:00:00 +0000
Message-ID: <deals-7@shop.example>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><body><h1>Big sale</h1><p>Everything is <b>50% off</b> this week.</p><p><a href=\"https://shop.example/sale\">Shop now</a></p></body></html>
";

const WITH_ATTACHMENT: &str = "From: Frank <frank@vendor.example>
To: demo@example.com
Subject: Invoice 42
Date: Tue, 10 Nov 2026 11:00:00 +0000
Message-ID: <invoice-42@vendor.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=\"b1\"

--b1
Content-Type: text/plain; charset=utf-8

Invoice attached.
--b1
Content-Type: application/pdf; name=\"invoice-42.pdf\"
Content-Disposition: attachment; filename=\"invoice-42.pdf\"
Content-Transfer-Encoding: base64

JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PD4+CmVuZG9iagp0cmFpbGVyCjw8Pj4KJSVFT0YK
--b1--
";

#[tokio::test]
async fn send_email_sends_html_whenever_given() {
    let h = Harness::start().await;
    let id = made(&h, "send_email", json!({
        "to": ["Zoe <zoe@elsewhere.example>"], "subject": "Plan for Q4 ✓", "body": "Plain version",
        "htmlBody": "<p>The <b>HTML</b> version</p>", "cc": ["yan@elsewhere.example"]
    })).await;
    assert!(h.labels_of(&id).await.contains(&"SENT".to_string()));
    let raw = h.raw(&id).await;
    assert!(raw.contains("multipart/alternative"), "{raw}");
    assert!(raw.contains("text/html"), "{raw}");
    assert!(h.header(&id, "To").await.contains("zoe@elsewhere.example"));
    assert!(h.header(&id, "Cc").await.contains("yan@elsewhere.example"));
    // The subject round-trips through RFC 2047.
    let read = read_detailed(&h, &id).await;
    assert!(
        read.text.contains("Subject: Plan for Q4 ✓"),
        "{}",
        read.text
    );
}

#[tokio::test]
async fn a_reply_by_gmail_id_threads_for_every_recipient() {
    let h = Harness::start().await;
    let (orig, thread) = h.insert(ORIGINAL, &["INBOX", "UNREAD"]).await;
    // inReplyTo given as the Gmail id, as agents do: the real Message-ID is looked up.
    let out = call(&h, "send_email", json!({
        "to": ["carol@client.example"], "subject": "Contract review", "body": "Reviewed, looks good.",
        "inReplyTo": orig
    })).await;
    let s = out.structured.unwrap();
    let id = s["id"].as_str().unwrap();
    assert_eq!(s["threadId"], thread.as_str());
    assert_eq!(
        h.header(id, "In-Reply-To").await,
        "<contract-1@client.example>"
    );
    let refs = h.header(id, "References").await;
    assert!(
        refs.contains("<kickoff-0@client.example>")
            && refs.ends_with("<contract-1@client.example>"),
        "{refs}"
    );
    assert_eq!(h.header(id, "Subject").await, "Re: Contract review");
}

/// A reply draft stays a reply when it is rewritten: Gmail gives the draft a new message,
/// and that one must carry the threading headers too.
#[tokio::test]
async fn a_reply_draft_keeps_threading_when_updated() {
    let h = Harness::start().await;
    let (orig, thread) = h.insert(ORIGINAL, &["INBOX"]).await;
    // A draft tool's result: its message's In-Reply-To, last References id, Subject and thread.
    let threading = |tool: &'static str, args: Value| {
        let h = &h;
        async move {
            let d = structured(h, tool, args).await;
            let message = d["messageId"].as_str().unwrap();
            let references = h.header(message, "References").await;
            let last = references
                .split_whitespace()
                .last()
                .unwrap_or("")
                .to_string();
            (
                h.header(message, "In-Reply-To").await,
                last,
                h.header(message, "Subject").await,
                d["threadId"].as_str().unwrap().to_string(),
                d["id"].as_str().unwrap().to_string(),
            )
        }
    };
    let answer = "<contract-1@client.example>".to_string();
    let expected = |draft_id: &str| {
        (
            answer.clone(),
            answer.clone(),
            "Re: Contract review".to_string(),
            thread.clone(),
            draft_id.to_string(),
        )
    };
    let to = ["carol@client.example"];
    let first = threading(
        "draft_email",
        json!({"to": to, "subject": "", "body": "v1", "inReplyTo": orig}),
    )
    .await;
    let draft_id = first.4.clone();
    assert_eq!(first, expected(&draft_id));
    let args =
        json!({"draftId": draft_id, "to": to, "subject": "", "body": "v2", "threadId": thread});
    assert_eq!(threading("update_draft", args).await, expected(&draft_id));
    // Fixing the wording without restating the thread keeps it a reply, in its thread.
    let args =
        json!({"draftId": draft_id, "to": to, "subject": "Re: Contract review", "body": "v3"});
    assert_eq!(threading("update_draft", args).await, expected(&draft_id));
    // A reply sent by thread id answers the newest message that was sent, not the draft.
    let sent = made(
        &h,
        "send_email",
        json!({"to": to, "subject": "", "body": "sent", "threadId": thread}),
    )
    .await;
    assert_eq!(h.header(&sent, "In-Reply-To").await, answer);
}

/// A reply that names what it answers by RFC Message-ID alone still joins its thread in this
/// mailbox, with the whole chain and the "Re:" subject, as one named by Gmail id does.
#[tokio::test]
async fn a_reply_by_rfc_message_id_joins_its_thread() {
    let h = Harness::start().await;
    let (_, thread) = h.insert(ORIGINAL, &["INBOX"]).await;
    let out = call(
        &h,
        "send_email",
        json!({
            "to": ["carol@client.example"], "subject": "", "body": "Agreed.",
            "inReplyTo": "<contract-1@client.example>"
        }),
    )
    .await
    .structured
    .unwrap();
    let id = out["id"].as_str().unwrap();
    assert_eq!(out["threadId"], thread.as_str(), "{out}");
    assert_eq!(h.header(id, "Subject").await, "Re: Contract review");
    assert_eq!(
        h.header(id, "References").await,
        "<kickoff-0@client.example> <contract-1@client.example>"
    );
    // One the mailbox does not have still threads for its recipients, by headers.
    let out = call(
        &h,
        "send_email",
        json!({
            "to": ["carol@client.example"], "subject": "Elsewhere", "body": "x",
            "inReplyTo": "<unknown-9@client.example>"
        }),
    )
    .await
    .structured
    .unwrap();
    assert_eq!(
        h.header(out["id"].as_str().unwrap(), "In-Reply-To").await,
        "<unknown-9@client.example>"
    );
}

#[tokio::test]
async fn reply_email_all_excludes_me_and_keeps_the_thread() {
    let h = Harness::start().await;
    let (orig, thread) = h.insert(ORIGINAL, &["INBOX"]).await;
    h.reset_stats().await;
    let out = call(
        &h,
        "reply_email",
        json!({"messageId": orig, "body": "Thanks all", "replyAll": true, "quoteOriginal": true}),
    )
    .await;
    assert_eq!(h.stat("users.settings.sendAs.list").await, 1);
    let s = out.structured.unwrap();
    let id = s["id"].as_str().unwrap();
    assert_eq!(s["threadId"], thread.as_str());
    let to = h.header(id, "To").await;
    let cc = h.header(id, "Cc").await;
    assert!(to.contains("carol@client.example"), "{to}");
    assert!(format!("{to} {cc}").contains("dave@partner.example"));
    assert!(cc.contains("erin@partner.example"), "{cc}");
    assert!(
        !format!("{to} {cc}").contains("demo@example.com"),
        "{to} / {cc}"
    );
    assert!(h.raw(id).await.contains("> Could you review"));
    // The account's own addresses are asked of Gmail once, not on every reply.
    h.reset_stats().await;
    let again = json!({"messageId": orig, "body": "And again", "replyAll": true});
    let s = structured(&h, "reply_email", again).await;
    let cc = h.header(s["id"].as_str().unwrap(), "Cc").await;
    assert!(!cc.contains("demo@example.com"), "{cc}");
    assert_eq!(h.stat("users.settings.sendAs.list").await, 0);
    // A thread id alone answers the thread's newest message.
    let id2 = made(&h, "send_email", json!({"to": ["carol@client.example"], "subject": "", "body": "One more thing", "threadId": thread})).await;
    assert_eq!(h.header(&id2, "Subject").await, "Re: Contract review");
    assert!(h
        .header(&id2, "References")
        .await
        .contains("<contract-1@client.example>"));
}

#[tokio::test]
async fn forward_keeps_the_attachments() {
    let h = Harness::start().await;
    let (orig, _) = h.insert(WITH_ATTACHMENT, &["INBOX"]).await;
    let id = made(
        &h,
        "forward_email",
        json!({"messageId": orig, "to": ["accounting@corp.example"], "body": "FYI"}),
    )
    .await;
    let read = read_detailed(&h, &id).await;
    assert!(
        read.text.contains("Subject: Fwd: Invoice 42"),
        "{}",
        read.text
    );
    assert!(read.text.contains("FYI") && read.text.contains("Forwarded message"));
    let s = read.structured.unwrap();
    assert_eq!(s["message"]["attachments"][0]["filename"], "invoice-42.pdf");
}

#[tokio::test]
async fn read_email_converts_html_and_pages_long_bodies() {
    let h = Harness::start().await;
    let (id, _) = h.insert(HTML_ONLY, &["INBOX"]).await;
    let out = read_detailed(&h, &id).await;
    assert!(out.text.contains("Message-ID: <deals-7@shop.example>"));
    assert!(out.text.contains("50% off"), "{}", out.text);
    assert!(out.text.contains("converted from the HTML"));
    assert!(!out.text.contains("<b>"));

    let long = format!(
        "{}{}",
        ORIGINAL.replace(
            "Message-ID: <contract-1@client.example>",
            "Message-ID: <long@x>"
        ),
        "é".repeat(5000)
    );
    let (id, _) = h.insert(&long, &["INBOX"]).await;
    let first = call(
        &h,
        "read_email",
        json!({"messageId": id, "maxLength": 1000}),
    )
    .await;
    let w = &first.structured.as_ref().unwrap()["bodyWindow"];
    assert_eq!(w["returnedChars"], 1000);
    assert!(w["truncated"].as_bool().unwrap());
    assert!(first.text.contains("offset=1000"), "{}", first.text);
    let next = call(
        &h,
        "read_email",
        json!({"messageId": id, "maxLength": 1000, "offset": 1000}),
    )
    .await;
    assert_eq!(next.structured.unwrap()["bodyWindow"]["offset"], 1000);
}

#[tokio::test]
async fn get_thread_reads_the_conversation_once() {
    let h = Harness::start().await;
    let (orig, thread) = h.insert(ORIGINAL, &["INBOX"]).await;
    call(
        &h,
        "reply_email",
        json!({"messageId": orig, "body": "On it.", "quoteOriginal": true}),
    )
    .await;
    let out = call(
        &h,
        "get_thread",
        json!({"threadId": thread, "responseFormat": "detailed"}),
    )
    .await;
    let s = out.structured.unwrap();
    assert_eq!(s["messageCount"], 2);
    assert!(out.text.contains("Message 1 of 2") && out.text.contains("Message 2 of 2"));
    // The quoted copy of the first message was trimmed from the second.
    assert_eq!(
        out.text.matches("Could you review").count(),
        1,
        "{}",
        out.text
    );
}

#[tokio::test]
async fn draft_lifecycle() {
    let h = Harness::start().await;
    let d = call(
        &h,
        "draft_email",
        json!({"to": ["zoe@elsewhere.example"], "subject": "Draft one", "body": "v1"}),
    )
    .await;
    let draft_id = d.structured.unwrap()["id"].as_str().unwrap().to_string();
    let list = structured(&h, "list_drafts", json!({})).await;
    assert!(list["drafts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == draft_id.as_str() && x["subject"] == "Draft one"));
    call(&h, "update_draft", json!({"draftId": draft_id, "to": ["zoe@elsewhere.example"], "subject": "Draft two", "body": "v2"})).await;
    let got = call(&h, "get_draft", json!({"draftId": draft_id})).await;
    assert!(got.text.contains("Draft two") && got.text.contains("v2"));
    let sent = structured(&h, "send_draft", json!({"draftId": draft_id})).await;
    let sent_id = sent["id"].as_str().unwrap();
    assert!(h.labels_of(sent_id).await.contains(&"SENT".to_string()));
    let err = call_err(&h, "get_draft", json!({"draftId": draft_id})).await;
    assert!(err.contains("not found"), "{err}");

    let id = made(
        &h,
        "draft_email",
        json!({"to": ["zoe@elsewhere.example"], "subject": "Scrap", "body": "x"}),
    )
    .await;
    call(&h, "delete_draft", json!({"draftId": id})).await;
    assert!(call_err(&h, "delete_draft", json!({"draftId": id}))
        .await
        .contains("not found"));
}

/// Apple Mail and forwards nest attachments (`multipart/mixed` around `multipart/related`):
/// their part ids have a dot, and that handle, as read_email shows it, downloads too.
#[tokio::test]
async fn a_nested_attachment_downloads_by_its_part_id() {
    let h = Harness::start().await;
    let raw = "From: Carol <carol@client.example>
To: demo@example.com
Subject: Photo
Message-ID: <photo-1@client.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=outer

--outer
Content-Type: multipart/related; boundary=inner

--inner
Content-Type: text/html

<p>See <img src=\"cid:pic\"></p>
--inner
Content-Type: image/png; name=pic.png
Content-ID: <pic>
Content-Disposition: inline; filename=pic.png
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--inner--
--outer
Content-Type: text/plain; name=notes.txt
Content-Disposition: attachment; filename=notes.txt

nested notes
--outer--
";
    let (id, _) = h.insert(raw, &["INBOX"]).await;
    let read = structured(&h, "read_email", json!({"messageId": id})).await;
    let pic = read["message"]["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["filename"] == "pic.png")
        .unwrap()
        .clone();
    let part = pic["partId"].as_str().unwrap();
    assert!(part.contains('.'), "{pic}");
    let saved = call(
        &h,
        "download_attachment",
        json!({"messageId": id, "attachmentId": part}),
    )
    .await
    .structured
    .unwrap();
    assert_eq!(saved["filename"], "pic.png", "{saved}");
    let bytes = std::fs::read(saved["path"].as_str().unwrap()).unwrap();
    assert_eq!(bytes, b"\x89PNG\r\n\x1a\n");
    let err = call_err(
        &h,
        "download_attachment",
        json!({"messageId": id, "attachmentId": "0.9"}),
    )
    .await;
    assert!(err.contains("attachment 0.9 of message"), "{err}");
}

#[tokio::test]
async fn attachments_in_and_out_stay_in_their_directories() {
    let h = Harness::start().await;
    let attach_dir = h.dir.path().join("attachments");
    std::fs::write(attach_dir.join("notes.txt"), "meeting notes").unwrap();
    let id = made(
        &h,
        "send_email",
        json!({
            "to": ["zoe@elsewhere.example"], "subject": "Notes", "body": "attached",
            "attachments": ["notes.txt"],
            "attachmentContents": [{"filename": "data.csv", "contentBase64": "YSxiCjEsMgo="}]
        }),
    )
    .await;
    let read = structured(&h, "read_email", json!({"messageId": id})).await;
    let atts = read["message"]["attachments"].as_array().unwrap();
    assert_eq!(atts.len(), 2);
    let csv = atts.iter().find(|a| a["filename"] == "data.csv").unwrap();
    let att_id = csv["attachmentId"].as_str().unwrap();

    let download = || async {
        let args = json!({"messageId": id, "attachmentId": att_id, "savePath": "reports"});
        let saved = call(&h, "download_attachment", args).await;
        saved.structured.unwrap()["path"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let path = download().await;
    assert!(path.ends_with("downloads/reports/data.csv"), "{path}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "a,b\n1,2\n");
    // A second file of that name goes beside the first, never over it.
    std::fs::write(&path, "kept").unwrap();
    let second = download().await;
    assert!(
        second.ends_with("downloads/reports/data (2).csv"),
        "{second}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "kept");
    // Hidden folders are not for downloads.
    let err = call_err(
        &h,
        "download_attachment",
        json!({"messageId": id, "attachmentId": att_id, "savePath": ".ssh"}),
    )
    .await;
    assert!(err.contains("starting with '.'"), "{err}");

    let err = call_err(
        &h,
        "download_attachment",
        json!({"messageId": id, "attachmentId": att_id, "savePath": "../../etc"}),
    )
    .await;
    assert!(err.contains("savePath"), "{err}");
    let err = call_err(
        &h,
        "send_email",
        json!({"to": ["a@b.example"], "subject": "x", "body": "x", "attachments": ["/etc/passwd"]}),
    )
    .await;
    // Outside reads exactly like missing (no probing the server's files), with no server path.
    let missing = call_err(
        &h,
        "send_email",
        json!({"to": ["a@b.example"], "subject": "x", "body": "x", "attachments": ["/etc/nope"]}),
    )
    .await;
    assert_eq!(err.replace("passwd", "X"), missing.replace("nope", "X"));
    assert!(err.contains("no such file"), "{err}");
    assert!(!err.contains(&h.dir.path().display().to_string()), "{err}");
    let big = attach_dir.join("big.bin");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(26 * 1024 * 1024)
        .unwrap();
    let err = call_err(
        &h,
        "send_email",
        json!({"to": ["a@b.example"], "subject": "x", "body": "x", "attachments": ["big.bin"]}),
    )
    .await;
    // The limit, and how far over it the files are.
    assert!(
        err.contains("26214400") && err.contains("27262976"),
        "{err}"
    );
}

#[tokio::test]
async fn header_injection_and_bad_addresses_are_refused() {
    let h = Harness::start().await;
    for (args, expect) in [
        (
            json!({"to": ["a@b.example"], "subject": "Hi\r\nBcc: victim@x.example", "body": "x"}),
            "subject",
        ),
        (
            json!({"to": ["a@b.example\r\nBcc: victim@x.example"], "subject": "Hi", "body": "x"}),
            "to",
        ),
        (
            json!({"to": ["not-an-address"], "subject": "Hi", "body": "x"}),
            "not-an-address",
        ),
        (
            json!({"to": ["a@b.example"], "cc": ["Eve <eve@>"], "subject": "Hi", "body": "x"}),
            "cc",
        ),
        (
            json!({"to": ["a@b.example"], "subject": "Hi", "body": "x", "inReplyTo": "0123456789abcdef"}),
            "not found",
        ),
        (
            json!({"to": ["a@b.example"], "subject": "Hi", "body": "x", "attachmentContents": [{"filename": "a", "contentBase64": "!!!"}]}),
            "base64",
        ),
        (json!({"to": ["a@b.example"], "subject": "Hi"}), "body"),
    ] {
        let err = call_err(&h, "send_email", args.clone()).await;
        assert!(err.contains(expect), "{args}: {err}");
    }
    let err = call_err(&h, "read_email", json!({"messageId": "ffffffffffffffff"})).await;
    assert!(err.contains("message ffffffffffffffff not found"), "{err}");
}

#[tokio::test]
async fn a_message_to_more_recipients_than_gmail_takes_is_refused_before_any_call() {
    let h = Harness::start().await;
    let before = h.sandbox.stats()["httpRequests"].as_u64().unwrap();
    let many: Vec<String> = (0..300).map(|i| format!("r{i}@example.com")).collect();
    let err = call_err(
        &h,
        "send_email",
        json!({"to": many, "cc": many[..201], "subject": "all", "body": "hi"}),
    )
    .await;
    assert!(
        err.contains("501 recipients") && err.contains("500"),
        "{err}"
    );
    assert!(err.contains("send.max_recipients_per_message"), "{err}");
    let err = call_err(
        &h,
        "forward_email",
        json!({"messageId": "18c2f0a1b2c3d4e5", "to": many, "bcc": many}),
    )
    .await;
    assert!(err.contains("600 recipients"), "{err}");
    assert_eq!(h.sandbox.stats()["httpRequests"].as_u64().unwrap(), before);
    // 500 is fine.
    call(
        &h,
        "draft_email",
        json!({"to": many, "cc": many[..200], "subject": "all", "body": "hi"}),
    )
    .await;
}

/// A reply or forward of mail whose sender malformed its headers still goes out, with the
/// odd values cleaned rather than refused, and nothing injected into the new headers.
#[tokio::test]
async fn hostile_originals_can_be_replied_to_and_forwarded() {
    let h = Harness::start().await;
    let long_name = "N".repeat(300);
    let raw = format!(
        "From: =?utf-8?q?Bob=01?= <bob@outside.example>\r\nTo: demo@example.com\r\n\
         Cc: \"{long_name}\" <carol@outside.example>\r\n\
         Subject: =?utf-8?q?Hi=0D=0ABcc:_evil@attacker.example?=\r\n\
         Message-ID: <orig-hostile@outside.example>\r\nReferences: <<bad@x>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nhello\r\n\
         --b\r\nContent-Type: application\r\nContent-Disposition: inline; filename=\"odd.bin\"\r\n\
         Content-ID: <>\r\n\r\nodd\r\n--b--\r\n"
    );
    let orig = gmail_test_support::deliver_raw(&h.sandbox.base_url(), raw.as_bytes()).await;
    let reply = made(
        &h,
        "reply_email",
        json!({"messageId": orig, "body": "Got it", "replyAll": true}),
    )
    .await;
    let forward = made(
        &h,
        "forward_email",
        json!({"messageId": orig, "to": ["dave@elsewhere.example"]}),
    )
    .await;
    for id in [reply, forward] {
        let sent = h.raw(&id).await;
        let headers = sent.split("\r\n\r\n").next().unwrap();
        // The encoded line break became a space: the would-be header stays subject text.
        let bcc = |l: &str| l.to_ascii_lowercase().starts_with("bcc:");
        assert!(!headers.lines().any(bcc), "{headers}");
        let subject = headers.lines().find(|l| l.starts_with("Subject:")).unwrap();
        assert!(subject.contains("Bcc: evil@attacker.example"), "{headers}");
    }
}
