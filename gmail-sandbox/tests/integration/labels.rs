//! Labels with the real google-gmail1 client.

use crate::common;

use common::*;
use google_gmail1::api::{Label, LabelColor};

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
