//! Admin commands both binaries offer (`<binary> admin ...`): users, API keys, encryption keys.

use crate::config::Settings;
use crate::error::GmailError;
use crate::ops::policy::CallerPolicy;
use crate::store::{cipher, Keyring, Store};

#[derive(Debug, Clone, clap::Subcommand)]
pub enum AdminCommand {
    /// Create a user (or show the existing one) by external id.
    CreateUser {
        external_id: String,
        #[arg(long)]
        email: Option<String>,
    },
    /// Create an API key for a user (by external id); the key is shown once. Rules given here
    /// narrow the user's and the server's for this key only.
    CreateKey {
        external_id: String,
        #[arg(long, default_value = "default")]
        name: String,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Set a user's rules (they narrow the server's for every key of the user); no flag
    /// clears them.
    SetUserPolicy {
        external_id: String,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Revoke an API key by its id (open sessions that use it close within a second).
    RevokeKey { key_id: String },
    /// Disable a user (by external id): their keys stop working, their sessions close.
    DisableUser { external_id: String },
    /// Enable a disabled user again.
    EnableUser { external_id: String },
    /// List a user's API keys (never the keys themselves).
    ListKeys { external_id: String },
    /// Print a fresh encryption key for GMAIL_ENCRYPTION_KEY.
    GenerateKey,
    /// Re-seal every stored token under the current GMAIL_ENCRYPTION_KEY (old keys in
    /// GMAIL_ENCRYPTION_OLD_KEYS).
    RotateKeys,
}

/// Tool and send rules for a user or a key (they can only narrow the server's).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RuleArgs {
    /// Only tools that change nothing; REST refuses every write.
    #[arg(long)]
    pub read_only: bool,
    /// Only these toolsets (comma-separated: read, compose, organize, ...).
    #[arg(long, value_name = "LIST")]
    pub toolsets: Option<String>,
    /// Mail may go only to these addresses and @domains (comma-separated).
    #[arg(long, value_name = "LIST")]
    pub allowed_recipients: Option<String>,
    /// Sending tools save drafts instead.
    #[arg(long)]
    pub drafts_only: bool,
    /// At most this many sends per mailbox in any 24 hours.
    #[arg(long, value_name = "N")]
    pub max_sends_per_day: Option<u32>,
    /// Refuse filters that forward mail even where the server allows them.
    #[arg(long)]
    pub no_forwarding_filters: bool,
}

fn list(text: &Option<String>) -> Option<Vec<String>> {
    text.as_ref().map(|t| {
        t.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    })
}

impl RuleArgs {
    pub fn policy(&self) -> Result<CallerPolicy, GmailError> {
        let toolsets = list(&self.toolsets);
        if let Some(sets) = &toolsets {
            crate::tools::ToolPolicy::parse(sets, &[], &[], false)
                .map_err(|e| GmailError::invalid("toolsets", e))?;
        }
        Ok(CallerPolicy {
            read_only: self.read_only.then_some(true),
            toolsets,
            allowed_recipients: list(&self.allowed_recipients),
            drafts_only: self.drafts_only.then_some(true),
            max_sends_per_day: self.max_sends_per_day,
            allow_forwarding_filters: self.no_forwarding_filters.then_some(false),
        })
    }
}

async fn open(settings: &Settings) -> Result<Store, GmailError> {
    let mu = &settings.multi_user;
    let key = mu.encryption_key.as_ref().ok_or_else(|| {
        GmailError::invalid(
            "GMAIL_ENCRYPTION_KEY",
            format!("is not set: {}", cipher::KEY_HINT),
        )
    })?;
    Store::connect(
        secrecy::ExposeSecret::expose_secret(&mu.database_url),
        Keyring::new(key, mu.old_encryption_keys.as_ref())?,
    )
    .await
}

