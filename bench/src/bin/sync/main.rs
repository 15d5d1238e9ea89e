//! Sync server benchmark (issue 3). Starts the real `mingizuk-server` binary as a child process on
//! 127.0.0.1 over a fresh SQLite file (and MariaDB with `--mysql`) and prints:
//! - durable changes per second: many protocol clients, each changing its own small document one
//!   small put at a time; a change counts once the server's reply heads include it, which the
//!   server sends only after committing it (WAL, `synchronous = FULL`);
//! - the time for a fresh device to sign in and pull a heavy user's year (7 300 completions);
//! - the time for a device with nothing new to reconnect across 100 documents;
//! - the server's resident memory, idle after those runs.
//!
//! With `--with-node`, also the reference automerge-repo server in Node (bench/node): the same
//! bare-client workload against it, and the JavaScript automerge-repo client (bench/node/load.mjs)
//! against both servers, with the ratio ours / theirs.
//!
//! Usage: `cargo build --release -p mingizuk-server -p mingizuk-bench` then
//! `cargo run --release -p mingizuk-bench --bin sync [-- --clients 100 --seconds 10 --days 365
//! --docs 100 --repeat 5 --mysql --with-node --js-clients 100]`. The program brings the server binary of the same
//! profile up to date itself (`cargo build -p mingizuk-server`) before starting it.
#![allow(clippy::unwrap_used)]

mod node;
mod peer;
mod workload;
mod year;

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use mingizuk_bench::server::{self, ServerProcess};
use mingizuk_bench::{arg, flag};
use peer::Target;
use workload::Throughput;

/// The load generator shares the two cores with the server it measures, so it allocates as the
/// server does (mimalloc): glibc's malloc and free were ~9 % of the generator's CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PASSWORD: &str = "correct horse battery";
/// Accounts the throughput clients are spread over (a client is one device's connection).
const CLIENTS_PER_USER: usize = 10;

struct Settings {
    clients: usize,
    seconds: f64,
    days: usize,
    docs: usize,
    repeat: usize,
    /// Repos of the JavaScript client (`--with-node`).
    js_clients: usize,
}

