//! Members and admins over REST, on SQLite and (with GMAIL_TEST_DATABASE_URL) PostgreSQL:
//! a member makes, lists and revokes their own keys (never another's); keys expire; a
//! narrowed key makes only keys as narrow; only the admins named in multi_user.admins reach
//! the admin endpoints, which list users, disable and enable them, and revoke any key.

use gmail_shared::ops::policy::CallerPolicy;
use gmail_shared::store::{ApiKeyInfo, Store};
use serde_json::{json, Value};

use crate::common::fetch;
use crate::common::multi_user::{
    call as send, connect, database_urls, get, http, new_caller, post, user_with_key, Caller,
    Deployment,
};

async fn world(db: &str, admins: &str) -> Deployment {
    Deployment::start_with(db, |s| {
        s.multi_user.admins = admins.split(',').map(str::to_owned).collect();
        s.multi_user.key_ttl_days = 30;
    })
    .await
}

/// A deployment (see [`world`]) and Alice, a member whose mailbox is connected: her caller
/// and user id.
async fn world_with_alice(db: &str, admins: &str) -> (Deployment, Caller, String) {
    let w = world(db, admins).await;
    let (alice, alice_id) = member(&w.store, "alice@example.com").await;
    connect(&w.base, &alice, "demo@example.com").await;
    (w, alice, alice_id)
}

/// A user made with an email (what admins are named by) and a first key.
async fn member(store: &Store, email: &str) -> (Caller, String) {
    let (caller, key) = user_with_key(store, email, Some(email), "first").await;
    (caller, key.user_id)
}

/// Another key of `user_id`'s, expiring at `expires_at` and under `rules` (none when empty).
async fn key_of(
    store: &Store,
    user_id: &str,
    name: &str,
    expires_at: Option<i64>,
    rules: CallerPolicy,
) -> (Caller, ApiKeyInfo) {
    let (info, key) = store
        .create_api_key_with(user_id, name, expires_at, Some(&rules))
        .await
        .unwrap();
    (Caller::new(&key), info)
}

/// A member makes a key named `name` over REST.
async fn make_key(base: &str, c: &Caller, name: &str) -> (u16, Value) {
    post(base, "/api/v1/me/keys", c, json!({"name": name})).await
}

