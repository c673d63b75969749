//! users.messages.*

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::request::{check_id, normalize_id, Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use crate::render::{self, Format};
use crate::search::Query;
use crate::store::{Mailbox, MailboxData, Msg, Store, Threading};

/// A string array field of a JSON body (`null`/absent → empty).
pub fn str_array(v: &Value, key: &str) -> ApiResult<Vec<String>> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str().map(str::to_string).ok_or_else(|| {
                    ApiError::invalid_json(&format!("Invalid value at '{key}' (TYPE_STRING), {x}"))
                })
            })
            .collect(),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(other) => Err(ApiError::invalid_json(&format!(
            "Invalid value at '{key}' (TYPE_STRING), {other}"
        ))),
    }
}

/// Gmail's rules for adding/removing labels on messages and threads.
pub fn validate_modify(data: &MailboxData, add: &[String], remove: &[String]) -> ApiResult<()> {
    if add.is_empty() && remove.is_empty() {
        return Err(ApiError::invalid_argument(
            "No label add or removes specified",
        ));
    }
    if add.len() > 100 || remove.len() > 100 {
        return Err(ApiError::invalid_argument(
            "Too many label ids specified: at most 100 may be added or removed",
        ));
    }
    for l in add.iter().chain(remove.iter()) {
        if l == "SENT" || l == "DRAFT" || data.label(l).is_none() {
            return Err(ApiError::invalid_label(l));
        }
    }
    let exclusive = add
        .iter()
        .filter(|l| matches!(l.as_str(), "INBOX" | "SPAM" | "TRASH"))
        .count();
    if exclusive > 1 {
        return Err(ApiError::invalid_argument(
            "Can only add one of: INBOX, SPAM, TRASH",
        ));
    }
    Ok(())
}

pub fn parse_query(ctx: &Ctx<'_>) -> ApiResult<Option<Query>> {
    match ctx.q("q").map(str::trim) {
        None | Some("") => Ok(None),
        Some(q) => {
            if ctx.metadata_only() {
                return Err(ApiError::new_forbidden(
                    "Metadata scope does not support 'q' parameter",
                ));
            }
            Query::parse(q)
                .map(Some)
                .map_err(|e| ApiError::invalid_argument(e.to_string()))
        }
    }
}

/// The parameters messages.list and threads.list share.
pub struct ListParams {
    pub max: usize,
    pub offset: usize,
    query: Option<Query>,
    label_ids: Vec<String>,
    include_spam_trash: bool,
}

impl ListParams {
    pub fn parse(ctx: &Ctx<'_>) -> ApiResult<Self> {
        Ok(ListParams {
            max: ctx.max_results()?,
            offset: ctx.page_offset()?,
            query: parse_query(ctx)?,
            label_ids: ctx.q_all("labelIds"),
            include_spam_trash: ctx.q_bool("includeSpamTrash"),
        })
    }

    /// The messages that match, in list order.
    pub fn hits<'a>(&self, data: &'a MailboxData, now_ms: i64) -> Vec<&'a Msg> {
        let q = self.query.as_ref();
        data.matching_messages(q, &self.label_ids, self.include_spam_trash, now_ms)
    }

    /// A list answer: this page of `items` under `key` (each written by `item`), the next
    /// page's token when there is more, and the estimate.
    pub fn page_json<T>(&self, key: &str, items: &[T], item: impl Fn(&mut String, &T)) -> String {
        let total = items.len();
        let page: Vec<&T> = items.iter().skip(self.offset).take(self.max).collect();
        let mut out = String::with_capacity(page.len() * 60 + 64);
        out.push('{');
        if !page.is_empty() {
            let _ = write!(out, "\"{key}\":[");
            for (i, t) in page.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                item(&mut out, t);
            }
            out.push_str("],");
            let next = self.offset + page.len();
            if next < total {
                let _ = write!(out, "\"nextPageToken\":\"{next:020}\",");
            }
        }
        let _ = write!(out, "\"resultSizeEstimate\":{total}}}");
        out
    }
}

