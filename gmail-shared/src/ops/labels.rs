//! Labels: list, get, create, update, delete, get-or-create, and resolving names to ids.

use google_gmail1::api::Label;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{LabelId, Mailbox};
use crate::error::GmailError;

/// Gmail's system labels (their ids are their names).
pub const SYSTEM_LABELS: &[&str] = &[
    "INBOX",
    "SPAM",
    "TRASH",
    "UNREAD",
    "STARRED",
    "IMPORTANT",
    "SENT",
    "DRAFT",
    "CHAT",
    "CATEGORY_PERSONAL",
    "CATEGORY_SOCIAL",
    "CATEGORY_PROMOTIONS",
    "CATEGORY_UPDATES",
    "CATEGORY_FORUMS",
];

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LabelInfo {
    pub id: String,
    pub name: String,
    /// `system` or `user`.
    #[serde(rename = "type")]
    pub label_type: String,
    pub message_list_visibility: Option<String>,
    pub label_list_visibility: Option<String>,
    pub messages_total: Option<i32>,
    pub messages_unread: Option<i32>,
    pub threads_total: Option<i32>,
    pub threads_unread: Option<i32>,
    pub color: Option<LabelColor>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LabelColor {
    /// `#rrggbb` from Gmail's palette.
    pub text_color: String,
    pub background_color: String,
}

impl From<Label> for LabelInfo {
    fn from(l: Label) -> Self {
        LabelInfo {
            id: l.id.unwrap_or_default(),
            name: l.name.unwrap_or_default(),
            label_type: l.type_.unwrap_or_else(|| "user".into()),
            message_list_visibility: l.message_list_visibility,
            label_list_visibility: l.label_list_visibility,
            messages_total: l.messages_total,
            messages_unread: l.messages_unread,
            threads_total: l.threads_total,
            threads_unread: l.threads_unread,
            color: l.color.and_then(|c| {
                Some(LabelColor {
                    text_color: c.text_color?,
                    background_color: c.background_color?,
                })
            }),
        }
    }
}

/// What to set on a label; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelChanges {
    pub name: Option<String>,
    pub message_list_visibility: Option<MessageListVisibility>,
    pub label_list_visibility: Option<LabelListVisibility>,
    pub color: Option<LabelColor>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum MessageListVisibility {
    Show,
    Hide,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum LabelListVisibility {
    LabelShow,
    LabelShowIfUnread,
    LabelHide,
}

impl MessageListVisibility {
    fn as_str(self) -> &'static str {
        match self {
            MessageListVisibility::Show => "show",
            MessageListVisibility::Hide => "hide",
        }
    }
}

impl LabelListVisibility {
    fn as_str(self) -> &'static str {
        match self {
            LabelListVisibility::LabelShow => "labelShow",
            LabelListVisibility::LabelShowIfUnread => "labelShowIfUnread",
            LabelListVisibility::LabelHide => "labelHide",
        }
    }
}

impl LabelChanges {
    fn to_label(&self) -> Result<Label, GmailError> {
        let name = match &self.name {
            Some(n) => Some(check_label_name(n)?),
            None => None,
        };
        Ok(Label {
            name,
            message_list_visibility: self.message_list_visibility.map(|v| v.as_str().into()),
            label_list_visibility: self.label_list_visibility.map(|v| v.as_str().into()),
            color: self.color.as_ref().map(|c| google_gmail1::api::LabelColor {
                text_color: Some(c.text_color.clone()),
                background_color: Some(c.background_color.clone()),
            }),
            ..Default::default()
        })
    }
}

fn check_label_name(name: &str) -> Result<String, GmailError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(GmailError::invalid(
            "name",
            "a label name must not be empty",
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(GmailError::invalid(
            "name",
            "a label name must not contain control characters or line breaks",
        ));
    }
    if trimmed.chars().count() > 225 {
        return Err(GmailError::invalid(
            "name",
            "a label name is at most 225 characters",
        ));
    }
    Ok(trimmed.to_string())
}

#[tracing::instrument(skip_all)]
pub async fn list_labels(mailbox: &Mailbox) -> Result<Vec<LabelInfo>, GmailError> {
    let (_, list) = gmail_call!(mailbox, idempotent, |u| u.labels_list("me"))?;
    Ok(list
        .labels
        .unwrap_or_default()
        .into_iter()
        .map(LabelInfo::from)
        .collect())
}

/// Label names by id (system labels name themselves), from a copy at most a minute old.
pub async fn label_names(
    mailbox: &Mailbox,
) -> Result<std::collections::HashMap<String, String>, GmailError> {
    Ok(label_pairs(mailbox).await?.0.into_iter().collect())
}

/// (id, name) of every label, in Gmail's order, from a copy at most a minute old; and
/// whether it was fetched just now.
async fn label_pairs(mailbox: &Mailbox) -> Result<(Vec<(String, String)>, bool), GmailError> {
    let cache = &mailbox.connection().labels;
    let generation = match cache.get() {
        Ok(pairs) => return Ok((pairs, false)),
        Err(generation) => generation,
    };
    let pairs: Vec<(String, String)> = list_labels(mailbox)
        .await?
        .into_iter()
        .map(|l| (l.id, l.name))
        .collect();
    cache.set(generation, pairs.clone());
    Ok((pairs, true))
}

