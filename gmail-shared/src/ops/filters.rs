//! Filters: list, get, create (also from templates), delete. Gmail has no filter update.

use google_gmail1::api::{Filter, FilterAction, FilterCriteria};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::labels::resolve_label_ids;
use super::{scope_needed, FilterId, Mailbox};
use crate::error::GmailError;
use crate::gmail::scopes;

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Criteria {
    /// Sender email address to match
    pub from: Option<String>,
    /// Recipient email address to match
    pub to: Option<String>,
    /// Subject text to match
    pub subject: Option<String>,
    /// Gmail search query (e.g., 'has:attachment')
    pub query: Option<String>,
    /// Text that must NOT be present
    pub negated_query: Option<String>,
    /// Whether to match emails with attachments
    pub has_attachment: Option<bool>,
    /// Whether to exclude chat messages
    pub exclude_chats: Option<bool>,
    /// Email size in bytes
    #[serde(default)]
    #[schemars(with = "Option<f64>")]
    pub size: Option<i32>,
    /// Size comparison operator
    pub size_comparison: Option<SizeComparison>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SizeComparison {
    Unspecified,
    Smaller,
    Larger,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Action {
    /// Label IDs to add to matching emails
    pub add_label_ids: Option<Vec<String>>,
    /// Label IDs to remove from matching emails
    pub remove_label_ids: Option<Vec<String>>,
    /// Email address to forward matching emails to
    pub forward: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FilterInfo {
    pub id: String,
    pub criteria: Criteria,
    pub action: Action,
}

impl From<Filter> for FilterInfo {
    fn from(f: Filter) -> Self {
        let c = f.criteria.unwrap_or_default();
        let a = f.action.unwrap_or_default();
        FilterInfo {
            id: f.id.unwrap_or_default(),
            criteria: Criteria {
                from: c.from,
                to: c.to,
                subject: c.subject,
                query: c.query,
                negated_query: c.negated_query,
                has_attachment: c.has_attachment,
                exclude_chats: c.exclude_chats,
                size: c.size,
                size_comparison: c.size_comparison.and_then(|s| match s.as_str() {
                    "smaller" => Some(SizeComparison::Smaller),
                    "larger" => Some(SizeComparison::Larger),
                    "unspecified" => Some(SizeComparison::Unspecified),
                    _ => None,
                }),
            },
            action: Action {
                add_label_ids: a.add_label_ids,
                remove_label_ids: a.remove_label_ids,
                forward: a.forward,
            },
        }
    }
}

#[tracing::instrument(skip_all)]
pub async fn list_filters(mailbox: &Mailbox) -> Result<Vec<FilterInfo>, GmailError> {
    let (_, list) = gmail_call!(mailbox, idempotent, |u| u.settings_filters_list("me"))?;
    Ok(list
        .filter
        .unwrap_or_default()
        .into_iter()
        .map(FilterInfo::from)
        .collect())
}

#[tracing::instrument(skip_all, fields(filter = %id))]
pub async fn get_filter(mailbox: &Mailbox, id: &FilterId) -> Result<FilterInfo, GmailError> {
    let (_, f) = gmail_call!(mailbox, idempotent, |u| u.settings_filters_get("me", id))
        .map_err(|e| super::messages::not_found_as(e, "filter", id))?;
    Ok(f.into())
}

#[tracing::instrument(skip_all, fields(filter = %id))]
pub async fn delete_filter(mailbox: &Mailbox, id: &FilterId) -> Result<(), GmailError> {
    gmail_call!(mailbox, once, |u| u.settings_filters_delete("me", id)).map_err(|e| {
        match scope_needed(scopes::SETTINGS_BASIC)(e) {
            GmailError::NotFound { .. } => GmailError::not_found(format!("filter {id}")),
            other => other,
        }
    })?;
    mailbox.audit_id("filter_delete", id).await;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn create_filter(
    mailbox: &Mailbox,
    criteria: &Criteria,
    action: &Action,
) -> Result<FilterInfo, GmailError> {
    if let Some(to) = &action.forward {
        if let Err(e) = mailbox.policy().check_forwarding_filter(to) {
            return Err(mailbox.refused("filter_create", vec![to.clone()], e).await);
        }
    }
    let c = criteria;
    let has_criterion = c.from.is_some()
        || c.to.is_some()
        || c.subject.is_some()
        || c.query.is_some()
        || c.negated_query.is_some()
        || c.has_attachment == Some(true)
        || c.size.is_some();
    if !has_criterion {
        return Err(GmailError::invalid(
            "criteria",
            "give at least one of from, to, subject, query, negatedQuery, hasAttachment, size",
        ));
    }
    if c.size.is_some_and(|s| s < 0) {
        return Err(GmailError::invalid("criteria.size", "must not be negative"));
    }
    for (field, value) in [
        ("criteria.from", &c.from),
        ("criteria.to", &c.to),
        ("criteria.subject", &c.subject),
        ("criteria.query", &c.query),
        ("criteria.negatedQuery", &c.negated_query),
        ("action.forward", &action.forward),
    ] {
        if value.as_deref().is_some_and(|v| v.contains(['\r', '\n'])) {
            return Err(GmailError::invalid(field, "must not contain line breaks"));
        }
    }
    let add = match &action.add_label_ids {
        Some(ids) => Some(resolve_label_ids(mailbox, "action.addLabelIds", ids).await?),
        None => None,
    };
    let remove = match &action.remove_label_ids {
        Some(ids) => Some(resolve_label_ids(mailbox, "action.removeLabelIds", ids).await?),
        None => None,
    };
    if add.as_ref().is_none_or(Vec::is_empty)
        && remove.as_ref().is_none_or(Vec::is_empty)
        && action.forward.is_none()
    {
        return Err(GmailError::invalid(
            "action",
            "give at least one of addLabelIds, removeLabelIds, forward",
        ));
    }
    let filter = Filter {
        criteria: Some(FilterCriteria {
            from: c.from.clone(),
            to: c.to.clone(),
            subject: c.subject.clone(),
            query: c.query.clone(),
            negated_query: c.negated_query.clone(),
            has_attachment: c.has_attachment,
            exclude_chats: c.exclude_chats,
            size: c.size,
            size_comparison: c.size_comparison.map(|s| {
                match s {
                    SizeComparison::Smaller => "smaller",
                    SizeComparison::Larger => "larger",
                    SizeComparison::Unspecified => "unspecified",
                }
                .to_string()
            }),
        }),
        action: Some(FilterAction {
            add_label_ids: add,
            remove_label_ids: remove,
            forward: action.forward.clone(),
        }),
        id: None,
    };
    let (_, created) = gmail_call!(mailbox, once, |u| u.settings_filters_create(filter, "me"))
        .map_err(scope_needed(scopes::SETTINGS_BASIC))?;
    let f: FilterInfo = created.into();
    mailbox
        .audit(
            "filter_create",
            action.forward.iter().cloned().collect(),
            vec![f.id.clone()],
        )
        .await;
    Ok(f)
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum Template {
    FromSender,
    WithSubject,
    WithAttachments,
    LargeEmails,
    ContainingText,
    MailingList,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TemplateParameters {
    /// Sender email (for fromSender template)
    pub sender_email: Option<String>,
    /// Subject text (for withSubject template)
    pub subject_text: Option<String>,
    /// Text to search for (for containingText template)
    pub search_text: Option<String>,
    /// Mailing list identifier (for mailingList template)
    pub list_identifier: Option<String>,
    /// Size threshold in bytes (for largeEmails template)
    #[schemars(with = "Option<f64>")]
    pub size_in_bytes: Option<i32>,
    /// Label IDs to apply
    pub label_ids: Option<Vec<String>>,
    /// Whether to archive (skip inbox)
    pub archive: Option<bool>,
    /// Whether to mark as read
    pub mark_as_read: Option<bool>,
    /// Whether to mark as important
    pub mark_important: Option<bool>,
}

/// The criteria and action a template stands for.
pub fn from_template(
    template: Template,
    p: &TemplateParameters,
) -> Result<(Criteria, Action), GmailError> {
    fn need<'a>(
        value: &'a Option<String>,
        field: &str,
        template: &str,
    ) -> Result<&'a str, GmailError> {
        value
            .as_deref()
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| {
                GmailError::invalid(
                    format!("parameters.{field}"),
                    format!("the {template} template needs {field}"),
                )
            })
    }
    let mut criteria = Criteria::default();
    match template {
        Template::FromSender => {
            criteria.from = Some(need(&p.sender_email, "senderEmail", "fromSender")?.into())
        }
        Template::WithSubject => {
            criteria.subject = Some(need(&p.subject_text, "subjectText", "withSubject")?.into())
        }
        Template::WithAttachments => criteria.has_attachment = Some(true),
        Template::LargeEmails => {
            let size = p.size_in_bytes.ok_or_else(|| {
                GmailError::invalid(
                    "parameters.sizeInBytes",
                    "the largeEmails template needs sizeInBytes",
                )
            })?;
            criteria.size = Some(size);
            criteria.size_comparison = Some(SizeComparison::Larger);
        }
        Template::ContainingText => {
            criteria.query = Some(format!(
                "\"{}\"",
                need(&p.search_text, "searchText", "containingText")?.replace('"', "")
            ))
        }
        Template::MailingList => {
            let list = need(&p.list_identifier, "listIdentifier", "mailingList")?;
            criteria.query = Some(format!("list:{list}"));
        }
    }
    let mut add = p.label_ids.clone().unwrap_or_default();
    let mut remove = Vec::new();
    if p.archive == Some(true) {
        remove.push("INBOX".to_string());
    }
    if p.mark_as_read == Some(true) {
        remove.push("UNREAD".to_string());
    }
    if p.mark_important == Some(true) {
        add.push("IMPORTANT".to_string());
    }
    let action = Action {
        add_label_ids: (!add.is_empty()).then_some(add),
        remove_label_ids: (!remove.is_empty()).then_some(remove),
        forward: None,
    };
    Ok((criteria, action))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_expand_to_criteria_and_actions() {
        let p = TemplateParameters {
            sender_email: Some("news@example.org".into()),
            archive: Some(true),
            mark_as_read: Some(true),
            label_ids: Some(vec!["Label_1".into()]),
            ..Default::default()
        };
        let (c, a) = from_template(Template::FromSender, &p).unwrap();
        assert_eq!(c.from.as_deref(), Some("news@example.org"));
        assert_eq!(a.add_label_ids, Some(vec!["Label_1".to_string()]));
        assert_eq!(
            a.remove_label_ids,
            Some(vec!["INBOX".to_string(), "UNREAD".to_string()])
        );
    }

    #[test]
    fn a_template_missing_its_parameter_names_it() {
        let err = from_template(Template::MailingList, &TemplateParameters::default()).unwrap_err();
        assert!(err.to_string().contains("listIdentifier"), "{err}");
    }
}
