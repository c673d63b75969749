//! Sending: new mail, replies that thread for every recipient, and forwards that keep the
//! original's attachments.

use google_gmail1::api::Message;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::outgoing::{apply_reply_context, reply_context, ReplyContext};
use super::outgoing::{find_by_message_id, in_thread, thread_reply};
use super::read::{read_message, read_raw};
use super::{DraftId, Mailbox, MessageId};
use crate::error::GmailError;
use crate::gmail::quota::units_of_call;
use crate::gmail::raw::post_json;
use crate::mail::{
    forward_body, forward_subject, normalize_message_id, quote_for_reply, raw_attachments,
    readable_from_raw, reply_headers, reply_recipients_excluding, reply_subject,
    OutgoingAttachment, OutgoingMessage, Recipient,
};

/// What a send did: the message sent; or, in drafts-only mode, the draft saved instead; or, on
/// a dry run, nothing (`rendered` shows what would have gone out).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SentMessage {
    pub id: String,
    pub thread_id: String,
    pub label_ids: Vec<String>,
    /// Drafts-only mode: the draft saved instead of sending.
    pub draft_id: Option<String>,
    /// A dry run: nothing was sent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// A dry run's message: its headers and text.
    pub rendered: Option<String>,
    /// The answer of an earlier send with the same idempotency key: nothing was sent now.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replayed: bool,
}

impl From<Message> for SentMessage {
    fn from(m: Message) -> Self {
        SentMessage {
            id: m.id.unwrap_or_default(),
            thread_id: m.thread_id.unwrap_or_default(),
            label_ids: m.label_ids.unwrap_or_default(),
            ..Default::default()
        }
    }
}

/// Sends a finished message under the caller's rules: recipients on the allowlist, a dry run
/// shows it, drafts-only mode saves it as a draft, the daily cap counts it; the audit log
/// records what happened. `action` names it there (`send`, `reply`, `forward`).
async fn deliver(
    mailbox: &Mailbox,
    action: &str,
    msg: &OutgoingMessage,
    thread_id: Option<&str>,
    dry_run: bool,
) -> Result<SentMessage, GmailError> {
    let policy = mailbox.policy();
    policy.check_message(msg)?;
    let recipients = super::policy::SendPolicy::recipients_of(msg);
    if let Err(e) = policy.check_recipients(recipients.iter().map(String::as_str)) {
        return Err(mailbox.refused(action, recipients, e).await);
    }
    let raw = msg.to_rfc822()?;
    if dry_run {
        return Ok(SentMessage {
            thread_id: thread_id.unwrap_or_default().to_string(),
            dry_run: true,
            rendered: Some(render(&raw)),
            ..Default::default()
        });
    }
    if policy.drafts_only {
        let d = super::drafts::create_draft_raw(mailbox, raw, thread_id).await?;
        mailbox
            .audit(
                "draft_create",
                recipients,
                vec![d.id.clone(), d.message_id.clone()],
            )
            .await;
        return Ok(SentMessage {
            id: d.message_id,
            thread_id: d.thread_id,
            label_ids: vec!["DRAFT".into()],
            draft_id: Some(d.id),
            ..Default::default()
        });
    }
    let ticket = mailbox.begin_send(action, &recipients).await?;
    let sent = send_raw(mailbox, raw, thread_id).await;
    let outcome = sent
        .as_ref()
        .map(|s| vec![s.id.clone(), s.thread_id.clone()]);
    mailbox.end_send(ticket, action, recipients, outcome).await;
    sent
}

/// A built message as a person reads it: the headers that matter, the text, the attachments.
pub fn render(raw: &[u8]) -> String {
    match readable_from_raw(raw) {
        Ok(m) => {
            let list = |l: &[crate::mail::AddressInfo]| crate::mail::format_address_list(l);
            let mut out = String::new();
            if let Some(from) = &m.from {
                out.push_str(&format!("From: {from}\n"));
            }
            for (name, value) in [
                ("To", list(&m.to)),
                ("Cc", list(&m.cc)),
                ("Bcc", list(&m.bcc)),
            ] {
                if !value.is_empty() {
                    out.push_str(&format!("{name}: {value}\n"));
                }
            }
            out.push_str(&format!("Subject: {}\n", m.subject));
            if let Some(irt) = &m.in_reply_to {
                out.push_str(&format!("In-Reply-To: {irt}\n"));
            }
            if !m.references.is_empty() {
                out.push_str(&format!("References: {}\n", m.references.join(" ")));
            }
            if let Some(id) = &m.message_id {
                out.push_str(&format!("Message-ID: {id}\n"));
            }
            out.push('\n');
            out.push_str(m.text.trim_end());
            out.push('\n');
            for a in &m.attachments {
                out.push_str(&format!(
                    "[attachment: {} ({}, {} bytes)]\n",
                    a.filename, a.mime_type, a.size
                ));
            }
            out
        }
        Err(_) => String::from_utf8_lossy(raw).into_owned(),
    }
}

