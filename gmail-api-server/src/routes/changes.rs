//! Changes since a historyId, for polling.

use actix_web::{web, HttpResponse};
use gmail_shared::ops::history::{self, ChangeKind, Changes, ChangesRequest};
use gmail_shared::ops::{LabelId, PageSize};
use gmail_shared::GmailError;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{resource, split_list, Answer};
use crate::extract::CallerMailbox;

pub fn configure(cfg: &mut web::ServiceConfig) {
    resource(cfg, "/changes", [web::get().to(list)]);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ChangesQuery {
    /// A historyId from /profile or from the previous answer.
    #[param(example = "1000")]
    pub start_history_id: String,
    /// Comma-separated kinds: messageAdded, messageDeleted, labelAdded, labelRemoved (default all).
    #[param(example = "messageAdded,labelRemoved")]
    pub kinds: Option<String>,
    /// Only changes to messages with this label id.
    #[param(value_type = Option<String>)]
    pub label_id: Option<LabelId>,
    /// History records per page, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub max_results: Option<u32>,
    /// `nextPageToken` of the previous page.
    pub page_token: Option<String>,
    /// Connected Gmail address to act on; defaults to the primary account.
    pub account: Option<String>,
}

/// What changed since a historyId, oldest first, and the historyId to poll from next.
#[utoipa::path(get, path = "/api/v1/changes", tag = "changes", params(ChangesQuery),
    responses((status = 200, description = "The changes", body = Changes)))]
pub async fn list(q: web::Query<ChangesQuery>, mailbox: CallerMailbox) -> Answer {
    let kinds = split_list(q.kinds.as_deref())
        .iter()
        .map(|k| {
            serde_json::from_value::<ChangeKind>(serde_json::Value::String(k.clone())).map_err(|_| {
                GmailError::invalid(
                    "kinds",
                    format!("{k:?} is not one of messageAdded, messageDeleted, labelAdded, labelRemoved"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let request = ChangesRequest {
        start_history_id: q.start_history_id.clone(),
        kinds,
        label_id: q.label_id.clone(),
        max_results: PageSize::parse(q.max_results, PageSize::default())?,
        page_token: q.page_token.clone(),
    };
    Ok(HttpResponse::Ok().json(history::list_changes(&mailbox, &request).await?))
}
