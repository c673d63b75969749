//! One error type for every failure a Gmail operation can report, classified so each server can
//! answer in its own terms: an HTTP status with `application/problem+json` on REST, an
//! `isError` tool result on MCP.

use std::time::Duration;

use actix_web::http::StatusCode;

/// The underlying failure an error keeps (`std::error::Error::source`), for logs and callers
/// that walk the chain; its text is also part of the message.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum GmailError {
    #[error("{what} not found")]
    NotFound { what: String },

    #[error("invalid argument `{field}`: {message}")]
    InvalidArgument { field: String, message: String },

    #[error("{message} (limit: {limit_bytes} bytes)")]
    TooLarge { message: String, limit_bytes: u64 },

    #[error("this operation needs the OAuth scope {scope}, which the connection was not granted")]
    MissingScope { scope: String },

    #[error("Gmail rate limit reached{}", retry_hint(.retry_after))]
    RateLimited { retry_after: Option<Duration> },

    /// Gmail did not answer in time. For a send (`sent_as`: its Message-ID), whether the
    /// mail went out is not known, and the caller is told how to find out.
    #[error("Gmail did not answer within {} s{}", .after.as_secs(), maybe_sent(.sent_as))]
    UpstreamTimeout {
        after: Duration,
        sent_as: Option<String>,
    },

    #[error("Gmail is unavailable: {message}{}", caused_by(.source))]
    UpstreamUnavailable {
        message: String,
        #[source]
        source: Option<Cause>,
    },

    #[error(
        "the Gmail authorization has expired or was revoked; re-authorize the account ({message})"
    )]
    AuthExpired { message: String },

    /// A connected account whose grant Google revoked or expired. `link` is a consent link
    /// for the caller alone: it binds the browser that opens it first, so it is in
    /// [`GmailError::public_message`] but never in the text logs print.
    #[error("the connection to {account} was revoked or expired; re-authorize it (call gmail_get_auth_url)")]
    Reauthorize {
        account: String,
        link: Option<String>,
    },

    #[error("{message}")]
    Conflict { message: String },

    /// A guardrail of this deployment refused the action (allowlist, drafts-only, forwarding
    /// filters); nothing reached Gmail.
    #[error("refused: {message}")]
    Refused { message: String },

    /// The caller may not do this at all: an admin action asked for by a member, or Gmail
    /// refusing the account for a reason other than a scope (a Workspace policy, say).
    #[error("forbidden: {message}")]
    Forbidden { message: String },

    /// This caller (or address) is over its request rate on this server (`limits.*`).
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after: Duration,
    },

    /// The daily send cap of this mailbox is reached.
    #[error("{message}")]
    SendCapReached {
        message: String,
        retry_after: Duration,
    },

    #[error("internal error: {message}{}", caused_by(.source))]
    Internal {
        message: String,
        #[source]
        source: Option<Cause>,
    },
}

fn caused_by(source: &Option<Cause>) -> String {
    source
        .as_ref()
        .map(|e| format!(": {e}"))
        .unwrap_or_default()
}

fn maybe_sent(message_id: &Option<String>) -> String {
    match message_id {
        Some(id) => format!(
            "; the message may have been sent: search rfc822msgid:{id} in:anywhere before \
             sending it again"
        ),
        None => String::new(),
    }
}

fn retry_hint(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!("; retry after {} s", d.as_secs().max(1)),
        None => "; retry later".to_string(),
    }
}

impl GmailError {
    /// The same error for another item it applies to (each part of a failed batch): the
    /// same kind and text; an unavailable Gmail's cause, which cannot be copied, is kept as
    /// text, and an internal error's stays with the original.
    pub fn copied(&self) -> GmailError {
        use GmailError::*;
        let text = |source: &Option<Cause>| caused_by(source);
        match self {
            NotFound { what } => NotFound { what: what.clone() },
            InvalidArgument { field, message } => InvalidArgument {
                field: field.clone(),
                message: message.clone(),
            },
            TooLarge {
                message,
                limit_bytes,
            } => TooLarge {
                message: message.clone(),
                limit_bytes: *limit_bytes,
            },
            MissingScope { scope } => MissingScope {
                scope: scope.clone(),
            },
            RateLimited { retry_after } => RateLimited {
                retry_after: *retry_after,
            },
            UpstreamTimeout { after, sent_as } => UpstreamTimeout {
                after: *after,
                sent_as: sent_as.clone(),
            },
            UpstreamUnavailable { message, source } => UpstreamUnavailable {
                message: format!("{message}{}", text(source)),
                source: None,
            },
            AuthExpired { message } => AuthExpired {
                message: message.clone(),
            },
            Reauthorize { account, link } => Reauthorize {
                account: account.clone(),
                link: link.clone(),
            },
            Conflict { message } => Conflict {
                message: message.clone(),
            },
            Refused { message } => Refused {
                message: message.clone(),
            },
            Forbidden { message } => Forbidden {
                message: message.clone(),
            },
            TooManyRequests {
                message,
                retry_after,
            } => TooManyRequests {
                message: message.clone(),
                retry_after: *retry_after,
            },
            SendCapReached {
                message,
                retry_after,
            } => SendCapReached {
                message: message.clone(),
                retry_after: *retry_after,
            },
            // The cause is the operator's (logged with the original), never the caller's.
            Internal { message, .. } => Internal {
                message: message.clone(),
                source: None,
            },
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        GmailError::NotFound { what: what.into() }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        GmailError::InvalidArgument {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        GmailError::Internal {
            message: message.into(),
            source: None,
        }
    }

    /// An internal failure caused by `source`: "internal error: {context}: {source}".
    pub fn internal_from(context: impl Into<String>, source: impl Into<Cause>) -> Self {
        GmailError::Internal {
            message: context.into(),
            source: Some(source.into()),
        }
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        GmailError::UpstreamUnavailable {
            message: message.into(),
            source: None,
        }
    }

    /// Gmail (or Google's OAuth) could not be reached or read, because of `source`.
    pub fn unavailable_from(context: impl Into<String>, source: impl Into<Cause>) -> Self {
        GmailError::UpstreamUnavailable {
            message: context.into(),
            source: Some(source.into()),
        }
    }

    /// A stable, machine-readable name for the class of failure.
    pub fn kind(&self) -> &'static str {
        self.class().0
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.class().1).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn title(&self) -> &'static str {
        self.class().2
    }

