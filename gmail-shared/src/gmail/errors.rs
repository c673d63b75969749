//! Classifying google-gmail1 failures (Google's error envelope, HTTP failures, token
//! failures) into the shared [`GmailError`].

use std::time::Duration;

use serde_json::Value;

use super::scopes;
use crate::error::GmailError;

impl From<google_gmail1::Error> for GmailError {
    fn from(err: google_gmail1::Error) -> Self {
        use google_gmail1::Error as E;
        match err {
            E::BadRequest(body) => from_envelope(&body),
            E::Failure(response) => from_status(response.status().as_u16(), ""),
            E::MissingToken(e) => match e.downcast::<GmailError>() {
                Ok(ours) => *ours,
                Err(other) => GmailError::AuthExpired {
                    message: other.to_string(),
                },
            },
            E::HttpError(e) => GmailError::unavailable_from("connection to Gmail failed", e),
            E::Io(e) => GmailError::unavailable_from("I/O error talking to Gmail", e),
            E::UploadSizeLimitExceeded(size, limit) => GmailError::TooLarge {
                message: format!("the message is {size} bytes, over Gmail's upload limit"),
                limit_bytes: limit,
            },
            E::JsonDecodeError(_, e) => {
                GmailError::unavailable_from("Gmail sent a response that could not be read", e)
            }
            other => GmailError::internal_from("the Gmail client failed", other),
        }
    }
}

/// Maps Google's `{"error":{"code","message","errors":[{"reason"}],"status"}}` envelope.
pub fn from_envelope(body: &Value) -> GmailError {
    let error = &body["error"];
    let code = error["code"].as_u64().unwrap_or(0) as u16;
    let message = error["message"].as_str().unwrap_or("").to_string();
    let reason = error["errors"][0]["reason"].as_str().unwrap_or("");
    match (code, reason) {
        (403, "userRateLimitExceeded" | "rateLimitExceeded" | "dailyLimitExceeded") => {
            GmailError::RateLimited {
                retry_after: retry_after_from_message(&message),
            }
        }
        (403, "insufficientPermissions") | (403, _) if is_scope_problem(error) => {
            GmailError::MissingScope {
                scope: required_scope(error),
            }
        }
        _ => from_status(code, &message),
    }
}

fn is_scope_problem(error: &Value) -> bool {
    let reason = error["errors"][0]["reason"].as_str().unwrap_or("");
    let message = error["message"].as_str().unwrap_or("");
    reason == "insufficientPermissions" || message.contains("insufficient authentication scopes")
}

/// Gmail does not say which scope was missing; the full-mail scope is the one that unlocks
/// every method (permanent deletes need exactly it).
fn required_scope(_error: &Value) -> String {
    scopes::FULL.to_string()
}

fn from_status(code: u16, message: &str) -> GmailError {
    let message = if message.is_empty() {
        format!("Gmail answered HTTP {code}")
    } else {
        message.to_string()
    };
    match code {
        400 => GmailError::InvalidArgument {
            field: "request".into(),
            message,
        },
        401 => GmailError::AuthExpired { message },
        // Not a scope (the envelope says so): a Workspace policy, delegation, the API off for
        // the project. Asking the user to consent again would fix nothing; Gmail's words might.
        403 => GmailError::Forbidden {
            message: format!("Gmail refused: {message}"),
        },
        404 => GmailError::NotFound { what: message },
        409 => GmailError::Conflict { message },
        413 => GmailError::TooLarge {
            message,
            limit_bytes: crate::mail::MAX_MESSAGE_BYTES,
        },
        429 => GmailError::RateLimited {
            retry_after: retry_after_from_message(&message),
        },
        500..=599 => GmailError::unavailable(message),
        _ => GmailError::internal(format!("unexpected Gmail answer {code}: {message}")),
    }
}

/// Gmail puts the instant in the text ("User-rate limit exceeded.  Retry after
/// 2026-09-11T20:00:00.000Z"), not in a Retry-After header.
pub(crate) fn retry_after_from_message(message: &str) -> Option<Duration> {
    let at = message.split("Retry after ").nth(1)?.trim();
    let at = chrono::DateTime::parse_from_rfc3339(at).ok()?;
    let secs = (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds();
    Some(Duration::from_secs(secs.max(1) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope(code: u16, reason: &str, message: &str) -> Value {
        json!({"error": {"code": code, "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}]}})
    }

    #[test]
    fn classifies_googles_error_bodies() {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/gmail-api/fixtures");
        let cases = [
            ("error.404.notFound.modern.json", "not-found"),
            ("error.400.badRequest.docs.json", "invalid-argument"),
            ("error.401.authError.docs.json", "auth-expired"),
            ("error.403.rateLimitExceeded.docs.json", "rate-limited"),
            ("error.403.userRateLimitExceeded.docs.json", "rate-limited"),
            ("error.429.tooManyConcurrent.json", "rate-limited"),
            ("error.500.backendError.docs.json", "upstream-unavailable"),
            ("error.409.labelExists.reported.json", "conflict"),
            (
                "error.403.insufficientPermissions.composite.json",
                "missing-scope",
            ),
        ];
        for (file, kind) in cases {
            let path = fixtures.join(file);
            let Ok(text) = std::fs::read_to_string(&path) else {
                // The shared reference sits beside the repository; without it use our own copy.
                continue;
            };
            let body: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(from_envelope(&body).kind(), kind, "{file}");
        }
        assert_eq!(
            from_envelope(&envelope(
                404,
                "notFound",
                "Requested entity was not found."
            ))
            .kind(),
            "not-found"
        );
        assert_eq!(
            from_envelope(&envelope(
                403,
                "insufficientPermissions",
                "Request had insufficient authentication scopes."
            ))
            .kind(),
            "missing-scope"
        );
        // Other refusals keep Gmail's words and do not send the user to consent again.
        for (reason, message) in [
            ("forbidden", "Delegation denied for boss@example.com"),
            (
                "accessNotConfigured",
                "Gmail API has not been used in project 123 before or it is disabled.",
            ),
        ] {
            let e = from_envelope(&envelope(403, reason, message));
            assert_eq!(e.kind(), "forbidden", "{reason}");
            assert!(e.to_string().contains(message), "{e}");
        }
    }

    #[test]
    fn reads_the_retry_instant_from_the_message() {
        let at = (chrono::Utc::now() + chrono::Duration::seconds(30))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let body = envelope(
            429,
            "rateLimitExceeded",
            &format!("User-rate limit exceeded.  Retry after {at}"),
        );
        match from_envelope(&body) {
            GmailError::RateLimited {
                retry_after: Some(d),
            } => assert!((25..=31).contains(&d.as_secs()), "{d:?}"),
            other => panic!("{other:?}"),
        }
    }
}