#[tokio::test]
async fn members_make_list_and_revoke_only_their_own_keys() {
    use reqwest::Method;
    for db in database_urls() {
        let (w, alice, alice_id) = world_with_alice(&db, "").await;
        let base = &w.base;
        let bob = new_caller(&w.store, "bob").await;

        let (status, me) = get(base, "/api/v1/me", &alice).await;
        assert_eq!(status, 200, "{me}");
        assert_eq!(
            (me["id"].as_str(), me["admin"].as_bool()),
            (Some(alice_id.as_str()), Some(false))
        );

        let r = fetch(
            http()
                .post(format!("{base}/api/v1/me/keys"))
                .bearer_auth(&alice.key)
                .json(&json!({"name": "laptop"})),
        )
        .await;
        assert_eq!(r.status(), 201);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let made: Value = r.json().await.unwrap();
        let laptop = Caller {
            key: made["key"].as_str().unwrap().to_string(),
        };
        assert!(laptop.key.starts_with("gms_"), "{made}");
        let command = made["claudeCommand"].as_str().unwrap();
        assert!(
            command.starts_with("claude mcp add --transport sse gmail "),
            "{command}"
        );
        assert!(
            command.contains(&format!("Authorization: Bearer {}", laptop.key)),
            "{command}"
        );
        // Expires after key_ttl_days (30 here).
        let ttl = made["expiresAt"].as_i64().unwrap() - made["createdAt"].as_i64().unwrap();
        assert_eq!(ttl, 30 * 86_400, "{made}");

        // The new key works, and the listing never shows a key.
        assert_eq!(
            get(base, "/api/v1/profile", &laptop).await.1["emailAddress"],
            "demo@example.com"
        );
        let (_, keys) = get(base, "/api/v1/me/keys", &alice).await;
        let mut names: Vec<&str> = keys
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["name"].as_str().unwrap())
            .collect();
        // Oldest first; keys made within one second may come in either order.
        names.sort();
        assert_eq!(names, ["first", "laptop"]);
        assert!(!keys.to_string().contains(&laptop.key) && !keys.to_string().contains(&alice.key));
        let first = keys
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["name"] == "first");
        assert!(first.unwrap()["lastUsedAt"].is_i64(), "{keys}");

        // Bob neither sees nor revokes alice's key: the same 404 as a key that does not exist.
        let id = made["id"].as_str().unwrap();
        let (_, bobs) = get(base, "/api/v1/me/keys", &bob).await;
        assert!(!bobs.to_string().contains(id), "{bobs}");
        let path = format!("/api/v1/me/keys/{id}");
        let (status, body) = send(base, Method::DELETE, &path, &bob, None).await;
        assert_eq!(status, 404, "{body}");
        let (missing, _) = send(base, Method::DELETE, "/api/v1/me/keys/key_nope", &bob, None).await;
        assert_eq!(missing, 404);
        assert_eq!(get(base, "/api/v1/profile", &laptop).await.0, 200);

        // Alice revokes it: the next call with it is 401.
        assert_eq!(send(base, Method::DELETE, &path, &alice, None).await.0, 204);
        assert_eq!(get(base, "/api/v1/profile", &laptop).await.0, 401);
        assert_eq!(send(base, Method::DELETE, &path, &alice, None).await.0, 404);

        // Bad names are 400s naming the field.
        let (status, body) = make_key(base, &alice, " ").await;
        assert_eq!(
            (status, body["field"].as_str()),
            (400, Some("name")),
            "{body}"
        );

        // A drafts-only key makes only drafts-only keys; a read-only key makes none.
        let narrow = CallerPolicy {
            drafts_only: Some(true),
            ..Default::default()
        };
        let (narrow_caller, info) = key_of(&w.store, &alice_id, "narrow", None, narrow).await;
        let (status, made) = make_key(base, &narrow_caller, "child").await;
        assert_eq!(status, 201, "{made}");
        assert_eq!(made["rules"]["draftsOnly"], true, "{made}");
        assert_eq!(info.rules.as_ref().and_then(|r| r.drafts_only), Some(true));
        let read_only = CallerPolicy {
            read_only: Some(true),
            ..Default::default()
        };
        let (ro, _) = key_of(&w.store, &alice_id, "ro", None, read_only).await;
        let (status, body) = make_key(base, &ro, "x").await;
        assert_eq!(status, 403, "{body}");

        // An expired key is refused like a revoked one.
        let past = chrono::Utc::now().timestamp() - 1;
        let (old, _) = key_of(
            &w.store,
            &alice_id,
            "old",
            Some(past),
            CallerPolicy::default(),
        )
        .await;
        assert_eq!(get(base, "/api/v1/profile", &old).await.0, 401);
    }
}

#[tokio::test]
async fn only_admins_reach_the_admin_endpoints() {
    use reqwest::Method;
    for db in database_urls() {
        let (w, alice, alice_id) = world_with_alice(&db, "Ops@Example.com").await;
        let base = &w.base;
        let (admin, admin_id) = member(&w.store, "ops@example.com").await;
        assert_eq!(get(base, "/api/v1/me", &admin).await.1["admin"], true);

        // A member gets 403 on every admin endpoint, and changes nothing.
        let alice_key = w.store.list_api_keys(&alice_id).await.unwrap()[0]
            .id
            .clone();
        let admin_key = w.store.list_api_keys(&admin_id).await.unwrap()[0]
            .id
            .clone();
        let calls = [
            (Method::GET, "/api/v1/admin/users".to_string()),
            (Method::GET, format!("/api/v1/admin/users/{admin_id}/keys")),
            (
                Method::POST,
                format!("/api/v1/admin/users/{admin_id}/disable"),
            ),
            (
                Method::POST,
                format!("/api/v1/admin/users/{alice_id}/enable"),
            ),
            (Method::DELETE, format!("/api/v1/admin/keys/{admin_key}")),
        ];
        for (method, path) in &calls {
            let (status, body) = send(base, method.clone(), path, &alice, None).await;
            assert_eq!(status, 403, "{method} {path}: {body}");
            assert_eq!(
                body["type"].as_str().map(|t| t.ends_with("/forbidden")),
                Some(true),
                "{body}"
            );
        }
        assert_eq!(get(base, "/api/v1/me", &admin).await.0, 200);

        // The admin sees every user, with connection counts and no secret.
        let (status, users) = get(base, "/api/v1/admin/users", &admin).await;
        assert_eq!(status, 200, "{users}");
        let row = users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == alice_id.as_str())
            .unwrap();
        assert_eq!(
            (row["email"].as_str(), row["connectionCount"].as_i64()),
            (Some("alice@example.com"), Some(1))
        );
        assert_eq!(row["disabled"], false);
        assert!(!users.to_string().contains("gms_"), "{users}");
        let (_, keys) = get(
            base,
            &format!("/api/v1/admin/users/{alice_id}/keys"),
            &admin,
        )
        .await;
        assert_eq!(keys[0]["id"], alice_key.as_str());

        // Disable: alice's keys stop at once; enable: they work again.
        let disable = format!("/api/v1/admin/users/{alice_id}/disable");
        assert_eq!(
            send(base, Method::POST, &disable, &admin, None).await.0,
            204
        );
        assert_eq!(get(base, "/api/v1/profile", &alice).await.0, 401);
        let (_, users) = get(base, "/api/v1/admin/users", &admin).await;
        assert!(users
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["id"] == alice_id.as_str() && u["disabled"] == true));
        let enable = format!("/api/v1/admin/users/{alice_id}/enable");
        assert_eq!(send(base, Method::POST, &enable, &admin, None).await.0, 204);
        assert_eq!(get(base, "/api/v1/profile", &alice).await.0, 200);
        // An admin cannot lock themselves out.
        let own = format!("/api/v1/admin/users/{admin_id}/disable");
        assert_eq!(send(base, Method::POST, &own, &admin, None).await.0, 409);
        let missing = "/api/v1/admin/users/usr_nope/disable";
        assert_eq!(send(base, Method::POST, missing, &admin, None).await.0, 404);

        // Revoke any key.
        let revoke = format!("/api/v1/admin/keys/{alice_key}");
        assert_eq!(
            send(base, Method::DELETE, &revoke, &admin, None).await.0,
            204
        );
        assert_eq!(get(base, "/api/v1/profile", &alice).await.0, 401);
    }
}

