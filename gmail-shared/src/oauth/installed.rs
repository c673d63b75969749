//! Single-user local mode: the installed-app loopback flow (`gmail-mcp-server auth`). It
//! listens on a free loopback port, sends the user to Google's consent page (state + PKCE),
//! takes the redirect, exchanges the code and writes `credentials.json` in the Node server's
//! layout, where the servers read it. The redirect is served by actix-web, which both
//! servers already run on: an HTTP request read by hand could arrive in pieces.

use std::collections::HashMap;

use actix_web::dev::ServerHandle;
use actix_web::http::ConnectionType;
use actix_web::http::KeepAlive;
use actix_web::{web, App, HttpResponse, HttpServer};

use super::{authorization_url, exchange_code, new_verifier};
use crate::config::GmailSettings;
use crate::error::GmailError;
use crate::gmail::credentials::{CredentialsFile, StoredTokens};
use crate::gmail::GmailFactory;

/// Runs the flow. `show` gets the consent URL (print it, open a browser). Answers where the
/// credentials were written.
pub async fn authorize(
    factory: &GmailFactory,
    settings: &GmailSettings,
    scopes: &[&str],
    show: impl FnOnce(&str),
) -> Result<std::path::PathBuf, GmailError> {
    let client = factory.oauth_client()?;
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| GmailError::internal_from("cannot listen for the OAuth redirect", e))?;
    let port = listener
        .local_addr()
        .map_err(|e| GmailError::internal_from("cannot read the redirect listener's port", e))?
        .port();
    let redirect_uri = format!("http://127.0.0.1:{port}/oauth2callback");
    let verifier = new_verifier();
    let state = uuid::Uuid::new_v4().simple().to_string();
    let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    let consent = authorization_url(&client, &redirect_uri, &scopes, &state, &verifier, None)?;
    let redirect = Redirect::listen(listener, state)?;
    show(&consent);
    let code = redirect.code().await?;
    let grant = exchange_code(factory.http(), &client, &code, &verifier, &redirect_uri).await?;
    let refresh = grant.refresh_token.ok_or_else(|| {
        GmailError::invalid("code", "Google returned no refresh token; remove the app's access in your Google account and run auth again")
    })?;
    let tokens = StoredTokens {
        access_token: Some(grant.access_token),
        refresh_token: refresh,
        scope: grant.scope,
        expiry_date: StoredTokens::expiry_after(grant.expires_in),
    };
    let file = CredentialsFile::new(&settings.credentials_path);
    file.write(&tokens)?;
    Ok(settings.credentials_path.clone())
}

/// The loopback server that takes Google's redirect: `/oauth2callback` until a redirect
/// with this flow's state arrives (one with another state is refused, and the flow waits on:
/// a stray or forged request cannot end it). Stopped once done, or when dropped.
struct Redirect {
    results: tokio::sync::mpsc::Receiver<Result<String, GmailError>>,
    server: ServerHandle,
}

impl Redirect {
    fn listen(listener: std::net::TcpListener, state: String) -> Result<Redirect, GmailError> {
        let (tx, results) = tokio::sync::mpsc::channel(1);
        let server = HttpServer::new(move || {
            let (tx, state) = (tx.clone(), state.clone());
            App::new().route(
                "/oauth2callback",
                web::get().to(move |q: web::Query<HashMap<String, String>>| {
                    let answer = match redirect_result(&q, &state) {
                        None => HttpResponse::BadRequest()
                            .body("This redirect is not for the authorization under way."),
                        Some(result) => {
                            let page = match &result {
                                Ok(_) => "Gmail is authorized. You can close this tab.".into(),
                                Err(e) => format!("Authorization failed: {e}"),
                            };
                            // Only the first result counts; a reload finds the channel full.
                            let _ = tx.try_send(result);
                            HttpResponse::Ok().body(page)
                        }
                    };
                    let mut answer = answer;
                    answer.head_mut().set_connection_type(ConnectionType::Close);
                    async move { answer }
                }),
            )
        })
        .workers(1)
        .disable_signals()
        // No connection outlives its answer, so stopping never waits on a browser.
        .keep_alive(KeepAlive::Disabled)
        .shutdown_timeout(1)
        .listen(listener)
        .map_err(|e| GmailError::internal_from("cannot listen for the OAuth redirect", e))?
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(Redirect {
            results,
            server: handle,
        })
    }

