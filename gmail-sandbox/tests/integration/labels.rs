//! Labels with the real google-gmail1 client.

use crate::common;

use common::*;
use google_gmail1::api::{Label, LabelColor};

fn named(name: &str) -> Label {
    Label {
        name: Some(name.into()),
        ..Default::default()
    }
}

fn color(text: &str, background: &str) -> Option<LabelColor> {
    Some(LabelColor {
        text_color: Some(text.into()),
        background_color: Some(background.into()),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_crud_and_rules() {
    let (sb, hub) = start_demo().await;
    let users = hub.users();
    let zeta = Label {
        message_list_visibility: Some("show".into()),
        label_list_visibility: Some("labelShow".into()),
        color: color("#ffffff", "#16a766"),
        ..named("Zeta/Alpha")
    };
    let l = ok(users.labels_create(zeta, "me").doit(), "create").await;
    let id = l.id.clone().unwrap();
    assert!(id.starts_with("Label_"));
    assert_eq!(l.type_.as_deref(), Some("user"));

    // Case-insensitive duplicate → 409.
    let e = fails(users.labels_create(named("zeta/ALPHA"), "me").doit()).await;
    let b = error_body(&e);
    assert_eq!(b["error"]["code"], 409);
    assert_eq!(b["error"]["status"], "ALREADY_EXISTS");
    assert_eq!(b["error"]["message"], "Label name exists or conflicts");
    // Reserved names → 400.
    for name in ["INBOX", "Inbox", "Sent", "chats"] {
        let e = fails(users.labels_create(named(name), "me").doit()).await;
        assert_eq!(
            error_body(&e)["error"]["message"],
            "Invalid label name",
            "{name}"
        );
    }
    // Bad colour.
    let colourful = Label {
        color: color("#123456", "#16a766"),
        ..named("Colourful")
    };
    fails_with(users.labels_create(colourful, "me").doit(), 400).await;

    // Counts only on get.
    let m = insert_simple(&hub, "x@y.z", "lbl", &["INBOX", "UNREAD", &id]).await;
    let got = ok(users.labels_get("me", &id).doit(), "get").await;
    assert_eq!(got.messages_total, Some(1));
    assert_eq!(got.messages_unread, Some(1));
    assert_eq!(got.threads_total, Some(1));
    let inbox = ok(users.labels_get("me", "INBOX").doit(), "get INBOX").await;
    assert!(inbox.messages_total.unwrap() >= 1);

    // patch + update
    let p = ok(
        users.labels_patch(named("Zeta/Beta"), "me", &id).doit(),
        "patch",
    )
    .await;
    assert_eq!(p.name.as_deref(), Some("Zeta/Beta"));
    assert!(p.color.is_some());
    let gamma = Label {
        id: Some(id.clone()),
        label_list_visibility: Some("labelHide".into()),
        message_list_visibility: Some("hide".into()),
        ..named("Zeta/Gamma")
    };
    let u = ok(users.labels_update(gamma, "me", &id).doit(), "update").await;
    assert_eq!(u.name.as_deref(), Some("Zeta/Gamma"));
    assert!(u.color.is_none());
    // System labels are immutable.
    fails_with(users.labels_patch(named("Box"), "me", "INBOX").doit(), 400).await;
    fails_with(users.labels_delete("me", "INBOX").doit(), 400).await;

    // delete removes it from messages.
    ok(users.labels_delete("me", &id).doit(), "delete").await;
    fails_with(users.labels_get("me", &id).doit(), 404).await;
    let mm = get_message(&hub, m.id.as_deref().unwrap(), "minimal").await;
    assert!(!mm.label_ids.unwrap().contains(&id));
    sb.stop().await;
}
