//! The members of a multi-user deployment and what they may do with API keys and users. A
//! member manages their own keys; admins (named by email in `multi_user.admins`) also list
//! every user, disable and enable users, and revoke any key. The REST endpoints under
//! `/api/v1/me` and `/api/v1/admin` and the admin CLI all go through here.

use schemars::JsonSchema;
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::config::Settings;
use crate::error::GmailError;
use crate::secret::ShownOnce;
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
    pub key: ShownOnce,
    #[serde(flatten)]
    pub info: ApiKeyInfo,
    /// The line that connects Claude Code with this key.
    pub claude_command: ShownOnce,
}

/// A key's or device's name: 1 to 100 printable characters, trimmed.
fn check_name(name: &str) -> Result<&str, GmailError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(GmailError::invalid(
            "name",
            "must be 1 to 100 printable characters",
        ));
    }
    Ok(name)
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

/// How long a device may wait for its approval, and how often it should ask.
pub const DEVICE_TTL_SECS: i64 = 600;
pub const DEVICE_POLL_SECS: u64 = 2;
/// Device grants waiting at once, across all devices (anyone may start one).
const MAX_PENDING_DEVICES: i64 = 1000;
/// User codes avoid vowels (no words) and look-alike characters.
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

/// A device's request for a key (RFC 8628's device authorization response).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeviceStart {
    /// The device's secret: it polls with this.
    pub device_code: ShownOnce,
    /// What the user checks on both sides, `XXXX-XXXX`.
    pub user_code: String,
    /// The page where a signed-in user approves it.
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    /// Seconds between polls.
    pub interval: u64,
}

/// Where a device's request stands.
pub enum DevicePoll {
    Pending,
    Denied,
    /// Expired, unknown, or its key was already issued.
    Expired,
    Issued(Box<NewKey>),
}

fn user_code() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    let mut code: String = (0..8)
        .map(|_| USER_CODE_ALPHABET[rng.random_range(0..USER_CODE_ALPHABET.len())] as char)
        .collect();
    code.insert(4, '-');
    code
}

