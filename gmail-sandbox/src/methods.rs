//! The Gmail API's methods: which HTTP method and path is which Gmail method, and which
//! OAuth scopes authorize each (from the discovery document).

/// A matched Gmail method.
#[derive(Debug, Clone)]
pub struct Route {
    pub method: &'static str,
    pub user: String,
    /// Path ids in order (message id, attachment id, label id, …).
    pub ids: Vec<String>,
    pub upload: bool,
}

pub fn scope_url(short: &str) -> String {
    if short.starts_with("https://") {
        short.to_string()
    } else {
        format!("https://www.googleapis.com/auth/{short}")
    }
}

use crate::grants::SCOPE_FULL as FULL;

/// Scopes that authorize each method (from the discovery document).
pub fn scopes_for(method: &str) -> &'static [&'static str] {
    match method {
        "users.getProfile" => &[
            FULL,
            "gmail.compose",
            "gmail.metadata",
            "gmail.modify",
            "gmail.readonly",
        ],
        "users.stop"
        | "users.watch"
        | "users.history.list"
        | "users.messages.list"
        | "users.threads.list" => &[FULL, "gmail.metadata", "gmail.modify", "gmail.readonly"],
        "users.drafts.create"
        | "users.drafts.delete"
        | "users.drafts.send"
        | "users.drafts.update" => &[
            FULL,
            "gmail.addons.current.action.compose",
            "gmail.compose",
            "gmail.modify",
        ],
        "users.drafts.get" | "users.drafts.list" => {
            &[FULL, "gmail.compose", "gmail.modify", "gmail.readonly"]
        }
        "users.labels.create"
        | "users.labels.delete"
        | "users.labels.patch"
        | "users.labels.update" => &[FULL, "gmail.labels", "gmail.modify"],
        "users.labels.get" | "users.labels.list" => &[
            FULL,
            "gmail.labels",
            "gmail.metadata",
            "gmail.modify",
            "gmail.readonly",
        ],
        "users.messages.batchDelete" | "users.messages.delete" | "users.threads.delete" => &[FULL],
        "users.messages.batchModify"
        | "users.messages.modify"
        | "users.messages.trash"
        | "users.messages.untrash"
        | "users.threads.modify"
        | "users.threads.trash"
        | "users.threads.untrash" => &[FULL, "gmail.modify"],
        "users.messages.get" | "users.threads.get" => &[
            FULL,
            "gmail.addons.current.message.action",
            "gmail.addons.current.message.metadata",
            "gmail.addons.current.message.readonly",
            "gmail.metadata",
            "gmail.modify",
            "gmail.readonly",
        ],
        "users.messages.import" | "users.messages.insert" => {
            &[FULL, "gmail.insert", "gmail.modify"]
        }
        "users.messages.send" => &[
            FULL,
            "gmail.addons.current.action.compose",
            "gmail.compose",
            "gmail.modify",
            "gmail.send",
        ],
        "users.messages.attachments.get" => &[
            FULL,
            "gmail.addons.current.message.action",
            "gmail.addons.current.message.readonly",
            "gmail.modify",
            "gmail.readonly",
        ],
        "users.settings.getVacation"
        | "users.settings.filters.get"
        | "users.settings.filters.list"
        | "users.settings.sendAs.get"
        | "users.settings.sendAs.list" => &[
            FULL,
            "gmail.modify",
            "gmail.readonly",
            "gmail.settings.basic",
        ],
        "users.settings.updateVacation"
        | "users.settings.filters.create"
        | "users.settings.filters.delete" => &["gmail.settings.basic"],
        "users.settings.sendAs.create"
        | "users.settings.sendAs.delete"
        | "users.settings.sendAs.verify" => &["gmail.settings.sharing"],
        "users.settings.sendAs.patch" | "users.settings.sendAs.update" => {
            &["gmail.settings.basic", "gmail.settings.sharing"]
        }
        _ => &[FULL],
    }
}

