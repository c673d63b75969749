//! The MCP tool registry over REST: list the tools, call one with its JSON arguments. One
//! registry behind both servers, so a tool behaves the same through either door.

use actix_web::{web, HttpRequest, HttpResponse};
use gmail_shared::tools::ToolError;
use gmail_shared::GmailError;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::{resource, Answer};
use crate::app::AppState;
use crate::extract::Caller;

pub fn configure(cfg: &mut web::ServiceConfig) {
    resource(cfg, "/tools", [web::get().to(list)]);
    resource(
        cfg,
        "/tools/{name}",
        [web::get().to(get), web::post().to(call)],
    );
}

/// A tool as MCP lists it.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(example = json!({"name": "get_profile", "title": "Get mailbox profile", "description": "Returns the mailbox address…", "annotations": {"readOnlyHint": true, "destructiveHint": false, "idempotentHint": true, "openWorldHint": true}, "inputSchema": {"type": "object", "properties": {}}}))]
pub struct ToolInfo {
    name: String,
    title: String,
    description: String,
    /// MCP hints: readOnlyHint, destructiveHint, idempotentHint, openWorldHint.
    #[schema(value_type = Object)]
    annotations: Value,
    /// JSON Schema of the arguments.
    #[schema(rename = "inputSchema", value_type = Object)]
    input_schema: Value,
    /// JSON Schema of `structured` in the result (text-only tools have none).
    #[schema(rename = "outputSchema", value_type = Option<Object>)]
    output_schema: Option<Value>,
}

#[derive(Serialize, ToSchema)]
pub struct ToolList<'a> {
    #[schema(value_type = Vec<ToolInfo>)]
    pub tools: Vec<&'a gmail_shared::tools::ToolSpec>,
}

/// A tool's result: the text an agent reads and, for structured tools, the same result as JSON.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(example = json!({"text": "Email: demo@example.com\nMessages: 300", "structured": {"emailAddress": "demo@example.com", "messagesTotal": 300, "threadsTotal": 250, "historyId": "1000"}}))]
pub struct ToolResult {
    text: String,
    /// Matches the tool's outputSchema.
    #[schema(value_type = Option<Object>)]
    structured: Option<Value>,
}

/// Every MCP tool with its input and output schema.
#[utoipa::path(get, path = "/api/v1/tools", tag = "tools",
    responses((status = 200, description = "The tool registry", body = ToolList)))]
pub async fn list(caller: Caller, state: web::Data<AppState>) -> HttpResponse {
    // The caller's tools: the server's toolsets, the key's, and this request's headers.
    HttpResponse::Ok().json(ToolList {
        tools: state.registry.list_allowed(&caller.env.tools).collect(),
    })
}

/// One tool's declaration.
#[utoipa::path(get, path = "/api/v1/tools/{name}", tag = "tools",
    params(("name" = String, Path, description = "Tool name", example = "search_emails")),
    responses((status = 200, description = "The tool", body = ToolInfo)))]
pub async fn get(caller: Caller, state: web::Data<AppState>, name: web::Path<String>) -> Answer {
    state
        .registry
        .get(&name)
        .filter(|spec| caller.env.tools.allows(spec))
        .map(|spec| HttpResponse::Ok().json(spec))
        .ok_or_else(|| GmailError::not_found(format!("tool {name:?}")))
}

/// Call a tool with its JSON arguments (an empty body means no arguments).
#[utoipa::path(post, path = "/api/v1/tools/{name}", tag = "tools",
    params(("name" = String, Path, description = "Tool name", example = "search_emails")),
    request_body(content = Object, description = "The tool's arguments, as its inputSchema says", example = json!({"query": "is:unread", "maxResults": 5})),
    responses((status = 200, description = "The tool's result", body = ToolResult)))]
pub async fn call(
    req: HttpRequest,
    state: web::Data<AppState>,
    name: web::Path<String>,
    payload: web::Payload,
) -> Answer {
    let body = super::read_body(&req, payload).await?;
    let args: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&body).map_err(|e| gmail_shared::server::json_error(&e))?
    };
    if !(args.is_null() || args.is_object()) {
        return Err(GmailError::invalid("arguments", "must be a JSON object"));
    }
    let ctx = state
        .tool_context(&req)
        .for_call(format!("tool:{name}"), crate::app::request_id(&req));
    match state.registry.call(ctx, &name, args).await {
        Ok(out) => Ok(HttpResponse::Ok().json(out)),
        Err(ToolError::UnknownTool(n)) => Err(GmailError::not_found(format!("tool {n:?}"))),
        Err(ToolError::InvalidArguments { path, message, .. }) => {
            let field = if path.is_empty() {
                "arguments".to_string()
            } else {
                path
            };
            Err(GmailError::invalid(field, message))
        }
        Err(ToolError::Gmail(e)) => Err(e),
    }
}
