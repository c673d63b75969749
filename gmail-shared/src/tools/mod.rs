//! The tool registry: every Gmail capability declared once (name, title, description,
//! annotations, input and output schema, the operation it calls). The MCP server lists and
//! calls tools from here; the REST server exposes the same registry at `/api/v1/tools`.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde::Serialize;
use serde_json::Value;

use crate::error::GmailError;
use crate::ops::audit::CallInfo;
use crate::ops::Mailbox;

/// MCP tool annotations (hints for clients; never a security boundary).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Annotations {
    pub read_only_hint: bool,
    pub destructive_hint: bool,
    pub idempotent_hint: bool,
    pub open_world_hint: bool,
}

impl Annotations {
    /// Creates something new each call (send, draft, label create).
    pub const WRITE: Annotations = Annotations {
        read_only_hint: false,
        destructive_hint: false,
        idempotent_hint: false,
        open_world_hint: true,
    };
    /// Changes the mailbox reversibly; repeating it has no further effect (labels, trash).
    pub const IDEMPOTENT_WRITE: Annotations = Annotations {
        idempotent_hint: true,
        ..Annotations::WRITE
    };
    /// Reads the mailbox, changes nothing.
    pub const READ: Annotations = Annotations {
        read_only_hint: true,
        ..Annotations::IDEMPOTENT_WRITE
    };
    /// Deletes or overwrites irreversibly.
    pub const DESTRUCTIVE: Annotations = Annotations {
        destructive_hint: true,
        ..Annotations::IDEMPOTENT_WRITE
    };
}

/// What a tool's handler answers: its output, or the error the caller is shown.
pub type ToolResult = Result<ToolOutput, GmailError>;

/// What a tool returns: a compact text rendering for the model and, for structured tools, the
/// same result as JSON matching the tool's output schema.
#[derive(Debug, Clone, Serialize)]
pub struct ToolOutput {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub structured: Option<Value>,
}

impl ToolOutput {
    pub fn text(text: impl Into<String>) -> Self {
        ToolOutput {
            text: text.into(),
            structured: None,
        }
    }

    pub fn structured<T: Serialize>(text: impl Into<String>, value: &T) -> Self {
        ToolOutput {
            text: text.into(),
            structured: serde_json::to_value(value).ok(),
        }
    }
}

/// Why a call did not produce a result.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// No tool by that name (a protocol error in MCP terms).
    #[error("unknown tool `{0}`")]
    UnknownTool(String),
    /// The arguments do not match the input schema. `path` is the argument at fault as a
    /// JSON path (`maxResults`, `attachmentContents[0].contentBase64`); empty for the
    /// arguments as a whole.
    #[error("invalid arguments for `{tool}`: {}{message}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
    InvalidArguments {
        tool: String,
        path: String,
        message: String,
    },
    /// The operation failed; the agent gets an `isError` result.
    #[error(transparent)]
    Gmail(#[from] GmailError),
}

pub use crate::mailbox::{Caller, MailboxProvider};

/// Everything a tool call may use besides its arguments.
#[derive(Clone)]
pub struct ToolContext {
    pub mailboxes: Arc<dyn MailboxProvider>,
    pub env: Arc<ToolEnv>,
    /// Who is acting through what, for the audit log (set per call by the door it came in).
    pub call: Arc<CallInfo>,
    /// The account service (multi-user mode), for the connection tools.
    pub accounts: Option<Arc<crate::oauth::accounts::Accounts>>,
    /// Where a long call reports progress (an MCP client that sent a progress token).
    pub progress: Option<ProgressFn>,
}

/// Reports (progress, total, message) to the caller.
pub type ProgressFn = Arc<dyn Fn(f64, Option<f64>, String) -> BoxFuture<'static, ()> + Send + Sync>;

impl ToolContext {
    pub fn new(mailboxes: Arc<dyn MailboxProvider>, env: Arc<ToolEnv>) -> Self {
        let call = CallInfo {
            user_id: mailboxes.caller().map(|c| c.user_id.clone()),
            key_id: mailboxes.caller().map(|c| c.key_id.clone()),
            ..Default::default()
        };
        ToolContext {
            mailboxes,
            env,
            call: Arc::new(call),
            accounts: None,
            progress: None,
        }
    }

    /// The same call, reporting progress through `report`.
    pub fn with_progress(mut self, report: ProgressFn) -> Self {
        self.progress = Some(report);
        self
    }

    /// With the account service its caller's connections are managed by (multi-user mode).
    pub fn with_accounts(mut self, accounts: Arc<crate::oauth::accounts::Accounts>) -> Self {
        self.accounts = Some(accounts);
        self
    }