/// Sends a built message (a multipart upload: Gmail's only send path in google-gmail1).
#[tracing::instrument(skip_all)]
pub async fn send_raw(
    mailbox: &Mailbox,
    raw: Vec<u8>,
    thread_id: Option<&str>,
) -> Result<SentMessage, GmailError> {
    let meta = in_thread(thread_id);
    let timed_out = naming_sent(&raw);
    let (_, sent) = gmail_call!(mailbox, once, |u| u.messages_send(meta, "me"), upload raw)
        .map_err(timed_out)?;
    Ok(sent.into())
}

/// A send's timeout names the message's Message-ID, so the caller can look for it before
/// sending again.
fn naming_sent(raw: &[u8]) -> impl FnOnce(GmailError) -> GmailError {
    let message_id = mail_parser::MessageParser::default()
        .parse_headers(raw)
        .and_then(|m| m.message_id().map(str::to_owned));
    move |e| match e {
        GmailError::UpstreamTimeout { after, .. } => GmailError::UpstreamTimeout {
            after,
            sent_as: message_id,
        },
        other => other,
    }
}

/// The Message-ID of a send that must happen once: the same scope (caller, idempotency key,
/// request) always gives the same id, so a retry after a crash can ask Gmail whether the first
/// attempt went out ([`already_sent`]) instead of sending again.
pub fn once_message_id(scope: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = crate::store::cipher::hex(&Sha256::digest(scope));
    format!("<once.{}@gmail-servers.local>", &digest[..40])
}

/// The message this mailbox already holds with `message_id` (sent by an earlier attempt), if
/// any. Sent mail is searched in spam and trash too: the user may have moved it.
#[tracing::instrument(skip_all)]
pub async fn already_sent(
    mailbox: &Mailbox,
    message_id: &str,
) -> Result<Option<SentMessage>, GmailError> {
    let id = normalize_message_id("messageId", message_id)?;
    let Some(gid) = find_by_message_id(mailbox, &id).await? else {
        return Ok(None);
    };
    let (_, m) = gmail_call!(mailbox, idempotent, |u| u
        .messages_get("me", &gid)
        .format("minimal"))?;
    Ok(Some(m.into()))
}

/// Sends `msg`; with a thread id or in-reply-to, as a reply threaded for every recipient.
/// A dry run builds it and sends nothing.
pub async fn send(
    mailbox: &Mailbox,
    mut msg: OutgoingMessage,
    thread_id: Option<&str>,
    in_reply_to: Option<&str>,
    dry_run: bool,
) -> Result<SentMessage, GmailError> {
    mailbox.policy().check_message(&msg)?;
    let thread = thread_reply(mailbox, &mut msg, thread_id, in_reply_to).await?;
    deliver(mailbox, "send", &msg, thread.as_deref(), dry_run).await
}

#[derive(Debug, Clone)]
pub struct ReplyRequest {
    pub message_id: MessageId,
    pub body: String,
    pub html_body: Option<String>,
    pub reply_all: bool,
    pub cc: Vec<Recipient>,
    pub bcc: Vec<Recipient>,
    pub from: Option<Recipient>,
    pub attachments: Vec<OutgoingAttachment>,
    pub quote_original: bool,
    /// The Message-ID the sent message carries (see [`once_message_id`]); fresh when `None`.
    pub own_message_id: Option<String>,
    /// Build it, send nothing.
    pub dry_run: bool,
}

