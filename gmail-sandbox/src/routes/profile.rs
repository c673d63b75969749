//! users.getProfile

use serde_json::json;

use super::request::{Ctx, Reply};
use crate::error::ApiResult;

pub fn get(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let data = ctx.mailbox.data.read();
    Ok(Reply::value(json!({
        "emailAddress": data.email,
        "messagesTotal": data.messages.len(),
        "threadsTotal": data.threads.len(),
        "historyId": data.meta.history_id.to_string(),
    })))
}
