//! The MCP server handler: lists and calls the tools of the shared registry. Written by hand
//! (no `#[tool]` macros) because the registry, not this crate, declares the tools.

// rmcp marks MCP logging deprecated (SEP-2577), but clients still negotiate protocol versions
// that have it and call `logging/setLevel`; we keep supporting it.
#![allow(deprecated)]

use std::sync::{Arc, Mutex};
use std::time::Instant;

use gmail_shared::tools::resources::{self, GmailResource};
use gmail_shared::tools::{Registry, ToolContext, ToolError, ToolPolicy, ToolSpec, Toolset};
use gmail_shared::GmailError;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    JsonObject, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, LoggingLevel,
    LoggingMessageNotificationParam, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, Resource, ResourceContents, ResourceTemplate,
    ServerCapabilities, ServerConfig, SetLevelRequestParams, SubscribeRequestParams, Tool,
    ToolAnnotations, UnsubscribeRequestParams,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::Value;

/// What every session is told once (the shared vocabulary tools' own descriptions leave out),
/// plus which toolsets are on. Claude Code's tool search matches on this text too.
pub fn instructions(policy: &ToolPolicy, registry: &Registry) -> String {
    let on: Vec<&str> = policy
        .active_toolsets(registry.list())
        .into_iter()
        .map(|t| t.as_str())
        .collect();
    // What the operator could turn on: only for a session the server's own configuration
    // shapes (a key's or a request's narrowing is deliberate), and only toolsets with a tool
    // that read-only mode would keep.
    let off: Vec<&str> = if policy.is_narrowed() {
        vec![]
    } else {
        Toolset::ALL
            .into_iter()
            .filter(|t| !on.contains(&t.as_str()))
            .filter(|t| {
                registry.list().any(|spec| {
                    spec.toolset == *t
                        && (!policy.is_read_only() || spec.annotations.read_only_hint)
                })
            })
            .map(|t| t.as_str())
            .collect()
    };
    let mut text = format!(
        "Gmail tools. Toolsets on: {}{}.{}\n",
        if on.is_empty() {
            "none".to_string()
        } else {
            on.join(", ")
        },
        if off.is_empty() {
            String::new()
        } else {
            format!(" (also available: {})", off.join(", "))
        },
        if policy.is_read_only() {
            " Read-only."
        } else {
            ""
        }
    );
    text.push_str(
        "- get_profile tells the mailbox's address; \"me\" in results is that address.\n\
- Queries use Gmail search syntax: from:, to:, subject:, label:, is:unread, is:starred, has:attachment, \
after:2026/01/31, older_than:7d, OR, -word, \"phrase\". Spam and trash are left out unless in:spam, in:trash or includeSpamTrash.\n\
- Search lines read: id date flags sender: subject; flags U unread, S starred, A attachment; thread:<id> when the conversation's id differs. \
The last line gives the pageToken for more. maxResults is 1-500.\n\
- Results are concise: responseFormat \"detailed\" adds every header, Gmail's long ids and snippets (snippets: true adds them to a search). \
Times are UTC. In a body, […] marks what was left out: quoted history, greeting and signature, list boilerplate, \
and all but the opening paragraph of a bulk mailing (newsletter, promotion, notification).\n\
- read_email and get_thread show long texts in windows: maxLength characters (default 20000, 0: all) from offset; the last line says where to continue. \
read_email shows each attachment's short attachmentId for download_attachment. Label arguments take ids or names.\n\
- dryRun: true on send_email, reply_email or forward_email shows the message and sends nothing. \
Give them an idempotencyKey to retry safely: the same key and message answer the first send (marked replayed), never a second.\n\
- account (multi-user servers): a connected address or connection id; default the primary one.\n\
- Sending, deleting and relabelling act on the real mailbox: confirm with the user first.",
    );
    text
}

/// What every session shares: built once per process.
#[derive(Clone)]
pub struct Shared {
    ctx: ToolContext,
    registry: Registry,
    tools: Arc<[Tool]>,
}

