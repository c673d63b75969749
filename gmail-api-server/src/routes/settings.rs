//! Settings: the vacation responder and send-as identities.

use actix_web::{web, HttpResponse};
use gmail_shared::ops::settings::{self, SendAsIdentity, Vacation};
use gmail_shared::server::JsonBody;
use serde::Serialize;
use utoipa::ToSchema;

use super::AccountQuery;
use super::{resource, Answer};
use crate::extract::CallerMailbox;

pub fn configure(cfg: &mut web::ServiceConfig) {
    resource(
        cfg,
        "/settings/vacation",
        [web::get().to(get_vacation), web::put().to(set_vacation)],
    );
    resource(cfg, "/settings/sendAs", [web::get().to(send_as)]);
}

#[derive(Serialize, ToSchema)]
pub struct SendAsList {
    pub identities: Vec<SendAsIdentity>,
}

/// The vacation auto-reply settings.
#[utoipa::path(get, path = "/api/v1/settings/vacation", tag = "settings", params(AccountQuery),
    responses((status = 200, description = "The vacation responder", body = Vacation)))]
pub async fn get_vacation(mailbox: CallerMailbox) -> Answer {
    Ok(HttpResponse::Ok().json(settings::get_vacation(&mailbox).await?))
}

/// Turn the vacation auto-reply on or off and set its text, audience and time window.
#[utoipa::path(put, path = "/api/v1/settings/vacation", tag = "settings", params(AccountQuery),
    request_body(content = Vacation, example = json!({"enableAutoReply": true, "responseSubject": "Away", "responseBodyPlainText": "Back on Monday."})),
    responses((status = 200, description = "The settings saved", body = Vacation)))]
pub async fn set_vacation(body: JsonBody<Vacation>, mailbox: CallerMailbox) -> Answer {
    Ok(HttpResponse::Ok().json(settings::set_vacation(&mailbox, &body).await?))
}

/// The addresses this mailbox can send as (use one as `from`).
#[utoipa::path(get, path = "/api/v1/settings/sendAs", tag = "settings", params(AccountQuery),
    responses((status = 200, description = "Send-as identities", body = SendAsList)))]
pub async fn send_as(mailbox: CallerMailbox) -> Answer {
    let identities = settings::list_send_as(&mailbox).await?;
    Ok(HttpResponse::Ok().json(SendAsList { identities }))
}
