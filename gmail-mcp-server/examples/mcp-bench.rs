//! Load benchmark for a running gmail-mcp-server over legacy SSE (scripts/bench-mcp starts the
//! sandbox and the server and runs this). Prints numbers; asserts nothing beyond "it answered".
//!
//! 0. One client pinging sequentially on one keep-alive connection, over `/mcp` and `/sse`:
//!    the per-request overhead (p50/p99).
//! 1. `--sessions` SSE sessions, each calling `--tool` `--calls` times back to back, all at
//!    once: tool-call latency (POST to reply on the stream) p50/p90/p99/max, throughput, and
//!    the server's peak RSS (VmHWM).
//! 2. `--idle` SSE sessions opened and initialized, then left idle: RSS delta per session.
//!
//! Multi-user servers and clusters: `--key` sends an API key on every request (and skips
//! phase 0); `--mixed` rotates get_profile, search_emails and list_threads; `--relay URL`
//! measures pings on a stream held at `--url` posted there and posted to URL (another
//! instance, which relays them through the database).
//!
//! cargo run --release -p gmail-mcp-server --example mcp-bench -- --url http://127.0.0.1:8001 --pid 1234

#[path = "bench/mod.rs"]
mod bench;
#[path = "../tests/integration/common/mod.rs"]
#[allow(unused_imports)]
mod common;

use std::time::{Duration, Instant};

use bench::{base_url, percentile, status_kib, Target};
use clap::Parser;
use common::{ping_round_trips, SseClient};
use serde_json::{json, Value};

/// Load benchmark for a running gmail-mcp-server over legacy SSE.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    target: Target,
    /// SSE sessions calling at once
    #[arg(long, default_value_t = 200)]
    sessions: usize,
    /// Calls per session
    #[arg(long, default_value_t = 20)]
    calls: usize,
    /// The tool called
    #[arg(long, default_value = "get_profile")]
    tool: String,
    /// Its arguments, as JSON
    #[arg(long, default_value = "{}", value_parser = json_arguments)]
    arguments: Value,
    /// Idle sessions opened for the memory phase
    #[arg(long, default_value_t = 2000)]
    idle: usize,
    /// An API key sent on every request (multi-user servers)
    #[arg(long)]
    key: Option<String>,
    /// Rotate get_profile, search_emails and list_threads
    #[arg(long)]
    mixed: bool,
    /// Another instance to post pings to (clusters)
    #[arg(long, value_parser = base_url)]
    relay: Option<String>,
}

fn json_arguments(v: &str) -> Result<Value, String> {
    serde_json::from_str(v).map_err(|e| e.to_string())
}

/// (VmRSS, VmHWM) in KiB.
fn memory(pid: Option<u32>) -> Option<(u64, u64)> {
    let pid = pid?.to_string();
    Some((status_kib(&pid, "VmRSS:")?, status_kib(&pid, "VmHWM:")?))
}

/// An HTTP client that sends the API key, when there is one.
fn http_client(key: Option<&str>) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(key) = key {
        headers.insert(
            "authorization",
            format!("Bearer {key}").parse().expect("a header value"),
        );
    }
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("a client")
}

/// The call number `n` of a session: the one tool, or (`--mixed`) one of three reads.
fn call_of(args: &Args, n: usize) -> (String, Value) {
    if !args.mixed {
        return (args.tool.clone(), args.arguments.clone());
    }
    match n % 3 {
        0 => ("get_profile".into(), json!({})),
        1 => (
            "search_emails".into(),
            json!({"query": "in:inbox", "maxResults": 3}),
        ),
        _ => ("list_threads".into(), json!({"query": "in:inbox"})),
    }
}

