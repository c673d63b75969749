//! The batch endpoint (`/batch`, `/batch/gmail/v1`): multipart/mixed of `application/http`
//! parts, each dispatched like a normal request, answered part by part with 200 overall.

use actix_web::{web, HttpRequest, HttpResponse};
use rand::Rng;

use super::dispatch::{api_request, dispatch, hold_answer, method_of};
use super::request::{ApiRequest, ApiResponse};
use crate::error::ApiError;
use crate::mime;
use crate::state::AppState;

const MAX_PARTS: usize = 100;

fn reason_phrase(code: u16) -> &'static str {
    actix_web::http::StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown")
}

/// Parse one `application/http` part into a request.
fn inner_request(bytes: &[u8], outer: &ApiRequest) -> Option<ApiRequest> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let trimmed = &bytes[start..];
    // A bodiless part may end right after its last header line; complete the head so the
    // headers (Authorization among them) are read.
    let mut owned;
    let mut bytes = trimmed;
    {
        let mut probe_headers = [httparse::EMPTY_HEADER; 64];
        let mut probe = httparse::Request::new(&mut probe_headers);
        if let Ok(httparse::Status::Partial) = probe.parse(trimmed) {
            owned = trimmed.to_vec();
            while owned
                .last()
                .map(|b| *b == b'\n' || *b == b'\r')
                .unwrap_or(false)
            {
                owned.pop();
            }
            owned.extend_from_slice(b"\r\n\r\n");
            bytes = &owned;
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    let status = req.parse(bytes).ok()?;
    let (head_len, complete) = match status {
        httparse::Status::Complete(n) => (n, true),
        httparse::Status::Partial => (bytes.len(), false),
    };
    let method = req.method?.to_ascii_uppercase();
    let target = req.path?;
    // Absolute URLs are allowed; only the path and query matter.
    let target = match target.find("://") {
        Some(i) => match target[i + 3..].find('/') {
            Some(j) => &target[i + 3 + j..],
            None => "/",
        },
        None => target,
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let hdrs: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let mut body = if complete {
        bytes[head_len..].to_vec()
    } else {
        vec![]
    };
    if let Some(len) = hdrs
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
    {
        body.truncate(len);
    }
    while body
        .last()
        .map(|b| *b == b'\n' || *b == b'\r')
        .unwrap_or(false)
    {
        body.pop();
    }
    let mut all_headers = hdrs;
    if !all_headers.iter().any(|(n, _)| n == "authorization") {
        if let Some(a) = outer.header("authorization") {
            all_headers.push(("authorization".into(), a.to_string()));
        }
    }
    Some(ApiRequest {
        method,
        path: path.to_string(),
        query: crate::form::parse_pairs(query),
        headers: all_headers,
        body,
        origin: outer.origin.clone(),
    })
}

fn response_content_id(request_id: Option<&str>) -> String {
    match request_id {
        Some(id) => {
            let inner = id.trim().trim_start_matches('<').trim_end_matches('>');
            format!("<response-{inner}>")
        }
        None => "<response->".to_string(),
    }
}

/// One part of a batch: its Content-ID and its request (None when unparseable).
struct Part {
    content_id: String,
    request: Option<ApiRequest>,
}

/// Split a batch body into its parts, or the error answer for the whole batch.
fn parts(outer: &ApiRequest) -> Result<Vec<Part>, ApiResponse> {
    let ct = outer.header("content-type").unwrap_or("").to_string();
    if !ct.to_ascii_lowercase().starts_with("multipart/") {
        return Err(ApiResponse::from_error(&ApiError::bad_request(
            "Invalid batch request: expected Content-Type multipart/mixed",
        )));
    }
    let mut synthetic = format!("Content-Type: {ct}\r\n\r\n").into_bytes();
    synthetic.extend_from_slice(&outer.body);
    let root = mime::parse(&synthetic);
    if root.children.len() > MAX_PARTS {
        return Err(ApiResponse::from_error(&ApiError::bad_request(format!(
            "Too many requests in batch: {} (limit is {MAX_PARTS}).",
            root.children.len()
        ))));
    }
    Ok(root
        .children
        .iter()
        .map(|part| Part {
            content_id: response_content_id(part.header("Content-ID")),
            request: inner_request(&part.decoded_body(&synthetic), outer),
        })
        .collect())
}

/// Dispatch every part and answer multipart/mixed.
fn answer(state: &AppState, parts: Vec<Part>) -> ApiResponse {
    let boundary = format!("batch_{}", {
        let mut rng = rand::rng();
        (0..24)
            .map(|_| (b'a' + rng.random_range(0..26u8)) as char)
            .collect::<String>()
    });
    let mut out: Vec<u8> = Vec::new();
    for part in parts {
        let content_id = part.content_id;
        let resp = match part.request {
            Some(r) => dispatch(state, r),
            None => ApiResponse::from_error(&ApiError::bad_request(
                "Invalid HTTP request in batch part",
            )),
        };
        out.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Type: application/http\r\nContent-ID: {content_id}\r\n\r\nHTTP/1.1 {} {}\r\n",
                resp.status,
                reason_phrase(resp.status)
            )
            .as_bytes(),
        );
        if let Some(ct) = &resp.content_type {
            out.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        for (k, v) in &resp.headers {
            out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", resp.body.len()).as_bytes());
        out.extend_from_slice(&resp.body);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    ApiResponse {
        status: 200,
        headers: vec![],
        content_type: Some(format!("multipart/mixed; boundary={boundary}")),
        body: out,
    }
}

/// actix entry point. Latency and `delay_after_ms` apply once to the whole batch when any
/// of its parts (or `batch` itself) is a targeted method; errors apply to each part, or to
/// the whole batch when `batch` is named.
pub async fn entry(req: HttpRequest, body: web::Bytes, state: web::Data<AppState>) -> HttpResponse {
    state.stats.http_request();
    if state.faults.batch_disabled() {
        return ApiResponse::from_error(&ApiError::not_found()).into_http();
    }
    state.stats.method("batch");
    // Named on its own, `batch` fails whole, as Gmail's batch endpoint itself can.
    if state.faults.names("batch") {
        if let Some(e) = state.faults.roll("batch") {
            state.stats.fault_injected();
            return ApiResponse::from_error(&e).into_http();
        }
    }
    let outer = api_request(&req, &body);
    let parsed = parts(&outer);
    let mut methods = vec![Some("batch")];
    if let Ok(p) = &parsed {
        methods.extend(
            p.iter()
                .map(|p| p.request.as_ref().and_then(|r| method_of(&state, r))),
        );
    }
    let latency = state.faults.latency_ms(&methods);
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    let resp = match parsed {
        Ok(p) => answer(&state, p),
        Err(r) => r,
    };
    hold_answer(&state, &methods).await;
    resp.into_http()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_without_final_blank_line_keep_headers() {
        let outer = ApiRequest::default();
        let r = inner_request(
            b"GET /gmail/v1/users/me/profile?alt=json HTTP/1.1\nHost: x\nauthorization: Bearer t",
            &outer,
        )
        .expect("parsed");
        assert_eq!(r.header("authorization"), Some("Bearer t"));
        assert_eq!(r.path, "/gmail/v1/users/me/profile");
        let r = inner_request(
            b"\r\nPOST https://gmail.googleapis.com/gmail/v1/users/me/messages/x/modify HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}\r\n",
            &outer,
        )
        .expect("parsed");
        assert_eq!(r.body, b"{}");
        assert_eq!(r.path, "/gmail/v1/users/me/messages/x/modify");
    }
}
