//! users.threads.*

use std::collections::HashSet;
use std::fmt::Write as _;

use serde_json::Value;

use super::messages::{format_param, str_array, validate_modify, ListParams};
use super::request::{check_id, normalize_id, Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use crate::render;
use crate::store::MailboxData;

pub fn list(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let params = ListParams::parse(ctx)?;
    let data = ctx.mailbox.data.read();
    let hits = params.hits(&data, ctx.now_ms);
    // A thread is listed once, at the position of its newest matching message.
    let mut seen = HashSet::new();
    let threads: Vec<&str> = hits
        .iter()
        .filter(|m| seen.insert(m.thread_id.as_str()))
        .map(|m| m.thread_id.as_str())
        .collect();
    Ok(Reply::Json(params.page_json(
        "threads",
        &threads,
        |out, t| {
            let msgs = data.thread_messages(t);
            let snippet = msgs.last().map(|m| m.parsed.snippet.as_str()).unwrap_or("");
            let _ = write!(
                out,
                "{{\"id\":\"{}\",\"snippet\":{},\"historyId\":\"{}\"}}",
                t,
                serde_json::to_string(snippet).unwrap_or_else(|_| "\"\"".into()),
                data.thread_history_id(t)
            );
        },
    )))
}

fn thread_json(
    data: &MailboxData,
    id: &str,
    format: Option<render::Format>,
    headers: &[String],
) -> String {
    let msgs = data.thread_messages(id);
    let mut out = format!(
        "{{\"id\":\"{id}\",\"historyId\":\"{}\",\"messages\":[",
        data.thread_history_id(id)
    );
    for (i, m) in msgs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match format {
            Some(f) => out.push_str(&render::message_json(&m.view(), f, headers)),
            None => {
                out.push_str(&render::message_min_json(&m.id, &m.thread_id, &m.labels).to_string())
            }
        }
    }
    out.push_str("]}");
    out
}

fn existing_thread(data: &MailboxData, id: &str) -> ApiResult<String> {
    check_id(id)?;
    let id = normalize_id(id);
    if data.threads.contains_key(&id) {
        Ok(id)
    } else {
        Err(ApiError::not_found())
    }
}

pub fn get(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let format = format_param(ctx, false)?;
    let headers = ctx.q_all("metadataHeaders");
    let data = ctx.mailbox.data.read();
    let id = existing_thread(&data, ctx.id(0))?;
    Ok(Reply::Json(thread_json(&data, &id, Some(format), &headers)))
}

fn thread_ids(data: &MailboxData, thread: &str) -> Vec<String> {
    data.threads.get(thread).cloned().unwrap_or_default()
}

pub fn modify(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let body: Value = ctx.json()?;
    let add = str_array(&body, "addLabelIds")?;
    let remove = str_array(&body, "removeLabelIds")?;
    let mut data = ctx.mailbox.data.write();
    let id = existing_thread(&data, ctx.id(0))?;
    validate_modify(&data, &add, &remove)?;
    for mid in thread_ids(&data, &id) {
        data.modify_labels(&mid, &add, &remove);
    }
    Ok(Reply::Json(thread_json(&data, &id, None, &[])))
}

pub fn trash(ctx: &Ctx<'_>, to_trash: bool) -> ApiResult<Reply> {
    let mut data = ctx.mailbox.data.write();
    let id = existing_thread(&data, ctx.id(0))?;
    for mid in thread_ids(&data, &id) {
        if to_trash {
            data.modify_labels(&mid, &["TRASH".to_string()], &["SPAM".to_string()]);
        } else {
            data.modify_labels(&mid, &[], &["TRASH".to_string()]);
        }
    }
    Ok(Reply::Json(thread_json(&data, &id, None, &[])))
}

pub fn delete(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let mut data = ctx.mailbox.data.write();
    let id = existing_thread(&data, ctx.id(0))?;
    for mid in thread_ids(&data, &id) {
        data.delete_message(&mid);
    }
    Ok(Reply::NoContent)
}