impl Shared {
    pub fn new(ctx: ToolContext, registry: Registry) -> Self {
        let tools = registry.list().map(to_rmcp_tool).collect();
        Shared {
            ctx,
            registry,
            tools,
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The same registry and tools acting for one caller (a session bound to its user).
    pub fn with_context(&self, ctx: ToolContext) -> Shared {
        Shared {
            ctx,
            registry: self.registry.clone(),
            tools: self.tools.clone(),
        }
    }
}

/// One session's handler: cheap to make (a few `Arc` clones) so each session gets its own,
/// holding that session's logging level.
#[derive(Clone)]
pub struct GmailMcp {
    shared: Shared,
    /// Lowest level the client asked to receive with `logging/setLevel`; none until it asks.
    log_level: Arc<Mutex<Option<LoggingLevel>>>,
    /// The tools the session started with (its `initialize` request's headers and path):
    /// later requests may narrow them further, never undo them.
    session_tools: Arc<std::sync::OnceLock<ToolPolicy>>,
    /// Resource subscriptions of this session: its canonical uri → the task that notifies it
    /// (so at most one per connected account).
    subscriptions: Arc<Mutex<std::collections::HashMap<String, tokio::task::AbortHandle>>>,
    /// `subscriptions/listen` requests this session has open.
    listens: Arc<std::sync::atomic::AtomicUsize>,
}

/// Open `subscriptions/listen` requests per session at most: each holds a watcher per inbox
/// it names, and every watcher polls the shared event store.
const MAX_LISTENS: usize = 4;

impl Drop for GmailMcp {
    fn drop(&mut self) {
        // The last handle of a session: its subscriptions end with it.
        if Arc::strong_count(&self.subscriptions) == 1 {
            for (_, task) in self
                .subscriptions
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .drain()
            {
                task.abort();
            }
        }
    }
}

impl GmailMcp {
    pub fn new(shared: Shared) -> Self {
        GmailMcp {
            shared,
            log_level: Arc::default(),
            session_tools: Arc::default(),
            subscriptions: Arc::default(),
            listens: Arc::default(),
        }
    }

    /// The caller's context: Streamable HTTP authenticates every request, so its caller (and
    /// the tools its headers leave on) rides in the request parts; SSE sessions were bound to
    /// theirs when they opened.
    fn context_of(&self, context: &RequestContext<RoleServer>) -> ToolContext {
        let ctx = self.request_context(context);
        match self.session_tools.get() {
            Some(session) => ctx.narrowed(session.clone()),
            None => ctx,
        }
    }

    fn request_context(&self, context: &RequestContext<RoleServer>) -> ToolContext {
        context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|parts| {
                // rmcp-actix-web nests the hook's extensions as one value in the parts.
                parts.extensions.get::<ToolContext>().or_else(|| {
                    parts
                        .extensions
                        .get::<rmcp::model::Extensions>()
                        .and_then(|e| e.get::<ToolContext>())
                })
            })
            .cloned()
            .unwrap_or_else(|| self.shared.ctx.clone())
    }

    /// What the audit log calls this request: the HTTP request's correlation id on
    /// Streamable HTTP, else the JSON-RPC id in this session.
    fn request_id_of(&self, context: &RequestContext<RoleServer>) -> String {
        let http = context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|parts| {
                parts
                    .extensions
                    .get::<rmcp::model::Extensions>()
                    .and_then(|e| e.get::<gmail_shared::telemetry::CorrelationId>())
                    .or_else(|| {
                        parts
                            .extensions
                            .get::<gmail_shared::telemetry::CorrelationId>()
                    })
            })
            .map(|c| c.0.clone());
        http.unwrap_or_else(|| format!("jsonrpc:{}", context.id))
    }

    fn wants(&self, level: LoggingLevel) -> bool {
        let chosen = *self.log_level.lock().unwrap_or_else(|e| e.into_inner());
        chosen.is_some_and(|min| severity(level) >= severity(min))
    }

    /// Tells a client that asked for log messages how a call went.
    async fn log_call(
        &self,
        context: &RequestContext<RoleServer>,
        tool: &str,
        outcome: &Result<(), String>,
        started: Instant,
    ) {
        let level = if outcome.is_ok() {
            LoggingLevel::Info
        } else {
            LoggingLevel::Warning
        };
        if !self.wants(level) {
            return;
        }
        let mut data = serde_json::json!({
            "tool": tool,
            "ok": outcome.is_ok(),
            "ms": started.elapsed().as_millis() as u64,
        });
        if let (Err(message), Some(map)) = (outcome, data.as_object_mut()) {
            map.insert("error".into(), Value::from(message.as_str()));
        }
        let mut param = LoggingMessageNotificationParam::new(level, data);
        param.logger = Some(env!("CARGO_PKG_NAME").into());
        // Best effort: a client that went away misses a log line, nothing more.
        let _ = context.peer.notify_logging_message(param).await;
    }
}

