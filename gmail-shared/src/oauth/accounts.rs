//! Multi-user accounts: each user connects their own Gmail accounts through the web flow; a
//! call resolves the caller's connection (never another user's), refreshes its token once
//! however many calls race, and stores the new token sealed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Serialize;

use super::{authorization_url, exchange_code, new_verifier, revoke, DEFAULT_SCOPES};
use crate::config::Settings;
use crate::error::GmailError;
use crate::gmail::credentials::{OAuthClient, StoredTokens};
use crate::gmail::token::TokenSink;
use crate::gmail::{Connection, GmailFactory};
use crate::mailbox::{Caller, Mailbox, MailboxProvider};
use crate::ops::profile::get_profile;
use crate::store::{ConnectionInfo, FlowBinding, Keyring, OAuthState, Store, User, NEEDS_REAUTH};

/// A refresh token's SHA-256: tells which tokens a cached connection was built from
/// without keeping a second copy of the secret.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Digest([u8; 32]);

impl Digest {
    fn of(secret: &str) -> Digest {
        use sha2::Digest as _;
        Digest(sha2::Sha256::digest(secret.as_bytes()).into())
    }
}

/// Where a user goes to connect an account.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuthStart {
    /// The link to open in the browser: the server's start page, which binds the
    /// authorization to that browser and then sends it to Google's consent page.
    pub auth_url: String,
    pub state: String,
    pub expires_in_secs: i64,
}

/// A browser that opened a start link: the cookie value that binds the authorization to it,
/// and Google's consent page to send it to.
pub struct BrowserStart {
    pub binding: secrecy::SecretString,
    pub consent_url: String,
    pub expires_in_secs: i64,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConnectionCheck {
    pub connection: ConnectionInfo,
    pub ok: bool,
    /// What went wrong, and what to do, when not ok.
    pub problem: Option<String>,
    pub messages_total: Option<i32>,
}

pub struct Accounts {
    pub(super) store: Store,
    authorization: crate::authorization::AuthorizationServer,
    pub(super) factory: GmailFactory,
    pub(super) client: OAuthClient,
    pub(super) redirect_uri: String,
    /// The REST server's `/oauth/start`, beside the callback.
    start_uri: String,
    /// Absolute `returnTo` URLs may point only at these origins (and the server's own).
    return_origins: Vec<String>,
    state_ttl_secs: i64,
    scopes: Vec<String>,
    /// Live connections by id, so every call on a connection shares one token source; each
    /// with a digest of the refresh token it was built from (see `mailbox`).
    live: tokio::sync::Mutex<HashMap<String, (Digest, Connection)>>,
    members: crate::members::Members,
    /// Who may sign up by signing in with Google (email domains; empty: anyone).
    pub(super) allowed_domains: Vec<String>,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts")
            .field("store", &self.store)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// Writes refreshed tokens of one connection back to the store; marks it on invalid_grant.
struct StoreSink {
    store: Store,
    connection_id: String,
}

impl TokenSink for StoreSink {
    fn store<'a>(
        &'a self,
        tokens: &'a StoredTokens,
        from: &'a secrecy::SecretString,
    ) -> BoxFuture<'a, Result<(), GmailError>> {
        Box::pin(async move {
            if !self
                .store
                .store_refreshed_tokens(&self.connection_id, tokens, from)
                .await?
            {
                tracing::info!("a reconnect replaced the tokens this refresh started from; keeping the new ones");
            }
            Ok(())
        })
    }

    fn revoked<'a>(&'a self, refused: &'a secrecy::SecretString) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if let Err(e) = self
                .store
                .mark_needs_reauth(&self.connection_id, refused)
                .await
            {
                tracing::warn!(error = %e, "could not mark the connection as needing re-authorization");
            }
        })
    }

    fn lock_and_reload(
        &self,
    ) -> BoxFuture<'_, Result<Option<crate::gmail::token::RefreshGuard>, GmailError>> {
        Box::pin(async move {
            let Some(tx) = self.store.refresh_lock(&self.connection_id).await? else {
                return Ok(None);
            };
            let stored = self.store.stored_tokens(&self.connection_id).await?;
            Ok(Some(crate::gmail::token::RefreshGuard {
                hold: Box::new(tx),
                stored,
            }))
        })
    }
}

/// How often each multi-user process deletes audit entries past their retention.
const AUDIT_PURGE_EVERY: Duration = Duration::from_secs(3600);

