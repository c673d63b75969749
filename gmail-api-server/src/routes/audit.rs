//! The audit log: the caller's own write actions, newest first (every instance's, in
//! multi-user mode; this server process's in single-user mode).

use actix_web::{web, HttpResponse};
use gmail_shared::ops::audit::AuditEntry;
use gmail_shared::GmailError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{resource, Answer};
use crate::extract::Caller;

pub fn configure(cfg: &mut web::ServiceConfig) {
    resource(cfg, "/audit", [web::get().to(list)]);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditQuery {
    /// Entries per page, 1 to 1000 (default 100).
    pub limit: Option<usize>,
    /// Only entries older than this one: the `id` of the last entry of the previous page.
    pub before: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
}

/// Your own write actions: who, through which tool or endpoint, on which account, to whom,
/// what it made, under which request id, and whether a guardrail refused it. Never a body.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "Newest first", body = AuditPage)))]
pub async fn list(caller: Caller, q: web::Query<AuditQuery>) -> Answer {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(GmailError::invalid("limit", "must be between 1 and 1000"));
    }
    let audit = &caller.env.send.audit;
    let user = caller.call.user_id.as_deref();
    let entries = audit.list(user, limit, q.before.as_deref()).await?;
    Ok(HttpResponse::Ok().json(AuditPage { entries }))
}
