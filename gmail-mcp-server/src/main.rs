use std::process::ExitCode;

use clap::Parser;
use gmail_mcp_server::Application;
use gmail_shared::admin::AdminCommand;
use gmail_shared::server::{check_start, exit_code, summary, CommonArgs, Role};
use gmail_shared::telemetry::{self, LogTarget};
use gmail_shared::Settings;

/// MCP server for Gmail (port 8001): legacy SSE, Streamable HTTP and stdio.
#[derive(Parser)]
#[command(name = "gmail-mcp-server", version, about)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    /// Serve one MCP session over stdin/stdout instead of HTTP (logs go to stderr).
    #[arg(long)]
    stdio: bool,
    /// Toolsets on: read, compose, organize, delete, labels, filters, settings, history,
    /// connections, default, all (comma-separated; env GMAIL_TOOLSETS).
    #[arg(long, value_name = "LIST")]
    toolsets: Option<String>,
    /// Single tools on besides the toolsets (comma-separated; env GMAIL_TOOLS).
    #[arg(long, value_name = "LIST")]
    tools: Option<String>,
    /// Tools off whatever else says (comma-separated; env GMAIL_EXCLUDE_TOOLS).
    #[arg(long, value_name = "LIST")]
    exclude_tools: Option<String>,
    /// Only tools that change nothing; `auth` asks for read-only access (env GMAIL_READ_ONLY).
    #[arg(long)]
    read_only: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Authorize your Gmail account (single-user mode): opens the consent page, then writes
    /// the credentials where the servers read them (~/.gmail-mcp/credentials.json).
    Auth {
        /// Print the URL instead of opening a browser.
        #[arg(long)]
        no_browser: bool,
    },
    /// Users, API keys and encryption keys (multi-user mode).
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut flags = Vec::new();
    for (key, value) in [
        ("mcp.toolsets", &cli.toolsets),
        ("mcp.tools", &cli.tools),
        ("mcp.exclude_tools", &cli.exclude_tools),
    ] {
        if let Some(v) = value {
            flags.push((key.to_string(), v.clone()));
        }
    }
    if cli.read_only {
        flags.push(("mcp.read_only".to_string(), "true".to_string()));
    }
    let settings = match cli.common.load_settings_with(Role::Mcp, flags) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("gmail-mcp-server: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Some(Command::Admin(command)) => {
            return gmail_shared::admin::main(&settings, command, "gmail-mcp-server").await;
        }
        Some(Command::Auth { no_browser }) => return auth(&settings, no_browser).await,
        None => {}
    }
    if let Err(e) = check_start(&settings, Role::Mcp, !cli.stdio) {
        eprintln!("gmail-mcp-server: {e}");
        return ExitCode::from(2);
    }
    if cli.common.check {
        println!("{}", summary(&settings, Role::Mcp));
        return ExitCode::SUCCESS;
    }
    if cli.stdio {
        // stdout belongs to JSON-RPC: nothing else may be written there.
        telemetry::init(&settings.log, LogTarget::Stderr);
        let served = gmail_mcp_server::transport::stdio::serve(settings).await;
        return exit_code("gmail-mcp-server", served);
    }
    telemetry::init(&settings.log, LogTarget::Stdout);
    let served = async {
        let app = Application::build(settings).await?;
        Ok(app.run_until_stopped().await?)
    };
    exit_code("gmail-mcp-server", served.await)
}

/// The installed-app loopback flow; the URL goes to stderr (stdout stays clean).
async fn auth(settings: &Settings, no_browser: bool) -> ExitCode {
    let factory = match gmail_shared::gmail::GmailFactory::new(&settings.gmail) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("gmail-mcp-server auth: {e}");
            return ExitCode::FAILURE;
        }
    };
    let scopes = gmail_shared::oauth::scopes_for(settings.mcp.read_only);
    let result =
        gmail_shared::oauth::installed::authorize(&factory, &settings.gmail, scopes, |url| {
            eprintln!("Open this URL to authorize Gmail access:\n\n  {url}\n");
            if !no_browser {
                // Best effort: without a desktop the printed URL is the way.
                let _ = std::process::Command::new("xdg-open")
                    .arg(url)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn();
            }
        })
        .await;
    match result {
        Ok(path) => {
            eprintln!("Authorized. Credentials saved to {}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gmail-mcp-server auth: {e}");
            ExitCode::FAILURE
        }
    }
}