pub fn list(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let params = ListParams::parse(ctx)?;
    let data = ctx.mailbox.data.read();
    let hits = params.hits(&data, ctx.now_ms);
    Ok(Reply::Json(params.page_json(
        "messages",
        &hits,
        |out, m| {
            let _ = write!(
                out,
                "{{\"id\":\"{}\",\"threadId\":\"{}\"}}",
                m.id, m.thread_id
            );
        },
    )))
}

pub fn format_param(ctx: &Ctx<'_>, allow_raw: bool) -> ApiResult<Format> {
    let f = ctx.q("format");
    let parsed = Format::parse(f).filter(|f| allow_raw || *f != Format::Raw);
    let Some(format) = parsed else {
        return Err(ApiError::invalid_value(format!(
            "Invalid value at 'format' (type.googleapis.com/google.apps.gmail.v1.Format), \"{}\"",
            f.unwrap_or("")
        )));
    };
    if ctx.metadata_only() && matches!(format, Format::Full | Format::Raw) {
        return Err(ApiError::new_forbidden(&format!(
            "Metadata scope doesn't allow format {}",
            if format == Format::Full {
                "FULL"
            } else {
                "RAW"
            }
        )));
    }
    Ok(format)
}

pub fn get(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let id = ctx.id(0);
    check_id(id)?;
    let format = format_param(ctx, true)?;
    let headers = ctx.q_all("metadataHeaders");
    let data = ctx.mailbox.data.read();
    let m = data
        .messages
        .get(&normalize_id(id))
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::Json(render::message_json(
        &m.view(),
        format,
        &headers,
    )))
}

/// The message bytes of a send/insert/import/draft request: the upload, or `raw` in JSON.
pub fn message_bytes(ctx: &Ctx<'_>, msg: &Value, field: &str) -> ApiResult<Vec<u8>> {
    if let Some(u) = &ctx.upload {
        return Ok(u.raw.clone());
    }
    match msg.get("raw") {
        Some(Value::String(s)) if !s.is_empty() => {
            render::decode_b64url_input(s).ok_or_else(|| {
                let shown: String = s.chars().take(64).collect();
                ApiError::invalid_value(format!(
                "Invalid value at '{field}' (TYPE_BYTES), Base64 decoding failed for \"{shown}\""
            ))
            })
        }
        Some(Value::String(_)) | None | Some(Value::Null) => Err(ApiError::bad_request(
            "'raw' RFC822 payload message string or uploading message via /upload/* URL required",
        )),
        Some(other) => Err(ApiError::invalid_json(&format!(
            "Invalid value at '{field}' (TYPE_BYTES), {other}"
        ))),
    }
}

/// Epoch ms from a Date header (RFC 2822, tolerating trailing comments).
pub fn date_header_ms(raw: &[u8]) -> Option<i64> {
    let root = crate::mime::parse(&raw[..crate::mime::header_block_end(raw).min(raw.len())]);
    let d = root.header("Date")?;
    let cleaned = match d.find('(') {
        Some(i) => d[..i].trim(),
        None => d.trim(),
    };
    chrono::DateTime::parse_from_rfc2822(cleaned)
        .ok()
        .map(|t| t.timestamp_millis())
}