    /// The code, or why the user's redirect carries none.
    async fn code(mut self) -> Result<String, GmailError> {
        let result =
            self.results.recv().await.unwrap_or_else(|| {
                Err(GmailError::internal("the OAuth redirect listener stopped"))
            });
        // Graceful: the browser gets its page before the listener closes.
        self.server.stop(true).await;
        result
    }
}

impl Drop for Redirect {
    fn drop(&mut self) {
        let server = self.server.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { server.stop(false).await });
        }
    }
}

/// What a redirect says: nothing when its state is not this flow's; else the code, or why
/// there is none.
fn redirect_result(q: &HashMap<String, String>, state: &str) -> Option<Result<String, GmailError>> {
    if q.get("state").map(String::as_str) != Some(state) {
        return None;
    }
    if let Some(err) = q.get("error") {
        return Some(Err(GmailError::invalid(
            "error",
            format!("authorization was not granted ({err})"),
        )));
    }
    Some(
        q.get("code")
            .cloned()
            .ok_or_else(|| GmailError::invalid("code", "the redirect carries no code")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sandbox, and local mode's settings and factory on it, with the credentials file in
    /// a fresh folder (the first two are held for the test's length).
    async fn local_mode() -> (
        gmail_sandbox::RunningSandbox,
        tempfile::TempDir,
        crate::config::Settings,
        GmailFactory,
    ) {
        let sandbox = gmail_sandbox::Sandbox::start(gmail_sandbox::SandboxConfig::for_tests())
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut settings = crate::testing::settings(&sandbox.base_url());
        settings.gmail.credentials_path = dir.path().join("credentials.json");
        let factory = GmailFactory::new(&settings.gmail).unwrap();
        (sandbox, dir, settings, factory)
    }

    #[tokio::test]
    async fn the_loopback_flow_writes_credentials_the_servers_read() {
        let (_sandbox, _dir, settings, factory) = local_mode().await;
        let path = authorize(
            &factory,
            &settings.gmail,
            super::super::DEFAULT_SCOPES,
            |url| {
                // The "browser": the sandbox approves at once and redirects to our listener.
                let url = url.to_string();
                tokio::spawn(async move {
                    reqwest::get(url).await.unwrap();
                });
            },
        )
        .await
        .unwrap();
        let tokens = CredentialsFile::new(&path).read().unwrap();
        use secrecy::ExposeSecret;
        assert!(!tokens.refresh_token.expose_secret().is_empty());
        assert!(tokens.expiry_date.is_some());
    }

    #[tokio::test]
    async fn a_redirect_with_another_state_is_refused_and_the_flow_waits_on() {
        let (_sandbox, _dir, settings, factory) = local_mode().await;
        let mut browser = None;
        let flow = authorize(
            &factory,
            &settings.gmail,
            super::super::DEFAULT_SCOPES,
            |url| {
                let consent = url.to_string();
                let redirect = url::Url::parse(url)
                    .unwrap()
                    .query_pairs()
                    .find(|(k, _)| k == "redirect_uri")
                    .unwrap()
                    .1
                    .into_owned();
                browser = Some(tokio::spawn(async move {
                    // A page that knows the port but not the state: refused, ends nothing.
                    let forged = format!("{redirect}?state=guess&error=access_denied");
                    let r = reqwest::get(forged).await.unwrap();
                    assert_eq!(r.status(), 400);
                    // Then the user's browser, through consent.
                    reqwest::get(consent).await.unwrap();
                }));
            },
        );
        let finished = tokio::time::timeout(std::time::Duration::from_secs(20), flow).await;
        browser.unwrap().await.unwrap();
        let path = finished
            .expect("the flow went on to the real redirect")
            .unwrap();
        assert!(path.exists());
    }
}
