//! Soak benchmark for a running gmail-mcp-server over legacy SSE (scripts/soak starts the
//! sandbox and the server and runs this). Prints numbers; asserts nothing.
//!
//! `--sessions` SSE sessions each make mixed read-only tool calls (search_emails, read_email,
//! list_email_labels, get_profile, get_thread, list_drafts) with `--think-ms` between them
//! until the time is up, while the sandbox fails `--fault-rate` of upstream requests (half
//! 500 backendError, half 429). Every `--report-secs` it prints the interval's throughput and
//! latency and the server's RSS and open descriptors (RSS should stay flat); at the end a
//! summary with error counts and the sandbox's upstream request totals.
//!
//! cargo run --release -p gmail-mcp-server --example mcp-soak -- --url http://127.0.0.1:8001 \
//!     --pid 1234 --sandbox-url http://127.0.0.1:8002 --sessions 100 --seconds 60

#[path = "../bench/mod.rs"]
mod bench;
#[path = "../../tests/integration/common/mod.rs"]
#[allow(unused_imports)]
mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bench::{at_least_one, base_url, status_kib, Target};
use clap::Parser;
use common::{Event, SseClient};
use serde_json::{json, Value};

/// Soak benchmark for a running gmail-mcp-server over legacy SSE.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    target: Target,
    /// The sandbox's base URL, to inject faults and read its counters
    #[arg(long, value_parser = base_url)]
    sandbox_url: Option<String>,
    /// The sandbox's process id
    #[arg(long)]
    sandbox_pid: Option<u32>,
    /// SSE sessions
    #[arg(long, default_value = "500", value_parser = at_least_one::<usize>)]
    sessions: usize,
    /// How long to run
    #[arg(long, default_value_t = 10)]
    minutes: u64,
    /// How long to run, for quick runs (wins over --minutes)
    #[arg(long)]
    seconds: Option<u64>,
    /// The share of upstream requests the sandbox fails, 0 to 1
    #[arg(long, default_value_t = 0.05, value_parser = rate)]
    fault_rate: f64,
    /// Pause between a session's calls
    #[arg(long, default_value_t = 200)]
    think_ms: u64,
    /// Seconds between reports
    #[arg(long, default_value = "60", value_parser = at_least_one::<u64>)]
    report_secs: u64,
    /// Seconds a call may take
    #[arg(long, default_value = "60", value_parser = at_least_one::<u64>)]
    call_timeout_secs: u64,
}

impl Args {
    fn duration(&self) -> Duration {
        Duration::from_secs(self.seconds.unwrap_or(self.minutes * 60))
    }

    fn think(&self) -> Duration {
        Duration::from_millis(self.think_ms)
    }

    fn report(&self) -> Duration {
        Duration::from_secs(self.report_secs)
    }

    fn call_timeout(&self) -> Duration {
        Duration::from_secs(self.call_timeout_secs)
    }
}

fn rate(v: &str) -> Result<f64, String> {
    match v.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        Ok(_) => Err("must be between 0 and 1".into()),
        Err(e) => Err(e.to_string()),
    }
}

mod stats;

use stats::{Hist, Outcome, Stats, TOOLS};

struct Ctx {
    url: String,
    http: reqwest::Client,
    deadline: Instant,
    think: Duration,
    call_timeout: Duration,
    ids: Ids,
    stats: Mutex<Stats>,
    reconnects: AtomicU64,
}

/// xorshift64*: enough to pick ids and jitter, without a rand dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    }
}

/// Message and thread ids from the inbox, for read_email and get_thread.
struct Ids {
    messages: Vec<String>,
    threads: Vec<String>,
}

fn arguments(tool: &str, ids: &Ids, rng: &mut Rng) -> Value {
    match tool {
        "search_emails" => json!({"query": "in:inbox", "maxResults": 10}),
        "read_email" => json!({"messageId": ids.messages[rng.below(ids.messages.len())]}),
        "get_thread" => json!({"threadId": ids.threads[rng.below(ids.threads.len())]}),
        _ => json!({}),
    }
}

