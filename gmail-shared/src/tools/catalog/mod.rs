//! Every tool's declaration and the operation it calls. The first 19 keep the names and input
//! fields of the most used Gmail MCP server (GongRzhe's), so prompts written for it work
//! unchanged; everything else only adds optional fields or new tools.
//!
//! A tool is its handler under `#[tool(title = ..., annotations = ..., toolset = ...)]`: the
//! function's name is the tool's, its doc comment is the description a model reads, and the
//! macro (gmail-tool-macros) declares `const <NAME>: Decl` beside it for the registration below.

use gmail_tool_macros::tool;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

use super::{NoOutput, Registry, RegistryBuilder, ToolContext, ToolOutput, ToolResult};
use crate::ops::filters::{self, Action, Criteria, FilterInfo, Template, TemplateParameters};
use crate::ops::history::{self, ChangeKind, Changes, ChangesRequest};
use crate::ops::profile::{self, Profile};
use crate::ops::settings::{self, SendAsIdentity, Vacation};
use crate::ops::{FilterId, LabelId};
use crate::ops::{Mailbox, PageSize};

pub mod compose_tools;
mod connections;
pub mod drafts;
pub mod events;
pub mod organize;
mod render;
pub mod text;

pub use organize::LabelList;
pub use render::*;

/// A whole, non-negative number of things (results, characters, a batch): a JSON number
/// (`10` or `10.0`) whose schema says `number`, as the peer server's does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count(pub u32);

impl JsonSchema for Count {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        f64::schema_name()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        f64::json_schema(generator)
    }
}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f = f64::deserialize(d)?;
        if f.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&f) {
            Ok(Count(f as u32))
        } else {
            Err(serde::de::Error::custom(format!(
                "expected a whole number, got {f}"
            )))
        }
    }
}

impl From<Count> for u32 {
    fn from(c: Count) -> u32 {
        c.0
    }
}

// The arguments of a tool that takes none but `account` (which the registry declares for every
// tool acting on a mailbox). Not a doc comment: that would become the schema's description.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArguments {}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateFilter {
    pub criteria: Criteria,
    pub action: Action,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FilterArg {
    pub filter_id: FilterId,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateFilterFromTemplate {
    pub template: Template,
    pub parameters: TemplateParameters,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListChanges {
    /// From get_profile or the last list_changes
    pub start_history_id: String,
    pub kinds: Option<Vec<ChangeKind>>,
    pub label_id: Option<LabelId>,
    pub max_results: Option<Count>,
    pub page_token: Option<String>,
}

/// The catalog as a deployment lists it: a single-user server has no `account` to choose.
pub fn registry_for(settings: &crate::config::Settings) -> Registry {
    if settings.multi_user.enabled {
        registry()
    } else {
        registry().without_account_argument()
    }
}

/// The full catalog.
/// Every tool's name, in catalog order.
pub fn names() -> &'static [&'static str] {
    static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| registry().list().map(|s| s.name).collect())
}

pub fn registry() -> Registry {
    let builder = Registry::builder();
    let builder = compose_tools::add_compose_tools(builder);
    let builder = drafts::add_draft_tools(builder);
    let builder = organize::add_organize_tools(builder);
    let builder = connections::add_connection_tools(builder);
    let builder = events::add_event_tools(builder);
    add_other_tools(builder).build()
}

/// Creates a filter for mail that arrives from now on: criteria (from, to, subject, query,
/// hasAttachment, size) and actions (labels, forward).
#[tool(title = "Create a filter", annotations = WRITE, toolset = Filters)]
async fn create_filter(_ctx: ToolContext, mailbox: Mailbox, p: CreateFilter) -> ToolResult {
    let f = filters::create_filter(&mailbox, &p.criteria, &p.action).await?;
    Ok(ToolOutput::structured(
        render_filter("Filter created successfully:", &f),
        &f,
    ))
}

/// Lists filters with their criteria and actions.
#[tool(title = "List filters", annotations = READ, toolset = Filters)]
async fn list_filters(_ctx: ToolContext, mailbox: Mailbox, _p: NoArguments) -> ToolResult {
    let list = FilterList {
        filters: filters::list_filters(&mailbox).await?,
    };
    Ok(ToolOutput::structured(render_filters(&list.filters), &list))
}

/// Reads one filter.
#[tool(title = "Get a filter", annotations = READ, toolset = Filters)]
async fn get_filter(_ctx: ToolContext, mailbox: Mailbox, p: FilterArg) -> ToolResult {
    let f = filters::get_filter(&mailbox, &p.filter_id).await?;
    Ok(ToolOutput::structured(
        render_filter("Filter details:", &f),
        &f,
    ))
}

/// Deletes a filter.
#[tool(title = "Delete a filter", annotations = DESTRUCTIVE, toolset = Filters)]
async fn delete_filter(_ctx: ToolContext, mailbox: Mailbox, p: FilterArg) -> ToolResult {
    filters::delete_filter(&mailbox, &p.filter_id).await?;
    Ok(ToolOutput::text(format!(
        "Filter {} deleted successfully.",
        p.filter_id
    )))
}

