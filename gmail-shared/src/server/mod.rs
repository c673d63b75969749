//! What both server binaries share: command-line flags, loading settings, binding, the base
//! of `/health`, the browser guard and problem+json answers.

pub mod guard;
pub mod limits;
pub mod problem;
pub mod rate;

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use crate::config::{ConfigError, Overrides, Settings};

/// Flags common to both servers. They override every other configuration layer.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CommonArgs {
    /// TOML configuration file (default: config/gmail.toml when present; env GMAIL_CONFIG).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to bind.
    #[arg(long)]
    pub host: Option<String>,
    /// Port to bind (0 picks a free one and logs it).
    #[arg(long)]
    pub port: Option<String>,
    /// Log filter, e.g. `info` or `gmail_shared=debug,info`.
    #[arg(long, value_name = "FILTER")]
    pub log_level: Option<String>,
    /// Print the resolved configuration summary and exit.
    #[arg(long)]
    pub check: bool,
}

/// Which server's `host`/`port` the flags set.
#[derive(Debug, Clone, Copy)]
pub enum Role {
    Mcp,
    Api,
}

impl Role {
    fn section(self) -> &'static str {
        match self {
            Role::Mcp => "mcp",
            Role::Api => "api",
        }
    }
}

impl CommonArgs {
    pub fn load_settings(&self, role: Role) -> Result<Settings, ConfigError> {
        self.load_settings_with(role, Vec::new())
    }

    /// As [`CommonArgs::load_settings`], with more flag values (`key`, `value`) on top.
    pub fn load_settings_with(
        &self,
        role: Role,
        mut values: Vec<(String, String)>,
    ) -> Result<Settings, ConfigError> {
        let section = role.section();
        if let Some(host) = &self.host {
            values.push((format!("{section}.host"), host.clone()));
        }
        if let Some(port) = &self.port {
            values.push((format!("{section}.port"), port.clone()));
        }
        if let Some(level) = &self.log_level {
            values.push(("log.level".to_string(), level.clone()));
        }
        settle_working_dir();
        let settings = Settings::load(&Overrides {
            config_file: self.config.clone(),
            values,
        })?;
        check_settings(&settings)?;
        Ok(settings)
    }
}

/// Relative paths in the settings (`data/…`, `config/gmail.toml`) are under the working
/// directory. A server started in `/` (Claude Desktop starts stdio servers there) works in
/// `~/.gmail-mcp` instead, beside its credentials: it cannot, and should not, make `/data`.
fn settle_working_dir() {
    if !std::env::current_dir().is_ok_and(|d| d.parent().is_none()) {
        return;
    }
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        let dir = std::path::PathBuf::from(home).join(".gmail-mcp");
        if std::fs::create_dir_all(&dir).is_ok() {
            let _ = std::env::set_current_dir(&dir);
        }
    }
}

/// Settings as a server needs them: valid on their own ([`Settings::validate`]) and naming
/// only toolsets and tools the catalog has. Servers check again when they build, since
/// settings may have changed since they were loaded.
pub fn check_settings(settings: &Settings) -> Result<(), ConfigError> {
    settings.validate()?;
    let known = crate::tools::catalog::names();
    for (key, list) in [
        ("mcp.tools", &settings.mcp.tools),
        ("mcp.exclude_tools", &settings.mcp.exclude_tools),
    ] {
        let unknown: Vec<&str> = list
            .iter()
            .map(|t| t.trim())
            .filter(|t| !t.is_empty() && !known.contains(t))
            .collect();
        if !unknown.is_empty() {
            return Err(ConfigError(format!(
                "{key}: unknown tool {}",
                unknown.join(", ")
            )));
        }
    }
    crate::tools::ToolPolicy::from_settings(settings)
        .map(|_| ())
        .map_err(|e| ConfigError(format!("mcp.toolsets: {e}")))
}

