//! History with the real google-gmail1 client.

use crate::common;

use common::*;
use google_gmail1::api::ModifyMessageRequest;

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