fn thread_hint(v: &Value) -> Option<String> {
    v.get("threadId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(|s| s.to_ascii_lowercase())
}

/// messages.insert (`import == false`) and messages.import.
pub fn insert(ctx: &Ctx<'_>, import: bool) -> ApiResult<Reply> {
    let body = ctx.json()?;
    let raw = message_bytes(ctx, &body, "message.raw")?;
    let mut labels = str_array(&body, "labelIds")?;
    let hint = thread_hint(&body);
    let source =
        ctx.q("internalDateSource")
            .unwrap_or(if import { "dateHeader" } else { "receivedTime" });
    let date = if source.eq_ignore_ascii_case("dateHeader") {
        date_header_ms(&raw).unwrap_or(ctx.now_ms)
    } else {
        ctx.now_ms
    };
    let mut data = ctx.mailbox.data.write();
    for l in &labels {
        if data.label(l).is_none() {
            return Err(ApiError::invalid_label(l));
        }
    }
    if ctx.q_bool("deleted") {
        // "Permanently deleted, only visible in Google Vault": acknowledged, never listed.
        let id = data.new_message_id(date);
        return Ok(Reply::value(render::message_min_json(&id, &id, &labels)));
    }
    super::settings::apply_filters(&data, &raw, date, &mut labels, ctx.now_ms);
    // An import is delivered as mail arriving is (threaded by its headers); an insert is
    // stored as the API stores (in a thread only as Gmail's threadId rules allow).
    let threading = match import {
        true => Threading::Received,
        false => Threading::Api(hint.as_deref()),
    };
    let id = data.add_message(raw, labels, date, threading);
    let m = data.messages.get(&id).ok_or_else(ApiError::backend_error)?;
    Ok(Reply::value(render::message_min_json(
        &m.id,
        &m.thread_id,
        &m.labels,
    )))
}

/// Rewrite the top-level header block: drop headers named in `remove`, add `add` lines.
pub fn rewrite_headers(raw: &[u8], remove: &[&str], add: &[(String, String)]) -> Vec<u8> {
    let end = crate::mime::header_block_end(raw).min(raw.len());
    let head = &raw[..end];
    let body = &raw[end..];
    let eol: &[u8] = if head.windows(2).any(|w| w == b"\r\n") {
        b"\r\n"
    } else {
        b"\n"
    };
    let mut out: Vec<u8> = Vec::with_capacity(raw.len() + 256);
    for (name, value) in add {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(eol);
    }
    let mut skipping = false;
    let mut saw_blank = false;
    for line in head.split_inclusive(|b| *b == b'\n') {
        let trimmed = line
            .strip_suffix(b"\n")
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .unwrap_or(line);
        if trimmed.is_empty() {
            saw_blank = true;
            out.extend_from_slice(line);
            continue;
        }
        if trimmed[0] == b' ' || trimmed[0] == b'\t' {
            if !skipping {
                out.extend_from_slice(line);
            }
            continue;
        }
        let name = trimmed
            .iter()
            .position(|b| *b == b':')
            .map(|i| String::from_utf8_lossy(&trimmed[..i]).trim().to_string())
            .unwrap_or_default();
        skipping = remove.iter().any(|r| r.eq_ignore_ascii_case(&name));
        if !skipping {
            out.extend_from_slice(line);
            if !line.ends_with(b"\n") {
                out.extend_from_slice(eol);
            }
        }
    }
    if !saw_blank {
        out.extend_from_slice(eol);
    }
    out.extend_from_slice(body);
    out
}

fn sender_aliases(data: &MailboxData) -> Vec<String> {
    let mut v = vec![data.email.clone()];
    for s in &data.send_as {
        if let Some(e) = s.get("sendAsEmail").and_then(Value::as_str) {
            v.push(e.to_ascii_lowercase());
        }
    }
    v
}

pub fn random_message_id() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    let s: String = (0..32)
        .map(|_| {
            let n = rng.random_range(0..36u8);
            (if n < 10 { b'0' + n } else { b'a' + n - 10 }) as char
        })
        .collect();
    format!("<CAsandbox{s}@mail.gmail.com>")
}