/// Runs one command and answers what to print.
pub async fn run(settings: &Settings, command: AdminCommand) -> Result<String, GmailError> {
    match command {
        AdminCommand::GenerateKey => Ok(cipher::generate_key()),
        AdminCommand::CreateUser { external_id, email } => {
            let store = open(settings).await?;
            let u = store.ensure_user(&external_id, email.as_deref()).await?;
            Ok(format!("user {} (external id {})", u.id, u.external_id))
        }
        AdminCommand::CreateKey {
            external_id,
            name,
            rules,
        } => {
            let policy = rules.policy()?;
            let store = open(settings).await?;
            let u = store
                .user_by_external_id(&external_id)
                .await?
                .ok_or_else(|| {
                    GmailError::not_found(format!(
                        "user {external_id} (create it with admin create-user)"
                    ))
                })?;
            // Expires after multi_user.key_ttl_days, as keys made over REST do.
            let made = crate::members::Members::new(settings, store.clone())
                .create_key(&u.id, &name, None)
                .await?;
            store.set_key_policy(&made.info.id, &policy).await?;
            Ok(format!(
                "API key {} for {} (shown once, store it now):\n{}\n\nConnect Claude Code:\n{}",
                made.info.id,
                external_id,
                made.key.expose(),
                made.claude_command.expose()
            ))
        }
        AdminCommand::SetUserPolicy { external_id, rules } => {
            let policy = rules.policy()?;
            let store = open(settings).await?;
            let u = store
                .user_by_external_id(&external_id)
                .await?
                .ok_or_else(|| GmailError::not_found(format!("user {external_id}")))?;
            store.set_user_policy(&u.id, &policy).await?;
            Ok(format!(
                "rules of {external_id}: {}",
                serde_json::to_string(&policy).unwrap_or_default()
            ))
        }
        AdminCommand::RevokeKey { key_id } => {
            let store = open(settings).await?;
            if store.revoke_api_key(&key_id).await? {
                Ok(format!("revoked {key_id}"))
            } else {
                Err(GmailError::not_found(format!("active API key {key_id}")))
            }
        }
        AdminCommand::DisableUser { external_id } => {
            set_disabled(settings, &external_id, true).await
        }
        AdminCommand::EnableUser { external_id } => {
            set_disabled(settings, &external_id, false).await
        }
        AdminCommand::ListKeys { external_id } => {
            let store = open(settings).await?;
            let u = store
                .user_by_external_id(&external_id)
                .await?
                .ok_or_else(|| GmailError::not_found(format!("user {external_id}")))?;
            let keys = store.list_api_keys(&u.id).await?;
            Ok(keys
                .iter()
                .map(|k| {
                    format!(
                        "{} {} {}… created {}{}{}{}",
                        k.id,
                        k.name,
                        k.prefix,
                        k.created_at,
                        k.expires_at
                            .map(|e| format!(" expires {e}"))
                            .unwrap_or_default(),
                        if k.revoked { " REVOKED" } else { "" },
                        k.rules
                            .as_ref()
                            .and_then(|r| serde_json::to_string(r).ok())
                            .map(|r| format!(" rules {r}"))
                            .unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"))
        }
        AdminCommand::RotateKeys => {
            let store = open(settings).await?;
            let report = store.rotate_keys().await?;
            let mut out = format!(
                "re-sealed {} connections and {} webhook secrets",
                report.resealed, report.resealed_webhooks
            );
            if !report.unreadable.is_empty() {
                out.push_str(&format!(
                    "; {} could not be opened with the configured keys: {}",
                    report.unreadable.len(),
                    report.unreadable.join(", ")
                ));
            }
            Ok(out)
        }
    }
}

async fn set_disabled(
    settings: &Settings,
    external_id: &str,
    disabled: bool,
) -> Result<String, GmailError> {
    let store = open(settings).await?;
    let u = store
        .user_by_external_id(external_id)
        .await?
        .ok_or_else(|| GmailError::not_found(format!("user {external_id}")))?;
    store.set_user_disabled(&u.id, disabled).await?;
    Ok(format!(
        "{} {external_id}",
        if disabled { "disabled" } else { "enabled" }
    ))
}

/// Runs an admin command for `program`'s `admin` subcommand: its output on stdout (a reader
/// that stops early, as `| head` does, is fine), an error on stderr and a failing exit code.
pub async fn main(
    settings: &Settings,
    command: AdminCommand,
    program: &str,
) -> std::process::ExitCode {
    use std::io::Write;
    match run(settings, command).await {
        Ok(out) => {
            let _ = writeln!(std::io::stdout(), "{out}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{program} admin: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
