//! Access tokens from a refresh token: refreshed shortly before expiry, one refresh at a time
//! however many calls race (single flight), and written back through a [`TokenSink`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use google_gmail1::common::GetToken;
use oauth2::basic::BasicErrorResponseType;
use secrecy::{ExposeSecret, SecretString};

use super::credentials::{CredentialsFile, OAuthClient, StoredTokens};
use super::google_oauth::{self, TokenError, TokenGrant};
use super::http::HttpClient;
use crate::error::GmailError;

/// Where refreshed tokens are kept: the credentials file in single-user mode, the encrypted
/// store in multi-user mode.
pub trait TokenSink: Send + Sync {
    /// Keeps `tokens`, refreshed with the refresh token `from`. A store that holds another
    /// refresh token by now (the user reconnected meanwhile) keeps that one.
    fn store<'a>(
        &'a self,
        tokens: &'a StoredTokens,
        from: &'a SecretString,
    ) -> BoxFuture<'a, Result<(), GmailError>>;

    /// Google refused this refresh token (invalid_grant: revoked or expired): the
    /// connection needs re-consent, unless it holds another token by now.
    fn revoked<'a>(&'a self, _refused: &'a SecretString) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }

    /// Holds this token's refresh lock across processes, when the store has one (dropping
    /// the guard releases it), and answers the tokens as stored now: another process may
    /// have refreshed them while this one waited.
    fn lock_and_reload(&self) -> BoxFuture<'_, Result<Option<RefreshGuard>, GmailError>> {
        Box::pin(async { Ok(None) })
    }
}

/// A cross-process refresh lock and the tokens read under it.
pub struct RefreshGuard {
    pub hold: Box<dyn Send>,
    pub stored: StoredTokens,
}

impl TokenSink for CredentialsFile {
    fn store<'a>(
        &'a self,
        tokens: &'a StoredTokens,
        _from: &'a SecretString,
    ) -> BoxFuture<'a, Result<(), GmailError>> {
        Box::pin(async move { self.write(tokens) })
    }
}

/// A token source for one connection; clones share the cache and the refresh lock.
#[derive(Clone)]
pub struct RefreshingToken {
    inner: Arc<Inner>,
}

struct Inner {
    http: HttpClient,
    client: OAuthClient,
    tokens: tokio::sync::Mutex<StoredTokens>,
    sink: Option<Arc<dyn TokenSink>>,
    margin: Duration,
    timeout: Duration,
    refreshes: AtomicU64,
}

