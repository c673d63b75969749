//! The change feed against the sandbox, with no sync loop running: what a sync reports.

use crate::common::{settings, Harness};
use gmail_shared::events::{Events, LOCAL_USER};
use serde_json::json;

/// The harness, and a change feed on a database of its own (the default one under data/
/// would outlive the test) with no sync loop running.
async fn harness_with_feed() -> (Harness, Events) {
    let h = Harness::start().await;
    let mut s = settings(&h.sandbox.base_url(), h.dir.path());
    s.multi_user.database_url = format!("sqlite://{}/events.db", h.dir.path().display()).into();
    let events = Events::new(Events::single_user_store(&s).await.unwrap(), &s);
    (h, events)
}

/// A watcher that starts before the sync loop reached its mailbox must still hear of the
/// next message: `pin` gives the feed its starting point at once, so the message that
/// arrives next is an event, not the starting point.
#[tokio::test]
async fn a_pinned_feed_reports_the_first_message_after_the_pin() {
    let (h, events) = harness_with_feed().await;
    let mailbox = h.ctx.mailbox(None).await.unwrap();

    events.pin(LOCAL_USER, &mailbox).await.unwrap();
    // Pinning twice reads nothing more from Gmail.
    let before = h.gmail_requests().await;
    events.pin(LOCAL_USER, &mailbox).await.unwrap();
    assert_eq!(h.gmail_requests().await, before);

    let id = gmail_test_support::deliver(&h.sandbox.base_url(), "demo@example.com", "Pinned").await;
    let report = events
        .sync(LOCAL_USER, "demo@example.com", &mailbox)
        .await
        .unwrap();
    assert!(report.ran);
    assert_eq!(
        report.kinds,
        vec!["message.added".to_string()],
        "{report:?}"
    );
    let stored = events
        .store()
        .events_after(LOCAL_USER, 0, 10)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].data["id"], id.as_str());
}

/// A search for new mail decides every candidate however much newer matching mail there
/// is (a stream catching up, a sync after downtime): not only those on its first page.
#[tokio::test]
async fn a_search_decides_candidates_behind_newer_matches() {
    use gmail_shared::ops::history;
    let h = Harness::start().await;
    let mailbox = h.ctx.mailbox(None).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..30 {
        let subject = format!("Quarterly statement {i}");
        ids.push(
            gmail_test_support::deliver(&h.sandbox.base_url(), "demo@example.com", &subject).await,
        );
    }
    let oldest: Vec<(String, i64)> = history::arrived(&mailbox, &ids[..5])
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.id, a.internal_date))
        .collect();
    assert_eq!(oldest.len(), 5);
    let hits = history::matching(&mailbox, "subject:\"quarterly statement\"", &oldest)
        .await
        .unwrap();
    assert_eq!(hits.len(), 5, "{hits:?}");
    // A search that fits none of them matches none.
    let none = history::matching(&mailbox, "subject:nothing-like-this", &oldest)
        .await
        .unwrap();
    assert!(none.is_empty());
}

/// Saving a draft (Gmail replaces its message) or discarding one is no mail arriving or
/// leaving: no event, so no webhook delivery and no inbox notification.
#[tokio::test]
async fn draft_saves_are_no_events() {
    let (h, events) = harness_with_feed().await;
    let mailbox = h.ctx.mailbox(None).await.unwrap();
    events.pin(LOCAL_USER, &mailbox).await.unwrap();
    let to = ["carol@client.example"];
    let draft = crate::common::call(
        &h,
        "draft_email",
        json!({"to": to, "subject": "Plan", "body": "v1"}),
    )
    .await;
    let draft_id = draft.structured.unwrap()["id"]
        .as_str()
        .expect("a draft id")
        .to_string();
    for body in ["v2", "v3"] {
        let args = json!({"draftId": draft_id, "to": to, "subject": "Plan", "body": body});
        crate::common::call(&h, "update_draft", args).await;
    }
    crate::common::call(&h, "delete_draft", json!({"draftId": draft_id})).await;
    let report = events
        .sync(LOCAL_USER, "demo@example.com", &mailbox)
        .await
        .unwrap();
    assert!(report.ran);
    assert!(report.kinds.is_empty(), "{report:?}");
}

/// A wait that looks back finds mail that came just before it for one search and one read
/// of the message, not a search's own read on top.
#[tokio::test]
async fn a_wait_that_looks_back_costs_one_list_and_one_read() {
    let (h, events) = harness_with_feed().await;
    let mailbox = h.ctx.mailbox(None).await.unwrap();
    events.pin(LOCAL_USER, &mailbox).await.unwrap();
    let id =
        gmail_test_support::deliver(&h.sandbox.base_url(), "demo@example.com", "Lookback").await;
    h.reset_stats().await;
    let quiet = |_: u64, _: u64| -> futures::future::BoxFuture<'static, ()> { Box::pin(async {}) };
    let found = events
        .wait_for_email(
            LOCAL_USER,
            &mailbox,
            "subject:lookback",
            std::time::Duration::from_secs(5),
            std::time::Duration::from_secs(120),
            &quiet,
        )
        .await
        .unwrap()
        .expect("the message that came before the wait");
    assert_eq!(found.id, id);
    assert_eq!(found.subject, "Lookback");
    assert_eq!(h.gmail_requests().await, 2, "{}", h.stats().await);
}

/// Waiters share syncs: one that asks while a sync of the same mailbox is recent makes no
/// Gmail request, so N waiters cost one `history.list` a poll period, not N.
#[tokio::test]
async fn a_sync_asked_for_soon_after_another_is_skipped() {
    let (h, events) = harness_with_feed().await;
    let mailbox = h.ctx.mailbox(None).await.unwrap();
    let account = "demo@example.com";
    events.pin(LOCAL_USER, &mailbox).await.unwrap();
    gmail_test_support::deliver(&h.sandbox.base_url(), account, "Shared sync").await;
    // Five waiters of one process asking at once: one sync runs, the others share it. (The
    // pin counts as a sync: the period is shorter than the pause after it.)
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    h.reset_stats().await;
    let period = std::time::Duration::from_secs(1);
    let asked = (0..5).map(|_| events.sync_unless_recent(LOCAL_USER, account, &mailbox, period));
    let reports = futures::future::join_all(asked).await;
    let ran: Vec<_> = reports
        .into_iter()
        .map(|r| r.unwrap())
        .filter(|r| r.ran)
        .collect();
    assert_eq!(ran.len(), 1);
    assert_eq!(ran[0].kinds, vec!["message.added".to_string()]);
    assert_eq!(h.stat("users.history.list").await, 1);
    h.reset_stats().await;
    let recent = std::time::Duration::from_secs(60);
    let again = events.sync_unless_recent(LOCAL_USER, account, &mailbox, recent);
    assert!(!again.await.unwrap().ran);
    assert_eq!(h.gmail_requests().await, 0);
    // Once the last sync is older than that, it runs; a plain sync (the loop's) always does.
    let soon = std::time::Duration::from_millis(1);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let late = events.sync_unless_recent(LOCAL_USER, account, &mailbox, soon);
    assert!(late.await.unwrap().ran);
    assert!(
        events
            .sync(LOCAL_USER, account, &mailbox)
            .await
            .unwrap()
            .ran
    );
    assert_eq!(h.stat("users.history.list").await, 2);
}