/// Send a message as the context's user: store the SENT copy, deliver to sandbox recipients.
/// Returns the sender's copy as `(id, threadId, labels)`.
pub fn send_raw(ctx: &Ctx<'_>, raw: Vec<u8>, hint: Option<&str>) -> ApiResult<Value> {
    let parsed = render::parse_message(&raw, "probe");
    if parsed.recipients.is_empty() {
        return Err(ApiError::bad_request("Recipient address required"));
    }
    let me = ctx.mailbox.email.clone();
    let (display, aliases) = {
        let d = ctx.mailbox.data.read();
        (d.display_name.clone(), sender_aliases(&d))
    };
    let mut remove: Vec<&str> = Vec::new();
    let mut add: Vec<(String, String)> = Vec::new();
    let from_ok = parsed
        .from_addr
        .as_ref()
        .map(|f| aliases.contains(f))
        .unwrap_or(false);
    if !from_ok {
        remove.push("From");
        let from = if display.is_empty() {
            me.clone()
        } else {
            format!("\"{}\" <{}>", display.replace('"', ""), me)
        };
        add.push(("From".into(), from));
    }
    let root = crate::mime::parse(&raw[..crate::mime::header_block_end(&raw).min(raw.len())]);
    if root.header("Date").is_none() {
        add.push(("Date".into(), chrono::Utc::now().to_rfc2822()));
    }
    let mut final_msgid = parsed.message_id.clone();
    if root.header("Message-ID").is_none() {
        let m = random_message_id();
        final_msgid = Some(render::normalize_msgid(&m));
        add.push(("Message-ID".into(), m));
    }
    let raw = if remove.is_empty() && add.is_empty() {
        raw
    } else {
        rewrite_headers(&raw, &remove, &add)
    };
    let to_self = parsed.recipients.contains(&me);
    let mut labels = vec!["SENT".to_string()];
    if to_self {
        labels.push("INBOX".into());
        labels.push("UNREAD".into());
    }
    let result = {
        let mut data = ctx.mailbox.data.write();
        if to_self {
            super::settings::apply_filters(&data, &raw, ctx.now_ms, &mut labels, ctx.now_ms);
        }
        let id = data.add_message(raw.clone(), labels, ctx.now_ms, Threading::Api(hint));
        let m = data.messages.get(&id).ok_or_else(ApiError::backend_error)?;
        render::message_min_json(&m.id, &m.thread_id, &m.labels)
    };
    // Recipients' copies never show the Bcc list.
    let delivered = rewrite_headers(&raw, &["Bcc"], &[]);
    let mut seen = vec![me.clone()];
    for r in &parsed.recipients {
        if seen.contains(r) {
            continue;
        }
        seen.push(r.clone());
        if let Some(mb) = ctx.state.store.get(r) {
            let incoming = Incoming {
                raw: &delivered,
                sender: Some(&me),
                subject: &parsed.subject,
                message_id: final_msgid.as_deref(),
            };
            deliver_incoming(
                &ctx.state.store,
                &mb,
                incoming,
                vec!["INBOX".to_string(), "UNREAD".to_string()],
                ctx.now_ms,
            );
        }
    }
    Ok(result)
}

/// Mail arriving in a sandbox mailbox.
pub struct Incoming<'a> {
    pub raw: &'a [u8],
    /// Envelope sender: whom the vacation responder answers.
    pub sender: Option<&'a str>,
    /// The original subject, for the responder's `Re:`.
    pub subject: &'a str,
    /// Normalised Message-ID, for the responder's In-Reply-To.
    pub message_id: Option<&'a str>,
}

/// Where a delivered message ended up.
pub struct Delivered {
    pub id: String,
    pub thread_id: String,
    pub history_id: u64,
}

