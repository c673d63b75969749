//! What one user can make the store hold has a bound: API keys, queued relay messages,
//! session records, connected OAuth clients and their tokens, consent decisions.

use gmail_shared::store::Store;
use sqlx::Row;

use crate::multi_user::{database_urls, store_with_a_fresh_key, unique, world};

/// Rows of `table` whose `column` is `value` (`SELECT COUNT(*)`, for checking what the store
/// keeps).
async fn rows_where(store: &Store, table: &str, column: &str, value: &str) -> i64 {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM {table} WHERE {column} = $1"
    )))
    .bind(value.to_string())
    .fetch_one(store.pool())
    .await
    .unwrap()
    .try_get("n")
    .unwrap()
}

#[tokio::test]
async fn a_user_holds_at_most_a_hundred_live_keys() {
    for url in database_urls() {
        let w = world(&url).await;
        let store = w.store();
        let u = store.ensure_user(&unique("u"), None).await.unwrap();
        let mut first = None;
        for n in 0..gmail_shared::store::MAX_LIVE_KEYS_PER_USER {
            let (info, _) = store.create_api_key(&u.id, &format!("k{n}")).await.unwrap();
            first.get_or_insert(info.id);
        }
        let err = store.create_api_key(&u.id, "one more").await.unwrap_err();
        assert_eq!(err.kind(), "invalid-argument", "{err}");
        assert!(
            err.to_string().contains("at most 100 live API keys"),
            "{err}"
        );
        // Another user is not affected, and a revoked key makes room.
        let other = store.ensure_user(&unique("o"), None).await.unwrap();
        store.create_api_key(&other.id, "theirs").await.unwrap();
        assert!(store.revoke_api_key(&first.unwrap()).await.unwrap());
        store.create_api_key(&u.id, "one more").await.unwrap();
    }
}

