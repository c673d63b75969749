//! The caller's connected Gmail accounts (multi-user mode): start a connection, list, check,
//! disconnect. The same operations as the gmail_* connection tools.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use gmail_shared::oauth::accounts::{Accounts, AuthStart, ConnectionCheck};
use gmail_shared::store::ConnectionInfo;
use gmail_shared::GmailError;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::resource;
use crate::app::AppState;

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

fn caller(req: &HttpRequest, state: &AppState) -> Result<(Arc<Accounts>, String), GmailError> {
    state
        .tool_context(req)
        .connections()
        .map(|(accounts, caller)| (accounts, caller.user_id.clone()))
        .ok_or_else(|| {
            GmailError::invalid(
                "Authorization",
                "connections need multi-user mode (GMAIL_MULTI_USER=true) and an API key",
            )
        })
}

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
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GmailError> {
    let (accounts, user) = caller(&req, &state)?;
    Ok(HttpResponse::Ok().json(accounts.list(&user).await?))
}

/// Starts connecting a Gmail account: open `authUrl` in a browser within 10 minutes.
#[utoipa::path(post, path = "/api/v1/connections", tag = "connections", request_body = StartConnection,
    responses((status = 201, description = "Consent URL and single-use state", body = AuthStart)))]
pub async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Option<web::Json<StartConnection>>,
) -> Result<HttpResponse, GmailError> {
    let (accounts, user_id) = caller(&req, &state)?;
    let body = body.map(|b| b.into_inner()).unwrap_or_default();
    let user = accounts
        .store()
        .user(&user_id)
        .await?
        .ok_or_else(|| GmailError::not_found("the calling user"))?;
    let started = accounts
        .start(&user, body.return_to.as_deref(), body.login_hint.as_deref())
        .await?;
    Ok(HttpResponse::Created().json(started))
}

/// Tries a connection with one cheap Gmail call.
#[utoipa::path(get, path = "/api/v1/connections/{account}/check", tag = "connections", params(AccountPath),
    responses((status = 200, description = "Whether it works, and what to do if not", body = ConnectionCheck)))]
pub async fn check(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<AccountPath>,
) -> Result<HttpResponse, GmailError> {
    let (accounts, user) = caller(&req, &state)?;
    Ok(HttpResponse::Ok().json(accounts.check(&user, Some(&path.account)).await?))
}

/// Revokes access at Google and forgets the connection.
#[utoipa::path(delete, path = "/api/v1/connections/{account}", tag = "connections", params(AccountPath),
    responses((status = 200, description = "The removed connection", body = ConnectionInfo)))]
pub async fn disconnect(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<AccountPath>,
) -> Result<HttpResponse, GmailError> {
    let (accounts, user) = caller(&req, &state)?;
    Ok(HttpResponse::Ok().json(accounts.disconnect(&user, &path.account).await?))
}
