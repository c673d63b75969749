use std::process::ExitCode;

use clap::Parser;
use gmail_api_server::Application;
use gmail_shared::admin::AdminCommand;
use gmail_shared::server::{check_start, exit_code, summary, CommonArgs, Role};
use gmail_shared::telemetry::{self, LogTarget};

/// REST API for Gmail (port 8000), with OpenAPI docs at /docs.
#[derive(Parser)]
#[command(name = "gmail-api-server", version, about)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Users, API keys and encryption keys (multi-user mode).
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match cli.common.load_settings(Role::Api) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("gmail-api-server: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(Command::Admin(command)) = cli.command {
        return gmail_shared::admin::main(&settings, command, "gmail-api-server").await;
    }
    if let Err(e) = check_start(&settings, Role::Api, true) {
        eprintln!("gmail-api-server: {e}");
        return ExitCode::from(2);
    }
    if cli.common.check {
        println!("{}", summary(&settings, Role::Api));
        return ExitCode::SUCCESS;
    }
    telemetry::init(&settings.log, LogTarget::Stdout);
    let served = async {
        let app = Application::build(settings).await?;
        Ok(app.run_until_stopped().await?)
    };
    exit_code("gmail-api-server", served.await)
}
