//! The Gmail operations: plain async functions over a [`Mailbox`] and a typed request,
//! returning a typed result or a [`GmailError`]. They know nothing of HTTP, JSON-RPC or
//! sessions; MCP tools and REST handlers are thin adapters over them.

use crate::error::GmailError;
pub use crate::mailbox::{Mailbox, SingleMailbox};
pub use ids::{AttachmentId, DraftId, FilterId, LabelId, MessageId, ThreadId};

/// One Gmail call on `$mailbox` under its retry policy: `idempotent` (retried on transient
/// failures) or `once` (retried only when Gmail refused it); answers a [`GmailError`] result.
/// The closure form builds the call from `users()`. A macro, because each google-gmail1 call
/// builder is its own type and no trait carries `delegate` and `doit`. With `upload raw`, the
/// built message `raw` travels as the media half of a multipart upload (send, drafts); with
/// `large`, the answer may be as large as a whole message (raw or full formats, attachments),
/// which the deadline allows for. Every call ends by its deadline (retries included, after
/// the quota budget's wait), however Gmail behaves. Defined before the `mod` lines below, so
/// every operation module sees it.
macro_rules! gmail_call {
    // The mailbox's quota budget first: what Google charges, by the call's type.
    (@charged $mailbox:expr, $call:expr) => {{
        let call = $call;
        let units = crate::gmail::quota::units_of_call(std::any::type_name_of_val(&call));
        $mailbox.spend_quota(units).await?;
        call
    }};
    (@run $mailbox:expr, $policy:ident, $call:expr, $bytes:expr) => {{
        let call = gmail_call!(@charged $mailbox, $call);
        let retry = $mailbox.retry();
        crate::gmail::retry::within(
            retry.deadline($bytes),
            call.delegate(&mut retry.$policy()).doit(),
        )
        .await
    }};
    ($mailbox:expr, $policy:ident, |$users:ident| $call:expr, large) => {{
        let $users = $mailbox.hub().users();
        gmail_call!(@run $mailbox, $policy, $call, crate::mail::MAX_MESSAGE_BYTES as usize)
    }};
    ($mailbox:expr, $policy:ident, |$users:ident| $call:expr $(, upload $raw:expr)?) => {{
        let $users = $mailbox.hub().users();
        gmail_call!($mailbox, $policy, $call $(, upload $raw)?)
    }};
    ($mailbox:expr, $policy:ident, $call:expr) => {{
        gmail_call!(@run $mailbox, $policy, $call, 0)
    }};
    ($mailbox:expr, $policy:ident, $call:expr, upload $raw:expr) => {{
        let call = gmail_call!(@charged $mailbox, $call);
        let raw = $raw;
        let retry = $mailbox.retry();
        crate::gmail::retry::within(
            retry.deadline(raw.len()),
            call.delegate(&mut retry.$policy())
                .upload(std::io::Cursor::new(raw), crate::ops::outgoing::rfc822()),
        )
        .await
    }};
}

/// messages.list and threads.list take the same search parameters (query, labels, page);
/// as with [`gmail_call`], their builders share no trait.
macro_rules! with_search {
    ($call:expr, $req:expr, $label_ids:expr) => {{
        let req = $req;
        let mut call = $call
            .max_results(req.max_results.get())
            .include_spam_trash(req.include_spam_trash);
        if !req.query.trim().is_empty() {
            call = call.q(&req.query);
        }
        for label in $label_ids {
            call = call.add_label_ids(label);
        }
        if let Some(token) = req.page_token.as_deref().filter(|t| !t.is_empty()) {
            call = call.page_token(token);
        }
        call
    }};
}

pub mod audit;
pub mod compose;
pub mod policy;
pub mod profile;
pub mod read;
pub mod send;

pub mod attachments;
pub mod drafts;
pub mod filters;
pub mod history;
pub mod ids;
pub mod labels;
pub mod messages;
pub mod outgoing;
pub mod settings;
pub mod threads;

/// A page size for Gmail's list calls, 1 to [`PageSize::MAX`]. It is checked once, where a
/// caller's `maxResults` is read; the operations take it as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(u32);

impl PageSize {
    /// The largest page Gmail's list calls return.
    pub const MAX: u32 = 500;

    /// A size fixed in the code (checked when it is built).
    pub const fn fixed(n: u32) -> PageSize {
        assert!(n >= 1 && n <= Self::MAX, "a page size is 1 to 500");
        PageSize(n)
    }

    /// A caller's `maxResults`, or `default` when it gave none.
    pub fn parse(value: Option<u32>, default: PageSize) -> Result<PageSize, GmailError> {
        match value {
            None => Ok(default),
            Some(n @ 1..=Self::MAX) => Ok(PageSize(n)),
            Some(_) => Err(GmailError::invalid(
                "maxResults",
                format!("must be between 1 and {}", Self::MAX),
            )),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// Gmail's own default for its list calls.
impl Default for PageSize {
    fn default() -> Self {
        PageSize(100)
    }
}

/// The `format=metadata` form of many messages, threads or drafts (`resource`), by id, in as
/// few upstream requests as the batch endpoint allows, in order; `None` for one deleted since
/// it was listed. The ids come from Gmail's own lists, but go into URLs: each is checked.
pub(crate) async fn batch_metadata<'a, T: serde::de::DeserializeOwned>(
    mailbox: &Mailbox,
    resource: &str,
    ids: impl IntoIterator<Item = &'a str>,
    headers: &[&str],
) -> Result<Vec<Option<T>>, GmailError> {
    let kind = resource.trim_end_matches('s');
    let query: String = headers
        .iter()
        .map(|h| format!("&metadataHeaders={h}"))
        .collect();
    let paths = ids
        .into_iter()
        .map(|id| {
            let id = ids::parse(kind, id).map_err(|e| GmailError::invalid("id", e))?;
            Ok(format!(
                "/gmail/v1/users/me/{resource}/{id}?format=metadata{query}"
            ))
        })
        .collect::<Result<Vec<String>, GmailError>>()?;
    if paths.is_empty() {
        return Ok(vec![]);
    }
    // Google charges each part as the get it holds.
    let units = crate::gmail::quota::units_of_call(match resource {
        "threads" => "UserThreadGetCall",
        "drafts" => "UserDraftGetCall",
        _ => "UserMessageGetCall",
    });
    let results = crate::gmail::batch::batch_get::<T>(mailbox.connection(), &paths, units).await?;
    results
        .into_iter()
        .map(|r| match r {
            Ok(item) => Ok(Some(item)),
            Err(GmailError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        })
        .collect()
}

/// Gmail's 403 does not say which scope was missing; the operation knows.
pub(crate) fn scope_needed(scope: &'static str) -> impl Fn(GmailError) -> GmailError {
    move |e| match e {
        GmailError::MissingScope { .. } => GmailError::MissingScope {
            scope: scope.to_string(),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::PageSize;

    #[test]
    fn a_page_size_is_one_to_five_hundred_or_the_default() {
        let ten = PageSize::fixed(10);
        assert_eq!(PageSize::parse(None, ten).unwrap(), ten);
        assert_eq!(PageSize::parse(Some(500), ten).unwrap().get(), 500);
        for bad in [0, 501] {
            let e = PageSize::parse(Some(bad), ten).unwrap_err().to_string();
            assert!(e.contains("maxResults") && e.contains("1 and 500"), "{e}");
        }
        assert_eq!(PageSize::default().get(), 100);
    }
}
