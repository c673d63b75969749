//! The three doors into one handler: legacy SSE and Streamable HTTP on the HTTP server, and
//! stdio for clients that start the server as a child process.

pub mod sse;
pub mod stdio;
pub mod streamable;

use actix_web::HttpResponse;
use rmcp::model::{ClientJsonRpcMessage, ClientRequest, ErrorCode, RequestId};

use crate::sessions::Activity;

/// What a client message does to its session (initialize, another request, the rest).
pub fn activity_of(message: &ClientJsonRpcMessage) -> Activity {
    match message {
        ClientJsonRpcMessage::Request(r) => match &r.request {
            ClientRequest::InitializeRequest(_) => Activity::Initialize,
            _ => Activity::Request,
        },
        _ => Activity::Other,
    }
}

/// A JSON-RPC error as the HTTP answer itself (the request never reached a session).
pub fn json_rpc_error(
    status: u16,
    id: Option<RequestId>,
    code: ErrorCode,
    message: &str,
) -> HttpResponse {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {"code": code.0, "message": message},
    });
    HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
    )
    .json(body)
}
