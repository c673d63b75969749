//! users.getProfile, users.watch

use serde_json::{json, Value};

use super::request::{Ctx, Reply};
use crate::error::{ApiError, ApiResult};

pub fn get(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let data = ctx.mailbox.data.read();
    Ok(Reply::value(json!({
        "emailAddress": data.email,
        "messagesTotal": data.messages.len(),
        "threadsTotal": data.threads.len(),
        "historyId": data.meta.history_id.to_string(),
    })))
}

/// Accepted but nothing is pushed: there is no Pub/Sub here.
pub fn watch(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let body = ctx.json()?;
    if body
        .get("topicName")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty()
    {
        return Err(ApiError::invalid_argument("Invalid topicName"));
    }
    let data = ctx.mailbox.data.read();
    let expiration = ctx.now_ms + 7 * 24 * 3600 * 1000;
    Ok(Reply::value(json!({
        "historyId": data.meta.history_id.to_string(),
        "expiration": expiration.to_string(),
    })))
}
