//! users.watch, users.stop: register where a mailbox's changes are published
//! (see [`crate::pubsub`] for the pushing).

use serde_json::{json, Value};

use super::messages::str_array;
use super::request::{Ctx, Reply};
use crate::config::parse_topic;
use crate::error::{ApiError, ApiResult};
use crate::store::Watch;

/// Gmail lets a watch live seven days; clients renew it before then.
const WATCH_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

/// `labelFilterBehavior`, else the deprecated `labelFilterAction`; true = exclude.
fn filter_excludes(body: &Value) -> ApiResult<bool> {
    let (field, proto, kind) = match body.get("labelFilterBehavior") {
        Some(v) if !v.is_null() => (v, "label_filter_behavior", "LabelFilterBehavior"),
        _ => (
            body.get("labelFilterAction").unwrap_or(&Value::Null),
            "label_filter_action",
            "LabelFilterAction",
        ),
    };
    match field {
        Value::Null => Ok(false),
        Value::String(s) if s.eq_ignore_ascii_case("include") => Ok(false),
        Value::String(s) if s.eq_ignore_ascii_case("exclude") => Ok(true),
        other => Err(ApiError::invalid_value(format!(
            "Invalid value at '{proto}' (type.googleapis.com/google.apps.gmail.v1.WatchRequest.{kind}), {other}"
        ))),
    }
}

pub fn watch(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let body = ctx.json()?;
    let topic = match body.get("topicName") {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            return Err(ApiError::invalid_json(&format!(
                "Invalid value at 'topic_name' (TYPE_STRING), {other}"
            )))
        }
    };
    // Both wordings are Gmail's (reported in client issues); the second names the caller's
    // project there, which the sandbox does not know.
    if topic.is_empty() {
        return Err(ApiError::invalid_argument("topicName required"));
    }
    if parse_topic(topic).is_none() {
        return Err(ApiError::invalid_argument(
            "Invalid topicName does not match projects/<project>/topics/*",
        ));
    }
    let label_ids = str_array(&body, "labelIds")?;
    let exclude = filter_excludes(&body)?;
    if !ctx.state.pubsub.has_subscribers(topic) {
        // Real Pub/Sub drops messages of a topic without subscriptions too; say so once here.
        tracing::info!(
            topic,
            "watch on a topic without push subscriptions: nothing will be delivered"
        );
    }
    let expiration = ctx.now_ms + WATCH_TTL_MS;
    let mut data = ctx.mailbox.data.write();
    data.set_watch(Some(Watch {
        topic: topic.to_string(),
        label_ids,
        exclude,
        expiration,
    }));
    Ok(Reply::value(json!({
        "historyId": data.meta.history_id.to_string(),
        "expiration": expiration.to_string(),
    })))
}

/// 204 whether or not a watch existed.
pub fn stop(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    ctx.mailbox.data.write().set_watch(None);
    Ok(Reply::NoContent)
}
