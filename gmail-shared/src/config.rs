//! Layered configuration: built-in defaults, then a TOML file, then `GMAIL_*` environment
//! variables, then command-line flags (applied by the binaries).

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use secrecy::SecretString;
use serde::Deserialize;

/// Where the repository's default configuration file lives, relative to the working directory.
pub const DEFAULT_CONFIG_FILE: &str = "config/gmail.toml";

/// Flat environment variables kept for compatibility with the original design and with the
/// Node Gmail MCP server, mapped onto nested keys.
const ENV_ALIASES: &[(&str, &str)] = &[
    ("GMAIL_MCP_HOST", "mcp.host"),
    ("GMAIL_MCP_PORT", "mcp.port"),
    ("GMAIL_API_HOST", "api.host"),
    ("GMAIL_API_PORT", "api.port"),
    ("GMAIL_LOG_LEVEL", "log.level"),
    ("GMAIL_LOG_FORMAT", "log.format"),
    ("GMAIL_BACKEND", "gmail.backend"),
    ("GMAIL_SANDBOX_URL", "gmail.sandbox_url"),
    ("GMAIL_OAUTH_PATH", "gmail.oauth_keys_path"),
    ("GMAIL_CREDENTIALS_PATH", "gmail.credentials_path"),
    ("GMAIL_MULTI_USER", "multi_user.enabled"),
    ("GMAIL_DATABASE_URL", "multi_user.database_url"),
    ("GMAIL_ENCRYPTION_KEY", "multi_user.encryption_key"),
    ("GMAIL_ADMINS", "multi_user.admins"),
    ("GMAIL_METRICS_LISTEN", "metrics.listen"),
    ("GMAIL_EVENTS_POLL_SECS", "events.poll_interval_secs"),
    ("GMAIL_PUBSUB_TOPIC", "events.pubsub_topic"),
    ("GMAIL_PUBSUB_TOKEN", "events.pubsub_token"),
    (
        "GMAIL_ALLOW_PRIVATE_WEBHOOKS",
        "events.allow_private_webhooks",
    ),
    ("GMAIL_TOOLSETS", "mcp.toolsets"),
    ("GMAIL_TOOLS", "mcp.tools"),
    ("GMAIL_EXCLUDE_TOOLS", "mcp.exclude_tools"),
    ("GMAIL_READ_ONLY", "mcp.read_only"),
    ("GMAIL_ALLOWED_RECIPIENTS", "send.allowed_recipients"),
    ("GMAIL_DRAFTS_ONLY", "send.drafts_only"),
    ("GMAIL_MAX_SENDS_PER_DAY", "send.max_per_day"),
    (
        "GMAIL_ALLOW_FORWARDING_FILTERS",
        "send.allow_forwarding_filters",
    ),
    (
        "GMAIL_ENCRYPTION_OLD_KEYS",
        "multi_user.old_encryption_keys",
    ),
];

/// Environment variables with the prefix that are not configuration keys.
const ENV_NOT_KEYS: &[&str] = &["GMAIL_CONFIG"];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub mcp: McpSettings,
    pub api: ServerSettings,
    pub limits: LimitSettings,
    pub send: SendSettings,
    pub log: LogSettings,
    pub gmail: GmailSettings,
    pub tools: ToolSettings,
    pub multi_user: MultiUserSettings,
    pub metrics: MetricsSettings,
    pub events: EventSettings,
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// `host:port` of this process's own `GET /metrics` listener (Prometheus text); empty,
    /// the default: no metrics. Never the public port. Set it per program (each server needs
    /// its own port), e.g. `GMAIL_METRICS_LISTEN=127.0.0.1:9464`.
    pub listen: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiUserSettings {
    /// Callers authenticate with API keys and act on their own connected accounts.
    pub enabled: bool,
    /// `sqlite://path` (default) or `postgres://...`.
    pub database_url: String,
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
    /// Email domains whose people may sign up with "Sign in with Google"; empty: anyone.
    #[serde(deserialize_with = "string_or_list")]
    pub allowed_domains: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolSettings {
    /// Directories whose files may be attached to outgoing mail (symlinks out of them are
    /// refused). Empty: no file attachments, only inline content.
    pub attachment_dirs: Vec<PathBuf>,
    /// Where download_attachment saves files; `savePath` must stay inside it.
    pub download_dir: PathBuf,
}

/// The REST server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// Seconds to wait for open connections (streams included) on SIGTERM.
    pub shutdown_timeout_secs: u64,
    /// `Host` values accepted (DNS-rebinding guard); as `mcp.allowed_hosts`.
    #[serde(deserialize_with = "string_or_list")]
    pub allowed_hosts: Vec<String>,
    /// `Origin` values accepted from browsers; as `mcp.allowed_origins`.
    #[serde(deserialize_with = "string_or_list")]
    pub allowed_origins: Vec<String>,
    /// Origins that get CORS headers (`scheme://host:port`); empty, the default, sends none,
    /// so no other web page can read a response.
    #[serde(deserialize_with = "string_or_list")]
    pub cors_allowed_origins: Vec<String>,
}