#[tracing::instrument(skip_all, fields(label = %id))]
pub async fn get_label(mailbox: &Mailbox, id: &LabelId) -> Result<LabelInfo, GmailError> {
    let (_, label) = gmail_call!(mailbox, idempotent, |u| u.labels_get("me", id))?;
    Ok(label.into())
}

#[tracing::instrument(skip_all)]
pub async fn create_label(
    mailbox: &Mailbox,
    changes: &LabelChanges,
) -> Result<LabelInfo, GmailError> {
    if changes.name.is_none() {
        return Err(GmailError::invalid("name", "a new label needs a name"));
    }
    let (_, label) = gmail_call!(mailbox, once, |u| u
        .labels_create(changes.to_label()?, "me"))?;
    mailbox.connection().labels.forget();
    let label: LabelInfo = label.into();
    mailbox.audit_id("label_create", &label.id).await;
    Ok(label)
}

/// Changes only the given fields (labels.patch).
#[tracing::instrument(skip_all, fields(label = %id))]
pub async fn update_label(
    mailbox: &Mailbox,
    id: &LabelId,
    changes: &LabelChanges,
) -> Result<LabelInfo, GmailError> {
    if is_system_label(id) {
        return Err(GmailError::invalid(
            "id",
            format!("{id} is a system label; system labels cannot be changed"),
        ));
    }
    let (_, label) = gmail_call!(mailbox, idempotent, |u| u.labels_patch(
        changes.to_label()?,
        "me",
        id
    ))?;
    mailbox.connection().labels.forget();
    let label: LabelInfo = label.into();
    mailbox.audit_id("label_update", &label.id).await;
    Ok(label)
}

#[tracing::instrument(skip_all, fields(label = %id))]
pub async fn delete_label(mailbox: &Mailbox, id: &LabelId) -> Result<(), GmailError> {
    if is_system_label(id) {
        return Err(GmailError::invalid(
            "id",
            format!("{id} is a system label; system labels cannot be deleted"),
        ));
    }
    gmail_call!(mailbox, once, |u| u.labels_delete("me", id))?;
    mailbox.connection().labels.forget();
    mailbox.audit_id("label_delete", id).await;
    Ok(())
}

/// Finds a label by name (case-insensitive) or creates it. The flag says whether it was created.
#[tracing::instrument(skip_all)]
pub async fn get_or_create_label(
    mailbox: &Mailbox,
    changes: &LabelChanges,
) -> Result<(LabelInfo, bool), GmailError> {
    let name = check_label_name(changes.name.as_deref().unwrap_or(""))?;
    let labels = list_labels(mailbox).await?;
    if let Some(found) = labels
        .into_iter()
        .find(|l| l.name.eq_ignore_ascii_case(&name))
    {
        return Ok((found, false));
    }
    match create_label(mailbox, changes).await {
        Ok(created) => Ok((created, true)),
        // Someone created it in between: return theirs.
        Err(GmailError::Conflict { .. }) => {
            let labels = list_labels(mailbox).await?;
            labels
                .into_iter()
                .find(|l| l.name.eq_ignore_ascii_case(&name))
                .map(|l| (l, false))
                .ok_or_else(|| GmailError::Conflict {
                    message: format!("label name {name:?} conflicts with an existing label"),
                })
        }
        Err(e) => Err(e),
    }
}

pub fn is_system_label(id: &str) -> bool {
    SYSTEM_LABELS.contains(&id)
}

/// Lets callers name labels as agents do ("Work", "inbox", "Projects/Alpha") as well as by
/// id. User labels, by id or name, are checked against the connection's label cache; one it
/// does not know costs one labels.list (it may be new), one Gmail does not know either is
/// refused here: a batch of a thousand messages must not learn it one message at a time.
pub async fn resolve_label_ids(
    mailbox: &Mailbox,
    field: &str,
    given: &[String],
) -> Result<Vec<String>, GmailError> {
    if given.iter().all(|g| is_system_label(g)) {
        return Ok(given.to_vec());
    }
    // An id first, then the name as written, then the name in any case (Gmail's order).
    let resolve = |labels: &[(String, String)], g: &String| {
        if is_system_label(g) || labels.iter().any(|(id, _)| id == g) {
            return Some(g.clone());
        }
        labels
            .iter()
            .find(|(_, name)| name == g)
            .or_else(|| labels.iter().find(|(_, name)| name.eq_ignore_ascii_case(g)))
            .map(|(id, _)| id.clone())
    };
    let (cached, just_fetched) = label_pairs(mailbox).await?;
    if let Some(ids) = given.iter().map(|g| resolve(&cached, g)).collect() {
        return Ok(ids);
    }
    let fresh = if just_fetched {
        cached
    } else {
        mailbox.connection().labels.forget();
        label_pairs(mailbox).await?.0
    };
    given
        .iter()
        .map(|g| {
            resolve(&fresh, g).ok_or_else(|| {
                GmailError::invalid(
                    field,
                    format!("no label with id or name {g:?} (list_email_labels shows them)"),
                )
            })
        })
        .collect()
}
