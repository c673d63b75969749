//! Gmail ids, parsed once where a caller gives them (a tool's arguments, a REST path or body)
//! and taken as they are by the operations. Gmail ids are short runs of letters, digits, `_`
//! and `-`; anything else (a path, a space, a `?`) never reaches a URL.

use std::fmt;
use std::ops::Deref;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::GmailError;

/// The longest id accepted: it bounds the URL an id goes into. Message, thread and label
/// ids are short, but attachment ids run to several hundred characters.
const MAX_LEN: usize = 4096;

/// `text` as an id of `kind` (message, thread, ...), trimmed; the error says why not.
pub(crate) fn parse(kind: &str, text: &str) -> Result<String, String> {
    let id = text.trim();
    if id.is_empty() {
        return Err(format!("a {kind} id must not be empty"));
    }
    if id.len() > MAX_LEN
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "{id:?} is not a Gmail {kind} id (letters, digits, '_' and '-' only)"
        ));
    }
    Ok(id.to_owned())
}

/// One newtype per kind of id, so a thread id cannot be passed where a message id is meant.
/// Each is a plain string on the wire and in the tool schemas (no description of its own: a
/// tool's field says what it wants, and every byte of tools/list is paid for in context); the
/// OpenAPI document names it as a component described by `$about`.
macro_rules! gmail_id {
    ($name:ident, $kind:literal, $about:literal) => {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, JsonSchema)]
        #[serde(transparent)]
        #[schemars(transparent)]
        pub struct $name(String);

        impl $name {
            /// Checks `text` as an id given for the argument `field`.
            pub fn parse(field: &str, text: &str) -> Result<Self, GmailError> {
                parse($kind, text)
                    .map($name)
                    .map_err(|message| GmailError::invalid(field, message))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                parse($kind, &text)
                    .map($name)
                    .map_err(serde::de::Error::custom)
            }
        }

        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some($about))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

gmail_id!(
    MessageId,
    "message",
    "A Gmail message id, as search results give it"
);
gmail_id!(ThreadId, "thread", "A Gmail thread (conversation) id");
gmail_id!(
    DraftId,
    "draft",
    "A Gmail draft id (not the id of its message)"
);
gmail_id!(FilterId, "filter", "A Gmail filter id");
gmail_id!(
    AttachmentId,
    "attachment",
    "An attachment id, from a message's attachment list"
);
gmail_id!(
    LabelId,
    "label",
    "A label's id (INBOX, Label_12), not its name"
);

/// The most ids one batch operation takes: five of Gmail's batch requests, and a bound on
/// the per-message fallback when Gmail refuses them.
pub const MAX_BATCH_IDS: usize = 5000;

/// The ids a batch operation acts on: 1 to [`MAX_BATCH_IDS`] of them.
pub fn id_list<T>(field: &str, ids: Vec<T>) -> Result<Vec<T>, GmailError> {
    if ids.is_empty() {
        return Err(GmailError::invalid(field, "must list at least one id"));
    }
    if ids.len() > MAX_BATCH_IDS {
        return Err(GmailError::invalid(
            field,
            format!(
                "lists {} ids; at most {MAX_BATCH_IDS} go in one call, so split the list",
                ids.len()
            ),
        ));
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_takes_one_to_five_thousand_ids() {
        assert!(id_list::<u8>("messageIds", vec![]).is_err());
        assert_eq!(
            id_list("messageIds", vec![0u8; MAX_BATCH_IDS])
                .unwrap()
                .len(),
            5000
        );
        let err = id_list("messageIds", vec![0u8; MAX_BATCH_IDS + 1]).unwrap_err();
        assert!(err.to_string().contains("at most 5000"), "{err}");
    }

    #[test]
    fn ids_are_trimmed_and_checked_once() {
        assert_eq!(
            MessageId::parse("messageId", " 18c9 ").unwrap().as_str(),
            "18c9"
        );
        for bad in [
            "",
            "  ",
            "../etc/passwd",
            "a b",
            "a?b=c",
            &"x".repeat(MAX_LEN + 1),
        ] {
            let err = MessageId::parse("messageId", bad).unwrap_err().to_string();
            assert!(err.contains("messageId"), "{err}");
        }
        let long = "A-_9".repeat(200);
        assert_eq!(
            AttachmentId::parse("attachmentId", &long).unwrap().as_str(),
            long
        );
        let err: Result<ThreadId, _> = serde_json::from_value(serde_json::json!("a/b"));
        let err = err.unwrap_err().to_string();
        assert!(err.contains("not a Gmail thread id"), "{err}");
    }

    #[test]
    fn the_schema_is_a_plain_string() {
        let schema = serde_json::to_value(schemars::schema_for!(DraftId)).unwrap();
        assert_eq!(schema["type"], "string");
        assert_eq!(
            serde_json::to_value(DraftId::parse("id", "r12").unwrap()).unwrap(),
            "r12"
        );
    }
}
