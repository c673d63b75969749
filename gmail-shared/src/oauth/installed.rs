//! Single-user local mode: the installed-app loopback flow (`gmail-mcp-server auth`). It
//! listens on a free loopback port, sends the user to Google's consent page (state + PKCE),
//! takes the redirect, exchanges the code and writes `credentials.json` in the Node server's
//! layout, where the servers read it.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

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
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| GmailError::internal_from("cannot listen for the OAuth redirect", e))?;
    let port = listener
        .local_addr()
        .map_err(|e| GmailError::internal_from("cannot read the redirect listener's port", e))?
        .port();
    let redirect_uri = format!("http://127.0.0.1:{port}/oauth2callback");
    let verifier = new_verifier();
    let state = uuid::Uuid::new_v4().simple().to_string();
    let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    show(&authorization_url(
        &client,
        &redirect_uri,
        &scopes,
        &state,
        &verifier,
        None,
    )?);

    let code = loop {
        let (mut socket, _) = listener
            .accept()
            .await
            .map_err(|e| GmailError::internal_from("OAuth redirect", e))?;
        let mut buf = vec![0u8; 8192];
        let n = socket.read(&mut buf).await.unwrap_or(0);
        let request = String::from_utf8_lossy(&buf[..n]).to_string();
        let target = request.split_whitespace().nth(1).unwrap_or("").to_string();
        let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
        let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        if !target.starts_with("/oauth2callback") {
            let _ = socket
                .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                .await;
            continue;
        }
        let result = if get("state").as_deref() != Some(state.as_str()) {
            Err(GmailError::invalid(
                "state",
                "the redirect's state does not match this authorization",
            ))
        } else if let Some(err) = get("error") {
            Err(GmailError::invalid(
                "error",
                format!("authorization was not granted ({err})"),
            ))
        } else {
            get("code").ok_or_else(|| GmailError::invalid("code", "the redirect carries no code"))
        };
        let body = match &result {
            Ok(_) => "Gmail is authorized. You can close this tab.".to_string(),
            Err(e) => format!("Authorization failed: {e}"),
        };
        let _ = socket
            .write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            )
            .await;
        break result;
    }?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_loopback_flow_writes_credentials_the_servers_read() {
        let sandbox = gmail_sandbox::Sandbox::start(gmail_sandbox::SandboxConfig::for_tests())
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut settings = crate::testing::settings(&sandbox.base_url());
        settings.gmail.credentials_path = dir.path().join("credentials.json");
        let factory = GmailFactory::new(&settings.gmail).unwrap();
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
}
