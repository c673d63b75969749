//! Media uploads for send/insert/import/drafts: `uploadType=media`, `multipart` (a tolerant
//! RFC 2046 reader) and `resumable` (session URL in `Location`, chunks by PUT or POST with no
//! auth, 308 + `Range` for intermediate chunks).

use std::time::Instant;

use super::request::{ApiRequest, ApiResponse};
use crate::error::ApiError;
use crate::grants::{random_token, AccessGrant};
use crate::methods::Route;
use crate::mime;
use crate::state::AppState;
use crate::uploads::{UploadSession, SESSION_TTL_SECS};

/// Split a `multipart/related` body into (JSON metadata, message bytes).
pub fn split_related(content_type: &str, body: &[u8]) -> Result<(Vec<u8>, Vec<u8>), ApiError> {
    let mut synthetic = format!("Content-Type: {content_type}\r\n\r\n").into_bytes();
    synthetic.extend_from_slice(body);
    let root = mime::parse(&synthetic);
    if !root.is_multipart() {
        return Err(ApiError::bad_request(
            "Invalid multipart request with 0 mime parts.",
        ));
    }
    let mut metadata = Vec::new();
    let mut media: Option<Vec<u8>> = None;
    for (i, part) in root.children.iter().enumerate() {
        let bytes = part.decoded_body(&synthetic);
        let looks_json = part.mime_type.contains("json")
            || (i == 0 && bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{'));
        if looks_json && metadata.is_empty() && media.is_none() {
            metadata = bytes;
        } else if media.is_none() {
            media = Some(bytes);
        }
    }
    match media {
        Some(m) => Ok((metadata, m)),
        None => Err(ApiError::bad_request(
            "Media type 'application/json' is not supported. Valid media types: [message/*]",
        )),
    }
}

fn new_upload_id() -> String {
    random_token(64)
}

/// What an upload request comes to: a message for its method to run on, or an answer now.
pub enum Upload {
    Run { metadata: Vec<u8>, raw: Vec<u8> },
    Answer(ApiResponse),
}

pub fn handle_upload(
    state: &AppState,
    req: &ApiRequest,
    route: &Route,
    grant: &AccessGrant,
) -> Upload {
    let ct = req.header("content-type").unwrap_or("").to_string();
    let upload_type = req
        .query
        .iter()
        .find(|(k, _)| k == "uploadType")
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_else(|| {
            if ct.to_ascii_lowercase().starts_with("multipart/") {
                "multipart".into()
            } else {
                "media".into()
            }
        });
    match upload_type.as_str() {
        "media" => Upload::Run {
            metadata: Vec::new(),
            raw: req.body.clone(),
        },
        "multipart" => match split_related(&ct, &req.body) {
            Ok((metadata, raw)) => Upload::Run { metadata, raw },
            Err(e) => Upload::Answer(ApiResponse::from_error(&e)),
        },
        "resumable" => {
            let id = new_upload_id();
            let mut uploads = state.uploads.lock();
            uploads.retain(|_, s| s.created.elapsed().as_secs() < SESSION_TTL_SECS);
            uploads.insert(
                id.clone(),
                UploadSession {
                    route: route.clone(),
                    grant: grant.clone(),
                    metadata: req.body.clone(),
                    buf: Vec::new(),
                    created: Instant::now(),
                },
            );
            let location = format!(
                "{}{}?uploadType=resumable&upload_id={}",
                req.origin, req.path, id
            );
            let mut r = ApiResponse::empty(200);
            r.headers.push(("Location".into(), location));
            r.headers.push(("X-GUploader-UploadID".into(), id));
            Upload::Answer(r)
        }
        other => Upload::Answer(ApiResponse::from_error(&ApiError::bad_request(format!(
            "Invalid upload type: {other}"
        )))),
    }
}

/// `(first, last)` of a chunk and the total size, either possibly unknown (`*`).
type ContentRange = (Option<(u64, u64)>, Option<u64>);

/// `bytes a-b/total`, `bytes */total` or `bytes a-b/*`.
fn parse_content_range(v: &str) -> Option<ContentRange> {
    let rest = v
        .trim()
        .strip_prefix("bytes")?
        .trim_start_matches([' ', '=']);
    let (range, total) = rest.split_once('/')?;
    let total = if total.trim() == "*" {
        None
    } else {
        Some(total.trim().parse().ok()?)
    };
    let range = if range.trim() == "*" {
        None
    } else {
        let (a, b) = range.split_once('-')?;
        Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
    };
    Some((range, total))
}

fn incomplete(len: usize, space_form: bool) -> ApiResponse {
    let mut r = ApiResponse::empty(308);
    if len > 0 {
        let sep = if space_form { " " } else { "=" };
        r.headers
            .push(("Range".into(), format!("bytes{sep}0-{}", len - 1)));
    }
    r
}

/// What a chunk comes to: the finished session, ready to run, or an answer now.
pub enum Chunk {
    Finished(UploadSession),
    Answer(ApiResponse),
}

/// A chunk (or status query) for a resumable session. The session id is the credential.
pub fn resumable_chunk(state: &AppState, req: &ApiRequest) -> Chunk {
    let Some(id) = req
        .query
        .iter()
        .find(|(k, _)| k == "upload_id")
        .map(|(_, v)| v.clone())
    else {
        return Chunk::Answer(ApiResponse::from_error(&ApiError::not_found()));
    };
    let range = req.header("content-range").and_then(parse_content_range);
    let finished = {
        let mut uploads = state.uploads.lock();
        let Some(session) = uploads.get_mut(&id) else {
            return Chunk::Answer(ApiResponse::from_error(&ApiError::not_found()));
        };
        match range {
            None => {
                session.buf.extend_from_slice(&req.body);
                true
            }
            Some((None, total)) => {
                // Status query: Rust's client parses "bytes a-b", Python's "bytes=a-b".
                if total
                    .map(|t| t as usize == session.buf.len())
                    .unwrap_or(false)
                {
                    true
                } else {
                    return Chunk::Answer(incomplete(session.buf.len(), req.method == "POST"));
                }
            }
            Some((Some((a, b)), total)) => {
                let a = a as usize;
                if a < session.buf.len() {
                    session.buf.truncate(a);
                } else if a > session.buf.len() {
                    return Chunk::Answer(incomplete(session.buf.len(), false));
                }
                session.buf.extend_from_slice(&req.body);
                match total {
                    Some(t) if b + 1 >= t => true,
                    _ => return Chunk::Answer(incomplete(session.buf.len(), false)),
                }
            }
        }
    };
    if !finished {
        return Chunk::Answer(incomplete(0, false));
    }
    match state.uploads.lock().remove(&id) {
        Some(session) => Chunk::Finished(session),
        None => Chunk::Answer(ApiResponse::from_error(&ApiError::not_found())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn related_parsing_variants() {
        // Rust client: leading CRLF, unquoted boundary, per-part Content-Length.
        let body = b"\r\n--MDuX\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}\r\n--MDuX\r\nContent-Type: message/rfc822\r\nContent-Length: 9\r\n\r\nSubject: x\r\n--MDuX--\r\n";
        let (m, r) = split_related("multipart/related;boundary=MDuX", body).unwrap();
        assert_eq!(m, b"{}");
        assert_eq!(r, b"Subject: x");
        // Node: lower-case headers, no trailing CRLF.
        let body = b"--b1\r\ncontent-type: application/json\r\n\r\n{\"threadId\":\"a\"}\r\n--b1\r\ncontent-type: message/rfc822\r\n\r\nSubject: y\r\n\r\nhi\r\n--b1--";
        let (m, r) = split_related("multipart/related; boundary=\"b1\"", body).unwrap();
        assert_eq!(m, b"{\"threadId\":\"a\"}");
        assert_eq!(r, b"Subject: y\r\n\r\nhi");
    }

    #[test]
    fn content_range() {
        assert_eq!(
            parse_content_range("bytes 0-9/10"),
            Some((Some((0, 9)), Some(10)))
        );
        assert_eq!(parse_content_range("bytes */10"), Some((None, Some(10))));
    }
}
