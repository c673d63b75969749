//! Members and admins (multi-user mode): who am I, my API keys (list, create, revoke), and for
//! the admins named in `multi_user.admins`: every user, disabling and enabling them, their
//! keys, and revoking any key. Members get 403 on every admin endpoint.

use actix_web::{web, HttpResponse};
use gmail_shared::members::{Me, NewKey};
use gmail_shared::server::JsonBody;
use gmail_shared::store::{ApiKeyInfo, GrantInfo, UserSummary};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{no_content, resource, Answer};
use crate::extract::Member;

pub fn configure(cfg: &mut web::ServiceConfig) {
    resource(cfg, "/me", [web::get().to(me)]);
    resource(
        cfg,
        "/me/keys",
        [web::get().to(my_keys), web::post().to(create_key)],
    );
    resource(cfg, "/me/keys/{id}", [web::delete().to(revoke_my_key)]);
    resource(cfg, "/me/clients", [web::get().to(my_clients)]);
    resource(
        cfg,
        "/me/clients/{id}",
        [web::delete().to(revoke_my_client)],
    );
    resource(cfg, "/admin/users", [web::get().to(users)]);
    resource(cfg, "/admin/users/{id}/keys", [web::get().to(user_keys)]);
    resource(cfg, "/admin/users/{id}/disable", [web::post().to(disable)]);
    resource(cfg, "/admin/users/{id}/enable", [web::post().to(enable)]);
    resource(cfg, "/admin/keys/{id}", [web::delete().to(revoke_any_key)]);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateKey {
    /// What the key is for (a device, a service), 1 to 100 characters.
    pub name: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct IdPath {
    /// A key id (`key_...`), a user id (`usr_...`) or a connected app's id (`grant_...`).
    pub id: String,
}

/// Who you are, and whether the admin endpoints are yours.
#[utoipa::path(get, path = "/api/v1/me", tag = "members",
    responses((status = 200, description = "You", body = Me)))]
pub async fn me(me: Member) -> Answer {
    Ok(HttpResponse::Ok().json(me.accounts.members().me(&me.user_id).await?))
}

/// Your API keys (never the keys themselves): name, created, last used, expiry, rules.
#[utoipa::path(get, path = "/api/v1/me/keys", tag = "members",
    responses((status = 200, description = "Oldest first", body = Vec<ApiKeyInfo>)))]
pub async fn my_keys(me: Member) -> Answer {
    Ok(HttpResponse::Ok().json(me.accounts.members().keys(&me.user_id).await?))
}

/// A new API key for you, shown once with the line that connects Claude Code. It expires
/// after `multi_user.key_ttl_days` and carries the rules of the key that made it.
#[utoipa::path(post, path = "/api/v1/me/keys", tag = "members", request_body = CreateKey,
    responses((status = 201, description = "The key, shown this once", body = NewKey)))]
pub async fn create_key(me: Member, body: JsonBody<CreateKey>) -> Answer {
    let members = me.accounts.members();
    let made = members
        .create_key(&me.user_id, &body.name, Some(&me.key_id))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(made))
}

/// Revoke one of your keys; sessions opened with it close within a second.
#[utoipa::path(delete, path = "/api/v1/me/keys/{id}", tag = "members", params(IdPath),
    responses((status = 204, description = "Revoked")))]
pub async fn revoke_my_key(me: Member, path: web::Path<IdPath>) -> Answer {
    let members = me.accounts.members();
    members.revoke_own_key(&me.user_id, &path.id).await?;
    Ok(no_content())
}

/// The apps you connected with OAuth (Claude Desktop, claude.ai connectors, other remote MCP
/// clients): client, redirect URI, scope, created, last used.
#[utoipa::path(get, path = "/api/v1/me/clients", tag = "members",
    responses((status = 200, description = "Newest first", body = Vec<GrantInfo>)))]
pub async fn my_clients(me: Member) -> Answer {
    let grants = me.accounts.authorization().grants(&me.user_id).await?;
    Ok(HttpResponse::Ok().json(grants))
}

/// Disconnect an app: every token it holds stops at once and its sessions close within a
/// second. `id` is the connection's id (`grant_...`).
#[utoipa::path(delete, path = "/api/v1/me/clients/{id}", tag = "members", params(IdPath),
    responses((status = 204, description = "Disconnected")))]
pub async fn revoke_my_client(me: Member, path: web::Path<IdPath>) -> Answer {
    let server = me.accounts.authorization();
    server.revoke_grant(&me.user_id, &path.id).await?;
    Ok(no_content())
}

/// Every user: email, created, last active, connection count, disabled (admins only).
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin",
    responses((status = 200, description = "Oldest first", body = Vec<UserSummary>)))]
pub async fn users(admin: Member) -> Answer {
    let users = admin.accounts.members().users(&admin.user_id).await?;
    Ok(HttpResponse::Ok().json(users))
}

/// A user's API keys (admins only).
#[utoipa::path(get, path = "/api/v1/admin/users/{id}/keys", tag = "admin", params(IdPath),
    responses((status = 200, description = "Oldest first", body = Vec<ApiKeyInfo>)))]
pub async fn user_keys(admin: Member, path: web::Path<IdPath>) -> Answer {
    let members = admin.accounts.members();
    Ok(HttpResponse::Ok().json(members.user_keys(&admin.user_id, &path.id).await?))
}

/// Disable a user: all their keys stop at once and their open sessions close (admins only).
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/disable", tag = "admin", params(IdPath),
    responses((status = 204, description = "Disabled")))]
pub async fn disable(admin: Member, path: web::Path<IdPath>) -> Answer {
    set_disabled(admin, &path.id, true).await
}

/// Enable a disabled user again (admins only).
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/enable", tag = "admin", params(IdPath),
    responses((status = 204, description = "Enabled")))]
pub async fn enable(admin: Member, path: web::Path<IdPath>) -> Answer {
    set_disabled(admin, &path.id, false).await
}

async fn set_disabled(admin: Member, user: &str, disabled: bool) -> Answer {
    let members = admin.accounts.members();
    members.set_disabled(&admin.user_id, user, disabled).await?;
    Ok(no_content())
}

/// Revoke any user's key (admins only).
#[utoipa::path(delete, path = "/api/v1/admin/keys/{id}", tag = "admin", params(IdPath),
    responses((status = 204, description = "Revoked")))]
pub async fn revoke_any_key(admin: Member, path: web::Path<IdPath>) -> Answer {
    let members = admin.accounts.members();
    members.revoke_any_key(&admin.user_id, &path.id).await?;
    Ok(no_content())
}
