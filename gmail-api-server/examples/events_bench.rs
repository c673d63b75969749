//! Benchmark of the event layer: N sandbox mailboxes (default 100) connected by N users, each
//! with a webhook; M messages (default 10) delivered into each mailbox at a steady rate; the
//! delay from delivery to the webhook receiver, and the Gmail requests it cost (the sandbox
//! counts them), with Gmail push (`users.watch` + Pub/Sub) or polling.
//!
//!   cargo run --release -p gmail-api-server --example events_bench -- push
//!   cargo run --release -p gmail-api-server --example events_bench -- poll 5
//!   cargo run --release -p gmail-api-server --example events_bench -- --help
//!
//! scripts/bench-events runs both. GMAIL_BENCH_DATABASE_URL picks PostgreSQL; a temporary
//! SQLite file otherwise.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use futures::StreamExt;
use gmail_sandbox::{Sandbox, SandboxConfig};
use gmail_shared::gmail::credentials::StoredTokens;
use gmail_shared::store::{cipher, Keyring, Store};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

const SCOPE: &str = "https://mail.google.com/";

/// How the servers learn of new mail.
#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Mode {
    /// Gmail push: users.watch and Pub/Sub hints.
    Push,
    /// Polling each mailbox's history.
    Poll,
}

/// Benchmark of the event layer: delivery-to-webhook delay and the Gmail requests it costs.
#[derive(Parser)]
struct Args {
    #[arg(value_enum, default_value = "poll")]
    mode: Mode,
    /// Seconds between polls (events.poll_interval_secs)
    #[arg(default_value_t = 5)]
    interval: u64,
    /// Sandbox mailboxes, one user and webhook each
    #[arg(long, env = "BENCH_MAILBOXES", default_value_t = 100)]
    mailboxes: usize,
    /// Messages delivered into each mailbox
    #[arg(long, env = "BENCH_MESSAGES", default_value_t = 10)]
    messages: usize,
    /// Deliveries per second, over all mailboxes
    #[arg(long, env = "BENCH_RATE", default_value_t = 100)]
    rate: usize,
    /// Seconds of idling measured after the load
    #[arg(long, env = "BENCH_IDLE_SECS", default_value_t = 30)]
    idle_secs: u64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The sandbox's request counters (what following the mailboxes cost Gmail).
async fn sandbox_stats(http: &reqwest::Client, sandbox_url: &str) -> anyhow::Result<Value> {
    Ok(http
        .get(format!("{sandbox_url}__sandbox/stats"))
        .send()
        .await?
        .json()
        .await?)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (push, interval) = (args.mode == Mode::Push, args.interval);
    let (mailboxes, messages, rate) = (args.mailboxes, args.messages, args.rate as f64);
    let http = reqwest::Client::new();

    let sandbox = Sandbox::start(SandboxConfig::for_tests()).await?;
    let sandbox_url = sandbox.base_url();
    let dir = tempfile::tempdir()?;
    let db = std::env::var("GMAIL_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}/bench.db", dir.path().display()));
    let key = cipher::generate_key();
    let store = Store::connect(&db, Keyring::new(&SecretString::from(key.clone()), None)?).await?;
    let mut keys = Vec::new();
    let mut emails = Vec::new();
    for i in 0..mailboxes {
        let email = format!("user{i}@bench.example");
        let r = http
            .post(format!("{sandbox_url}__sandbox/mailboxes"))
            .json(&json!({"email": email}))
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "mailbox: {}", r.text().await?);
        let user = store
            .ensure_user(
                &format!("bench-{i}-{}", uuid::Uuid::new_v4().simple()),
                Some(&email),
            )
            .await?;
        let tokens = StoredTokens {
            access_token: None,
            refresh_token: SecretString::from(gmail_sandbox::grants::well_known_refresh_token(
                &email,
            )),
            scope: Some(SCOPE.into()),
            expiry_date: None,
        };
        store
            .upsert_connection(&user.id, &email, &tokens, &[SCOPE.to_string()])
            .await?;
        let (_, api_key) = store.create_api_key(&user.id, "bench").await?;
        keys.push(api_key.expose_secret().to_string());
        emails.push(email);
    }

    // The receiver: when each message's delivery arrived.
    let arrived: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let seen = arrived.clone();
    let receiver = actix_web::HttpServer::new(move || {
        let seen = seen.clone();
        actix_web::App::new().default_service(actix_web::web::to(
            move |body: actix_web::web::Bytes| {
                let seen = seen.clone();
                async move {
                    if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                        if let Some(id) = v["data"]["id"].as_str() {
                            seen.lock()
                                .unwrap()
                                .entry(id.to_string())
                                .or_insert_with(Instant::now);
                        }
                    }
                    actix_web::HttpResponse::NoContent().finish()
                }
            },
        ))
    })
    .workers(2)
    .bind(("127.0.0.1", 0))?;
    let receiver_url = format!("http://127.0.0.1:{}/hook", receiver.addrs()[0].port());
    tokio::spawn(receiver.run());

    let mut s = gmail_test_support::multi_user_settings(&sandbox_url, &db, &key);
    s.log.level = "error".into();
    s.events.enabled = true;
    s.events.allow_private_webhooks = true;
    s.events.poll_interval_secs = interval;
    if push {
        s.events.pubsub_topic = "projects/bench/topics/gmail".into();
        s.events.pubsub_token = Some(SecretString::from("bench-token"));
    }
    let app = gmail_api_server::Application::build(s).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    if push {
        http.post(format!("{sandbox_url}__sandbox/pubsub/subscriptions"))
            .json(&json!({"topic": "projects/bench/topics/gmail", "pushEndpoint": format!("{base}/hooks/gmail/pubsub?token=bench-token")}))
            .send()
            .await?
            .error_for_status()?;
    }
    for k in &keys {
        http.post(format!("{base}/api/v1/webhooks"))
            .bearer_auth(k)
            .json(&json!({"url": receiver_url, "events": ["message.added"]}))
            .send()
            .await?
            .error_for_status()?;
    }
    // Every mailbox followed (and watched, with push) before the clock starts.
    let ready = Instant::now();
    loop {
        let c = store.cursors().await?;
        let done = c.len() == mailboxes
            && c.iter()
                .all(|c| c.history_id.is_some() && (!push || c.watch_expires_at.is_some()));
        if done {
            break;
        }
        anyhow::ensure!(
            ready.elapsed() < Duration::from_secs(30),
            "mailboxes not followed: {} cursors, {} started, {} watched, errors {:?}",
            c.len(),
            c.iter().filter(|c| c.history_id.is_some()).count(),
            c.iter().filter(|c| c.watch_expires_at.is_some()).count(),
            c.iter()
                .filter_map(|c| c.last_error.clone())
                .take(3)
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    http.post(format!("{sandbox_url}__sandbox/stats/reset"))
        .send()
        .await?;

    // Deliveries at a steady rate, one round of every mailbox after another.
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let started = Instant::now();
    let total = mailboxes * messages;
    let jobs = (0..total).map(|n| {
        let (http, sandbox_url, sent) = (http.clone(), sandbox_url.clone(), sent.clone());
        let to = emails[n % mailboxes].clone();
        let at = started + Duration::from_secs_f64(n as f64 / rate);
        async move {
            tokio::time::sleep_until(at.into()).await;
            let t = Instant::now();
            let r = http
                .post(format!("{sandbox_url}__sandbox/deliver"))
                .json(&json!({"to": to, "from": "Load <load@outside.example>", "subject": format!("Bench {n}"), "text": "x"}))
                .send()
                .await
                .and_then(|r| r.error_for_status());
            if let Ok(r) = r {
                if let Ok(v) = r.json::<Value>().await {
                    sent.lock().unwrap().insert(v["id"].as_str().unwrap_or_default().to_string(), t);
                }
            }
        }
    });
    futures::stream::iter(jobs)
        .buffer_unordered(64)
        .collect::<Vec<()>>()
        .await;
    let delivering = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(60 + 2 * interval);
    loop {
        let got = arrived.lock().unwrap().len();
        if got >= total || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let run = started.elapsed();
    let stats = sandbox_stats(&http, &sandbox_url).await?;
    let mut delays: Vec<f64> = {
        let sent = sent.lock().unwrap();
        let arrived = arrived.lock().unwrap();
        sent.iter()
            .filter_map(|(id, t)| {
                arrived
                    .get(id)
                    .map(|a| a.duration_since(*t).as_secs_f64() * 1000.0)
            })
            .collect()
    };
    delays.sort_by(|a, b| a.partial_cmp(b).unwrap());
    // What following the mailboxes costs with no mail at all, per minute.
    http.post(format!("{sandbox_url}__sandbox/stats/reset"))
        .send()
        .await?;
    let idle_secs = args.idle_secs;
    tokio::time::sleep(Duration::from_secs(idle_secs)).await;
    let idle = sandbox_stats(&http, &sandbox_url).await?;
    let per_minute = idle["totalRequests"].as_f64().unwrap_or(0.0) * 60.0 / idle_secs as f64;

    let mode = if push {
        "push".to_string()
    } else {
        format!("polling every {interval} s")
    };
    println!(
        "{}",
        json!({
            "mode": mode,
            "database": db.split(':').next(),
            "mailboxes": mailboxes,
            "messages": total,
            "delivered_to_webhook": delays.len(),
            "deliver_secs": delivering.as_secs_f64(),
            "run_secs": run.as_secs_f64(),
            "delay_ms": {"p50": percentile(&delays, 50.0), "p99": percentile(&delays, 99.0), "max": delays.last()},
            "gmail_requests": stats["totalRequests"],
            "gmail_requests_by_method": stats["requests"],
            "pubsub_pushes": stats["pubsubPushes"],
            "idle_gmail_requests_per_minute": per_minute,
        })
    );
    anyhow::ensure!(
        delays.len() == total,
        "{} of {total} deliveries arrived",
        delays.len()
    );
    Ok(())
}
