//! What outgoing mail shares, sent or drafted: where a reply threads (its thread and the
//! headers every client threads by) and how a built message is uploaded.

use google_gmail1::api::Message;

use super::messages::{header, not_found_as};
use super::{Mailbox, MessageId, ThreadId};
use crate::error::GmailError;
use crate::mail::{normalize_message_id, parse_message_ids, reply_subject, OutgoingMessage};

/// The upload type of a built message.
pub(crate) fn rfc822() -> mime::Mime {
    "message/rfc822"
        .parse()
        .unwrap_or(mime::APPLICATION_OCTET_STREAM)
}

/// The metadata half of an upload: the thread the message joins, if any.
pub(crate) fn in_thread(thread_id: Option<&str>) -> Message {
    Message {
        thread_id: thread_id.map(str::to_owned),
        ..Default::default()
    }
}

/// Where a reply belongs: the thread and the headers that make every client thread it.
#[derive(Debug, Clone, Default)]
pub struct ReplyContext {
    pub thread_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub subject: Option<String>,
}

/// The headers a reply threads by, asked of messages.get and threads.get alike (as with
/// `gmail_call!`, their builders share no trait).
macro_rules! threading_headers {
    ($call:expr) => {
        $call
            .format("metadata")
            .add_metadata_headers("Message-ID")
            .add_metadata_headers("References")
            .add_metadata_headers("Subject")
    };
}

/// The Gmail id of the message in this mailbox whose Message-ID is `id` (normalized), if any.
pub(crate) async fn find_by_message_id(
    mailbox: &Mailbox,
    id: &str,
) -> Result<Option<String>, GmailError> {
    let query = format!("rfc822msgid:{}", id.trim_matches(['<', '>']));
    let (_, list) = gmail_call!(mailbox, idempotent, |u| u
        .messages_list("me")
        .q(&query)
        .include_spam_trash(true)
        .max_results(1))?;
    Ok(list
        .messages
        .unwrap_or_default()
        .into_iter()
        .find_map(|m| m.id))
}

fn is_draft(m: &Message) -> bool {
    m.label_ids
        .as_ref()
        .is_some_and(|labels| labels.iter().any(|l| l == "DRAFT"))
}

/// Resolves what a caller said about the message it answers: `in_reply_to` may be a Gmail
/// message id (looked up for its real Message-ID) or an RFC Message-ID; with only a thread id,
/// the reply answers the thread's newest message.
pub async fn reply_context(
    mailbox: &Mailbox,
    thread_id: Option<&str>,
    in_reply_to: Option<&str>,
) -> Result<Option<ReplyContext>, GmailError> {
    let thread_id = thread_id.map(str::trim).filter(|t| !t.is_empty());
    let in_reply_to = in_reply_to.map(str::trim).filter(|t| !t.is_empty());
    let original: Option<Message> = match (thread_id, in_reply_to) {
        (_, Some(irt)) if !irt.contains('@') => {
            let id = MessageId::parse("inReplyTo", irt)?;
            let (_, m) = gmail_call!(mailbox, idempotent, |u| threading_headers!(
                u.messages_get("me", &id)
            ))
            .map_err(|e| not_found_as(e, "message (inReplyTo)", &id))?;
            Some(m)
        }
        (Some(tid), irt) => {
            let tid = ThreadId::parse("threadId", tid)?;
            let (_, t) = gmail_call!(mailbox, idempotent, |u| threading_headers!(
                u.threads_get("me", &tid)
            ))
            .map_err(|e| not_found_as(e, "thread", &tid))?;
            let messages = t.messages.unwrap_or_default();
            let wanted = irt
                .map(|i| normalize_message_id("inReplyTo", i))
                .transpose()?;
            // The message named by its Message-ID, else the newest one; never a draft (the
            // one being rewritten, say), which no recipient has.
            let mut sent = messages.iter().rev().filter(|m| !is_draft(m));
            sent.clone()
                .find(|m| {
                    wanted
                        .as_deref()
                        .is_none_or(|w| header(m, "Message-ID").trim().eq_ignore_ascii_case(w))
                })
                .or_else(|| sent.next())
                .cloned()
        }
        (None, Some(irt)) => {
            // An RFC Message-ID: the message in this mailbox that has it gives the thread and
            // the chain (Gmail files a reply in its thread only when told the thread id).
            let id = normalize_message_id("inReplyTo", irt)?;
            match find_by_message_id(mailbox, &id).await? {
                Some(gid) => {
                    let (_, m) = gmail_call!(mailbox, idempotent, |u| threading_headers!(
                        u.messages_get("me", &gid)
                    ))?;
                    Some(m)
                }
                // Not here: thread by headers alone.
                None => {
                    return Ok(Some(ReplyContext {
                        thread_id: None,
                        in_reply_to: Some(id.clone()),
                        references: vec![id],
                        subject: None,
                    }));
                }
            }
        }
        (None, None) => return Ok(None),
    };
    let Some(m) = original else {
        return Ok(None);
    };
    let message_id = header(&m, "Message-ID");
    let mut references = parse_message_ids(&header(&m, "References"));
    let in_reply_to = if message_id.trim().is_empty() {
        None
    } else {
        let id = normalize_message_id("inReplyTo", &message_id)?;
        if !references.iter().any(|r| r.eq_ignore_ascii_case(&id)) {
            references.push(id.clone());
        }
        Some(id)
    };
    Ok(Some(ReplyContext {
        thread_id: m.thread_id.clone().or(thread_id.map(str::to_owned)),
        in_reply_to,
        references,
        subject: Some(header(&m, "Subject")).filter(|s| !s.is_empty()),
    }))
}