    /// Each variant's kind, HTTP status code and title, one row a variant.
    fn class(&self) -> (&'static str, u16, &'static str) {
        use GmailError::*;
        match self {
            NotFound { .. } => ("not-found", 404, "Not found"),
            InvalidArgument { .. } => ("invalid-argument", 400, "Invalid argument"),
            TooLarge { .. } => ("too-large", 413, "Payload too large"),
            MissingScope { .. } => ("missing-scope", 403, "Missing OAuth scope"),
            RateLimited { .. } => ("rate-limited", 429, "Gmail rate limit reached"),
            UpstreamUnavailable { .. } => ("upstream-unavailable", 502, "Gmail unavailable"),
            UpstreamTimeout { .. } => ("upstream-unavailable", 504, "Gmail did not answer"),
            AuthExpired { .. } | Reauthorize { .. } => {
                ("auth-expired", 401, "Gmail authorization expired")
            }
            Conflict { .. } => ("conflict", 409, "Conflict"),
            Refused { .. } => ("refused", 403, "Refused by policy"),
            Forbidden { .. } => ("forbidden", 403, "Forbidden"),
            SendCapReached { .. } => ("send-cap", 429, "Daily send cap reached"),
            TooManyRequests { .. } => ("too-many-requests", 429, "Too many requests"),
            Internal { .. } => ("internal", 500, "Internal error"),
        }
    }

    /// The request field at fault, for invalid-argument errors.
    pub fn field(&self) -> Option<&str> {
        match self {
            GmailError::InvalidArgument { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The text of an MCP `isError` tool result: what happened and what the agent can do.
    pub fn tool_message(&self) -> String {
        format!("Error ({}): {}", self.kind(), self.public_message())
    }

    /// What a caller is told. An internal error's cause (a database or library message,
    /// maybe naming tables or paths) is the operator's: it is logged here and left out.
    pub fn public_message(&self) -> String {
        match self {
            GmailError::Internal { message, source } => {
                tracing::error!(error = %self, cause = ?source, "internal error");
                format!("internal error: {message} (the server's log has the cause)")
            }
            GmailError::Reauthorize {
                account,
                link: Some(link),
            } => format!(
                "the connection to {account} was revoked or expired; re-authorize it: open {link} (or call gmail_get_auth_url)"
            ),
            other => other.to_string(),
        }
    }
}

/// A caller's JSON `value` as a `T` (tool arguments, request bodies). On failure: the field at
/// fault by its JSON path (`ids[1]`, `criteria.from`), which serde_json alone leaves out of
/// type errors; at the top level the field serde names, if any; and what is wrong.
pub fn from_json_value<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, (Option<String>, String)> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        let field = match path.as_str() {
            "." => named_field(&message).map(str::to_owned),
            _ => Some(path),
        };
        (field, message)
    })
}

/// The field a top-level serde error names (`missing field `to``, `unknown field `tooo``).
pub(crate) fn named_field(message: &str) -> Option<&str> {
    ["missing field `", "unknown field `", "duplicate field `"]
        .iter()
        .find_map(|p| message.strip_prefix(p)?.split('`').next())
        .filter(|f| !f.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_maps_to_its_status() {
        let cases = [
            (GmailError::not_found("message 123"), 404),
            (GmailError::invalid("to", "not an address"), 400),
            (
                GmailError::TooLarge {
                    message: "attachment too large".into(),
                    limit_bytes: 25 << 20,
                },
                413,
            ),
            (
                GmailError::MissingScope {
                    scope: "https://mail.google.com/".into(),
                },
                403,
            ),
            (GmailError::RateLimited { retry_after: None }, 429),
            (GmailError::unavailable("503"), 502),
            (
                GmailError::AuthExpired {
                    message: "invalid_grant".into(),
                },
                401,
            ),
            (
                GmailError::Conflict {
                    message: "label exists".into(),
                },
                409,
            ),
        ];
        for (err, status) in cases {
            assert_eq!(err.status().as_u16(), status, "{err}");
            assert_eq!(err.status().as_u16(), status);
        }
    }

    #[test]
    fn causes_are_kept_as_sources_and_named_in_the_message() {
        use std::error::Error;
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let e = GmailError::internal_from("cannot write the file", io);
        assert_eq!(
            e.to_string(),
            "internal error: cannot write the file: denied"
        );
        let source = e.source().expect("the cause is kept");
        let io = source
            .downcast_ref::<std::io::Error>()
            .expect("as its own type");
        assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
        let e = GmailError::unavailable("503");
        assert!(e.source().is_none());
        assert_eq!(e.to_string(), "Gmail is unavailable: 503");
    }

    #[test]
    fn too_large_states_the_limit() {
        let err = GmailError::TooLarge {
            message: "attachment report.pdf is too large".into(),
            limit_bytes: 26_214_400,
        };
        assert!(err.to_string().contains("26214400"));
    }
}
