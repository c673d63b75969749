//! Reaching Gmail and acting on it: the backend (Google or the sandbox), the rules for
//! sending, the files tools may read and write, and new mail as events.

use std::fmt;
use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

use super::string_or_list;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GmailSettings {
    pub backend: Backend,
    /// Gmail's API root (Google's by default). Must end with `/`.
    pub api_url: String,
    /// The sandbox's root URL, used when the backend is the sandbox. Must end with `/`.
    pub sandbox_url: String,
    /// The sandbox mailbox used in single-user sandbox mode.
    pub sandbox_account: String,
    /// The sandbox's built-in OAuth client.
    pub sandbox_client_id: String,
    pub sandbox_client_secret: SecretString,
    /// OAuth client file (`installed` or `web`), as the Node Gmail MCP server keeps it.
    pub oauth_keys_path: PathBuf,
    /// Authorized-user tokens, as the Node Gmail MCP server keeps them.
    pub credentials_path: PathBuf,
    /// Refresh an access token this many seconds before it expires.
    pub refresh_margin_secs: u64,
    /// Upper bound on any one Gmail HTTP request (plus a second per 256 KiB uploaded, or that
    /// a whole message may take to download); once the quota budget has its units, a whole
    /// call, retries included, ends within this plus `retry_max_wait_secs`.
    pub request_timeout_secs: u64,
    /// Transient Gmail failures (429, 5xx, dropped connections) are retried with backoff for
    /// at most this long in all per call.
    pub retry_max_wait_secs: u64,
    /// Gmail's per-user quota, budgeted before Google refuses: units per minute per mailbox
    /// (Google allows 15,000) and the largest burst; 0: no budget.
    pub quota_units_per_minute: u32,
    pub quota_burst_units: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Google when the Google OAuth client file exists, the sandbox otherwise.
    Auto,
    Google,
    Sandbox,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Auto => "auto",
            Backend::Google => "google",
            Backend::Sandbox => "sandbox",
        })
    }
}

/// Rules for sending mail, on every tool and endpoint that sends.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendSettings {
    /// To, Cc and Bcc of one message together, at most (Gmail's own limit by default).
    pub max_recipients_per_message: usize,
    /// When not empty, mail goes only to these addresses and `@domain`s (send, reply,
    /// forward, send_draft, and a filter's forwarding address).
    #[serde(deserialize_with = "string_or_list")]
    pub allowed_recipients: Vec<String>,
    /// Sending tools and endpoints save a draft instead.
    pub drafts_only: bool,
    /// Sends per mailbox in any 24 hours (0: no cap).
    pub max_per_day: u32,
    /// Filters that forward mail are refused unless this is on.
    pub allow_forwarding_filters: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolSettings {
    /// Directories whose files may be attached to outgoing mail (symlinks out of them are
    /// refused). Empty: no file attachments, only inline content.
    #[serde(deserialize_with = "paths_or_list")]
    pub attachment_dirs: Vec<PathBuf>,
    /// Where download_attachment saves files; `savePath` must stay inside it.
    pub download_dir: PathBuf,
}

/// New mail as events: the change feed, Gmail push, webhooks, the event stream, waiting.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSettings {
    /// Run the change feed and deliver webhooks in this process.
    pub enabled: bool,
    /// Seconds between polls of each mailbox's history when there is no Pub/Sub push.
    pub poll_interval_secs: u64,
    /// Seconds between safety-net polls when push is on (notifications can be late or lost).
    pub safety_poll_secs: u64,
    /// `projects/{project}/topics/{topic}`: mailboxes are watched (`users.watch`) and
    /// Gmail's Pub/Sub pushes reach `POST /hooks/gmail/pubsub`. Empty: polling only.
    pub pubsub_topic: String,
    /// The token a push must carry (`?token=` on the push endpoint URL).
    pub pubsub_token: Option<SecretString>,
    /// Let webhooks point at loopback, private and link-local addresses (tests, private
    /// networks); otherwise refused, against SSRF.
    pub allow_private_webhooks: bool,
    /// How long failing deliveries are retried before the webhook is disabled.
    pub webhook_retry_secs: u64,
    /// The longest pause between two attempts (they double from 1 s up to this).
    pub webhook_backoff_max_secs: u64,
    /// Webhooks one user may have.
    pub max_webhooks_per_user: u32,
    /// Event streams (`GET /api/v1/events`) one user may hold open at once.
    pub max_streams_per_user: u32,
    /// The longest `wait_for_email` may wait.
    pub wait_max_secs: u64,
    /// How long events are kept for streams to resume from.
    pub retention_hours: u64,
}

/// Paths from a TOML array or from comma-separated text (the environment).
fn paths_or_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<PathBuf>, D::Error> {
    Ok(super::servers::string_or_list(d)?
        .into_iter()
        .map(PathBuf::from)
        .collect())
}