    /// The authenticated caller and the service managing their connections; `None` on a
    /// single-user server.
    pub fn connections(&self) -> Option<(Arc<crate::oauth::accounts::Accounts>, &Caller)> {
        Some((self.accounts.clone()?, self.mailboxes.caller()?))
    }

    /// The caller's mailbox (`account` picks one of theirs), acting for this call.
    pub async fn mailbox(&self, account: Option<&str>) -> Result<Mailbox, GmailError> {
        Ok(self
            .mailboxes
            .mailbox(account)
            .await?
            .with_call(self.call.clone()))
    }

    /// The same caller acting through `entry` (`tool:send_email`, `POST /api/v1/...`) in the
    /// request `request_id`.
    pub fn for_call(&self, entry: impl Into<String>, request_id: Option<String>) -> ToolContext {
        let mut call = (*self.call).clone();
        call.entry = entry.into();
        call.request_id = request_id;
        ToolContext {
            call: Arc::new(call),
            ..self.clone()
        }
    }
}

/// Deployment settings tools need, as they apply to one caller.
#[derive(Debug, Clone, Default)]
pub struct ToolEnv {
    /// The caller's files: where attachments are read from and downloads saved.
    pub files: crate::ops::attachments::FileSpace,
    /// The caller's send rules, carried by every mailbox it resolves.
    pub send: Arc<crate::ops::policy::SendPolicy>,
    /// The tools the caller may list and call.
    pub tools: ToolPolicy,
    /// What the caller's own rules (user and API key; not the server's toolset choice)
    /// allow: REST endpoints, which do the work of tools, hold to it too.
    pub caller_tools: Option<ToolPolicy>,
    /// Request rates (one set per process, shared by every caller's env).
    pub rate: Arc<crate::server::rate::RateLimits>,
    /// The event layer (the change feed, waiting for mail), when it is on.
    pub events: Option<crate::events::Events>,
    /// Callers are users with API keys (events are filed per user).
    pub multi_user: bool,
    /// Idempotency keys of sends (one store per process, or the database).
    pub once: Arc<crate::idempotency::IdempotencyStore>,
}

impl ToolEnv {
    /// The server's rules, with an audit log of its own (in memory).
    pub fn from_settings(settings: &crate::config::Settings) -> Self {
        ToolEnv::with_audit(
            settings,
            Arc::new(crate::ops::audit::MemoryAudit::default()),
        )
    }

    /// The server's rules, recording writes in `audit` (one per process, or the database).
    pub fn with_audit(
        settings: &crate::config::Settings,
        audit: Arc<dyn crate::ops::audit::AuditSink>,
    ) -> Self {
        ToolEnv {
            files: crate::ops::attachments::FileSpace::from_settings(&settings.tools),
            send: Arc::new(crate::ops::policy::SendPolicy::from_settings(
                &settings.send,
                audit,
            )),
            // Servers validate settings before they build; should a policy still not parse,
            // no tools rather than all.
            tools: ToolPolicy::from_settings(settings).unwrap_or_else(|_| ToolPolicy::none()),
            caller_tools: None,
            rate: Arc::new(crate::server::rate::RateLimits::from_settings(
                &settings.limits,
            )),
            events: None,
            multi_user: settings.multi_user.enabled,
            once: Arc::default(),
        }
    }

    /// Narrowed to one user of a multi-user server, under their own and their key's rules.
    pub fn for_user(&self, user_id: &str, rules: &[crate::ops::policy::CallerPolicy]) -> ToolEnv {
        let mut send = (*self.send).clone();
        let mut tools = self.tools.clone();
        let mut caller_tools: Option<ToolPolicy> = None;
        for r in rules {
            send = send.narrowed(r);
            if r.read_only.unwrap_or(false) || r.toolsets.is_some() {
                let sets = r.toolsets.clone().unwrap_or_else(|| vec!["all".into()]);
                if let Ok(narrower) =
                    ToolPolicy::parse(&sets, &[], &[], r.read_only.unwrap_or(false))
                {
                    tools = tools.narrowed(narrower.clone());
                    caller_tools = Some(match caller_tools {
                        Some(p) => p.narrowed(narrower),
                        None => narrower,
                    });
                }
            }
        }
        ToolEnv {
            files: self.files.for_user(user_id),
            send: Arc::new(send),
            tools,
            caller_tools,
            rate: self.rate.clone(),
            events: self.events.clone(),
            multi_user: self.multi_user,
            once: self.once.clone(),
        }
    }
}

