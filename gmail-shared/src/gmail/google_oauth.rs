//! Google's OAuth endpoints through the `oauth2` crate: the consent URL with PKCE, the code
//! exchange and the refresh, all sent over the pooled client every Gmail request uses.
//!
//! Kept by hand, because the crate cannot do them here:
//! - revocation ([`post_form`]): the crate refuses a non-https revocation endpoint, and the
//!   sandbox (every test) serves Google's endpoints over loopback http;
//! - the answer's HTTP status: the crate parses a 5xx error body as a refusal, so
//!   [`send`] answers a 5xx itself, and a retryable failure stays apart from a refused grant.

use std::time::Duration;

use futures::future::BoxFuture;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
    BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AsyncHttpClient, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointNotSet, EndpointSet, ExtraTokenFields, HttpRequest, HttpResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope, StandardRevocableToken,
    StandardTokenResponse, TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::credentials::OAuthClient;
use super::http::{exchange, Answer, HttpClient};
use crate::error::GmailError;

/// OpenID Connect's `id_token` (sign-in asks for `openid`), beside the standard fields.
#[derive(Clone, Default, Deserialize, Serialize)]
pub struct IdToken {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

impl ExtraTokenFields for IdToken {}

/// No `Debug` output of the token itself: it names who signed in.
impl std::fmt::Debug for IdToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdToken([redacted])")
    }
}

type Tokens = StandardTokenResponse<IdToken, BasicTokenType>;

/// The crate's client for the token endpoint (the consent URL needs only `auth_uri`, and
/// the token grants only `token_uri`: a bad one of them breaks only what uses it).
type TokenClient = oauth2::Client<
    BasicErrorResponse,
    Tokens,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Tokens the token endpoint handed out. No `Debug`: all but the scope are secrets.
pub struct TokenGrant {
    pub access_token: SecretString,
    /// Seconds.
    pub expires_in: Option<i64>,
    pub refresh_token: Option<SecretString>,
    /// Space-separated, as Google sends it.
    pub scope: Option<String>,
    /// OpenID Connect: who signed in (when `openid` was asked for).
    pub id_token: Option<SecretString>,
}

impl From<Tokens> for TokenGrant {
    fn from(t: Tokens) -> Self {
        TokenGrant {
            access_token: SecretString::from(t.access_token().secret().to_owned()),
            expires_in: t
                .expires_in()
                .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
            refresh_token: t
                .refresh_token()
                .map(|r| SecretString::from(r.secret().to_owned())),
            scope: t
                .scopes()
                .map(|s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")),
            id_token: t.extra_fields().id_token.clone().map(SecretString::from),
        }
    }
}

/// The token endpoint's refusal (a 4xx with an OAuth error body).
#[derive(Debug)]
pub struct Refusal {
    /// `invalid_grant`, `invalid_client`, ...
    pub error: BasicErrorResponseType,
    pub description: String,
}

/// Why the token endpoint handed out nothing: it refused, or it could not be asked.
#[derive(Debug)]
pub enum TokenError {
    Refused(Refusal),
    Failed(GmailError),
}

/// A PKCE verifier (S256), kept as a secret until the code exchange.
pub fn new_verifier() -> SecretString {
    let (_, verifier) = PkceCodeChallenge::new_random_sha256();
    SecretString::from(verifier.into_secret())
}

fn url_error(what: &'static str) -> impl Fn(url::ParseError) -> GmailError {
    move |e| GmailError::internal_from(format!("the OAuth {what}"), e)
}

fn token_client(
    oauth: &OAuthClient,
    redirect_uri: Option<&str>,
) -> Result<TokenClient, GmailError> {
    let client = oauth2::Client::new(ClientId::new(oauth.client_id.clone()))
        .set_client_secret(ClientSecret::new(
            oauth.client_secret.expose_secret().to_owned(),
        ))
        // Google takes the client's credentials in the form as well as in Basic auth; the
        // form is what its own libraries send.
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(TokenUrl::new(oauth.token_uri.clone()).map_err(url_error("token_uri"))?);
    Ok(match redirect_uri {
        Some(uri) => client
            .set_redirect_uri(RedirectUrl::new(uri.to_owned()).map_err(url_error("redirect URI"))?),
        None => client,
    })
}

/// The URL that asks the user for consent: offline access (a refresh token), forced consent
/// (so a re-connection gets a new refresh token), state and the PKCE challenge of `verifier`.
pub fn authorization_url(
    oauth: &OAuthClient,
    redirect_uri: &str,
    scopes: &[String],
    state: &str,
    verifier: &SecretString,
    login_hint: Option<&str>,
) -> Result<String, GmailError> {
    let verifier = verifier.expose_secret();
    // The crate asserts RFC 7636's length; a stored verifier is checked, not trusted.
    if !(43..=128).contains(&verifier.len()) {
        return Err(GmailError::internal(
            "a PKCE verifier is not 43 to 128 characters long",
        ));
    }
    let challenge =
        PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(verifier.to_owned()));
    let client = oauth2::basic::BasicClient::new(ClientId::new(oauth.client_id.clone()))
        .set_auth_uri(AuthUrl::new(oauth.auth_uri.clone()).map_err(url_error("auth_uri"))?)
        .set_redirect_uri(
            RedirectUrl::new(redirect_uri.to_owned()).map_err(url_error("redirect URI"))?,
        );
    let mut request = client
        .authorize_url(|| CsrfToken::new(state.to_owned()))
        .add_scopes(scopes.iter().map(|s| Scope::new(s.clone())))
        .set_pkce_challenge(challenge)
        .add_extra_param("access_type", "offline")
        .add_extra_param("prompt", "consent")
        .add_extra_param("include_granted_scopes", "true");
    if let Some(hint) = login_hint {
        request = request.add_extra_param("login_hint", hint);
    }
    Ok(request.url().0.to_string())
}

