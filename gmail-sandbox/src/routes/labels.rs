//! users.labels.*

use std::collections::HashSet;

use serde_json::{json, Value};

use super::request::{Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use crate::store::{Label, LabelColor, MailboxData, PALETTE};

/// Names Gmail refuses for user labels (system names and reserved words, any case).
const RESERVED: &[&str] = &[
    "inbox",
    "spam",
    "trash",
    "unread",
    "starred",
    "important",
    "sent",
    "draft",
    "drafts",
    "chat",
    "chats",
    "migrated",
    "todo",
    "todos",
    "buzz",
    "bin",
    "allmail",
    "all mail",
    "archive",
    "archived",
    "muted",
    "category_personal",
    "category_social",
    "category_promotions",
    "category_updates",
    "category_forums",
    "snoozed",
    "scheduled",
    "outbox",
    "[imap]",
    "[gmail]",
    "enviado",
    "papelera",
];

fn label_value(l: &Label) -> Value {
    serde_json::to_value(l).unwrap_or_default()
}

pub fn list(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let data = ctx.mailbox.data.read();
    let labels: Vec<Value> = data.labels.iter().map(label_value).collect();
    Ok(Reply::value(json!({ "labels": labels })))
}

fn with_counts(data: &MailboxData, l: &Label) -> Value {
    let mut v = label_value(l);
    let mut total = 0u64;
    let mut unread = 0u64;
    let mut threads = HashSet::new();
    let mut unread_threads = HashSet::new();
    for m in data.messages.values() {
        if m.has(&l.id) {
            total += 1;
            threads.insert(m.thread_id.as_str());
            if m.has("UNREAD") {
                unread += 1;
                unread_threads.insert(m.thread_id.as_str());
            }
        }
    }
    v["messagesTotal"] = json!(total);
    v["messagesUnread"] = json!(unread);
    v["threadsTotal"] = json!(threads.len());
    v["threadsUnread"] = json!(unread_threads.len());
    v
}

pub fn get(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let data = ctx.mailbox.data.read();
    let l = data.label(ctx.id(0)).ok_or_else(ApiError::not_found)?;
    Ok(Reply::value(with_counts(&data, l)))
}

fn check_name(data: &MailboxData, name: &str, except: Option<&str>) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.contains('^') || name.len() > 225 {
        return Err(ApiError::invalid_argument("Invalid label name"));
    }
    let lower = name.to_lowercase();
    if RESERVED.contains(&lower.as_str())
        || data
            .labels
            .iter()
            .any(|l| l.is_system() && l.name.to_lowercase() == lower)
    {
        return Err(ApiError::invalid_argument("Invalid label name"));
    }
    if data
        .labels
        .iter()
        .any(|l| !l.is_system() && Some(l.id.as_str()) != except && l.name.to_lowercase() == lower)
    {
        return Err(ApiError::label_exists());
    }
    Ok(name.to_string())
}

fn visibility(v: &Value, key: &str, allowed: &[&str], field: &str) -> ApiResult<Option<String>> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(Some(s.clone())),
        Some(other) => Err(ApiError::invalid_value(format!(
            "Invalid value at 'label.{field}' (type.googleapis.com/google.apps.gmail.v1.Label.{}), {}",
            if key == "messageListVisibility" {
                "MessageListVisibility"
            } else {
                "LabelListVisibility"
            },
            other
        ))),
    }
}

fn color(v: &Value) -> ApiResult<Option<LabelColor>> {
    match v.get("color") {
        None | Some(Value::Null) => Ok(None),
        Some(c) => {
            let text = c.get("textColor").and_then(Value::as_str).unwrap_or("");
            let bg = c
                .get("backgroundColor")
                .and_then(Value::as_str)
                .unwrap_or("");
            for (which, val) in [("text", text), ("background", bg)] {
                if !PALETTE.contains(&val.to_ascii_lowercase().as_str()) {
                    return Err(ApiError::invalid_argument(format!(
                        "Label color {which} color {val} is not on the allowed color palette"
                    )));
                }
            }
            Ok(Some(LabelColor {
                text_color: text.to_ascii_lowercase(),
                background_color: bg.to_ascii_lowercase(),
            }))
        }
    }
}

const MLV: &[&str] = &["show", "hide"];
const LLV: &[&str] = &["labelShow", "labelShowIfUnread", "labelHide"];

/// How a label shows: the fields create, update and patch take besides its name.
struct Display {
    mlv: Option<String>,
    llv: Option<String>,
    color: Option<LabelColor>,
}

impl Display {
    /// Checked in Gmail's order: message list, label list, then colour.
    fn parse(body: &Value) -> ApiResult<Self> {
        let mlv = "message_list_visibility";
        let llv = "label_list_visibility";
        Ok(Display {
            mlv: visibility(body, "messageListVisibility", MLV, mlv)?,
            llv: visibility(body, "labelListVisibility", LLV, llv)?,
            color: color(body)?,
        })
    }
}

pub fn create(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let body = ctx.json()?;
    let mut data = ctx.mailbox.data.write();
    let name = check_name(
        &data,
        body.get("name").and_then(Value::as_str).unwrap_or(""),
        None,
    )?;
    let Display { mlv, llv, color } = Display::parse(&body)?;
    let id = data.new_label_id();
    let l = Label {
        id,
        name,
        message_list_visibility: Some(mlv.unwrap_or_else(|| "show".into())),
        label_list_visibility: Some(llv.unwrap_or_else(|| "labelShow".into())),
        kind: "user".into(),
        color,
    };
    data.save_label(&l);
    data.labels.push(l.clone());
    Ok(Reply::value(label_value(&l)))
}

/// labels.update (full replace) and labels.patch (merge).
pub fn update(ctx: &Ctx<'_>, patch: bool) -> ApiResult<Reply> {
    let body = ctx.json()?;
    let mut data = ctx.mailbox.data.write();
    let id = ctx.id(0).to_string();
    let existing = data.label(&id).cloned().ok_or_else(ApiError::not_found)?;
    if existing.is_system() {
        return Err(ApiError::invalid_argument("Invalid update request"));
    }
    let mut l = existing.clone();
    match body.get("name").and_then(Value::as_str) {
        Some(n) => l.name = check_name(&data, n, Some(&id))?,
        None if !patch => return Err(ApiError::invalid_argument("Invalid label name")),
        None => {}
    }
    let Display { mlv, llv, color } = Display::parse(&body)?;
    if patch {
        if mlv.is_some() {
            l.message_list_visibility = mlv;
        }
        if llv.is_some() {
            l.label_list_visibility = llv;
        }
        if color.is_some() {
            l.color = color;
        }
    } else {
        l.message_list_visibility = mlv;
        l.label_list_visibility = llv;
        l.color = color;
    }
    data.save_label(&l);
    if let Some(slot) = data.labels.iter_mut().find(|x| x.id == id) {
        *slot = l.clone();
    }
    Ok(Reply::value(label_value(&l)))
}

pub fn delete(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let mut data = ctx.mailbox.data.write();
    let id = ctx.id(0).to_string();
    let l = data.label(&id).cloned().ok_or_else(ApiError::not_found)?;
    if l.is_system() {
        return Err(ApiError::invalid_argument("Invalid delete request"));
    }
    data.strip_label(&id);
    data.labels.retain(|x| x.id != id);
    data.delete_label_row(&id);
    Ok(Reply::NoContent)
}