impl ToolContext {
    /// The same caller with fewer tools (a request's headers or path asked for fewer).
    pub fn narrowed(&self, narrower: ToolPolicy) -> ToolContext {
        let mut env = (*self.env).clone();
        env.tools = env.tools.narrowed(narrower);
        ToolContext {
            env: Arc::new(env),
            ..self.clone()
        }
    }
}

impl ToolContext {
    /// Single-user mode: every call acts on the configured account (Google credentials files,
    /// or the sandbox mailbox).
    pub fn single_user(
        factory: &crate::gmail::GmailFactory,
        settings: &crate::config::Settings,
    ) -> Result<ToolContext, GmailError> {
        let env = ToolEnv::from_settings(settings);
        let mailbox = Mailbox::new(factory.default_connection()?).with_policy(env.send.clone());
        Ok(ToolContext::new(
            Arc::new(crate::ops::SingleMailbox(mailbox)),
            Arc::new(env),
        ))
    }
}

type Handler = Arc<
    dyn Fn(ToolContext, Value) -> BoxFuture<'static, Result<ToolOutput, ToolError>> + Send + Sync,
>;

/// A tool's declaration, as listed to clients.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolSpec {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub annotations: Annotations,
    /// The group it is switched on with (`--toolsets`).
    pub toolset: Toolset,
    pub input_schema: Value,
    pub output_schema: Option<Value>,
    /// A result may be this long (characters) rather than [`MAX_RESULT_BYTES`]; listed to
    /// clients as `_meta["anthropic/maxResultSizeChars"]`.
    pub max_result_chars: Option<usize>,
}

/// A result's text is cut here (with a note saying how to get the rest): Claude Code's default
/// limit is 25,000 tokens, about 100,000 bytes of text.
pub const MAX_RESULT_BYTES: usize = 100_000;

struct Tool {
    spec: ToolSpec,
    handler: Handler,
}

/// All tools, by name.
#[derive(Clone, Default)]
pub struct Registry {
    tools: Arc<BTreeMap<&'static str, Tool>>,
    order: Arc<Vec<&'static str>>,
}

/// Builds a [`Registry`]; each `add` declares one tool.
#[derive(Default)]
pub struct RegistryBuilder {
    tools: BTreeMap<&'static str, Tool>,
    order: Vec<&'static str>,
}

/// The static part of a declaration.
pub struct Decl {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub annotations: Annotations,
    pub toolset: Toolset,
}

impl RegistryBuilder {
    /// Adds a tool whose arguments are `P` (its JSON Schema is the input schema) and whose
    /// structured result, when it has one, is `O` (its schema is the output schema).
    pub fn add<P, O, F, Fut>(self, decl: Decl, handler: F) -> Self
    where
        P: DeserializeOwned + JsonSchema + Send + 'static,
        O: JsonSchema,
        F: Fn(ToolContext, P) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ToolResult> + Send + 'static,
    {
        let output_schema = schema::output::<O>();
        self.add_raw::<P, _, Fut>(decl, output_schema, false, move |ctx, _, p| handler(ctx, p))
    }

    /// As [`RegistryBuilder::add`], for a tool that acts on one mailbox: it takes an `account`
    /// argument besides `P`, and the handler gets that mailbox resolved (the caller's, picked
    /// by `account`) once the arguments are valid. With `O` = [`NoOutput`] the tool answers
    /// with text only.
    pub fn on_mailbox<P, O, F, Fut>(self, decl: Decl, handler: F) -> Self
    where
        P: DeserializeOwned + JsonSchema + Send + 'static,
        O: JsonSchema,
        F: Fn(ToolContext, Mailbox, P) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ToolResult> + Send + 'static,
    {
        let output_schema = schema::output::<O>();
        let handler = Arc::new(handler);
        self.add_raw::<P, _, _>(decl, output_schema, true, move |ctx, account, p| {
            let handler = handler.clone();
            async move {
                let mailbox = ctx.mailbox(account.as_deref()).await?;
                handler(ctx, mailbox, p).await
            }
        })
    }

