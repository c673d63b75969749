//! users.getProfile.

use schemars::JsonSchema;
use serde::Serialize;

use super::Mailbox;
use crate::error::GmailError;

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub email_address: String,
    pub messages_total: i32,
    pub threads_total: i32,
    /// The mailbox's current history id: pass it to `list_changes` to see what happens next.
    pub history_id: String,
}

#[tracing::instrument(skip_all)]
pub async fn get_profile(mailbox: &Mailbox) -> Result<Profile, GmailError> {
    let (_, p) = gmail_call!(mailbox, idempotent, |u| u.get_profile("me"))?;
    Ok(Profile {
        email_address: p.email_address.unwrap_or_default(),
        messages_total: p.messages_total.unwrap_or(0),
        threads_total: p.threads_total.unwrap_or(0),
        history_id: p.history_id.map(|h| h.to_string()).unwrap_or_default(),
    })
}