/// What a server of `role` needs of the settings to start (not the admin commands, which
/// make the key, nor `auth`), checked before it starts so that one that cannot says so as
/// bad configuration (exit 2), not as a failed start the reviver retries soon: in
/// single-user mode its own host (when it `listens`; stdio does not), in multi-user mode a
/// usable encryption key.
pub fn check_start(settings: &Settings, role: Role, listens: bool) -> Result<(), ConfigError> {
    let host = match role {
        Role::Mcp => &settings.mcp.host,
        Role::Api => &settings.api.host,
    };
    if listens {
        crate::auth::check_bind(settings, host)
            .map_err(|e| ConfigError(format!("{}.host: {e}", role.section())))?;
    }
    if settings.multi_user.enabled {
        crate::store::Keyring::of(&settings.multi_user)
            .map_err(|e| ConfigError(format!("multi_user.encryption_key: {e}")))?;
    }
    Ok(())
}

/// A server's port, taken at the start: bound, so a port in use fails the start before any
/// background work begins, but not yet listening, so a balancer's connections are refused (and
/// go to another instance) until [`http_service`] is ready to answer them.
pub struct Port {
    socket: socket2::Socket,
    address: String,
}

/// Takes `host:port` (0 for any free port); a port in use is reported with the address.
pub fn bind(host: &str, port: u16) -> std::io::Result<Port> {
    use socket2::{Domain, Protocol, Socket, Type};
    let address = format!("{host}:{port}");
    let fail = |e: std::io::Error| {
        std::io::Error::new(e.kind(), format!("cannot listen on {address}: {e}"))
    };
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
        .map_err(fail)?
        .next()
        .ok_or_else(|| fail(std::io::Error::from(std::io::ErrorKind::AddrNotAvailable)))?;
    let socket =
        Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)).map_err(fail)?;
    // As std's TcpListener::bind: a restart may reuse a port whose old connections linger.
    socket.set_reuse_address(true).map_err(fail)?;
    socket.bind(&addr.into()).map_err(fail)?;
    Ok(Port { socket, address })
}

impl Port {
    /// Starts accepting connections.
    fn listen(self) -> std::io::Result<TcpListener> {
        let Port { socket, address } = self;
        socket.listen(1024).map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot listen on {address}: {e}"))
        })?;
        Ok(socket.into())
    }
}

/// The part of `/health` both servers answer.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    pub status: &'static str,
    pub service: &'static str,
    pub version: &'static str,
    pub uptime_secs: u64,
    /// `google` or `sandbox`.
    pub gmail_backend: String,
}

/// When the process started serving.
#[derive(Debug, Clone, Copy)]
pub struct Started(pub Instant);

impl Started {
    pub fn now() -> Self {
        Started(Instant::now())
    }

    pub fn health(&self, service: &'static str, version: &'static str, backend: String) -> Health {
        Health {
            status: "ok",
            service,
            version,
            uptime_secs: self.0.elapsed().as_secs(),
            gmail_backend: backend,
        }
    }
}

/// A bound, not yet running HTTP server and the port it got.
pub struct HttpService {
    pub port: u16,
    pub server: actix_web::dev::Server,
}

/// What bounds a server: its stop timeout, body limits, and connections per worker (kept
/// below the open-files limit so accepting never fails for want of a descriptor).
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// The program, as the HTTP metrics name it.
    pub service: &'static str,
    pub shutdown_timeout_secs: u64,
    pub limits: limits::BodyLimits,
    /// The open-files limit after raising it.
    pub fd_limit: u64,
}

impl HttpOptions {
    pub fn new(shutdown_timeout_secs: u64, settings: &crate::config::LimitSettings) -> Self {
        HttpOptions {
            service: "gmail",
            shutdown_timeout_secs,
            limits: limits::BodyLimits::new(settings),
            fd_limit: limits::raise_fd_limit(),
        }
    }

