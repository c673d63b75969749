//! OAuth 2.1 for remote MCP clients, end to end over real sockets: a sandbox (its Google
//! consent page), this REST server as the authorization server, and a gmail-mcp-server as the
//! protected resource, on SQLite and (with GMAIL_TEST_DATABASE_URL) PostgreSQL.
//!
//! Discovery (401 → RFC 9728 → RFC 8414), registration (RFC 7591) and Client ID Metadata
//! Documents, the consent page (sign in with Google first, login_hint passed on; decided once,
//! even with an old copy of the session cookie), PKCE S256, the resource parameter and
//! audience binding, refresh rotation with reuse detection, scope narrowing, revocation
//! closing an open SSE stream, and tokens stored only as hashes.

use std::time::Duration;

use futures::StreamExt;
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use gmail_test_support::{drop_database, fetch, fresh_database_urls, json_body};

use crate::common::multi_user::http;
use crate::common::oauth::*;
use crate::site::{browser, browser_with_jar, cookies, location, page};

#[tokio::test]
async fn a_remote_mcp_client_discovers_registers_is_approved_and_connects() {
    for db in fresh_database_urls("oauth_as").await {
        let d = deploy(&db).await;
        let store = &d.servers.store;
        let http = http();

        // 1. Discovery: the 401 names the metadata, which names the authorization server.
        let r = fetch(http.post(format!("{}/mcp", d.mcp))).await;
        assert_eq!(r.status(), 401);
        let challenge = r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_string();
        let prm_url = format!("{}/.well-known/oauth-protected-resource/mcp", d.mcp);
        assert!(
            challenge.contains(&format!("resource_metadata=\"{prm_url}\"")),
            "{challenge}"
        );
        let prm: Value = json_body(http.get(&prm_url)).await;
        assert_eq!(prm["resource"], format!("{}/mcp", d.mcp));
        assert_eq!(prm["authorization_servers"], json!([d.rest]));
        for (path, resource) in [("", d.mcp.clone()), ("/sse", format!("{}/sse", d.mcp))] {
            let doc: Value = json_body(http.get(format!(
                "{}/.well-known/oauth-protected-resource{path}",
                d.mcp
            )))
            .await;
            assert_eq!(doc["resource"], resource);
        }
        let r = fetch(http.get(format!("{}/sse", d.mcp))).await;
        let sse_challenge = r.headers()["www-authenticate"].to_str().unwrap();
        assert!(
            sse_challenge.contains("oauth-protected-resource/sse\""),
            "{sse_challenge}"
        );
        let meta: Value =
            json_body(http.get(format!("{}/.well-known/oauth-authorization-server", d.rest))).await;
        assert_eq!(meta["issuer"], d.rest);
        assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(meta["client_id_metadata_document_supported"], true);

        // 2. Registration: what a client may register is checked.
        let (status, bad) = register(
            &http,
            &d.rest,
            json!({"redirect_uris": ["http://evil.example/cb"], "client_name": "x"}),
        )
        .await;
        assert_eq!(
            (status, bad["error"].as_str()),
            (400, Some("invalid_redirect_uri"))
        );
        let (status, client) = register(
            &http,
            &d.rest,
            json!({"redirect_uris": [REDIRECT], "client_name": "Test Agent",
                   "token_endpoint_auth_method": "none", "application_type": "native"}),
        )
        .await;
        assert_eq!(status, 201, "{client}");
        assert!(client.get("client_secret").is_none());
        let client_id = client["client_id"].as_str().unwrap().to_string();

        // 3. Requests that fail their checks: never a redirect to an unregistered URI.
        let (_, challenge) = pkce();
        let resource = format!("{}/mcp", d.mcp);
        let r = fetch(
            http.get(
                authorize_url(&d, &client_id, &challenge, &[("resource", &resource)])
                    .replace("127.0.0.1%3A9%2Fcallback", "evil.example%2Fcb"),
            ),
        )
        .await;
        assert_eq!(r.status(), 400, "an unregistered redirect_uri gets a page");
        // Anyone may register a redirect URI: until a user approves the client, its errors
        // are a page with a link back, not a redirect from this server's domain.
        let errors = [
            (vec![], "invalid_target"),
            (
                vec![("resource", "https://other.example/mcp")],
                "invalid_target",
            ),
            (
                vec![("resource", resource.as_str()), ("scope", "admin")],
                "invalid_scope",
            ),
        ];
        for (extra, error) in &errors {
            let r = fetch(http.get(authorize_url(&d, &client_id, &challenge, extra))).await;
            assert_eq!(r.status(), 400);
            let page = r.text().await.unwrap();
            assert!(
                page.contains(&format!("{REDIRECT}?error={error}")) && page.contains("st-123"),
                "{page}"
            );
        }

        // 4. Consent: sign in with Google (login_hint passed on), see the client, allow.
        let alice = browser();
        let (verifier, back) = consent_with_pkce(
            &alice,
            &d,
            &client_id,
            &[("resource", &resource), ("login_hint", "demo@example.com")],
            "demo@example.com",
        )
        .await;
        assert!(back.starts_with(REDIRECT), "{back}");
        // Approved by the user of this browser, the client hears its errors as RFC 6749
        // says: sent back to it. Any other browser still gets a page with a link (a client's
        // registrant can approve it themselves; that vouches for nothing).
        for (extra, error) in &errors {
            let r = fetch(http.get(authorize_url(&d, &client_id, &challenge, extra))).await;
            assert_eq!(r.status(), 400, "{extra:?}");
            let r = fetch(alice.get(authorize_url(&d, &client_id, &challenge, extra))).await;
            assert_eq!(r.status(), 303);
            let q = query_of(&location(&r));
            assert_eq!(q["error"], *error, "{extra:?}");
            assert_eq!(
                (q["state"].as_str(), q["iss"].as_str()),
                ("st-123", d.rest.as_str())
            );
        }
        let plain = authorize_url(&d, &client_id, &challenge, &[("resource", &resource)])
            .replace("code_challenge_method=S256", "code_challenge_method=plain");
        let r = fetch(alice.get(plain)).await;
        assert_eq!(query_of(&location(&r))["error"], "invalid_request");
        let q = query_of(&back);
        assert_eq!(
            (q["state"].as_str(), q["iss"].as_str()),
            ("st-123", d.rest.as_str())
        );
        let code = q["code"].clone();

        // 5. The token endpoint: PKCE verified, tokens issued for the resource.
        let exchange = |code: String, verifier: String| {
            let (http, rest, client_id, resource) = (
                http.clone(),
                d.rest.clone(),
                client_id.clone(),
                resource.clone(),
            );
            async move {
                token(
                    &http,
                    &rest,
                    &[
                        ("grant_type", "authorization_code"),
                        ("code", &code),
                        ("redirect_uri", REDIRECT),
                        ("client_id", &client_id),
                        ("code_verifier", &verifier),
                        ("resource", &resource),
                    ],
                )
                .await
            }
        };
        let (status, tokens) = exchange(code.clone(), verifier.clone()).await;
        assert_eq!(status, 200, "{tokens}");
        assert_eq!(tokens["token_type"], "Bearer");
        assert_eq!(tokens["scope"], "gmail.full");
        let access = tokens["access_token"].as_str().unwrap().to_string();
        let refresh = tokens["refresh_token"].as_str().unwrap().to_string();

        // 6. The token works on the MCP server (every tool), and only there: the REST API
        // is another audience.
        let (status, tools) = mcp_tools(&d.mcp, &access).await;
        assert_eq!(status, 200);
        assert!(tools.iter().any(|t| t == "send_email"), "{tools:?}");
        let r = fetch(
            http.get(format!("{}/api/v1/me", d.rest))
                .bearer_auth(&access),
        )
        .await;
        assert_eq!(r.status(), 401, "an MCP token is not for the REST API");

        // 7. Tokens are at rest only as hashes.
        if let Some(path) = db.strip_prefix("sqlite://") {
            let mut bytes = std::fs::read(path).unwrap();
            bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
            let text = String::from_utf8_lossy(&bytes);
            for secret in [&access, &refresh, &code] {
                assert!(
                    !text.contains(secret.as_str()),
                    "a token is stored in plain text"
                );
            }
        }

        // 8. Refresh rotates; presenting the old refresh token again revokes the family.
        let refresh_with = |t: String| {
            let (http, rest, client_id) = (http.clone(), d.rest.clone(), client_id.clone());
            async move {
                token(
                    &http,
                    &rest,
                    &[
                        ("grant_type", "refresh_token"),
                        ("refresh_token", &t),
                        ("client_id", &client_id),
                    ],
                )
                .await
            }
        };
        // A refresh refused for what it asks (another resource) spends nothing: the same
        // token still works after.
        let (status, refused) = token(
            &http,
            &d.rest,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh),
                ("client_id", &client_id),
                ("resource", "https://other.example/mcp"),
            ],
        )
        .await;
        assert_eq!(
            (status, refused["error"].as_str()),
            (400, Some("invalid_target"))
        );
        let (status, rotated) = refresh_with(refresh.clone()).await;
        assert_eq!(status, 200, "{rotated}");
        let access2 = rotated["access_token"].as_str().unwrap().to_string();
        assert_ne!(rotated["refresh_token"].as_str().unwrap(), refresh);
        assert_eq!(mcp_tools(&d.mcp, &access2).await.0, 200);
        let (status, reused) = refresh_with(refresh.clone()).await;
        assert_eq!(
            (status, reused["error"].as_str()),
            (400, Some("invalid_grant"))
        );
        assert_eq!(
            mcp_tools(&d.mcp, &access2).await.0,
            401,
            "the family is revoked"
        );
        let (status, _) = refresh_with(rotated["refresh_token"].as_str().unwrap().into()).await;
        assert_eq!(status, 400);

        // 9. A code is single-use, and its verifier must match.
        let (status, again) = exchange(code, verifier).await;
        assert_eq!(
            (status, again["error"].as_str()),
            (400, Some("invalid_grant"))
        );
        let (_, back) = consent_with_pkce(
            &alice,
            &d,
            &client_id,
            &[("resource", &resource)],
            "demo@example.com",
        )
        .await;
        let (wrong, _) = pkce();
        let (status, e) = exchange(query_of(&back)["code"].clone(), wrong).await;
        assert_eq!((status, e["error"].as_str()), (400, Some("invalid_grant")));

        // 10. gmail.readonly narrows the tools like a read-only key.
        let (verifier, back) = consent_with_pkce(
            &alice,
            &d,
            &client_id,
            &[("resource", &resource), ("scope", "gmail.readonly")],
            "demo@example.com",
        )
        .await;
        let (status, ro) = exchange(query_of(&back)["code"].clone(), verifier).await;
        assert_eq!(
            (status, ro["scope"].as_str()),
            (200, Some("gmail.readonly"))
        );
        let (status, tools) = mcp_tools(&d.mcp, ro["access_token"].as_str().unwrap()).await;
        assert_eq!(status, 200);
        assert!(tools.iter().any(|t| t == "search_emails"), "{tools:?}");
        assert!(!tools.iter().any(|t| t == "send_email"), "{tools:?}");

        // 11. The member sees the connected app and disconnects it: an open SSE stream
        // made with its token closes within a second.
        let user = store.list_users().await.unwrap().remove(0).user;
        let (_, key) = store.create_api_key(&user.id, "test").await.unwrap();
        let listed: Value = json_body(
            http.get(format!("{}/api/v1/me/clients", d.rest))
                .bearer_auth(key.expose_secret()),
        )
        .await;
        let app = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["scope"] == "gmail.readonly")
            .unwrap_or_else(|| panic!("{listed}"))
            .clone();
        assert_eq!(app["clientName"], "Test Agent");
        let sse = fetch(
            http.get(format!("{}/sse", d.mcp))
                .bearer_auth(ro["access_token"].as_str().unwrap()),
        )
        .await;
        assert_eq!(sse.status(), 200);
        let mut stream = sse.bytes_stream();
        assert!(stream.next().await.is_some(), "the endpoint event");
        let r = fetch(
            http.delete(format!(
                "{}/api/v1/me/clients/{}",
                d.rest,
                app["id"].as_str().unwrap()
            ))
            .bearer_auth(key.expose_secret()),
        )
        .await;
        assert_eq!(r.status(), 204);
        let closed = tokio::time::timeout(Duration::from_millis(1500), async {
            while let Some(Ok(_)) = stream.next().await {}
        })
        .await;
        assert!(closed.is_ok(), "the stream of a disconnected app closes");
        assert_eq!(
            mcp_tools(&d.mcp, ro["access_token"].as_str().unwrap())
                .await
                .0,
            401
        );
        drop_database(&db).await;
    }
}

