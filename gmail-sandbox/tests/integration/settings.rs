//! Settings: filters, send-as, vacation (and its responder), IMAP, POP, language.

use crate::common;

use common::*;
use google_gmail1::api::{Filter, FilterAction, FilterCriteria, Label, SendAs, VacationSettings};
use serde_json::json;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vacation_responder_answers_once() {
    let sb = start().await;
    let bob = sb.issue_access_token(BOB, &[FULL, SETTINGS_BASIC]);
    let demo = sb.issue_access_token(DEMO, &[FULL]);
    let r = http(
        &sb,
        "PUT",
        "gmail/v1/users/me/settings/vacation",
        &[("authorization", &bearer(&bob)), JSON_CT],
        br#"{"enableAutoReply":true,"responseSubject":"Out of office","responseBodyPlainText":"Back Monday"}"#.to_vec(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let word = unique_word();
    for i in 0..2 {
        let raw = simple_message(DEMO, BOB, &format!("Ping {word} {i}"), "hello");
        let r = http(
            &sb,
            "POST",
            "gmail/v1/users/me/messages/send",
            &[("authorization", &bearer(&demo)), JSON_CT],
            json!({"raw": b64url(&raw)}).to_string().into_bytes(),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let r = http(
        &sb,
        "GET",
        "gmail/v1/users/me/messages?q=%22Out%20of%20office%22&labelIds=INBOX",
        &[("authorization", &bearer(&demo))],
        vec![],
    )
    .await;
    assert_eq!(r.json()["resultSizeEstimate"], 1, "{}", r.text());
    sb.stop().await;
}