    /// Connections all workers together may hold open.
    pub fn max_connections(&self) -> usize {
        self.fd_limit.saturating_sub(limits::FD_RESERVE / 2).max(64) as usize
    }
}

/// How long an idle keep-alive connection is kept: longer than a proxy in front keeps its idle
/// connections to us (HAProxy reuses them for about 5 s, nginx's upstream keepalive_timeout
/// is 60 s), so the proxy always closes first. With actix's default of 5 s, a connection we
/// closed just as HAProxy reused it made HAProxy drop that client's request unanswered.
pub const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(75);

/// Builds the actix-web server both binaries run: correlation-id tracing, body limits,
/// problem+json for malformed requests and unknown paths, and a bounded graceful stop on
/// SIGTERM.
pub fn http_service<F>(
    port: Port,
    options: &HttpOptions,
    configure: F,
) -> std::io::Result<HttpService>
where
    F: Fn(&mut actix_web::web::ServiceConfig) + Send + Clone + 'static,
{
    use actix_web::middleware::from_fn;
    use actix_web::{web, App, HttpServer};
    use tracing_actix_web::TracingLogger;

    use crate::telemetry::{echo_request_id, CorrelatedRootSpan};

    let listener = port.listen()?;
    let port = listener.local_addr()?.port();
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let limits = web::Data::new(options.limits.clone());
    let max_body = options.limits.max_bytes;
    let service = options.service;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(limits.clone())
            .app_data(json_config(max_body))
            .app_data(query_config())
            .app_data(path_config())
            .configure(configure.clone())
            .default_service(web::to(unknown_path))
            .wrap(from_fn(limits::body_limits))
            .wrap(from_fn(move |req, next| record_request(service, req, next)))
            .wrap(from_fn(echo_request_id))
            .wrap(TracingLogger::<CorrelatedRootSpan>::new())
    })
    .workers(workers)
    .max_connections((options.max_connections() / workers).max(32))
    // Without it a response written in two pieces (head, then a streamed body) waits for the
    // client's delayed ACK: ~40 ms per request on a reused keep-alive connection.
    .tcp_nodelay(true)
    .keep_alive(KEEP_ALIVE)
    .listen(listener)?
    .shutdown_timeout(options.shutdown_timeout_secs)
    .run();
    Ok(HttpService { port, server })
}

impl HttpOptions {
    /// Names the program in the HTTP metrics.
    pub fn named(mut self, service: &'static str) -> Self {
        self.service = service;
        self
    }
}

/// Counts and times every answer by its route pattern (never the path itself, which holds
/// ids) and status. A stream counts when its head is sent.
async fn record_request(
    service: &'static str,
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    // Clients may send any method token: only the standard ones become label values.
    let method = match req.method().as_str() {
        m @ ("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS") => m.to_string(),
        _ => "other".to_string(),
    };
    let res = next.call(req).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    crate::metrics::http_request(
        service,
        route,
        method,
        res.status().as_u16(),
        started.elapsed(),
    );
    Ok(res)
}

async fn unknown_path(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    problem::Problem::not_found(format!("{} {} not found", req.method(), req.path())).response()
}

/// JSON bodies: the size limit every transport shares, and a parse error that names the field
/// it is about (serde says it in backticks).
pub fn json_config(max_bytes: usize) -> actix_web::web::JsonConfig {
    actix_web::web::JsonConfig::default()
        .limit(max_bytes)
        .error_handler(|err, _| {
            use actix_web::error::JsonPayloadError as E;
            let problem = match &err {
                E::OverflowKnownLength { length, limit } => crate::GmailError::TooLarge {
                    message: format!("the request body is {length} bytes"),
                    limit_bytes: *limit as u64,
                },
                E::Overflow { limit } => crate::GmailError::TooLarge {
                    message: "the request body is too large".into(),
                    limit_bytes: *limit as u64,
                },
                E::ContentType => crate::GmailError::invalid(
                    "body",
                    "expected a JSON body with Content-Type: application/json",
                ),
                E::Deserialize(e) => json_error(e),
                other => crate::GmailError::invalid("body", other.to_string()),
            };
            problem.into()
        })
}

