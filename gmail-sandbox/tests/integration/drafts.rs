//! Drafts with the real google-gmail1 client.

use crate::common;

use std::io::Cursor;

use common::*;
use google_gmail1::api::Draft;

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