/// One tools/call; see `rpc`.
async fn call(
    http: &reqwest::Client,
    client: &mut SseClient,
    id: i64,
    tool: &str,
    arguments: Value,
    timeout: Duration,
) -> (Option<Duration>, Outcome) {
    let params = json!({"name": tool, "arguments": arguments});
    rpc(http, client, id, "tools/call", params, timeout).await
}

/// One request: POST, then wait on the stream for the reply with this id (replies to earlier
/// calls that timed out are skipped). The latency is POST to reply.
async fn rpc(
    http: &reqwest::Client,
    client: &mut SseClient,
    id: i64,
    method: &str,
    params: Value,
    timeout: Duration,
) -> (Option<Duration>, Outcome) {
    let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    let started = Instant::now();
    let deadline = started + timeout;
    match tokio::time::timeout(timeout, http.post(&client.endpoint).json(&body).send()).await {
        Err(_) => return (None, Outcome::Timeout),
        Ok(Err(e)) => {
            return (
                None,
                Outcome::Transport(format!("POST failed: {}", chain(&e))),
            )
        }
        Ok(Ok(resp)) if resp.status() != 202 => {
            let status = resp.status();
            let text = format!("POST {status}: {}", resp.text().await.unwrap_or_default());
            if status == 404 {
                return (None, Outcome::SessionGone(text));
            }
            return (None, Outcome::Transport(text));
        }
        // Read the (empty) body so the connection goes back to the pool.
        Ok(Ok(resp)) => drop(resp.bytes().await),
    }
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match client.next_event(left).await {
            None if Instant::now() >= deadline => return (None, Outcome::Timeout),
            None => return (None, Outcome::SessionGone("SSE stream ended".into())),
            Some(Event::Named { event, data }) if event == "message" => {
                let Ok(msg) = serde_json::from_str::<Value>(&data) else {
                    continue;
                };
                if msg["id"] != json!(id) {
                    continue;
                }
                let latency = Some(started.elapsed());
                if let Some(err) = msg.get("error") {
                    return (latency, Outcome::RpcError(err["message"].to_string()));
                }
                if msg["result"]["isError"] == json!(true) {
                    let text = common::text_of(&msg["result"]).to_string();
                    return (latency, Outcome::ToolError(text));
                }
                return (latency, Outcome::Ok(msg));
            }
            Some(_) => continue,
        }
    }
}

/// An error with its causes (reqwest's own text hides what actually went wrong).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// An initialized SSE session; None if opening failed (the helpers panic on failure, so the
/// attempt runs in its own task).
async fn open(url: &str, http: &reqwest::Client) -> Option<SseClient> {
    let (url, http) = (url.to_string(), http.clone());
    tokio::spawn(async move {
        let mut c = SseClient::connect_with(&url, http).await;
        c.initialize().await;
        c
    })
    .await
    .ok()
}