/// The account's own addresses (primary and send-as aliases), so replies never go to me;
/// asked of Gmail once in a while, not on every reply.
async fn my_addresses(mailbox: &Mailbox) -> Vec<String> {
    let cache = &mailbox.connection().own_addresses;
    let generation = match cache.get() {
        Ok(mine) => return mine,
        Err(generation) => generation,
    };
    let mut mine: Vec<String> = mailbox.account().map(str::to_owned).into_iter().collect();
    if let Ok(ids) = super::settings::list_send_as(mailbox).await {
        mine.extend(ids.into_iter().map(|i| i.send_as_email));
        cache.set(generation, mine.clone());
    } else if let Ok(p) = super::profile::get_profile(mailbox).await {
        mine.push(p.email_address);
    }
    mine
}

/// Builds the reply to a message (recipients, headers, subject, optional quote) and sends it.
pub async fn reply(mailbox: &Mailbox, req: ReplyRequest) -> Result<SentMessage, GmailError> {
    let original = read_message(mailbox, &req.message_id).await?;
    let mine = my_addresses(mailbox).await;
    let mine_refs: Vec<&str> = mine.iter().map(String::as_str).collect();
    let (to, mut cc) = reply_recipients_excluding(&original, &mine_refs, req.reply_all);
    if to.is_empty() {
        return Err(GmailError::invalid(
            "messageId",
            "the original has no sender or recipient to reply to",
        ));
    }
    cc.extend(req.cc);
    let (in_reply_to, references) = reply_headers(&original);
    let mut text = req.body;
    if req.quote_original {
        text = format!("{text}\n\n{}", quote_for_reply(&original));
    }
    let msg = OutgoingMessage {
        from: req.from,
        to,
        cc,
        bcc: req.bcc,
        subject: reply_subject(&original.subject),
        text_body: Some(text),
        html_body: req.html_body,
        in_reply_to,
        references,
        attachments: req.attachments,
        message_id: req.own_message_id,
        ..Default::default()
    };
    let thread = Some(original.thread_id.as_str()).filter(|t| !t.is_empty());
    deliver(mailbox, "reply", &msg, thread, req.dry_run).await
}

#[derive(Debug, Clone)]
pub struct ForwardRequest {
    pub message_id: MessageId,
    pub to: Vec<Recipient>,
    pub cc: Vec<Recipient>,
    pub bcc: Vec<Recipient>,
    pub from: Option<Recipient>,
    /// Text above the forwarded message.
    pub note: Option<String>,
    pub include_attachments: bool,
    /// The Message-ID the sent message carries (see [`once_message_id`]); fresh when `None`.
    pub own_message_id: Option<String>,
    /// Build it, send nothing.
    pub dry_run: bool,
}

/// Forwards a message with its attachments, as a new conversation.
pub async fn forward(mailbox: &Mailbox, req: ForwardRequest) -> Result<SentMessage, GmailError> {
    let id = req.message_id.clone();
    // Checked before the original is fetched: a refusal costs no Gmail call.
    let early = OutgoingMessage {
        to: req.to.clone(),
        cc: req.cc.clone(),
        bcc: req.bcc.clone(),
        ..Default::default()
    };
    mailbox.policy().check_message(&early)?;
    let recipients = super::policy::SendPolicy::recipients_of(&early);
    if let Err(e) = mailbox
        .policy()
        .check_recipients(recipients.iter().map(String::as_str))
    {
        return Err(mailbox.refused("forward", recipients, e).await);
    }
    let raw = read_raw(mailbox, &id).await?;
    let original = readable_from_raw(&raw)?;
    let attachments = if req.include_attachments {
        raw_attachments(&raw)?
    } else {
        vec![]
    };
    let note = req.note.unwrap_or_default();
    let text = if note.is_empty() {
        forward_body(&original)
    } else {
        format!("{note}\n\n{}", forward_body(&original))
    };
    let msg = OutgoingMessage {
        from: req.from,
        to: req.to,
        cc: req.cc,
        bcc: req.bcc,
        subject: forward_subject(&original.subject),
        text_body: Some(text),
        attachments,
        message_id: req.own_message_id,
        ..Default::default()
    };
    deliver(mailbox, "forward", &msg, None, req.dry_run).await
}

/// The addresses every To, Cc and Bcc header of a raw message names (a message may repeat
/// them); None when any of them is not a list of addresses, so the check fails closed.
fn recipients_of_raw(raw: &[u8]) -> Option<Vec<String>> {
    use mail_parser::{HeaderName, HeaderValue};
    let m = mail_parser::MessageParser::default().parse_headers(raw)?;
    let mut out = Vec::new();
    for name in [HeaderName::To, HeaderName::Cc, HeaderName::Bcc] {
        for value in m.header_values(name) {
            if matches!(value, HeaderValue::Empty) {
                continue;
            }
            for a in value.as_address()?.iter() {
                out.push(a.address()?.to_string());
            }
        }
    }
    Some(out)
}

