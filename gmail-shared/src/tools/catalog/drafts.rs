//! The draft lifecycle: list_drafts, get_draft, update_draft, send_draft, delete_draft
//! (draft_email, which creates one, sits with the other composing tools).

use gmail_tool_macros::tool;
use schemars::JsonSchema;
use serde::Deserialize;

use super::super::{NoOutput, RegistryBuilder, ToolContext, ToolOutput, ToolResult};
use super::compose_tools::{names_of_labels, sent_text};
use super::text::{self, ResponseFormat};
use super::Count;
use crate::ops::compose::{ComposeBody, InlineAttachment};
use crate::ops::drafts::{self, DraftPage, DraftRef};
use crate::ops::send::{self, SentMessage};
use crate::ops::DraftId;
use crate::ops::{Mailbox, PageSize};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListDrafts {
    /// Gmail query
    pub query: Option<String>,
    pub max_results: Option<Count>,
    pub page_token: Option<String>,
    pub response_format: Option<ResponseFormat>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DraftArg {
    pub draft_id: DraftId,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetDraft {
    pub draft_id: DraftId,
    pub response_format: Option<ResponseFormat>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateDraft {
    pub draft_id: DraftId,
    pub to: Option<Vec<String>>,
    pub subject: String,
    pub body: String,
    pub html_body: Option<String>,
    pub cc: Option<Vec<String>>,
    pub bcc: Option<Vec<String>>,
    /// Keep it in this thread
    pub thread_id: Option<String>,
    pub attachments: Option<Vec<String>>,
    pub attachment_contents: Option<Vec<InlineAttachment>>,
    pub from: Option<String>,
}

/// Lists drafts, newest first.
#[tool(title = "List drafts", annotations = READ, toolset = Compose)]
async fn list_drafts(_ctx: ToolContext, mailbox: Mailbox, p: ListDrafts) -> ToolResult {
    let page = drafts::list_drafts(
        &mailbox,
        p.query.as_deref(),
        PageSize::parse(p.max_results.map(u32::from), PageSize::fixed(20))?,
        p.page_token.as_deref(),
    )
    .await?;
    Ok(ToolOutput::structured(
        text::drafts(&page, p.response_format.unwrap_or_default()),
        &page,
    ))
}

/// Reads a draft.
#[tool(title = "Read a draft", annotations = READ, toolset = Compose)]
async fn get_draft(_ctx: ToolContext, mailbox: Mailbox, p: GetDraft) -> ToolResult {
    let d = drafts::get_draft(&mailbox, &p.draft_id).await?;
    let format = p.response_format.unwrap_or_default();
    let names = names_of_labels(&mailbox).await;
    let headers = match format {
        ResponseFormat::Concise => text::headers_concise(&d.message, &names, mailbox.account()),
        ResponseFormat::Detailed => text::headers_detailed(&d.message, &names),
    };
    let text = format!(
        "Draft {}\n{headers}\n{}{}",
        d.id,
        d.message.text,
        text::attachments(&d.message, format)
    );
    Ok(ToolOutput::structured(text, &d))
}

/// Replaces a draft's content.
#[tool(title = "Replace a draft", annotations = IDEMPOTENT_WRITE, toolset = Compose)]
async fn update_draft(ctx: ToolContext, mailbox: Mailbox, p: UpdateDraft) -> ToolResult {
    let body = ComposeBody {
        to: p.to.unwrap_or_default(),
        subject: p.subject,
        body: p.body,
        html_body: p.html_body,
        cc: p.cc.unwrap_or_default(),
        bcc: p.bcc.unwrap_or_default(),
        thread_id: p.thread_id,
        from: p.from,
        attachments: p.attachments.unwrap_or_default(),
        attachment_contents: p.attachment_contents.unwrap_or_default(),
        ..ComposeBody::default()
    };
    let (msg, at) = body.draft_message(&ctx.env.files.attachment_dirs)?;
    let (thread_id, in_reply_to) = (at.thread_id.as_deref(), at.in_reply_to.as_deref());
    let d = drafts::update_draft(&mailbox, &p.draft_id, msg, thread_id, in_reply_to).await?;
    Ok(ToolOutput::structured(
        format!("Draft {} updated", d.id),
        &d,
    ))
}

/// Sends an existing draft.
#[tool(title = "Send a draft", annotations = WRITE, toolset = Compose)]
async fn send_draft(_ctx: ToolContext, mailbox: Mailbox, p: DraftArg) -> ToolResult {
    let sent = send::send_draft(&mailbox, &p.draft_id).await?;
    Ok(ToolOutput::structured(
        sent_text("Draft sent", &sent),
        &sent,
    ))
}

/// Deletes a draft.
#[tool(title = "Delete a draft", annotations = DESTRUCTIVE, toolset = Compose)]
async fn delete_draft(_ctx: ToolContext, mailbox: Mailbox, p: DraftArg) -> ToolResult {
    drafts::delete_draft(&mailbox, &p.draft_id).await?;
    Ok(ToolOutput::text(format!(
        "Draft {} deleted successfully.",
        p.draft_id
    )))
}

pub fn add_draft_tools(b: RegistryBuilder) -> RegistryBuilder {
    b.on_mailbox::<ListDrafts, DraftPage, _, _>(LIST_DRAFTS, list_drafts)
        .on_mailbox::<GetDraft, drafts::DraftView, _, _>(GET_DRAFT, get_draft)
        .on_mailbox::<UpdateDraft, DraftRef, _, _>(UPDATE_DRAFT, update_draft)
        .on_mailbox::<DraftArg, SentMessage, _, _>(SEND_DRAFT, send_draft)
        .on_mailbox::<DraftArg, NoOutput, _, _>(DELETE_DRAFT, delete_draft)
}
