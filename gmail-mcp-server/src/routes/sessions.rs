//! `/sessions`: the caller's own live MCP sessions, and closing one.

use actix_web::{delete, get, web, HttpRequest, HttpResponse};
use serde::Serialize;

use crate::app::AppState;
use crate::sessions::SessionInfo;
use gmail_shared::auth::caller_id;

#[derive(Serialize)]
struct SessionList {
    count: usize,
    sessions: Vec<SessionInfo>,
}

#[get("/sessions")]
pub async fn list_sessions(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let sessions = state.sessions.list(caller_id(&req).as_deref());
    HttpResponse::Ok().json(SessionList {
        count: sessions.len(),
        sessions,
    })
}

#[delete("/sessions/{id}")]
pub async fn delete_session(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    // Another user's session is not found, exactly like one that does not exist.
    let owned = state
        .sessions
        .get(&id)
        .is_some_and(|s| s.belongs_to(caller_id(&req).as_deref()));
    if owned && state.sessions.close(&id) {
        HttpResponse::NoContent().finish()
    } else {
        gmail_shared::server::problem::Problem::not_found(format!("session {id} not found"))
            .response()
    }
}