impl ServerSettings {
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The browser guard's policy for the REST server (it takes file uploads).
    pub fn host_policy(&self) -> crate::server::guard::HostPolicy {
        crate::server::guard::HostPolicy::new(&self.allowed_hosts, &self.allowed_origins)
            .section("api")
            .with_multipart()
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

/// What one request may make a server hold (both servers).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    /// Largest request body, on every transport: Gmail's 25 MB message limit in base64
    /// (33.3 MiB) plus the JSON around it.
    pub max_body_bytes: u64,
    /// A request body must arrive within this many seconds.
    pub body_timeout_secs: u64,
    /// Request bodies of all requests together may hold this much memory; beyond it new
    /// bodies wait, then get 503.
    pub body_memory_bytes: u64,
    /// Requests (REST) and tool calls (MCP) per minute for one caller (API key; the one local
    /// caller in single-user mode), with bursts of `caller_burst`; 0: no limit.
    pub caller_per_minute: u32,
    pub caller_burst: u32,
    /// Failed authentications per minute from one address, with bursts of
    /// `failed_auth_burst`; past it, 429 instead of 401. 0: no limit.
    pub failed_auth_per_minute: u32,
    pub failed_auth_burst: u32,
}

/// The MCP server: where it listens, plus its transports' and sessions' knobs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpSettings {
    pub host: String,
    pub port: u16,
    /// Seconds to wait for open connections (streams included) on SIGTERM.
    pub shutdown_timeout_secs: u64,
    /// `Host` values accepted on the MCP endpoints (`name` or `name:port`; `*` accepts any).
    /// Guards against DNS rebinding; loopback names by default.
    #[serde(deserialize_with = "string_or_list")]
    pub allowed_hosts: Vec<String>,
    /// `Origin` values accepted on the MCP endpoints: a bare host (any scheme and port),
    /// `scheme://host` (any port) or `scheme://host:port`; `*` accepts any. Requests without
    /// an `Origin` header are accepted.
    #[serde(deserialize_with = "string_or_list")]
    pub allowed_origins: Vec<String>,
    /// Close a session after this many seconds without a client message.
    pub session_idle_timeout_secs: u64,
    /// Seconds between `: ping` comments on legacy SSE streams.
    pub sse_ping_interval_secs: u64,
    /// Open sessions (all transports) at most; more get 503. Also kept below the open-files
    /// limit, so `/health` keeps answering.
    pub max_sessions: usize,
    /// Open sessions per user (multi-user mode) at most; more get 429.
    pub max_sessions_per_caller: usize,
    /// A session whose client has not finished initializing within this many seconds is
    /// closed.
    pub session_init_timeout_secs: u64,
    /// Toolsets on (`read`, `compose`, `organize`, `delete`, `labels`, `filters`, `settings`,
    /// `history`, `connections`, `default`, `all`); empty means `default`. REST's `/tools`
    /// follows the same policy.
    #[serde(deserialize_with = "string_or_list")]
    pub toolsets: Vec<String>,
    /// Single tools on besides the toolsets.
    #[serde(deserialize_with = "string_or_list")]
    pub tools: Vec<String>,
    /// Tools off whatever else says.
    #[serde(deserialize_with = "string_or_list")]
    pub exclude_tools: Vec<String>,
    /// Only tools that change nothing (readOnlyHint); `auth` asks for read-only scopes.
    pub read_only: bool,
}

impl McpSettings {
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The browser guard's policy for the MCP endpoints (JSON bodies only).
    pub fn host_policy(&self) -> crate::server::guard::HostPolicy {
        crate::server::guard::HostPolicy::new(&self.allowed_hosts, &self.allowed_origins)
            .section("mcp")
    }
}

