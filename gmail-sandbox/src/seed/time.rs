//! Dates: the demo user lives in Los Angeles; senders write `Date` in their own zone.

use chrono::TimeZone;
use chrono_tz::Tz;

/// The demo user's zone.
pub const LA: Tz = chrono_tz::America::Los_Angeles;

/// Milliseconds for a local time in Los Angeles.
pub fn la_ms(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
    let naive = chrono::NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|d| d.and_hms_opt(h, mi, 0))
        .unwrap_or_else(|| panic!("seed: bad date {y}-{mo}-{d} {h}:{mi}"));
    LA.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.timestamp_millis())
        .unwrap_or_else(|| panic!("seed: bad local time {y}-{mo}-{d} {h}:{mi}"))
}

/// [`la_ms`] of a `(year, month, day, hour, minute)` from the data files.
pub fn la_ms_at((y, mo, d, h, mi): (i32, u32, u32, u32, u32)) -> i64 {
    la_ms(y, mo, d, h, mi)
}

/// RFC 5322 date in the sender's zone (mail-builder only writes UTC).
pub fn rfc2822(ms: i64, tz: Tz) -> String {
    let dt = chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&tz);
    dt.format("%a, %d %b %Y %H:%M:%S %z").to_string()
}

/// A Los Angeles local rendering of `ms` in `fmt` (chrono's strftime).
pub fn ms_date(ms: i64, fmt: &str) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&LA)
        .format(fmt)
        .to_string()
}

/// Every `step_days` from a local date until `end` (exclusive), at `h:mi` local.
pub fn schedule(start: (i32, u32, u32), h: u32, mi: u32, step_days: i64, end: i64) -> Vec<i64> {
    let mut out = Vec::new();
    let mut t = la_ms(start.0, start.1, start.2, h, mi);
    while t < end {
        out.push(t);
        t += step_days * 86_400_000;
    }
    out
}

/// The latest timestamp any seeded message may have (2026-11-21, Los Angeles).
pub fn seed_end() -> i64 {
    la_ms(2026, 11, 21, 0, 0)
}
