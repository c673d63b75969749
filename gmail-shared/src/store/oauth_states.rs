//! OAuth states: one row per authorization in progress. A state works once, expires, and is
//! consumed only by the party it is bound to — the browser that opened its start link (the
//! hash of a cookie set then) or, for apps that receive the redirect themselves, the user who
//! started it. Checking the binding before deleting keeps anyone else from burning it.

use secrecy::{ExposeSecret, SecretString};
use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use super::columns::{IsSet, Words};
use super::{now, random_token, sha256_hex, Store};
use crate::error::GmailError;

/// A state taken for its code exchange.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OAuthState {
    pub user_id: String,
    /// Stored sealed under the state: opened by the store, not read with the row.
    #[sqlx(skip)]
    pub code_verifier: SecretString,
    pub redirect_uri: String,
    #[sqlx(try_from = "Words")]
    pub scopes: Vec<String>,
    pub return_to: Option<String>,
}

/// A state still waiting for its callback.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingFlow {
    pub user_id: String,
    pub login_hint: Option<String>,
    pub expires_at: i64,
    /// Whether a browser has opened the start link (and holds the cookie).
    #[sqlx(rename = "browser_hash", try_from = "IsSet<String>")]
    pub browser_bound: bool,
    /// Stored sealed under the state: opened by the store, not read with the row.
    #[sqlx(skip)]
    pub code_verifier: SecretString,
    pub redirect_uri: String,
    #[sqlx(try_from = "Words")]
    pub scopes: Vec<String>,
}

/// Who is finishing an authorization.
#[derive(Debug, Clone, Copy)]
pub enum FlowBinding<'a> {
    /// The browser, by the cookie value it got when it opened the start link.
    Browser(&'a str),
    /// An authenticated caller (`gmail_handle_oauth_callback`): only the user who started it.
    Owner(&'a str),
}

/// The columns a state is read with (a macro, so queries stay static strings).
macro_rules! columns {
    () => {
        "user_id, code_verifier, redirect_uri, scopes, return_to, expires_at, browser_hash, login_hint"
    };
}

fn unknown() -> GmailError {
    GmailError::invalid(
        "state",
        "unknown or already used authorization state; start the connection again",
    )
}

fn expired() -> GmailError {
    GmailError::invalid(
        "state",
        "the authorization took too long (states expire after 10 minutes); start the connection again",
    )
}

impl Store {
    /// Records `flow` under a new single-use state (what the code exchange takes back), valid
    /// for `ttl_secs`, and forgets expired ones.
    pub async fn create_oauth_state(
        &self,
        flow: &OAuthState,
        login_hint: Option<&str>,
        ttl_secs: i64,
    ) -> Result<String, GmailError> {
        self.purge_expired_oauth_states().await?;
        let state = random_token(24);
        let sealed = self.keys.seal(
            &format!("state:{state}"),
            flow.code_verifier.expose_secret(),
        )?;
        self.run(sql!(
            "INSERT INTO oauth_states (state, user_id, code_verifier, redirect_uri, \
             scopes, return_to, login_hint, expires_at) VALUES ($1, $2, $3, $4, $5, \
             $6, $7, $8)",
            &state,
            &flow.user_id,
            sealed,
            &flow.redirect_uri,
            flow.scopes.join(" "),
            &flow.return_to,
            login_hint,
            now() + ttl_secs
        ))
        .await?;
        Ok(state)
    }

    /// Deletes states past their expiry; answers how many.
    pub async fn purge_expired_oauth_states(&self) -> Result<u64, GmailError> {
        self.rows_changed(sql!(
            "DELETE FROM oauth_states WHERE expires_at < $1",
            now()
        ))
        .await
    }

    /// Looks at a state without consuming it.
    pub async fn pending_oauth_state(&self, state: &str) -> Result<PendingFlow, GmailError> {
        let row = sql!(
            concat!("SELECT ", columns!(), " FROM oauth_states WHERE state = $1"),
            state
        )
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(unknown)?;
        let flow = PendingFlow::from_row(&row)?;
        if flow.expires_at < now() {
            return Err(expired());
        }
        Ok(PendingFlow {
            code_verifier: self.open_verifier(state, &row)?,
            ..flow
        })
    }

    /// The code verifier of a state's row, which is sealed under the state.
    fn open_verifier(&self, state: &str, row: &AnyRow) -> Result<SecretString, GmailError> {
        let sealed: String = row.try_get("code_verifier")?;
        self.keys.open(&format!("state:{state}"), &sealed)
    }

    /// Binds a state to the browser opening its start link: answers the cookie value that
    /// browser must present on the callback. Only the first browser gets one.
    pub async fn bind_oauth_state(&self, state: &str) -> Result<SecretString, GmailError> {
        self.pending_oauth_state(state).await?;
        let token = random_token(32);
        let bound = self
            .changed_one(sql!(
                "UPDATE oauth_states SET browser_hash = $1 WHERE state = $2 AND \
                 browser_hash IS NULL",
                sha256_hex(&token),
                state
            ))
            .await?;
        if !bound {
            return Err(GmailError::invalid(
                "state",
                "this connection link was already opened in another browser; ask your agent for a new one",
            ));
        }
        Ok(SecretString::from(token))
    }

    /// Takes a state for its code exchange (or to end it after a refusal at Google): it works
    /// once, and only for the party it is bound to. Anyone else gets an error and the state
    /// stays usable for its owner.
    pub async fn take_oauth_state(
        &self,
        state: &str,
        binding: FlowBinding<'_>,
    ) -> Result<OAuthState, GmailError> {
        // The binding is checked in the DELETE itself: nobody else can consume the state.
        let (query, value) = match binding {
            FlowBinding::Browser(token) => (
                concat!(
                    "DELETE FROM oauth_states WHERE state = $1 AND browser_hash = $2 RETURNING ",
                    columns!()
                ),
                sha256_hex(token),
            ),
            FlowBinding::Owner(user_id) => (
                concat!(
                    "DELETE FROM oauth_states WHERE state = $1 AND user_id = $2 RETURNING ",
                    columns!()
                ),
                user_id.to_string(),
            ),
        };
        let row = sql!(query, state, &value)
            .fetch_optional(&self.pool)
            .await?;
        let Some(r) = row else {
            // Say why, without consuming: unknown, expired, or someone else's.
            let pending = self.pending_oauth_state(state).await?;
            return Err(match binding {
                FlowBinding::Browser(_) if !pending.browser_bound => GmailError::invalid(
                    "state",
                    "this authorization was not started in this browser; open the connection link your agent gave you",
                ),
                FlowBinding::Browser(_) => GmailError::invalid(
                    "state",
                    "this authorization was started in another browser; open the connection link in the browser that started it, or ask for a new one",
                ),
                FlowBinding::Owner(_) => GmailError::invalid(
                    "state",
                    "this authorization was started by another user",
                ),
            });
        };
        // A taken state keeps no expiry: checked here, from its row.
        let expires_at: i64 = r.try_get("expires_at")?;
        if expires_at < now() {
            return Err(expired());
        }
        Ok(OAuthState {
            code_verifier: self.open_verifier(state, &r)?,
            ..OAuthState::from_row(&r)?
        })
    }
}
