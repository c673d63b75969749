//! Every tool's declaration and the operation it calls. The first 19 keep the names and input
//! fields of the most used Gmail MCP server (GongRzhe's), so prompts written for it work
//! unchanged; everything else only adds optional fields or new tools.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

use super::{Annotations, Decl, Registry, RegistryBuilder, ToolOutput};
use crate::ops::filters::{self, Action, Criteria, FilterInfo, Template, TemplateParameters};
use crate::ops::history::{self, ChangeKind, Changes, ChangesRequest};
use crate::ops::labels::{
    self, LabelChanges, LabelInfo, LabelListVisibility, MessageListVisibility,
};
use crate::ops::messages::{self, BatchOutcome, LabelsAfter, SearchPage, SearchRequest};
use crate::ops::profile::{self, Profile};
use crate::ops::settings::{self, SendAsIdentity, Vacation};
use crate::ops::threads::{self, ThreadLabels, ThreadPage};

pub mod compose_tools;
mod connections;
mod render;

pub use render::*;

/// Accepts a JSON number (`10` or `10.0`) that must be a whole, non-negative count; the
/// schema says `number`, as the peer server's does.
pub(crate) fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let v: Option<f64> = Option::deserialize(d)?;
    match v {
        None => Ok(None),
        Some(f) if f.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&f) => Ok(Some(f as u32)),
        Some(f) => Err(serde::de::Error::custom(format!(
            "expected a whole number, got {f}"
        ))),
    }
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountOnly {
    /// Connected Gmail address or connection id to act on (multi-user deployments); defaults to the primary account.
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchEmails {
    /// Gmail search query (e.g., 'from:example@gmail.com')
    pub query: String,
    /// Maximum number of results to return (default 10, at most 500)
    #[serde(default, deserialize_with = "count")]
    #[schemars(with = "Option<f64>")]
    pub max_results: Option<u32>,
    /// Page token from a previous call's nextPageToken, to continue the listing
    #[serde(default)]
    pub page_token: Option<String>,
    /// Only messages with all of these label ids (or names)
    #[serde(default)]
    pub label_ids: Option<Vec<String>>,
    /// Include spam and trash (excluded by default)
    #[serde(default)]
    pub include_spam_trash: Option<bool>,
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListThreads {
    /// Gmail search query; empty lists the most recent threads
    #[serde(default)]
    pub query: Option<String>,
    /// Maximum number of threads to return (default 10, at most 500)
    #[serde(default, deserialize_with = "count")]
    #[schemars(with = "Option<f64>")]
    pub max_results: Option<u32>,
    /// Page token from a previous call's nextPageToken
    #[serde(default)]
    pub page_token: Option<String>,
    /// Only threads with all of these label ids (or names)
    #[serde(default)]
    pub label_ids: Option<Vec<String>>,
    /// Include spam and trash (excluded by default)
    #[serde(default)]
    pub include_spam_trash: Option<bool>,
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModifyEmail {
    /// ID of the email message to modify
    pub message_id: String,
    /// List of label IDs to apply
    #[serde(default)]
    pub label_ids: Option<Vec<String>>,
    /// List of label IDs to add to the message
    #[serde(default)]
    pub add_label_ids: Option<Vec<String>>,
    /// List of label IDs to remove from the message
    #[serde(default)]
    pub remove_label_ids: Option<Vec<String>>,
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageIdOnly {
    /// ID of the email message
    pub message_id: String,
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageIds {
    /// IDs of the email messages
    pub message_ids: Vec<String>,
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchModifyEmails {
    /// List of message IDs to modify
    pub message_ids: Vec<String>,
    /// List of label IDs to add to all messages
    #[serde(default)]
    pub add_label_ids: Option<Vec<String>>,
    /// List of label IDs to remove from all messages
    #[serde(default)]
    pub remove_label_ids: Option<Vec<String>>,
    /// Accepted for compatibility; Gmail's batchModify takes up to 1000 messages per call
    #[serde(default, deserialize_with = "count")]
    #[schemars(with = "Option<f64>")]
    pub batch_size: Option<u32>,
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchDeleteEmails {
    /// List of message IDs to delete
    pub message_ids: Vec<String>,
    /// Accepted for compatibility; Gmail's batchDelete takes up to 1000 messages per call
    #[serde(default, deserialize_with = "count")]
    #[schemars(with = "Option<f64>")]
    pub batch_size: Option<u32>,
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateLabel {
    /// Name for the new label (nested labels use '/', e.g. 'Projects/Alpha')
    pub name: String,
    /// Whether to show or hide the label in the message list
    #[serde(default)]
    pub message_list_visibility: Option<MessageListVisibility>,
    /// Visibility of the label in the label list
    #[serde(default)]
    pub label_list_visibility: Option<LabelListVisibility>,
    /// Label colour from Gmail's palette
    #[serde(default)]
    pub color: Option<labels::LabelColor>,
    #[serde(default)]
    pub account: Option<String>,
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
    /// ID of the label to update
    pub id: String,
    /// New name for the label
    #[serde(default)]
    pub name: Option<String>,
    /// Whether to show or hide the label in the message list
    #[serde(default)]
    pub message_list_visibility: Option<MessageListVisibility>,
    /// Visibility of the label in the label list
    #[serde(default)]
    pub label_list_visibility: Option<LabelListVisibility>,
    /// Label colour from Gmail's palette
    #[serde(default)]
    pub color: Option<labels::LabelColor>,
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelId {
    /// ID of the label
    pub id: String,
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateFilter {
    /// Criteria for matching emails
    pub criteria: Criteria,
    /// Actions to perform on matching emails
    pub action: Action,
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FilterId {
    /// ID of the filter
    pub filter_id: String,
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateFilterFromTemplate {
    /// Pre-defined filter template to use
    pub template: Template,
    /// Template-specific parameters
    pub parameters: TemplateParameters,
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ThreadLabelChange {
    /// ID of the thread
    pub thread_id: String,
    /// Label IDs (or names) to add to every message of the thread
    #[serde(default)]
    pub add_label_ids: Option<Vec<String>>,
    /// Label IDs (or names) to remove from every message of the thread
    #[serde(default)]
    pub remove_label_ids: Option<Vec<String>>,
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ThreadIdOnly {
    /// ID of the thread
    pub thread_id: String,
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListChanges {
    /// A historyId from get_profile or from the previous list_changes call
    pub start_history_id: String,
    /// Only these kinds of change (default: all)
    #[serde(default)]
    pub kinds: Option<Vec<ChangeKind>>,
    /// Only changes to messages with this label id
    #[serde(default)]
    pub label_id: Option<String>,
    /// Maximum number of history records (default 100, at most 500)
    #[serde(default, deserialize_with = "count")]
    #[schemars(with = "Option<f64>")]
    pub max_results: Option<u32>,
    /// Page token from a previous call's nextPageToken
    #[serde(default)]
    pub page_token: Option<String>,
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetVacation {
    /// Turn the auto-reply on (true) or off (false)
    pub enable_auto_reply: bool,
    #[serde(default)]
    pub response_subject: Option<String>,
    /// Plain-text reply body
    #[serde(default)]
    pub response_body_plain_text: Option<String>,
    /// HTML reply body
    #[serde(default)]
    pub response_body_html: Option<String>,
    /// Reply only to people in the contacts
    #[serde(default)]
    pub restrict_to_contacts: Option<bool>,
    /// Reply only to people in the same domain
    #[serde(default)]
    pub restrict_to_domain: Option<bool>,
    /// Start, in milliseconds since the epoch
    #[serde(default)]
    pub start_time: Option<i64>,
    /// End, in milliseconds since the epoch
    #[serde(default)]
    pub end_time: Option<i64>,
    #[serde(default)]
    pub account: Option<String>,
}

impl SetVacation {
    fn vacation(&self) -> Vacation {
        Vacation {
            enable_auto_reply: self.enable_auto_reply,
            response_subject: self.response_subject.clone(),
            response_body_plain_text: self.response_body_plain_text.clone(),
            response_body_html: self.response_body_html.clone(),
            restrict_to_contacts: self.restrict_to_contacts,
            restrict_to_domain: self.restrict_to_domain,
            start_time: self.start_time,
            end_time: self.end_time,
        }
    }
}

fn search_request(
    query: Option<String>,
    max: Option<u32>,
    page_token: Option<String>,
    labels: Option<Vec<String>>,
    spam_trash: Option<bool>,
) -> SearchRequest {
    SearchRequest {
        query: query.unwrap_or_default(),
        label_ids: labels.unwrap_or_default(),
        max_results: max.unwrap_or(10),
        page_token,
        include_spam_trash: spam_trash.unwrap_or(false),
    }
}

/// The full catalog.
pub fn registry() -> Registry {
    let builder = Registry::builder();
    let builder = compose_tools::add_compose_tools(builder);
    let builder = add_organize_tools(builder);
    let builder = connections::add_connection_tools(builder);
    add_other_tools(builder).build()
}

fn add_organize_tools(b: RegistryBuilder) -> RegistryBuilder {
    b.add::<SearchEmails, SearchPage, _, _>(
        Decl {
            name: "search_emails",
            title: "Search emails",
            description: "Searches for emails using Gmail search syntax (from:, to:, subject:, label:, is:unread, has:attachment, after:2026/01/31, older_than:7d, OR, -negation, \"phrases\"). Returns id, subject, sender, date and snippet per message, and nextPageToken when more results exist: pass it back as pageToken. Spam and trash are excluded unless includeSpamTrash or in:spam/in:trash.",
            annotations: Annotations::READ,
        },
        |ctx, p: SearchEmails| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let req = search_request(Some(p.query), p.max_results, p.page_token, p.label_ids, p.include_spam_trash);
            let page = messages::search(&mailbox, &req).await?;
            Ok(ToolOutput::structured(render_search(&page), &page))
        },
    )
    .add::<ListThreads, ThreadPage, _, _>(
        Decl {
            name: "list_threads",
            title: "List conversations",
            description: "Lists conversations (threads) matching an optional Gmail search query, newest first, with subject, participants, message count and last date. Use get_thread to read one.",
            annotations: Annotations::READ,
        },
        |ctx, p: ListThreads| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let req = search_request(p.query, p.max_results, p.page_token, p.label_ids, p.include_spam_trash);
            let page = threads::list_threads(&mailbox, &req).await?;
            Ok(ToolOutput::structured(render_threads(&page), &page))
        },
    )
    .add::<ModifyEmail, LabelsAfter, _, _>(
        Decl {
            name: "modify_email",
            title: "Change an email's labels",
            description: "Modifies email labels (move to different folders): add or remove label ids (or label names). Archive = remove INBOX; mark read = remove UNREAD; star = add STARRED.",
            annotations: Annotations::IDEMPOTENT_WRITE,
        },
        |ctx, p: ModifyEmail| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            // The peer server treats labelIds as addLabelIds, with addLabelIds winning.
            let add = p.add_label_ids.or(p.label_ids).unwrap_or_default();
            let remove = p.remove_label_ids.unwrap_or_default();
            let after = messages::modify(&mailbox, &p.message_id, &add, &remove).await?;
            Ok(ToolOutput::structured(
                format!("Email {} labels updated successfully\nLabels now: {}", after.id, after.label_ids.join(", ")),
                &after,
            ))
        },
    )
    .add::<MessageIdOnly, LabelsAfter, _, _>(
        Decl {
            name: "trash_email",
            title: "Move an email to the trash",
            description: "Moves an email to the trash (recoverable for 30 days with untrash_email). Prefer this over delete_email.",
            annotations: Annotations::IDEMPOTENT_WRITE,
        },
        |ctx, p: MessageIdOnly| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let after = messages::trash(&mailbox, &p.message_id).await?;
            Ok(ToolOutput::structured(format!("Email {} moved to trash", after.id), &after))
        },
    )
    .add::<MessageIdOnly, LabelsAfter, _, _>(
        Decl {
            name: "untrash_email",
            title: "Restore an email from the trash",
            description: "Takes an email out of the trash.",
            annotations: Annotations::IDEMPOTENT_WRITE,
        },
        |ctx, p: MessageIdOnly| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let after = messages::untrash(&mailbox, &p.message_id).await?;
            Ok(ToolOutput::structured(format!("Email {} restored from trash", after.id), &after))
        },
    )
    .add::<MessageIds, BatchOutcome, _, _>(
        Decl {
            name: "mark_as_read",
            title: "Mark emails as read",
            description: "Marks one or more emails as read (removes UNREAD) in one batch call.",
            annotations: Annotations::IDEMPOTENT_WRITE,
        },
        |ctx, p: MessageIds| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let out = messages::batch_modify(&mailbox, &p.message_ids, &[], &["UNREAD".into()]).await?;
            Ok(ToolOutput::structured(render_batch("Marked as read", &out), &out))
        },
    )
    .add::<MessageIds, BatchOutcome, _, _>(
        Decl {
            name: "mark_as_unread",
            title: "Mark emails as unread",
            description: "Marks one or more emails as unread (adds UNREAD) in one batch call.",
            annotations: Annotations::IDEMPOTENT_WRITE,
        },
        |ctx, p: MessageIds| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let out = messages::batch_modify(&mailbox, &p.message_ids, &["UNREAD".into()], &[]).await?;
            Ok(ToolOutput::structured(render_batch("Marked as unread", &out), &out))
        },
    )
    .add_text::<MessageIdOnly, _, _>(
        Decl {
            name: "delete_email",
            title: "Delete an email permanently",
            description: "Permanently deletes an email (cannot be undone). Needs the full-mail scope https://mail.google.com/; use trash_email to move it to the trash instead.",
            annotations: Annotations::DESTRUCTIVE,
        },
        |ctx, p: MessageIdOnly| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            messages::delete(&mailbox, &p.message_id).await?;
            Ok(ToolOutput::text(format!("Email {} deleted successfully", p.message_id)))
        },
    )
    .add::<BatchModifyEmails, BatchOutcome, _, _>(
        Decl {
            name: "batch_modify_emails",
            title: "Change labels of many emails",
            description: "Modifies labels for multiple emails in batches: one Gmail batchModify call per 1000 messages, with the outcome reported per message id.",
            annotations: Annotations::IDEMPOTENT_WRITE,
        },
        |ctx, p: BatchModifyEmails| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let out = messages::batch_modify(
                &mailbox,
                &p.message_ids,
                &p.add_label_ids.unwrap_or_default(),
                &p.remove_label_ids.unwrap_or_default(),
            )
            .await?;
            Ok(ToolOutput::structured(render_batch("Batch label modification complete.", &out), &out))
        },
    )
    .add::<BatchDeleteEmails, BatchOutcome, _, _>(
        Decl {
            name: "batch_delete_emails",
            title: "Delete many emails permanently",
            description: "Permanently deletes multiple emails (Gmail batchDelete, up to 1000 per call; cannot be undone; needs the full-mail scope https://mail.google.com/).",
            annotations: Annotations::DESTRUCTIVE,
        },
        |ctx, p: BatchDeleteEmails| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let out = messages::batch_delete(&mailbox, &p.message_ids).await?;
            Ok(ToolOutput::structured(render_batch("Batch delete operation complete.", &out), &out))
        },
    )
    .add::<AccountOnly, LabelList, _, _>(
        Decl {
            name: "list_email_labels",
            title: "List labels",
            description: "Retrieves all available Gmail labels (system and user), with their ids.",
            annotations: Annotations::READ,
        },
        |ctx, p: AccountOnly| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let list = LabelList { labels: labels::list_labels(&mailbox).await? };
            Ok(ToolOutput::structured(render_labels(&list.labels), &list))
        },
    )
    .add::<CreateLabel, LabelInfo, _, _>(
        Decl {
            name: "create_label",
            title: "Create a label",
            description: "Creates a new Gmail label. Nested labels are names with '/', e.g. 'Projects/Alpha'. Fails if a label with that name exists (use get_or_create_label).",
            annotations: Annotations::WRITE,
        },
        |ctx, p: CreateLabel| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let label = labels::create_label(&mailbox, &p.changes()).await?;
            Ok(ToolOutput::structured(render_label("Label created successfully:", &label), &label))
        },
    )
    .add::<UpdateLabel, LabelInfo, _, _>(
        Decl {
            name: "update_label",
            title: "Update a label",
            description: "Updates an existing Gmail label's name, visibility or colour (only the fields given).",
            annotations: Annotations::IDEMPOTENT_WRITE,
        },
        |ctx, p: UpdateLabel| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let changes = LabelChanges {
                name: p.name,
                message_list_visibility: p.message_list_visibility,
                label_list_visibility: p.label_list_visibility,
                color: p.color,
            };
            let label = labels::update_label(&mailbox, &p.id, &changes).await?;
            Ok(ToolOutput::structured(render_label("Label updated successfully:", &label), &label))
        },
    )
    .add_text::<LabelId, _, _>(
        Decl {
            name: "delete_label",
            title: "Delete a label",
            description: "Deletes a Gmail label (the messages stay; only the label is removed from them). System labels cannot be deleted.",
            annotations: Annotations::DESTRUCTIVE,
        },
        |ctx, p: LabelId| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            labels::delete_label(&mailbox, &p.id).await?;
            Ok(ToolOutput::text(format!("Label {} deleted successfully.", p.id)))
        },
    )
    .add::<CreateLabel, LabelInfo, _, _>(
        Decl {
            name: "get_or_create_label",
            title: "Get or create a label",
            description: "Gets an existing label by name (case-insensitive) or creates it if it doesn't exist.",
            annotations: Annotations::IDEMPOTENT_WRITE,
        },
        |ctx, p: CreateLabel| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let (label, created) = labels::get_or_create_label(&mailbox, &p.changes()).await?;
            let head = if created { "Successfully created new label:" } else { "Successfully found existing label:" };
            Ok(ToolOutput::structured(render_label(head, &label), &label))
        },
    )
    .add::<ThreadLabelChange, ThreadLabels, _, _>(
        Decl {
            name: "modify_thread",
            title: "Change a conversation's labels",
            description: "Adds or removes labels on every message of a conversation (thread), e.g. archive a whole thread by removing INBOX.",
            annotations: Annotations::IDEMPOTENT_WRITE,
        },
        |ctx, p: ThreadLabelChange| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let t = threads::modify_thread(
                &mailbox,
                &p.thread_id,
                &p.add_label_ids.unwrap_or_default(),
                &p.remove_label_ids.unwrap_or_default(),
            )
            .await?;
            Ok(ToolOutput::structured(format!("Thread {} labels updated ({} messages)", t.id, t.messages.len()), &t))
        },
    )
    .add::<ThreadIdOnly, ThreadLabels, _, _>(
        Decl {
            name: "trash_thread",
            title: "Move a conversation to the trash",
            description: "Moves every message of a conversation to the trash (recoverable with untrash_thread).",
            annotations: Annotations::IDEMPOTENT_WRITE,
        },
        |ctx, p: ThreadIdOnly| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let t = threads::trash_thread(&mailbox, &p.thread_id).await?;
            Ok(ToolOutput::structured(format!("Thread {} moved to trash", t.id), &t))
        },
    )
    .add::<ThreadIdOnly, ThreadLabels, _, _>(
        Decl {
            name: "untrash_thread",
            title: "Restore a conversation from the trash",
            description: "Takes every message of a conversation out of the trash.",
            annotations: Annotations::IDEMPOTENT_WRITE,
        },
        |ctx, p: ThreadIdOnly| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let t = threads::untrash_thread(&mailbox, &p.thread_id).await?;
            Ok(ToolOutput::structured(format!("Thread {} restored from trash", t.id), &t))
        },
    )
}

