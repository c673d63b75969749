//! Streamable HTTP sessions belong to the user who initialized them (multi-user mode). The
//! browser guard in front of every MCP endpoint is gmail-shared's `server::guard`.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use gmail_shared::server::problem::Problem;

use crate::app::AppState;

const SESSION_HEADER: &str = "mcp-session-id";

/// The initialize response binds the new session to its caller, and a request that names
/// another user's session is refused, as a post into another user's SSE session is.
pub async fn session_owner_guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, actix_web::Error> {
    let Some(sessions) = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.sessions.clone())
    else {
        return next.call(req).await.map(|r| r.map_into_left_body());
    };
    let caller = gmail_shared::auth::caller_key(req.request());
    let named = req
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(id) = &named {
        if sessions
            .get(id)
            .is_some_and(|s| !s.belongs_to(caller.as_ref().map(|(u, _)| u.as_str())))
        {
            let reason = format!("MCP session {id} belongs to another caller");
            tracing::warn!(session_id = %id, "refused request for another caller's session");
            let response = Problem::forbidden(reason).jsonrpc(-32600).response();
            return Ok(req.into_response(response).map_into_right_body());
        }
    }
    let res = next.call(req).await?;
    if let (None, Some((user_id, key_id))) = (named, caller) {
        let created = res
            .headers()
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|id| sessions.get(id));
        if let Some(session) = created {
            session.set_owner(crate::sessions::Owner { user_id, key_id });
        }
    }
    Ok(res.map_into_left_body())
}
