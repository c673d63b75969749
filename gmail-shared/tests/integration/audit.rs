//! The audit log's retention: old entries are purged, recent ones (and so the daily send
//! cap's count) stay; on SQLite and (when GMAIL_TEST_DATABASE_URL is set) PostgreSQL.

use gmail_shared::ops::audit::{new_entry_id, AuditEntry, AuditSink, DAY};
use gmail_shared::store::Store;

use crate::multi_user::{database_urls, store_with_a_fresh_key, unique, world_with};

/// A finished send by `user` from `account` at `at` (unix seconds).
fn sent(user: &str, account: &str, at: i64) -> AuditEntry {
    AuditEntry {
        id: new_entry_id(),
        at,
        user_id: Some(user.into()),
        key_id: None,
        entry: "tool:send_email".into(),
        account: account.into(),
        action: "send".into(),
        recipients: vec!["to@example.com".into()],
        ids: vec![],
        request_id: None,
        outcome: "ok".into(),
        detail: None,
    }
}

/// A new user and mailbox of theirs, and the time (unix seconds).
fn someone_now() -> (String, String, i64) {
    let account = format!("{}@example.com", unique("a"));
    (unique("u"), account, chrono::Utc::now().timestamp())
}

/// Where the cap of 2 sends a day stands for `account`: full, with how many and the oldest.
async fn cap(store: &Store, user: &str, account: &str, now: i64) -> (u32, Option<i64>) {
    let full = store
        .reserve(sent(user, account, now), 2, now - DAY)
        .await
        .unwrap()
        .expect_err("the cap is full");
    (full.sent, full.oldest)
}

#[tokio::test]
async fn audit_entries_past_retention_are_purged_and_the_send_cap_still_counts() {
    for url in database_urls() {
        let store = store_with_a_fresh_key(&url).await;
        let (user, account, now) = someone_now();
        // More old entries than one purge batch deletes, and two sends within the cap's day.
        // Old, yet within the default retention: other tests, opening accounts on a shared
        // PostgreSQL database, purge with that and so leave these to the purge below.
        let mut recent = Vec::new();
        for n in 0..505 {
            store.record(sent(&user, &account, now - 3 * DAY - n)).await;
        }
        for at in [now - DAY + 600, now - 60] {
            let e = sent(&user, &account, at);
            recent.push(e.id.clone());
            store.record(e).await;
        }
        let before = cap(&store, &user, &account, now).await;
        assert_eq!(before, (2, Some(now - DAY + 600)));

        // Earlier runs may have left old entries in a shared database: at least ours went.
        let purged = store.purge_audit(now - 2 * DAY).await.unwrap();
        assert!(purged >= 505, "{purged}");
        let kept: Vec<String> = store
            .list(Some(&user), 1000, None)
            .await
            .unwrap()
            .into_iter()
            .rev()
            .map(|e| e.id)
            .collect();
        assert_eq!(kept, recent);
        assert_eq!(cap(&store, &user, &account, now).await, before);

        // The shortest retention allowed, the cap's own day, keeps what the cap counts.
        store.purge_audit(now - DAY).await.unwrap();
        assert_eq!(store.list(Some(&user), 1000, None).await.unwrap().len(), 2);
        assert_eq!(cap(&store, &user, &account, now).await, before);
    }
}

/// Every multi-user process purges when it opens the accounts (and hourly after), whether or
/// not it runs the change feed. On SQLite alone: on a shared PostgreSQL database the other
/// tests' purges would delete the entry too, and the test could not fail.
#[tokio::test]
async fn opening_the_accounts_purges_audit_entries_past_retention() {
    let url = database_urls().remove(0);
    // The world keeps everything, so only the instance opened below can purge.
    let w = world_with(&url, |s| s.multi_user.audit_retention_hours = 0).await;
    let (user, account, now) = someone_now();
    w.store()
        .record(sent(&user, &account, now - 91 * DAY))
        .await;
    let recent = sent(&user, &account, now - 60);
    let recent_id = recent.id.clone();
    w.store().record(recent).await;
    let listed = async || w.store().list(Some(&user), 10, None).await.unwrap();
    assert_eq!(
        listed().await.len(),
        2,
        "both recorded, and kept by the world"
    );
    let mut settings = w.settings.clone();
    settings.multi_user.audit_retention_hours = 90 * 24;
    let factory = gmail_shared::gmail::GmailFactory::new(&settings.gmail).unwrap();
    let _instance = gmail_shared::oauth::accounts::Accounts::open(&settings, factory)
        .await
        .unwrap();
    let purged = gmail_test_support::eventually(std::time::Duration::from_secs(10), || async {
        listed().await.len() == 1
    })
    .await;
    assert!(purged, "the old entry is still there");
    assert_eq!(listed().await[0].id, recent_id);
}
