//! Webhook subscriptions: signed deliveries of the caller's events (Standard Webhooks).

use actix_web::{web, HttpResponse};
use gmail_shared::events::wait::user_of;
use gmail_shared::events::webhooks::{CreatedWebhook, Delivery, NewWebhook, Webhook};
use gmail_shared::events::Events;
use gmail_shared::server::JsonBody;
use gmail_shared::GmailError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{resource, Answer};
use crate::extract::Caller;

pub fn configure(cfg: &mut web::ServiceConfig) {
    resource(
        cfg,
        "/webhooks",
        [web::get().to(list), web::post().to(create)],
    );
    resource(
        cfg,
        "/webhooks/{id}",
        [web::get().to(get), web::delete().to(delete)],
    );
    resource(cfg, "/webhooks/{id}/test", [web::post().to(test)]);
    resource(
        cfg,
        "/webhooks/{id}/deliveries",
        [web::get().to(deliveries)],
    );
}

/// The event layer, or a clear answer that it is off.
pub fn events_of(caller: &Caller) -> Result<&Events, GmailError> {
    caller.env.events.as_ref().ok_or_else(|| {
        GmailError::invalid(
            "events",
            "events are turned off on this server (events.enabled = false)",
        )
    })
}

#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<Webhook>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryList {
    pub deliveries: Vec<Delivery>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestQueued {
    /// The test event's id: the `webhook-id` its delivery carries.
    pub event_id: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// How many, newest first: 1 to 100 (default 20).
    pub limit: Option<u32>,
}

/// Subscribes a URL to your events. The answer carries the signing secret, shown this once.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "events", request_body = NewWebhook,
    responses((status = 201, description = "Created; `secret` is shown only now", body = CreatedWebhook)))]
pub async fn create(caller: Caller, body: JsonBody<NewWebhook>) -> Answer {
    let created = events_of(&caller)?
        .create_webhook(&user_of(&caller)?, &body)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("cache-control", "no-store"))
        .json(created))
}

/// Your webhooks.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "events",
    responses((status = 200, description = "Oldest first", body = WebhookList)))]
pub async fn list(caller: Caller) -> Answer {
    let webhooks = events_of(&caller)?.webhooks(&user_of(&caller)?).await?;
    Ok(HttpResponse::Ok().json(WebhookList { webhooks }))
}

/// One of your webhooks (with why it was disabled, if it was).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "events",
    params(("id" = String, Path, description = "Webhook id")),
    responses((status = 200, description = "The webhook", body = Webhook)))]
pub async fn get(caller: Caller, id: web::Path<String>) -> Answer {
    let webhook = events_of(&caller)?.webhook(&user_of(&caller)?, &id).await?;
    Ok(HttpResponse::Ok().json(webhook))
}

/// Deletes a webhook; its pending deliveries are dropped.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "events",
    params(("id" = String, Path, description = "Webhook id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(caller: Caller, id: web::Path<String>) -> Answer {
    events_of(&caller)?
        .delete_webhook(&user_of(&caller)?, &id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sends a `webhook.test` event to the webhook (signed like every delivery).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", tag = "events",
    params(("id" = String, Path, description = "Webhook id")),
    responses((status = 202, description = "Queued", body = TestQueued)))]
pub async fn test(caller: Caller, id: web::Path<String>) -> Answer {
    let event_id = events_of(&caller)?
        .test_webhook(&user_of(&caller)?, &id)
        .await?;
    Ok(HttpResponse::Accepted().json(TestQueued { event_id }))
}

/// The webhook's latest delivery attempts and their outcomes.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "events",
    params(("id" = String, Path, description = "Webhook id"), DeliveriesQuery),
    responses((status = 200, description = "Newest first", body = DeliveryList)))]
pub async fn deliveries(
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<DeliveriesQuery>,
) -> Answer {
    let deliveries = events_of(&caller)?
        .deliveries(&user_of(&caller)?, &id, q.limit.unwrap_or(20))
        .await?;
    Ok(HttpResponse::Ok().json(DeliveryList { deliveries }))
}
