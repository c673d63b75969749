//! users.history.list

use serde_json::{json, Value};

use super::request::{Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use crate::render;
use crate::store::HistoryRecord;

const TYPES: [&str; 4] = [
    "messageAdded",
    "messageDeleted",
    "labelAdded",
    "labelRemoved",
];

fn record_json(r: &HistoryRecord, types: &[String]) -> Option<Value> {
    let want = |t: &str| types.is_empty() || types.iter().any(|x| x == t);
    let msg = render::message_min_json(&r.message_id, &r.thread_id, &r.labels);
    let mut v = json!({
        "id": r.id.to_string(),
        "messages": [{"id": r.message_id, "threadId": r.thread_id}],
    });
    let mut any = false;
    if r.added && want("messageAdded") {
        v["messagesAdded"] = json!([{ "message": msg }]);
        any = true;
    }
    if r.deleted && want("messageDeleted") {
        v["messagesDeleted"] = json!([{ "message": msg }]);
        any = true;
    }
    if !r.labels_added.is_empty() && want("labelAdded") {
        v["labelsAdded"] = json!([{ "message": msg, "labelIds": r.labels_added }]);
        any = true;
    }
    if !r.labels_removed.is_empty() && want("labelRemoved") {
        v["labelsRemoved"] = json!([{ "message": msg, "labelIds": r.labels_removed }]);
        any = true;
    }
    any.then_some(v)
}

pub fn list(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let start = match ctx.q("startHistoryId") {
        None | Some("") => {
            return Err(ApiError::invalid_argument(
                "Missing required parameter: startHistoryId",
            ))
        }
        Some(s) => s.trim().parse::<u64>().map_err(|_| {
            ApiError::invalid_value(format!(
                "Invalid value at 'start_history_id' (TYPE_UINT64), \"{s}\""
            ))
        })?,
    };
    let max = ctx.max_results()?;
    let types = ctx.q_all("historyTypes");
    for t in &types {
        if !TYPES.contains(&t.as_str()) {
            return Err(ApiError::invalid_value(format!(
                "Invalid value at 'history_types' (type.googleapis.com/google.apps.gmail.v1.ListHistoryRequest.HistoryType), \"{t}\""
            )));
        }
    }
    let label = ctx.q("labelId").filter(|s| !s.is_empty());
    // The page token is the id of the last record already returned.
    let after = match ctx.q("pageToken").filter(|s| !s.is_empty()) {
        Some(t) => t
            .parse::<u64>()
            .map_err(|_| ApiError::invalid_argument("Invalid pageToken"))?,
        None => start,
    };
    let data = ctx.mailbox.data.read();
    let current = data.meta.history_id;
    if start < data.meta.history_floor || start > current {
        return Err(ApiError::not_found());
    }
    let mut out = Vec::new();
    let mut next = None;
    for r in data.history.iter().filter(|r| r.id > after) {
        if let Some(l) = label {
            let touches = r.labels.iter().any(|x| x == l)
                || r.labels_added.iter().any(|x| x == l)
                || r.labels_removed.iter().any(|x| x == l);
            if !touches {
                continue;
            }
        }
        if let Some(v) = record_json(r, &types) {
            if out.len() == max {
                next = out
                    .last()
                    .and_then(|v: &Value| v.get("id"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                break;
            }
            out.push(v);
        }
    }
    let mut resp = json!({});
    if !out.is_empty() {
        resp["history"] = Value::Array(out);
    }
    if let Some(n) = next {
        resp["nextPageToken"] = json!(n);
    }
    resp["historyId"] = json!(current.to_string());
    Ok(Reply::value(resp))
}