#[tokio::test]
async fn a_client_named_by_its_metadata_document_is_shown_by_that_name() {
    for db in fresh_database_urls("oauth_cimd").await {
        let d = deploy(&db).await;
        let url = metadata_document("Docs Agent").await;
        let (verifier, challenge) = pkce();
        let resource = format!("{}/sse", d.mcp);
        let b = browser();
        let authorize = authorize_url(&d, &url, &challenge, &[("resource", &resource)]);
        let r = fetch(b.get(&authorize)).await;
        assert_eq!(r.status(), 303, "{:?}", r.text().await);
        let (_, html) = page(&b, format!("{}/oauth2/consent", d.rest)).await;
        assert!(html.contains("Docs Agent"), "{html}");
        // Asking is not enough to be stored: only a user's approval keeps the client.
        let stored = || async { d.servers.store.oauth_client(&url).await.unwrap().is_some() };
        assert!(!stored().await);
        let back = consent(&b, &d, &authorize, "demo@example.com").await;
        assert!(stored().await);
        let http = http();
        let code = query_of(&back)["code"].clone();
        let (status, tokens) = redeem(&http, &d.rest, &url, &code, &verifier).await;
        assert_eq!(status, 200, "{tokens}");
        // Issued for /sse, the token works on the same server's /mcp too.
        assert_eq!(
            mcp_tools(&d.mcp, tokens["access_token"].as_str().unwrap())
                .await
                .0,
            200
        );

        // A document that names another client_id is refused, on a page.
        let other = authorize_url(
            &d,
            "http://127.0.0.1:9/nothing.json",
            &challenge,
            &[("resource", &resource)],
        );
        let r = fetch(b.get(other)).await;
        assert_eq!(r.status(), 400);
        drop_database(&db).await;
    }
}