fn decode_segment(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Match a path (already split after `users/{userId}/`) to a Gmail method.
fn match_method(http: &str, rest: &[&str], upload: bool) -> Option<(&'static str, Vec<String>)> {
    let id = |s: &str| decode_segment(s);
    if upload {
        return match (http, rest) {
            ("POST", ["messages"]) => Some(("users.messages.insert", vec![])),
            ("POST", ["messages", "send"]) => Some(("users.messages.send", vec![])),
            ("POST", ["messages", "import"]) => Some(("users.messages.import", vec![])),
            ("POST", ["drafts"]) => Some(("users.drafts.create", vec![])),
            ("POST", ["drafts", "send"]) => Some(("users.drafts.send", vec![])),
            ("PUT", ["drafts", d]) => Some(("users.drafts.update", vec![id(d)])),
            _ => None,
        };
    }
    let m = match (http, rest) {
        ("GET", ["profile"]) => ("users.getProfile", vec![]),
        ("POST", ["watch"]) => ("users.watch", vec![]),
        ("POST", ["stop"]) => ("users.stop", vec![]),
        ("GET", ["messages"]) => ("users.messages.list", vec![]),
        ("POST", ["messages"]) => ("users.messages.insert", vec![]),
        ("POST", ["messages", "send"]) => ("users.messages.send", vec![]),
        ("POST", ["messages", "import"]) => ("users.messages.import", vec![]),
        ("POST", ["messages", "batchModify"]) => ("users.messages.batchModify", vec![]),
        ("POST", ["messages", "batchDelete"]) => ("users.messages.batchDelete", vec![]),
        ("GET", ["messages", m]) => ("users.messages.get", vec![id(m)]),
        ("DELETE", ["messages", m]) => ("users.messages.delete", vec![id(m)]),
        ("POST", ["messages", m, "modify"]) => ("users.messages.modify", vec![id(m)]),
        ("POST", ["messages", m, "trash"]) => ("users.messages.trash", vec![id(m)]),
        ("POST", ["messages", m, "untrash"]) => ("users.messages.untrash", vec![id(m)]),
        ("GET", ["messages", m, "attachments", a]) => {
            ("users.messages.attachments.get", vec![id(m), id(a)])
        }
        ("GET", ["threads"]) => ("users.threads.list", vec![]),
        ("GET", ["threads", t]) => ("users.threads.get", vec![id(t)]),
        ("DELETE", ["threads", t]) => ("users.threads.delete", vec![id(t)]),
        ("POST", ["threads", t, "modify"]) => ("users.threads.modify", vec![id(t)]),
        ("POST", ["threads", t, "trash"]) => ("users.threads.trash", vec![id(t)]),
        ("POST", ["threads", t, "untrash"]) => ("users.threads.untrash", vec![id(t)]),
        ("GET", ["labels"]) => ("users.labels.list", vec![]),
        ("POST", ["labels"]) => ("users.labels.create", vec![]),
        ("GET", ["labels", l]) => ("users.labels.get", vec![id(l)]),
        ("PUT", ["labels", l]) => ("users.labels.update", vec![id(l)]),
        ("PATCH", ["labels", l]) => ("users.labels.patch", vec![id(l)]),
        ("DELETE", ["labels", l]) => ("users.labels.delete", vec![id(l)]),
        ("GET", ["drafts"]) => ("users.drafts.list", vec![]),
        ("POST", ["drafts"]) => ("users.drafts.create", vec![]),
        ("POST", ["drafts", "send"]) => ("users.drafts.send", vec![]),
        ("GET", ["drafts", d]) => ("users.drafts.get", vec![id(d)]),
        ("PUT", ["drafts", d]) => ("users.drafts.update", vec![id(d)]),
        ("DELETE", ["drafts", d]) => ("users.drafts.delete", vec![id(d)]),
        ("GET", ["history"]) => ("users.history.list", vec![]),
        ("GET", ["settings", "filters"]) => ("users.settings.filters.list", vec![]),
        ("POST", ["settings", "filters"]) => ("users.settings.filters.create", vec![]),
        ("GET", ["settings", "filters", f]) => ("users.settings.filters.get", vec![id(f)]),
        ("DELETE", ["settings", "filters", f]) => ("users.settings.filters.delete", vec![id(f)]),
        ("GET", ["settings", "sendAs"]) => ("users.settings.sendAs.list", vec![]),
        ("POST", ["settings", "sendAs"]) => ("users.settings.sendAs.create", vec![]),
        ("GET", ["settings", "sendAs", e]) => ("users.settings.sendAs.get", vec![id(e)]),
        ("PUT", ["settings", "sendAs", e]) => ("users.settings.sendAs.update", vec![id(e)]),
        ("PATCH", ["settings", "sendAs", e]) => ("users.settings.sendAs.patch", vec![id(e)]),
        ("DELETE", ["settings", "sendAs", e]) => ("users.settings.sendAs.delete", vec![id(e)]),
        ("POST", ["settings", "sendAs", e, "verify"]) => {
            ("users.settings.sendAs.verify", vec![id(e)])
        }
        ("GET", ["settings", "imap"]) => ("users.settings.getImap", vec![]),
        ("PUT", ["settings", "imap"]) => ("users.settings.updateImap", vec![]),
        ("GET", ["settings", "pop"]) => ("users.settings.getPop", vec![]),
        ("PUT", ["settings", "pop"]) => ("users.settings.updatePop", vec![]),
        ("GET", ["settings", "language"]) => ("users.settings.getLanguage", vec![]),
        ("PUT", ["settings", "language"]) => ("users.settings.updateLanguage", vec![]),
        ("GET", ["settings", "autoForwarding"]) => ("users.settings.getAutoForwarding", vec![]),
        ("PUT", ["settings", "autoForwarding"]) => ("users.settings.updateAutoForwarding", vec![]),
        ("GET", ["settings", "forwardingAddresses"]) => {
            ("users.settings.forwardingAddresses.list", vec![])
        }
        ("GET", ["settings", "forwardingAddresses", f]) => {
            ("users.settings.forwardingAddresses.get", vec![id(f)])
        }
        ("GET", ["settings", "vacation"]) => ("users.settings.getVacation", vec![]),
        ("PUT", ["settings", "vacation"]) => ("users.settings.updateVacation", vec![]),
        _ => return None,
    };
    Some(m)
}

/// Parse a Gmail path. `None` when it is not a Gmail API path at all.
pub fn parse_route(http: &str, path: &str) -> Option<Route> {
    let trimmed = path.trim_start_matches('/');
    let (upload, rest) = if let Some(r) = trimmed.strip_prefix("resumable/upload/gmail/v1/users/") {
        (true, r)
    } else if let Some(r) = trimmed.strip_prefix("upload/gmail/v1/users/") {
        (true, r)
    } else if let Some(r) = trimmed.strip_prefix("gmail/v1/users/") {
        (false, r)
    } else {
        return None;
    };
    let segs: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let (user, tail) = segs.split_first()?;
    let (method, ids) = match_method(http, tail, upload)?;
    Some(Route {
        method,
        user: decode_segment(user),
        ids,
        upload,
    })
}