/// Lists come from TOML as arrays and from the environment or flags as comma-separated text.
fn string_or_list<'de, D>(deserializer: D) -> Result<Vec<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(text) => text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        OneOrMany::Many(list) => list,
    })
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// A tracing filter: `info`, `debug`, `gmail_shared=debug,info`, ...
    pub level: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// JSON when standard output is not a terminal, pretty otherwise.
    Auto,
    Json,
    Pretty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Google when credentials files exist, the sandbox otherwise.
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
    /// Upper bound on any one Gmail HTTP request.
    pub request_timeout_secs: u64,
    /// Transient Gmail failures (429, 5xx, dropped connections) are retried with backoff for
    /// at most this long in all per call.
    pub retry_max_wait_secs: u64,
    /// Gmail's per-user quota, budgeted before Google refuses: units per minute per mailbox
    /// (Google allows 15,000) and the largest burst; 0: no budget.
    pub quota_units_per_minute: u32,
    pub quota_burst_units: u32,
}

/// A configuration problem, phrased for a one-line exit message.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

/// Overrides from the command line, applied above every other layer.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub values: Vec<(String, String)>,
}

impl Settings {
    /// Loads settings from the defaults, the configuration file, and the process environment.
    pub fn load(overrides: &Overrides) -> Result<Settings, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        Self::load_from(overrides, &env)
    }

    /// Loads settings with an explicit environment (tests use this).
    pub fn load_from(
        overrides: &Overrides,
        env: &HashMap<String, String>,
    ) -> Result<Settings, ConfigError> {
        let home = env
            .get("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        let mut builder = Config::builder()
            .add_source(File::from_str(DEFAULT_SETTINGS, FileFormat::Toml))
            .set_default(
                "gmail.oauth_keys_path",
                home.join(".gmail-mcp/gcp-oauth.keys.json")
                    .display()
                    .to_string(),
            )
            .and_then(|b| {
                b.set_default(
                    "gmail.credentials_path",
                    home.join(".gmail-mcp/credentials.json")
                        .display()
                        .to_string(),
                )
            })
            .map_err(|e| ConfigError(e.to_string()))?;

        // An explicitly named file must exist; the repository default is optional.
        let explicit = overrides
            .config_file
            .clone()
            .or_else(|| env.get("GMAIL_CONFIG").map(PathBuf::from));
        match explicit {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    ConfigError(format!("cannot read config file {}: {e}", path.display()))
                })?;
                builder = builder.add_source(File::from_str(&text, FileFormat::Toml));
            }
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                builder = builder.add_source(File::new(DEFAULT_CONFIG_FILE, FileFormat::Toml));
            }
            None => {}
        }

        let mut nested = HashMap::new();
        for (key, value) in env {
            if !key.starts_with("GMAIL_") || ENV_NOT_KEYS.contains(&key.as_str()) {
                continue;
            }
            if let Some((_, path)) = ENV_ALIASES.iter().find(|(alias, _)| alias == key) {
                builder = builder
                    .set_override(*path, value.as_str())
                    .map_err(|e| ConfigError(e.to_string()))?;
            } else if key.contains("__") {
                nested.insert(key.clone(), value.clone());
            }
        }
        builder = builder.add_source(
            Environment::with_prefix("GMAIL")
                .prefix_separator("_")
                .separator("__")
                .source(Some(nested)),
        );
        for (key, value) in &overrides.values {
            builder = builder
                .set_override(key.as_str(), value.as_str())
                .map_err(|e| ConfigError(e.to_string()))?;
        }

        let settings: Settings = builder
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| ConfigError(explain(e.to_string())))?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks settings as loaded, or as changed since (servers check again when they build).
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, host) in [("mcp", &self.mcp.host), ("api", &self.api.host)] {
            if host.parse::<IpAddr>().is_err() && !is_hostname(host) {
                return Err(ConfigError(format!(
                    "{name}.host: {host:?} is not an IP address or host name"
                )));
            }
        }
        for (key, hosts) in [
            ("mcp.allowed_hosts", &self.mcp.allowed_hosts),
            ("api.allowed_hosts", &self.api.allowed_hosts),
        ] {
            if hosts.is_empty() {
                // An empty list would silently turn DNS-rebinding protection off; `*` says so.
                return Err(ConfigError(format!(
                    "{key}: must not be empty (use \"*\" to accept any Host)"
                )));
            }
        }
        for origin in &self.api.cors_allowed_origins {
            if origin == "*" || !(origin.starts_with("http://") || origin.starts_with("https://")) {
                return Err(ConfigError(format!(
                    "api.cors_allowed_origins: {origin:?} must be an origin such as https://app.example.com"
                )));
            }
        }
        if self.limits.max_body_bytes < 1024
            || self.limits.body_memory_bytes < self.limits.max_body_bytes
        {
            return Err(ConfigError(
                "limits: max_body_bytes must be at least 1024 and body_memory_bytes at least max_body_bytes".into(),
            ));
        }
        if self.mcp.max_sessions == 0 || self.mcp.max_sessions_per_caller == 0 {
            return Err(ConfigError(
                "mcp.max_sessions and mcp.max_sessions_per_caller must be at least 1".into(),
            ));
        }
        if self.mcp.sse_ping_interval_secs == 0 {
            return Err(ConfigError(
                "mcp.sse_ping_interval_secs: must be at least 1".into(),
            ));
        }
        for (key, url) in [
            ("gmail.api_url", &self.gmail.api_url),
            ("gmail.sandbox_url", &self.gmail.sandbox_url),
        ] {
            if !(url.starts_with("http://") || url.starts_with("https://")) || !url.ends_with('/') {
                return Err(ConfigError(format!(
                    "{key}: {url:?} must be an http(s) URL ending with '/'"
                )));
            }
        }
        tracing_subscriber::EnvFilter::try_new(&self.log.level)
            .map_err(|e| ConfigError(format!("log.level: {:?}: {e}", self.log.level)))?;
        Ok(())
    }
}