/// Sends an existing draft as it is, under the caller's rules: in drafts-only mode it stays a
/// draft, its recipients must be on the allowlist, and the daily cap counts it. Without an
/// allowlist it is one request; with one, the draft is read raw, checked and sent as read.
#[tracing::instrument(skip_all, fields(draft = %id))]
pub async fn send_draft(mailbox: &Mailbox, id: &DraftId) -> Result<SentMessage, GmailError> {
    let policy = mailbox.policy();
    if policy.drafts_only {
        let e = GmailError::Refused {
            message: format!("drafts-only mode (send.drafts_only): draft {id} stays a draft; the user sends it from Gmail"),
        };
        return Err(mailbox.refused("draft_send", vec![], e).await);
    }
    // The recipients are the draft's own. When anything depends on them, the draft is read
    // as its raw message, and exactly that is sent (uploaded as media: a JSON body over 1 MB
    // is refused): a change to the draft between the check and the send (an update racing
    // it) would otherwise go out unchecked.
    let checked = if policy.allowlists.is_empty() {
        None
    } else {
        let (_, d) = gmail_call!(
            mailbox,
            idempotent,
            |u| u.drafts_get("me", id).format("raw"),
            large
        )
        .map_err(|e| super::messages::not_found_as(e, "draft", id))?;
        let m = d.message.unwrap_or_default();
        let raw = m.raw.unwrap_or_default();
        let recipients = recipients_of_raw(&raw).ok_or_else(|| {
            GmailError::invalid("draftId", format!("draft {id}'s recipients cannot be read"))
        })?;
        Some((recipients, raw, m.thread_id))
    };
    let recipients = checked.as_ref().map(|c| c.0.clone()).unwrap_or_default();
    if let Err(e) = policy.check_recipients(recipients.iter().map(String::as_str)) {
        return Err(mailbox.refused("draft_send", recipients, e).await);
    }
    let ticket = mailbox.begin_send("draft_send", &recipients).await?;
    // In a block of its own: a refusal on the way (the quota budget, say) must still reach
    // end_send below, or the reserved send would count against the daily cap.
    let sent = async {
        match checked {
            Some((_, raw, thread_id)) => {
                let draft = google_gmail1::api::Draft {
                    id: Some(id.to_string()),
                    message: Some(in_thread(thread_id.as_deref())),
                };
                let timed_out = naming_sent(&raw);
                gmail_call!(mailbox, once, |u| u.drafts_send(draft, "me"), upload raw)
                    .map(|(_, m)| SentMessage::from(m))
                    .map_err(timed_out)
            }
            None => {
                // google-gmail1's drafts.send only uploads, so the JSON form is posted by
                // hand: charged here as the call it stands for, as `gmail_call!` charges
                // every other.
                mailbox
                    .spend_quota(units_of_call("UserDraftSendCall"))
                    .await?;
                post_json::<Message>(
                    mailbox.connection(),
                    "gmail/v1/users/me/drafts/send",
                    &serde_json::json!({ "id": id }),
                )
                .await
                .map(SentMessage::from)
            }
        }
    }
    .await
    .map_err(|e| super::messages::not_found_as(e, "draft", id));
    let outcome = sent
        .as_ref()
        .map(|s| vec![id.to_string(), s.id.clone(), s.thread_id.clone()]);
    mailbox
        .end_send(ticket, "draft_send", recipients, outcome)
        .await;
    sent
}

#[cfg(test)]
mod tests {
    use super::recipients_of_raw;

    #[test]
    fn every_recipient_header_counts_and_an_unreadable_one_fails_closed() {
        let raw = b"To: a@ok.example\r\nCc: b@ok.example\r\nTo: c@evil.example\r\nBcc: Team: d@ok.example, e@evil.example;\r\nSubject: x\r\n\r\nbody";
        let got = recipients_of_raw(raw).unwrap();
        for want in [
            "a@ok.example",
            "b@ok.example",
            "c@evil.example",
            "e@evil.example",
        ] {
            assert!(got.iter().any(|g| g == want), "{want} in {got:?}");
        }
        assert!(recipients_of_raw(b"To: undisclosed\r\n\r\nbody").is_none());
    }
}