/// A client that stops reading its SSE stream cannot have endless messages queued for it
/// through another instance: past the cap the poster hears 429, and taking them empties the
/// queue again.
#[tokio::test]
async fn messages_relayed_to_one_session_are_bounded() {
    use gmail_shared::store::MAX_RELAYED_PER_SESSION as MAX;
    for url in database_urls() {
        let store = store_with_a_fresh_key(&url).await;
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let (instance, session) = (format!("in_{tag}"), format!("s_{tag}"));
        for n in 0..MAX {
            let body = format!("{{\"n\":{n}}}");
            store
                .relay_message(&instance, &session, &body)
                .await
                .unwrap();
        }
        let over = store
            .relay_message(&instance, &session, "{}")
            .await
            .unwrap_err();
        assert_eq!(over.kind(), "too-many-requests", "{over}");
        // Taken a part at a time, oldest first: each body here is 7 or 8 bytes.
        let mut taken = Vec::new();
        loop {
            let (part, more) = store.take_relayed(&instance, 20).await.unwrap();
            assert!(!part.is_empty() && part.len() <= 2, "{}", part.len());
            taken.extend(part.into_iter().map(|m| m.body));
            if !more {
                break;
            }
        }
        let sent: Vec<String> = (0..MAX).map(|n| format!("{{\"n\":{n}}}")).collect();
        assert_eq!(taken, sent);
        // A message larger than the part still goes, alone.
        let big = "x".repeat(100);
        store
            .relay_message(&instance, &session, &big)
            .await
            .unwrap();
        let (part, more) = store.take_relayed(&instance, 20).await.unwrap();
        assert_eq!((part.len(), more), (1, false));
        // Sizes are bytes: 8 characters of 2 bytes each, then 2 more, are over 17.
        for body in ["é".repeat(8), "{}".to_string()] {
            store
                .relay_message(&instance, &session, &body)
                .await
                .unwrap();
        }
        let (part, more) = store.take_relayed(&instance, 17).await.unwrap();
        assert_eq!((part.len(), more), (1, true));
        assert_eq!(store.take_relayed(&instance, 17).await.unwrap().0.len(), 1);
        store
            .relay_message(&instance, &session, "{}")
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn session_records_are_bounded_per_user_and_in_size() {
    use gmail_shared::store::{MAX_SESSION_RECORDS_PER_USER as MAX, MAX_SESSION_STATE_BYTES};
    for url in database_urls() {
        let store = store_with_a_fresh_key(&url).await;
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let (user, other) = (format!("u_{tag}"), format!("o_{tag}"));
        store
            .put_session_owner(&format!("theirs_{tag}"), "sse", None, Some((&other, "k")))
            .await
            .unwrap();
        // A user at the cap with records that sort newer than anything opened now (ids are
        // random, as the servers' are) ...
        let now = chrono::Utc::now().timestamp() + 3600;
        let mut tx = store.pool().begin().await.unwrap();
        for _ in 0..MAX {
            sqlx::query(
                "INSERT INTO mcp_sessions (id, transport, user_id, key_id, created_at) VALUES \
                 ($1, 'sse', $2, 'k', $3)",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(&user)
            .bind(now)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        // ... keeps every session it opens now, and no more records than the cap and that.
        let mut newest = String::new();
        for _ in 0..5 {
            newest = uuid::Uuid::new_v4().to_string();
            store
                .put_session_owner(&newest, "streamable_http", None, Some((&user, "k")))
                .await
                .unwrap();
            assert!(store.session_owner(&newest).await.unwrap().is_some());
        }
        assert_eq!(
            rows_where(&store, "mcp_sessions", "user_id", &user).await,
            MAX + 1
        );
        assert_eq!(
            rows_where(&store, "mcp_sessions", "user_id", &other).await,
            1
        );
        let big = format!("{{\"x\":\"{}\"}}", "a".repeat(MAX_SESSION_STATE_BYTES));
        let err = store.put_session_state(&newest, &big).await.unwrap_err();
        assert_eq!(err.kind(), "too-large", "{err}");
        store.put_session_state(&newest, "{}").await.unwrap();
    }
}

#[tokio::test]
async fn connected_clients_are_bounded_and_dead_grants_go() {
    use gmail_shared::store::{ClientRecord, NewGrant, MAX_GRANTS_PER_USER};
    for url in database_urls() {
        let w = world(&url).await;
        let store = w.store();
        let u = store.ensure_user(&unique("u"), None).await.unwrap();
        let client = ClientRecord {
            id: unique("client"),
            name: "agent".into(),
            redirect_uris: vec!["http://127.0.0.1:9/cb".into()],
            auth_method: "none".into(),
            created_at: 0,
        };
        let grant = NewGrant {
            user_id: &u.id,
            client: &client,
            redirect_uri: "http://127.0.0.1:9/cb",
            scope: "gmail.full",
            resource: "http://127.0.0.1:8001/mcp",
            code_challenge: "x",
        };
        let mut ids = vec![];
        for n in 0..MAX_GRANTS_PER_USER {
            ids.push(
                store
                    .create_oauth_grant(&grant, &format!("{}-{n}", client.id), 60)
                    .await
                    .unwrap(),
            );
        }
        let err = store
            .create_oauth_grant(&grant, &format!("{}-more", client.id), 60)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("at most 100 connected clients"),
            "{err}"
        );
        // A grant revoked more than a day ago is gone, with its code, and makes room.
        assert!(store
            .revoke_oauth_grant_of(Some(&u.id), &ids[0])
            .await
            .unwrap());
        sqlx::query("UPDATE oauth_grants SET revoked_at = 1 WHERE id = $1")
            .bind(&ids[0])
            .execute(store.pool())
            .await
            .unwrap();
        store
            .create_oauth_grant(&grant, &format!("{}-more", client.id), 60)
            .await
            .unwrap();
        let left = rows_where(store, "oauth_grants", "id", &ids[0]).await;
        assert_eq!(left, 0);
        // A client refreshing in a loop does not grow its grant's tokens without bound.
        let live = &ids[1];
        for n in 0..60 {
            store
                .store_oauth_token(live, &format!("{live}-access-{n}"), "access", 3600)
                .await
                .unwrap();
        }
        let kept = rows_where(store, "oauth_tokens", "grant_id", live).await;
        assert!((50..=51).contains(&kept), "{kept}");
        let audience = ["http://127.0.0.1:8001/mcp".to_string()];
        let newest = store
            .authenticate_oauth_token(&format!("{live}-access-59"), &audience)
            .await
            .unwrap();
        assert!(newest.is_some(), "the token just made works");
    }
}

/// A consent decision is spent once; its record goes an hour after its request expired, by
/// when the request itself is refused as expired.
#[tokio::test]
async fn consent_decisions_are_made_once_and_forgotten_after_expiry() {
    use gmail_shared::store::Decision;
    use secrecy::ExposeSecret;
    for url in database_urls() {
        let store = store_with_a_fresh_key(&url).await;
        let now = chrono::Utc::now().timestamp();
        let (old, live, failed) = (unique("old"), unique("live"), unique("failed"));
        let mine = format!("decision:{live}:alice:allow");
        let begin = async |id: &str, expires: i64| {
            store
                .begin_oauth_decision(id, expires, &format!("decision:{id}:alice:allow"))
                .await
                .unwrap()
        };
        assert!(matches!(begin(&old, now - 2 * 3600).await, Decision::First));
        assert!(matches!(begin(&live, now + 600).await, Decision::First));
        // While the first is being made, a repeat hears that; then its outcome, but only
        // under the same context (user and choice).
        assert!(matches!(begin(&live, now + 600).await, Decision::Pending));
        let sent = "https://app.example/cb?code=gmc_1";
        let outcome = Some((mine.as_str(), sent));
        store.finish_oauth_decision(&live, outcome).await.unwrap();
        match store.oauth_decision(&live, &mine).await.unwrap() {
            Decision::Made(outcome) => assert_eq!(outcome.expose_secret(), sent),
            other => panic!("{other:?}"),
        }
        for other in ["bob:allow", "alice:deny"] {
            let context = format!("decision:{live}:{other}");
            let seen = store.oauth_decision(&live, &context).await.unwrap();
            assert!(matches!(seen, Decision::Other), "{other}: {seen:?}");
        }
        // Sealed at rest: the row does not hold the code.
        let stored: Option<String> =
            sqlx::query_scalar("SELECT outcome FROM oauth_decisions WHERE request_id = $1")
                .bind(&live)
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert!(!stored.unwrap().contains("gmc_1"));
        // A decision that failed is forgotten: the request may be decided again.
        assert!(matches!(begin(&failed, now + 600).await, Decision::First));
        store.finish_oauth_decision(&failed, None).await.unwrap();
        let context = format!("decision:{failed}:alice:allow");
        let seen = store.oauth_decision(&failed, &context).await.unwrap();
        assert!(matches!(seen, Decision::Open), "{seen:?}");
        assert!(matches!(begin(&failed, now + 600).await, Decision::First));
        let kept = async |id: &str| rows_where(&store, "oauth_decisions", "request_id", id).await;
        assert_eq!((kept(&old).await, kept(&live).await), (0, 1));
    }
}