/// Deletes audit entries older than `retention_hours` (0: none) now and hourly. Here, not in
/// the change feed's loop, because every multi-user process needs it, events on or off;
/// instances sharing a database all run it, and the later ones find nothing to delete.
fn purge_audit_hourly(accounts: &Arc<Accounts>, retention_hours: u64) {
    if retention_hours == 0 {
        return;
    }
    let keep = i64::try_from(retention_hours)
        .unwrap_or(i64::MAX)
        .saturating_mul(3600);
    // Weak: the loop ends once the accounts are dropped (tests open many).
    let accounts = Arc::downgrade(accounts);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(AUDIT_PURGE_EVERY);
        loop {
            tick.tick().await;
            let Some(store) = accounts.upgrade().map(|a| a.store.clone()) else {
                return;
            };
            let before = chrono::Utc::now().timestamp().saturating_sub(keep);
            match store.purge_audit(before).await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "purged audit entries past their retention"),
                Err(e) => tracing::warn!(error = %e, "cannot purge old audit entries"),
            }
        }
    });
}

fn revoke_uri(token_uri: &str) -> String {
    match token_uri.strip_suffix("/token") {
        Some(base) => format!("{base}/revoke"),
        None => "https://oauth2.googleapis.com/revoke".to_string(),
    }
}

impl Accounts {
    /// Opens the store; refuses to start without a valid encryption key. While the accounts
    /// live, audit entries past their retention are deleted hourly.
    pub async fn open(
        settings: &Settings,
        factory: GmailFactory,
    ) -> Result<Arc<Accounts>, GmailError> {
        let mu = &settings.multi_user;
        let keys = Keyring::of(mu)?;
        let store =
            Store::connect(secrecy::ExposeSecret::expose_secret(&mu.database_url), keys).await?;
        let purged = store.purge_expired_oauth_states().await?;
        if purged > 0 {
            tracing::info!(purged, "forgot expired OAuth states");
        }
        let accounts = Accounts::with_store(settings, factory, store)?;
        purge_audit_hourly(&accounts, mu.audit_retention_hours);
        Ok(accounts)
    }

