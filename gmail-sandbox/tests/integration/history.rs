//! History with the real google-gmail1 client.

use crate::common;

use common::*;
use google_gmail1::api::ModifyMessageRequest;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_records_changes() {
    let (sb, hub) = start_demo().await;
    let users = hub.users();
    let p = ok(users.get_profile("me").doit(), "profile").await;
    let start = p.history_id.unwrap();
    let m = insert_simple(&hub, "x@y.z", "hist", &["INBOX", "UNREAD"]).await;
    let id = m.id.unwrap();
    // The second, a no-op, records nothing.
    for _ in 0..2 {
        let read = ModifyMessageRequest {
            add_label_ids: None,
            remove_label_ids: Some(strings(&["UNREAD"])),
        };
        ok(users.messages_modify(read, "me", &id).doit(), "modify").await;
    }
    ok(users.messages_delete("me", &id).doit(), "delete").await;

    let h = ok(
        users.history_list("me").start_history_id(start).doit(),
        "history",
    )
    .await;
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

    let since = || users.history_list("me").start_history_id(start);
    let call = since().add_history_types("labelRemoved").doit();
    let h = ok(call, "labelRemoved").await;
    assert_eq!(h.history.unwrap().len(), 1);

    // Paging.
    let h1 = ok(since().max_results(2).doit(), "page 1").await;
    assert_eq!(h1.history.unwrap().len(), 2);
    let call = since()
        .max_results(2)
        .page_token(&h1.next_page_token.unwrap());
    let h2 = ok(call.doit(), "page 2").await;
    assert_eq!(h2.history.unwrap().len(), 1);
    assert!(h2.next_page_token.is_none());

    // Nothing new → only historyId.
    let now = h.history_id.unwrap();
    let none = ok(users.history_list("me").start_history_id(now).doit(), "now").await;
    assert!(none.history.is_none());
    assert_eq!(none.history_id, Some(now));
    // Too old → 404.
    fails_with(users.history_list("me").start_history_id(1).doit(), 404).await;
    sb.stop().await;
}