/// One of a session's open `subscriptions/listen` requests; given back when dropped.
struct ListenSlot(Arc<std::sync::atomic::AtomicUsize>);

impl ListenSlot {
    fn take(open: &Arc<std::sync::atomic::AtomicUsize>) -> Option<ListenSlot> {
        use std::sync::atomic::Ordering;
        open.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < MAX_LISTENS).then_some(n + 1)
        })
        .ok()
        .map(|_| ListenSlot(open.clone()))
    }
}

impl Drop for ListenSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// A resource request that failed: bad URIs and unknown accounts are the caller's to fix.
fn resource_error(e: GmailError) -> McpError {
    match e {
        GmailError::InvalidArgument { .. } | GmailError::NotFound { .. } => {
            McpError::invalid_params(e.to_string(), None)
        }
        other => McpError::internal_error(other.tool_message(), None),
    }
}

/// rmcp's levels are declared in severity order; compare by position.
fn severity(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

/// Maps a registry declaration to rmcp's tool: the title goes in both places clients look.
pub fn to_rmcp_tool(spec: &ToolSpec) -> Tool {
    let input = match &spec.input_schema {
        Value::Object(map) => map.clone(),
        // MCP requires an object schema; a tool without one takes no arguments.
        _ => {
            let mut map = JsonObject::new();
            map.insert("type".into(), Value::from("object"));
            map
        }
    };
    let a = spec.annotations;
    let annotations = ToolAnnotations::with_title(spec.title)
        .read_only(a.read_only_hint)
        .destructive(a.destructive_hint)
        .idempotent(a.idempotent_hint)
        .open_world(a.open_world_hint);
    let mut tool = Tool::new(spec.name, spec.description, Arc::new(input))
        .with_title(spec.title)
        .with_annotations(annotations);
    if let Some(chars) = spec.max_result_chars {
        let mut meta = rmcp::model::MetaObject::new();
        meta.insert("anthropic/maxResultSizeChars".into(), Value::from(chars));
        tool = tool.with_meta(meta);
    }
    if let Some(Value::Object(output)) = &spec.output_schema {
        tool = tool.with_raw_output_schema(Arc::new(output.clone()));
    }
    tool
}

impl ServerHandler for GmailMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_logging()
                .enable_resources()
                .enable_resources_subscribe()
                .build(),
        )
        .with_server_info(Implementation::new(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(instructions(
            &self.shared.ctx.env.tools,
            &self.shared.registry,
        ))
    }

    async fn initialize(
        &self,
        request: rmcp::model::InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::InitializeResult, McpError> {
        context.peer.set_peer_info(request.clone());
        let mut result = self.negotiate_initialize(&request)?;
        // Streamable HTTP: the toolsets this request's caller, key and headers leave on.
        let ctx = self.context_of(&context);
        let _ = self.session_tools.set(ctx.env.tools.clone());
        result.instructions = Some(instructions(&ctx.env.tools, &self.shared.registry));
        Ok(result)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        // One page, always in declaration order (clients may cache it): the catalog is a few
        // dozen tools, fewer when the caller's policy hides some.
        let policy = &self.context_of(&context).env.tools;
        let tools = self
            .shared
            .registry
            .list()
            .zip(self.shared.tools.iter())
            .filter(|(spec, _)| policy.allows(spec))
            .map(|(_, tool)| tool.clone())
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        let policy = &self.shared.ctx.env.tools;
        self.shared
            .registry
            .list()
            .zip(self.shared.tools.iter())
            .find(|(spec, tool)| tool.name == name && policy.allows(spec))
            .map(|(_, tool)| tool.clone())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let started = Instant::now();
        let name = request.name.as_ref();
        let args = request.arguments.map(Value::Object).unwrap_or(Value::Null);
        let request_id = self.request_id_of(&context);
        let mut ctx = self
            .context_of(&context)
            .for_call(format!("tool:{name}"), Some(request_id));
        // A client that sent a progress token hears from long calls (wait_for_email).
        if let Some(token) = context.meta.get_progress_token() {
            let peer = context.peer.clone();
            ctx = ctx.with_progress(Arc::new(move |progress, total, message| {
                let peer = peer.clone();
                let token = token.clone();
                Box::pin(async move {
                    let mut param = rmcp::model::ProgressNotificationParam::new(token, progress);
                    param.total = total;
                    param.message = Some(message);
                    let _ = peer.notify_progress(param).await;
                })
            }));
        }
        // The caller's rate is taken at this edge: an over-rate call is an isError result
        // that says when to retry, and reaches neither the tool nor Gmail.
        let result = match ctx.check_rate() {
            Ok(()) => self.shared.registry.call(ctx, name, args).await,
            Err(e) => Err(ToolError::Gmail(e)),
        };
        let result = match result {
            Ok(output) => {
                let mut result = CallToolResult::success(vec![ContentBlock::text(output.text)]);
                result.structured_content = output.structured;
                self.log_call(&context, name, &Ok(()), started).await;
                result
            }
            Err(ToolError::UnknownTool(tool)) => {
                return Err(McpError::invalid_params(
                    format!("Unknown tool: {tool}"),
                    None,
                ));
            }
            Err(e @ ToolError::InvalidArguments { .. }) => {
                let text = format!("Error (invalid-argument): {e}");
                self.log_call(&context, name, &Err(text.clone()), started)
                    .await;
                CallToolResult::error(vec![ContentBlock::text(text)])
            }
            Err(ToolError::Gmail(e)) => {
                let text = e.tool_message();
                // An internal error was logged, with its cause, as its message was made.
                if !matches!(e, GmailError::Internal { .. }) {
                    tracing::warn!(tool = name, error = %e, "tool call failed");
                }
                self.log_call(&context, name, &Err(text.clone()), started)
                    .await;
                CallToolResult::error(vec![ContentBlock::text(text)])
            }
        };
        Ok(result.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let ctx = self.context_of(&context);
        let list = resources::list(&ctx).await.map_err(resource_error)?;
        Ok(ListResourcesResult::with_all_items(
            list.into_iter()
                .map(|(uri, name)| {
                    Resource::new(uri, name)
                        .with_mime_type("text/plain")
                        .with_description("The latest inbox messages, one line each; subscribe to hear when mail arrives")
                })
                .collect(),
        ))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(ListResourceTemplatesResult::with_all_items(vec![
            ResourceTemplate::new(resources::INBOX_TEMPLATE, "inbox")
                .with_title("Inbox")
                .with_description("The latest inbox messages of a connected address, one line each")
                .with_mime_type("text/plain"),
            ResourceTemplate::new(resources::MESSAGE_TEMPLATE, "message")
                .with_title("Message")
                .with_description("One message: headers and its text, concise")
                .with_mime_type("text/plain"),
        ]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let ctx = self.context_of(&context);
        let resource = GmailResource::parse(&request.uri).map_err(resource_error)?;
        let text = resources::read(&ctx, &resource)
            .await
            .map_err(resource_error)?;
        Ok(ReadResourceResult::new(vec![ResourceContents::text(text, request.uri)]).into())
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let ctx = self.context_of(&context);
        let resource = GmailResource::parse(&request.uri).map_err(resource_error)?;
        let GmailResource::Inbox { account } = resource else {
            return Err(McpError::invalid_params(
                "only gmail://{account}/inbox resources change; subscribe to those",
                None,
            ));
        };
        let Some(events) = ctx.env.events.clone() else {
            return Err(McpError::invalid_params(
                "events are turned off on this server (events.enabled = false)",
                None,
            ));
        };
        // The account must be the caller's.
        let mailbox = ctx.mailbox(Some(&account)).await.map_err(resource_error)?;
        let user = gmail_shared::events::wait::user_of(&ctx).map_err(resource_error)?;
        let (mut after, _) = events
            .watch_from(&user, &mailbox)
            .await
            .map_err(resource_error)?;
        let peer = context.peer.clone();
        let uri = request.uri.clone();
        let key = resources::inbox_uri(&account);
        let task = tokio::spawn(async move {
            loop {
                if let Err(e) = events.next_inbox_change(&user, &account, &mut after).await {
                    tracing::warn!(error = %e, "resource subscription stopped");
                    return;
                }
                let note = rmcp::model::ResourceUpdatedNotificationParam::new(uri.clone());
                if peer.notify_resource_updated(note).await.is_err() {
                    return; // the client went away
                }
            }
        });
        if let Some(old) = self
            .subscriptions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, task.abort_handle())
        {
            old.abort();
        }
        Ok(())
    }

    /// Protocol 2026-07-28 subscribes with `subscriptions/listen`: inbox resources are taken.
    fn accepted_subscription_filter(
        &self,
        requested: &rmcp::model::SubscriptionFilter,
    ) -> Option<rmcp::model::SubscriptionFilter> {
        let mut accepted = rmcp::model::SubscriptionFilter::new();
        accepted.resource_subscriptions = requested.resource_subscriptions.as_ref().map(|uris| {
            uris.iter()
                .filter(|u| matches!(GmailResource::parse(u), Ok(GmailResource::Inbox { .. })))
                .cloned()
                .collect()
        });
        Some(accepted)
    }

    async fn listen(&self, context: rmcp::service::SubscriptionContext) -> Result<(), McpError> {
        let ctx = self.context_of(context.request_context());
        let Some(events) = ctx.env.events.clone() else {
            return Err(McpError::invalid_params(
                "events are turned off on this server (events.enabled = false)",
                None,
            ));
        };
        let user = gmail_shared::events::wait::user_of(&ctx).map_err(resource_error)?;
        let open = ListenSlot::take(&self.listens).ok_or_else(|| {
            McpError::invalid_request(
                format!("this session has {MAX_LISTENS} subscriptions/listen requests open already; one listen takes every inbox it names"),
                None,
            )
        })?;
        // One watcher per account, however many spellings of its uri the request names.
        let mut inboxes = std::collections::BTreeMap::new();
        for uri in context
            .accepted()
            .resource_subscriptions
            .clone()
            .unwrap_or_default()
        {
            if let Ok(GmailResource::Inbox { account }) = GmailResource::parse(&uri) {
                inboxes.entry(account).or_insert(uri);
            }
        }
        let mut watches = Vec::new();
        for (account, uri) in inboxes {
            // The account must be the caller's.
            let mailbox = ctx.mailbox(Some(&account)).await.map_err(resource_error)?;
            let (mut after, _) = events
                .watch_from(&user, &mailbox)
                .await
                .map_err(resource_error)?;
            let (events, user, sink) = (events.clone(), user.clone(), context.sink().clone());
            watches.push(async move {
                while events
                    .next_inbox_change(&user, &account, &mut after)
                    .await
                    .is_ok()
                {
                    let note = rmcp::model::ResourceUpdatedNotification::new(
                        rmcp::model::ResourceUpdatedNotificationParam::new(uri.clone()),
                    );
                    let sent = sink
                        .send(rmcp::model::ServerNotification::ResourceUpdatedNotification(note))
                        .await;
                    if sent.is_err() {
                        return;
                    }
                }
            });
        }
        tokio::select! {
            _ = context.cancelled() => {}
            _ = futures::future::join_all(watches) => {}
        }
        drop(open);
        Ok(())
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        // Subscriptions are kept under the inbox's canonical uri, whatever spelling named it.
        let key = match GmailResource::parse(&request.uri) {
            Ok(GmailResource::Inbox { account }) => resources::inbox_uri(&account),
            _ => request.uri.clone(),
        };
        if let Some(task) = self
            .subscriptions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key)
        {
            task.abort();
        }
        Ok(())
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        *self.log_level.lock().unwrap_or_else(|e| e.into_inner()) = Some(request.level);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_tool_maps_with_title_annotations_and_object_schema() {
        let registry = gmail_shared::tools::catalog::registry();
        for spec in registry.list() {
            let tool = to_rmcp_tool(spec);
            assert_eq!(tool.name, spec.name);
            assert_eq!(tool.title.as_deref(), Some(spec.title));
            let ann = tool.annotations.as_ref().expect("annotations");
            assert_eq!(ann.title.as_deref(), Some(spec.title));
            assert_eq!(ann.read_only_hint, Some(spec.annotations.read_only_hint));
            assert_eq!(tool.input_schema.get("type"), Some(&Value::from("object")));
        }
    }

    #[test]
    fn a_session_holds_at_most_max_listens_and_gets_them_back() {
        let open = Arc::default();
        let slots: Vec<ListenSlot> = (0..MAX_LISTENS)
            .map(|_| ListenSlot::take(&open).expect("under the cap"))
            .collect();
        assert!(ListenSlot::take(&open).is_none());
        drop(slots);
        assert!(ListenSlot::take(&open).is_some());
    }

    #[test]
    fn severity_orders_levels() {
        assert!(severity(LoggingLevel::Error) > severity(LoggingLevel::Warning));
        assert!(severity(LoggingLevel::Debug) < severity(LoggingLevel::Info));
    }
}
