//! users.settings.*: filters, sendAs, vacation.

use rand::Rng;
use serde_json::{json, Value};

use super::request::{Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use crate::render;
use crate::search::{DocParts, Query, SearchContext, SearchDoc};
use crate::store::{Filter, MailboxData};

// ----------------------------------------------------------------------------- filters

fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(&needle.trim().to_lowercase())
}

fn filter_matches(
    data: &MailboxData,
    f: &Filter,
    parts: &DocParts,
    doc: &SearchDoc,
    has_attachment: bool,
    now_ms: i64,
) -> bool {
    let c = &f.criteria;
    let s = |k: &str| c.get(k).and_then(Value::as_str).filter(|v| !v.is_empty());
    if let Some(from) = s("from") {
        if !from.split(" OR ").any(|x| contains_ci(&parts.from, x)) {
            return false;
        }
    }
    if let Some(to) = s("to") {
        let all = format!(
            "{} {} {} {}",
            parts.to, parts.cc, parts.bcc, parts.delivered_to
        );
        if !to.split(" OR ").any(|x| contains_ci(&all, x)) {
            return false;
        }
    }
    if let Some(subject) = s("subject") {
        if !contains_ci(&parts.subject, subject) {
            return false;
        }
    }
    let labels = data.label_pairs();
    let ctx = SearchContext {
        now_ms,
        user_email: &data.email,
        labels: &labels,
    };
    if let Some(q) = s("query") {
        match Query::parse(q) {
            Ok(q) if q.matches(doc, &ctx) => {}
            _ => return false,
        }
    }
    if let Some(q) = s("negatedQuery") {
        if let Ok(q) = Query::parse(q) {
            if q.matches(doc, &ctx) {
                return false;
            }
        }
    }
    if c.get("hasAttachment").and_then(Value::as_bool) == Some(true) && !has_attachment {
        return false;
    }
    if let Some(size) = c.get("size").and_then(Value::as_i64) {
        let actual = parts.size_bytes as i64;
        match c.get("sizeComparison").and_then(Value::as_str) {
            Some("larger") if actual <= size => return false,
            Some("smaller") if actual >= size => return false,
            _ => {}
        }
    }
    true
}

/// Apply the mailbox's filters to a message that is about to arrive.
pub fn apply_filters(
    data: &MailboxData,
    raw: &[u8],
    date_ms: i64,
    labels: &mut Vec<String>,
    now_ms: i64,
) {
    if data.filters.is_empty() {
        return;
    }
    let parsed = render::parse_message(raw, "filter-probe");
    let mut parts = parsed.doc_parts.clone();
    parts.label_ids = labels.clone();
    parts.internal_date_ms = date_ms;
    let doc = SearchDoc::new(parts.clone());
    let has_attachment = !parsed.attachments.is_empty();
    for f in &data.filters {
        if !filter_matches(data, f, &parts, &doc, has_attachment, now_ms) {
            continue;
        }
        for r in str_list(&f.action, "removeLabelIds") {
            labels.retain(|l| *l != r);
        }
        for a in str_list(&f.action, "addLabelIds") {
            if !labels.contains(&a) && data.label(&a).is_some() {
                labels.push(a);
            }
        }
    }
}

fn str_list(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn filter_json(f: &Filter) -> Value {
    json!({"id": f.id, "criteria": f.criteria, "action": f.action})
}

pub fn filters_list(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let data = ctx.mailbox.data.read();
    if data.filters.is_empty() {
        return Ok(Reply::value(json!({})));
    }
    let list: Vec<Value> = data.filters.iter().map(filter_json).collect();
    Ok(Reply::value(json!({ "filter": list })))
}

pub fn filters_get(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let data = ctx.mailbox.data.read();
    let f = data
        .filters
        .iter()
        .find(|f| f.id == ctx.id(0))
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::value(filter_json(f)))
}