/// Exchanges an authorization code (with its PKCE verifier) for tokens.
pub async fn exchange_code(
    http: &HttpClient,
    oauth: &OAuthClient,
    code: &str,
    verifier: &SecretString,
    redirect_uri: &str,
    timeout: Duration,
) -> Result<TokenGrant, TokenError> {
    let client = token_client(oauth, Some(redirect_uri)).map_err(TokenError::Failed)?;
    let request = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.expose_secret().to_owned()));
    let sender = Sender {
        http: http.clone(),
        timeout,
    };
    request
        .request_async(&sender)
        .await
        .map(TokenGrant::from)
        .map_err(token_error)
}

/// Fresh tokens from a refresh token (Google may rotate the refresh token too).
pub async fn refresh(
    http: &HttpClient,
    oauth: &OAuthClient,
    refresh_token: &SecretString,
    timeout: Duration,
) -> Result<TokenGrant, TokenError> {
    let client = token_client(oauth, None).map_err(TokenError::Failed)?;
    let refresh_token = RefreshToken::new(refresh_token.expose_secret().to_owned());
    let sender = Sender {
        http: http.clone(),
        timeout,
    };
    client
        .exchange_refresh_token(&refresh_token)
        .request_async(&sender)
        .await
        .map(TokenGrant::from)
        .map_err(token_error)
}

/// Why sending to the token endpoint failed, for the crate to carry back.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct SendFailure(GmailError);

fn token_error(e: RequestTokenError<SendFailure, BasicErrorResponse>) -> TokenError {
    TokenError::Failed(match e {
        RequestTokenError::ServerResponse(r) => {
            return TokenError::Refused(Refusal {
                error: r.error().clone(),
                description: r.error_description().cloned().unwrap_or_default(),
            })
        }
        RequestTokenError::Request(SendFailure(e)) => e,
        RequestTokenError::Parse(e, _) => {
            GmailError::unavailable_from("the token endpoint sent an unreadable answer", e)
        }
        RequestTokenError::Other(what) => {
            GmailError::unavailable(format!("the token endpoint's answer: {what}"))
        }
    })
}

/// The crate's HTTP client: the pool, within a timeout. A type of its own, not a closure,
/// so that its future may borrow the handle it holds; an owned handle, because with a
/// borrowed one the callers' futures failed the `Send` check.
struct Sender {
    /// A handle on the pool (a clone shares it): the crate's futures must not borrow it.
    http: HttpClient,
    timeout: Duration,
}

impl<'c> AsyncHttpClient<'c> for Sender {
    type Error = SendFailure;
    type Future = BoxFuture<'c, Result<HttpResponse, SendFailure>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(send(&self.http, request, self.timeout))
    }
}

/// One request of the crate's, sent over `http` within `timeout`. A 5xx is answered here as
/// unavailable, so that the crate never reads it as a refusal.
async fn send(
    http: &HttpClient,
    request: HttpRequest,
    timeout: Duration,
) -> Result<HttpResponse, SendFailure> {
    let (parts, body) = request.into_parts();
    let request = hyper::Request::from_parts(
        parts,
        Full::new(Bytes::from(body)).map_err(|e| match e {}).boxed(),
    );
    let (status, headers, body) = ask(http, request, timeout).await.map_err(SendFailure)?;
    // A 5xx is Google failing, to retry, whatever its body says; another failure without
    // an OAuth error body is not a refusal either. Both keep their status here.
    let refusal = || serde_json::from_slice::<BasicErrorResponse>(&body).is_ok();
    if status.is_server_error() || (!status.is_success() && !refusal()) {
        return Err(SendFailure(GmailError::unavailable(format!(
            "the token endpoint answered {status}"
        ))));
    }
    let mut response = HttpResponse::new(body.to_vec());
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

/// A form POST to an OAuth endpoint (revocation), within `timeout`; its status and body.
pub async fn post_form(
    http: &HttpClient,
    url: &str,
    form: String,
    timeout: Duration,
) -> Result<(u16, Bytes), GmailError> {
    let request = hyper::Request::post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(form)).map_err(|e| match e {}).boxed())
        .map_err(|e| GmailError::internal_from("bad OAuth endpoint URL", e))?;
    let (status, _, body) = ask(http, request, timeout).await?;
    Ok((status.as_u16(), body))
}

