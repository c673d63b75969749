//! The Gmail client factory: one HTTP connection pool per process, and authenticated
//! google-gmail1 hubs for accounts, pointed at Google or at the sandbox.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use google_gmail1::Gmail;
use secrecy::SecretString;

use super::credentials::{CredentialsFile, OAuthClient, StoredTokens};
use super::http::http_client;
use super::token::{RefreshingToken, TokenSink};
use crate::config::{Backend, GmailSettings};
use crate::error::GmailError;

pub use super::http::{Connector, HttpClient};
pub type GmailHub = Gmail<Connector>;

/// An authenticated connection to one mailbox.
#[derive(Clone)]
pub struct Connection {
    /// The mailbox address, when known.
    pub account: Option<String>,
    pub hub: GmailHub,
    pub token: RefreshingToken,
    /// The Gmail API root this connection talks to (for requests the hub cannot make,
    /// such as the batch endpoint).
    pub api_root: String,
    pub http: HttpClient,
    /// How calls on this connection retry transient failures.
    pub retry: super::retry::RetryPolicy,
    /// Label ids and names, kept a minute so results can show names without a call each.
    pub labels: Arc<Recent<Vec<(String, String)>>>,
    /// The account's own addresses (primary and send-as), kept ten minutes: every reply
    /// needs them to leave the sender out.
    pub own_addresses: Arc<Recent<Vec<String>>>,
    /// The address Gmail names (`getProfile`) when `account` is not known (single-user mode
    /// on Google), kept ten minutes: the change feed and resource lists name it every sync.
    pub profile_address: Arc<Recent<String>>,
    /// The process's per-mailbox quota budget.
    pub quota: Arc<super::quota::QuotaBudget>,
}

/// A short-lived copy of something a mailbox rarely changes (its labels, its own
/// addresses), so results and replies do not cost a Gmail call each.
pub struct Recent<T> {
    ttl: Duration,
    /// When it was fetched, what, and the generation; `forget` starts a new generation.
    cached: std::sync::Mutex<(Option<(std::time::Instant, T)>, u64)>,
}

impl<T: Clone> Recent<T> {
    pub fn new(ttl: Duration) -> Self {
        Recent {
            ttl,
            cached: std::sync::Mutex::new((None, 0)),
        }
    }

    /// The copy, unless it is older than the time it serves; else the generation to hand
    /// to [`Self::set`] with what is fetched instead.
    pub fn get(&self) -> Result<T, u64> {
        let cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        match &cached.0 {
            Some((at, value)) if at.elapsed() < self.ttl => Ok(value.clone()),
            _ => Err(cached.1),
        }
    }

    /// Keeps `value`, fetched in `generation`: not if it was forgotten since, as what was
    /// fetched before a change must not outlive it.
    pub fn set(&self, generation: u64, value: T) {
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if cached.1 == generation {
            cached.0 = Some((std::time::Instant::now(), value));
        }
    }

    /// After a change this process made (a label created, renamed or deleted).
    pub fn forget(&self) {
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        *cached = (None, cached.1.wrapping_add(1));
    }
}

