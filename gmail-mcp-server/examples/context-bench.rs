//! What an agent reads and waits for, against a running gmail-mcp-server on the demo mailbox
//! (scripts/bench-context starts the sandbox and the servers and runs this). Prints each
//! measure next to its budget from issue 10; exits 1 when one is over.
//!
//! - tool definitions (name + description + inputSchema, compact JSON) of the default toolset,
//!   and the largest single tool, from `tools/list` over Streamable HTTP;
//! - `search_emails` `in:inbox` maxResults 10, text content bytes;
//! - `read_email` over the 10 newest inbox messages, text content bytes summed;
//! - `ping` p50/p99 on one reused keep-alive connection: `/mcp`, legacy `/sse`, and REST
//!   `GET /health` when `--rest` is given.
//!
//! cargo run --release -p gmail-mcp-server --example context-bench -- --url http://127.0.0.1:8001

#[path = "bench/mod.rs"]
mod bench;
#[path = "../tests/integration/common/mod.rs"]
#[allow(unused_imports)]
mod common;

use std::time::{Duration, Instant};

use bench::{base_url, percentile};
use clap::Parser;
use common::{init_params, parse_block, ping_round_trips, Event};
use serde_json::{json, Value};

const DEFINITIONS_BUDGET: usize = 10_000;
const TOOL_BUDGET: usize = 20_000;
const SEARCH_BUDGET: usize = 900;
const READ_BUDGET: usize = 3_000;
const PING_P50_BUDGET_MS: f64 = 2.0;

/// What an agent reads and waits for, against a running gmail-mcp-server.
#[derive(Parser)]
struct Args {
    /// The MCP server's base URL
    #[arg(long, default_value = "http://127.0.0.1:8001", value_parser = base_url)]
    url: String,
    /// The REST server's base URL, to measure it too
    #[arg(long, value_parser = base_url)]
    rest: Option<String>,
    /// Pings timed
    #[arg(long, default_value_t = 500)]
    pings: usize,
    /// Print the measured texts
    #[arg(long)]
    show: bool,
}

/// A Streamable HTTP session on one keep-alive connection.
struct Streamable {
    http: reqwest::Client,
    url: String,
    session: String,
    next_id: i64,
}

