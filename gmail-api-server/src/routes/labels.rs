//! Labels: list, get, create, update, delete, get-or-create.

use actix_web::{web, HttpResponse};
use gmail_shared::ops::labels::{
    self, LabelChanges, LabelColor, LabelInfo, LabelListVisibility, MessageListVisibility,
};
use gmail_shared::ops::LabelId;
use gmail_shared::server::JsonBody;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{no_content, resource, AccountQuery, Answer};
use crate::extract::CallerMailbox;

pub fn configure(cfg: &mut web::ServiceConfig) {
    resource(
        cfg,
        "/labels",
        [web::get().to(list), web::post().to(create)],
    );
    resource(cfg, "/labels/getOrCreate", [web::post().to(get_or_create)]);
    resource(
        cfg,
        "/labels/{id}",
        [
            web::get().to(get),
            web::patch().to(update),
            web::delete().to(delete),
        ],
    );
}

#[derive(Serialize, ToSchema)]
pub struct LabelList {
    pub labels: Vec<LabelInfo>,
}

/// A new label (also the body of get-or-create).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"name": "Projects/Alpha", "labelListVisibility": "labelShow"}))]
pub struct NewLabel {
    /// Nested labels use '/', e.g. `Projects/Alpha`.
    pub name: String,
    pub message_list_visibility: Option<MessageListVisibility>,
    pub label_list_visibility: Option<LabelListVisibility>,
    pub color: Option<LabelColor>,
}

impl NewLabel {
    fn changes(self) -> LabelChanges {
        LabelChanges {
            name: Some(self.name),
            message_list_visibility: self.message_list_visibility,
            label_list_visibility: self.label_list_visibility,
            color: self.color,
        }
    }
}

/// All labels, system and user.
#[utoipa::path(get, path = "/api/v1/labels", tag = "labels", params(AccountQuery),
    responses((status = 200, description = "Every label", body = LabelList)))]
pub async fn list(mailbox: CallerMailbox) -> Answer {
    let labels = labels::list_labels(&mailbox).await?;
    Ok(HttpResponse::Ok().json(LabelList { labels }))
}

/// One label with its message and thread counts.
#[utoipa::path(get, path = "/api/v1/labels/{id}", tag = "labels",
    params(("id" = String, Path, description = "Label id", example = "INBOX"), AccountQuery),
    responses((status = 200, description = "The label", body = LabelInfo)))]
pub async fn get(path: web::Path<LabelId>, mailbox: CallerMailbox) -> Answer {
    Ok(HttpResponse::Ok().json(labels::get_label(&mailbox, &path).await?))
}

/// Create a label; 409 when one with that name exists (see getOrCreate).
#[utoipa::path(post, path = "/api/v1/labels", tag = "labels", params(AccountQuery),
    request_body = NewLabel,
    responses((status = 201, description = "Created", body = LabelInfo)))]
pub async fn create(body: JsonBody<NewLabel>, mailbox: CallerMailbox) -> Answer {
    let label = labels::create_label(&mailbox, &body.into_inner().changes()).await?;
    Ok(HttpResponse::Created().json(label))
}

/// Find a label by name (case-insensitive) or create it.
#[utoipa::path(post, path = "/api/v1/labels/getOrCreate", tag = "labels", params(AccountQuery),
    request_body = NewLabel,
    responses((status = 200, description = "It existed", body = LabelInfo),
        (status = 201, description = "It was created", body = LabelInfo)))]
pub async fn get_or_create(body: JsonBody<NewLabel>, mailbox: CallerMailbox) -> Answer {
    let (label, created) =
        labels::get_or_create_label(&mailbox, &body.into_inner().changes()).await?;
    Ok(if created {
        HttpResponse::Created().json(label)
    } else {
        HttpResponse::Ok().json(label)
    })
}

/// Change a user label's name, visibility or colour (only the fields given).
#[utoipa::path(patch, path = "/api/v1/labels/{id}", tag = "labels",
    params(("id" = String, Path, description = "Label id", example = "Label_1"), AccountQuery),
    request_body = LabelChanges,
    responses((status = 200, description = "The label after the change", body = LabelInfo)))]
pub async fn update(
    path: web::Path<LabelId>,
    body: JsonBody<LabelChanges>,
    mailbox: CallerMailbox,
) -> Answer {
    Ok(HttpResponse::Ok().json(labels::update_label(&mailbox, &path, &body).await?))
}

/// Delete a user label (its messages stay).
#[utoipa::path(delete, path = "/api/v1/labels/{id}", tag = "labels",
    params(("id" = String, Path, description = "Label id", example = "Label_1"), AccountQuery),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(path: web::Path<LabelId>, mailbox: CallerMailbox) -> Answer {
    labels::delete_label(&mailbox, &path).await?;
    Ok(no_content())
}