/// Makes `msg` a reply when `thread_id` or `in_reply_to` says what it answers (its
/// In-Reply-To, References and subject follow the original), for sends and drafts alike.
/// The thread it belongs in.
pub async fn thread_reply(
    mailbox: &Mailbox,
    msg: &mut OutgoingMessage,
    thread_id: Option<&str>,
    in_reply_to: Option<&str>,
) -> Result<Option<String>, GmailError> {
    let ctx = reply_context(mailbox, thread_id, in_reply_to).await?;
    if let Some(ctx) = &ctx {
        apply_reply_context(msg, ctx);
    }
    Ok(ctx
        .and_then(|c| c.thread_id)
        .or(thread_id.map(str::to_owned)))
}

/// Applies a reply context to an outgoing message: headers, "Re:" subject when the subject
/// does not already carry it.
pub fn apply_reply_context(msg: &mut OutgoingMessage, ctx: &ReplyContext) {
    if msg.in_reply_to.is_none() {
        msg.in_reply_to = ctx.in_reply_to.clone();
    }
    // The caller's extra ids join the thread's chain rather than replace it; the chain ends
    // with the parent, as RFC 5322 wants (duplicates go when the message is built).
    msg.references.extend(ctx.references.iter().cloned());
    if let Some(original) = &ctx.subject {
        // Gmail threads only when the subject matches the original's.
        let expected = reply_subject(original);
        if msg.subject.trim().is_empty() || reply_subject(&msg.subject) == expected {
            msg.subject = expected;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_references_join_the_thread_chain() {
        let mut msg = OutgoingMessage {
            references: vec!["<side@x.example>".into()],
            ..Default::default()
        };
        let ctx = ReplyContext {
            in_reply_to: Some("<c@x.example>".into()),
            references: vec![
                "<a@x.example>".into(),
                "<b@x.example>".into(),
                "<c@x.example>".into(),
            ],
            ..Default::default()
        };
        apply_reply_context(&mut msg, &ctx);
        assert_eq!(
            msg.references,
            [
                "<side@x.example>",
                "<a@x.example>",
                "<b@x.example>",
                "<c@x.example>"
            ]
        );
        assert_eq!(msg.in_reply_to.as_deref(), Some("<c@x.example>"));
    }
}