/// A user code as typed (any case, with or without the dash), in its stored form.
pub fn normalize_user_code(code: &str) -> String {
    let mut c: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if c.len() == 8 {
        c.insert(4, '-');
    }
    c
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

    /// The MCP server's public base URL (in the `claude mcp add` line).
    pub fn public_mcp_url(&self) -> &str {
        self.public_mcp_url.trim_end_matches('/')
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
        Ok(self.describe(self.user(user_id).await?))
    }

    /// A user already loaded, as [`Members::me`] answers.
    pub fn describe(&self, user: User) -> Me {
        let admin = self.is_admin(&user);
        Me { user, admin }
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
    /// (`from_key`), it carries that key's rules and expires no later than it: a narrowed key
    /// never makes a wider one, nor a leaked one a longer-lived one.
    pub async fn create_key(
        &self,
        user_id: &str,
        name: &str,
        from_key: Option<&str>,
    ) -> Result<NewKey, GmailError> {
        let name = check_name(name)?;
        let parent = match from_key {
            Some(id) => self.store.api_key(id).await?,
            None => None,
        };
        let ttl = (self.key_ttl_days > 0)
            .then(|| chrono::Utc::now().timestamp() + i64::from(self.key_ttl_days) * DAY_SECS);
        let expires_at = match (ttl, parent.as_ref().and_then(|k| k.expires_at)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let rules = parent.and_then(|k| k.rules);
        let (info, key) = self
            .store
            .create_api_key_with(user_id, name, expires_at, rules.as_ref())
            .await?;
        Ok(NewKey {
            claude_command: claude_command(&self.public_mcp_url, key.expose_secret()).into(),
            key: key.into(),
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

    /// A device asks for a key (the one-line setup); `site` is this server's base URL.
    pub async fn device_start(&self, name: &str, site: &str) -> Result<DeviceStart, GmailError> {
        let name = check_name(name)?;
        let mut secret = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut secret);
        let device_code = crate::store::cipher::hex(&secret);
        let user_code = user_code();
        self.store
            .create_device_grant(
                &device_code,
                &user_code,
                name,
                DEVICE_TTL_SECS,
                MAX_PENDING_DEVICES,
            )
            .await?;
        let site = site.trim_end_matches('/');
        Ok(DeviceStart {
            verification_uri: format!("{site}/device"),
            verification_uri_complete: format!("{site}/device?code={user_code}"),
            device_code: device_code.into(),
            user_code,
            expires_in: DEVICE_TTL_SECS,
            interval: DEVICE_POLL_SECS,
        })
    }

    /// The pending device request a user is looking at, by its user code.
    pub async fn device_request(
        &self,
        user_code: &str,
    ) -> Result<crate::store::DeviceGrant, GmailError> {
        self.store
            .device_grant_by_user_code(&normalize_user_code(user_code))
            .await?
            .filter(|g| g.approved_by.is_none() && !g.denied)
            .ok_or_else(|| {
                GmailError::not_found(format!(
                    "pending device request {user_code} (it may have expired: run the setup again)"
                ))
            })
    }

    /// A signed-in user approves (or denies) a device's request.
    pub async fn device_decide(
        &self,
        user_id: &str,
        user_code: &str,
        approve: bool,
    ) -> Result<(), GmailError> {
        let code = normalize_user_code(user_code);
        if self
            .store
            .decide_device_grant(&code, user_id, approve)
            .await?
        {
            // An approved flow finishes when the device gets its key (`device_poll`).
            if !approve {
                crate::metrics::oauth_flow("device", "denied");
            }
            Ok(())
        } else {
            Err(GmailError::not_found(format!(
                "pending device request {user_code}"
            )))
        }
    }

    /// A device polls: once approved, its key is made and answered, once.
    pub async fn device_poll(&self, device_code: &str) -> Result<DevicePoll, GmailError> {
        let Some(grant) = self.store.device_grant(device_code).await? else {
            return Ok(DevicePoll::Expired);
        };
        if grant.issued || grant.expires_at < chrono::Utc::now().timestamp() {
            return Ok(DevicePoll::Expired);
        }
        if grant.denied {
            return Ok(DevicePoll::Denied);
        }
        let Some(user_id) = grant.approved_by else {
            return Ok(DevicePoll::Pending);
        };
        if !self.store.issue_device_grant(device_code).await? {
            return Ok(DevicePoll::Expired);
        }
        // The grant is spent either way: a key refused here (the live-key cap) fails the flow.
        let key = self.create_key(&user_id, &grant.name, None).await;
        crate::metrics::oauth_flow("device", if key.is_ok() { "ok" } else { "failed" });
        Ok(DevicePoll::Issued(Box::new(key?)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_leaves_keys_and_device_codes_out() {
        let made = NewKey {
            key: "gms_secret".into(),
            info: ApiKeyInfo {
                id: "key_1".into(),
                user_id: "usr_1".into(),
                name: "laptop".into(),
                prefix: "gms_secre".into(),
                created_at: 0,
                last_used_at: None,
                expires_at: None,
                revoked: false,
                rules: None,
            },
            claude_command: claude_command("http://127.0.0.1:8001", "gms_secret").into(),
        };
        let start = DeviceStart {
            device_code: "device-secret".into(),
            user_code: "BCDF-GHJK".into(),
            verification_uri: "http://x/device".into(),
            verification_uri_complete: "http://x/device?code=BCDF-GHJK".into(),
            expires_in: 600,
            interval: 2,
        };
        let shown = format!("{made:?} {start:?}");
        assert!(
            shown.contains("laptop") && shown.contains("BCDF-GHJK"),
            "{shown}"
        );
        assert!(
            !shown.contains("gms_secret") && !shown.contains("device-secret"),
            "{shown}"
        );
    }
}
