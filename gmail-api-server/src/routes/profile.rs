//! The mailbox profile.

use actix_web::{web, HttpResponse};
use gmail_shared::ops::profile::{self, Profile};

use super::AccountQuery;
use super::{resource, Answer};
use crate::extract::CallerMailbox;

pub fn configure(cfg: &mut web::ServiceConfig) {
    resource(cfg, "/profile", [web::get().to(get)]);
}

/// Address, totals and the current historyId (the starting point for /changes).
#[utoipa::path(get, path = "/api/v1/profile", tag = "profile", params(AccountQuery),
    responses((status = 200, description = "The profile", body = Profile)))]
pub async fn get(mailbox: CallerMailbox) -> Answer {
    Ok(HttpResponse::Ok().json(profile::get_profile(&mailbox).await?))
}
