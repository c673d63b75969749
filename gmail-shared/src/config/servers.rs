//! How the servers listen and what one caller may make them hold: the MCP and REST
//! endpoints, request limits, the metrics listener and logging.

use serde::Deserialize;

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

/// Lists come from TOML as arrays and from the environment or flags as comma-separated text.
pub(super) fn string_or_list<'de, D>(deserializer: D) -> Result<Vec<String>, D::Error>
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
