//! Reading OAuth requests and writing Google-shaped answers.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use serde_json::json;

use crate::error::ApiError;
use crate::form::parse_pairs;
use crate::render::escape_html;

pub fn oauth_error(status: u16, error: &str, description: &str) -> HttpResponse {
    let code = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    HttpResponse::build(code)
        .content_type("application/json; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(json!({"error": error, "error_description": description}).to_string())
}

pub fn html_error(status: u16, title: &str, detail: &str) -> HttpResponse {
    let code = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    HttpResponse::build(code)
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><html><head><title>Sign in - Google Accounts (sandbox)</title></head>\
             <body><h1>Access blocked: authorization error</h1><h2>{}</h2><p>{}</p></body></html>",
            escape_html(title),
            escape_html(detail)
        ))
}

pub fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// A parameter from the query string, else from the form (or JSON) body.
pub fn query_or_body(req: &HttpRequest, body: &[u8], key: &str) -> Option<String> {
    let q = parse_pairs(req.query_string());
    if let Some(v) = get(&q, key) {
        return Some(v.to_string());
    }
    get(&body_pairs(req, body), key).map(str::to_string)
}

pub fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let h = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let b64 = h
        .strip_prefix("Basic ")
        .or_else(|| h.strip_prefix("basic "))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let s = String::from_utf8(bytes).ok()?;
    let (id, secret) = s.split_once(':')?;
    let dec = |x: &str| {
        percent_encoding::percent_decode_str(&x.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    Some((dec(id), dec(secret)))
}

pub fn body_pairs(req: &HttpRequest, body: &[u8]) -> Vec<(String, String)> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct.starts_with("application/json") {
        if let Ok(serde_json::Value::Object(m)) = serde_json::from_slice(body) {
            return m
                .into_iter()
                .map(|(k, v)| {
                    let s = match v {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (k, s)
                })
                .collect();
        }
        return vec![];
    }
    parse_pairs(&String::from_utf8_lossy(body))
}

pub fn bearer(req: &HttpRequest) -> Option<String> {
    let h = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let t = h
        .strip_prefix("Bearer ")
        .or_else(|| h.strip_prefix("bearer "))?;
    Some(t.trim().to_string())
}

pub fn unauthorized() -> HttpResponse {
    let e = ApiError::unauthenticated();
    HttpResponse::Unauthorized()
        .content_type("application/json; charset=UTF-8")
        .insert_header((
            header::WWW_AUTHENTICATE,
            e.www_authenticate().unwrap_or_default().to_string(),
        ))
        .body(e.body().to_string())
}
