//! Mailboxes as MCP resources: `gmail://{account}/inbox` (the latest inbox messages, one line
//! each) and `gmail://{account}/messages/{id}` (one message, concise). The MCP server lists,
//! reads and subscribes to them through here; `inbox` changes when mail arrives.

use super::catalog::text;
use super::ToolContext;
use crate::error::GmailError;
use crate::ops::messages::{self, SearchRequest};
use crate::ops::PageSize;

/// Messages an inbox resource shows.
const INBOX_SIZE: PageSize = PageSize::fixed(20);
/// Body characters a message resource shows (read_email pages through the rest).
const BODY_CHARS: usize = 8_000;

pub const INBOX_TEMPLATE: &str = "gmail://{account}/inbox";
pub const MESSAGE_TEMPLATE: &str = "gmail://{account}/messages/{id}";

/// What a resource URI names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GmailResource {
    Inbox {
        account: String,
    },
    Message {
        account: String,
        id: crate::ops::MessageId,
    },
}

impl GmailResource {
    pub fn parse(uri: &str) -> Result<GmailResource, GmailError> {
        let bad = || {
            GmailError::invalid(
                "uri",
                format!("{uri:?} is not gmail://{{account}}/inbox or gmail://{{account}}/messages/{{id}}"),
            )
        };
        let rest = uri.strip_prefix("gmail://").ok_or_else(bad)?;
        let mut parts = rest.split('/');
        // One spelling per account: subscriptions are kept per resource, and a caller must
        // not make endless keys out of one of its own accounts.
        let account = parts
            .next()
            .filter(|a| !a.contains(char::is_whitespace))
            .and_then(|a| crate::mail::EmailAddress::parse("uri", a).ok())
            .ok_or_else(bad)?
            .as_str()
            .to_ascii_lowercase();
        match (parts.next(), parts.next(), parts.next()) {
            (Some("inbox"), None, None) => Ok(GmailResource::Inbox { account }),
            (Some("messages"), Some(id), None) => Ok(GmailResource::Message {
                account,
                id: crate::ops::MessageId::parse("id", id)?,
            }),
            _ => Err(bad()),
        }
    }

    pub fn account(&self) -> &str {
        match self {
            GmailResource::Inbox { account } | GmailResource::Message { account, .. } => account,
        }
    }
}

pub fn inbox_uri(account: &str) -> String {
    format!("gmail://{}/inbox", account.to_ascii_lowercase())
}

/// The caller's inboxes, as (uri, name).
pub async fn list(ctx: &ToolContext) -> Result<Vec<(String, String)>, GmailError> {
    let accounts: Vec<String> = match ctx.connections() {
        Some((accounts, caller)) => accounts
            .list(&caller.user_id)
            .await?
            .into_iter()
            .map(|c| c.email)
            .collect(),
        None => {
            let mailbox = ctx.mailbox(None).await?;
            vec![crate::events::feed::address_of(&mailbox).await?]
        }
    };
    Ok(accounts
        .into_iter()
        .map(|a| (inbox_uri(&a), format!("Inbox of {a}")))
        .collect())
}

/// A resource's text.
pub async fn read(ctx: &ToolContext, resource: &GmailResource) -> Result<String, GmailError> {
    let mailbox = ctx.mailbox(Some(resource.account())).await?;
    match resource {
        GmailResource::Inbox { account } => {
            let page = messages::search(
                &mailbox,
                &SearchRequest {
                    query: "in:inbox".into(),
                    max_results: INBOX_SIZE,
                    ..Default::default()
                },
            )
            .await?;
            Ok(format!(
                "Inbox of {account}, newest first (read one: gmail://{account}/messages/{{id}}):\n{}",
                text::search_concise(&page, false)
            ))
        }
        GmailResource::Message { id, .. } => {
            let m = crate::ops::read::read_message(&mailbox, id).await?;
            let names = crate::ops::labels::label_names(&mailbox)
                .await
                .unwrap_or_default();
            let mut out = text::headers_concise(&m, &names, mailbox.account());
            out.push('\n');
            let body = text::concise_body(&m.text, &m.subject, m.bulk);
            out.push_str(&crate::mail::window(&body, 0, BODY_CHARS).text_with_note());
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_parse_or_say_what_they_should_be() {
        assert_eq!(
            GmailResource::parse("gmail://Demo@Example.com/inbox").unwrap(),
            GmailResource::Inbox {
                account: "demo@example.com".into()
            }
        );
        assert_eq!(
            GmailResource::parse("gmail://demo@example.com/messages/18c2").unwrap(),
            GmailResource::Message {
                account: "demo@example.com".into(),
                id: crate::ops::MessageId::parse("id", "18c2").unwrap()
            }
        );
        for bad in [
            "gmail://demo/inbox",
            "http://demo@example.com/inbox",
            "gmail://demo@example.com/sent",
            "gmail://demo@example.com/messages/../x",
            "gmail://demo@example.com/inbox/more",
            "gmail:// demo@example.com/inbox",
            "gmail://demo@example.com /inbox",
            "gmail://de mo@example.com/inbox",
        ] {
            assert!(GmailResource::parse(bad).is_err(), "{bad}");
        }
    }
}
