//! Finding and organizing mail: search, conversations, labels on messages and threads, trash,
//! delete, and the labels themselves.

use gmail_tool_macros::tool;
use schemars::JsonSchema;
use serde::Deserialize;

use super::text::{self, ResponseFormat};
use super::{render::*, Count, NoArguments};
use crate::error::GmailError;
use crate::ops::labels::{
    self, LabelChanges, LabelInfo, LabelListVisibility, MessageListVisibility,
};
use crate::ops::messages::{self, BatchOutcome, LabelsAfter, SearchPage, SearchRequest};
use crate::ops::threads::{self, ThreadLabels, ThreadPage};
use crate::ops::{LabelId, MessageId, ThreadId};
use crate::ops::{Mailbox, PageSize};
use crate::tools::{NoOutput, RegistryBuilder, ToolContext, ToolOutput, ToolResult};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchEmails {
    /// Gmail query
    pub query: String,
    pub max_results: Option<Count>,
    pub page_token: Option<String>,
    pub label_ids: Option<Vec<String>>,
    pub include_spam_trash: Option<bool>,
    pub response_format: Option<ResponseFormat>,
    /// Add each message's snippet
    pub snippets: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListThreads {
    /// Gmail query; empty: most recent
    pub query: Option<String>,
    pub max_results: Option<Count>,
    pub page_token: Option<String>,
    pub label_ids: Option<Vec<String>>,
    pub include_spam_trash: Option<bool>,
    pub response_format: Option<ResponseFormat>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModifyEmail {
    pub message_id: MessageId,
    /// Same as addLabelIds
    pub label_ids: Option<Vec<String>>,
    pub add_label_ids: Option<Vec<String>>,
    pub remove_label_ids: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageIdOnly {
    pub message_id: MessageId,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageIds {
    pub message_ids: Vec<MessageId>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchModifyEmails {
    pub message_ids: Vec<MessageId>,
    pub add_label_ids: Option<Vec<String>>,
    pub remove_label_ids: Option<Vec<String>>,
    /// Ignored (other Gmail servers take it): ids go in chunks of 1000
    pub batch_size: Option<Count>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchDeleteEmails {
    pub message_ids: Vec<MessageId>,
    /// Ignored (other Gmail servers take it): ids go in chunks of 1000
    pub batch_size: Option<Count>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateLabel {
    /// Nested labels use '/'
    pub name: String,
    pub message_list_visibility: Option<MessageListVisibility>,
    pub label_list_visibility: Option<LabelListVisibility>,
    pub color: Option<labels::LabelColor>,
}

impl CreateLabel {
    fn changes(&self) -> LabelChanges {
        LabelChanges {
            name: Some(self.name.clone()),
            message_list_visibility: self.message_list_visibility,
            label_list_visibility: self.label_list_visibility,
            color: self.color.clone(),
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateLabel {
    pub id: LabelId,
    /// New name
    pub name: Option<String>,
    pub message_list_visibility: Option<MessageListVisibility>,
    pub label_list_visibility: Option<LabelListVisibility>,
    pub color: Option<labels::LabelColor>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelToDelete {
    pub id: LabelId,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ThreadLabelChange {
    pub thread_id: ThreadId,
    pub add_label_ids: Option<Vec<String>>,
    pub remove_label_ids: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ThreadIdOnly {
    pub thread_id: ThreadId,
}

fn search_request(
    query: Option<String>,
    max: Option<Count>,
    page_token: Option<String>,
    labels: Option<Vec<String>>,
    spam_trash: Option<bool>,
) -> Result<SearchRequest, GmailError> {
    Ok(SearchRequest {
        query: query.unwrap_or_default(),
        label_ids: labels.unwrap_or_default(),
        max_results: PageSize::parse(max.map(u32::from), PageSize::fixed(10))?,
        page_token,
        include_spam_trash: spam_trash.unwrap_or(false),
    })
}

/// Searches emails (Gmail query syntax), newest first.
#[tool(title = "Search emails", annotations = READ, toolset = Read)]
async fn search_emails(_ctx: ToolContext, mailbox: Mailbox, p: SearchEmails) -> ToolResult {
    let req = search_request(
        Some(p.query),
        p.max_results,
        p.page_token,
        p.label_ids,
        p.include_spam_trash,
    )?;
    let page = messages::search(&mailbox, &req).await?;
    let text = match p.response_format.unwrap_or_default() {
        ResponseFormat::Concise => text::search_concise(&page, p.snippets.unwrap_or(false)),
        ResponseFormat::Detailed => text::search_detailed(&page),
    };
    Ok(ToolOutput::structured(text, &page))
}

/// Lists conversations matching a Gmail query.
#[tool(title = "List conversations", annotations = READ, toolset = Read)]
async fn list_threads(_ctx: ToolContext, mailbox: Mailbox, p: ListThreads) -> ToolResult {
    let req = search_request(
        p.query,
        p.max_results,
        p.page_token,
        p.label_ids,
        p.include_spam_trash,
    )?;
    let page = threads::list_threads(&mailbox, &req).await?;
    Ok(ToolOutput::structured(
        text::threads(&page, p.response_format.unwrap_or_default()),
        &page,
    ))
}

/// Adds or removes an email's labels (archive: remove INBOX).
#[tool(title = "Change an email's labels", annotations = IDEMPOTENT_WRITE, toolset = Organize)]
async fn modify_email(_ctx: ToolContext, mailbox: Mailbox, p: ModifyEmail) -> ToolResult {
    // The peer server treats labelIds as addLabelIds, with addLabelIds winning.
    let add = p.add_label_ids.or(p.label_ids).unwrap_or_default();
    let remove = p.remove_label_ids.unwrap_or_default();
    let after = messages::modify(&mailbox, &p.message_id, &add, &remove).await?;
    Ok(ToolOutput::structured(
        format!(
            "Email {} labels updated successfully\nLabels now: {}",
            after.id,
            after.label_ids.join(", ")
        ),
        &after,
    ))
}

/// Moves an email to the trash.
#[tool(title = "Move an email to the trash", annotations = IDEMPOTENT_WRITE, toolset = Organize)]
async fn trash_email(_ctx: ToolContext, mailbox: Mailbox, p: MessageIdOnly) -> ToolResult {
    let after = messages::trash(&mailbox, &p.message_id).await?;
    Ok(ToolOutput::structured(
        format!("Email {} moved to trash", after.id),
        &after,
    ))
}

/// Restores an email from the trash.
#[tool(title = "Restore an email from the trash", annotations = IDEMPOTENT_WRITE, toolset = Organize)]
async fn untrash_email(_ctx: ToolContext, mailbox: Mailbox, p: MessageIdOnly) -> ToolResult {
    let after = messages::untrash(&mailbox, &p.message_id).await?;
    Ok(ToolOutput::structured(
        format!("Email {} restored from trash", after.id),
        &after,
    ))
}

/// Marks emails read.
#[tool(title = "Mark emails as read", annotations = IDEMPOTENT_WRITE, toolset = Organize)]
async fn mark_as_read(_ctx: ToolContext, mailbox: Mailbox, p: MessageIds) -> ToolResult {
    let out = messages::batch_modify(&mailbox, p.message_ids, &[], &["UNREAD".into()]).await?;
    Ok(ToolOutput::structured(
        render_batch("Marked as read", &out),
        &out,
    ))
}

/// Marks emails unread.
#[tool(title = "Mark emails as unread", annotations = IDEMPOTENT_WRITE, toolset = Organize)]
async fn mark_as_unread(_ctx: ToolContext, mailbox: Mailbox, p: MessageIds) -> ToolResult {
    let out = messages::batch_modify(&mailbox, p.message_ids, &["UNREAD".into()], &[]).await?;
    Ok(ToolOutput::structured(
        render_batch("Marked as unread", &out),
        &out,
    ))
}

/// Deletes an email permanently (prefer trash_email; needs the full-mail scope).
#[tool(title = "Delete an email permanently", annotations = DESTRUCTIVE, toolset = Delete)]
async fn delete_email(_ctx: ToolContext, mailbox: Mailbox, p: MessageIdOnly) -> ToolResult {
    messages::delete(&mailbox, &p.message_id).await?;
    Ok(ToolOutput::text(format!(
        "Email {} deleted successfully",
        p.message_id
    )))
}

/// Adds or removes labels on many emails.
#[tool(title = "Change labels of many emails", annotations = IDEMPOTENT_WRITE, toolset = Organize)]
async fn batch_modify_emails(
    _ctx: ToolContext,
    mailbox: Mailbox,
    p: BatchModifyEmails,
) -> ToolResult {
    let out = messages::batch_modify(
        &mailbox,
        p.message_ids,
        &p.add_label_ids.unwrap_or_default(),
        &p.remove_label_ids.unwrap_or_default(),
    )
    .await?;
    Ok(ToolOutput::structured(
        render_batch("Batch label modification complete.", &out),
        &out,
    ))
}

/// Deletes many emails permanently (needs the full-mail scope).
#[tool(title = "Delete many emails permanently", annotations = DESTRUCTIVE, toolset = Delete)]
async fn batch_delete_emails(
    _ctx: ToolContext,
    mailbox: Mailbox,
    p: BatchDeleteEmails,
) -> ToolResult {
    let out = messages::batch_delete(&mailbox, p.message_ids).await?;
    Ok(ToolOutput::structured(
        render_batch("Batch delete operation complete.", &out),
        &out,
    ))
}

/// Lists all labels with their ids.
#[tool(title = "List labels", annotations = READ, toolset = Labels)]
async fn list_email_labels(_ctx: ToolContext, mailbox: Mailbox, _p: NoArguments) -> ToolResult {
    let list = LabelList {
        labels: labels::list_labels(&mailbox).await?,
    };
    Ok(ToolOutput::structured(render_labels(&list.labels), &list))
}

/// Creates a label; nested labels use '/' (Projects/Alpha).
#[tool(title = "Create a label", annotations = WRITE, toolset = Labels)]
async fn create_label(_ctx: ToolContext, mailbox: Mailbox, p: CreateLabel) -> ToolResult {
    let label = labels::create_label(&mailbox, &p.changes()).await?;
    Ok(ToolOutput::structured(
        render_label("Label created successfully:", &label),
        &label,
    ))
}

/// Renames a label or changes its visibility or colour.
#[tool(title = "Update a label", annotations = IDEMPOTENT_WRITE, toolset = Labels)]
async fn update_label(_ctx: ToolContext, mailbox: Mailbox, p: UpdateLabel) -> ToolResult {
    let changes = LabelChanges {
        name: p.name,
        message_list_visibility: p.message_list_visibility,
        label_list_visibility: p.label_list_visibility,
        color: p.color,
    };
    let label = labels::update_label(&mailbox, &p.id, &changes).await?;
    Ok(ToolOutput::structured(
        render_label("Label updated successfully:", &label),
        &label,
    ))
}

/// Deletes a label (the messages stay).
#[tool(title = "Delete a label", annotations = DESTRUCTIVE, toolset = Labels)]
async fn delete_label(_ctx: ToolContext, mailbox: Mailbox, p: LabelToDelete) -> ToolResult {
    labels::delete_label(&mailbox, &p.id).await?;
    Ok(ToolOutput::text(format!(
        "Label {} deleted successfully.",
        p.id
    )))
}

/// Finds a label by name (case-insensitive) or creates it.
#[tool(title = "Get or create a label", annotations = IDEMPOTENT_WRITE, toolset = Labels)]
async fn get_or_create_label(_ctx: ToolContext, mailbox: Mailbox, p: CreateLabel) -> ToolResult {
    let (label, created) = labels::get_or_create_label(&mailbox, &p.changes()).await?;
    let head = if created {
        "Successfully created new label:"
    } else {
        "Successfully found existing label:"
    };
    Ok(ToolOutput::structured(render_label(head, &label), &label))
}

/// Adds or removes labels on a whole conversation.
#[tool(title = "Change a conversation's labels", annotations = IDEMPOTENT_WRITE, toolset = Organize)]
async fn modify_thread(_ctx: ToolContext, mailbox: Mailbox, p: ThreadLabelChange) -> ToolResult {
    let t = threads::modify_thread(
        &mailbox,
        &p.thread_id,
        &p.add_label_ids.unwrap_or_default(),
        &p.remove_label_ids.unwrap_or_default(),
    )
    .await?;
    Ok(ToolOutput::structured(
        format!(
            "Thread {} labels updated ({} messages)",
            t.id,
            t.messages.len()
        ),
        &t,
    ))
}

/// Moves a conversation to the trash.
#[tool(title = "Move a conversation to the trash", annotations = IDEMPOTENT_WRITE, toolset = Organize)]
async fn trash_thread(_ctx: ToolContext, mailbox: Mailbox, p: ThreadIdOnly) -> ToolResult {
    let t = threads::trash_thread(&mailbox, &p.thread_id).await?;
    Ok(ToolOutput::structured(
        format!("Thread {} moved to trash", t.id),
        &t,
    ))
}

/// Restores a conversation from the trash.
#[tool(title = "Restore a conversation from the trash", annotations = IDEMPOTENT_WRITE, toolset = Organize)]
async fn untrash_thread(_ctx: ToolContext, mailbox: Mailbox, p: ThreadIdOnly) -> ToolResult {
    let t = threads::untrash_thread(&mailbox, &p.thread_id).await?;
    Ok(ToolOutput::structured(
        format!("Thread {} restored from trash", t.id),
        &t,
    ))
}

pub fn add_organize_tools(b: RegistryBuilder) -> RegistryBuilder {
    b.on_mailbox::<SearchEmails, SearchPage, _, _>(SEARCH_EMAILS, search_emails)
        .on_mailbox::<ListThreads, ThreadPage, _, _>(LIST_THREADS, list_threads)
        .on_mailbox::<ModifyEmail, LabelsAfter, _, _>(MODIFY_EMAIL, modify_email)
        .on_mailbox::<MessageIdOnly, LabelsAfter, _, _>(TRASH_EMAIL, trash_email)
        .on_mailbox::<MessageIdOnly, LabelsAfter, _, _>(UNTRASH_EMAIL, untrash_email)
        .on_mailbox::<MessageIds, BatchOutcome, _, _>(MARK_AS_READ, mark_as_read)
        .on_mailbox::<MessageIds, BatchOutcome, _, _>(MARK_AS_UNREAD, mark_as_unread)
        .on_mailbox::<MessageIdOnly, NoOutput, _, _>(DELETE_EMAIL, delete_email)
        .on_mailbox::<BatchModifyEmails, BatchOutcome, _, _>(
            BATCH_MODIFY_EMAILS,
            batch_modify_emails,
        )
        .on_mailbox::<BatchDeleteEmails, BatchOutcome, _, _>(
            BATCH_DELETE_EMAILS,
            batch_delete_emails,
        )
        .on_mailbox::<NoArguments, LabelList, _, _>(LIST_EMAIL_LABELS, list_email_labels)
        .on_mailbox::<CreateLabel, LabelInfo, _, _>(CREATE_LABEL, create_label)
        .on_mailbox::<UpdateLabel, LabelInfo, _, _>(UPDATE_LABEL, update_label)
        .on_mailbox::<LabelToDelete, NoOutput, _, _>(DELETE_LABEL, delete_label)
        .on_mailbox::<CreateLabel, LabelInfo, _, _>(GET_OR_CREATE_LABEL, get_or_create_label)
        .on_mailbox::<ThreadLabelChange, ThreadLabels, _, _>(MODIFY_THREAD, modify_thread)
        .on_mailbox::<ThreadIdOnly, ThreadLabels, _, _>(TRASH_THREAD, trash_thread)
        .on_mailbox::<ThreadIdOnly, ThreadLabels, _, _>(UNTRASH_THREAD, untrash_thread)
}

#[derive(Debug, serde::Serialize, JsonSchema)]
pub struct LabelList {
    pub labels: Vec<LabelInfo>,
}