    /// The one way a tool is added: the handler gets the context, the `account` argument
    /// when the tool `takes_account` (declared here, beside the fields of `P`) and `P`.
    fn add_raw<P, F, Fut>(
        mut self,
        decl: Decl,
        output_schema: Option<Value>,
        takes_account: bool,
        handler: F,
    ) -> Self
    where
        P: DeserializeOwned + JsonSchema + Send + 'static,
        F: Fn(ToolContext, Option<String>, P) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ToolResult> + Send + 'static,
    {
        let name = decl.name;
        let handler = Arc::new(handler);
        let mut schema = schema::input::<P>();
        if takes_account {
            schema::add_argument::<Option<String>>(&mut schema, "account");
        }
        let fields = Arc::new(ArgumentNames::of(&schema));
        let wrapped: Handler = Arc::new(move |ctx: ToolContext, args: Value| {
            let handler = handler.clone();
            let fields = fields.clone();
            Box::pin(async move {
                // MCP clients send no `arguments` for tools without parameters.
                let mut args = if args.is_null() {
                    Value::Object(Default::default())
                } else {
                    args
                };
                let invalid = |path: String, message: String| ToolError::InvalidArguments {
                    tool: name.to_string(),
                    path,
                    message,
                };
                fields
                    .check(&args)
                    .map_err(|(path, message)| invalid(path, message))?;
                let account = if takes_account {
                    let account = args.as_object_mut().and_then(|a| a.remove("account"));
                    Option::<String>::deserialize(account.unwrap_or_default())
                        .map_err(|e| invalid("account".into(), e.to_string()))?
                } else {
                    None
                };
                let params: P = crate::error::from_json_value(args)
                    .map_err(|(path, message)| invalid(path.unwrap_or_default(), message))?;
                handler(ctx, account, params).await.map_err(ToolError::from)
            })
        });
        let spec = ToolSpec {
            name,
            title: decl.title,
            description: decl.description,
            annotations: decl.annotations,
            toolset: decl.toolset,
            input_schema: schema,
            output_schema,
            max_result_chars: None,
        };
        assert!(
            self.tools
                .insert(
                    name,
                    Tool {
                        spec,
                        handler: wrapped
                    }
                )
                .is_none(),
            "tool {name} declared twice"
        );
        self.order.push(name);
        self
    }

    /// Marks the tool added last as one that may answer up to `chars` characters (read_email
    /// and get_thread with a whole long body); others are cut at [`MAX_RESULT_BYTES`].
    pub fn large_results(mut self, chars: usize) -> Self {
        if let Some(name) = self.order.last() {
            if let Some(tool) = self.tools.get_mut(name) {
                tool.spec.max_result_chars = Some(chars);
            }
        }
        self
    }

    pub fn build(self) -> Registry {
        Registry {
            tools: Arc::new(self.tools),
            order: Arc::new(self.order),
        }
    }
}

impl Registry {
    pub fn builder() -> RegistryBuilder {
        RegistryBuilder::default()
    }

    /// Every tool, in declaration order.
    pub fn list(&self) -> impl Iterator<Item = &ToolSpec> {
        self.order
            .iter()
            .filter_map(|n| self.tools.get(n))
            .map(|t| &t.spec)
    }

    /// The same tools listed without the `account` argument, for a single-user server where
    /// it has nothing to choose from (a call that passes it is still accepted).
    pub fn without_account_argument(self) -> Registry {
        let mut tools = Arc::try_unwrap(self.tools).unwrap_or_else(|shared| {
            shared
                .iter()
                .map(|(k, t)| {
                    (
                        *k,
                        Tool {
                            spec: t.spec.clone(),
                            handler: t.handler.clone(),
                        },
                    )
                })
                .collect()
        });
        for tool in tools.values_mut() {
            let schema = &mut tool.spec.input_schema;
            if let Some(Value::Object(props)) = schema.get_mut("properties") {
                props.remove("account");
            }
        }
        Registry {
            tools: Arc::new(tools),
            order: self.order,
        }
    }

    pub fn get(&self, name: &str) -> Option<&ToolSpec> {
        self.tools.get(name).map(|t| &t.spec)
    }

    /// The tools `policy` lets through, in declaration order.
    pub fn list_allowed<'a>(
        &'a self,
        policy: &'a ToolPolicy,
    ) -> impl Iterator<Item = &'a ToolSpec> {
        self.list().filter(move |spec| policy.allows(spec))
    }

    /// Calls a tool. One the caller's policy hides is unknown, exactly like a misspelled one.
    pub async fn call(
        &self,
        ctx: ToolContext,
        name: &str,
        args: Value,
    ) -> Result<ToolOutput, ToolError> {
        let tool = self
            .tools
            .get(name)
            .filter(|t| ctx.env.tools.allows(&t.spec))
            .ok_or_else(|| ToolError::UnknownTool(name.to_string()))?;
        let ctx = if ctx.call.entry.is_empty() {
            let request_id = ctx.call.request_id.clone();
            ctx.for_call(format!("tool:{name}"), request_id)
        } else {
            ctx
        };
        let span = tracing::info_span!("tool_call", tool = name);
        let started = std::time::Instant::now();
        let result = tracing::Instrument::instrument((tool.handler)(ctx, args), span).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(ToolError::InvalidArguments { .. }) => "invalid",
            Err(_) => "error",
        };
        crate::metrics::tool_call(tool.spec.name, outcome, started.elapsed());
        let mut out = result?;
        cut_to_budget(&mut out.text, tool.spec.max_result_chars);
        Ok(out)
    }
}

