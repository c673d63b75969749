//! users.drafts.*

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::messages::{format_param, message_bytes, parse_query, send_raw};
use super::request::{Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use crate::render;
use crate::store::{Draft, MailboxData, Threading};

fn draft_message_field(body: &Value) -> Value {
    body.get("message").cloned().unwrap_or(Value::Null)
}

fn thread_hint(msg: &Value) -> Option<String> {
    msg.get("threadId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase)
}

fn draft_json(data: &MailboxData, d: &Draft) -> ApiResult<Value> {
    let m = data
        .messages
        .get(&d.message_id)
        .ok_or_else(ApiError::not_found)?;
    Ok(json!({
        "id": d.id,
        "message": render::message_min_json(&m.id, &m.thread_id, &m.labels),
    }))
}

pub fn list(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let max = ctx.max_results()?;
    let offset = ctx.page_offset()?;
    let query = parse_query(ctx)?;
    let include = ctx.q_bool("includeSpamTrash");
    let data = ctx.mailbox.data.read();
    let hits = data.matching_messages(query.as_ref(), &["DRAFT".to_string()], include, ctx.now_ms);
    let drafts: Vec<(&str, &str, &str)> = hits
        .iter()
        .filter_map(|m| {
            data.drafts
                .iter()
                .find(|d| d.message_id == m.id)
                .map(|d| (d.id.as_str(), m.id.as_str(), m.thread_id.as_str()))
        })
        .collect();
    let total = drafts.len();
    let page: Vec<_> = drafts.iter().skip(offset).take(max).collect();
    let mut out = String::from("{");
    if !page.is_empty() {
        out.push_str("\"drafts\":[");
        for (i, (d, m, t)) in page.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                "{{\"id\":\"{d}\",\"message\":{{\"id\":\"{m}\",\"threadId\":\"{t}\"}}}}"
            );
        }
        out.push_str("],");
        if offset + page.len() < total {
            let _ = write!(out, "\"nextPageToken\":\"{:020}\",", offset + page.len());
        }
    }
    let _ = write!(out, "\"resultSizeEstimate\":{total}}}");
    Ok(Reply::Json(out))
}

fn find(data: &MailboxData, id: &str) -> ApiResult<Draft> {
    data.drafts
        .iter()
        .find(|d| d.id == id)
        .cloned()
        .ok_or_else(ApiError::not_found)
}

pub fn get(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let format = format_param(ctx, true)?;
    let data = ctx.mailbox.data.read();
    let d = find(&data, ctx.id(0))?;
    let m = data
        .messages
        .get(&d.message_id)
        .ok_or_else(ApiError::not_found)?;
    let msg = render::message_json(&m.view(), format, &ctx.q_all("metadataHeaders"));
    Ok(Reply::Json(format!(
        "{{\"id\":{},\"message\":{msg}}}",
        serde_json::to_string(&d.id).unwrap_or_default()
    )))
}

pub fn create(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let body = ctx.json()?;
    let msg = draft_message_field(&body);
    let raw = message_bytes(ctx, &msg, "draft.message.raw")?;
    let hint = thread_hint(&msg);
    let mut data = ctx.mailbox.data.write();
    let mid = data.add_message(
        raw,
        vec!["DRAFT".into()],
        ctx.now_ms,
        Threading::Api(hint.as_deref()),
    );
    let d = Draft {
        id: data.new_draft_id(),
        message_id: mid,
    };
    data.save_draft(&d);
    data.drafts.push(d.clone());
    Ok(Reply::value(draft_json(&data, &d)?))
}

pub fn update(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let body = ctx.json()?;
    let msg = draft_message_field(&body);
    let raw = message_bytes(ctx, &msg, "draft.message.raw")?;
    let mut data = ctx.mailbox.data.write();
    let old = find(&data, ctx.id(0))?;
    // As on create: a draft stays in a thread only by asking for it again (Gmail's rules).
    let hint = thread_hint(&msg);
    let mid = data.add_message(
        raw,
        vec!["DRAFT".into()],
        ctx.now_ms,
        Threading::Api(hint.as_deref()),
    );
    data.delete_message(&old.message_id);
    let d = Draft {
        id: old.id.clone(),
        message_id: mid,
    };
    data.save_draft(&d);
    data.drafts.retain(|x| x.id != d.id);
    data.drafts.push(d.clone());
    Ok(Reply::value(draft_json(&data, &d)?))
}

pub fn send(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let body = ctx.json()?;
    let Some(id) = body
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        return Err(ApiError::invalid_argument("Invalid draft id"));
    };
    let msg = draft_message_field(&body);
    let (d, raw, thread) = {
        let data = ctx.mailbox.data.read();
        let d = find(&data, id)?;
        let m = data
            .messages
            .get(&d.message_id)
            .ok_or_else(ApiError::not_found)?;
        (d.clone(), m.raw.to_vec(), m.thread_id.clone())
    };
    // A replacement message in the request is sent instead of the stored one.
    let raw = if ctx.upload.is_some() || msg.get("raw").and_then(Value::as_str).is_some() {
        message_bytes(ctx, &msg, "draft.message.raw")?
    } else {
        raw
    };
    let hint = thread_hint(&msg).unwrap_or(thread);
    let sent = send_raw(ctx, raw, Some(&hint))?;
    let mut data = ctx.mailbox.data.write();
    data.delete_message(&d.message_id);
    data.drafts.retain(|x| x.id != d.id);
    data.delete_draft_row(&d.id);
    Ok(Reply::value(sent))
}

pub fn delete(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let mut data = ctx.mailbox.data.write();
    let d = find(&data, ctx.id(0))?;
    data.delete_message(&d.message_id);
    data.drafts.retain(|x| x.id != d.id);
    data.delete_draft_row(&d.id);
    Ok(Reply::NoContent)
}