/// Deliver mail into `mb` as its owner receives it: the mailbox's filters adjust `labels`,
/// the message is stored (a `messageAdded` record, so a watch pushes), and the vacation
/// responder may answer; the answer reaches the sender when that is a sandbox mailbox.
pub fn deliver_incoming(
    store: &Store,
    mb: &Mailbox,
    incoming: Incoming<'_>,
    mut labels: Vec<String>,
    now_ms: i64,
) -> Delivered {
    let (delivered, reply) = {
        let mut data = mb.data.write();
        super::settings::apply_filters(&data, incoming.raw, now_ms, &mut labels, now_ms);
        let id = data.add_message(incoming.raw.to_vec(), labels, now_ms, Threading::Received);
        let delivered = match data.messages.get(&id) {
            Some(m) => Delivered {
                id: m.id.clone(),
                thread_id: m.thread_id.clone(),
                history_id: m.history_id,
            },
            None => Delivered {
                thread_id: id.clone(),
                id,
                history_id: data.meta.history_id,
            },
        };
        let reply = incoming.sender.and_then(|s| {
            vacation_reply(&mut data, s, incoming.subject, incoming.message_id, now_ms)
        });
        (delivered, reply)
    };
    // The auto-reply reaches the sender like any other sandbox delivery (after the
    // recipient's lock is released: never two mailbox locks at once).
    if let (Some(reply), Some(sender)) = (reply, incoming.sender.and_then(|s| store.get(s))) {
        sender.data.write().add_message(
            reply,
            vec!["INBOX".into(), "UNREAD".into()],
            now_ms,
            Threading::Received,
        );
    }
    delivered
}

/// Gmail answers at most once every four days per sender while a vacation responder is on.
const VACATION_REPEAT_MS: i64 = 4 * 24 * 3600 * 1000;

/// If `data`'s vacation responder applies to mail from `sender`, store the reply in its SENT
/// and return the raw reply for delivery.
fn vacation_reply(
    data: &mut MailboxData,
    sender: &str,
    original_subject: &str,
    original_msgid: Option<&str>,
    now_ms: i64,
) -> Option<Vec<u8>> {
    let v = data.vacation.clone();
    if v.get("enableAutoReply").and_then(Value::as_bool) != Some(true) {
        return None;
    }
    let ms = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<i64>().ok())
    };
    if ms("startTime").map(|s| now_ms < s).unwrap_or(false)
        || ms("endTime").map(|e| now_ms > e).unwrap_or(false)
    {
        return None;
    }
    if v.get("restrictToContacts").and_then(Value::as_bool) == Some(true) {
        // The sandbox has no contacts.
        return None;
    }
    let domain = |e: &str| e.rsplit('@').next().unwrap_or("").to_string();
    if v.get("restrictToDomain").and_then(Value::as_bool) == Some(true)
        && domain(sender) != domain(&data.email)
    {
        return None;
    }
    if data
        .vacation_replied
        .get(sender)
        .map(|t| now_ms - t < VACATION_REPEAT_MS)
        .unwrap_or(false)
    {
        return None;
    }
    data.vacation_replied.insert(sender.to_string(), now_ms);
    let subject = v
        .get("responseSubject")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("Re: {original_subject}"));
    let (ct, body) = match v.get("responseBodyPlainText").and_then(Value::as_str) {
        Some(t) if !t.is_empty() => ("text/plain", t.to_string()),
        _ => (
            "text/html",
            v.get("responseBodyHtml")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        ),
    };
    let mut raw = format!(
        "From: \"{}\" <{}>\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: {}\r\nAuto-Submitted: auto-replied\r\n",
        data.display_name.replace('"', ""),
        data.email,
        sender,
        subject,
        chrono::Utc::now().to_rfc2822(),
        random_message_id()
    );
    if let Some(mid) = original_msgid {
        raw.push_str(&format!("In-Reply-To: <{mid}>\r\nReferences: <{mid}>\r\n"));
    }
    raw.push_str(&format!(
        "Content-Type: {ct}; charset=UTF-8\r\n\r\n{body}\r\n"
    ));
    let raw = raw.into_bytes();
    data.add_message(
        raw.clone(),
        vec!["SENT".into()],
        now_ms,
        Threading::Received,
    );
    Some(raw)
}

pub fn send(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let body = ctx.json()?;
    let raw = message_bytes(ctx, &body, "message.raw")?;
    let hint = thread_hint(&body);
    let v = send_raw(ctx, raw, hint.as_deref())?;
    Ok(Reply::value(v))
}

