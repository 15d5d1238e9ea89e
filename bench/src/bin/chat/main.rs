//! Chat fan-out benchmark (issue 4). A load generator on loopback: `--clients` WebSocket clients
//! in rooms of `--room-size`, each sending small messages. Against our server (`GET /v1/chat`,
//! the `mingizuk-server` binary as a child process) on SQLite and on MySQL/MariaDB, and with
//! `--with-node` against the 2021 stack's relay (`bench/node/chat-baseline.mjs`: Socket.IO storing
//! each message in MySQL through mysql2), driven by the same generator. For each it prints:
//! - delivered messages per second at the maximum rate (closed loop: every client sends its next
//!   message when the last is acknowledged), counting every subscriber's copy, the sender's too;
//! - publish → receive latency p50 / p99 at half of that send rate (open loop, fixed schedule);
//! - whether every acknowledged message is in the database after the server is killed;
//!
//! then the ratio ours / baseline, a table, and one JSON line.
//!
//! Usage: `cargo build --release -p mingizuk-server -p mingizuk-bench` then
//! `cargo run --release -p mingizuk-bench --bin chat [-- --clients 1000 --room-size 10
//! --seconds 10 --backend sqlite|mysql|both --with-node]`; `--rate N` offers N sends/s in the
//! open-loop phase instead of half the maximum (to see latency at other loads).

mod load;
mod targets;
mod wire;

use anyhow::{Context, Result, bail};
use load::{CAPACITY, HALF_LOAD, LoadReport, WARM_UP};
use mingizuk_bench::mysql::MySqlDatabase;
use mingizuk_bench::server::cpu_seconds;
use mingizuk_bench::{arg, flag, text_arg};
use serde_json::json;
use wire::Protocol;

/// The load generator shares the two cores with the server it measures, so it allocates as the
/// server does (mimalloc), like the sync benchmark's generator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Settings {
    rooms: usize,
    room_size: usize,
    seconds: f64,
    /// `--rate N`: the open-loop phase offers N sends/s instead of half the maximum.
    rate: Option<f64>,
}

/// One target's figures.
struct Outcome {
    name: String,
    load: LoadReport,
    missing: usize,
    /// CPU seconds over the whole load (warm-up, capacity, half load): the server's, the generator's.
    cpu: (f64, f64),
}

/// Runs the load on a prepared target, with the CPU time both sides spent on it.
async fn measure(
    protocol: Protocol,
    prepared: &targets::Prepared,
    settings: &Settings,
) -> Result<(LoadReport, (f64, f64))> {
    let (server_before, own_before) = (prepared.server.cpu_seconds(), cpu_seconds("self"));
    let load = load::run(protocol, prepared.specs.clone(), settings.room_size, settings.seconds, settings.rate).await?;
    Ok((load, (prepared.server.cpu_seconds() - server_before, cpu_seconds("self") - own_before)))
}

impl Outcome {
    fn json(&self) -> serde_json::Value {
        let [warm, cap, half] = &self.load.phases;
        json!({
            "target": self.name,
            "max_deliveries_per_s": cap.delivered_per_second().round(),
            "max_sends_per_s": cap.sent_per_second().round(),
            "max_p50_ms": cap.latency_ms(0.5),
            "max_p99_ms": cap.latency_ms(0.99),
            "half_offered_sends_per_s": self.load.offered_per_second.round(),
            "half_deliveries_per_s": half.delivered_per_second().round(),
            "half_p50_ms": half.latency_ms(0.5),
            "half_p99_ms": half.latency_ms(0.99),
            "acked": warm.acked + cap.acked + half.acked,
            "missing_after_kill": self.missing,
            "undelivered": warm.undelivered + cap.undelivered + half.undelivered,
            "unanswered": warm.unanswered + cap.unanswered + half.unanswered,
            "refused": warm.refused + cap.refused + half.refused,
            "rate_limited": warm.rate_limited + cap.rate_limited + half.rate_limited,
            "server_cpu_s": self.cpu.0,
            "generator_cpu_s": self.cpu.1,
        })
    }
}

async fn run_ours(settings: &Settings, backend: &str) -> Result<Outcome> {
    let dir = tempfile::tempdir()?;
    let mysql = if backend == "mysql" { Some(MySqlDatabase::create().await?) } else { None };
    let url = match &mysql {
        Some(database) => database.url().to_owned(),
        None => format!("sqlite://{}", dir.path().join("server.sqlite").display()),
    };
    let result = async {
        let prepared = targets::prepare_ours(&url, dir.path(), settings.rooms, settings.room_size).await?;
        println!("== our server ({backend}), pid {}, {} clients", prepared.server.pid(), prepared.specs.len());
        let (load, cpu) = measure(Protocol::Ours, &prepared, settings).await?;
        let missing = targets::missing_from_ours(prepared, &url, &load.acked_ids).await?;
        Ok(Outcome { name: format!("ours-{backend}"), load, missing, cpu })
    }
    .await;
    if let Some(database) = mysql {
        database.drop().await;
    }
    result
}

async fn run_baseline(settings: &Settings) -> Result<Outcome> {
    let database = MySqlDatabase::create().await?;
    let result = async {
        let prepared = targets::prepare_baseline(database.url(), settings.rooms, settings.room_size).await?;
        println!(
            "== baseline: Socket.IO + mysql2 relay (Node {}), pid {}, {} clients",
            mingizuk_bench::server::node_version(),
            prepared.server.pid(),
            prepared.specs.len()
        );
        let (load, cpu) = measure(Protocol::SocketIo, &prepared, settings).await?;
        let missing = targets::missing_from_baseline(prepared, database.url(), &load.acked_ids).await?;
        Ok(Outcome { name: "baseline-socketio-mysql".into(), load, missing, cpu })
    }
    .await;
    database.drop().await;
    result
}

