//! Waiting for mail: `wait_for_email`, over the change feed (never one long Gmail request).

use gmail_tool_macros::tool;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::super::{RegistryBuilder, ToolContext, ToolOutput, ToolResult};
use super::text;
use crate::error::GmailError;
use crate::events::wait::user_of;
use crate::ops::history::Arrived;
use crate::ops::Mailbox;

/// How much of the body the answer shows (read_email has the rest).
const BODY_CHARS: usize = 4_000;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WaitForEmail {
    /// Gmail search the new message must match (`from:x subject:verify`); empty: any.
    pub query: Option<String>,
    /// Default 60.
    pub timeout_secs: Option<u64>,
    /// Also accept mail that arrived this many seconds before the call.
    pub lookback_secs: Option<u64>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WaitResult {
    /// Whether a matching message arrived in time.
    pub found: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Arrived>,
    pub waited_secs: u64,
}

// Beside list_changes: the default toolset's definitions stay within their budget.
/// Waits for a new message matching a Gmail search to arrive (e.g. a sign-up verification code or
/// link) and returns it with its text, or says none came within timeoutSecs.
#[tool(title = "Wait for an email to arrive", annotations = READ, toolset = History)]
async fn wait_for_email(ctx: ToolContext, mailbox: Mailbox, p: WaitForEmail) -> ToolResult {
    let events = ctx.env.events.clone().ok_or_else(|| {
        GmailError::invalid(
            "wait_for_email",
            "events are turned off on this server (events.enabled = false)",
        )
    })?;
    let max = events.settings().wait_max_secs.max(1);
    let timeout = p.timeout_secs.unwrap_or(60.min(max));
    if timeout == 0 || timeout > max {
        return Err(GmailError::invalid(
            "timeoutSecs",
            format!("must be between 1 and {max}"),
        ));
    }
    let lookback = p.lookback_secs.unwrap_or(0);
    if lookback > 86_400 {
        return Err(GmailError::invalid(
            "lookbackSecs",
            "must be at most 86400 (a day)",
        ));
    }
    let query = p.query.unwrap_or_default();
    if query.len() > 2000 {
        return Err(GmailError::invalid(
            "query",
            "is longer than 2000 characters",
        ));
    }
    let user = user_of(&ctx)?;
    let started = std::time::Instant::now();
    let progress = ctx.progress.clone();
    let report = move |elapsed: u64, total: u64| {
        let progress = progress.clone();
        Box::pin(async move {
            if let Some(p) = progress {
                p(
                    elapsed as f64,
                    Some(total as f64),
                    format!("waiting for mail: {elapsed} of {total} s"),
                )
                .await;
            }
        }) as futures::future::BoxFuture<'static, ()>
    };
    let found = events
        .wait_for_email(
            &user,
            &mailbox,
            &query,
            Duration::from_secs(timeout),
            Duration::from_secs(lookback),
            &report,
        )
        .await?;
    let waited_secs = started.elapsed().as_secs();
    let Some(arrived) = found else {
        let result = WaitResult {
            found: false,
            message: None,
            waited_secs,
        };
        let what = if query.is_empty() {
            "No new message".to_string()
        } else {
            format!("No new message matching `{query}`")
        };
        return Ok(ToolOutput::structured(
            format!(
                "{what} arrived within {timeout} s. Call wait_for_email again to keep waiting."
            ),
            &result,
        ));
    };
    let mut out = format!(
        "New message (id {}, thread {}):\nFrom: {}\nSubject: {}\nDate: {}\n",
        arrived.id,
        arrived.thread_id,
        arrived.from,
        arrived.subject,
        text::header_date(&arrived.date)
    );
    // The text too: what an agent waits for (a code, a link) is usually in it.
    let id = crate::ops::MessageId::parse("id", &arrived.id);
    let read = async { crate::ops::read::read_message(&mailbox, &id?).await };
    match read.await {
        Ok(m) => {
            let body = text::concise_body(&m.text, &m.subject, m.bulk);
            let w = crate::mail::window(&body, 0, BODY_CHARS);
            out.push('\n');
            out.push_str(&w.text_with_note());
        }
        Err(e) => out.push_str(&format!(
            "\n(snippet) {}\n[the body could not be read: {e}]",
            arrived.snippet
        )),
    }
    let result = WaitResult {
        found: true,
        message: Some(arrived),
        waited_secs,
    };
    Ok(ToolOutput::structured(out, &result))
}

pub fn add_event_tools(b: RegistryBuilder) -> RegistryBuilder {
    b.on_mailbox::<WaitForEmail, WaitResult, _, _>(WAIT_FOR_EMAIL, wait_for_email)
}
