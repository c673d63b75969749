//! Many users: API keys, their connected accounts and the OAuth flows that connect them.

use secrecy::SecretString;
use serde::Deserialize;

use super::string_or_list;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiUserSettings {
    /// Callers authenticate with API keys and act on their own connected accounts.
    pub enabled: bool,
    /// `sqlite://path` (default) or `postgres://...`; secret, as it may hold a password.
    pub database_url: SecretString,
    /// 32 bytes, base64: seals tokens at rest.
    pub encryption_key: Option<SecretString>,
    /// Older keys, comma-separated, still accepted for reading (key rotation).
    pub old_encryption_keys: Option<SecretString>,
    /// Where Google sends users back after consent (the REST server's /oauth/callback).
    pub oauth_redirect_url: String,
    /// Optional page to send users to after a successful connection.
    pub success_redirect_url: Option<String>,
    /// Origins (`https://app.example.com`) a `returnTo` URL may point at, besides paths on
    /// the REST server itself.
    #[serde(deserialize_with = "string_or_list")]
    pub allowed_return_origins: Vec<String>,
    /// How long an authorization may take.
    pub oauth_state_ttl_secs: i64,
    /// The MCP server's public base URL: shown in the Claude Code connection line, and the
    /// resource its OAuth tokens are bound to.
    pub public_mcp_url: String,
    /// The REST server's public base URL: the OAuth issuer remote MCP clients are sent to.
    pub public_api_url: String,
    /// Fetch Client ID Metadata Documents from http and private addresses too (tests and
    /// private networks; otherwise https on public addresses only, against SSRF).
    pub allow_private_client_metadata: bool,
    /// Users (by the email their account was made with) who may use the admin endpoints.
    #[serde(deserialize_with = "string_or_list")]
    pub admins: Vec<String>,
    /// Days an API key made by a member or an admin works; 0: keys never expire.
    pub key_ttl_days: u32,
    /// Hours audit entries are kept in the database; 0: forever. At least 24, the window
    /// the daily send cap counts from the log.
    pub audit_retention_hours: u64,
    /// Email domains whose people may sign up with "Sign in with Google"; empty: anyone.
    #[serde(deserialize_with = "string_or_list")]
    pub allowed_domains: Vec<String>,
}
