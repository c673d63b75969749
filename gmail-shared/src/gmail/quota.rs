//! Gmail's per-user quota, budgeted before Google refuses: every call waits until its
//! mailbox has the units Google will charge for it (15,000 units per user per minute,
//! `gmail.quota_units_per_minute`; per-method costs from Google's "Usage limits" table).
//! Calls wait rather than fail, up to the retry budget (`gmail.retry_max_wait_secs`), then
//! are refused as rate-limited without asking Gmail; the budget is per process.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::GmailError;

/// Units Google charges for a google-gmail1 call, by its builder type's name (what
/// `std::any::type_name_of_val` gives the `gmail_call!` macro); 5 for anything unlisted.
pub fn units_of_call(type_name: &str) -> u32 {
    let name = type_name
        .split('<')
        .next()
        .unwrap_or(type_name)
        .rsplit("::")
        .next()
        .unwrap_or("");
    match name {
        "UserGetProfileCall"
        | "UserLabelListCall"
        | "UserLabelGetCall"
        | "UserSettingFilterGetCall"
        | "UserSettingFilterListCall"
        | "UserSettingGetAutoForwardingCall"
        | "UserSettingGetImapCall"
        | "UserSettingGetLanguageCall"
        | "UserSettingGetPopCall"
        | "UserSettingGetVacationCall"
        | "UserSettingForwardingAddressGetCall"
        | "UserSettingForwardingAddressListCall"
        | "UserSettingSendAGetCall"
        | "UserSettingSendAListCall" => 1,
        "UserHistoryListCall" => 2,
        "UserMessageDeleteCall"
        | "UserDraftCreateCall"
        | "UserDraftDeleteCall"
        | "UserThreadGetCall"
        | "UserThreadListCall"
        | "UserThreadModifyCall"
        | "UserThreadTrashCall"
        | "UserThreadUntrashCall" => 10,
        "UserDraftUpdateCall" => 15,
        "UserThreadDeleteCall" => 20,
        "UserMessageImportCall" | "UserMessageInsertCall" => 25,
        "UserMessageBatchDeleteCall" | "UserMessageBatchModifyCall" | "UserStopCall" => 50,
        "UserMessageSendCall"
        | "UserDraftSendCall"
        | "UserWatchCall"
        | "UserSettingUpdatePopCall"
        | "UserSettingSendACreateCall"
        | "UserSettingSendAPatchCall"
        | "UserSettingSendAUpdateCall"
        | "UserSettingSendAVerifyCall" => 100,
        _ => 5,
    }
}

/// Token buckets of quota units, one per mailbox.
#[derive(Default)]
pub struct QuotaBudget {
    limiter: Option<DefaultKeyedRateLimiter<String>>,
    /// The most one wait can take; a larger spend is taken in pieces of this size.
    burst: u32,
}

impl std::fmt::Debug for QuotaBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuotaBudget")
            .field("on", &self.limiter.is_some())
            .finish()
    }
}

impl QuotaBudget {
    /// `per_minute` units refilled evenly, bursts of `burst` units; 0: no budget.
    pub fn new(per_minute: u32, burst: u32) -> QuotaBudget {
        let burst = burst.max(100);
        let limiter = NonZeroU32::new(per_minute).map(|rate| {
            let burst = NonZeroU32::new(burst).expect("at least 100");
            RateLimiter::keyed(Quota::per_minute(rate).allow_burst(burst))
        });
        QuotaBudget { limiter, burst }
    }

