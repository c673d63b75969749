//! What a remote MCP client and its user's browser do in OAuth 2.1 against this REST server
//! (the authorization server) and a gmail-mcp-server (the protected resource): register,
//! authorize with PKCE, consent, redeem and refresh at the token endpoint, and call /mcp with
//! the bearer token.

use serde_json::{json, Value};

use gmail_test_support::{fetch, free_port};

use crate::common::multi_user::Deployment;
use crate::site::{csrf, hidden, location, page, post};

/// The sandbox, the REST server (the authorization server) and the MCP server (the protected
/// resource), each knowing the others' public URLs.
pub(crate) struct OAuthDeployment {
    /// The REST server's base URL.
    pub(crate) rest: String,
    /// The MCP server's base URL.
    pub(crate) mcp: String,
    pub(crate) servers: Deployment,
}

pub(crate) async fn deploy(db: &str) -> OAuthDeployment {
    // Each server names the other in its settings, so both ports are picked before either
    // binds; a concurrent test may take one in between, and then the pick is made again.
    let mut failures = Vec::new();
    for _ in 0..5 {
        match try_deploy(db).await {
            Ok(d) => return d,
            Err(e) => failures.push(e.to_string()),
        }
    }
    panic!("the OAuth deployment did not start: {failures:?}");
}

async fn try_deploy(db: &str) -> anyhow::Result<OAuthDeployment> {
    let (mcp_port, api_port) = (free_port(), free_port());
    let mcp = format!("http://127.0.0.1:{mcp_port}");
    let rest = format!("http://127.0.0.1:{api_port}");
    let servers = Deployment::try_start_with(db, |s| {
        s.multi_user.public_mcp_url = mcp.clone();
        s.multi_user.public_api_url = rest.clone();
        s.api.port = api_port;
        s.mcp.port = mcp_port;
        // Client metadata documents in this test are served from loopback.
        s.multi_user.allow_private_client_metadata = true;
    })
    .await?;
    let app = gmail_mcp_server::app::Application::build(servers.settings.clone()).await?;
    tokio::spawn(app.run_until_stopped());
    Ok(OAuthDeployment { rest, mcp, servers })
}

/// A PKCE verifier and its S256 challenge.
pub(crate) fn pkce() -> (String, String) {
    use base64::Engine;
    use sha2::Digest;
    let verifier = format!("v{}", uuid::Uuid::new_v4().simple()).repeat(2);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

pub(crate) fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub(crate) const REDIRECT: &str = "http://127.0.0.1:9/callback";

pub(crate) async fn register(http: &reqwest::Client, rest: &str, body: Value) -> (u16, Value) {
    let r = fetch(http.post(format!("{rest}/oauth2/register")).json(&body)).await;
    (r.status().as_u16(), r.json().await.unwrap())
}

/// Registers a public client named `name`, sent back to [`REDIRECT`]; answers its client_id.
pub(crate) async fn register_public(http: &reqwest::Client, rest: &str, name: &str) -> String {
    let (status, client) = register(
        http,
        rest,
        json!({"redirect_uris": [REDIRECT], "client_name": name,
               "token_endpoint_auth_method": "none", "application_type": "native"}),
    )
    .await;
    assert_eq!(status, 201, "{client}");
    client["client_id"].as_str().unwrap().to_string()
}

pub(crate) fn authorize_url(
    d: &OAuthDeployment,
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

/// A fresh PKCE pair, then [`consent`] to `client_id` (authorize parameters `extra`): the
/// verifier the code is redeemed with, and where the client was sent back to.
pub(crate) async fn consent_with_pkce(
    b: &reqwest::Client,
    d: &OAuthDeployment,
    client_id: &str,
    extra: &[(&str, &str)],
    account: &str,
) -> (String, String) {
    let (verifier, challenge) = pkce();
    let url = authorize_url(d, client_id, &challenge, extra);
    (verifier, consent(b, d, &url, account).await)
}

/// A browser goes through authorize → consent (signing in as `account` when it has to) →
/// allow; answers where the client was sent back to.
pub(crate) async fn consent(
    b: &reqwest::Client,
    d: &OAuthDeployment,
    url: &str,
    account: &str,
) -> String {
    let r = fetch(b.get(url)).await;
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
        let r = fetch(b.get(format!("{google}&authuser_email={account}"))).await;
        assert_eq!(r.status(), 302, "{:?}", r.text().await);
        let back = reqwest::Url::parse(&location(&r)).unwrap();
        let r = fetch(b.get(format!(
            "{}/oauth/callback?{}",
            d.rest,
            back.query().unwrap()
        )))
        .await;
        assert_eq!(
            (r.status().as_u16(), location(&r)),
            (303, "/oauth2/consent".into())
        );
    }
    let (status, html) = page(b, format!("{}/oauth2/consent", d.rest)).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Allow") && html.contains(REDIRECT), "{html}");
    let r = decide(b, d, &html, "allow").await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    location(&r)
}

/// The user presses `decision` (allow or deny) on the consent page `html`.
pub(crate) async fn decide(
    b: &reqwest::Client,
    d: &OAuthDeployment,
    html: &str,
    decision: &str,
) -> reqwest::Response {
    let form = [
        ("csrf", csrf(html)),
        ("request", hidden(html, "request")),
        ("decision", decision.to_string()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    post(b, &d.rest, "/oauth2/consent", &form).await
}

pub(crate) async fn token(
    http: &reqwest::Client,
    rest: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let r = fetch(http.post(format!("{rest}/oauth2/token")).form(form)).await;
    let status = r.status().as_u16();
    if status == 200 {
        assert_eq!(r.headers()["cache-control"], "no-store");
    }
    (status, r.json().await.unwrap())
}

/// The token endpoint's answer to a code (a public client, PKCE verifier).
pub(crate) async fn redeem(
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
pub(crate) struct Mcp<'a> {
    http: reqwest::Client,
    url: String,
    bearer: &'a str,
}

impl<'a> Mcp<'a> {
    pub(crate) fn new(mcp: &str, bearer: &'a str) -> Mcp<'a> {
        Mcp {
            http: reqwest::Client::new(),
            url: format!("{mcp}/mcp"),
            bearer,
        }
    }

    pub(crate) async fn post(&self, session: Option<&str>, body: Value) -> reqwest::Response {
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
    pub(crate) async fn initialize(&self) -> (u16, Option<String>) {
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
    pub(crate) async fn call(&self, sid: &str, method: &str, params: Value) -> Value {
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
pub(crate) async fn mcp_tools(mcp: &str, bearer: &str) -> (u16, Vec<String>) {
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
pub(crate) async fn profile_address(mcp: &str, bearer: &str) -> String {
    let client = Mcp::new(mcp, bearer);
    let (_, sid) = client.initialize().await;
    let params = json!({"name": "get_profile", "arguments": {}});
    let v = client.call(&sid.unwrap(), "tools/call", params).await;
    v["result"]["structuredContent"]["emailAddress"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"))
        .to_string()
}

/// Serves one Client ID Metadata Document at `/client.json`, whose `client_id` is its own
/// URL; answers that URL.
pub(crate) async fn metadata_document(name: &str) -> String {
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
