//! Connection tools (multi-user mode): connect, list, check and disconnect the caller's Gmail
//! accounts. The names are the original multi-user design's.

use gmail_tool_macros::tool;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::super::{RegistryBuilder, ToolContext, ToolOutput, ToolResult};
use crate::error::GmailError;
use crate::oauth::accounts::{Accounts, AuthStart, ConnectionCheck};
use crate::store::{ConnectionInfo, FlowBinding};

fn caller(ctx: &ToolContext) -> Result<(Arc<Accounts>, String), GmailError> {
    ctx.connections()
        .map(|(accounts, caller)| (accounts, caller.user_id.clone()))
        .ok_or_else(|| {
            GmailError::invalid(
                "account",
                "connection tools need multi-user mode (GMAIL_MULTI_USER=true with API keys); this server uses its single configured account",
            )
        })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetAuthUrl {
    /// Address to suggest on Google's page
    pub login_hint: Option<String>,
    /// Path or allowed URL to land on afterwards
    pub return_to: Option<String>,
}

/// No `Debug`: the code and the flow state are secrets.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HandleCallback {
    /// From the redirect
    pub code: String,
    /// From the redirect
    pub state: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountArg {
    /// Address or connection id
    pub account: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DisconnectArg {
    /// Address or connection id
    pub account: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ConnectionList {
    pub connections: Vec<ConnectionInfo>,
}

fn render(c: &ConnectionInfo) -> String {
    format!(
        "{} ({}){} — {}",
        c.email,
        c.id,
        if c.is_primary { " [primary]" } else { "" },
        c.status
    )
}

/// Starts connecting a Gmail account: returns a link for the user to open in their browser.
#[tool(title = "Connect a Gmail account", annotations = WRITE, toolset = Connections)]
async fn gmail_get_auth_url(ctx: ToolContext, p: GetAuthUrl) -> ToolResult {
    let (accounts, user_id) = caller(&ctx)?;
    let start = accounts
        .start_for(&user_id, p.return_to.as_deref(), p.login_hint.as_deref())
        .await?;
    Ok(ToolOutput::structured(
        format!("Ask the user to open this link in their browser to connect a Gmail account (valid {} minutes, works in one browser only):\n{}", start.expires_in_secs / 60, start.auth_url),
        &start,
    ))
}

/// Finishes a connection from the code and state Google redirected with (apps that receive the
/// redirect themselves).
#[tool(title = "Finish connecting a Gmail account", annotations = WRITE, toolset = Connections)]
async fn gmail_handle_oauth_callback(ctx: ToolContext, p: HandleCallback) -> ToolResult {
    let (accounts, user_id) = caller(&ctx)?;
    let (_, info, _) = accounts
        .complete(&p.state, &p.code, FlowBinding::Owner(&user_id))
        .await?;
    Ok(ToolOutput::structured(
        format!("Connected {}", render(&info)),
        &info,
    ))
}

/// Lists the connected Gmail accounts and their status; the primary one is the default account.
#[tool(title = "List connected Gmail accounts", annotations = READ, toolset = Connections)]
async fn gmail_list_connections(ctx: ToolContext, _p: AccountArg) -> ToolResult {
    let (accounts, user_id) = caller(&ctx)?;
    let connections = accounts.list(&user_id).await?;
    let text = if connections.is_empty() {
        "No Gmail account connected yet: call gmail_get_auth_url.".to_string()
    } else {
        connections
            .iter()
            .map(render)
            .collect::<Vec<_>>()
            .join("\n")
    };
    Ok(ToolOutput::structured(
        text,
        &ConnectionList { connections },
    ))
}

/// Checks that a connected account still works and says what to do if not.
#[tool(title = "Check a Gmail connection", annotations = READ, toolset = Connections)]
async fn gmail_check_connection(ctx: ToolContext, p: AccountArg) -> ToolResult {
    let (accounts, user_id) = caller(&ctx)?;
    let check = accounts.check(&user_id, p.account.as_deref()).await?;
    let text = match &check.problem {
        None => format!("{}: working", render(&check.connection)),
        Some(problem) => format!("{}: NOT working: {problem}", render(&check.connection)),
    };
    Ok(ToolOutput::structured(text, &check))
}

/// Disconnects an account and revokes the server's access at Google.
#[tool(title = "Disconnect a Gmail account", annotations = DESTRUCTIVE, toolset = Connections)]
async fn gmail_disconnect(ctx: ToolContext, p: DisconnectArg) -> ToolResult {
    let (accounts, user_id) = caller(&ctx)?;
    let info = accounts.disconnect(&user_id, &p.account).await?;
    Ok(ToolOutput::structured(
        format!("Disconnected {} and revoked access at Google", info.email),
        &info,
    ))
}

pub fn add_connection_tools(b: RegistryBuilder) -> RegistryBuilder {
    b.add::<GetAuthUrl, AuthStart, _, _>(GMAIL_GET_AUTH_URL, gmail_get_auth_url)
        .add::<HandleCallback, ConnectionInfo, _, _>(
            GMAIL_HANDLE_OAUTH_CALLBACK,
            gmail_handle_oauth_callback,
        )
        .add::<AccountArg, ConnectionList, _, _>(GMAIL_LIST_CONNECTIONS, gmail_list_connections)
        .add::<AccountArg, ConnectionCheck, _, _>(GMAIL_CHECK_CONNECTION, gmail_check_connection)
        .add::<DisconnectArg, ConnectionInfo, _, _>(GMAIL_DISCONNECT, gmail_disconnect)
}