#[tokio::test]
async fn a_confidential_client_proves_its_secret() {
    for db in fresh_database_urls("oauth_secret").await {
        let d = deploy(&db).await;
        let http = http();
        let (status, client) = register(
            &http,
            &d.rest,
            json!({"redirect_uris": [REDIRECT], "client_name": "Server Agent"}),
        )
        .await;
        assert_eq!(status, 201);
        assert_eq!(client["token_endpoint_auth_method"], "client_secret_basic");
        let id = client["client_id"].as_str().unwrap();
        let secret = client["client_secret"].as_str().unwrap();
        let resource = format!("{}/mcp", d.mcp);
        let (verifier, back) = consent_with_pkce(
            &browser(),
            &d,
            id,
            &[("resource", &resource)],
            "demo@example.com",
        )
        .await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", &query_of(&back)["code"]),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ];
        let r = fetch(
            http.post(format!("{}/oauth2/token", d.rest))
                .basic_auth(id, Some("wrong"))
                .form(&form),
        )
        .await;
        assert_eq!(r.status(), 401);
        assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client");
        let r = fetch(
            http.post(format!("{}/oauth2/token", d.rest))
                .basic_auth(id, Some(secret))
                .form(&form),
        )
        .await;
        assert_eq!(r.status(), 200, "{:?}", r.text().await);
        drop_database(&db).await;
    }
}

