//! What a caller may send: limits and guardrails checked by every operation that sends mail,
//! whichever door the request came through, before any Gmail call that sends: a recipient cap,
//! a recipient allowlist, drafts-only mode, a daily send cap per mailbox, and no forwarding
//! filters unless allowed. A multi-user server narrows the server's rules per user and per key.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::audit::{AuditSink, CapFull, MemoryAudit, DAY};
use crate::error::GmailError;
use crate::mail::{OutgoingMessage, Recipient};

/// Gmail's own cap on recipients of one message (To, Cc and Bcc together) for consumer
/// accounts, and the external-recipient cap of Workspace ones.
pub const GMAIL_MAX_RECIPIENTS: usize = 500;

/// Who may receive mail: addresses and `@domain` entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowlist {
    entries: Vec<String>,
}

impl Allowlist {
    /// `None` when `entries` is empty (anyone may receive mail).
    pub fn new(entries: &[String]) -> Option<Allowlist> {
        let entries: Vec<String> = entries
            .iter()
            .map(|e| e.trim().to_ascii_lowercase())
            .filter(|e| !e.is_empty())
            .collect();
        (!entries.is_empty()).then_some(Allowlist { entries })
    }

    pub fn allows(&self, address: &str) -> bool {
        let address = address.trim().to_ascii_lowercase();
        let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        self.entries.iter().any(|e| match e.strip_prefix('@') {
            Some(d) => d == domain,
            None => *e == address,
        })
    }
}

/// Per user or per key (multi-user mode): these only narrow the server's rules.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct CallerPolicy {
    pub read_only: Option<bool>,
    pub toolsets: Option<Vec<String>>,
    pub allowed_recipients: Option<Vec<String>>,
    pub drafts_only: Option<bool>,
    pub max_sends_per_day: Option<u32>,
    pub allow_forwarding_filters: Option<bool>,
}

impl CallerPolicy {
    pub fn is_empty(&self) -> bool {
        *self == CallerPolicy::default()
    }
}

/// The send rules of one caller's mailbox.
#[derive(Clone)]
pub struct SendPolicy {
    /// To, Cc and Bcc of one message together, at most.
    pub max_recipients: usize,
    /// Every layer's allowlist a recipient must pass (server, user, key).
    pub allowlists: Vec<Allowlist>,
    /// Sends become drafts.
    pub drafts_only: bool,
    /// Sends per mailbox in any 24 hours, at most.
    pub max_per_day: Option<u32>,
    pub allow_forwarding_filters: bool,
    /// The audit log: every write is recorded there, and the daily cap counts from it.
    pub audit: Arc<dyn AuditSink>,
}

impl std::fmt::Debug for SendPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendPolicy")
            .field("max_recipients", &self.max_recipients)
            .field("allowlists", &self.allowlists)
            .field("drafts_only", &self.drafts_only)
            .field("max_per_day", &self.max_per_day)
            .field("allow_forwarding_filters", &self.allow_forwarding_filters)
            .finish_non_exhaustive()
    }
}

impl Default for SendPolicy {
    fn default() -> Self {
        SendPolicy {
            max_recipients: GMAIL_MAX_RECIPIENTS,
            allowlists: vec![],
            drafts_only: false,
            max_per_day: None,
            allow_forwarding_filters: false,
            audit: Arc::new(MemoryAudit::default()),
        }
    }
}

fn refused(message: String) -> GmailError {
    GmailError::Refused { message }
}

impl SendPolicy {
    pub fn from_settings(send: &crate::config::SendSettings, audit: Arc<dyn AuditSink>) -> Self {
        SendPolicy {
            max_recipients: send.max_recipients_per_message,
            allowlists: Allowlist::new(&send.allowed_recipients)
                .into_iter()
                .collect(),
            drafts_only: send.drafts_only,
            max_per_day: (send.max_per_day > 0).then_some(send.max_per_day),
            allow_forwarding_filters: send.allow_forwarding_filters,
            audit,
        }
    }