fn non_empty_object(v: Option<&Value>) -> Option<serde_json::Map<String, Value>> {
    let obj = v?.as_object()?;
    let cleaned: serde_json::Map<String, Value> = obj
        .iter()
        .filter(|(_, v)| match v {
            Value::Null => false,
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            _ => true,
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (!cleaned.is_empty()).then_some(cleaned)
}

pub fn filters_create(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let body = ctx.json()?;
    let Some(criteria) = non_empty_object(body.get("criteria")) else {
        return Err(ApiError::bad_request("Filter doesn't have any criteria"));
    };
    let Some(action) = non_empty_object(body.get("action")) else {
        return Err(ApiError::bad_request("Filter doesn't have any actions"));
    };
    let action = Value::Object(action);
    let criteria = Value::Object(criteria);
    if let Some(size) = criteria.get("size") {
        if !size.is_i64()
            && !size
                .as_str()
                .map(|s| s.parse::<i64>().is_ok())
                .unwrap_or(false)
        {
            return Err(ApiError::invalid_value(format!(
                "Invalid value at 'filter.criteria.size' (TYPE_INT32), {size}"
            )));
        }
    }
    if action.get("forward").and_then(Value::as_str).is_some() {
        return Err(ApiError::failed_precondition("Invalid forwarding address"));
    }
    let mut data = ctx.mailbox.data.write();
    for l in str_list(&action, "addLabelIds")
        .iter()
        .chain(str_list(&action, "removeLabelIds").iter())
    {
        if data.label(l).is_none() {
            return Err(ApiError::invalid_argument(format!("Invalid label: {l}")));
        }
    }
    if data
        .filters
        .iter()
        .any(|f| f.criteria == criteria && f.action == action)
    {
        return Err(ApiError::bad_request("Filter already exists"));
    }
    if data.filters.len() >= 1000 {
        return Err(ApiError::failed_precondition("Too many filters"));
    }
    let mut rng = rand::rng();
    let suffix: String = (0..20)
        .map(|_| {
            let n = rng.random_range(0..62u8);
            (match n {
                0..=9 => b'0' + n,
                10..=35 => b'a' + n - 10,
                _ => b'A' + n - 36,
            }) as char
        })
        .collect();
    let f = Filter {
        id: format!("ANe1Bm{suffix}"),
        criteria,
        action,
    };
    data.save_filter(&f);
    data.filters.push(f.clone());
    Ok(Reply::value(filter_json(&f)))
}

pub fn filters_delete(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let mut data = ctx.mailbox.data.write();
    let id = ctx.id(0).to_string();
    if !data.filters.iter().any(|f| f.id == id) {
        return Err(ApiError::not_found());
    }
    data.filters.retain(|f| f.id != id);
    data.delete_filter_row(&id);
    Ok(Reply::NoContent)
}

// ----------------------------------------------------------------------------- sendAs

fn primary(data: &MailboxData) -> Value {
    let stored = data
        .send_as
        .iter()
        .find(|s| s.get("isPrimary").and_then(Value::as_bool) == Some(true))
        .cloned();
    let mut p = stored.unwrap_or_else(|| {
        json!({
            "sendAsEmail": data.email,
            "displayName": data.display_name,
            "replyToAddress": "",
            "signature": "",
            "isPrimary": true,
            "isDefault": true,
        })
    });
    let other_default = data.send_as.iter().any(|s| {
        s.get("isPrimary").and_then(Value::as_bool) != Some(true)
            && s.get("isDefault").and_then(Value::as_bool) == Some(true)
    });
    p["isDefault"] = json!(!other_default);
    p
}

fn all_send_as(data: &MailboxData) -> Vec<Value> {
    let mut v = vec![primary(data)];
    v.extend(
        data.send_as
            .iter()
            .filter(|s| s.get("isPrimary").and_then(Value::as_bool) != Some(true))
            .cloned(),
    );
    v
}

fn save_send_as(data: &MailboxData) {
    data.save_setting("sendAs", &Value::Array(data.send_as.clone()));
}

pub fn send_as_list(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let data = ctx.mailbox.data.read();
    Ok(Reply::value(json!({ "sendAs": all_send_as(&data) })))
}

fn find_send_as(data: &MailboxData, email: &str) -> Option<Value> {
    all_send_as(data).into_iter().find(|s| {
        s.get("sendAsEmail")
            .and_then(Value::as_str)
            .map(|e| e.eq_ignore_ascii_case(email))
            .unwrap_or(false)
    })
}

pub fn send_as_get(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let data = ctx.mailbox.data.read();
    let s = find_send_as(&data, ctx.id(0)).ok_or_else(ApiError::not_found)?;
    Ok(Reply::value(s))
}

pub fn send_as_create(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let body = ctx.json()?;
    let email = body
        .get("sendAsEmail")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !email.contains('@') {
        return Err(ApiError::invalid_argument("Invalid sendAsEmail"));
    }
    let mut data = ctx.mailbox.data.write();
    if find_send_as(&data, &email).is_some() {
        return Err(ApiError::new_conflict("Already exists"));
    }
    let s = json!({
        "sendAsEmail": email,
        "displayName": body.get("displayName").and_then(Value::as_str).unwrap_or(""),
        "replyToAddress": body.get("replyToAddress").and_then(Value::as_str).unwrap_or(""),
        "signature": body.get("signature").and_then(Value::as_str).unwrap_or(""),
        "isPrimary": false,
        "isDefault": false,
        "treatAsAlias": body.get("treatAsAlias").and_then(Value::as_bool).unwrap_or(true),
        // The sandbox has no mail loop to verify through: aliases are accepted at once.
        "verificationStatus": "accepted",
    });
    data.send_as.push(s.clone());
    save_send_as(&data);
    Ok(Reply::value(s))
}

pub fn send_as_update(ctx: &Ctx<'_>, patch: bool) -> ApiResult<Reply> {
    let body = ctx.json()?;
    let mut data = ctx.mailbox.data.write();
    let mut cur = find_send_as(&data, ctx.id(0)).ok_or_else(ApiError::not_found)?;
    for key in ["displayName", "replyToAddress", "signature", "treatAsAlias"] {
        match body.get(key) {
            Some(v) if !v.is_null() => cur[key] = v.clone(),
            _ if !patch && key != "treatAsAlias" => cur[key] = json!(""),
            _ => {}
        }
    }
    if body.get("isDefault").and_then(Value::as_bool) == Some(true) {
        for s in data.send_as.iter_mut() {
            s["isDefault"] = json!(false);
        }
        cur["isDefault"] = json!(true);
    }
    let email = cur
        .get("sendAsEmail")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    data.send_as.retain(|s| {
        s.get("sendAsEmail")
            .and_then(Value::as_str)
            .map(|e| !e.eq_ignore_ascii_case(&email))
            .unwrap_or(true)
    });
    data.send_as.push(cur.clone());
    save_send_as(&data);
    let out = find_send_as(&data, &email).unwrap_or(cur);
    Ok(Reply::value(out))
}

pub fn send_as_delete(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let mut data = ctx.mailbox.data.write();
    let s = find_send_as(&data, ctx.id(0)).ok_or_else(ApiError::not_found)?;
    if s.get("isPrimary").and_then(Value::as_bool) == Some(true) {
        return Err(ApiError::bad_request("Cannot delete primary send-as"));
    }
    let email = ctx.id(0).to_ascii_lowercase();
    data.send_as.retain(|s| {
        s.get("sendAsEmail")
            .and_then(Value::as_str)
            .map(|e| !e.eq_ignore_ascii_case(&email))
            .unwrap_or(true)
    });
    save_send_as(&data);
    Ok(Reply::NoContent)
}

pub fn send_as_verify(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let data = ctx.mailbox.data.read();
    find_send_as(&data, ctx.id(0)).ok_or_else(ApiError::not_found)?;
    Ok(Reply::NoContent)
}

// ----------------------------------------------------------------------------- vacation

pub fn vacation_get(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let data = ctx.mailbox.data.read();
    Ok(Reply::value(data.vacation.clone()))
}

pub fn vacation_update(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let body = ctx.json()?;
    let mut v = json!({
        "enableAutoReply": body.get("enableAutoReply").and_then(Value::as_bool).unwrap_or(false),
        "restrictToContacts": body.get("restrictToContacts").and_then(Value::as_bool).unwrap_or(false),
        "restrictToDomain": body.get("restrictToDomain").and_then(Value::as_bool).unwrap_or(false),
    });
    for key in [
        "responseSubject",
        "responseBodyPlainText",
        "responseBodyHtml",
    ] {
        if let Some(s) = body.get(key).and_then(Value::as_str) {
            v[key] = json!(s);
        }
    }
    // int64 fields: accept numbers or strings, answer with strings.
    for key in ["startTime", "endTime"] {
        match body.get(key) {
            Some(Value::String(s)) if !s.is_empty() => {
                let n: i64 = s.parse().map_err(|_| {
                    ApiError::invalid_value(format!(
                        "Invalid value at 'vacation_settings.{}' (TYPE_INT64), \"{s}\"",
                        if key == "startTime" {
                            "start_time"
                        } else {
                            "end_time"
                        }
                    ))
                })?;
                v[key] = json!(n.to_string());
            }
            Some(Value::Number(n)) => v[key] = json!(n.to_string()),
            _ => {}
        }
    }
    if let (Some(s), Some(e)) = (
        v.get("startTime")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<i64>().ok()),
        v.get("endTime")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<i64>().ok()),
    ) {
        if e < s {
            return Err(ApiError::bad_request(
                "Vacation end time must be after start time",
            ));
        }
    }
    let mut data = ctx.mailbox.data.write();
    data.vacation = v.clone();
    data.save_setting("vacation", &v);
    Ok(Reply::value(v))
}

