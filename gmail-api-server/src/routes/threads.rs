//! Threads (conversations): list, read, change labels, trash and untrash.

use actix_web::{web, HttpResponse};
use gmail_shared::ops::read::{self, ThreadView};
use gmail_shared::ops::threads::{self, ThreadLabels, ThreadPage};
use gmail_shared::ops::ThreadId;
use gmail_shared::server::JsonBody;

use super::messages::{LabelChange, ListQuery};
use super::AccountQuery;
use super::{resource, Answer};
use crate::extract::CallerMailbox;

pub fn configure(cfg: &mut web::ServiceConfig) {
    resource(cfg, "/threads", [web::get().to(list)]);
    resource(cfg, "/threads/{id}", [web::get().to(get)]);
    resource(cfg, "/threads/{id}/modify", [web::post().to(modify)]);
    resource(cfg, "/threads/{id}/trash", [web::post().to(trash)]);
    resource(cfg, "/threads/{id}/untrash", [web::post().to(untrash)]);
}

/// List conversations matching an optional query, newest first.
#[utoipa::path(get, path = "/api/v1/threads", tag = "threads", params(ListQuery),
    responses((status = 200, description = "One page of thread summaries", body = ThreadPage)))]
pub async fn list(q: web::Query<ListQuery>, mailbox: CallerMailbox) -> Answer {
    let search = q.request()?;
    Ok(HttpResponse::Ok().json(threads::list_threads(&mailbox, &search).await?))
}

/// Read a whole conversation, oldest first, quoted history trimmed.
#[utoipa::path(get, path = "/api/v1/threads/{id}", tag = "threads",
    params(("id" = String, Path, description = "Gmail thread id"), AccountQuery),
    responses((status = 200, description = "The conversation", body = ThreadView)))]
pub async fn get(path: web::Path<ThreadId>, mailbox: CallerMailbox) -> Answer {
    Ok(HttpResponse::Ok().json(read::get_thread(&mailbox, &path).await?))
}

/// Add or remove labels on every message of a conversation.
#[utoipa::path(post, path = "/api/v1/threads/{id}/modify", tag = "threads",
    params(("id" = String, Path, description = "Gmail thread id"), AccountQuery),
    request_body = LabelChange,
    responses((status = 200, description = "Each message's labels after the change", body = ThreadLabels)))]
pub async fn modify(
    path: web::Path<ThreadId>,
    body: JsonBody<LabelChange>,
    mailbox: CallerMailbox,
) -> Answer {
    let t = threads::modify_thread(&mailbox, &path, &body.add_label_ids, &body.remove_label_ids)
        .await?;
    Ok(HttpResponse::Ok().json(t))
}

/// Move every message of a conversation to the trash.
#[utoipa::path(post, path = "/api/v1/threads/{id}/trash", tag = "threads",
    params(("id" = String, Path, description = "Gmail thread id"), AccountQuery),
    responses((status = 200, description = "Trashed; each message's labels now", body = ThreadLabels)))]
pub async fn trash(path: web::Path<ThreadId>, mailbox: CallerMailbox) -> Answer {
    Ok(HttpResponse::Ok().json(threads::trash_thread(&mailbox, &path).await?))
}

/// Take every message of a conversation out of the trash.
#[utoipa::path(post, path = "/api/v1/threads/{id}/untrash", tag = "threads",
    params(("id" = String, Path, description = "Gmail thread id"), AccountQuery),
    responses((status = 200, description = "Restored; each message's labels now", body = ThreadLabels)))]
pub async fn untrash(path: web::Path<ThreadId>, mailbox: CallerMailbox) -> Answer {
    Ok(HttpResponse::Ok().json(threads::untrash_thread(&mailbox, &path).await?))
}