impl Streamable {
    async fn open(base: &str, toolsets: &str) -> Streamable {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-mcp-toolsets", toolsets.parse().unwrap());
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .pool_max_idle_per_host(1)
            .build()
            .unwrap();
        let mut s = Streamable {
            http,
            url: format!("{base}/mcp"),
            session: String::new(),
            next_id: 0,
        };
        let mut params = init_params();
        params["protocolVersion"] = json!("2025-06-18");
        let resp = s
            .http
            .post(&s.url)
            .header("accept", "application/json, text/event-stream")
            .json(&json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params}))
            .send()
            .await
            .expect("initialize");
        s.session = resp.headers()["mcp-session-id"]
            .to_str()
            .unwrap()
            .to_string();
        let _ = resp.text().await;
        s.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        s
    }

    async fn send(&self, body: Value) -> Vec<Value> {
        let text = self
            .http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-session-id", &self.session)
            .header("mcp-protocol-version", "2025-06-18")
            .json(&body)
            .send()
            .await
            .expect("POST /mcp")
            .text()
            .await
            .unwrap_or_default();
        if let Ok(v) = serde_json::from_str::<Value>(&text) {
            return vec![v];
        }
        text.split("\n\n")
            .filter_map(|block| match parse_block(block) {
                Some(Event::Named { data, .. }) => serde_json::from_str(&data).ok(),
                _ => None,
            })
            .collect()
    }

    async fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let messages = self
            .send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        messages
            .into_iter()
            .find(|m| m["id"] == json!(id))
            .unwrap_or_else(|| panic!("no answer to {method}"))
    }

    async fn call(&mut self, tool: &str, arguments: Value) -> String {
        let reply = self
            .request("tools/call", json!({"name": tool, "arguments": arguments}))
            .await;
        let result = &reply["result"];
        assert_eq!(result["isError"], json!(false), "{tool}: {reply}");
        result["content"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn definition_bytes(tool: &Value) -> usize {
    json!({"name": tool["name"], "description": tool["description"], "inputSchema": tool["inputSchema"]})
        .to_string()
        .len()
}

/// The `p` quantile of sorted samples, in milliseconds.
fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    percentile(sorted, p).as_secs_f64() * 1000.0
}

struct Report {
    over: usize,
}

impl Report {
    fn row(&mut self, what: &str, value: String, budget: String, ok: bool) {
        if !ok {
            self.over += 1;
        }
        println!(
            "{what:<58} {value:>14}   budget {budget:<12} {}",
            if ok { "ok" } else { "OVER" }
        );
    }

    fn latency(&mut self, what: &str, mut samples: Vec<Duration>) {
        samples.sort();
        let p50 = percentile_ms(&samples, 0.5);
        self.row(
            what,
            format!("p50 {p50:.2} ms"),
            format!("p50 <= {PING_P50_BUDGET_MS} ms"),
            p50 <= PING_P50_BUDGET_MS,
        );
        println!(
            "{:<58} {:>14}",
            "",
            format!("p99 {:.2} ms", percentile_ms(&samples, 0.99))
        );
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let mut report = Report { over: 0 };

    // Definitions: the default toolset as a client with no narrowing sees it, and every tool
    // (the server is expected to run with all toolsets on, narrowed here per request).
    let mut default = Streamable::open(&args.url, "default").await;
    let listed = default.request("tools/list", json!({})).await;
    let tools = listed["result"]["tools"].as_array().cloned().unwrap();
    let bytes: usize = tools.iter().map(definition_bytes).sum();
    report.row(
        &format!("tool definitions, default toolset ({} tools)", tools.len()),
        format!("{bytes} bytes"),
        format!("<= {DEFINITIONS_BUDGET}"),
        bytes <= DEFINITIONS_BUDGET,
    );
    let mut every = Streamable::open(&args.url, "all").await;
    let all = every.request("tools/list", json!({})).await;
    let all = all["result"]["tools"].as_array().cloned().unwrap();
    let (largest, name) = all
        .iter()
        .map(|t| {
            (
                definition_bytes(t),
                t["name"].as_str().unwrap_or("").to_string(),
            )
        })
        .max()
        .unwrap();
    let total: usize = all.iter().map(definition_bytes).sum();
    report.row(
        &format!("largest tool definition ({name})"),
        format!("{largest} bytes"),
        format!("<= {TOOL_BUDGET}"),
        largest <= TOOL_BUDGET,
    );
    println!(
        "{:<58} {:>14}",
        format!("  (all toolsets: {} tools)", all.len()),
        format!("{total} bytes")
    );

    // Results in the default (concise) format.
    let search = default
        .call(
            "search_emails",
            json!({"query": "in:inbox", "maxResults": 10}),
        )
        .await;
    if args.show {
        println!("--- search_emails in:inbox\n{search}\n---");
    }
    report.row(
        "search_emails in:inbox, maxResults 10",
        format!("{} bytes", search.len()),
        format!("<= {SEARCH_BUDGET}"),
        search.len() <= SEARCH_BUDGET,
    );
    let detailed = every
        .call(
            "search_emails",
            json!({"query": "in:inbox", "maxResults": 10, "responseFormat": "detailed"}),
        )
        .await;
    let ids: Vec<String> = every
        .request(
            "tools/call",
            json!({"name": "search_emails", "arguments": {"query": "in:inbox", "maxResults": 10}}),
        )
        .await["result"]["structuredContent"]["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["id"].as_str().map(str::to_string))
        .collect();
    println!(
        "{:<58} {:>14}",
        "  (responseFormat detailed)",
        format!("{} bytes", detailed.len())
    );
    let mut read = 0;
    for id in &ids {
        let text = default.call("read_email", json!({"messageId": id})).await;
        if args.show {
            println!("--- read_email {id}\n{text}\n---");
        }
        read += text.len();
    }
    report.row(
        &format!(
            "read_email over the {} newest inbox messages, summed",
            ids.len()
        ),
        format!("{read} bytes"),
        format!("<= {READ_BUDGET}"),
        read <= READ_BUDGET && ids.len() == 10,
    );

    // Latency on one reused connection.
    let samples = ping_round_trips(&args.url, args.pings, true).await;
    report.latency(
        "Streamable HTTP /mcp ping, one keep-alive connection",
        samples,
    );
    let samples = ping_round_trips(&args.url, args.pings, false).await;
    report.latency(
        "legacy SSE ping (POST /message, answer on the stream)",
        samples,
    );

    if let Some(rest) = &args.rest {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()
            .unwrap();
        let mut samples = Vec::with_capacity(args.pings);
        for _ in 0..args.pings {
            let started = Instant::now();
            let resp = http.get(format!("{rest}/health")).send().await.unwrap();
            let _ = resp.bytes().await;
            samples.push(started.elapsed());
        }
        report.latency("REST GET /health, one keep-alive connection", samples);
    }

    if report.over > 0 {
        println!("{} measure(s) over budget", report.over);
        std::process::exit(1);
    }
    println!("every measure within its budget");
}
