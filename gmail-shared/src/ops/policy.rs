//! What a caller may send: limits and guardrails checked by every operation that sends mail,
//! whichever door the request came through, before any Gmail call.

use crate::error::GmailError;
use crate::mail::OutgoingMessage;

/// Gmail's own cap on recipients of one message (To, Cc and Bcc together) for consumer
/// accounts, and the external-recipient cap of Workspace ones.
pub const GMAIL_MAX_RECIPIENTS: usize = 500;

/// The send rules of one caller's mailbox.
#[derive(Debug, Clone)]
pub struct SendPolicy {
    /// To, Cc and Bcc of one message together, at most.
    pub max_recipients: usize,
}

impl Default for SendPolicy {
    fn default() -> Self {
        SendPolicy {
            max_recipients: GMAIL_MAX_RECIPIENTS,
        }
    }
}

impl SendPolicy {
    pub fn from_settings(send: &crate::config::SendSettings) -> Self {
        SendPolicy {
            max_recipients: send.max_recipients_per_message,
        }
    }

    /// Checks a message before it is sent or saved.
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
}
