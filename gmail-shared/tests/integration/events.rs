//! The change feed against the sandbox, with no sync loop running: what a sync reports.

use crate::common::{settings, Harness};
use gmail_shared::events::{Events, LOCAL_USER};

/// A watcher that starts before the sync loop reached its mailbox must still hear of the
/// next message: `pin` gives the feed its starting point at once, so the message that
/// arrives next is an event, not the starting point.
#[tokio::test]
async fn a_pinned_feed_reports_the_first_message_after_the_pin() {
    let h = Harness::start().await;
    let s = settings(&h.sandbox.base_url(), h.dir.path());
    let events = Events::new(Events::single_user_store(&s).await.unwrap(), &s);
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