/// Sequential pings on one SSE stream held at `url`, posted to `post_base`.
async fn stream_pings(url: &str, post_base: &str, key: Option<&str>, n: usize) -> Vec<Duration> {
    let mut c = SseClient::connect_with(url, http_client(key)).await;
    c.initialize().await;
    c.endpoint = format!("{post_base}/message?sessionId={}", c.session_id);
    let mut out = Vec::with_capacity(n);
    for id in 0..n as i64 {
        let started = Instant::now();
        c.request(id + 100, "ping", json!({})).await;
        out.push(started.elapsed());
    }
    out.sort();
    out
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let before = memory(args.target.pid);
    println!(
        "server {} pid {:?}: RSS before {:?} KiB",
        args.target.url,
        args.target.pid,
        before.map(|m| m.0)
    );

    if let Some(relay) = &args.relay {
        let key = args.key.as_deref();
        let direct = stream_pings(&args.target.url, &args.target.url, key, 300).await;
        let relayed = stream_pings(&args.target.url, relay, key, 300).await;
        println!(
            "SSE ping posted to the instance holding the stream: p50 {}  p99 {}",
            ms(percentile(&direct, 0.50)),
            ms(percentile(&direct, 0.99))
        );
        println!(
            "SSE ping posted to another instance (relayed): p50 {}  p99 {}  (added p50 {})",
            ms(percentile(&relayed, 0.50)),
            ms(percentile(&relayed, 0.99)),
            ms(percentile(&relayed, 0.50).saturating_sub(percentile(&direct, 0.50)))
        );
        return;
    }

    // Phase 0: one client, one keep-alive connection, sequential pings.
    let pings: &[(&str, bool)] = if args.key.is_some() {
        &[]
    } else {
        &[("Streamable HTTP /mcp", true), ("legacy SSE", false)]
    };
    for &(name, streamable) in pings {
        let mut samples = ping_round_trips(&args.target.url, 500, streamable).await;
        samples.sort();
        println!(
            "{name} ping on one connection: p50 {}  p99 {}",
            ms(percentile(&samples, 0.50)),
            ms(percentile(&samples, 0.99))
        );
    }

    // Phase 1: concurrent tool calls.
    let connect_started = Instant::now();
    let mut opening = Vec::new();
    for _ in 0..args.sessions {
        let url = args.target.url.clone();
        let http = http_client(args.key.as_deref());
        opening.push(tokio::spawn(async move {
            let mut c = SseClient::connect_with(&url, http).await;
            c.initialize().await;
            c
        }));
    }
    let mut clients = Vec::new();
    for t in opening {
        clients.push(t.await.expect("session opens"));
    }
    println!(
        "opened and initialized {} SSE sessions in {}",
        clients.len(),
        ms(connect_started.elapsed())
    );

    let calls_started = Instant::now();
    let mut running = Vec::new();
    for (i, mut c) in clients.into_iter().enumerate() {
        let plan: Vec<(String, Value)> = (0..args.calls).map(|n| call_of(&args, i + n)).collect();
        let calls = args.calls;
        running.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(calls);
            let mut errors = 0usize;
            for (id, (tool, arguments)) in (1..=calls as i64).zip(plan) {
                let started = Instant::now();
                let reply = c.call_tool(id, &tool, arguments).await;
                latencies.push(started.elapsed());
                if reply["result"]["isError"] != json!(false) {
                    if errors == 0 && id == 1 {
                        eprintln!("tool error: {reply}");
                    }
                    errors += 1;
                }
            }
            (c, latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut clients = Vec::new();
    for t in running {
        let (c, l, e) = t.await.expect("session runs");
        latencies.extend(l);
        errors += e;
        clients.push(c);
    }
    let elapsed = calls_started.elapsed();
    latencies.sort();
    println!(
        "{} calls of {} over {} sessions in {}: {:.0} calls/s, {} tool errors",
        latencies.len(),
        if args.mixed {
            "mixed tools"
        } else {
            &args.tool
        },
        clients.len(),
        ms(elapsed),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        errors
    );
    println!(
        "tool-call latency: p50 {}  p90 {}  p99 {}  max {}",
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.90)),
        ms(percentile(&latencies, 0.99)),
        ms(percentile(&latencies, 1.0)),
    );
    if let Some((rss, hwm)) = memory(args.target.pid) {
        println!("server RSS now {rss} KiB, peak (VmHWM) {hwm} KiB");
    }
    drop(clients);
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Phase 2: idle sessions.
    if args.idle == 0 {
        return;
    }
    let base = memory(args.target.pid).map(|m| m.0);
    let started = Instant::now();
    let mut idle = Vec::with_capacity(args.idle);
    // Open in waves so the accept queue is not the thing being measured.
    for wave in (0..args.idle).collect::<Vec<_>>().chunks(200) {
        let mut opening = Vec::new();
        for _ in wave {
            let url = args.target.url.clone();
            let http = http_client(args.key.as_deref());
            opening.push(tokio::spawn(async move {
                let mut c = SseClient::connect_with(&url, http).await;
                c.initialize().await;
                c
            }));
        }
        for t in opening {
            idle.push(t.await.expect("idle session opens"));
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = memory(args.target.pid).map(|m| m.0);
    println!(
        "opened {} idle SSE sessions in {}",
        idle.len(),
        ms(started.elapsed())
    );
    if let (Some(base), Some(after)) = (base, after) {
        let per = (after.saturating_sub(base) as f64) / idle.len() as f64;
        println!(
            "idle sessions: RSS {base} KiB -> {after} KiB, {per:.1} KiB per open session (target <= 64 KiB)"
        );
    }
    if let Some((_, hwm)) = memory(args.target.pid) {
        println!("server peak RSS (VmHWM) {hwm} KiB");
    }
}
