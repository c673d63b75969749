//! Single-user local mode: the installed-app loopback flow (`gmail-mcp-server auth`). It
//! listens on a free loopback port, sends the user to Google's consent page (state + PKCE),
//! takes the redirect, exchanges the code and writes `credentials.json` in the Node server's
//! layout, where the servers read it. The redirect is served by actix-web, which both
//! servers already run on: an HTTP request read by hand could arrive in pieces.

use std::collections::HashMap;

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
    let redirect = redirect_listener(listener, state.clone())?;
    show(&authorization_url(
        &client,
        &redirect_uri,
        &scopes,
        &state,
        &verifier,
        None,
    )?);
    let code = redirect.await?;
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

/// Serves `/oauth2callback` on `listener` until the first redirect that carries a result:
/// the code, or why there is none. The browser is told the outcome; the server then stops.
fn redirect_listener(
    listener: std::net::TcpListener,
    state: String,
) -> Result<impl std::future::Future<Output = Result<String, GmailError>>, GmailError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<String, GmailError>>(1);
    let server = HttpServer::new(move || {
        let (tx, state) = (tx.clone(), state.clone());
        App::new().route(
            "/oauth2callback",
            web::get().to(move |q: web::Query<HashMap<String, String>>| {
                let result = redirect_result(&q, &state);
                let body = match &result {
                    Ok(_) => "Gmail is authorized. You can close this tab.".to_string(),
                    Err(e) => format!("Authorization failed: {e}"),
                };
                // Only the first result counts; a reload after it finds the channel full.
                let _ = tx.try_send(result);
                async move {
                    HttpResponse::Ok()
                        .content_type("text/plain; charset=utf-8")
                        .body(body)
                }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .map_err(|e| GmailError::internal_from("cannot listen for the OAuth redirect", e))?
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    Ok(async move {
        let result = rx
            .recv()
            .await
            .unwrap_or_else(|| Err(GmailError::internal("the OAuth redirect listener stopped")));
        // Graceful: the browser gets its page before the listener closes.
        handle.stop(true).await;
        result
    })
}

/// The code a redirect carries, once its state is this flow's.
fn redirect_result(q: &HashMap<String, String>, state: &str) -> Result<String, GmailError> {
    if q.get("state").map(String::as_str) != Some(state) {
        return Err(GmailError::invalid(
            "state",
            "the redirect's state does not match this authorization",
        ));
    }
    if let Some(err) = q.get("error") {
        return Err(GmailError::invalid(
            "error",
            format!("authorization was not granted ({err})"),
        ));
    }
    q.get("code")
        .cloned()
        .ok_or_else(|| GmailError::invalid("code", "the redirect carries no code"))
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
    async fn a_redirect_with_another_state_ends_the_flow_and_says_so() {
        let (_sandbox, _dir, settings, factory) = local_mode().await;
        let (page_tx, page_rx) = tokio::sync::oneshot::channel();
        let err = authorize(&factory, &settings.gmail, &[], |url| {
            // A page that knows the port but not the state.
            let consent = url::Url::parse(url).unwrap();
            let (_, redirect) = consent
                .query_pairs()
                .find(|(k, _)| k == "redirect_uri")
                .unwrap();
            let forged = format!("{redirect}?state=guess&code=stolen");
            tokio::spawn(async move {
                let page = reqwest::get(forged).await.unwrap().text().await.unwrap();
                let _ = page_tx.send(page);
            });
        })
        .await
        .unwrap_err();
        assert!(err.to_string().contains("state does not match"), "{err}");
        let page = page_rx.await.unwrap();
        assert!(page.starts_with("Authorization failed"), "{page}");
        assert!(!settings.gmail.credentials_path.exists());
    }
}
