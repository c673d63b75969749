//! Filters: list, get, create (also from a template), delete. Gmail has no filter update.

use actix_web::{web, HttpResponse};
use gmail_shared::ops::filters::{
    self, Action, Criteria, FilterInfo, Template, TemplateParameters,
};
use gmail_shared::ops::FilterId;
use gmail_shared::server::JsonBody;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{no_content, resource, AccountQuery, Answer};
use crate::extract::CallerMailbox;

pub fn configure(cfg: &mut web::ServiceConfig) {
    resource(
        cfg,
        "/filters",
        [web::get().to(list), web::post().to(create)],
    );
    resource(
        cfg,
        "/filters/fromTemplate",
        [web::post().to(from_template)],
    );
    resource(
        cfg,
        "/filters/{id}",
        [web::get().to(get), web::delete().to(delete)],
    );
}

#[derive(Serialize, ToSchema)]
pub struct FilterList {
    pub filters: Vec<FilterInfo>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"criteria": {"from": "news@example.com"}, "action": {"addLabelIds": ["Label_1"], "removeLabelIds": ["INBOX"]}}))]
pub struct NewFilter {
    pub criteria: Criteria,
    pub action: Action,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"template": "fromSender", "parameters": {"senderEmail": "news@example.com", "archive": true}}))]
pub struct TemplateFilter {
    pub template: Template,
    pub parameters: TemplateParameters,
}

/// Every filter with its criteria and actions.
#[utoipa::path(get, path = "/api/v1/filters", tag = "filters", params(AccountQuery),
    responses((status = 200, description = "Every filter", body = FilterList)))]
pub async fn list(mailbox: CallerMailbox) -> Answer {
    let filters = filters::list_filters(&mailbox).await?;
    Ok(HttpResponse::Ok().json(FilterList { filters }))
}

/// One filter.
#[utoipa::path(get, path = "/api/v1/filters/{id}", tag = "filters",
    params(("id" = String, Path, description = "Filter id"), AccountQuery),
    responses((status = 200, description = "The filter", body = FilterInfo)))]
pub async fn get(path: web::Path<FilterId>, mailbox: CallerMailbox) -> Answer {
    Ok(HttpResponse::Ok().json(filters::get_filter(&mailbox, &path).await?))
}

/// Create a filter (applies to mail that arrives afterwards).
#[utoipa::path(post, path = "/api/v1/filters", tag = "filters", params(AccountQuery),
    request_body = NewFilter,
    responses((status = 201, description = "Created", body = FilterInfo)))]
pub async fn create(body: JsonBody<NewFilter>, mailbox: CallerMailbox) -> Answer {
    let f = filters::create_filter(&mailbox, &body.criteria, &body.action).await?;
    Ok(HttpResponse::Created().json(f))
}

/// Create a filter from a template (fromSender, withSubject, withAttachments, largeEmails,
/// containingText, mailingList).
#[utoipa::path(post, path = "/api/v1/filters/fromTemplate", tag = "filters", params(AccountQuery),
    request_body = TemplateFilter,
    responses((status = 201, description = "Created", body = FilterInfo)))]
pub async fn from_template(body: JsonBody<TemplateFilter>, mailbox: CallerMailbox) -> Answer {
    let (criteria, action) = filters::from_template(body.template, &body.parameters)?;
    let f = filters::create_filter(&mailbox, &criteria, &action).await?;
    Ok(HttpResponse::Created().json(f))
}

/// Delete a filter.
#[utoipa::path(delete, path = "/api/v1/filters/{id}", tag = "filters",
    params(("id" = String, Path, description = "Filter id"), AccountQuery),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(path: web::Path<FilterId>, mailbox: CallerMailbox) -> Answer {
    filters::delete_filter(&mailbox, &path).await?;
    Ok(no_content())
}