async fn ask(
    http: &HttpClient,
    request: hyper::Request<http_body_util::combinators::BoxBody<Bytes, hyper::Error>>,
    timeout: Duration,
) -> Result<Answer, GmailError> {
    let exchange = exchange(http, request, "the OAuth endpoint");
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or_else(|_| {
            Err(GmailError::unavailable(format!(
                "the OAuth endpoint did not answer within {} s",
                timeout.as_secs()
            )))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use sha2::{Digest, Sha256};

    /// A client of these endpoints.
    fn client_at(auth_uri: &str, token_uri: &str) -> OAuthClient {
        OAuthClient {
            client_id: "cid".into(),
            client_secret: SecretString::from("s".to_string()),
            auth_uri: auth_uri.into(),
            token_uri: token_uri.into(),
            redirect_uris: vec![],
        }
    }

    #[test]
    fn the_authorization_url_carries_state_pkce_offline_and_consent() {
        let client = client_at(
            "https://accounts.example/o/oauth2/v2/auth",
            "https://oauth2.example/token",
        );
        let verifier = new_verifier();
        let url = authorization_url(
            &client,
            "http://127.0.0.1:8000/oauth/callback",
            &["https://mail.google.com/".to_string()],
            "st4te",
            &verifier,
            Some("a@b.example"),
        )
        .unwrap();
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(verifier.expose_secret().as_bytes()));
        for part in [
            "access_type=offline",
            "prompt=consent",
            "state=st4te",
            "code_challenge_method=S256",
            &format!("code_challenge={challenge}"),
            "login_hint=a%40b.example",
            "redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Foauth%2Fcallback",
        ] {
            assert!(url.contains(part), "{part} missing from {url}");
        }
    }

    /// A token endpoint that answers every request with `status` and `body` (JSON).
    async fn endpoint(status: u16, body: &'static str) -> OAuthClient {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                // The whole request (head, then as much body as it says), so closing after
                // the answer never resets a connection with unread bytes.
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !whole_request(&request) {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        client_at(
            &format!("http://127.0.0.1:{port}/auth"),
            &format!("http://127.0.0.1:{port}/token"),
        )
    }

    fn whole_request(bytes: &[u8]) -> bool {
        let text = String::from_utf8_lossy(bytes);
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            return false;
        };
        let length = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        body.len() >= length
    }

    async fn refresh_at(status: u16, body: &'static str) -> Result<TokenGrant, TokenError> {
        let http = crate::gmail::http::http_client().unwrap();
        let oauth = endpoint(status, body).await;
        let token = SecretString::from("rt".to_string());
        refresh(&http, &oauth, &token, Duration::from_secs(5)).await
    }

    #[tokio::test]
    async fn the_token_endpoint_s_answers_are_told_apart() {
        let grant = refresh_at(
            200,
            r#"{"access_token":"at","token_type":"Bearer","expires_in":3599,
                "refresh_token":"rt2","scope":"openid email","id_token":"idt"}"#,
        )
        .await
        .unwrap();
        assert_eq!(grant.access_token.expose_secret(), "at");
        assert_eq!(grant.expires_in, Some(3599));
        assert_eq!(grant.refresh_token.unwrap().expose_secret(), "rt2");
        assert_eq!(grant.scope.as_deref(), Some("openid email"));
        assert_eq!(grant.id_token.unwrap().expose_secret(), "idt");

        let refused = refresh_at(
            400,
            r#"{"error":"invalid_grant","error_description":"Bad"}"#,
        );
        match refused.await {
            Err(TokenError::Refused(r)) => {
                assert_eq!(r.error, BasicErrorResponseType::InvalidGrant);
                assert_eq!(r.description, "Bad");
            }
            other => panic!("{:?}", other.err()),
        }
        // A 5xx with an OAuth error body is Google failing, to retry: not a refusal.
        let failed = refresh_at(503, r#"{"error":"internal_failure"}"#).await;
        match failed {
            Err(TokenError::Failed(e)) => {
                assert_eq!(e.kind(), "upstream-unavailable", "{e}");
                assert!(e.to_string().contains("503"), "{e}");
            }
            other => panic!("{:?}", other.err()),
        }
        // A failure that is not OAuth's keeps its status.
        match refresh_at(404, "<html>").await {
            Err(TokenError::Failed(e)) => assert!(e.to_string().contains("404"), "{e}"),
            other => panic!("{:?}", other.err()),
        }
        match refresh_at(200, "<html>").await {
            Err(TokenError::Failed(e)) => assert_eq!(e.kind(), "upstream-unavailable", "{e}"),
            other => panic!("{:?}", other.err()),
        }
    }

    #[test]
    fn a_verifier_of_the_wrong_length_is_an_error_not_a_panic() {
        let client = client_at("https://accounts.example/auth", "not a url");
        let short = SecretString::from("abc".to_string());
        let err = authorization_url(&client, "http://127.0.0.1:1/cb", &[], "s", &short, None)
            .unwrap_err();
        assert_eq!(err.kind(), "internal", "{err}");
        // The consent URL needs no token endpoint.
        authorization_url(
            &client,
            "http://127.0.0.1:1/cb",
            &[],
            "s",
            &new_verifier(),
            None,
        )
        .unwrap();
    }
}
