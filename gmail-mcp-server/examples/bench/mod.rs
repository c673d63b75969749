//! What the benchmark and soak examples share: parsers for their flags (clap's derive reads
//! the flags), percentiles, and a process's memory as `/proc` tells it. (A folder without `main.rs`, so cargo does not take it for an
//! example of its own; each example includes it with `#[path]`.)

#![allow(dead_code)] // each example uses part of it

use std::time::Duration;

/// The server under test: where it listens and, for its memory, its process.
#[derive(clap::Args)]
pub struct Target {
    /// The server's base URL
    #[arg(long, default_value = "http://127.0.0.1:8001", value_parser = base_url)]
    pub url: String,
    /// The server's process id, for its memory (and open descriptors)
    #[arg(long)]
    pub pid: Option<u32>,
}

/// A server's base URL, without a trailing `/`.
pub fn base_url(v: &str) -> Result<String, String> {
    Ok(v.trim_end_matches('/').to_string())
}

/// A whole number of at least 1.
pub fn at_least_one<T: std::str::FromStr<Err = std::num::ParseIntError> + From<u8> + PartialOrd>(
    v: &str,
) -> Result<T, String> {
    match v.parse::<T>() {
        Ok(n) if n >= T::from(1) => Ok(n),
        Ok(_) => Err("must be at least 1".into()),
        Err(e) => Err(e.to_string()),
    }
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
