//! Layered configuration: built-in defaults, then a TOML file, then `GMAIL_*` environment
//! variables, then command-line flags (applied by the binaries).

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;

mod gmail;
mod servers;
mod users;

pub use gmail::{Backend, EventSettings, GmailSettings, SendSettings, ToolSettings};
use servers::string_or_list;
pub use servers::{
    LimitSettings, LogFormat, LogSettings, McpSettings, MetricsSettings, ServerSettings,
};
pub use users::MultiUserSettings;

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

/// Every key and its default; README.md documents the same table.
pub const DEFAULT_SETTINGS: &str = include_str!("defaults.toml");

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
        // Push without its token would refuse every push (and fall back to a 5-minute poll
        // with no error); an empty token would take pushes from anyone.
        if !self.events.pubsub_topic.is_empty() {
            let token = self.events.pubsub_token.as_ref();
            if token.is_none_or(|t| secrecy::ExposeSecret::expose_secret(t).trim().len() < 16) {
                return Err(ConfigError(
                    "events.pubsub_token (GMAIL_PUBSUB_TOKEN): with events.pubsub_topic set, a token of at least 16 characters is required; the push subscription's URL carries it as ?token=".into(),
                ));
            }
        }
        // A shorter retention would purge sends the cap still counts, letting more through.
        let audit_hours = self.multi_user.audit_retention_hours;
        let cap_hours = crate::ops::audit::DAY as u64 / 3600;
        if audit_hours != 0 && audit_hours < cap_hours {
            return Err(ConfigError(format!(
                "multi_user.audit_retention_hours: {audit_hours} is shorter than the {cap_hours} hours the daily send cap counts from the audit log; use at least {cap_hours}, or 0 to keep entries forever"
            )));
        }
        // Sign-in flows and consent requests live this long: none at all, or past a day
        // (and past what `now + ttl` can hold), is a typo.
        let ttl = self.multi_user.oauth_state_ttl_secs;
        if !(60..=86_400).contains(&ttl) {
            return Err(ConfigError(format!(
                "multi_user.oauth_state_ttl_secs: {ttl} is not between 60 and 86400 seconds"
            )));
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
        let (_dir, file) =
            config_file("[mcp]\nport = 9101\n[api]\nport = 9100\n[log]\nlevel = \"debug\"\n");
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
    fn debug_output_keeps_the_database_password_out() {
        let e = env(&[("GMAIL_DATABASE_URL", "postgres://app:hunter2@db/mail")]);
        let s = Settings::load_from(&Overrides::default(), &e).unwrap();
        assert_eq!(
            secrecy::ExposeSecret::expose_secret(&s.multi_user.database_url),
            "postgres://app:hunter2@db/mail"
        );
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn gmail_config_names_the_file() {
        let (_dir, file) = config_file("[gmail]\nbackend = \"sandbox\"\n");
        let e = env(&[("GMAIL_CONFIG", file.to_str().unwrap())]);
        let s = Settings::load_from(&Overrides::default(), &e).unwrap();
        assert_eq!(s.gmail.backend, Backend::Sandbox);
    }

    /// A config file holding `text`, in a folder that lives as long as the first value.
    fn config_file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, text).unwrap();
        (dir, file)
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
        let (_dir, file) = config_file("[mcp]\nprot = 1\n");
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
    fn attachment_dirs_come_from_comma_separated_text_too() {
        let e = env(&[("GMAIL_TOOLS__ATTACHMENT_DIRS", "/srv/a, /srv/b")]);
        let s = Settings::load_from(&Overrides::default(), &e).unwrap();
        assert_eq!(
            s.tools.attachment_dirs,
            [std::path::PathBuf::from("/srv/a"), "/srv/b".into()]
        );
    }

    #[test]
    fn push_needs_its_token() {
        let topic = ("GMAIL_PUBSUB_TOPIC", "projects/p/topics/gmail");
        assert!(error_for(&[topic]).contains("events.pubsub_token"));
        assert!(error_for(&[topic, ("GMAIL_PUBSUB_TOKEN", "")]).contains("events.pubsub_token"));
        let e = env(&[topic, ("GMAIL_PUBSUB_TOKEN", "a-long-enough-token")]);
        assert!(Settings::load_from(&Overrides::default(), &e).is_ok());
    }

    #[test]
    fn audit_retention_covers_the_send_cap_window() {
        let s = Settings::load_from(&Overrides::default(), &env(&[])).unwrap();
        assert_eq!(s.multi_user.audit_retention_hours, 90 * 24);
        let key = "GMAIL_MULTI_USER__AUDIT_RETENTION_HOURS";
        let msg = error_for(&[(key, "23")]);
        assert!(
            msg.contains("multi_user.audit_retention_hours") && msg.contains("24 hours"),
            "{msg}"
        );
        for fine in ["24", "0"] {
            let s = Settings::load_from(&Overrides::default(), &env(&[(key, fine)])).unwrap();
            assert_eq!(s.multi_user.audit_retention_hours.to_string(), fine);
        }
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let s = Settings::load_from(&Overrides::default(), &env(&[])).unwrap();
        assert_eq!(
            secrecy::ExposeSecret::expose_secret(&s.gmail.sandbox_client_secret),
            "sandbox-client-secret"
        );
        assert!(!format!("{s:?}").contains("sandbox-client-secret"));
    }
}
