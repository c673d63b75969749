//! The caller's connected Gmail accounts (multi-user mode): start a connection, list, check,
//! disconnect. The same operations as the gmail_* connection tools.

use actix_web::{web, HttpResponse};
use gmail_shared::oauth::accounts::{AuthStart, ConnectionCheck};
use gmail_shared::server::JsonBody;
use gmail_shared::store::ConnectionInfo;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{resource, Answer};
use crate::extract::{Caller, Member};

pub fn configure(cfg: &mut web::ServiceConfig) {
    resource(
        cfg,
        "/connections",
        [web::get().to(list), web::post().to(start)],
    );
    resource(
        cfg,
        "/connections/{account}",
        [web::delete().to(disconnect)],
    );
    resource(cfg, "/connections/{account}/check", [web::get().to(check)]);
}

/// Who the refusal names when this is not a multi-user server or there is no API key.
const NEEDS: &str = "connections";

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartConnection {
    /// The Gmail address to suggest on Google's consent page.
    pub login_hint: Option<String>,
    /// Where to send the browser after a successful connection.
    pub return_to: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AccountPath {
    /// Connected Gmail address or connection id.
    pub account: String,
}

/// The caller's connections, primary first.
#[utoipa::path(get, path = "/api/v1/connections", tag = "connections",
    responses((status = 200, description = "Connections", body = Vec<ConnectionInfo>)))]
pub async fn list(caller: Caller) -> Answer {
    let me = caller.member(NEEDS)?;
    Ok(HttpResponse::Ok().json(me.accounts.list(&me.user_id).await?))
}

/// Starts connecting a Gmail account: open `authUrl` in a browser within 10 minutes.
#[utoipa::path(post, path = "/api/v1/connections", tag = "connections", request_body = StartConnection,
    responses((status = 201, description = "Consent URL and single-use state", body = AuthStart)))]
pub async fn start(caller: Caller, body: Option<JsonBody<StartConnection>>) -> Answer {
    let Member {
        accounts, user_id, ..
    } = caller.member(NEEDS)?;
    let body = body.map(|b| b.into_inner()).unwrap_or_default();
    let started = accounts
        .start_for(
            &user_id,
            body.return_to.as_deref(),
            body.login_hint.as_deref(),
        )
        .await?;
    Ok(HttpResponse::Created().json(started))
}

/// Tries a connection with one cheap Gmail call.
#[utoipa::path(get, path = "/api/v1/connections/{account}/check", tag = "connections", params(AccountPath),
    responses((status = 200, description = "Whether it works, and what to do if not", body = ConnectionCheck)))]
pub async fn check(caller: Caller, path: web::Path<AccountPath>) -> Answer {
    let me = caller.member(NEEDS)?;
    let check = me.accounts.check(&me.user_id, Some(&path.account)).await?;
    Ok(HttpResponse::Ok().json(check))
}

/// Revokes access at Google and forgets the connection.
#[utoipa::path(delete, path = "/api/v1/connections/{account}", tag = "connections", params(AccountPath),
    responses((status = 200, description = "The removed connection", body = ConnectionInfo)))]
pub async fn disconnect(caller: Caller, path: web::Path<AccountPath>) -> Answer {
    let me = caller.member(NEEDS)?;
    let removed = me.accounts.disconnect(&me.user_id, &path.account).await?;
    Ok(HttpResponse::Ok().json(removed))
}