/// A key made with a key expires no later than the key that made it: a leaked key cannot
/// keep itself alive by making new ones.
#[tokio::test]
async fn a_key_made_with_a_key_expires_no_later_than_it() {
    let db = database_urls().remove(0);
    let (w, _, alice_id) = world_with_alice(&db, "").await;
    let soon = chrono::Utc::now().timestamp() + 3600;
    let (short, _) = key_of(
        &w.store,
        &alice_id,
        "short",
        Some(soon),
        CallerPolicy::default(),
    )
    .await;
    let (status, made) = make_key(&w.base, &short, "child").await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["expiresAt"].as_i64(), Some(soon), "{made}");
}

/// A key's toolsets hold on REST as on MCP: a key for reading and organizing cannot send,
/// delete for good or make filters through the endpoints that do those tools' work.
#[tokio::test]
async fn a_keys_toolsets_hold_on_rest() {
    let db = database_urls().remove(0);
    let (w, alice, alice_id) = world_with_alice(&db, "").await;
    let rules = CallerPolicy {
        toolsets: Some(vec!["read".into(), "organize".into()]),
        ..Default::default()
    };
    let (narrow, _) = key_of(&w.store, &alice_id, "narrow", None, rules).await;
    let (status, page) = get(&w.base, "/api/v1/messages?maxResults=1", &narrow).await;
    assert_eq!(status, 200, "{page}");
    let id = page["messages"][0]["id"].as_str().unwrap().to_string();
    let mail = json!({"to": ["a@example.com"], "subject": "s", "body": "b"});
    let refused = [
        (
            reqwest::Method::POST,
            "/api/v1/messages/send".to_string(),
            Some(mail.clone()),
        ),
        (
            reqwest::Method::DELETE,
            format!("/api/v1/messages/{id}"),
            None,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/filters".to_string(),
            Some(
                json!({"criteria": {"from": "x@example.com"}, "action": {"addLabelIds": ["STARRED"]}}),
            ),
        ),
        (
            reqwest::Method::GET,
            "/api/v1/settings/vacation".to_string(),
            None,
        ),
    ];
    for (method, path, body) in refused {
        let (status, problem) = send(&w.base, method.clone(), &path, &narrow, body).await;
        assert_eq!(status, 403, "{method} {path}: {problem}");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("rules leave out"),
            "{problem}"
        );
    }
    let (status, body) = send(
        &w.base,
        reqwest::Method::POST,
        &format!("/api/v1/messages/{id}/trash"),
        &narrow,
        None,
    )
    .await;
    assert_eq!(status, 200, "organize is in: {body}");
    // The same requests with an unnarrowed key of the same user go through.
    let (status, body) = send(
        &w.base,
        reqwest::Method::POST,
        "/api/v1/messages/send",
        &alice,
        Some(mail),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}