fn add_other_tools(b: RegistryBuilder) -> RegistryBuilder {
    b.add::<CreateFilter, FilterInfo, _, _>(
        Decl {
            name: "create_filter",
            title: "Create a filter",
            description: "Creates a new Gmail filter with custom criteria (from, to, subject, query, negatedQuery, hasAttachment, size) and actions (addLabelIds, removeLabelIds, forward). Applies to mail that arrives afterwards.",
            annotations: Annotations::WRITE,
        },
        |ctx, p: CreateFilter| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let f = filters::create_filter(&mailbox, &p.criteria, &p.action).await?;
            Ok(ToolOutput::structured(render_filter("Filter created successfully:", &f), &f))
        },
    )
    .add::<AccountOnly, FilterList, _, _>(
        Decl {
            name: "list_filters",
            title: "List filters",
            description: "Retrieves all Gmail filters with their criteria and actions.",
            annotations: Annotations::READ,
        },
        |ctx, p: AccountOnly| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let list = FilterList { filters: filters::list_filters(&mailbox).await? };
            Ok(ToolOutput::structured(render_filters(&list.filters), &list))
        },
    )
    .add::<FilterId, FilterInfo, _, _>(
        Decl {
            name: "get_filter",
            title: "Get a filter",
            description: "Gets details of a specific Gmail filter.",
            annotations: Annotations::READ,
        },
        |ctx, p: FilterId| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let f = filters::get_filter(&mailbox, &p.filter_id).await?;
            Ok(ToolOutput::structured(render_filter("Filter details:", &f), &f))
        },
    )
    .add_text::<FilterId, _, _>(
        Decl {
            name: "delete_filter",
            title: "Delete a filter",
            description: "Deletes a Gmail filter.",
            annotations: Annotations::DESTRUCTIVE,
        },
        |ctx, p: FilterId| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            filters::delete_filter(&mailbox, &p.filter_id).await?;
            Ok(ToolOutput::text(format!("Filter {} deleted successfully.", p.filter_id)))
        },
    )
    .add::<CreateFilterFromTemplate, FilterInfo, _, _>(
        Decl {
            name: "create_filter_from_template",
            title: "Create a filter from a template",
            description: "Creates a filter using a pre-defined template for common scenarios: fromSender (senderEmail), withSubject (subjectText), withAttachments, largeEmails (sizeInBytes), containingText (searchText), mailingList (listIdentifier); then labelIds, archive, markAsRead, markImportant.",
            annotations: Annotations::WRITE,
        },
        |ctx, p: CreateFilterFromTemplate| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let (criteria, action) = filters::from_template(p.template, &p.parameters)?;
            let f = filters::create_filter(&mailbox, &criteria, &action).await?;
            Ok(ToolOutput::structured(render_filter("Filter created successfully from template:", &f), &f))
        },
    )
    .add::<AccountOnly, Profile, _, _>(
        Decl {
            name: "get_profile",
            title: "Get mailbox profile",
            description: "Returns the mailbox address, message and thread totals, and the current historyId (a starting point for list_changes).",
            annotations: Annotations::READ,
        },
        |ctx, p: AccountOnly| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let profile = profile::get_profile(&mailbox).await?;
            let text = format!(
                "Email: {}\nMessages: {}\nThreads: {}\nHistory ID: {}",
                profile.email_address, profile.messages_total, profile.threads_total, profile.history_id
            );
            Ok(ToolOutput::structured(text, &profile))
        },
    )
    .add::<ListChanges, Changes, _, _>(
        Decl {
            name: "list_changes",
            title: "List mailbox changes",
            description: "Lists what changed since a historyId (messages added or deleted, labels added or removed), oldest first, and the new historyId to poll from next. Take the first historyId from get_profile.",
            annotations: Annotations::READ,
        },
        |ctx, p: ListChanges| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let req = ChangesRequest {
                start_history_id: p.start_history_id,
                kinds: p.kinds.unwrap_or_default(),
                label_id: p.label_id,
                max_results: p.max_results,
                page_token: p.page_token,
            };
            let changes = history::list_changes(&mailbox, &req).await?;
            Ok(ToolOutput::structured(render_changes(&changes), &changes))
        },
    )
    .add::<AccountOnly, Vacation, _, _>(
        Decl {
            name: "get_vacation",
            title: "Get the vacation responder",
            description: "Returns the vacation auto-reply settings.",
            annotations: Annotations::READ,
        },
        |ctx, p: AccountOnly| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let v = settings::get_vacation(&mailbox).await?;
            Ok(ToolOutput::structured(render_vacation(&v), &v))
        },
    )
    .add::<SetVacation, Vacation, _, _>(
        Decl {
            name: "set_vacation",
            title: "Set the vacation responder",
            description: "Turns the vacation auto-reply on or off and sets its subject, text or HTML body, audience restrictions and optional start/end times (milliseconds since the epoch).",
            annotations: Annotations::IDEMPOTENT_WRITE,
        },
        |ctx, p: SetVacation| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let v = settings::set_vacation(&mailbox, &p.vacation()).await?;
            Ok(ToolOutput::structured(render_vacation(&v), &v))
        },
    )
    .add::<AccountOnly, SendAsList, _, _>(
        Decl {
            name: "list_send_as",
            title: "List send-as identities",
            description: "Lists the addresses this mailbox can send as (the primary address and verified aliases), with display names and signatures. Pass one as `from` when sending.",
            annotations: Annotations::READ,
        },
        |ctx, p: AccountOnly| async move {
            let mailbox = ctx.mailbox(p.account.as_deref()).await?;
            let list = SendAsList { identities: settings::list_send_as(&mailbox).await? };
            Ok(ToolOutput::structured(render_send_as(&list.identities), &list))
        },
    )
}

#[derive(Debug, serde::Serialize, JsonSchema)]
pub struct LabelList {
    pub labels: Vec<LabelInfo>,
}

#[derive(Debug, serde::Serialize, JsonSchema)]
pub struct FilterList {
    pub filters: Vec<FilterInfo>,
}

#[derive(Debug, serde::Serialize, JsonSchema)]
pub struct SendAsList {
    pub identities: Vec<SendAsIdentity>,
}
