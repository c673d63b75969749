//! `gmail-sandbox serve | seed`

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use gmail_sandbox::{
    DatabaseLocation, PushSubscription, Sandbox, SandboxConfig, SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
};

#[derive(Parser)]
#[command(
    name = "gmail-sandbox",
    about = "A local emulator of the Gmail REST API v1 and Google OAuth"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (seeds the demo mailboxes on first start).
    Serve {
        #[arg(long, default_value = "127.0.0.1", env = "GMAIL_SANDBOX_HOST")]
        host: String,
        #[arg(long, default_value_t = 8002, env = "GMAIL_SANDBOX_PORT")]
        port: u16,
        #[arg(long, default_value = "data/sandbox.db", env = "GMAIL_SANDBOX_DB")]
        db: String,
        /// Access-token lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        token_ttl: u64,
        /// Show a consent page instead of approving authorization requests at once.
        #[arg(long)]
        consent: bool,
        /// Enable per-user quota (Gmail's unit costs, 250 units/s).
        #[arg(long)]
        quota: bool,
        /// Push subscription: POST users.watch notifications published on TOPIC
        /// (`projects/P/topics/T`) to URL (pushes to https URLs are dropped: the sandbox speaks
        /// no TLS). Repeatable; the environment variable takes comma-separated pairs.
        #[arg(
            long = "pubsub-push",
            value_name = "TOPIC=URL",
            env = "GMAIL_SANDBOX_PUBSUB_PUSH",
            value_delimiter = ',',
            value_parser = PushSubscription::parse
        )]
        pubsub_push: Vec<PushSubscription>,
    },
    /// Re-create the demo mailboxes (drops all mail in the database).
    Seed {
        #[arg(long, default_value = "data/sandbox.db", env = "GMAIL_SANDBOX_DB")]
        db: String,
    },
}

fn location(db: &str) -> DatabaseLocation {
    if db == ":memory:" || db == "memory" {
        DatabaseLocation::Memory
    } else {
        DatabaseLocation::File(PathBuf::from(db))
    }
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            host,
            port,
            db,
            token_ttl,
            consent,
            quota,
            pubsub_push,
        } => {
            let mut cfg = SandboxConfig {
                host,
                port,
                database: location(&db),
                access_token_ttl_secs: token_ttl,
                auto_approve: !consent,
                pubsub_push,
                ..SandboxConfig::default()
            };
            cfg.quota.enabled = quota;
            let sb = Sandbox::start(cfg).await?;
            let base = sb.base_url();
            tracing::info!("gmail-sandbox listening on {base}");
            tracing::info!(
                "OAuth client: client_id={SANDBOX_CLIENT_ID} client_secret={SANDBOX_CLIENT_SECRET}"
            );
            tracing::info!("token endpoint: {base}token, auth endpoint: {base}o/oauth2/v2/auth");
            for s in sb.state().pubsub.subscriptions() {
                tracing::info!(
                    "push subscription {}: {} -> {}",
                    s.name,
                    s.topic,
                    gmail_sandbox::pubsub::logged_endpoint(&s.push_config.push_endpoint)
                );
            }
            for email in sb.state().store.emails() {
                tracing::info!(
                    "mailbox {email}: refresh_token={} (sandbox credential)",
                    sb.refresh_token_for(&email)
                );
            }
            shutdown_signal().await;
            tracing::info!("shutting down");
            sb.stop().await;
        }
        Command::Seed { db } => {
            let emails = gmail_sandbox::reseed(&location(&db)).await?;
            for e in emails {
                println!("seeded {e}");
            }
        }
    }
    Ok(())
}
