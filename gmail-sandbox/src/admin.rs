//! Sandbox-only endpoints: health, request statistics, fault and quota knobs.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::config::{FaultConfig, QuotaConfig};
use crate::state::AppState;

fn ok_json(v: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json; charset=UTF-8")
        .body(v.to_string())
}

fn bad(msg: String) -> HttpResponse {
    HttpResponse::BadRequest()
        .content_type("application/json; charset=UTF-8")
        .body(
            json!({"error": {"code": 400, "message": msg, "status": "INVALID_ARGUMENT"}})
                .to_string(),
        )
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
