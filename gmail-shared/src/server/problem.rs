//! RFC 7807 `application/problem+json` answers: the one constructor every HTTP surface uses
//! (REST handlers, caller authentication, the request guard, the MCP transports).

use actix_web::http::header::{HeaderName, HeaderValue, RETRY_AFTER};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use serde::Serialize;

use crate::error::GmailError;

/// RFC 7807 problem details.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct ProblemDetails {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request field that was rejected, for invalid-argument problems.
    pub field: Option<String>,
    #[serde(rename = "retryAfterSecs")]
    pub retry_after_secs: Option<u64>,
}

/// Where problem types live: `{PROBLEM_BASE}{kind}`.
pub const PROBLEM_BASE: &str = "https://gmail-servers.dev/problems/";

/// A problem+json answer under construction.
#[derive(Debug, Clone)]
pub struct Problem {
    details: ProblemDetails,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// MCP clients read JSON-RPC: the same answer also carries a JSON-RPC error object.
    jsonrpc_code: Option<i32>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, title: &str, detail: impl Into<String>) -> Self {
        Problem {
            details: ProblemDetails {
                problem_type: format!("{PROBLEM_BASE}{kind}"),
                title: title.to_string(),
                status: status.as_u16(),
                detail: detail.into(),
                field: None,
                retry_after_secs: None,
            },
            headers: Vec::new(),
            jsonrpc_code: None,
        }
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// The rejected request field.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.details.field = Some(field.into());
        self
    }

    /// `Retry-After` in the header and the body.
    pub fn retry_after(mut self, secs: u64) -> Self {
        let secs = secs.max(1);
        self.details.retry_after_secs = Some(secs);
        self.header(RETRY_AFTER, &secs.to_string())
    }

    pub fn header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    /// Also answer as a JSON-RPC error with this code (`id: null`), for MCP clients.
    pub fn jsonrpc(mut self, code: i32) -> Self {
        self.jsonrpc_code = Some(code);
        self
    }

    pub fn details(&self) -> &ProblemDetails {
        &self.details
    }

    pub fn response(&self) -> HttpResponse {
        let status =
            StatusCode::from_u16(self.details.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut builder = HttpResponse::build(status);
        builder.content_type("application/problem+json");
        for (name, value) in &self.headers {
            builder.insert_header((name.clone(), value.clone()));
        }
        let mut body = serde_json::to_value(&self.details).unwrap_or_default();
        if let (Some(code), Some(map)) = (self.jsonrpc_code, body.as_object_mut()) {
            map.insert("jsonrpc".into(), "2.0".into());
            map.insert("id".into(), serde_json::Value::Null);
            map.insert(
                "error".into(),
                serde_json::json!({"code": code, "message": format!("{}: {}", self.details.title, self.details.detail)}),
            );
        }
        builder.body(body.to_string())
    }
}

impl From<&GmailError> for Problem {
    fn from(e: &GmailError) -> Self {
        let mut p = Problem::new(e.status(), e.kind(), e.title(), e.public_message());
        p.details.field = e.field().map(str::to_owned);
        match e {
            GmailError::RateLimited {
                retry_after: Some(d),
            }
            | GmailError::SendCapReached { retry_after: d, .. }
            | GmailError::TooManyRequests { retry_after: d, .. } => {
                p = p.retry_after(d.as_secs().max(1))
            }
            _ => {}
        }
        p
    }
}

impl ResponseError for GmailError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        Problem::from(self).response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;
    use std::time::Duration;

    #[actix_web::test]
    async fn rest_answer_is_problem_json_naming_the_field() {
        let resp = GmailError::invalid("subject", "contains a line break").error_response();
        assert_eq!(resp.status(), 400);
        assert_eq!(
            resp.headers().get("content-type").unwrap(),
            "application/problem+json"
        );
        let body = to_bytes(resp.into_body()).await.unwrap();
        let p: ProblemDetails = serde_json::from_slice(&body).unwrap();
        assert_eq!(p.field.as_deref(), Some("subject"));
        assert!(p.detail.contains("line break"));
    }

    /// An internal error says where it happened, not its cause: a database message names
    /// tables and values that are the operator's business (the log has them).
    #[actix_web::test]
    async fn internal_errors_keep_their_cause_out_of_the_answer() {
        let e = GmailError::internal_from(
            "database",
            "no such column: secret_token in SELECT secret_token FROM webhooks",
        );
        assert!(e.to_string().contains("secret_token"), "kept for the log");
        let resp = e.error_response();
        assert_eq!(resp.status(), 500);
        let body = to_bytes(resp.into_body()).await.unwrap();
        let p: ProblemDetails = serde_json::from_slice(&body).unwrap();
        assert!(
            p.detail.contains("internal error: database"),
            "{}",
            p.detail
        );
        assert!(!p.detail.contains("secret_token"), "{}", p.detail);
        assert!(!e.tool_message().contains("secret_token"));
    }

    #[actix_web::test]
    async fn rate_limit_carries_retry_after() {
        let err = GmailError::RateLimited {
            retry_after: Some(Duration::from_secs(7)),
        };
        assert!(err.tool_message().contains("retry after 7 s"));
        let resp = err.error_response();
        assert_eq!(resp.headers().get("retry-after").unwrap(), "7");
    }

    #[actix_web::test]
    async fn jsonrpc_problems_carry_both_shapes() {
        let resp = Problem::forbidden("Host \"evil\" is not allowed")
            .jsonrpc(-32600)
            .response();
        assert_eq!(resp.status(), 403);
        let body = to_bytes(resp.into_body()).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["status"], 403);
        assert_eq!(v["error"]["code"], -32600);
        assert_eq!(v["jsonrpc"], "2.0");
    }
}
