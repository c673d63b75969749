//! Request rates per caller, and failed authentications per address (`governor` token
//! buckets, kept per process: with N instances a caller may get up to N times the rate).
//! Each transport enforces them at its edge: REST answers 429 with Retry-After, an MCP tool
//! call answers an isError result that says when to retry.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::LimitSettings;
use crate::error::GmailError;

/// Keys a limiter remembers before it forgets the idle ones.
const MAX_KEYS: usize = 10_000;

/// No limits by default (what tests and tools building an env by hand get); servers build
/// theirs from the settings.
#[derive(Default)]
pub struct RateLimits {
    caller: Option<DefaultKeyedRateLimiter<String>>,
    failed_auth: Option<DefaultKeyedRateLimiter<IpAddr>>,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("caller", &self.caller.is_some())
            .field("failed_auth", &self.failed_auth.is_some())
            .finish()
    }
}

fn quota(per_minute: u32, burst: u32) -> Option<Quota> {
    let per_minute = NonZeroU32::new(per_minute)?;
    let burst = NonZeroU32::new(burst.max(1)).expect("at least one");
    Some(Quota::per_minute(per_minute).allow_burst(burst))
}

impl RateLimits {
    pub fn from_settings(limits: &LimitSettings) -> RateLimits {
        RateLimits {
            caller: quota(limits.caller_per_minute, limits.caller_burst).map(RateLimiter::keyed),
            failed_auth: quota(limits.failed_auth_per_minute, limits.failed_auth_burst)
                .map(RateLimiter::keyed),
        }
    }

    /// Takes one request from `caller`'s bucket (an API key id, or `local` in single-user
    /// mode); the refusal says when to retry.
    pub fn check_caller(&self, caller: &str) -> Result<(), GmailError> {
        take(
            self.caller.as_ref(),
            &caller.to_string(),
            "caller_rate",
            "too many requests from this caller (limits.caller_per_minute)",
        )
    }

    /// Counts a failed authentication from `ip`; past the limit, the answer is 429 instead
    /// of 401, so keys cannot be guessed at speed.
    pub fn failed_auth(&self, ip: IpAddr) -> Result<(), GmailError> {
        take(
            self.failed_auth.as_ref(),
            &ip,
            "failed_auth",
            "too many failed authentications from this address (limits.failed_auth_per_minute)",
        )
    }
}

/// Takes one cell from `key`'s bucket (none without a limit). Past the limit: a rejection
/// counted under `metric`, and a 429 that says `what` and when to retry.
fn take<K: Clone + Eq + Hash>(
    limiter: Option<&DefaultKeyedRateLimiter<K>>,
    key: &K,
    metric: &'static str,
    what: &str,
) -> Result<(), GmailError> {
    let Some(limiter) = limiter else {
        return Ok(());
    };
    if limiter.len() > MAX_KEYS {
        limiter.retain_recent();
    }
    limiter.check_key(key).map_err(|not_until| {
        crate::metrics::rejection(metric);
        let wait = not_until
            .wait_time_from(DefaultClock::default().now())
            .max(Duration::from_secs(1));
        GmailError::TooManyRequests {
            message: format!("{what}; retry after {} s", wait.as_secs()),
            retry_after: wait,
        }
    })
}
