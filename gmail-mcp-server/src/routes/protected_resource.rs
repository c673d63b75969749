//! RFC 9728 protected resource metadata (multi-user mode): how a remote MCP client learns
//! which authorization server issues tokens for this server, at the root and in the path
//! forms (`/.well-known/oauth-protected-resource/mcp`, `…/sse`). Public documents: any
//! origin may read them.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use gmail_shared::server::problem::Problem;
use gmail_shared::Settings;

/// The settings the documents are made from; present in multi-user mode only.
pub struct ResourceMetadata(pub Arc<Settings>);

#[get("/.well-known/oauth-protected-resource{path:.*}")]
pub async fn metadata(
    docs: Option<web::Data<ResourceMetadata>>,
    path: web::Path<String>,
) -> HttpResponse {
    let doc = docs.and_then(|d| {
        gmail_shared::authorization::protected_resource_metadata(&d.0, &path.into_inner())
    });
    match doc {
        Some(doc) => HttpResponse::Ok()
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
            .insert_header((header::CACHE_CONTROL, "max-age=3600"))
            .json(doc),
        None => Problem::not_found(
            "protected resource metadata: this server takes OAuth tokens in multi-user mode, for /mcp and /sse",
        )
        .response(),
    }
}