/// Cuts a result's text to its budget: `max_chars` characters when the tool declares more,
/// else [`MAX_RESULT_BYTES`]; the last line says how to get the rest.
fn cut_to_budget(text: &mut String, max_chars: Option<usize>) {
    let end = match max_chars {
        Some(chars) => match text.char_indices().nth(chars) {
            Some((i, _)) => i,
            None => return,
        },
        None if text.len() <= MAX_RESULT_BYTES => return,
        None => {
            let mut i = MAX_RESULT_BYTES;
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            i
        }
    };
    let total = text.len();
    text.truncate(end);
    text.push_str(&format!(
        "\n[Cut at {end} of {total} bytes to fit the client's limit. For the rest ask for less: fewer results (maxResults, then pageToken), a window (maxLength, offset), or responseFormat concise.]\n"
    ));
}

/// The top-level argument names a schema declares, so an unknown or missing one is reported
/// by name (serde says only "unknown field" at the arguments' root).
struct ArgumentNames {
    known: Vec<String>,
    required: Vec<String>,
}

impl ArgumentNames {
    fn of(schema: &Value) -> Self {
        let names = |v: Option<&Value>| -> Vec<String> {
            match v {
                Some(Value::Object(map)) => map.keys().cloned().collect(),
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_owned))
                    .collect(),
                _ => vec![],
            }
        };
        ArgumentNames {
            known: names(schema.get("properties")),
            required: names(schema.get("required")),
        }
    }

    fn check(&self, args: &Value) -> Result<(), (String, String)> {
        let Value::Object(map) = args else {
            return Err((String::new(), "arguments must be a JSON object".into()));
        };
        if let Some(unknown) = map.keys().find(|k| !self.known.contains(k)) {
            return Err((
                unknown.clone(),
                format!(
                    "unknown argument; expected one of: {}",
                    self.known.join(", ")
                ),
            ));
        }
        if let Some(missing) = self.required.iter().find(|r| !map.contains_key(*r)) {
            return Err((missing.clone(), "is required".into()));
        }
        Ok(())
    }
}

/// The output type of tools that answer with text only.
#[derive(JsonSchema)]
pub struct NoOutput;

pub mod budget;
pub mod catalog;
pub mod resources;
pub mod schema;
mod toolset;

pub use toolset::{ToolPolicy, Toolset};

impl ToolContext {
    /// Takes one request from this caller's rate (its API key, or the one local caller).
    pub fn check_rate(&self) -> Result<(), GmailError> {
        let key = self.mailboxes.caller().map(|c| c.key_id.as_str());
        self.env.rate.check_caller(key.unwrap_or("local"))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A caller whose mailbox cannot be had: calls end once their arguments are checked.
    struct NoMailbox;

    impl MailboxProvider for NoMailbox {
        fn mailbox<'a>(
            &'a self,
            _account: Option<&'a str>,
        ) -> BoxFuture<'a, Result<Mailbox, GmailError>> {
            Box::pin(async { Err(GmailError::not_found("mailbox")) })
        }
    }

    #[tokio::test]
    async fn a_tool_on_a_mailbox_takes_account_as_a_string() {
        let registry = catalog::registry();
        let spec = registry.get("get_profile").unwrap();
        assert_eq!(spec.input_schema["properties"]["account"]["type"], "string");
        let env = ToolEnv {
            tools: ToolPolicy::all(),
            ..Default::default()
        };
        let ctx = ToolContext::new(Arc::new(NoMailbox), Arc::new(env));
        let call = |args| registry.call(ctx.clone(), "get_profile", args);
        match call(json!({"account": 7})).await {
            Err(ToolError::InvalidArguments { path, message, .. }) => {
                assert_eq!(path, "account");
                assert!(message.contains("expected a string"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let err = call(json!({"account": "a@example.com"})).await.unwrap_err();
        assert!(
            matches!(err, ToolError::Gmail(GmailError::NotFound { .. })),
            "{err:?}"
        );
    }
}