    /// Waits until `account` has `units` to spend, then spends them; refused as rate-limited
    /// when that would take longer than `at_most` (callers queued on one busy mailbox must
    /// not wait without end).
    pub async fn spend(
        &self,
        account: &str,
        units: u32,
        at_most: Duration,
    ) -> Result<(), GmailError> {
        let (Some(limiter), Some(units)) = (&self.limiter, NonZeroU32::new(units)) else {
            return Ok(());
        };
        if limiter.len() > 10_000 {
            limiter.retain_recent();
        }
        let key = account.to_string();
        let deadline = tokio::time::Instant::now() + at_most;
        // More than one burst can never be ready at once (the limiter refuses it outright,
        // and it used to pass uncounted): it is spent a burst at a time.
        let mut left = units.get();
        while let Some(piece) = NonZeroU32::new(left.min(self.burst)) {
            // Taken at once if there; else waited for, unless the wait is known to end past
            // the deadline: then refused now, saying how long, not after `at_most` of waiting.
            if let Ok(Err(not_until)) = limiter.check_key_n(&key, piece) {
                let wait = not_until.wait_time_from(limiter.clock().now());
                if tokio::time::Instant::now() + wait > deadline {
                    return Err(GmailError::RateLimited {
                        retry_after: Some(wait),
                    });
                }
                let ready = limiter.until_key_n_ready(&key, piece);
                if tokio::time::timeout_at(deadline, ready).await.is_err() {
                    return Err(GmailError::RateLimited {
                        retry_after: Some(at_most),
                    });
                }
            }
            left -= piece.get();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each google-gmail1 call and the Gmail method it makes.
    const CALLS: &[(&str, &str)] = &[
        ("UserGetProfileCall", "users.getProfile"),
        ("UserWatchCall", "users.watch"),
        ("UserStopCall", "users.stop"),
        ("UserHistoryListCall", "users.history.list"),
        ("UserDraftCreateCall", "users.drafts.create"),
        ("UserDraftDeleteCall", "users.drafts.delete"),
        ("UserDraftGetCall", "users.drafts.get"),
        ("UserDraftListCall", "users.drafts.list"),
        ("UserDraftSendCall", "users.drafts.send"),
        ("UserDraftUpdateCall", "users.drafts.update"),
        ("UserLabelCreateCall", "users.labels.create"),
        ("UserLabelDeleteCall", "users.labels.delete"),
        ("UserLabelGetCall", "users.labels.get"),
        ("UserLabelListCall", "users.labels.list"),
        ("UserLabelPatchCall", "users.labels.patch"),
        ("UserLabelUpdateCall", "users.labels.update"),
        (
            "UserMessageAttachmentGetCall",
            "users.messages.attachments.get",
        ),
        ("UserMessageBatchDeleteCall", "users.messages.batchDelete"),
        ("UserMessageBatchModifyCall", "users.messages.batchModify"),
        ("UserMessageDeleteCall", "users.messages.delete"),
        ("UserMessageGetCall", "users.messages.get"),
        ("UserMessageImportCall", "users.messages.import"),
        ("UserMessageInsertCall", "users.messages.insert"),
        ("UserMessageListCall", "users.messages.list"),
        ("UserMessageModifyCall", "users.messages.modify"),
        ("UserMessageSendCall", "users.messages.send"),
        ("UserMessageTrashCall", "users.messages.trash"),
        ("UserMessageUntrashCall", "users.messages.untrash"),
        (
            "UserSettingFilterCreateCall",
            "users.settings.filters.create",
        ),
        (
            "UserSettingFilterDeleteCall",
            "users.settings.filters.delete",
        ),
        ("UserSettingFilterGetCall", "users.settings.filters.get"),
        ("UserSettingFilterListCall", "users.settings.filters.list"),
        (
            "UserSettingForwardingAddressGetCall",
            "users.settings.forwardingAddresses.get",
        ),
        (
            "UserSettingForwardingAddressListCall",
            "users.settings.forwardingAddresses.list",
        ),
        (
            "UserSettingGetAutoForwardingCall",
            "users.settings.getAutoForwarding",
        ),
        ("UserSettingGetImapCall", "users.settings.getImap"),
        ("UserSettingGetLanguageCall", "users.settings.getLanguage"),
        ("UserSettingGetPopCall", "users.settings.getPop"),
        ("UserSettingGetVacationCall", "users.settings.getVacation"),
        (
            "UserSettingUpdateAutoForwardingCall",
            "users.settings.updateAutoForwarding",
        ),
        ("UserSettingUpdateImapCall", "users.settings.updateImap"),
        (
            "UserSettingUpdateLanguageCall",
            "users.settings.updateLanguage",
        ),
        ("UserSettingUpdatePopCall", "users.settings.updatePop"),
        (
            "UserSettingUpdateVacationCall",
            "users.settings.updateVacation",
        ),
        ("UserSettingSendACreateCall", "users.settings.sendAs.create"),
        ("UserSettingSendADeleteCall", "users.settings.sendAs.delete"),
        ("UserSettingSendAGetCall", "users.settings.sendAs.get"),
        ("UserSettingSendAListCall", "users.settings.sendAs.list"),
        ("UserSettingSendAPatchCall", "users.settings.sendAs.patch"),
        ("UserSettingSendAUpdateCall", "users.settings.sendAs.update"),
        ("UserSettingSendAVerifyCall", "users.settings.sendAs.verify"),
        ("UserThreadDeleteCall", "users.threads.delete"),
        ("UserThreadGetCall", "users.threads.get"),
        ("UserThreadListCall", "users.threads.list"),
        ("UserThreadModifyCall", "users.threads.modify"),
        ("UserThreadTrashCall", "users.threads.trash"),
        ("UserThreadUntrashCall", "users.threads.untrash"),
    ];

    /// The budget charges what Google charges: the sandbox's table is Google's "Usage
    /// limits" page, kept separately, so a cost mistyped in one of them shows here.
    #[test]
    fn every_call_costs_what_google_charges() {
        let wrong: Vec<String> = CALLS
            .iter()
            .filter_map(|(call, method)| {
                let ours = units_of_call(&format!("google_gmail1::api::{call}<'_, C>"));
                let google = gmail_sandbox::quota::method_cost(method);
                (ours != google).then(|| format!("{method}: {ours} budgeted, {google} charged"))
            })
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
        assert_eq!(units_of_call("something else"), 5);
    }

    /// A spend larger than one burst (a batch of threads.get) is counted, a burst at a time.
    #[tokio::test]
    async fn a_spend_over_one_burst_is_counted_not_waved_through() {
        let budget = QuotaBudget::new(60, 100);
        let short = Duration::from_millis(200);
        let asked = std::time::Instant::now();
        let refused = budget.spend("a@example.com", 250, short).await;
        assert!(
            matches!(refused, Err(GmailError::RateLimited { .. })),
            "{refused:?}"
        );
        // A wait known to end past the deadline is refused at once, saying how long: the
        // second hundred units come back at one a second.
        assert!(asked.elapsed() < short, "{:?}", asked.elapsed());
        let Err(GmailError::RateLimited {
            retry_after: Some(wait),
        }) = refused
        else {
            unreachable!()
        };
        assert!(wait > Duration::from_secs(90), "{wait:?}");
        // What it spent before the refusal is gone: the next small spend waits too.
        assert!(budget.spend("a@example.com", 10, short).await.is_err());
        // Another mailbox has its own budget.
        budget.spend("b@example.com", 100, short).await.unwrap();
    }
}