/// A serde_json error (a body that is not JSON, or not the JSON expected) as a 400 naming the
/// field when serde did.
pub fn json_error(e: &serde_json::Error) -> crate::GmailError {
    let text = e.to_string();
    let field = crate::error::named_field(&text).unwrap_or("body");
    crate::GmailError::invalid(field, text.clone())
}

/// A request's JSON `value` as a `T`; a failure is a 400 naming the field by its JSON path
/// (see [`crate::error::from_json_value`]), or `body`.
pub fn from_json<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, crate::GmailError> {
    crate::error::from_json_value(value).map_err(|(field, message)| {
        crate::GmailError::invalid(field.unwrap_or_else(|| "body".into()), message)
    })
}

/// A JSON request body as a `T`: read under [`json_config`]'s size limit and content type,
/// then parsed with [`from_json`], so a bad field is named by its path.
pub struct JsonBody<T>(pub T);

impl<T> std::ops::Deref for JsonBody<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> JsonBody<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: serde::de::DeserializeOwned + 'static> actix_web::FromRequest for JsonBody<T> {
    type Error = actix_web::Error;
    type Future = futures::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(
        req: &actix_web::HttpRequest,
        payload: &mut actix_web::dev::Payload,
    ) -> Self::Future {
        let value = actix_web::web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = value.await?.into_inner();
            Ok(JsonBody(from_json(value)?))
        })
    }
}

fn query_config() -> actix_web::web::QueryConfig {
    actix_web::web::QueryConfig::default()
        .error_handler(|err, _| crate::GmailError::invalid("query", err.to_string()).into())
}

fn path_config() -> actix_web::web::PathConfig {
    actix_web::web::PathConfig::default().error_handler(|err, _| {
        // The id types say what is wrong themselves; actix's "Path deserialize error: " adds
        // nothing to that.
        let detail = match &err {
            actix_web::error::PathError::Deserialize(e) => e.to_string(),
            other => other.to_string(),
        };
        crate::GmailError::invalid("path", detail).into()
    })
}

/// How a server process ends: 0 once it stopped cleanly, else 1 with the error and its causes
/// on stderr, prefixed with the program's name.
pub fn exit_code(program: &str, outcome: anyhow::Result<()>) -> std::process::ExitCode {
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{program}: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The one-line summary `--check` prints.
pub fn summary(settings: &Settings, role: Role) -> String {
    let address = match role {
        Role::Mcp => settings.mcp.address(),
        Role::Api => settings.api.address(),
    };
    let backend = match crate::gmail::GmailFactory::new(&settings.gmail) {
        Ok(f) => format!("{} ({})", f.backend(), f.api_root()),
        Err(e) => format!("unavailable: {e}"),
    };
    format!(
        "listen={} log.level={} log.format={:?} gmail.backend={backend}",
        address, settings.log.level, settings.log.format
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_in_use_fails_at_bind_and_connections_wait_for_listen() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let in_use = taken.local_addr().unwrap().port();
        let err = bind("127.0.0.1", in_use).err().expect("the port is taken");
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse, "{err}");
        assert!(
            err.to_string()
                .starts_with(&format!("cannot listen on 127.0.0.1:{in_use}: ")),
            "{err}"
        );

        let port = bind("127.0.0.1", 0).unwrap();
        let addr = port.socket.local_addr().unwrap().as_socket().unwrap();
        // Bound, not listening: a connection is refused, not queued.
        let refused = std::net::TcpStream::connect(addr).unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
        let listener = port.listen().unwrap();
        std::net::TcpStream::connect(addr).unwrap();
        assert_eq!(listener.local_addr().unwrap(), addr);
    }
}