impl Connection {
    /// Waits until this mailbox's quota budget has `units`, then spends them; refused as
    /// rate-limited past the retry budget.
    pub async fn spend_quota(&self, units: u32) -> Result<(), GmailError> {
        let account = self.account.as_deref().unwrap_or("me");
        self.quota.spend(account, units, self.retry.max_wait).await
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("account", &self.account)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct GmailFactory {
    http: HttpClient,
    backend: Backend,
    api_root: String,
    settings: GmailSettings,
    quota: Arc<super::quota::QuotaBudget>,
}

impl GmailFactory {
    /// Resolves the backend (`auto` picks Google when the Google OAuth client file exists: a
    /// multi-user server needs nothing more, and `auth` writes a single-user server's
    /// credentials with it) and builds the process's connection pool.
    pub fn new(settings: &GmailSettings) -> Result<GmailFactory, GmailError> {
        let backend = match settings.backend {
            Backend::Auto if has_google_credentials(settings) => Backend::Google,
            Backend::Auto => Backend::Sandbox,
            chosen => chosen,
        };
        let api_root = match backend {
            Backend::Sandbox => settings.sandbox_url.clone(),
            _ => settings.api_url.clone(),
        };
        Ok(GmailFactory {
            http: http_client()?,
            backend,
            api_root,
            settings: settings.clone(),
            quota: Arc::new(super::quota::QuotaBudget::new(
                settings.quota_units_per_minute,
                settings.quota_burst_units,
            )),
        })
    }

    /// `google` or `sandbox`, after resolving `auto`.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The Gmail API root the hubs talk to.
    pub fn api_root(&self) -> &str {
        &self.api_root
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The OAuth client of this deployment: the sandbox's built-in one, or the keys file.
    pub fn oauth_client(&self) -> Result<OAuthClient, GmailError> {
        match self.backend {
            Backend::Sandbox => Ok(OAuthClient {
                client_id: self.settings.sandbox_client_id.clone(),
                client_secret: self.settings.sandbox_client_secret.clone(),
                auth_uri: format!("{}o/oauth2/v2/auth", self.settings.sandbox_url),
                token_uri: format!("{}token", self.settings.sandbox_url),
                redirect_uris: vec![],
            }),
            _ => OAuthClient::from_file(&self.settings.oauth_keys_path),
        }
    }

    /// The single-user connection: the credentials files on Google, the configured sandbox
    /// mailbox (through the sandbox's real token endpoint) otherwise.
    pub fn default_connection(&self) -> Result<Connection, GmailError> {
        let client = self.oauth_client()?;
        match self.backend {
            Backend::Sandbox => {
                // Addresses are case-insensitive; the sandbox keys its mailboxes in lower case.
                let account = self.settings.sandbox_account.trim().to_ascii_lowercase();
                let tokens = StoredTokens {
                    access_token: None,
                    refresh_token: SecretString::from(sandbox_refresh_token(&account)),
                    scope: None,
                    expiry_date: None,
                };
                Ok(self.connection(Some(account), client, tokens, None))
            }
            _ => {
                let file = CredentialsFile::new(&self.settings.credentials_path);
                let tokens = file.read()?;
                Ok(self.connection(None, client, tokens, Some(Arc::new(file))))
            }
        }
    }

    /// A connection from explicit client and tokens (multi-user connections use this).
    pub fn connection(
        &self,
        account: Option<String>,
        client: OAuthClient,
        tokens: StoredTokens,
        sink: Option<Arc<dyn TokenSink>>,
    ) -> Connection {
        let token = RefreshingToken::new(
            self.http.clone(),
            client,
            tokens,
            sink,
            Duration::from_secs(self.settings.refresh_margin_secs),
            Duration::from_secs(self.settings.request_timeout_secs),
        );
        let mut hub = Gmail::new(self.http.clone(), token.clone());
        hub.base_url(self.api_root.clone());
        // Uploads (every send) go to root_url + "upload/...": both must point at the backend.
        hub.root_url(self.api_root.clone());
        Connection {
            account,
            hub,
            token,
            api_root: self.api_root.clone(),
            http: self.http.clone(),
            retry: super::retry::RetryPolicy {
                max_wait: Duration::from_secs(self.settings.retry_max_wait_secs),
                request_timeout: Duration::from_secs(self.settings.request_timeout_secs),
            },
            labels: Arc::new(Recent::new(Duration::from_secs(60))),
            own_addresses: Arc::new(Recent::new(Duration::from_secs(600))),
            profile_address: Arc::new(Recent::new(Duration::from_secs(600))),
            quota: self.quota.clone(),
        }
    }
}

/// The refresh token the sandbox issues for each of its mailboxes (its README's format; a
/// test holds it to `gmail_sandbox::grants::well_known_refresh_token`).
pub fn sandbox_refresh_token(account: &str) -> String {
    format!("1//sandbox-refresh-{}", account.trim().to_ascii_lowercase())
}

fn has_google_credentials(settings: &GmailSettings) -> bool {
    Path::new(&settings.oauth_keys_path).is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_fetched_before_a_change_is_not_kept_after_it() {
        let labels: Recent<Vec<&str>> = Recent::new(Duration::from_secs(60));
        let Err(generation) = labels.get() else {
            panic!("empty at first")
        };
        // A fetch is under way when this process renames a label.
        labels.forget();
        labels.set(generation, vec!["old name"]);
        let Err(now) = labels.get() else {
            panic!("the stale copy was kept")
        };
        labels.set(now, vec!["new name"]);
        assert_eq!(labels.get(), Ok(vec!["new name"]));
        // And a copy serves only its time.
        let brief: Recent<u8> = Recent::new(Duration::ZERO);
        brief.set(0, 1);
        assert!(brief.get().is_err());
    }
}
