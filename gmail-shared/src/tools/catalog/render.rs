//! Compact text renderings of tool results (the `content` text beside structuredContent),
//! in the peer server's layout where it has one.

use crate::ops::filters::FilterInfo;
use crate::ops::history::Changes;
use crate::ops::labels::LabelInfo;
use crate::ops::messages::BatchOutcome;
use crate::ops::settings::{SendAsIdentity, Vacation};

pub fn render_batch(head: &str, out: &BatchOutcome) -> String {
    let mut text = format!(
        "{head}\nSuccessfully processed: {} messages\n",
        out.succeeded.len()
    );
    if !out.failed.is_empty() {
        text.push_str(&format!(
            "Failed to process: {} messages\n\nFailed message IDs:\n",
            out.failed.len()
        ));
        for f in &out.failed {
            text.push_str(&format!("- {} ({})\n", f.id, f.error));
        }
    }
    text
}

pub fn render_labels(labels: &[LabelInfo]) -> String {
    let (system, user): (Vec<&LabelInfo>, Vec<&LabelInfo>) =
        labels.iter().partition(|l| l.label_type == "system");
    let block = |ls: &[&LabelInfo]| {
        ls.iter()
            .map(|l| format!("ID: {}\nName: {}\n", l.id, l.name))
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "Found {} labels ({} system, {} user):\n\nSystem Labels:\n{}\nUser Labels:\n{}",
        labels.len(),
        system.len(),
        user.len(),
        block(&system),
        block(&user)
    )
}

pub fn render_label(head: &str, l: &LabelInfo) -> String {
    format!(
        "{head}\nID: {}\nName: {}\nType: {}\n",
        l.id, l.name, l.label_type
    )
}

pub fn render_filter(head: &str, f: &FilterInfo) -> String {
    let criteria = serde_json::to_value(&f.criteria).unwrap_or_default();
    let action = serde_json::to_value(&f.action).unwrap_or_default();
    let pairs = |v: &serde_json::Value| {
        v.as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    format!(
        "{head}\nID: {}\nCriteria: {}\nActions: {}\n",
        f.id,
        pairs(&criteria),
        pairs(&action)
    )
}

pub fn render_filters(filters: &[FilterInfo]) -> String {
    if filters.is_empty() {
        return "No filters found.".into();
    }
    let mut out = format!("Found {} filters:\n\n", filters.len());
    for f in filters {
        out.push_str(&render_filter("Filter:", f));
        out.push('\n');
    }
    out
}

pub fn render_changes(c: &Changes) -> String {
    let mut out = format!(
        "{} changes; current historyId: {}\n",
        c.changes.len(),
        c.history_id
    );
    for ch in &c.changes {
        out.push_str(&format!(
            "- {:?} message {} (thread {}){}\n",
            ch.kind,
            ch.message_id,
            ch.thread_id,
            if ch.label_ids.is_empty() {
                String::new()
            } else {
                format!(" labels: {}", ch.label_ids.join(", "))
            }
        ));
    }
    if let Some(token) = &c.next_page_token {
        out.push_str(&format!("More changes: pass pageToken=\"{token}\"\n"));
    }
    out
}

pub fn render_vacation(v: &Vacation) -> String {
    format!(
        "Vacation responder: {}\nSubject: {}\nBody: {}\n",
        if v.enable_auto_reply { "on" } else { "off" },
        v.response_subject.as_deref().unwrap_or(""),
        v.response_body_plain_text.as_deref().unwrap_or("")
    )
}

pub fn render_send_as(ids: &[SendAsIdentity]) -> String {
    ids.iter()
        .map(|i| {
            format!(
                "{}{}{}{}",
                i.send_as_email,
                i.display_name
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default(),
                if i.is_primary { " [primary]" } else { "" },
                if i.is_default { " [default]" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
