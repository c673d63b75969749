use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;

/// `/health`'s answer (documented shape of the shared `Health`).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct HealthDoc {
    #[schema(example = "ok")]
    status: String,
    #[schema(example = "gmail-api-server")]
    service: String,
    version: String,
    uptime_secs: u64,
    /// `google` or `sandbox`.
    #[schema(example = "sandbox")]
    gmail_backend: String,
}

/// Liveness: the server answers and which Gmail backend it uses.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, description = "The server is up", body = HealthDoc)))]
#[get("/health")]
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(state.started.health(
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
        state.factory.backend().to_string(),
    ))
}