fn print_outcome(o: &Outcome) {
    let [warm, cap, half] = &o.load.phases;
    println!(
        "max rate: {:.0} deliveries/s ({:.0} sends/s acknowledged over {:.1} s; p50 {:.1} ms, p99 {:.1} ms)",
        cap.delivered_per_second(),
        cap.sent_per_second(),
        cap.seconds,
        cap.latency_ms(0.5),
        cap.latency_ms(0.99)
    );
    println!(
        "open loop: {:.0} sends/s offered, {:.0} deliveries/s; publish -> receive p50 {:.2} ms, p99 {:.2} ms   target p99 <= 20 ms",
        o.load.offered_per_second,
        half.delivered_per_second(),
        half.latency_ms(0.5),
        half.latency_ms(0.99)
    );
    let acked = warm.acked + cap.acked + half.acked;
    let delivered = warm.delivered + cap.delivered + half.delivered;
    println!(
        "CPU over the load: server {:.1} s, generator {:.1} s (server {:.0} us per delivery; both on this machine's cores)",
        o.cpu.0,
        o.cpu.1,
        o.cpu.0 * 1e6 / delivered.max(1) as f64
    );
    let problems: u64 = o.load.phases.iter().map(|p| p.unanswered + p.undelivered + p.refused + p.rate_limited).sum();
    println!(
        "persisted: {} of {acked} acknowledged messages in the database after SIGKILL{}{}",
        acked as usize - o.missing.min(acked as usize),
        if o.missing == 0 { "" } else { "  MISSING SOME" },
        if problems == 0 {
            String::new()
        } else {
            format!(
                "; unanswered {}, undelivered {}, refused {}, rate-limited {}",
                sum(o, |p| p.unanswered),
                sum(o, |p| p.undelivered),
                sum(o, |p| p.refused),
                sum(o, |p| p.rate_limited)
            )
        }
    );
}

fn sum(o: &Outcome, field: impl Fn(&load::PhaseReport) -> u64) -> u64 {
    o.load.phases.iter().map(field).sum()
}

fn print_table(outcomes: &[Outcome]) {
    println!();
    println!("| target | max deliveries/s | half-load sends/s | p50 ms | p99 ms | acked | missing |");
    println!("|---|---|---|---|---|---|---|");
    for o in outcomes {
        let half = &o.load.phases[HALF_LOAD];
        println!(
            "| {} | {:.0} | {:.0} | {:.2} | {:.2} | {} | {} |",
            o.name,
            o.load.phases[CAPACITY].delivered_per_second(),
            o.load.offered_per_second,
            half.latency_ms(0.5),
            half.latency_ms(0.99),
            o.load.phases.iter().map(|p| p.acked).sum::<u64>(),
            o.missing
        );
    }
}

async fn run(settings: Settings, backends: &[&str], with_node: bool) -> Result<()> {
    let mut outcomes = Vec::new();
    for backend in backends {
        let outcome = run_ours(&settings, backend).await.with_context(|| format!("our server on {backend}"))?;
        print_outcome(&outcome);
        outcomes.push(outcome);
    }
    let mut ratios = serde_json::Map::new();
    if with_node {
        let baseline = run_baseline(&settings).await.context("the Node baseline")?;
        print_outcome(&baseline);
        let theirs = baseline.load.phases[CAPACITY].delivered_per_second();
        for o in &outcomes {
            let ratio = o.load.phases[CAPACITY].delivered_per_second() / theirs;
            println!("ratio, max deliveries/s: {} / baseline = {ratio:.1}x   target >= 10x", o.name);
            ratios.insert(o.name.clone(), json!((ratio * 100.0).round() / 100.0));
        }
        outcomes.push(baseline);
    }
    print_table(&outcomes);
    let report = json!({
        "benchmark": "chat",
        "clients": settings.rooms * settings.room_size,
        "room_size": settings.room_size,
        "seconds": settings.seconds,
        "warm_up_deliveries": outcomes.iter().map(|o| o.load.phases[WARM_UP].delivered).collect::<Vec<_>>(),
        "targets": outcomes.iter().map(Outcome::json).collect::<Vec<_>>(),
        "ratio_max_deliveries_ours_over_baseline": ratios,
    });
    println!("{report}");
    if outcomes.iter().any(|o| o.missing > 0) {
        bail!("an acknowledged message is missing from a database");
    }
    Ok(())
}

fn main() -> Result<()> {
    let room_size = arg("--room-size", 10).max(2);
    let clients = arg("--clients", 1000).max(room_size);
    let rate = Some(arg("--rate", 0) as f64).filter(|&r| r > 0.0);
    let settings =
        Settings { rooms: clients / room_size, room_size, seconds: arg("--seconds", 10).max(1) as f64, rate };
    let backend = text_arg("--backend", "both");
    let backends: &[&str] = match backend.as_str() {
        "sqlite" => &["sqlite"],
        "mysql" => &["mysql"],
        "both" => &["sqlite", "mysql"],
        "none" => &[],
        other => bail!("--backend is sqlite, mysql, both or none, not {other:?}"),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(settings, backends, flag("--with-node")))
}
