use std::collections::BTreeMap;

use actix_web::{get, web, HttpResponse};
use gmail_shared::server::Health;
use serde::Serialize;

use crate::app::AppState;

/// The shared health body plus the open MCP sessions per transport.
#[derive(Serialize)]
struct McpHealth {
    #[serde(flatten)]
    base: Health,
    sessions: BTreeMap<&'static str, usize>,
    tools: usize,
}

#[get("/health")]
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(McpHealth {
        base: state.started.health(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            state.factory.backend().to_string(),
        ),
        sessions: state.sessions.counts(),
        tools: state.shared.registry().list().count(),
    })
}
