//! The team site, driven like a browser (a cookie jar, no redirects followed, the Origin a
//! browser sends), against the sandbox's Google, on SQLite and (with GMAIL_TEST_DATABASE_URL)
//! PostgreSQL: "Sign in with Google" creates the user and connects the mailbox; the member's
//! page makes and revokes keys behind CSRF tokens; allowed_domains keeps strangers out; an
//! admin disables a member, whose session and keys stop at once.

use std::sync::Arc;

use gmail_test_support::{drop_database, fetch, fresh_database_urls, status_json};
use reqwest::cookie::{CookieStore, Jar};

use crate::common::multi_user::Deployment;

/// A deployment whose site lets only accounts of `domain` sign up.
async fn with_allowed_domain(db: &str, domain: &str) -> Deployment {
    Deployment::start_with(db, |s| s.multi_user.allowed_domains = vec![domain.into()]).await
}

pub(crate) fn browser() -> reqwest::Client {
    browser_with_jar().0
}

/// A [`browser`] and its cookie jar, for a test that reads the session cookie or copies it.
pub(crate) fn browser_with_jar() -> (reqwest::Client, Arc<Jar>) {
    let jar = Arc::new(Jar::default());
    let b = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (b, jar)
}

/// The `Cookie` header `jar` sends to `base`.
pub(crate) fn cookies(jar: &Jar, base: &str) -> String {
    jar.cookies(&base.parse().unwrap())
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_string()
}

pub(crate) fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_string()
}

/// The value of the first `name="csrf"` field on a page.
pub(crate) fn csrf(html: &str) -> String {
    hidden(html, "csrf")
}

/// The value of a form's hidden field.
pub(crate) fn hidden(html: &str, name: &str) -> String {
    let field = format!("name=\"{name}\" value=\"");
    let at = html
        .find(&field)
        .unwrap_or_else(|| panic!("a form with a {name} field: {html}"))
        + field.len();
    html[at..].split('"').next().unwrap().to_string()
}