/// Creates a filter from a template: fromSender, withSubject, withAttachments, largeEmails,
/// containingText or mailingList.
#[tool(title = "Create a filter from a template", annotations = WRITE, toolset = Filters)]
async fn create_filter_from_template(
    _ctx: ToolContext,
    mailbox: Mailbox,
    p: CreateFilterFromTemplate,
) -> ToolResult {
    let (criteria, action) = filters::from_template(p.template, &p.parameters)?;
    let f = filters::create_filter(&mailbox, &criteria, &action).await?;
    Ok(ToolOutput::structured(
        render_filter("Filter created successfully from template:", &f),
        &f,
    ))
}

/// Mailbox address, totals and current historyId.
#[tool(title = "Get mailbox profile", annotations = READ, toolset = Read)]
async fn get_profile(_ctx: ToolContext, mailbox: Mailbox, _p: NoArguments) -> ToolResult {
    let profile = profile::get_profile(&mailbox).await?;
    let text = format!(
        "Email: {}\nMessages: {}\nThreads: {}\nHistory ID: {}",
        profile.email_address, profile.messages_total, profile.threads_total, profile.history_id
    );
    Ok(ToolOutput::structured(text, &profile))
}

/// Lists changes since a historyId, and the historyId to poll next.
#[tool(title = "List mailbox changes", annotations = READ, toolset = History)]
async fn list_changes(_ctx: ToolContext, mailbox: Mailbox, p: ListChanges) -> ToolResult {
    let req = ChangesRequest {
        start_history_id: p.start_history_id,
        kinds: p.kinds.unwrap_or_default(),
        label_id: p.label_id,
        max_results: PageSize::parse(p.max_results.map(u32::from), PageSize::default())?,
        page_token: p.page_token,
    };
    let changes = history::list_changes(&mailbox, &req).await?;
    Ok(ToolOutput::structured(render_changes(&changes), &changes))
}

/// Returns the vacation auto-reply settings.
#[tool(title = "Get the vacation responder", annotations = READ, toolset = Settings)]
async fn get_vacation(_ctx: ToolContext, mailbox: Mailbox, _p: NoArguments) -> ToolResult {
    let v = settings::get_vacation(&mailbox).await?;
    Ok(ToolOutput::structured(render_vacation(&v), &v))
}

/// Turns the vacation auto-reply on or off and sets its text and dates.
#[tool(title = "Set the vacation responder", annotations = IDEMPOTENT_WRITE, toolset = Settings)]
async fn set_vacation(_ctx: ToolContext, mailbox: Mailbox, p: Vacation) -> ToolResult {
    let v = settings::set_vacation(&mailbox, &p).await?;
    Ok(ToolOutput::structured(render_vacation(&v), &v))
}

/// Lists the addresses this mailbox can send as; pass one as `from`.
#[tool(title = "List send-as identities", annotations = READ, toolset = Settings)]
async fn list_send_as(_ctx: ToolContext, mailbox: Mailbox, _p: NoArguments) -> ToolResult {
    let list = SendAsList {
        identities: settings::list_send_as(&mailbox).await?,
    };
    Ok(ToolOutput::structured(
        render_send_as(&list.identities),
        &list,
    ))
}

fn add_other_tools(b: RegistryBuilder) -> RegistryBuilder {
    b.on_mailbox::<CreateFilter, FilterInfo, _, _>(CREATE_FILTER, create_filter)
        .on_mailbox::<NoArguments, FilterList, _, _>(LIST_FILTERS, list_filters)
        .on_mailbox::<FilterArg, FilterInfo, _, _>(GET_FILTER, get_filter)
        .on_mailbox::<FilterArg, NoOutput, _, _>(DELETE_FILTER, delete_filter)
        .on_mailbox::<CreateFilterFromTemplate, FilterInfo, _, _>(
            CREATE_FILTER_FROM_TEMPLATE,
            create_filter_from_template,
        )
        .on_mailbox::<NoArguments, Profile, _, _>(GET_PROFILE, get_profile)
        .on_mailbox::<ListChanges, Changes, _, _>(LIST_CHANGES, list_changes)
        .on_mailbox::<NoArguments, Vacation, _, _>(GET_VACATION, get_vacation)
        .on_mailbox::<Vacation, Vacation, _, _>(SET_VACATION, set_vacation)
        .on_mailbox::<NoArguments, SendAsList, _, _>(LIST_SEND_AS, list_send_as)
}

#[derive(Debug, serde::Serialize, JsonSchema)]
pub struct FilterList {
    pub filters: Vec<FilterInfo>,
}

#[derive(Debug, serde::Serialize, JsonSchema)]
pub struct SendAsList {
    pub identities: Vec<SendAsIdentity>,
}