#[tokio::test]
async fn two_users_tokens_reach_their_own_mailboxes_and_apps_only() {
    for db in fresh_database_urls("oauth_two_users").await {
        let d = deploy(&db).await;
        let store = &d.servers.store;
        let http = http();
        let client_id = register_public(&http, &d.rest, "Shared Agent").await;
        let resource = format!("{}/mcp", d.mcp);
        let mut tokens = Vec::new();
        for account in ["demo@example.com", "bob@example.com"] {
            let (verifier, back) = consent_with_pkce(
                &browser(),
                &d,
                &client_id,
                &[("resource", &resource)],
                account,
            )
            .await;
            let code = query_of(&back)["code"].clone();
            let (status, t) = redeem(&http, &d.rest, &client_id, &code, &verifier).await;
            assert_eq!(status, 200, "{t}");
            tokens.push(t["access_token"].as_str().unwrap().to_string());
        }
        // The same client, two users: each token acts on its own user's mailbox.
        assert_eq!(
            profile_address(&d.mcp, &tokens[0]).await,
            "demo@example.com"
        );
        assert_eq!(profile_address(&d.mcp, &tokens[1]).await, "bob@example.com");

        // Bob cannot see or disconnect the app alice connected.
        let users = store.list_users().await.unwrap();
        let key_of = async |email: &str| {
            let u = users
                .iter()
                .find(|u| u.user.email.as_deref() == Some(email))
                .unwrap();
            let (_, key) = store.create_api_key(&u.user.id, "t").await.unwrap();
            key.expose_secret().to_string()
        };
        let (alice_key, bob_key) = (
            key_of("demo@example.com").await,
            key_of("bob@example.com").await,
        );
        let list = async |key: &str| -> Vec<Value> {
            let listed = json_body(
                http.get(format!("{}/api/v1/me/clients", d.rest))
                    .bearer_auth(key),
            );
            serde_json::from_value(listed.await).unwrap()
        };
        let alices = list(&alice_key).await;
        assert_eq!(alices.len(), 1);
        assert_eq!(list(&bob_key).await.len(), 1);
        let alice_grant = alices[0]["id"].as_str().unwrap();
        let r = fetch(
            http.delete(format!("{}/api/v1/me/clients/{alice_grant}", d.rest))
                .bearer_auth(&bob_key),
        )
        .await;
        assert_eq!(r.status(), 404);
        assert_eq!(
            profile_address(&d.mcp, &tokens[0]).await,
            "demo@example.com"
        );
        drop_database(&db).await;
    }
}

