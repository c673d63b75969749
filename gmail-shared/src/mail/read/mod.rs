//! Turning a Gmail message (format `full`, or raw RFC 822) into one readable shape: decoded
//! headers, the text body (converted from HTML when that is all there is, so it is never empty
//! for HTML-only mail), the HTML, and the attachment list with the ids needed to fetch them.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::address::{format_mailbox, EmailAddress, Recipient};
use super::html::html_to_text;
use crate::error::GmailError;

mod gmail;
mod headers;
mod raw;
#[cfg(test)]
pub(crate) mod tests;

pub use gmail::readable_from_gmail;
use headers::flatten;
pub use headers::{decode_charset, decode_header_text, header_param, parse_address_header};
pub use raw::{raw_attachments, readable_from_raw};

/// An address as found in a received message: not validated (real mail holds odd ones), with
/// its display name decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddressInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub email: String,
}

impl AddressInfo {
    /// As a validated recipient (for replying); fails on an address we could not send to.
    pub fn to_recipient(&self, field: &str) -> Result<Recipient, GmailError> {
        Ok(Recipient {
            // The sender wrote it: cleaned to what a header takes rather than refused, so
            // one odd name does not stop a reply to everyone.
            name: self
                .name
                .as_deref()
                .map(|n| crate::mail::address::header_text(n, 256))
                .filter(|n| !n.is_empty()),
            email: EmailAddress::parse(field, &self.email)?,
        })
    }
}

impl fmt::Display for AddressInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_mailbox(self.name.as_deref(), &self.email))
    }
}

/// `a@x.com, "Doe, John" <j@x.com>`.
pub fn format_address_list(list: &[AddressInfo]) -> String {
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// An attachment (or inline image) of a received message.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AttachmentInfo {
    pub filename: String,
    pub mime_type: String,
    /// Decoded size in bytes.
    pub size: u64,
    /// Gmail's id for `messages.attachments.get`; absent for raw messages.
    pub attachment_id: Option<String>,
    pub part_id: Option<String>,
    /// Content-ID without brackets, as referenced by `cid:` in the HTML.
    pub content_id: Option<String>,
    /// An inline part (an image shown in the HTML) rather than a separate file.
    pub inline: bool,
}

/// A message as an agent reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReadableMessage {
    /// Gmail message id (empty for a raw message).
    pub id: String,
    /// Gmail thread id (empty for a raw message).
    pub thread_id: String,
    pub label_ids: Vec<String>,
    pub snippet: String,
    pub subject: String,
    pub from: Option<AddressInfo>,
    pub to: Vec<AddressInfo>,
    pub cc: Vec<AddressInfo>,
    pub bcc: Vec<AddressInfo>,
    pub reply_to: Vec<AddressInfo>,
    /// The Date header as sent.
    pub date: Option<String>,
    /// The RFC 822 Message-ID, bracketed (`<id@host>`): what a reply's In-Reply-To carries.
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// The plain-text body; converted from the HTML when the message has no text part.
    pub text: String,
    pub html: Option<String>,
    /// True when `text` was converted from `html`.
    pub text_from_html: bool,
    pub attachments: Vec<AttachmentInfo>,
    pub internal_date_ms: Option<i64>,
    pub size_estimate: Option<i64>,
    /// How to unsubscribe (the List-Unsubscribe header), when the sender says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_unsubscribe: Option<String>,
    /// A bulk mailing (newsletter, promotion, notification) rather than a letter or a
    /// discussion list: it has List-Unsubscribe or `Precedence: bulk`, and no
    /// `Precedence: list` or List-Post.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bulk: bool,
}

/// (List-Unsubscribe, bulk) from a header lookup; see [`ReadableMessage::bulk`].
fn mailing<'a>(h: impl Fn(&'static str) -> Option<&'a str>) -> (Option<String>, bool) {
    let unsubscribe = h("List-Unsubscribe").map(|v| flatten(v).trim().to_string());
    let precedence = h("Precedence").map(|p| p.trim().to_ascii_lowercase());
    let discussion = precedence.as_deref() == Some("list") || h("List-Post").is_some();
    let bulk = !discussion
        && (unsubscribe.is_some() || matches!(precedence.as_deref(), Some("bulk" | "junk")));
    (unsubscribe, bulk)
}

fn join_bodies(parts: &[String]) -> String {
    parts
        .iter()
        .map(|p| p.trim_end())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn set_bodies(r: &mut ReadableMessage, text: &[String], html: &[String]) {
    let html = join_bodies(html);
    let text = join_bodies(text);
    r.html = (!html.is_empty()).then_some(html);
    if text.trim().is_empty() {
        if let Some(h) = &r.html {
            r.text = html_to_text(h);
            r.text_from_html = true;
        }
    } else {
        r.text = text;
    }
}
