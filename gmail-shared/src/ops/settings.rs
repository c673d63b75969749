//! Settings: vacation responder and send-as identities.

use google_gmail1::api::VacationSettings;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{scope_needed, Mailbox};
use crate::error::GmailError;
use crate::gmail::scopes;

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Vacation {
    pub enable_auto_reply: bool,
    pub response_subject: Option<String>,
    pub response_body_plain_text: Option<String>,
    pub response_body_html: Option<String>,
    pub restrict_to_contacts: Option<bool>,
    pub restrict_to_domain: Option<bool>,
    /// Start (epoch ms)
    pub start_time: Option<i64>,
    /// End (epoch ms)
    pub end_time: Option<i64>,
}

impl From<VacationSettings> for Vacation {
    fn from(v: VacationSettings) -> Self {
        Vacation {
            enable_auto_reply: v.enable_auto_reply.unwrap_or(false),
            response_subject: v.response_subject,
            response_body_plain_text: v.response_body_plain_text,
            response_body_html: v.response_body_html,
            restrict_to_contacts: v.restrict_to_contacts,
            restrict_to_domain: v.restrict_to_domain,
            start_time: v.start_time,
            end_time: v.end_time,
        }
    }
}

#[tracing::instrument(skip_all)]
pub async fn get_vacation(mailbox: &Mailbox) -> Result<Vacation, GmailError> {
    let (_, v) = gmail_call!(mailbox, idempotent, |u| u.settings_get_vacation("me"))?;
    Ok(v.into())
}

#[tracing::instrument(skip_all)]
pub async fn set_vacation(mailbox: &Mailbox, v: &Vacation) -> Result<Vacation, GmailError> {
    if let (Some(start), Some(end)) = (v.start_time, v.end_time) {
        if end <= start {
            return Err(GmailError::invalid("endTime", "must be after startTime"));
        }
    }
    if v.response_subject
        .as_deref()
        .is_some_and(|s| s.contains(['\r', '\n']))
    {
        return Err(GmailError::invalid(
            "responseSubject",
            "must not contain line breaks",
        ));
    }
    let settings = VacationSettings {
        enable_auto_reply: Some(v.enable_auto_reply),
        response_subject: v.response_subject.clone(),
        response_body_plain_text: v.response_body_plain_text.clone(),
        response_body_html: v.response_body_html.clone(),
        restrict_to_contacts: v.restrict_to_contacts,
        restrict_to_domain: v.restrict_to_domain,
        start_time: v.start_time,
        end_time: v.end_time,
    };
    let (_, saved) = gmail_call!(mailbox, idempotent, |u| u
        .settings_update_vacation(settings, "me"))
    .map_err(scope_needed(scopes::SETTINGS_BASIC))?;
    let saved: Vacation = saved.into();
    mailbox.audit("vacation_set", vec![], vec![]).await;
    Ok(saved)
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SendAsIdentity {
    pub send_as_email: String,
    pub display_name: Option<String>,
    pub reply_to_address: Option<String>,
    pub signature: Option<String>,
    pub is_primary: bool,
    pub is_default: bool,
    pub verification_status: Option<String>,
}

#[tracing::instrument(skip_all)]
pub async fn list_send_as(mailbox: &Mailbox) -> Result<Vec<SendAsIdentity>, GmailError> {
    let (_, list) = gmail_call!(mailbox, idempotent, |u| u.settings_send_as_list("me"))?;
    Ok(list
        .send_as
        .unwrap_or_default()
        .into_iter()
        .map(|s| SendAsIdentity {
            send_as_email: s.send_as_email.unwrap_or_default(),
            display_name: s.display_name.filter(|n| !n.is_empty()),
            reply_to_address: s.reply_to_address.filter(|n| !n.is_empty()),
            signature: s.signature.filter(|n| !n.is_empty()),
            is_primary: s.is_primary.unwrap_or(false),
            is_default: s.is_default.unwrap_or(false),
            verification_status: s.verification_status,
        })
        .collect())
}
