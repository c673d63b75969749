//! OAuth 2.1 for remote MCP clients, end to end over real sockets: a sandbox (its Google
//! consent page), this REST server as the authorization server, and a gmail-mcp-server as the
//! protected resource, on SQLite and (with GMAIL_TEST_DATABASE_URL) PostgreSQL.
//!
//! Discovery (401 → RFC 9728 → RFC 8414), registration (RFC 7591) and Client ID Metadata
//! Documents, the consent page (sign in with Google first, login_hint passed on), PKCE S256,
//! the resource parameter and audience binding, refresh rotation with reuse detection, scope
//! narrowing, revocation closing an open SSE stream, and tokens stored only as hashes.

use std::time::Duration;

use futures::StreamExt;
use gmail_sandbox::{RunningSandbox, Sandbox, SandboxConfig};
use gmail_shared::store::{cipher, Keyring, Store};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use gmail_test_support::{drop_database, fresh_database_urls};

use crate::multi_user::settings;
use crate::site::{browser, csrf, location, page, post};

struct Deployment {
    rest: String,
    mcp: String,
    store: Store,
    _sandbox: RunningSandbox,
}

use gmail_test_support::free_port;

/// The sandbox, the REST server and the MCP server, each knowing the others' public URLs.
async fn deploy(db: &str) -> Deployment {
    let sandbox = Sandbox::start(SandboxConfig::for_tests()).await.unwrap();
    let key = cipher::generate_key();
    let (mcp_port, api_port) = (free_port(), free_port());
    let mcp = format!("http://127.0.0.1:{mcp_port}");
    let rest = format!("http://127.0.0.1:{api_port}");
    let mut s = settings(&sandbox, db, &key);
    s.multi_user.public_mcp_url = mcp.clone();
    s.multi_user.public_api_url = rest.clone();
    s.api.port = api_port;
    s.mcp.port = mcp_port;
    // Client metadata documents in this test are served from loopback.
    s.multi_user.allow_private_client_metadata = true;
    let api = gmail_api_server::app::Application::build(s.clone())
        .await
        .unwrap();
    tokio::spawn(api.run_until_stopped());
    let app = gmail_mcp_server::app::Application::build(s).await.unwrap();
    tokio::spawn(app.run_until_stopped());
    let store = Store::connect(db, Keyring::new(&SecretString::from(key), None).unwrap())
        .await
        .unwrap();
    Deployment {
        rest,
        mcp,
        store,
        _sandbox: sandbox,
    }
}

