//! Load generator: starts an in-process sandbox (or targets `--base-url`) and hammers
//! `messages.get(format=full)` and `messages.list(maxResults=100)` with concurrent HTTP/1.1
//! clients, printing requests/second and latency percentiles. Build with `--release`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use gmail_sandbox::{Sandbox, SandboxConfig};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

#[derive(Parser)]
#[command(about = "Benchmark the Gmail sandbox")]
struct Args {
    /// Concurrent connections.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seconds per scenario.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Benchmark an already running sandbox instead (e.g. http://127.0.0.1:8002/).
    #[arg(long)]
    base_url: Option<String>,
    /// Bearer token for --base-url (defaults to refreshing demo@example.com's well-known token).
    #[arg(long)]
    token: Option<String>,
}

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Empty<bytes::Bytes>>;

async fn get(client: &HttpClient, url: &str, token: &str) -> anyhow::Result<(u16, Vec<u8>)> {
    let req = hyper::Request::get(url)
        .header("authorization", format!("Bearer {token}"))
        .body(Empty::new())?;
    let resp = client.request(req).await?;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await?.to_bytes().to_vec();
    Ok((status, body))
}

async fn fetch_token(base: &str) -> anyhow::Result<String> {
    let body = format!(
        "grant_type=refresh_token&refresh_token={}&client_id={}&client_secret={}",
        gmail_sandbox::grants::well_known_refresh_token(gmail_sandbox::seed::DEMO_EMAIL),
        gmail_sandbox::SANDBOX_CLIENT_ID,
        gmail_sandbox::SANDBOX_CLIENT_SECRET
    );
    let c: Client<_, http_body_util::Full<bytes::Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let req = hyper::Request::post(format!("{base}token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))?;
    let resp = c.request(req).await?;
    let bytes = resp.into_body().collect().await?.to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&bytes)?;
    v["access_token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("no access_token in {v}"))
}

struct Outcome {
    ok: u64,
    errors: u64,
    latencies_us: Vec<u64>,
}

async fn scenario(
    name: &str,
    urls: Arc<Vec<String>>,
    token: Arc<String>,
    concurrency: usize,
    seconds: u64,
) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    let started = Instant::now();
    for worker in 0..concurrency {
        let urls = urls.clone();
        let token = token.clone();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            // One client (one keep-alive connection) per worker.
            let client: HttpClient = Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(1)
                .build_http();
            let mut out = Outcome {
                ok: 0,
                errors: 0,
                latencies_us: Vec::with_capacity(100_000),
            };
            let mut i = worker;
            while !stop.load(Ordering::Relaxed) {
                let url = &urls[i % urls.len()];
                i += concurrency;
                let t = Instant::now();
                match get(&client, url, &token).await {
                    Ok((200, _)) => out.ok += 1,
                    _ => out.errors += 1,
                }
                out.latencies_us.push(t.elapsed().as_micros() as u64);
            }
            out
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut ok = 0;
    let mut errors = 0;
    let mut lat = Vec::new();
    for t in tasks {
        let o = t.await?;
        ok += o.ok;
        errors += o.errors;
        lat.extend(o.latencies_us);
    }
    let elapsed = started.elapsed().as_secs_f64();
    lat.sort_unstable();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let idx = ((lat.len() as f64 - 1.0) * p).round() as usize;
        lat[idx] as f64 / 1000.0
    };
    println!(
        "{name:<28} {:>9.0} req/s   ok={ok} errors={errors}   p50={:.2}ms p99={:.2}ms max={:.2}ms",
        ok as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (base, sandbox) = match &args.base_url {
        Some(u) => (
            if u.ends_with('/') {
                u.clone()
            } else {
                format!("{u}/")
            },
            None,
        ),
        None => {
            let sb = Sandbox::start(SandboxConfig::for_tests()).await?;
            (sb.base_url(), Some(sb))
        }
    };
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let token = match (&args.token, &sandbox) {
        (Some(t), _) => t.clone(),
        (None, Some(sb)) => sb.issue_access_token(
            gmail_sandbox::seed::DEMO_EMAIL,
            &["https://mail.google.com/"],
        ),
        (None, None) => fetch_token(&base).await?,
    };
    let (status, body) = get(
        &client,
        &format!("{base}gmail/v1/users/me/messages?maxResults=500"),
        &token,
    )
    .await?;
    anyhow::ensure!(status == 200, "list failed: {status}");
    let v: serde_json::Value = serde_json::from_slice(&body)?;
    let ids: Vec<String> = v["messages"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    anyhow::ensure!(!ids.is_empty(), "mailbox is empty");
    println!(
        "target {base}  concurrency={} seconds={} messages={}",
        args.concurrency,
        args.seconds,
        ids.len()
    );
    let token = Arc::new(token);
    let get_urls: Vec<String> = ids
        .iter()
        .map(|id| format!("{base}gmail/v1/users/me/messages/{id}?format=full"))
        .collect();
    scenario(
        "messages.get format=full",
        Arc::new(get_urls),
        token.clone(),
        args.concurrency,
        args.seconds,
    )
    .await?;
    let list_urls = vec![format!("{base}gmail/v1/users/me/messages?maxResults=100")];
    scenario(
        "messages.list maxResults=100",
        Arc::new(list_urls),
        token.clone(),
        args.concurrency,
        args.seconds,
    )
    .await?;
    if let Some(sb) = sandbox {
        sb.stop().await;
    }
    Ok(())
}