    /// These rules further narrowed by a user's or key's.
    pub fn narrowed(&self, by: &CallerPolicy) -> SendPolicy {
        let mut p = self.clone();
        if let Some(list) = by.allowed_recipients.as_deref().and_then(Allowlist::new) {
            p.allowlists.push(list);
        }
        p.drafts_only |= by.drafts_only.unwrap_or(false);
        if let Some(n) = by.max_sends_per_day.filter(|n| *n > 0) {
            p.max_per_day = Some(p.max_per_day.map_or(n, |m| m.min(n)));
        }
        p.allow_forwarding_filters &= by.allow_forwarding_filters.unwrap_or(true);
        p
    }

    /// Checks a message before it is sent or saved: its recipient count.
    pub fn check_message(&self, msg: &OutgoingMessage) -> Result<(), GmailError> {
        let count = msg.to.len() + msg.cc.len() + msg.bcc.len();
        if count > self.max_recipients {
            return Err(GmailError::invalid(
                "to",
                format!(
                    "the message has {count} recipients (to, cc and bcc together); the limit is {} (send.max_recipients_per_message)",
                    self.max_recipients
                ),
            ));
        }
        Ok(())
    }

    /// Refuses recipients outside the allowlists, naming each.
    pub fn check_recipients<'a>(
        &self,
        recipients: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), GmailError> {
        if self.allowlists.is_empty() {
            return Ok(());
        }
        let mut rejected: Vec<String> = Vec::new();
        for r in recipients {
            if !self.allowlists.iter().all(|l| l.allows(r)) && !rejected.iter().any(|x| x == r) {
                rejected.push(r.to_string());
            }
        }
        if rejected.is_empty() {
            Ok(())
        } else {
            Err(refused(format!(
                "not on the recipient allowlist (send.allowed_recipients): {}; nothing was sent",
                rejected.join(", ")
            )))
        }
    }

    /// The recipients of a message, as checked and audited.
    pub fn recipients_of(msg: &OutgoingMessage) -> Vec<String> {
        msg.to
            .iter()
            .chain(&msg.cc)
            .chain(&msg.bcc)
            .map(|r: &Recipient| r.email.as_str().to_string())
            .collect()
    }

    /// The refusal of a send over the daily cap: how many went, and when the oldest of the
    /// window ages out.
    pub fn cap_reached(&self, account: &str, full: CapFull, now: i64) -> GmailError {
        let wait = full.oldest.map_or(DAY, |o| (o + DAY - now).max(1));
        crate::metrics::rejection("send_cap");
        GmailError::SendCapReached {
            message: format!(
                "{account} has sent {} messages in the last 24 hours, the limit (send.max_per_day); the next send is possible in {} minutes",
                full.sent,
                (wait + 59) / 60
            ),
            retry_after: std::time::Duration::from_secs(wait as u64),
        }
    }

    /// A filter that forwards mail leaks it for as long as it exists: refused unless allowed,
    /// and then only to an allowed recipient.
    pub fn check_forwarding_filter(&self, forward_to: &str) -> Result<(), GmailError> {
        if !self.allow_forwarding_filters {
            return Err(refused(format!(
                "a filter that forwards mail (to {forward_to}) is refused: it would leak mail for as long as it exists; an operator can allow it with send.allow_forwarding_filters"
            )));
        }
        self.check_recipients([forward_to])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowlists_take_addresses_and_domains_and_every_layer_must_pass() {
        let list = Allowlist::new(&["Boss@Corp.example".into(), "@team.example".into()]).unwrap();
        assert!(list.allows("boss@corp.example"));
        assert!(list.allows("anyone@TEAM.example"));
        assert!(!list.allows("other@corp.example"));
        assert!(!list.allows("x@sub.team.example"));
        assert!(Allowlist::new(&[" ".into()]).is_none());
        let server = SendPolicy {
            allowlists: vec![list],
            ..Default::default()
        };
        let key = server.narrowed(&CallerPolicy {
            allowed_recipients: Some(vec!["@team.example".into()]),
            drafts_only: Some(true),
            max_sends_per_day: Some(5),
            ..Default::default()
        });
        assert!(key.drafts_only && key.max_per_day == Some(5));
        let err = key
            .check_recipients(["boss@corp.example", "a@team.example", "evil@x.example"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("boss@corp.example, evil@x.example"), "{err}");
        assert!(key.check_recipients(["a@team.example"]).is_ok());
    }
}
