//! What the benchmark and soak examples share: their flags, percentiles, and a process's
//! memory as `/proc` tells it. (A folder without `main.rs`, so cargo does not take it for an
//! example of its own; each example includes it with `#[path]`.)

#![allow(dead_code)] // each example uses part of it

use std::time::Duration;

/// The parsed flags, or, when they do not parse, the reason on stderr and exit code 2.
pub fn args_or_exit<A>(name: &str, parse: impl FnOnce() -> Result<A, String>) -> A {
    parse().unwrap_or_else(|e| {
        eprintln!("{name}: {e}");
        std::process::exit(2)
    })
}

/// A flag's value as a number, or why not, naming the flag.
pub fn num<T: std::str::FromStr>(flag: &str, v: String) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    v.parse().map_err(|e| format!("{flag}: {e}"))
}

/// The `p` quantile (0 to 1) of sorted samples; zero when there are none.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// A `/proc/{pid}/status` field in KiB (`VmRSS:`, `VmHWM:`); `pid` may be `self`.
pub fn status_kib(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}
