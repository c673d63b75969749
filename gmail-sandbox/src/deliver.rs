//! `POST /__sandbox/deliver`: mail arriving from outside into a sandbox mailbox, through the
//! same delivery path a send to a sandbox recipient takes (filters, history, watch push,
//! vacation responder).

use actix_web::{web, HttpResponse};
use base64::Engine;
use mail_builder::MessageBuilder;
use serde::Deserialize;
use serde_json::json;

use crate::admin::{bad, error};
use crate::render;
use crate::routes::messages::{deliver_incoming, random_message_id, rewrite_headers, Incoming};
use crate::state::AppState;

const DEFAULT_FROM: &str = "Outside Sender <sender@outside.example>";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliverRequest {
    to: Option<String>,
    from: Option<String>,
    subject: Option<String>,
    text: Option<String>,
    html: Option<String>,
    /// A whole RFC 822 message, base64url (or standard base64).
    raw: Option<String>,
    #[serde(rename = "labelIds")]
    label_ids: Option<Vec<String>>,
}

/// `Name <addr>`, `"Name" <addr>` or a bare `addr`.
fn parse_address(s: &str) -> Option<(String, String)> {
    let s = s.trim();
    let (name, addr) = match s.rfind('<') {
        Some(lt) => (
            s[..lt].trim().trim_matches('"').trim(),
            s[lt + 1..].strip_suffix('>')?.trim(),
        ),
        None => ("", s),
    };
    let (local, domain) = addr.split_once('@')?;
    let bad_char = |c: char| c.is_whitespace() || "<>,;:\"()[]\\@".contains(c);
    if local.is_empty()
        || domain.is_empty()
        || local.contains(bad_char)
        || domain.contains(bad_char)
    {
        return None;
    }
    Some((name.to_string(), addr.to_string()))
}

fn decode_raw(s: &str) -> Option<Vec<u8>> {
    render::decode_b64url_input(s).or_else(|| {
        let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        base64::engine::general_purpose::STANDARD.decode(t).ok()
    })
}

/// Build the message from the request's fields (CR/LF already rejected).
fn build(req: &DeliverRequest, to_name: &str, to: &str, now_s: i64) -> Result<Vec<u8>, String> {
    let from = req.from.as_deref().unwrap_or(DEFAULT_FROM);
    let (name, addr) =
        parse_address(from).ok_or_else(|| format!("invalid from address {from:?}"))?;
    let domain = addr.rsplit('@').next().unwrap_or("outside.example");
    let mut b = MessageBuilder::new();
    b = if name.is_empty() {
        b.from(addr.clone())
    } else {
        b.from((name, addr.clone()))
    };
    b = if to_name.is_empty() {
        b.to(to.to_string())
    } else {
        b.to((to_name.to_string(), to.to_string()))
    };
    b = b
        .subject(req.subject.clone().unwrap_or_default())
        .date(now_s)
        .message_id(format!("{}@{domain}", uuid::Uuid::new_v4().simple()));
    if req.text.is_some() || req.html.is_none() {
        b = b.text_body(req.text.clone().unwrap_or_default());
    }
    if let Some(h) = &req.html {
        b = b.html_body(h.clone());
    }
    b.write_to_vec().map_err(|e| e.to_string())
}

/// A raw message as an MTA hands it over: Date and Message-ID added when missing.
fn complete_raw(raw: Vec<u8>) -> Vec<u8> {
    let root = crate::mime::parse(&raw[..crate::mime::header_block_end(&raw).min(raw.len())]);
    let mut add = Vec::new();
    if root.header("Date").is_none() {
        add.push(("Date".to_string(), chrono::Utc::now().to_rfc2822()));
    }
    if root.header("Message-ID").is_none() {
        add.push(("Message-ID".to_string(), random_message_id()));
    }
    if add.is_empty() {
        raw
    } else {
        rewrite_headers(&raw, &[], &add)
    }
}

pub async fn deliver(state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let req: DeliverRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad(format!("invalid delivery request: {e}")),
    };
    let Some(to) = req.to.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
        return bad("'to' is required".into());
    };
    // Header values go into the message verbatim: a line break would add headers.
    for (field, v) in [
        ("to", Some(to)),
        ("from", req.from.as_deref()),
        ("subject", req.subject.as_deref()),
    ] {
        if v.is_some_and(|v| v.contains(['\r', '\n'])) {
            return bad(format!("'{field}' must not contain CR or LF"));
        }
    }
    let Some(mb) = state.store.get(to) else {
        return error(404, "NOT_FOUND", format!("no sandbox mailbox {to}"));
    };
    let labels = req
        .label_ids
        .clone()
        .unwrap_or_else(|| vec!["INBOX".into(), "UNREAD".into()]);
    {
        let data = mb.data.read();
        if let Some(l) = labels.iter().find(|l| data.label(l).is_none()) {
            return bad(format!("Invalid label: {l}"));
        }
    }
    let now = chrono::Utc::now();
    let raw = match &req.raw {
        Some(r) => {
            if req.from.is_some()
                || req.subject.is_some()
                || req.text.is_some()
                || req.html.is_some()
            {
                return bad("give either 'raw' or from/subject/text/html".into());
            }
            match decode_raw(r) {
                Some(bytes) if !bytes.is_empty() => complete_raw(bytes),
                _ => return bad("'raw' is not base64url of an RFC 822 message".into()),
            }
        }
        None => match build(&req, &mb.display_name, &mb.email, now.timestamp()) {
            Ok(r) => r,
            Err(e) => return bad(e),
        },
    };
    let parsed = render::parse_message(&raw, "probe");
    let incoming = Incoming {
        raw: &raw,
        sender: parsed.from_addr.as_deref(),
        subject: &parsed.subject,
        message_id: parsed.message_id.as_deref(),
    };
    let d = deliver_incoming(&state.store, &mb, incoming, labels, now.timestamp_millis());
    HttpResponse::Ok()
        .content_type("application/json; charset=UTF-8")
        .body(
            json!({
                "id": d.id,
                "threadId": d.thread_id,
                "historyId": d.history_id.to_string(),
            })
            .to_string(),
        )
}

#[cfg(test)]
mod tests {
    use super::parse_address;

    #[test]
    fn addresses() {
        assert_eq!(
            parse_address("Alice <alice@outside.example>"),
            Some(("Alice".into(), "alice@outside.example".into()))
        );
        assert_eq!(
            parse_address("\"A, B\" <ab@x.y>"),
            Some(("A, B".into(), "ab@x.y".into()))
        );
        assert_eq!(
            parse_address("bare@x.y"),
            Some((String::new(), "bare@x.y".into()))
        );
        assert_eq!(parse_address("no-at-sign"), None);
        assert_eq!(parse_address("A <a@b"), None);
        assert_eq!(parse_address("a b@c.d"), None);
    }
}