/// Calls until the deadline; returns the session so it stays open until every session is done
/// (the end-of-run RSS is then comparable with the start).
async fn run_session(idx: usize, mut client: SseClient, ctx: Arc<Ctx>) -> SseClient {
    let mut rng = Rng::new(idx as u64 + 1);
    // Spread the first calls over one think time so sessions do not move in lockstep.
    let jitter = ctx.think.as_millis().max(1) as usize;
    tokio::time::sleep(Duration::from_millis(rng.below(jitter) as u64)).await;
    let mut id = 0i64;
    while Instant::now() < ctx.deadline {
        let tool = (idx + id as usize) % TOOLS.len();
        id += 1;
        let args = arguments(TOOLS[tool], &ctx.ids, &mut rng);
        let (latency, outcome) = call(
            &ctx.http,
            &mut client,
            id,
            TOOLS[tool],
            args,
            ctx.call_timeout,
        )
        .await;
        let gone = matches!(outcome, Outcome::SessionGone(_));
        ctx.stats.lock().unwrap().record(tool, latency, outcome);
        if gone {
            // A dropped stream is an error worth counting, not a reason to shrink the load.
            loop {
                ctx.reconnects.fetch_add(1, Ordering::Relaxed);
                if let Some(c) = open(&ctx.url, &ctx.http).await {
                    client = c;
                    break;
                }
                if Instant::now() >= ctx.deadline {
                    return client;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        tokio::time::sleep(ctx.think).await;
    }
    client
}

// ---- process figures from /proc ----

/// The server's RSS (MiB) sampled every second during the load; `warm` is the value at the
/// first report, after allocator and connection warm-up, the fair base for "stays flat".
#[derive(Default, Clone, Copy)]
struct RssTrack {
    min: Option<f64>,
    max: Option<f64>,
    warm: Option<f64>,
}

fn rss_mib(pid: Option<u32>) -> Option<f64> {
    status_kib(&pid?.to_string(), "VmRSS:").map(|kib| kib as f64 / 1024.0)
}

fn open_fds(pid: Option<u32>) -> Option<usize> {
    Some(
        std::fs::read_dir(format!("/proc/{}/fd", pid?))
            .ok()?
            .count(),
    )
}

/// utime + stime in clock ticks (USER_HZ, 100 on Linux).
fn cpu_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name, which may itself contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn show_mib(v: Option<f64>) -> String {
    v.map_or("?".into(), |v| format!("{v:.1}"))
}

fn pct(n: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        n as f64 * 100.0 / of as f64
    }
}

// ---- sandbox admin ----

async fn sandbox_post(http: &reqwest::Client, base: &str, path: &str, body: Value) -> bool {
    match http.post(format!("{base}{path}")).json(&body).send().await {
        Ok(r) if r.status().is_success() => true,
        Ok(r) => {
            eprintln!("mcp-soak: POST {path}: {}", r.status());
            false
        }
        Err(e) => {
            eprintln!("mcp-soak: POST {path}: {e}");
            false
        }
    }
}

async fn sandbox_stats(http: &reqwest::Client, base: &str) -> Option<Value> {
    let r = http
        .get(format!("{base}/__sandbox/stats"))
        .send()
        .await
        .ok()?;
    r.json().await.ok()
}

/// Message and thread ids from one inbox search (before faults are on, so it cannot fail on
/// purpose).
async fn collect_ids(http: &reqwest::Client, client: &mut SseClient) -> Ids {
    let args = json!({"query": "in:inbox", "maxResults": 50});
    for id in 1..=5 {
        let timeout = Duration::from_secs(30);
        let (_, outcome) = call(http, client, -id, "search_emails", args.clone(), timeout).await;
        let Outcome::Ok(msg) = outcome else {
            continue;
        };
        let list = msg["result"]["structuredContent"]["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let ids = |key: &str| -> Vec<String> {
            let mut v: Vec<String> = list
                .iter()
                .filter_map(|m| m[key].as_str().map(String::from))
                .collect();
            v.sort();
            v.dedup();
            v
        };
        return Ids {
            messages: ids("id"),
            threads: ids("threadId"),
        };
    }
    Ids {
        messages: Vec::new(),
        threads: Vec::new(),
    }
}

/// Gmail API requests one call of each tool costs with no faults (warm: a first call fills any
/// cache), so the summary can tell retries from ordinary traffic.
async fn calibrate(
    http: &reqwest::Client,
    sandbox: &str,
    client: &mut SseClient,
    ids: &Ids,
) -> Option<Vec<u64>> {
    let mut rng = Rng::new(7);
    let mut cost = Vec::with_capacity(TOOLS.len());
    for (i, tool) in TOOLS.iter().enumerate() {
        let timeout = Duration::from_secs(30);
        let id = -100 - 2 * i as i64;
        call(
            http,
            client,
            id,
            tool,
            arguments(tool, ids, &mut rng),
            timeout,
        )
        .await;
        sandbox_post(http, sandbox, "/__sandbox/stats/reset", json!({})).await;
        let args = arguments(tool, ids, &mut rng);
        let (_, outcome) = call(http, client, id - 1, tool, args, timeout).await;
        if !matches!(outcome, Outcome::Ok(_)) {
            println!("calibration: {tool} failed, so no retry overhead figure");
            return None;
        }
        cost.push(sandbox_stats(http, sandbox).await?["totalRequests"].as_u64()?);
    }
    Some(cost)
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    // One client for every session: one connection pool, no per-session resolver. No overall
    // timeout, since the SSE GETs stay open for the whole run. Idle pooled connections are
    // dropped before the server's 5 s keep-alive closes them, or a POST can race that close
    // and fail through no fault of the server.
    let http = reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(3))
        .build()
        .expect("http client");
    println!(
        "soak: {} sessions for {}s, think {} ms, fault rate {:.1}%, server {} pid {:?}, RSS {} MiB",
        args.sessions,
        args.duration().as_secs(),
        args.think().as_millis(),
        args.fault_rate * 100.0,
        args.target.url,
        args.target.pid,
        show_mib(rss_mib(args.target.pid)),
    );

    // Open in waves so the accept queue is not what is measured.
    let started = Instant::now();
    let mut clients = Vec::with_capacity(args.sessions);
    let mut failed = 0;
    let mut remaining = args.sessions;
    while remaining > 0 {
        let wave = remaining.min(100);
        remaining -= wave;
        let opening: Vec<_> = (0..wave)
            .map(|_| {
                let (url, http) = (args.target.url.clone(), http.clone());
                tokio::spawn(async move { open(&url, &http).await })
            })
            .collect();
        for t in opening {
            match t.await.ok().flatten() {
                Some(c) => clients.push(c),
                None => failed += 1,
            }
        }
    }
    println!(
        "opened and initialized {} SSE sessions in {:.2}s ({failed} failed)",
        clients.len(),
        started.elapsed().as_secs_f64()
    );
    if clients.is_empty() {
        eprintln!("mcp-soak: no session opened");
        std::process::exit(1);
    }

    // A tool the server hides (toolsets) would turn a sixth of the run into JSON-RPC errors.
    let timeout = Duration::from_secs(30);
    let (_, listed) = rpc(
        &http,
        &mut clients[0],
        -1000,
        "tools/list",
        json!({}),
        timeout,
    )
    .await;
    let Outcome::Ok(listed) = listed else {
        eprintln!("mcp-soak: tools/list failed");
        std::process::exit(1);
    };
    let names: Vec<&str> = listed["result"]["tools"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["name"].as_str()).collect())
        .unwrap_or_default();
    let missing: Vec<&str> = TOOLS.into_iter().filter(|t| !names.contains(t)).collect();
    if !missing.is_empty() {
        eprintln!(
            "mcp-soak: the server does not offer {} (turn them on, e.g. GMAIL_TOOLS)",
            missing.join(", ")
        );
        std::process::exit(1);
    }

    let ids = collect_ids(&http, &mut clients[0]).await;
    if ids.messages.is_empty() || ids.threads.is_empty() {
        eprintln!("mcp-soak: the inbox search found no message or thread ids");
        std::process::exit(1);
    }
    println!(
        "{} message ids and {} thread ids from in:inbox",
        ids.messages.len(),
        ids.threads.len()
    );
    let cost = match &args.sandbox_url {
        Some(sb) => calibrate(&http, sb, &mut clients[0], &ids).await,
        None => None,
    };
    if let Some(cost) = &cost {
        let each: Vec<String> = TOOLS
            .iter()
            .zip(cost)
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        println!(
            "Gmail API requests per call without faults: {}",
            each.join(", ")
        );
    }

    if let Some(sb) = &args.sandbox_url {
        sandbox_post(&http, sb, "/__sandbox/stats/reset", json!({})).await;
        let half = args.fault_rate / 2.0;
        let faults = json!({"error_rate": half, "rate_limit_rate": half});
        if sandbox_post(&http, sb, "/__sandbox/faults", faults.clone()).await {
            println!("sandbox faults: {faults}");
        }
    } else {
        println!("no --sandbox-url: no faults injected, no upstream stats");
    }

    let start_rss = rss_mib(args.target.pid);
    // CPU of the server, the sandbox and this generator: on a small machine they share the
    // cores, and a saturated machine explains latency that the server alone would not.
    let cpu_pids: Vec<Option<String>> = vec![
        args.target.pid.map(|p| p.to_string()),
        args.sandbox_pid.map(|p| p.to_string()),
        Some("self".into()),
    ];
    let ctx = Arc::new(Ctx {
        url: args.target.url.clone(),
        http: http.clone(),
        deadline: Instant::now() + args.duration(),
        think: args.think(),
        call_timeout: args.call_timeout(),
        ids,
        stats: Mutex::new(Stats::new()),
        reconnects: AtomicU64::new(0),
    });
    println!(
        "start: server RSS {} MiB, {} open fds",
        show_mib(start_rss),
        open_fds(args.target.pid).map_or("?".into(), |n| n.to_string())
    );

    let load_started = Instant::now();
    let sessions: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, c)| tokio::spawn(run_session(i, c, ctx.clone())))
        .collect();

    // Sample RSS every second for min/max; print a line every --report-secs.
    let rss_track = Arc::new(Mutex::new(RssTrack::default()));
    let reporter = {
        let (ctx, rss_track, report) = (ctx.clone(), rss_track.clone(), args.report());
        let pid = args.target.pid;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            tick.tick().await; // the first tick is immediate
            let every = report.as_secs();
            let mut ticks = 0u64;
            let mut last = Instant::now();
            let mut last_calls = 0;
            let cpu = || -> Vec<Option<u64>> {
                cpu_pids
                    .iter()
                    .map(|p| p.as_deref().and_then(cpu_ticks))
                    .collect()
            };
            let mut last_cpu = cpu();
            loop {
                tick.tick().await;
                let rss = rss_mib(pid);
                ticks += 1;
                let report_now = ticks.is_multiple_of(every);
                if let Some(r) = rss {
                    let mut t = rss_track.lock().unwrap();
                    t.min = Some(t.min.map_or(r, |m| m.min(r)));
                    t.max = Some(t.max.map_or(r, |m| m.max(r)));
                    if report_now && t.warm.is_none() {
                        t.warm = Some(r);
                    }
                }
                if !report_now {
                    continue;
                }
                let secs = last.elapsed().as_secs_f64();
                last = Instant::now();
                let (counts, p50, p99) = {
                    let mut s = ctx.stats.lock().unwrap();
                    let q = (s.interval.quantile_ms(0.5), s.interval.quantile_ms(0.99));
                    s.interval = Hist::new();
                    (s.counts, q.0, q.1)
                };
                let now_cpu = cpu();
                // Ticks are 1/100 s, so ticks per second is a percentage of one core.
                let usage = |i: usize| match (now_cpu[i], last_cpu[i]) {
                    (Some(n), Some(b)) => format!("{:.0}%", (n - b) as f64 / secs),
                    _ => "?".into(),
                };
                println!(
                    "[{:>4}s] calls {:>7} ({:>5.0}/s)  p50 {:>7.2} ms  p99 {:>8.2} ms  errors {:>5}  \
                     RSS {:>6} MiB  fds {:>5}  cpu server {:>4} sandbox {:>4} gen {:>4}",
                    load_started.elapsed().as_secs(),
                    counts.calls,
                    (counts.calls - last_calls) as f64 / secs,
                    p50,
                    p99,
                    counts.errors(),
                    show_mib(rss),
                    open_fds(pid).map_or("?".into(), |n| n.to_string()),
                    usage(0),
                    usage(1),
                    usage(2),
                );
                last_calls = counts.calls;
                last_cpu = now_cpu;
            }
        })
    };

    let mut clients = Vec::with_capacity(sessions.len());
    let mut crashed = 0;
    for s in sessions {
        match s.await {
            Ok(c) => clients.push(c),
            Err(_) => crashed += 1,
        }
    }
    let load_secs = load_started.elapsed().as_secs_f64();
    reporter.abort();
    let end_rss = rss_mib(args.target.pid);
    let end_fds = open_fds(args.target.pid);
    let upstream = match &args.sandbox_url {
        Some(sb) => {
            let stats = sandbox_stats(&http, sb).await;
            sandbox_post(&http, sb, "/__sandbox/faults", json!({})).await;
            stats
        }
        None => None,
    };
    drop(clients);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let closed_rss = rss_mib(args.target.pid);

    let s = ctx.stats.lock().unwrap();
    let c = s.counts;
    let rss = *rss_track.lock().unwrap();
    println!();
    println!(
        "== summary: {} calls in {load_secs:.0}s ({:.0}/s) over {} sessions; {} reconnects, {} session tasks crashed",
        c.calls,
        c.calls as f64 / load_secs,
        args.sessions - failed,
        ctx.reconnects.load(Ordering::Relaxed),
        crashed,
    );
    println!(
        "latency (answered calls): p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        s.total.quantile_ms(0.5),
        s.total.quantile_ms(0.9),
        s.total.quantile_ms(0.99),
        s.total.max_ms(),
    );
    for (name, t) in TOOLS.iter().zip(&s.per_tool) {
        println!(
            "  {name:<18} {:>7} calls  p50 {:>7.2} ms  p99 {:>8.2} ms  max {:>8.2} ms  errors {}",
            t.calls,
            t.answered.quantile_ms(0.5),
            t.answered.quantile_ms(0.99),
            t.answered.max_ms(),
            t.errors
        );
    }
    println!(
        "errors: tool (isError) {} ({:.3}%), JSON-RPC {} ({:.3}%), timeouts {} ({:.3}%), transport {} ({:.3}%)",
        c.tool_errors,
        pct(c.tool_errors, c.calls),
        c.rpc_errors,
        pct(c.rpc_errors, c.calls),
        c.timeouts,
        pct(c.timeouts, c.calls),
        c.transport,
        pct(c.transport, c.calls),
    );
    for (text, n) in &s.samples {
        println!("  {n:>6} x {text}");
    }
    if s.unsampled > 0 {
        println!("  {:>6} x (other error texts)", s.unsampled);
    }
    println!(
        "server RSS: start {} MiB, at the first report {} MiB, during the load min {} / max {} MiB, \
         end {} MiB; after closing the sessions {} MiB; fds at end {}",
        show_mib(start_rss),
        show_mib(rss.warm),
        show_mib(rss.min),
        show_mib(rss.max),
        show_mib(end_rss),
        show_mib(closed_rss),
        end_fds.map_or("?".into(), |n| n.to_string()),
    );
    println!(
        "load generator RSS {} MiB",
        show_mib(status_kib("self", "VmRSS:").map(|k| k as f64 / 1024.0))
    );
    if let Some(u) = upstream {
        let total = u["totalRequests"].as_u64().unwrap_or(0);
        println!(
            "sandbox: {total} Gmail API requests ({:.2} per tool call), {} HTTP requests, token grants {}",
            total as f64 / c.calls.max(1) as f64,
            u["httpRequests"],
            u["tokenGrants"],
        );
        if let Some(cost) = &cost {
            // What the same calls cost without faults; the rest is retries.
            let expected: u64 = s.per_tool.iter().zip(cost).map(|(t, n)| t.calls * n).sum();
            println!(
                "  without faults these calls would have made {expected}: retry overhead {:+.1}%",
                (total as f64 / expected.max(1) as f64 - 1.0) * 100.0
            );
        }
        if let Some(methods) = u["requests"].as_object() {
            let line: Vec<String> = methods.iter().map(|(m, n)| format!("{m} {n}")).collect();
            println!("  {}", line.join(", "));
        }
    }
    println!(
        "soak: {} calls, p50 {:.2} ms, p99 {:.2} ms, errors {} ({:.3}%), RSS {} -> {} MiB",
        c.calls,
        s.total.quantile_ms(0.5),
        s.total.quantile_ms(0.99),
        c.errors(),
        pct(c.errors(), c.calls),
        show_mib(start_rss),
        show_mib(end_rss),
    );
}
