//! The members of a multi-user deployment and what they may do with API keys and users. A
//! member manages their own keys; admins (named by email in `multi_user.admins`) also list
//! every user, disable and enable users, and revoke any key. The REST endpoints under
//! `/api/v1/me` and `/api/v1/admin` and the admin CLI all go through here.

use schemars::JsonSchema;
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::config::Settings;
use crate::error::GmailError;
use crate::store::{ApiKeyInfo, Store, User, UserSummary};

const DAY_SECS: i64 = 86_400;

/// Who the caller is, and whether the admin endpoints are theirs.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Me {
    #[serde(flatten)]
    pub user: User,
    pub admin: bool,
}

/// A key just made: the only time its secret is shown.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewKey {
    /// The key itself (`gms_...`); shown once, stored only as a hash.
    pub key: String,
    #[serde(flatten)]
    pub info: ApiKeyInfo,
    /// The line that connects Claude Code with this key.
    pub claude_command: String,
}

/// The line that connects Claude Code to this deployment's MCP server with `key`.
pub fn claude_command(public_mcp_url: &str, key: &str) -> String {
    format!(
        "claude mcp add --transport sse gmail {}/sse --header \"Authorization: Bearer {key}\"",
        public_mcp_url.trim_end_matches('/')
    )
}

#[derive(Debug, Clone)]
pub struct Members {
    store: Store,
    /// Lower-cased emails.
    admins: Vec<String>,
    key_ttl_days: u32,
    public_mcp_url: String,
}

impl Members {
    pub fn new(settings: &Settings, store: Store) -> Members {
        let mu = &settings.multi_user;
        Members {
            store,
            admins: mu.admins.iter().map(|a| a.trim().to_lowercase()).collect(),
            key_ttl_days: mu.key_ttl_days,
            public_mcp_url: mu.public_mcp_url.clone(),
        }
    }

    fn is_admin(&self, user: &User) -> bool {
        user.email
            .as_deref()
            .is_some_and(|e| self.admins.contains(&e.trim().to_lowercase()))
    }

    async fn user(&self, user_id: &str) -> Result<User, GmailError> {
        self.store
            .user(user_id)
            .await?
            .ok_or_else(|| GmailError::not_found(format!("user {user_id}")))
    }

    pub async fn me(&self, user_id: &str) -> Result<Me, GmailError> {
        let user = self.user(user_id).await?;
        let admin = self.is_admin(&user);
        Ok(Me { user, admin })
    }

    /// The acting user, when they are an admin; 403 for everyone else.
    async fn admin(&self, user_id: &str) -> Result<User, GmailError> {
        let user = self.user(user_id).await?;
        if self.is_admin(&user) {
            Ok(user)
        } else {
            Err(GmailError::Forbidden {
                message: "only the admins named in multi_user.admins may do this".into(),
            })
        }
    }

    /// A new key for `user_id`, expiring after `multi_user.key_ttl_days`. Made with a key
    /// (`from_key`), it carries that key's rules: a narrowed key never makes a wider one.
    pub async fn create_key(
        &self,
        user_id: &str,
        name: &str,
        from_key: Option<&str>,
    ) -> Result<NewKey, GmailError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(GmailError::invalid(
                "name",
                "must be 1 to 100 printable characters",
            ));
        }
        let rules = match from_key {
            Some(id) => self.store.api_key(id).await?.and_then(|k| k.rules),
            None => None,
        };
        let expires_at = (self.key_ttl_days > 0)
            .then(|| chrono::Utc::now().timestamp() + i64::from(self.key_ttl_days) * DAY_SECS);
        let (info, key) = self
            .store
            .create_api_key_with(user_id, name, expires_at, rules.as_ref())
            .await?;
        let key = key.expose_secret().to_string();
        Ok(NewKey {
            claude_command: claude_command(&self.public_mcp_url, &key),
            key,
            info,
        })
    }

    pub async fn keys(&self, user_id: &str) -> Result<Vec<ApiKeyInfo>, GmailError> {
        self.store.list_api_keys(user_id).await
    }

    /// Revokes one of the caller's own keys; another user's key is "not found", as one that
    /// does not exist.
    pub async fn revoke_own_key(&self, user_id: &str, key_id: &str) -> Result<(), GmailError> {
        if self.store.revoke_api_key_of(Some(user_id), key_id).await? {
            Ok(())
        } else {
            Err(GmailError::not_found(format!("live API key {key_id}")))
        }
    }

    pub async fn users(&self, admin_id: &str) -> Result<Vec<UserSummary>, GmailError> {
        self.admin(admin_id).await?;
        self.store.list_users().await
    }

    pub async fn user_keys(
        &self,
        admin_id: &str,
        user_id: &str,
    ) -> Result<Vec<ApiKeyInfo>, GmailError> {
        self.admin(admin_id).await?;
        self.user(user_id).await?;
        self.store.list_api_keys(user_id).await
    }

    /// Disables (or enables) a user: every key of theirs stops at once, and the servers
    /// close their open sessions. An admin cannot disable themselves.
    pub async fn set_disabled(
        &self,
        admin_id: &str,
        user_id: &str,
        disabled: bool,
    ) -> Result<(), GmailError> {
        self.admin(admin_id).await?;
        if disabled && admin_id == user_id {
            return Err(GmailError::Conflict {
                message: "an admin cannot disable themselves".into(),
            });
        }
        if self.store.set_user_disabled(user_id, disabled).await? {
            Ok(())
        } else {
            Err(GmailError::not_found(format!("user {user_id}")))
        }
    }

    pub async fn revoke_any_key(&self, admin_id: &str, key_id: &str) -> Result<(), GmailError> {
        self.admin(admin_id).await?;
        if self.store.revoke_api_key(key_id).await? {
            Ok(())
        } else {
            Err(GmailError::not_found(format!("live API key {key_id}")))
        }
    }
}