/// A page that sends the signed-in user's browser to another app's authorize URL while the
/// consent page for the app they trust is open replaces the pending request. The Allow they
/// then press applies to what they were shown or to nothing, never to the other app.
#[tokio::test]
async fn allow_approves_only_the_app_the_consent_page_showed() {
    for db in fresh_database_urls("oauth_swap").await {
        let d = deploy(&db).await;
        let http = http();
        let mut clients = Vec::new();
        for name in ["Trusted Agent", "Other Agent"] {
            clients.push(register_public(&http, &d.rest, name).await);
        }
        let resource = format!("{}/mcp", d.mcp);
        let b = browser();
        // Signed in once, through a first approval of the trusted app.
        consent_with_pkce(
            &b,
            &d,
            &clients[0],
            &[("resource", &resource)],
            "demo@example.com",
        )
        .await;
        let (_, challenge) = pkce();
        let trusted = authorize_url(&d, &clients[0], &challenge, &[("resource", &resource)]);
        assert_eq!(fetch(b.get(&trusted)).await.status(), 303);
        let (_, shown) = page(&b, format!("{}/oauth2/consent", d.rest)).await;
        assert!(shown.contains("Trusted Agent"), "{shown}");
        // The other page's navigation, in the same browser.
        let (_, other_challenge) = pkce();
        let other = authorize_url(
            &d,
            &clients[1],
            &other_challenge,
            &[("resource", &resource)],
        );
        assert_eq!(fetch(b.get(&other)).await.status(), 303);
        let r = decide(&b, &d, &shown, "allow").await;
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        assert_eq!(status, 400, "no code goes to the other app: {body}");
        assert!(body.contains("nothing was approved"), "{body}");
        // The page the user then sees asks again, for what is really pending.
        let (_, again) = page(&b, format!("{}/oauth2/consent", d.rest)).await;
        assert!(!again.contains("Other Agent"), "{again}");
        drop_database(&db).await;
    }
}

/// A consent decision is spent on the server, not only in the cookie: the session cookie as
/// it was before Allow, sent again (copied, or restored by the browser), finds the request
/// already decided and makes no second grant or code.
#[tokio::test]
async fn a_replayed_or_repeated_consent_approves_nothing_more() {
    for db in fresh_database_urls("oauth_replay").await {
        let d = deploy(&db).await;
        let http = http();
        let client_id = &register_public(&http, &d.rest, "Replayed Agent").await;
        let resource = format!("{}/mcp", d.mcp);
        let (b, jar) = browser_with_jar();
        // Signed in once, through a first approval.
        consent_with_pkce(
            &b,
            &d,
            client_id,
            &[("resource", &resource)],
            "demo@example.com",
        )
        .await;
        let (_, challenge) = pkce();
        let url = authorize_url(&d, client_id, &challenge, &[("resource", &resource)]);
        assert_eq!(fetch(b.get(&url)).await.status(), 303);
        let (_, shown) = page(&b, format!("{}/oauth2/consent", d.rest)).await;
        let before = cookies(&jar, &d.rest);
        let r = decide(&b, &d, &shown, "allow").await;
        assert_eq!(r.status(), 303, "{:?}", r.text().await);
        let first = location(&r);
        assert!(query_of(&first).contains_key("code"));
        let grants = async || -> i64 {
            sqlx::query_scalar("SELECT COUNT(*) FROM oauth_grants")
                .fetch_one(d.servers.store.pool())
                .await
                .unwrap()
        };
        assert_eq!(grants().await, 2);

        // The cookie from before Allow, back in the browser, and the same form again (a
        // replay, or a double click): the first decision's answer, the same single-use code,
        // and no second grant. Another decision on it is told it was decided.
        let rest = d.rest.parse().unwrap();
        for (decision, status) in [("allow", 303), ("deny", 400), ("allow", 303)] {
            for cookie in before.split("; ") {
                jar.add_cookie_str(cookie, &rest);
            }
            let r = decide(&b, &d, &shown, decision).await;
            assert_eq!(r.status(), status, "{decision} again");
            if status == 303 {
                assert_eq!(location(&r), first, "{decision} again");
            } else {
                let body = r.text().await.unwrap();
                assert!(body.contains("already decided"), "{body}");
            }
            assert_eq!(grants().await, 2, "{decision} again: no second grant");
        }
        drop_database(&db).await;
    }
}
