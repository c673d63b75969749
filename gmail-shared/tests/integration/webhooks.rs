//! Webhooks in the store: a secret no configured key opens, and test deliveries (rotation is
//! with the keys in multi_user.rs).

use gmail_shared::store::{cipher, Keyring, Store};
use secrecy::SecretString;
use serde_json::json;

use crate::multi_user::{database_urls, world};

pub(crate) fn new_webhook() -> gmail_shared::store::NewWebhook {
    serde_json::from_value(json!({"url": "https://hooks.example/in"})).unwrap()
}

pub(crate) fn now() -> i64 {
    gmail_shared::store::now_ms()
}

/// A webhook whose secret no configured key opens is turned off with a reason its owner
/// sees; the other deliveries of the batch still go out.
#[tokio::test]
async fn an_unreadable_webhook_secret_stops_that_webhook_not_the_batch() {
    // A database of its own: claims here take every due delivery in it.
    for url in gmail_test_support::fresh_database_urls("mu_hooks").await {
        let w = world(&url).await;
        let u = w.user("u").await;
        let lost = Store::connect(
            &w.url,
            Keyring::new(&SecretString::from(cipher::generate_key()), None).unwrap(),
        )
        .await
        .unwrap();
        let orphan = lost
            .insert_webhook(&u.id, &new_webhook(), &SecretString::from("whsec_lost"))
            .await
            .unwrap();
        lost.insert_test_delivery(&orphan, json!({})).await.unwrap();
        let store = w.store();
        let fine = store
            .insert_webhook(&u.id, &new_webhook(), &SecretString::from("whsec_fine"))
            .await
            .unwrap();
        store.insert_test_delivery(&fine, json!({})).await.unwrap();

        let claimed = store
            .claim_deliveries(now(), now() + 30_000, 16)
            .await
            .unwrap();
        let hooks: Vec<&str> = claimed.iter().map(|c| c.0.webhook_id.as_str()).collect();
        assert!(hooks.contains(&fine.id.as_str()), "{hooks:?}");
        assert!(!hooks.contains(&orphan.id.as_str()), "{hooks:?}");
        let orphan = store.webhook(&u.id, &orphan.id).await.unwrap().unwrap();
        assert!(!orphan.enabled);
        assert!(
            orphan
                .disabled_reason
                .unwrap()
                .contains("create the webhook again"),
            "the owner is told what to do"
        );
        // Its delivery is failed, not left pending at the front of the queue.
        let later = store
            .claim_deliveries(now(), now() + 30_000, 16)
            .await
            .unwrap();
        assert!(later.is_empty(), "{} claimed again", later.len());
        gmail_test_support::drop_database(&url).await;
    }
}

/// Test deliveries asked for at once (a double click) are each stored, not a unique-key 500.
#[tokio::test]
async fn test_deliveries_at_once_are_each_stored_and_bounded() {
    for url in database_urls() {
        let w = world(&url).await;
        let u = w.user("u").await;
        let hook = w
            .store()
            .insert_webhook(&u.id, &new_webhook(), &SecretString::from("whsec_x"))
            .await
            .unwrap();
        let max = gmail_shared::store::MAX_PENDING_TESTS;
        let tests = (0..max).map(|_| w.store().insert_test_delivery(&hook, json!({})));
        for r in futures::future::join_all(tests).await {
            r.unwrap();
        }
        // A receiver that never answers keeps them pending: the next test waits its turn.
        let err = w
            .store()
            .insert_test_delivery(&hook, json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "too-many-requests", "{err}");
        assert!(err.to_string().contains("still pending"), "{err}");
    }
}

/// Users take turns in each wave of deliveries: one tenant's backlog does not keep another's
/// waiting behind it.
#[tokio::test]
async fn a_wave_of_deliveries_serves_every_user_first() {
    // A database of its own: claims here take every due delivery in it.
    for url in gmail_test_support::fresh_database_urls("mu_fair").await {
        let w = world(&url).await;
        let (busy, quiet) = (w.user("busy").await, w.user("quiet").await);
        let store = w.store();
        for _ in 0..4 {
            let hook = store
                .insert_webhook(&busy.id, &new_webhook(), &SecretString::from("whsec_b"))
                .await
                .unwrap();
            for _ in 0..gmail_shared::store::MAX_PENDING_TESTS {
                store.insert_test_delivery(&hook, json!({})).await.unwrap();
            }
        }
        let theirs = store
            .insert_webhook(&quiet.id, &new_webhook(), &SecretString::from("whsec_q"))
            .await
            .unwrap();
        store
            .insert_test_delivery(&theirs, json!({}))
            .await
            .unwrap();
        // Due since a moment ago, the quiet user's last of all.
        let claimed = store
            .claim_deliveries(now() + 1, now() + 30_000, 4)
            .await
            .unwrap();
        let hooks: Vec<&str> = claimed.iter().map(|c| c.0.webhook_id.as_str()).collect();
        assert_eq!(hooks.len(), 4, "{hooks:?}");
        assert!(hooks.contains(&theirs.id.as_str()), "{hooks:?}");
        gmail_test_support::drop_database(&url).await;
    }
}

/// An attempt that outlived its claim (another instance claimed the delivery since) records
/// nothing: the newer claim's attempt decides.
#[tokio::test]
async fn an_attempt_records_only_under_its_own_claim() {
    // A database of its own: claims here take every due delivery in it.
    for url in gmail_test_support::fresh_database_urls("mu_claim").await {
        let w = world(&url).await;
        let u = w.user("u").await;
        let store = w.store();
        let hook = store
            .insert_webhook(&u.id, &new_webhook(), &SecretString::from("whsec_c"))
            .await
            .unwrap();
        store.insert_test_delivery(&hook, json!({})).await.unwrap();
        let t = now() + 1;
        let first = store.claim_deliveries(t, t + 1, 16).await.unwrap();
        assert_eq!(first.len(), 1);
        // The first claim lapsed: another instance claims it again.
        let again = store
            .claim_deliveries(t + 10, t + 30_000, 16)
            .await
            .unwrap();
        assert_eq!(again.len(), 1);
        let id = &first[0].0.id;
        let delivered = gmail_shared::store::AttemptOutcome::Delivered { status: 200 };
        assert!(!store.record_attempt(id, t + 1, delivered).await.unwrap());
        let delivered = gmail_shared::store::AttemptOutcome::Delivered { status: 200 };
        assert!(store
            .record_attempt(id, t + 30_000, delivered)
            .await
            .unwrap());
        gmail_test_support::drop_database(&url).await;
    }
}
