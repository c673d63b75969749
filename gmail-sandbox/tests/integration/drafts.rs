//! Drafts with the real google-gmail1 client.

use crate::common;

use std::io::Cursor;

use common::*;
use google_gmail1::api::Draft;

fn draft_id(id: &str) -> Draft {
    Draft {
        id: Some(id.to_string()),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_lifecycle() {
    let (sb, hub) = start_demo().await;
    let users = hub.users();
    let bob = common::hub(&sb, BOB);
    let word = unique_word();
    let subject = format!("Draft {word}");
    let draft = |body: &str| Cursor::new(simple_message(DEMO, BOB, &subject, body));
    let call = users.drafts_create(Draft::default(), "me");
    let d = ok(call.upload(draft("v1"), rfc822()), "create").await;
    let did = d.id.clone().unwrap();
    assert!(did.starts_with('r'));
    let msg = d.message.unwrap();
    assert_eq!(msg.label_ids, Some(vec!["DRAFT".to_string()]));

    let list = ok(users.drafts_list("me").doit(), "list").await;
    assert!(list
        .drafts
        .unwrap()
        .iter()
        .any(|x| x.id.as_deref() == Some(did.as_str())));

    let call = users.drafts_update(draft_id(&did), "me", &did);
    let upd = ok(call.upload(draft("v2 body"), rfc822()), "update").await;
    assert_eq!(upd.id.as_deref(), Some(did.as_str()));
    let got = ok(users.drafts_get("me", &did).doit(), "get").await;
    let snippet = got.message.unwrap().snippet.unwrap();
    assert!(snippet.contains("v2 body"), "{snippet}");

    let call = users.drafts_send(draft_id(&did), "me");
    let sent = ok(call.upload(draft("final"), rfc822()), "send").await;
    assert!(sent.label_ids.unwrap().contains(&"SENT".to_string()));
    fails_with(users.drafts_get("me", &did).doit(), 404).await;
    let r = ok(bob.users().messages_list("me").q(&word).doit(), "bob list").await;
    assert_eq!(r.messages.map(|m| m.len()), Some(1));

    // delete
    let tmp = Cursor::new(simple_message(DEMO, BOB, "tmp", "x"));
    let call = users.drafts_create(Draft::default(), "me");
    let d2 = ok(call.upload(tmp, rfc822()), "create").await;
    let d2id = d2.id.unwrap();
    let resp = ok(users.drafts_delete("me", &d2id).doit(), "delete").await;
    assert_eq!(resp.status().as_u16(), 204);
    fails_with(users.drafts_delete("me", &d2id).doit(), 404).await;
    sb.stop().await;
}