    pub fn with_store(
        settings: &Settings,
        factory: GmailFactory,
        store: Store,
    ) -> Result<Arc<Accounts>, GmailError> {
        let client = factory.oauth_client()?;
        let redirect_uri = settings.multi_user.oauth_redirect_url.clone();
        let start_uri = url::Url::parse(&redirect_uri)
            .and_then(|u| u.join("/oauth/start"))
            .map(|u| u.to_string())
            .map_err(|e| {
                GmailError::invalid(
                    "multi_user.oauth_redirect_url",
                    format!("{redirect_uri:?} is not a URL: {e}"),
                )
            })?;
        Ok(Arc::new(Accounts {
            members: crate::members::Members::new(settings, store.clone()),
            authorization: crate::authorization::AuthorizationServer::new(settings, store.clone()),
            allowed_domains: settings
                .multi_user
                .allowed_domains
                .iter()
                .map(|d| d.trim().trim_start_matches('@').to_lowercase())
                .collect(),
            store,
            factory,
            client,
            start_uri,
            return_origins: settings.multi_user.allowed_return_origins.clone(),
            redirect_uri,
            state_ttl_secs: settings.multi_user.oauth_state_ttl_secs,
            scopes: DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
            live: tokio::sync::Mutex::new(HashMap::new()),
        }))
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The OAuth authorization server for remote MCP clients.
    pub fn authorization(&self) -> &crate::authorization::AuthorizationServer {
        &self.authorization
    }

    /// The members and their keys.
    pub fn members(&self) -> &crate::members::Members {
        &self.members
    }

    /// As [`Self::start`], for the user with this id (a caller the front ends know by id).
    pub async fn start_for(
        &self,
        user_id: &str,
        return_to: Option<&str>,
        login_hint: Option<&str>,
    ) -> Result<AuthStart, GmailError> {
        let user = self
            .store
            .user(user_id)
            .await?
            .ok_or_else(|| GmailError::not_found("the calling user"))?;
        self.start(&user, return_to, login_hint).await
    }

    /// Starts connecting an account for `user`: a single-use state (PKCE verifier kept sealed)
    /// and the link to the server's start page.
    pub async fn start(
        &self,
        user: &User,
        return_to: Option<&str>,
        login_hint: Option<&str>,
    ) -> Result<AuthStart, GmailError> {
        let return_to = return_to
            .map(|r| super::return_to::check(r, &self.redirect_uri, &self.return_origins))
            .transpose()?;
        let flow = OAuthState {
            user_id: user.id.clone(),
            code_verifier: new_verifier(),
            redirect_uri: self.redirect_uri.clone(),
            scopes: self.scopes.clone(),
            return_to,
        };
        let state = self
            .store
            .create_oauth_state(&flow, login_hint, self.state_ttl_secs)
            .await?;
        let mut link = url::Url::parse(&self.start_uri)
            .map_err(|e| GmailError::internal_from("start URL", e))?;
        link.query_pairs_mut().append_pair("state", &state);
        Ok(AuthStart {
            auth_url: link.to_string(),
            state,
            expires_in_secs: self.state_ttl_secs,
        })
    }

    /// Who started the authorization `state` (for the start page to name).
    pub async fn flow_owner(&self, state: &str) -> Result<User, GmailError> {
        let pending = self.store.pending_oauth_state(state).await?;
        self.store
            .user(&pending.user_id)
            .await?
            .ok_or_else(|| GmailError::invalid("state", "the user who started it no longer exists"))
    }

    /// Google's consent URL for a pending authorization.
    pub async fn consent_url(&self, state: &str) -> Result<String, GmailError> {
        let pending = self.store.pending_oauth_state(state).await?;
        authorization_url(
            &self.client,
            &pending.redirect_uri,
            &pending.scopes,
            state,
            &pending.code_verifier,
            pending.login_hint.as_deref(),
        )
    }

    /// A browser opened the start link: bind the authorization to it (first browser only)
    /// and send it on to Google.
    pub async fn open_in_browser(&self, state: &str) -> Result<BrowserStart, GmailError> {
        let binding = self.store.bind_oauth_state(state).await?;
        let pending = self.store.pending_oauth_state(state).await?;
        Ok(BrowserStart {
            binding,
            consent_url: self.consent_url(state).await?,
            expires_in_secs: (pending.expires_at - chrono::Utc::now().timestamp()).max(1),
        })
    }

    /// Ends an authorization Google refused (denied consent), if `binding` may.
    pub async fn abandon(&self, state: &str, binding: FlowBinding<'_>) -> Result<(), GmailError> {
        crate::metrics::oauth_flow("connect", "denied");
        self.store
            .take_oauth_state(state, binding)
            .await
            .map(|_| ())
    }

    /// Finishes the web flow: takes the state (once, and only for the party it is bound to),
    /// exchanges the code, reads the account's address and stores the connection. Answers the
    /// user, the connection and where to go.
    pub async fn complete(
        &self,
        state: &str,
        code: &str,
        binding: FlowBinding<'_>,
    ) -> Result<(User, ConnectionInfo, Option<String>), GmailError> {
        let result = self.finish_connection(state, code, binding).await;
        crate::metrics::oauth_flow("connect", if result.is_ok() { "ok" } else { "failed" });
        result
    }

    async fn finish_connection(
        &self,
        state: &str,
        code: &str,
        binding: FlowBinding<'_>,
    ) -> Result<(User, ConnectionInfo, Option<String>), GmailError> {
        let st = self.store.take_oauth_state(state, binding).await?;
        let user = self.store.user(&st.user_id).await?.ok_or_else(|| {
            GmailError::invalid(
                "state",
                "the user who started this authorization no longer exists",
            )
        })?;
        let grant = exchange_code(
            self.factory.http(),
            &self.client,
            code,
            &st.code_verifier,
            &st.redirect_uri,
        )
        .await?;
        let info = self.connect_grant(&user.id, &grant, &st.scopes).await?;
        Ok((user, info, st.return_to))
    }

    /// Stores the Gmail connection a grant gives `user_id` (its address read from Gmail
    /// itself, not from anything the caller said).
    pub(crate) async fn connect_grant(
        &self,
        user_id: &str,
        grant: &super::TokenGrant,
        asked_scopes: &[String],
    ) -> Result<ConnectionInfo, GmailError> {
        let refresh = grant.refresh_token.clone().ok_or_else(|| {
            GmailError::invalid("code", "Google returned no refresh token; revoke the app's access in your Google account and connect again")
        })?;
        let tokens = StoredTokens {
            access_token: Some(grant.access_token.clone()),
            refresh_token: refresh,
            scope: grant.scope.clone(),
            expiry_date: StoredTokens::expiry_after(grant.expires_in),
        };
        let probe = self
            .factory
            .connection(None, self.client.clone(), tokens.clone(), None);
        let profile = get_profile(&Mailbox::new(probe)).await?;
        let scopes: Vec<String> = grant
            .scope
            .as_deref()
            .map(|s| s.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_else(|| asked_scopes.to_vec());
        let info = self
            .store
            .upsert_connection(user_id, &profile.email_address, &tokens, &scopes)
            .await?;
        self.live.lock().await.remove(&info.id);
        Ok(info)
    }

    /// The caller's mailbox: their primary connection, or the one named by id or address.
    pub async fn mailbox(
        &self,
        user_id: &str,
        account: Option<&str>,
    ) -> Result<Mailbox, GmailError> {
        let found = self.store.connection_for(user_id, account).await?;
        if found.info.status == NEEDS_REAUTH {
            self.live.lock().await.remove(&found.info.id);
            return Err(GmailError::Reauthorize {
                account: found.info.email,
                link: None,
            });
        }
        // Another process (the REST server, where users reconnect) may have stored new tokens
        // since this one cached the connection: a cached copy built from another refresh
        // token is stale, and refreshing with it (revoked, maybe) would mark the fresh
        // connection broken.
        let built_from = Digest::of(secrecy::ExposeSecret::expose_secret(
            &found.tokens.refresh_token,
        ));
        let mut live = self.live.lock().await;
        if live
            .get(&found.info.id)
            .is_some_and(|(digest, _)| *digest != built_from)
        {
            live.remove(&found.info.id);
        }
        let (_, conn) = live
            .entry(found.info.id.clone())
            .or_insert_with(|| {
                let sink = Arc::new(StoreSink {
                    store: self.store.clone(),
                    connection_id: found.info.id.clone(),
                });
                let conn = self.factory.connection(
                    Some(found.info.email.clone()),
                    self.client.clone(),
                    found.tokens,
                    Some(sink),
                );
                (built_from, conn)
            })
            .clone();
        drop(live);
        Ok(Mailbox::new(conn))
    }

    pub async fn list(&self, user_id: &str) -> Result<Vec<ConnectionInfo>, GmailError> {
        self.store.list_connections(user_id).await
    }

    /// A consent link that reconnects `account` for the user, if one can be made.
    async fn reconnect_link(&self, user_id: &str, account: &str) -> Option<String> {
        let user = self.store.user(user_id).await.ok()??;
        let start = self.start(&user, None, Some(account)).await.ok()?;
        Some(start.auth_url)
    }

    /// Tries the connection with a cheap call (users.getProfile).
    pub async fn check(
        &self,
        user_id: &str,
        account: Option<&str>,
    ) -> Result<ConnectionCheck, GmailError> {
        let info = self.store.connection_for(user_id, account).await?.info;
        let result = match self.mailbox(user_id, Some(&info.id)).await {
            Ok(m) => get_profile(&m).await,
            Err(e) => Err(e),
        };
        let info = self
            .store
            .connection_for(user_id, Some(&info.id))
            .await?
            .info;
        Ok(match result {
            Ok(p) => ConnectionCheck {
                connection: info,
                ok: true,
                problem: None,
                messages_total: Some(p.messages_total),
            },
            Err(e) => ConnectionCheck {
                connection: info,
                ok: false,
                problem: Some(e.to_string()),
                messages_total: None,
            },
        })
    }

    /// Revokes the grant at Google and forgets the connection.
    pub async fn disconnect(
        &self,
        user_id: &str,
        account: &str,
    ) -> Result<ConnectionInfo, GmailError> {
        let found = self.store.connection_for(user_id, Some(account)).await?;
        revoke(
            self.factory.http(),
            &revoke_uri(&self.client.token_uri),
            &found.tokens.refresh_token,
        )
        .await?;
        self.store
            .delete_connection(user_id, &found.info.id)
            .await?;
        self.live.lock().await.remove(&found.info.id);
        Ok(found.info)
    }
}

/// The mailboxes of one authenticated caller.
pub struct UserMailboxes {
    pub accounts: Arc<Accounts>,
    pub caller: Caller,
    /// The caller's send rules, put on every mailbox it resolves.
    pub policy: Arc<crate::ops::policy::SendPolicy>,
}

impl MailboxProvider for UserMailboxes {
    fn mailbox<'a>(
        &'a self,
        account: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Mailbox, GmailError>> {
        Box::pin(async move {
            let mailbox = match self.accounts.mailbox(&self.caller.user_id, account).await {
                Ok(mailbox) => mailbox,
                // The caller asked: hand it a fresh consent link for that very account (made
                // here, not for background work, which would only mint unused flows).
                Err(GmailError::Reauthorize { account, .. }) => {
                    let link = self
                        .accounts
                        .reconnect_link(&self.caller.user_id, &account)
                        .await;
                    return Err(GmailError::Reauthorize { account, link });
                }
                Err(e) => return Err(e),
            };
            Ok(mailbox.with_policy(self.policy.clone()))
        })
    }

    fn caller(&self) -> Option<&Caller> {
        Some(&self.caller)
    }
}