/// The config crate names the key but not the accepted values of an enum; add them.
fn explain(message: String) -> String {
    const CHOICES: &[(&str, &str)] = &[
        ("log.format", "auto, json, pretty"),
        ("gmail.backend", "auto, google, sandbox"),
    ];
    for (key, choices) in CHOICES {
        if message.contains("variant") && message.contains(&format!("`{key}`")) {
            return format!("{message} (expected one of: {choices})");
        }
    }
    message
}

fn is_hostname(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
        })
}

/// Every key and its default; README.md documents the same table.
pub const DEFAULT_SETTINGS: &str = r#"
[mcp]
host = "127.0.0.1"
port = 8001
shutdown_timeout_secs = 5
allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
allowed_origins = ["localhost", "127.0.0.1", "[::1]"]
session_idle_timeout_secs = 3600
sse_ping_interval_secs = 15
max_sessions = 4096
max_sessions_per_caller = 256
session_init_timeout_secs = 30
toolsets = []
tools = []
exclude_tools = []
read_only = false

[api]
host = "127.0.0.1"
port = 8000
shutdown_timeout_secs = 5
allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
allowed_origins = ["localhost", "127.0.0.1", "[::1]"]
cors_allowed_origins = []

[send]
max_recipients_per_message = 500
allowed_recipients = []
drafts_only = false
max_per_day = 0
allow_forwarding_filters = false

[metrics]
listen = ""

[events]
enabled = true
poll_interval_secs = 30
safety_poll_secs = 300
pubsub_topic = ""
allow_private_webhooks = false
webhook_retry_secs = 86400
webhook_backoff_max_secs = 600
max_webhooks_per_user = 20
max_streams_per_user = 10
wait_max_secs = 600
retention_hours = 168

[limits]
max_body_bytes = 37748736
body_timeout_secs = 30
body_memory_bytes = 104857600
caller_per_minute = 3000
caller_burst = 1000
failed_auth_per_minute = 60
failed_auth_burst = 30

[log]
level = "info"
format = "auto"

[gmail]
backend = "auto"
api_url = "https://gmail.googleapis.com/"
sandbox_url = "http://127.0.0.1:8002/"
sandbox_account = "demo@example.com"
sandbox_client_id = "sandbox-client-id.apps.googleusercontent.com"
sandbox_client_secret = "sandbox-client-secret"
refresh_margin_secs = 60
request_timeout_secs = 30
retry_max_wait_secs = 20
quota_units_per_minute = 15000
quota_burst_units = 250

[tools]
attachment_dirs = ["data/attachments"]
download_dir = "data/downloads"

