//! Settings: filters, send-as, vacation (and its responder), IMAP, POP, language.

use crate::common;

use common::*;
use google_gmail1::api::{Filter, ImapSettings, Label, SendAs, VacationSettings};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_send_as_vacation() {
    let (sb, hub) = start_demo().await;
    let users = hub.users();
    let receipts = Label {
        name: Some(format!("Receipts {}", unique_word())),
        ..Default::default()
    };
    let l = ok(users.labels_create(receipts, "me").doit(), "label create").await;
    let label = l.id.unwrap();
    let shop = filter_from("shop@store.example", &[&label], Some(&["INBOX"]));
    let f = ok(
        users.settings_filters_create(shop, "me").doit(),
        "filter create",
    )
    .await;
    let fid = f.id.unwrap();
    let list = ok(users.settings_filters_list("me").doit(), "filter list").await;
    assert_eq!(list.filter.map(|f| f.len()), Some(1));
    ok(users.settings_filters_get("me", &fid).doit(), "filter get").await;

    let shop = "Shop <shop@store.example>";
    let receipt = simple_message(shop, DEMO, "Your receipt", "thanks");
    let m = insert(&hub, receipt, &["INBOX", "UNREAD"]).await;
    let labels = m.label_ids.unwrap();
    assert!(
        labels.contains(&label) && !labels.contains(&"INBOX".to_string()),
        "{labels:?}"
    );

    // Unknown label in a filter action.
    let unknown = filter_from("a@b.c", &["Label_4242"], None);
    let e = fails(users.settings_filters_create(unknown, "me").doit()).await;
    assert_eq!(
        error_body(&e)["error"]["message"],
        "Invalid label: Label_4242"
    );

    // filters.create needs gmail.settings.basic, not just mail.google.com.
    let full_only = hub_with_token(&sb, sb.issue_access_token(DEMO, &[FULL]));
    let call = full_only
        .users()
        .settings_filters_create(Filter::default(), "me");
    fails_with(call.doit(), 403).await;

    ok(
        users.settings_filters_delete("me", &fid).doit(),
        "filter delete",
    )
    .await;
    let list = ok(users.settings_filters_list("me").doit(), "filter list").await;
    assert!(list.filter.is_none());

    // sendAs: primary always present.
    let sa = ok(users.settings_send_as_list("me").doit(), "sendAs list").await;
    let sa = sa.send_as.unwrap();
    assert_eq!(sa[0].send_as_email.as_deref(), Some(DEMO));
    assert_eq!(sa[0].is_primary, Some(true));
    let one = ok(users.settings_send_as_get("me", DEMO).doit(), "sendAs get").await;
    assert_eq!(one.is_default, Some(true));
    let signed = SendAs {
        signature: Some("-- demo".into()),
        ..Default::default()
    };
    let call = users.settings_send_as_patch(signed, "me", DEMO);
    let patched = ok(call.doit(), "sendAs patch").await;
    assert_eq!(patched.signature.as_deref(), Some("-- demo"));

    // vacation
    let v = ok(users.settings_get_vacation("me").doit(), "vacation").await;
    assert_eq!(v.enable_auto_reply, Some(false));
    let away = VacationSettings {
        enable_auto_reply: Some(true),
        response_subject: Some("Away".into()),
        response_body_plain_text: Some("Back soon".into()),
        start_time: Some(1_767_000_000_000),
        end_time: Some(1_768_000_000_000),
        ..Default::default()
    };
    let v = ok(
        users.settings_update_vacation(away, "me").doit(),
        "vacation",
    )
    .await;
    assert_eq!(v.enable_auto_reply, Some(true));
    assert_eq!(v.end_time, Some(1_768_000_000_000));
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_pop_language_settings() {
    let (sb, hub) = start_demo().await;
    let users = hub.users();
    let imap = ok(users.settings_get_imap("me").doit(), "imap").await;
    assert_eq!(imap.enabled, Some(true));
    let off = ImapSettings {
        enabled: Some(false),
        ..Default::default()
    };
    let imap = ok(users.settings_update_imap(off, "me").doit(), "update imap").await;
    assert_eq!(imap.enabled, Some(false));
    let imap = ok(users.settings_get_imap("me").doit(), "imap").await;
    assert_eq!(imap.enabled, Some(false));
    let pop = ok(users.settings_get_pop("me").doit(), "pop").await;
    assert_eq!(pop.access_window.as_deref(), Some("disabled"));
    let lang = ok(users.settings_get_language("me").doit(), "language").await;
    assert_eq!(lang.display_language.as_deref(), Some("en"));
    let call = users.settings_forwarding_addresses_list("me");
    let fwd = ok(call.doit(), "forwarding").await;
    assert!(fwd.forwarding_addresses.is_none());
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vacation_responder_answers_once() {
    let sb = start().await;
    let bob = Api::new(&sb, &sb.issue_access_token(BOB, &[FULL, SETTINGS_BASIC]));
    let demo = Api::full(&sb, DEMO);
    let away = r#"{"enableAutoReply":true,"responseSubject":"Out of office","responseBodyPlainText":"Back Monday"}"#;
    let r = bob
        .send_json("PUT", "gmail/v1/users/me/settings/vacation", away)
        .await;
    r.expect(200);
    let word = unique_word();
    for i in 0..2 {
        let raw = simple_message(DEMO, BOB, &format!("Ping {word} {i}"), "hello");
        demo.send_message(&raw).await.expect(200);
    }
    let r = demo
        .get("gmail/v1/users/me/messages?q=%22Out%20of%20office%22&labelIds=INBOX")
        .await;
    assert_eq!(r.json()["resultSizeEstimate"], 1, "{}", r.text());
    sb.stop().await;
}
