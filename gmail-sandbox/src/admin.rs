//! Sandbox-only endpoints: health, request statistics, fault and quota knobs, Pub/Sub push
//! subscriptions.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::config::{FaultConfig, PushSubscription, QuotaConfig};
use crate::state::AppState;

fn ok_json(v: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json; charset=UTF-8")
        .body(v.to_string())
}

/// The admin endpoints' error shape: `{"error":{"code","message","status"}}`.
pub fn error(code: u16, status: &str, msg: String) -> HttpResponse {
    let code_ = actix_web::http::StatusCode::from_u16(code)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(code_)
        .content_type("application/json; charset=UTF-8")
        .body(json!({"error": {"code": code, "message": msg, "status": status}}).to_string())
}

pub fn bad(msg: String) -> HttpResponse {
    error(400, "INVALID_ARGUMENT", msg)
}

pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    ok_json(json!({"status": "ok", "mailboxes": state.store.emails()}))
}

pub async fn stats(state: web::Data<AppState>) -> HttpResponse {
    ok_json(state.stats.json())
}

pub async fn stats_reset(state: web::Data<AppState>) -> HttpResponse {
    state.stats.reset();
    ok_json(state.stats.json())
}

pub async fn faults_get(state: web::Data<AppState>) -> HttpResponse {
    ok_json(serde_json::to_value(state.faults.get()).unwrap_or_default())
}

pub async fn faults_set(state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    match serde_json::from_slice::<FaultConfig>(&body) {
        Ok(cfg) => {
            if !(0.0..=1.0).contains(&cfg.error_rate) || !(0.0..=1.0).contains(&cfg.rate_limit_rate)
            {
                return bad("rates must be between 0 and 1".into());
            }
            state.faults.set(cfg);
            ok_json(serde_json::to_value(state.faults.get()).unwrap_or_default())
        }
        Err(e) => bad(format!("invalid fault config: {e}")),
    }
}

pub async fn quota_get(state: web::Data<AppState>) -> HttpResponse {
    ok_json(serde_json::to_value(state.quota.config()).unwrap_or_default())
}

pub async fn quota_set(state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    match serde_json::from_slice::<QuotaConfig>(&body) {
        Ok(cfg) => {
            state.quota.set_config(cfg);
            ok_json(serde_json::to_value(state.quota.config()).unwrap_or_default())
        }
        Err(e) => bad(format!("invalid quota config: {e}")),
    }
}

fn subscriptions(state: &AppState) -> HttpResponse {
    ok_json(json!({"subscriptions": state.pubsub.subscriptions()}))
}

pub async fn pubsub_list(state: web::Data<AppState>) -> HttpResponse {
    subscriptions(&state)
}

/// `{"topic","pushEndpoint"}`: add (or keep) the subscription, answer the whole list.
pub async fn pubsub_add(state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    match serde_json::from_slice::<PushSubscription>(&body) {
        Ok(sub) => match state.pubsub.subscribe(&sub) {
            Ok(_) => subscriptions(&state),
            Err(e) => bad(e),
        },
        Err(e) => bad(format!(
            "invalid subscription (want {{\"topic\",\"pushEndpoint\"}}): {e}"
        )),
    }
}

pub async fn pubsub_clear(state: web::Data<AppState>) -> HttpResponse {
    state.pubsub.clear();
    subscriptions(&state)
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewMailbox {
    email: String,
    display_name: Option<String>,
}

/// `POST /__sandbox/mailboxes {email, displayName?}`: an empty mailbox (for load tests with
/// many users), whose refresh token is `grants::well_known_refresh_token(email)`; an existing
/// one is left as it is.
pub async fn mailbox_create(state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let req = match serde_json::from_slice::<NewMailbox>(&body) {
        Ok(r) => r,
        Err(e) => return bad(format!("invalid mailbox: {e}")),
    };
    let email = req.email.trim().to_ascii_lowercase();
    let valid = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace)
    });
    if !valid || email.len() > 254 {
        return bad(format!("{:?} is not an email address", req.email));
    }
    let created = state.store.get(&email).is_none();
    if created {
        let name = req.display_name.unwrap_or_else(|| email.clone());
        state.store.create_mailbox(&email, &name);
    }
    // Like the seeded mailboxes, it takes its well-known refresh token (tests sign in with it).
    state.oauth.ensure_well_known_refresh(&email);
    let v = json!({"email": email, "created": created});
    if created {
        HttpResponse::Created()
            .content_type("application/json; charset=UTF-8")
            .body(v.to_string())
    } else {
        ok_json(v)
    }
}