[multi_user]
enabled = false
database_url = "sqlite://data/gmail-servers.db"
oauth_redirect_url = "http://127.0.0.1:8000/oauth/callback"
allowed_return_origins = []
oauth_state_ttl_secs = 600
public_mcp_url = "http://127.0.0.1:8001"
public_api_url = "http://127.0.0.1:8000"
allow_private_client_metadata = false
admins = []
key_ttl_days = 90
allowed_domains = []
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.entry("HOME".into())
            .or_insert_with(|| "/home/test".into());
        map
    }

    #[test]
    fn defaults_apply_without_file_or_environment() {
        let s = Settings::load_from(&Overrides::default(), &env(&[])).unwrap();
        assert_eq!(s.mcp.address(), "127.0.0.1:8001");
        assert_eq!(s.api.address(), "127.0.0.1:8000");
        assert_eq!(s.log.level, "info");
        assert_eq!(s.log.format, LogFormat::Auto);
        assert_eq!(s.gmail.backend, Backend::Auto);
        assert_eq!(
            s.gmail.credentials_path,
            PathBuf::from("/home/test/.gmail-mcp/credentials.json")
        );
    }

    #[test]
    fn file_then_environment_then_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "[mcp]\nport = 9101\n[api]\nport = 9100\n[log]\nlevel = \"debug\"\n",
        )
        .unwrap();
        let overrides = Overrides {
            config_file: Some(file.clone()),
            values: vec![],
        };
        let s = Settings::load_from(&overrides, &env(&[])).unwrap();
        assert_eq!((s.mcp.port, s.api.port), (9101, 9100));
        assert_eq!(s.log.level, "debug");

        // Environment beats the file: flat aliases and nested `__` keys.
        let e = env(&[("GMAIL_MCP_PORT", "9201"), ("GMAIL_API__PORT", "9200")]);
        let s = Settings::load_from(&overrides, &e).unwrap();
        assert_eq!((s.mcp.port, s.api.port), (9201, 9200));
        assert_eq!(s.log.level, "debug");

        // Flags beat the environment.
        let flags = Overrides {
            config_file: Some(file),
            values: vec![("mcp.port".into(), "9301".into())],
        };
        let s = Settings::load_from(&flags, &e).unwrap();
        assert_eq!(s.mcp.port, 9301);
    }

    #[test]
    fn gmail_config_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[gmail]\nbackend = \"sandbox\"\n").unwrap();
        let e = env(&[("GMAIL_CONFIG", file.to_str().unwrap())]);
        let s = Settings::load_from(&Overrides::default(), &e).unwrap();
        assert_eq!(s.gmail.backend, Backend::Sandbox);
    }

    fn error_for(pairs: &[(&str, &str)]) -> String {
        Settings::load_from(&Overrides::default(), &env(pairs))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_port_that_is_not_a_port_names_the_key() {
        let msg = error_for(&[("GMAIL_MCP_PORT", "eighty")]);
        assert!(msg.contains("mcp.port"), "{msg}");
        let msg = error_for(&[("GMAIL_API_PORT", "70000")]);
        assert!(msg.contains("api.port"), "{msg}");
    }

    #[test]
    fn an_unknown_enum_value_names_the_key_and_the_choices() {
        let msg = error_for(&[("GMAIL_LOG_FORMAT", "xml")]);
        assert!(msg.contains("log.format"), "{msg}");
        assert!(msg.contains("json"), "{msg}");
        let msg = error_for(&[("GMAIL_BACKEND", "outlook")]);
        assert!(
            msg.contains("gmail.backend") && msg.contains("sandbox"),
            "{msg}"
        );
    }

    #[test]
    fn an_unreadable_file_is_named() {
        let msg = error_for(&[("GMAIL_CONFIG", "/nonexistent/gmail.toml")]);
        assert!(msg.contains("/nonexistent/gmail.toml"), "{msg}");
    }

    #[test]
    fn an_unknown_key_in_a_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[mcp]\nprot = 1\n").unwrap();
        let msg = error_for(&[("GMAIL_CONFIG", file.to_str().unwrap())]);
        assert!(msg.contains("prot"), "{msg}");
    }

    #[test]
    fn bad_host_and_urls_are_refused() {
        assert!(error_for(&[("GMAIL_MCP_HOST", "not a host")]).contains("mcp.host"));
        assert!(error_for(&[("GMAIL_SANDBOX_URL", "ftp://x/")]).contains("gmail.sandbox_url"));
        assert!(error_for(&[("GMAIL_LOG_LEVEL", "info,[[")]).contains("log.level"));
    }

    #[test]
    fn mcp_lists_come_from_toml_arrays_or_comma_separated_text() {
        let s = Settings::load_from(&Overrides::default(), &env(&[])).unwrap();
        assert_eq!(s.mcp.allowed_hosts, ["localhost", "127.0.0.1", "[::1]"]);
        assert_eq!(s.mcp.session_idle_timeout_secs, 3600);
        assert_eq!(s.mcp.sse_ping_interval_secs, 15);
        let e = env(&[("GMAIL_MCP__ALLOWED_HOSTS", "mail.internal, localhost:8001")]);
        let s = Settings::load_from(&Overrides::default(), &e).unwrap();
        assert_eq!(s.mcp.allowed_hosts, ["mail.internal", "localhost:8001"]);
        assert!(error_for(&[("GMAIL_MCP__ALLOWED_HOSTS", " ")]).contains("mcp.allowed_hosts"));
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let s = Settings::load_from(&Overrides::default(), &env(&[])).unwrap();
        assert!(!format!("{s:?}").contains("sandbox-client-secret"));
    }
}