fn minimal_of(data: &MailboxData, id: &str) -> ApiResult<Value> {
    let m = data.messages.get(id).ok_or_else(ApiError::not_found)?;
    Ok(render::message_min_json(&m.id, &m.thread_id, &m.labels))
}

pub fn modify(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let id = ctx.id(0);
    check_id(id)?;
    let id = normalize_id(id);
    let body = ctx.json()?;
    let add = str_array(&body, "addLabelIds")?;
    let remove = str_array(&body, "removeLabelIds")?;
    let mut data = ctx.mailbox.data.write();
    if !data.messages.contains_key(&id) {
        return Err(ApiError::not_found());
    }
    validate_modify(&data, &add, &remove)?;
    data.modify_labels(&id, &add, &remove);
    Ok(Reply::value(minimal_of(&data, &id)?))
}

fn ids_field(body: &Value) -> ApiResult<Vec<String>> {
    let ids = str_array(body, "ids")?;
    if ids.len() > 1000 {
        return Err(ApiError::invalid_argument(
            "Too many ids specified: at most 1000 ids are allowed per request",
        ));
    }
    for id in &ids {
        check_id(id)?;
    }
    Ok(ids.iter().map(|i| normalize_id(i)).collect())
}

pub fn batch_modify(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let body = ctx.json()?;
    let ids = ids_field(&body)?;
    let add = str_array(&body, "addLabelIds")?;
    let remove = str_array(&body, "removeLabelIds")?;
    let mut data = ctx.mailbox.data.write();
    validate_modify(&data, &add, &remove)?;
    for id in &ids {
        if data.messages.contains_key(id) {
            data.modify_labels(id, &add, &remove);
        }
    }
    Ok(Reply::NoContent)
}

pub fn batch_delete(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let body = ctx.json()?;
    let ids = ids_field(&body)?;
    let mut data = ctx.mailbox.data.write();
    for id in &ids {
        // Unknown ids are not an error ("no guarantees that messages … even existed").
        data.delete_message(id);
    }
    Ok(Reply::NoContent)
}

/// messages.trash (`to_trash`) / messages.untrash.
pub fn trash(ctx: &Ctx<'_>, to_trash: bool) -> ApiResult<Reply> {
    let id = ctx.id(0);
    check_id(id)?;
    let id = normalize_id(id);
    let mut data = ctx.mailbox.data.write();
    if !data.messages.contains_key(&id) {
        return Err(ApiError::not_found());
    }
    if to_trash {
        data.modify_labels(&id, &["TRASH".to_string()], &["SPAM".to_string()]);
    } else {
        data.modify_labels(&id, &[], &["TRASH".to_string()]);
    }
    Ok(Reply::value(minimal_of(&data, &id)?))
}

pub fn delete(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let id = ctx.id(0);
    check_id(id)?;
    let mut data = ctx.mailbox.data.write();
    if !data.delete_message(&normalize_id(id)) {
        return Err(ApiError::not_found());
    }
    Ok(Reply::NoContent)
}

pub fn attachment(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let id = ctx.id(0);
    check_id(id)?;
    let att_id = ctx.id(1);
    let data = ctx.mailbox.data.read();
    let m = data
        .messages
        .get(&normalize_id(id))
        .ok_or_else(ApiError::not_found)?;
    let a = m
        .parsed
        .attachments
        .iter()
        .find(|a| a.id == att_id)
        .ok_or_else(|| ApiError::invalid_argument("Invalid attachment token"))?;
    let body = m.raw.get(a.start..a.end).unwrap_or(&[]);
    let bytes = match a.encoding.as_str() {
        "base64" => crate::mime::decode_base64_lenient(body),
        "quoted-printable" => crate::mime::decode_qp(body),
        _ => body.to_vec(),
    };
    Ok(Reply::value(json!({
        "size": bytes.len(),
        "data": render::b64url(&bytes),
    })))
}