fn mb(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn median(mut samples: Vec<f64>) -> (f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    (samples[samples.len() / 2], samples[0], samples[samples.len() - 1])
}

fn print_throughput(label: &str, t: &Throughput, target: &str) {
    println!(
        "{label}: {} clients x {:.1} s: {:.0} changes/s ({} changes; round trip p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.1} ms, max {:.0} ms, mean {:.2} ms) {target}",
        t.clients,
        t.seconds,
        t.per_second(),
        t.changes,
        t.latency(0.5),
        t.latency(0.99),
        t.latency(0.999),
        t.latency(1.0),
        t.mean_latency()
    );
}

/// Signs up one account per `CLIENTS_PER_USER` clients (an account holds a bounded number of
/// connections); their access tokens.
async fn accounts(server: &ServerProcess, clients: usize, tag: &str) -> Result<Vec<String>> {
    let http = reqwest::Client::new();
    let mut tokens = Vec::new();
    for u in 0..clients.div_ceil(CLIENTS_PER_USER) {
        let email = format!("{tag}{u}@example.com");
        tokens.push(peer::sign_up(&http, &server.http_url(), &email, &format!("{tag}{u}")).await?);
    }
    Ok(tokens)
}

/// One target per client, over `accounts`.
async fn client_targets(server: &ServerProcess, clients: usize, tag: &str) -> Result<Vec<Target>> {
    let tokens = accounts(server, clients, tag).await?;
    let ws_url = format!("ws://127.0.0.1:{}/v1/sync", server.port);
    Ok((0..clients)
        .map(|i| Target { ws_url: ws_url.clone(), bearer: Some(tokens[i / CLIENTS_PER_USER].clone()) })
        .collect())
}

/// Everything against our server on one database; returns the throughput for the comparison.
async fn run_ours(settings: &Settings, backend: &str, database_url: &str, dir: &Path) -> Result<(f64, Option<f64>)> {
    let binary = server::our_binary()?;
    let server = server::start_ours(&binary, database_url, dir).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let at_start = server.memory_kib("VmRSS:");
    println!("== our server ({backend}), pid {}, {:.1} MB resident at start", server.pid(), mb(at_start));

    let targets = client_targets(&server, settings.clients, "tp").await?;
    let (cpu, own_cpu) = (server.cpu_seconds(), server::cpu_seconds("self"));
    let throughput = workload::changes_per_second(&targets, settings.seconds).await?;
    print_throughput("durable changes (bare protocol clients)", &throughput, "target >= 5000/s");
    let per_change = |seconds: f64| seconds * 1e6 / throughput.changes.max(1) as f64;
    println!(
        "  CPU per change: server {:.0} us, clients {:.0} us (both on this machine's cores); server memory then {:.1} MB",
        per_change(server.cpu_seconds() - cpu),
        per_change(server::cpu_seconds("self") - own_cpu),
        mb(server.memory_kib("VmRSS:"))
    );

    let year = year::upload(&server.http_url(), dir, settings.days).await?;
    println!(
        "heavy year: {} days, {} completions in {} documents (built in {:.1} s, uploaded by sign-up in {:.2} s)",
        settings.days,
        year.completions,
        year.documents,
        year.built.as_secs_f64(),
        year.uploaded.as_secs_f64()
    );
    let mut pulls = Vec::new();
    let mut sign_ins = Vec::new();
    for _ in 0..settings.repeat {
        let (pull, sign_in) = year::pull(&server.http_url(), dir, year.completions).await?;
        pulls.push(pull.as_secs_f64() * 1000.0);
        sign_ins.push(sign_in.as_secs_f64() * 1000.0);
    }
    let (p, lo, hi) = median(pulls);
    println!(
        "fresh device pulls the year (sign-in -> up to date, {} runs): median {p:.0} ms (min {lo:.0}, max {hi:.0}; sign-in call itself median {:.0} ms) target <= 2000 ms",
        settings.repeat,
        median(sign_ins).0
    );

    let reconnect_target = client_targets(&server, 1, "rc").await?.remove(0);
    let reconnect = reconnect_median(&reconnect_target, settings).await?;

    // Everyone has gone; let the server settle before reading its memory.
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!(
        "server memory idle after the runs: {:.1} MB resident ({:.1} MB at start, peak {:.1} MB) target <= 50 MB",
        mb(server.memory_kib("VmRSS:")),
        mb(at_start),
        mb(server.memory_kib("VmHWM:"))
    );
    Ok((throughput.per_second(), reconnect))
}

/// Reconnects a device of `settings.docs` documents `settings.repeat` times; prints and returns
/// the median in milliseconds.
async fn reconnect_median(target: &Target, settings: &Settings) -> Result<Option<f64>> {
    let mut documents = workload::upload_documents(target, settings.docs, 20).await?;
    let mut samples = Vec::new();
    for _ in 0..settings.repeat {
        samples.push(documents.sync_all(target).await?.as_secs_f64() * 1000.0);
    }
    let (m, lo, hi) = median(samples);
    println!(
        "reconnect with nothing new, {} documents (connect -> all confirmed, {} runs): median {m:.1} ms (min {lo:.1}, max {hi:.1}) target <= 1000 ms for 100",
        documents.len(),
        settings.repeat
    );
    Ok(Some(m))
}

async fn run(settings: Settings) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let sqlite = format!("sqlite://{}", dir.path().join("server.sqlite").display());
    let (ours, ours_reconnect) = run_ours(&settings, "SQLite, WAL, synchronous = FULL", &sqlite, dir.path()).await?;
    if flag("--mysql") {
        let database = mingizuk_bench::mysql::MySqlDatabase::create().await?;
        let mysql_dir = tempfile::tempdir()?;
        let result = run_ours(&settings, "MariaDB", database.url(), mysql_dir.path()).await;
        database.drop().await;
        result?;
    }
    if flag("--with-node") {
        node::compare(&settings, ours, ours_reconnect).await.context("the Node comparison")?;
    }
    Ok(())
}

fn main() -> Result<()> {
    let settings = Settings {
        clients: arg("--clients", 100).max(1),
        seconds: arg("--seconds", 10).max(1) as f64,
        days: arg("--days", 365),
        docs: arg("--docs", 100).max(1),
        repeat: arg("--repeat", 5).max(1),
        js_clients: arg("--js-clients", 100).max(1),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(settings))
}