impl std::fmt::Debug for RefreshingToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshingToken")
            .field("client_id", &self.inner.client.client_id)
            .field("token_uri", &self.inner.client.token_uri)
            .finish_non_exhaustive()
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl RefreshingToken {
    pub fn new(
        http: HttpClient,
        client: OAuthClient,
        tokens: StoredTokens,
        sink: Option<Arc<dyn TokenSink>>,
        margin: Duration,
        timeout: Duration,
    ) -> Self {
        RefreshingToken {
            inner: Arc::new(Inner {
                http,
                client,
                tokens: tokio::sync::Mutex::new(tokens),
                sink,
                margin,
                timeout,
                refreshes: AtomicU64::new(0),
            }),
        }
    }

    /// How many refreshes this source has made (for tests and metrics).
    pub fn refresh_count(&self) -> u64 {
        self.inner.refreshes.load(Ordering::Relaxed)
    }

    /// A valid access token, refreshing first when the cached one is missing or about to expire.
    pub async fn access_token(&self) -> Result<SecretString, GmailError> {
        // Holding the lock across the refresh is the single flight: racing callers wait here
        // and then find the fresh token.
        let mut tokens = self.inner.tokens.lock().await;
        let margin_ms = self.inner.margin.as_millis() as i64;
        let fresh = |t: &StoredTokens| match (&t.access_token, t.expiry_date) {
            (Some(access), Some(expiry)) if expiry - margin_ms > now_ms() => Some(access.clone()),
            (Some(access), None) => Some(access.clone()),
            _ => None,
        };
        if let Some(access) = fresh(&tokens) {
            return Ok(access);
        }
        // Across processes too: under the store's lock, a token another instance has just
        // refreshed is taken as it is (one refresh for all of them).
        let _held = match &self.inner.sink {
            Some(sink) => match sink.lock_and_reload().await? {
                Some(guard) => {
                    if let Some(access) = fresh(&guard.stored) {
                        *tokens = guard.stored;
                        return Ok(access);
                    }
                    Some(guard.hold)
                }
                None => None,
            },
            None => None,
        };
        let from = tokens.refresh_token.clone();
        let refreshed = match self.refresh(&from).await {
            Ok(r) => r,
            Err(e) => {
                if let (GmailError::AuthExpired { message }, Some(sink)) = (&e, &self.inner.sink) {
                    if message.starts_with("invalid_grant") {
                        sink.revoked(&tokens.refresh_token).await;
                    }
                }
                return Err(e);
            }
        };
        tokens.access_token = Some(refreshed.access_token);
        tokens.expiry_date = StoredTokens::expiry_after(refreshed.expires_in);
        if let Some(rotated) = refreshed.refresh_token {
            tokens.refresh_token = rotated;
        }
        if refreshed.scope.is_some() {
            tokens.scope = refreshed.scope;
        }
        if let Some(sink) = &self.inner.sink {
            // A failed write-back costs a refresh on the next start, not this call.
            if let Err(e) = sink.store(&tokens, &from).await {
                tracing::warn!(error = %e, "could not store the refreshed token");
            }
        }
        tokens
            .access_token
            .clone()
            .ok_or_else(|| GmailError::internal("token refresh produced no access token"))
    }

    #[tracing::instrument(name = "oauth_refresh", skip_all, fields(token_uri = %self.inner.client.token_uri))]
    async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenGrant, GmailError> {
        self.inner.refreshes.fetch_add(1, Ordering::Relaxed);
        let result = self.ask_token_endpoint(refresh_token).await;
        crate::metrics::token_refresh(match &result {
            Ok(_) => "ok",
            Err(GmailError::AuthExpired { .. }) => "invalid_grant",
            Err(_) => "failed",
        });
        result
    }

    async fn ask_token_endpoint(
        &self,
        refresh_token: &SecretString,
    ) -> Result<TokenGrant, GmailError> {
        let inner = &self.inner;
        google_oauth::refresh(&inner.http, &inner.client, refresh_token, inner.timeout)
            .await
            .map_err(|e| {
                let r = match e {
                    TokenError::Refused(r) => r,
                    TokenError::Failed(e) => return e,
                };
                let detail = format!("{}: {}", r.error, r.description);
                match r.error {
                    BasicErrorResponseType::InvalidGrant => GmailError::AuthExpired {
                        message: format!("invalid_grant: {}", r.description),
                    },
                    BasicErrorResponseType::InvalidClient
                    | BasicErrorResponseType::UnauthorizedClient => GmailError::AuthExpired {
                        message: format!("the OAuth client was rejected ({detail})"),
                    },
                    _ => GmailError::internal(format!(
                        "the token endpoint refused the refresh ({detail})"
                    )),
                }
            })
    }
}

impl GetToken for RefreshingToken {
    fn get_token<'a>(
        &'a self,
        _scopes: &'a [&str],
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<
                    Output = Result<Option<String>, Box<dyn std::error::Error + Send + Sync>>,
                > + Send
                + 'a,
        >,
    > {
        Box::pin(async move {
            match self.access_token().await {
                Ok(token) => Ok(Some(token.expose_secret().to_owned())),
                Err(e) => Err(Box::new(e) as Box<dyn std::error::Error + Send + Sync>),
            }
        })
    }
}