/// A PKCE verifier and its S256 challenge.
fn pkce() -> (String, String) {
    use base64::Engine;
    use sha2::Digest;
    let verifier = format!("v{}", uuid::Uuid::new_v4().simple()).repeat(2);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

const REDIRECT: &str = "http://127.0.0.1:9/callback";

async fn register(http: &reqwest::Client, rest: &str, body: Value) -> (u16, Value) {
    let r = http
        .post(format!("{rest}/oauth2/register"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn authorize_url(
    d: &Deployment,
    client_id: &str,
    challenge: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut url = reqwest::Url::parse(&format!("{}/oauth2/authorize", d.rest)).unwrap();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("state", "st-123")
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256");
        for (k, v) in extra {
            q.append_pair(k, v);
        }
    }
    url.to_string()
}

/// A browser goes through authorize → consent (signing in as `account` when it has to) →
/// allow; answers where the client was sent back to.
async fn consent(b: &reqwest::Client, d: &Deployment, url: &str, account: &str) -> String {
    let r = b.get(url).send().await.unwrap();
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    assert_eq!(location(&r), "/oauth2/consent");
    let (status, html) = page(b, format!("{}/oauth2/consent", d.rest)).await;
    assert_eq!(status, 200, "{html}");
    if html.contains("Sign in with Google") {
        let r = post(
            b,
            &d.rest,
            "/signin",
            &[("next", "/oauth2/consent"), ("login_hint", account)],
        )
        .await;
        assert_eq!(r.status(), 303);
        let google = location(&r);
        assert!(
            google.contains(&format!("login_hint={}", account.replace('@', "%40"))),
            "the client's login_hint reaches Google: {google}"
        );
        let r = b
            .get(format!("{google}&authuser_email={account}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 302, "{:?}", r.text().await);
        let back = reqwest::Url::parse(&location(&r)).unwrap();
        let r = b
            .get(format!(
                "{}/oauth/callback?{}",
                d.rest,
                back.query().unwrap()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(
            (r.status().as_u16(), location(&r)),
            (303, "/oauth2/consent".into())
        );
    }
    let (status, html) = page(b, format!("{}/oauth2/consent", d.rest)).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Allow") && html.contains(REDIRECT), "{html}");
    let token = csrf(&html);
    let r = post(
        b,
        &d.rest,
        "/oauth2/consent",
        &[("csrf", &token), ("decision", "allow")],
    )
    .await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    location(&r)
}

async fn token(http: &reqwest::Client, rest: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let r = http
        .post(format!("{rest}/oauth2/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    if status == 200 {
        assert_eq!(r.headers()["cache-control"], "no-store");
    }
    (status, r.json().await.unwrap())
}

/// The token endpoint's answer to a code (a public client, PKCE verifier).
async fn redeem(
    http: &reqwest::Client,
    rest: &str,
    client_id: &str,
    code: &str,
    verifier: &str,
) -> (u16, Value) {
    token(
        http,
        rest,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", client_id),
            ("code_verifier", verifier),
        ],
    )
    .await
}

/// JSON-RPC over /mcp with a bearer token.
struct Mcp<'a> {
    http: reqwest::Client,
    url: String,
    bearer: &'a str,
}

impl<'a> Mcp<'a> {
    fn new(mcp: &str, bearer: &'a str) -> Mcp<'a> {
        Mcp {
            http: reqwest::Client::new(),
            url: format!("{mcp}/mcp"),
            bearer,
        }
    }

    async fn post(&self, session: Option<&str>, body: Value) -> reqwest::Response {
        let mut req = self
            .http
            .post(&self.url)
            .bearer_auth(self.bearer)
            .header("accept", "application/json, text/event-stream")
            .json(&body);
        if let Some(s) = session {
            req = req
                .header("mcp-session-id", s)
                .header("mcp-protocol-version", "2025-06-18");
        }
        req.send().await.unwrap()
    }

    /// initialize: the status, and the session id when it worked.
    async fn initialize(&self) -> (u16, Option<String>) {
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "oauth-test", "version": "0"}}});
        let r = self.post(None, init).await;
        let sid = r
            .headers()
            .get("mcp-session-id")
            .map(|v| v.to_str().unwrap().to_string());
        (r.status().as_u16(), sid)
    }

    /// A request on a session; its answer (a JSON body or the first SSE data line).
    async fn call(&self, sid: &str, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let text = self.post(Some(sid), body).await.text().await.unwrap();
        let data = text
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or(&text);
        serde_json::from_str(data).unwrap_or_else(|e| panic!("{e}: {text}"))
    }
}

/// initialize + tools/list on /mcp with a bearer token: the status of initialize, and the
/// tool names when it worked.
async fn mcp_tools(mcp: &str, bearer: &str) -> (u16, Vec<String>) {
    let client = Mcp::new(mcp, bearer);
    let (status, sid) = client.initialize().await;
    let Some(sid) = sid.filter(|_| status == 200) else {
        return (status, vec![]);
    };
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    client.post(Some(&sid), initialized).await;
    let v = client.call(&sid, "tools/list", json!({})).await;
    let names = v["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    (status, names)
}

/// Calls get_profile on /mcp with a bearer token; answers the mailbox address.
async fn profile_address(mcp: &str, bearer: &str) -> String {
    let client = Mcp::new(mcp, bearer);
    let (_, sid) = client.initialize().await;
    let params = json!({"name": "get_profile", "arguments": {}});
    let v = client.call(&sid.unwrap(), "tools/call", params).await;
    v["result"]["structuredContent"]["emailAddress"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"))
        .to_string()
}

#[tokio::test]
async fn a_remote_mcp_client_discovers_registers_is_approved_and_connects() {
    for db in fresh_database_urls("oauth_as").await {
        let d = deploy(&db).await;
        let http = crate::multi_user::http();

        // 1. Discovery: the 401 names the metadata, which names the authorization server.
        let r = http.post(format!("{}/mcp", d.mcp)).send().await.unwrap();
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
        let prm: Value = http
            .get(&prm_url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(prm["resource"], format!("{}/mcp", d.mcp));
        assert_eq!(prm["authorization_servers"], json!([d.rest]));
        for (path, resource) in [("", d.mcp.clone()), ("/sse", format!("{}/sse", d.mcp))] {
            let doc: Value = http
                .get(format!(
                    "{}/.well-known/oauth-protected-resource{path}",
                    d.mcp
                ))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(doc["resource"], resource);
        }
        let r = http.get(format!("{}/sse", d.mcp)).send().await.unwrap();
        let sse_challenge = r.headers()["www-authenticate"].to_str().unwrap();
        assert!(
            sse_challenge.contains("oauth-protected-resource/sse\""),
            "{sse_challenge}"
        );
        let meta: Value = http
            .get(format!("{}/.well-known/oauth-authorization-server", d.rest))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
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
        let r = http
            .get(
                authorize_url(&d, &client_id, &challenge, &[("resource", &resource)])
                    .replace("127.0.0.1%3A9%2Fcallback", "evil.example%2Fcb"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "an unregistered redirect_uri gets a page");
        for (extra, error) in [
            (vec![], "invalid_target"),
            (
                vec![("resource", "https://other.example/mcp")],
                "invalid_target",
            ),
            (
                vec![("resource", resource.as_str()), ("scope", "admin")],
                "invalid_scope",
            ),
        ] {
            let r = http
                .get(authorize_url(&d, &client_id, &challenge, &extra))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 303);
            let q = query_of(&location(&r));
            assert_eq!(q["error"], error, "{extra:?}");
            assert_eq!(
                (q["state"].as_str(), q["iss"].as_str()),
                ("st-123", d.rest.as_str())
            );
        }
        let plain = authorize_url(&d, &client_id, &challenge, &[("resource", &resource)])
            .replace("code_challenge_method=S256", "code_challenge_method=plain");
        let r = http.get(plain).send().await.unwrap();
        assert_eq!(query_of(&location(&r))["error"], "invalid_request");

        // 4. Consent: sign in with Google (login_hint passed on), see the client, allow.
        let alice = browser();
        let (verifier, challenge) = pkce();
        let url = authorize_url(
            &d,
            &client_id,
            &challenge,
            &[("resource", &resource), ("login_hint", "demo@example.com")],
        );
        let back = consent(&alice, &d, &url, "demo@example.com").await;
        assert!(back.starts_with(REDIRECT), "{back}");
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
        let r = http
            .get(format!("{}/api/v1/me", d.rest))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap();
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
        let (_, challenge) = pkce();
        let url = authorize_url(&d, &client_id, &challenge, &[("resource", &resource)]);
        let back = consent(&alice, &d, &url, "demo@example.com").await;
        let (wrong, _) = pkce();
        let (status, e) = exchange(query_of(&back)["code"].clone(), wrong).await;
        assert_eq!((status, e["error"].as_str()), (400, Some("invalid_grant")));

        // 10. gmail.readonly narrows the tools like a read-only key.
        let (verifier, challenge) = pkce();
        let url = authorize_url(
            &d,
            &client_id,
            &challenge,
            &[("resource", &resource), ("scope", "gmail.readonly")],
        );
        let back = consent(&alice, &d, &url, "demo@example.com").await;
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
        let user = d.store.list_users().await.unwrap().remove(0).user;
        let (_, key) = d.store.create_api_key(&user.id, "test").await.unwrap();
        let listed: Value = http
            .get(format!("{}/api/v1/me/clients", d.rest))
            .bearer_auth(key.expose_secret())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let app = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["scope"] == "gmail.readonly")
            .unwrap_or_else(|| panic!("{listed}"))
            .clone();
        assert_eq!(app["clientName"], "Test Agent");
        let sse = http
            .get(format!("{}/sse", d.mcp))
            .bearer_auth(ro["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(sse.status(), 200);
        let mut stream = sse.bytes_stream();
        assert!(stream.next().await.is_some(), "the endpoint event");
        let r = http
            .delete(format!(
                "{}/api/v1/me/clients/{}",
                d.rest,
                app["id"].as_str().unwrap()
            ))
            .bearer_auth(key.expose_secret())
            .send()
            .await
            .unwrap();
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

/// Serves one Client ID Metadata Document at `/client.json`, whose `client_id` is its own
/// URL; answers that URL.
async fn metadata_document(name: &str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/client.json", listener.local_addr().unwrap());
    let doc = json!({"client_id": url, "client_name": name, "redirect_uris": [REDIRECT],
                     "token_endpoint_auth_method": "none"});
    let server = actix_web::HttpServer::new(move || {
        let doc = doc.clone();
        actix_web::App::new().route(
            "/client.json",
            actix_web::web::get().to(move || {
                let doc = doc.clone();
                async move { actix_web::HttpResponse::Ok().json(doc) }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    url
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
        let r = b.get(&authorize).send().await.unwrap();
        assert_eq!(r.status(), 303, "{:?}", r.text().await);
        let (_, html) = page(&b, format!("{}/oauth2/consent", d.rest)).await;
        assert!(html.contains("Docs Agent"), "{html}");
        let back = consent(&b, &d, &authorize, "demo@example.com").await;
        let http = crate::multi_user::http();
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
        let r = b.get(other).send().await.unwrap();
        assert_eq!(r.status(), 400);
        drop_database(&db).await;
    }
}

#[tokio::test]
async fn a_confidential_client_proves_its_secret() {
    for db in fresh_database_urls("oauth_secret").await {
        let d = deploy(&db).await;
        let http = crate::multi_user::http();
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
        let (verifier, challenge) = pkce();
        let resource = format!("{}/mcp", d.mcp);
        let url = authorize_url(&d, id, &challenge, &[("resource", &resource)]);
        let back = consent(&browser(), &d, &url, "demo@example.com").await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", &query_of(&back)["code"]),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ];
        let r = http
            .post(format!("{}/oauth2/token", d.rest))
            .basic_auth(id, Some("wrong"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client");
        let r = http
            .post(format!("{}/oauth2/token", d.rest))
            .basic_auth(id, Some(secret))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{:?}", r.text().await);
        drop_database(&db).await;
    }
}

#[tokio::test]
async fn two_users_tokens_reach_their_own_mailboxes_and_apps_only() {
    for db in fresh_database_urls("oauth_two_users").await {
        let d = deploy(&db).await;
        let http = crate::multi_user::http();
        let (_, client) = register(
            &http,
            &d.rest,
            json!({"redirect_uris": [REDIRECT], "client_name": "Shared Agent",
                   "token_endpoint_auth_method": "none"}),
        )
        .await;
        let client_id = client["client_id"].as_str().unwrap().to_string();
        let resource = format!("{}/mcp", d.mcp);
        let mut tokens = Vec::new();
        for account in ["demo@example.com", "bob@example.com"] {
            let (verifier, challenge) = pkce();
            let url = authorize_url(&d, &client_id, &challenge, &[("resource", &resource)]);
            let back = consent(&browser(), &d, &url, account).await;
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
        let users = d.store.list_users().await.unwrap();
        let key_of = async |email: &str| {
            let u = users
                .iter()
                .find(|u| u.user.email.as_deref() == Some(email))
                .unwrap();
            let (_, key) = d.store.create_api_key(&u.user.id, "t").await.unwrap();
            key.expose_secret().to_string()
        };
        let (alice_key, bob_key) = (
            key_of("demo@example.com").await,
            key_of("bob@example.com").await,
        );
        let list = async |key: &str| -> Vec<Value> {
            http.get(format!("{}/api/v1/me/clients", d.rest))
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        };
        let alices = list(&alice_key).await;
        assert_eq!(alices.len(), 1);
        assert_eq!(list(&bob_key).await.len(), 1);
        let alice_grant = alices[0]["id"].as_str().unwrap();
        let r = http
            .delete(format!("{}/api/v1/me/clients/{alice_grant}", d.rest))
            .bearer_auth(&bob_key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(
            profile_address(&d.mcp, &tokens[0]).await,
            "demo@example.com"
        );
        drop_database(&db).await;
    }
}