pub(crate) async fn page(b: &reqwest::Client, url: String) -> (u16, String) {
    let r = fetch(b.get(url)).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

pub(crate) async fn post(
    b: &reqwest::Client,
    base: &str,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    b.post(format!("{base}{path}"))
        .header("origin", base)
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Signs in as `account` at the sandbox's Google; answers the callback's response.
pub(crate) async fn sign_in(b: &reqwest::Client, base: &str, account: &str) -> reqwest::Response {
    let r = post(b, base, "/signin", &[]).await;
    assert_eq!(r.status(), 303);
    let consent = format!("{}&authuser_email={account}", location(&r));
    assert!(consent.contains("scope=openid+email+"), "{consent}");
    let r = fetch(b.get(&consent)).await;
    assert_eq!(r.status(), 302, "{:?}", r.text().await);
    // The configured redirect URL names port 8000; the server under test is on another.
    let back = reqwest::Url::parse(&location(&r)).unwrap();
    assert_eq!(back.path(), "/oauth/callback");
    b.get(format!("{base}/oauth/callback?{}", back.query().unwrap()))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn signing_in_creates_the_account_and_the_page_manages_keys() {
    for db in fresh_database_urls("site_keys").await {
        let s = with_allowed_domain(&db, "example.com").await;
        let base = &s.base;
        let alice = browser();
        let (status, html) = page(&alice, format!("{base}/")).await;
        assert_eq!(status, 200);
        assert!(html.contains("Sign in with Google"), "{html}");

        let r = sign_in(&alice, base, "demo@example.com").await;
        assert_eq!((r.status().as_u16(), location(&r)), (303, "/".to_string()));
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        // One user, keyed by the Google account's stable sub, with the mailbox connected.
        let users = s.store.list_users().await.unwrap();
        assert_eq!(users.len(), 1);
        assert!(
            users[0].user.external_id.starts_with("google:"),
            "{:?}",
            users[0]
        );
        assert_eq!(users[0].user.email.as_deref(), Some("demo@example.com"));
        assert_eq!(users[0].connection_count, 1);

        let (status, html) = page(&alice, format!("{base}/")).await;
        assert_eq!(status, 200);
        assert!(
            html.contains("Signed in as <b>demo@example.com</b>"),
            "{html}"
        );
        assert!(
            html.contains("demo@example.com (primary)</td><td>ok</td>"),
            "{html}"
        );
        let token = csrf(&html);

        // A forged form (no token, another token, another origin) makes nothing.
        let r = post(&alice, base, "/keys", &[("name", "x"), ("csrf", "forged")]).await;
        assert_eq!(r.status(), 403);
        let r = fetch(
            alice
                .post(format!("{base}/keys"))
                .header("origin", "http://evil.example")
                .form(&[("name", "x"), ("csrf", token.as_str())]),
        )
        .await;
        assert_eq!(r.status(), 403);
        let user_id = users[0].user.id.clone();
        assert!(s.store.list_api_keys(&user_id).await.unwrap().is_empty());

        // A key, shown once with the claude line; it works; revoked from the page, it stops.
        let r = post(
            &alice,
            base,
            "/keys",
            &[("name", "laptop"), ("csrf", token.as_str())],
        )
        .await;
        assert_eq!(r.status(), 201);
        let html = r.text().await.unwrap();
        let at = html.find("<code>gms_").expect("the key is shown") + 6;
        let key = html[at..].split('<').next().unwrap().to_string();
        assert!(
            html.contains("claude mcp add --transport sse gmail"),
            "{html}"
        );
        let profile = async |key: String| {
            let req = reqwest::Client::new().get(format!("{base}/api/v1/profile"));
            status_json(req.bearer_auth(key)).await.0
        };
        assert_eq!(profile(key.clone()).await, 200);
        let (_, html) = page(&alice, format!("{base}/")).await;
        assert!(html.contains("laptop") && !html.contains(&key), "{html}");
        let id = s.store.list_api_keys(&user_id).await.unwrap()[0].id.clone();
        let r = post(
            &alice,
            base,
            &format!("/keys/{id}/revoke"),
            &[("csrf", token.as_str())],
        )
        .await;
        assert_eq!(r.status(), 303);
        assert_eq!(profile(key).await, 401);

        // Signing in again finds the same user; signing out ends the session.
        let r = sign_in(&browser(), base, "demo@example.com").await;
        assert_eq!(r.status(), 303);
        assert_eq!(s.store.list_users().await.unwrap().len(), 1);
        let r = post(&alice, base, "/signout", &[("csrf", token.as_str())]).await;
        assert_eq!(r.status(), 303);
        assert!(page(&alice, format!("{base}/"))
            .await
            .1
            .contains("Sign in with Google"));
        drop_database(&db).await;
    }
}

/// Signing out ends the session server-side: the same cookie, copied to another client
/// before, no longer signs anyone in.
#[tokio::test]
async fn signing_out_ends_a_copied_session_cookie_too() {
    let db = fresh_database_urls("site_signout").await.remove(0);
    let s = Deployment::start(&db).await;
    let base = s.base.as_str();
    let (alice, jar) = browser_with_jar();
    sign_in(&alice, base, "demo@example.com").await;
    let cookie = cookies(&jar, base);
    let copy = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let home = |c: &reqwest::Client| {
        let req = c.get(format!("{base}/")).header("cookie", cookie.clone());
        async move { fetch(req).await.text().await.unwrap() }
    };
    let html = home(&copy).await;
    assert!(html.contains("Sign out"), "the copy is signed in: {html}");
    let token = csrf(&page(&alice, format!("{base}/")).await.1);
    let r = post(&alice, base, "/signout", &[("csrf", token.as_str())]).await;
    assert_eq!(r.status(), 303);
    let html = home(&copy).await;
    assert!(html.contains("Sign in with Google"), "{html}");
    drop_database(&db).await;
}

#[tokio::test]
async fn strangers_stay_out_and_admins_disable_members() {
    for db in fresh_database_urls("site_admin").await {
        // Nobody from example.com may sign up here.
        let s = with_allowed_domain(&db, "elsewhere.example").await;
        let r = sign_in(&browser(), &s.base, "demo@example.com").await;
        assert_eq!(r.status(), 403);
        assert!(r.text().await.unwrap().contains("may not sign up here"));
        assert!(s.store.list_users().await.unwrap().is_empty());

        let s = Deployment::start_with(&db, |s| {
            s.multi_user.admins = vec!["bob@example.com".into()]
        })
        .await;
        let base = &s.base;
        let (alice, bob) = (browser(), browser());
        assert_eq!(
            sign_in(&alice, base, "demo@example.com").await.status(),
            303
        );
        assert_eq!(sign_in(&bob, base, "bob@example.com").await.status(), 303);
        // A member reaches no admin page.
        let (status, _) = page(&alice, format!("{base}/admin")).await;
        assert_eq!(status, 403);
        let (status, html) = page(&bob, format!("{base}/admin")).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("demo@example.com"), "{html}");
        let users = s.store.list_users().await.unwrap();
        let demo = users
            .iter()
            .find(|u| u.user.email.as_deref() == Some("demo@example.com"))
            .unwrap();
        let token = csrf(&html);
        let path = format!("/admin/users/{}/disable", demo.user.id);
        let r = post(&bob, base, &path, &[("csrf", token.as_str())]).await;
        assert_eq!(r.status(), 303);
        // Disabled: the member's session is over at their next request.
        assert!(page(&alice, format!("{base}/"))
            .await
            .1
            .contains("Sign in with Google"));
        // Enabled again, they sign in again.
        let path = format!("/admin/users/{}/enable", demo.user.id);
        assert_eq!(
            post(&bob, base, &path, &[("csrf", token.as_str())])
                .await
                .status(),
            303
        );
        assert_eq!(
            sign_in(&alice, base, "demo@example.com").await.status(),
            303
        );
        assert!(page(&alice, format!("{base}/"))
            .await
            .1
            .contains("Signed in as"));
        drop_database(&db).await;
    }
}