// ----------------------------------------------------------------------------- imap, pop, …

fn default_setting(key: &str) -> Value {
    match key {
        "imap" => {
            json!({"enabled": true, "autoExpunge": true, "expungeBehavior": "archive", "maxFolderSize": 0})
        }
        "pop" => json!({"accessWindow": "disabled", "disposition": "leaveInInbox"}),
        "language" => json!({"displayLanguage": "en"}),
        "autoForwarding" => json!({"enabled": false}),
        _ => json!({}),
    }
}

fn current_setting(data: &MailboxData, key: &str) -> Value {
    data.other_settings
        .get(key)
        .cloned()
        .unwrap_or_else(|| default_setting(key))
}

pub fn simple_get(ctx: &Ctx<'_>, key: &str) -> ApiResult<Reply> {
    let data = ctx.mailbox.data.read();
    Ok(Reply::value(current_setting(&data, key)))
}

/// PUT semantics: the given fields over the current values (unknown fields are dropped).
pub fn simple_update(ctx: &Ctx<'_>, key: &str) -> ApiResult<Reply> {
    let body = ctx.json()?;
    let mut data = ctx.mailbox.data.write();
    let mut cur = current_setting(&data, key);
    if let (Some(obj), Some(defaults)) = (body.as_object(), default_setting(key).as_object()) {
        for (k, v) in obj {
            if defaults.contains_key(k) && !v.is_null() {
                cur[k] = v.clone();
            }
        }
    }
    data.save_setting(key, &cur);
    data.other_settings.insert(key.to_string(), cur.clone());
    Ok(Reply::value(cur))
}

/// Forwarding needs a verified forwarding address, which the sandbox never has.
pub fn auto_forwarding_update(ctx: &Ctx<'_>) -> ApiResult<Reply> {
    let body = ctx.json()?;
    if body.get("enabled").and_then(Value::as_bool) == Some(true) {
        return Err(ApiError::failed_precondition(
            "Unverified forwarding address",
        ));
    }
    simple_update(ctx, "autoForwarding")
}
