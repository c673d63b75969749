//! Gmail's per-user quota, budgeted before Google refuses: every call waits until its
//! mailbox has the units Google will charge for it (15,000 units per user per minute,
//! `gmail.quota_units_per_minute`; per-method costs from Google's "Usage limits" table).
//! Calls wait rather than fail; the budget is per process.

use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

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
        | "UserSettingGetVacationCall"
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
        "UserMessageBatchDeleteCall" | "UserMessageBatchModifyCall" => 50,
        "UserMessageSendCall" | "UserDraftSendCall" => 100,
        _ => 5,
    }
}

/// Units of a messages.get, what each part of a metadata batch costs.
pub const MESSAGE_GET_UNITS: u32 = 5;

/// Token buckets of quota units, one per mailbox.
#[derive(Default)]
pub struct QuotaBudget {
    limiter: Option<DefaultKeyedRateLimiter<String>>,
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
        let limiter = NonZeroU32::new(per_minute).map(|rate| {
            let burst = NonZeroU32::new(burst.max(100)).expect("at least 100");
            RateLimiter::keyed(Quota::per_minute(rate).allow_burst(burst))
        });
        QuotaBudget { limiter }
    }

    /// Waits until `account` has `units` to spend, then spends them.
    pub async fn spend(&self, account: &str, units: u32) {
        let (Some(limiter), Some(units)) = (&self.limiter, NonZeroU32::new(units)) else {
            return;
        };
        if limiter.len() > 10_000 {
            limiter.retain_recent();
        }
        // More than one burst at once can never fit: let it through rather than stall.
        let _ = limiter.until_key_n_ready(&account.to_string(), units).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_cost_what_google_charges() {
        assert_eq!(
            units_of_call("google_gmail1::api::UserGetProfileCall<'_, C>"),
            1
        );
        assert_eq!(
            units_of_call("google_gmail1::api::UserMessageGetCall<'_, C>"),
            5
        );
        assert_eq!(
            units_of_call("google_gmail1::api::UserThreadGetCall<'_, C>"),
            10
        );
        assert_eq!(
            units_of_call("google_gmail1::api::UserMessageBatchModifyCall<'_, C>"),
            50
        );
        assert_eq!(
            units_of_call("google_gmail1::api::UserMessageSendCall<'_, C>"),
            100
        );
        assert_eq!(units_of_call("something else"), 5);
    }
}
