//! Drafts: list, read, create, replace, send, delete.

use actix_web::{web, HttpRequest, HttpResponse};
use gmail_shared::mail::OutgoingMessage;
use gmail_shared::ops::compose::Threading;
use gmail_shared::ops::drafts::{self, DraftPage, DraftRef, DraftView};
use gmail_shared::ops::send::SentMessage;
use gmail_shared::ops::DraftId;
use gmail_shared::ops::PageSize;
use gmail_shared::GmailError;
use serde::Deserialize;
use utoipa::IntoParams;

use super::compose::{body_value, ComposeBody, ComposeForm, COMPOSE_FORM};
use super::{from_json, no_content, resource, AccountQuery, Answer};
use crate::extract::{Caller, CallerMailbox};

pub fn configure(cfg: &mut web::ServiceConfig) {
    resource(
        cfg,
        "/drafts",
        [web::get().to(list), web::post().to(create)],
    );
    resource(
        cfg,
        "/drafts/{id}",
        [
            web::get().to(get),
            web::put().to(update),
            web::delete().to(delete),
        ],
    );
    resource(cfg, "/drafts/{id}/send", [web::post().to(send)]);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct DraftQuery {
    /// Gmail search query over drafts.
    pub q: Option<String>,
    /// `nextPageToken` of the previous page.
    pub page_token: Option<String>,
    /// Page size, 1 to 500 (default 20).
    #[param(minimum = 1, maximum = 500, example = 20)]
    pub max_results: Option<u32>,
    /// Connected Gmail address to act on; defaults to the primary account.
    pub account: Option<String>,
}

/// List drafts with subject, recipients and snippet.
#[utoipa::path(get, path = "/api/v1/drafts", tag = "drafts", params(DraftQuery),
    responses((status = 200, description = "One page of drafts", body = DraftPage)))]
pub async fn list(q: web::Query<DraftQuery>, mailbox: CallerMailbox) -> Answer {
    let max = PageSize::parse(q.max_results, PageSize::fixed(20))?;
    let page = drafts::list_drafts(&mailbox, q.q.as_deref(), max, q.page_token.as_deref()).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Read a draft.
#[utoipa::path(get, path = "/api/v1/drafts/{id}", tag = "drafts",
    params(("id" = String, Path, description = "Draft id"), AccountQuery),
    responses((status = 200, description = "The draft", body = DraftView)))]
pub async fn get(path: web::Path<DraftId>, mailbox: CallerMailbox) -> Answer {
    Ok(HttpResponse::Ok().json(drafts::get_draft(&mailbox, &path).await?))
}

/// Save a new draft (same fields as send, JSON or multipart/form-data with file parts named
/// `attachments`; with threadId or inReplyTo, a reply draft).
#[utoipa::path(post, path = "/api/v1/drafts", tag = "drafts", params(AccountQuery),
    request_body(description = "The draft", content((ComposeBody = "application/json"), (ComposeForm = "multipart/form-data"))),
    responses((status = 201, description = "Created", body = DraftRef)))]
pub async fn create(
    req: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    mailbox: CallerMailbox,
) -> Answer {
    let (msg, at) = draft_message(&req, &caller, payload).await?;
    let (thread_id, in_reply_to) = (at.thread_id.as_deref(), at.in_reply_to.as_deref());
    let d = drafts::create_draft(&mailbox, msg, thread_id, in_reply_to).await?;
    Ok(HttpResponse::Created().json(d))
}

/// Replace a draft's content (the draft id stays; its message id changes); JSON or
/// multipart/form-data, as on create.
#[utoipa::path(put, path = "/api/v1/drafts/{id}", tag = "drafts",
    params(("id" = String, Path, description = "Draft id"), AccountQuery),
    request_body(description = "The new content", content((ComposeBody = "application/json"), (ComposeForm = "multipart/form-data"))),
    responses((status = 200, description = "Replaced", body = DraftRef)))]
pub async fn update(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<DraftId>,
    payload: web::Payload,
    mailbox: CallerMailbox,
) -> Answer {
    let (msg, at) = draft_message(&req, &caller, payload).await?;
    let (thread_id, in_reply_to) = (at.thread_id.as_deref(), at.in_reply_to.as_deref());
    let d = drafts::update_draft(&mailbox, &path, msg, thread_id, in_reply_to).await?;
    Ok(HttpResponse::Ok().json(d))
}

/// The message a JSON or multipart draft body describes, and where it threads.
async fn draft_message(
    req: &HttpRequest,
    caller: &Caller,
    payload: web::Payload,
) -> Result<(OutgoingMessage, Threading), GmailError> {
    let body: ComposeBody = from_json(body_value(req, payload, &COMPOSE_FORM).await?)?;
    body.draft_message(&caller.env.files.attachment_dirs)
}

/// Send a draft as it is; the draft disappears.
#[utoipa::path(post, path = "/api/v1/drafts/{id}/send", tag = "drafts",
    params(("id" = String, Path, description = "Draft id"), AccountQuery),
    responses((status = 200, description = "Sent", body = SentMessage)))]
pub async fn send(path: web::Path<DraftId>, mailbox: CallerMailbox) -> Answer {
    Ok(HttpResponse::Ok().json(gmail_shared::ops::send::send_draft(&mailbox, &path).await?))
}

/// Delete a draft.
#[utoipa::path(delete, path = "/api/v1/drafts/{id}", tag = "drafts",
    params(("id" = String, Path, description = "Draft id"), AccountQuery),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(path: web::Path<DraftId>, mailbox: CallerMailbox) -> Answer {
    drafts::delete_draft(&mailbox, &path).await?;
    Ok(no_content())
}
