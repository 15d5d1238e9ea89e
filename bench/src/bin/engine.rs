//! Engine benchmark (issue 2). Prints:
//! - the latency of "complete an action" (document change + durable SQLite commit + projection
//!   update), p50 / p99 / max over N completions (default 10 000);
//! - the time to open an engine holding a year of heavy use (20 completions a day), and the
//!   memory of a fresh process that opened it (resident set after open, and its peak).
//!
//! Usage: `cargo run --release -p mingizuk-bench --bin engine [-- --completions N --days D]`
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use mingizuk_bench::{DAY_MS, arg, build_year, complete_next, heavy_user};
use mingizuk_client::{Engine, ManualClock};

/// 2025-11-03 00:00 UTC.
const START_MS: i64 = 1_762_128_000_000;
const KST: i32 = 9 * 60;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn completion_latency(dir: &Path, n: usize) -> Result<()> {
    let clock = Arc::new(ManualClock::new(START_MS, KST));
    let engine = Engine::open(&dir.join("latency.sqlite"), clock.clone()).await?;
    let routines = heavy_user(&engine).await?;
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        clock.advance(60_000);
        samples.push(complete_next(&engine, routines[i % routines.len()]).await?.as_secs_f64() * 1000.0);
        // Completions come minutes apart; the app compacts in the idle time between them.
        if i % 100 == 99 {
            engine.maintain().await?;
        }
    }
    samples.sort_by(f64::total_cmp);
    println!(
        "complete an action (durable, synchronous=FULL): n={n} p50={:.3} ms p90={:.3} ms p99={:.3} ms p99.9={:.3} ms max={:.3} ms   target p99 <= 5 ms",
        percentile(&samples, 0.50),
        percentile(&samples, 0.90),
        percentile(&samples, 0.99),
        percentile(&samples, 0.999),
        samples[samples.len() - 1]
    );
    engine.close().await?;
    Ok(())
}

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// Child process: open the engine, print open time and memory.
async fn open_only(path: &Path) -> Result<()> {
    let before = rss_kib("VmRSS:");
    let clock = Arc::new(ManualClock::new(START_MS + 366 * DAY_MS, KST));
    let started = Instant::now();
    let engine = Engine::open(path, clock).await?;
    // The first home screen is part of opening.
    engine.home().await?;
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    let derived = engine.derived().await;
    println!(
        "{elapsed:.1} {} {} {} {}",
        before,
        rss_kib("VmRSS:"),
        rss_kib("VmHWM:"),
        derived.days.values().map(|d| d.actions).sum::<u32>()
    );
    Ok(())
}

fn main() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--open-only") {
        let path = PathBuf::from(args.get(i + 1).context("a path")?);
        return runtime.block_on(open_only(&path));
    }
    let dir = tempfile::tempdir()?;
    runtime.block_on(completion_latency(dir.path(), arg("--completions", 10_000)))?;

    let days = arg("--days", 365);
    let year = dir.path().join("year.sqlite");
    let built = Instant::now();
    let completions = runtime.block_on(build_year(&year, START_MS, KST, days))?;
    println!("built {days} days of heavy use: {completions} completions in {:.1} s", built.elapsed().as_secs_f64());
    let size = std::fs::metadata(&year)?.len();
    let mut opens = Vec::new();
    let mut last = String::new();
    for _ in 0..5 {
        let out = std::process::Command::new(std::env::current_exe()?).arg("--open-only").arg(&year).output()?;
        if !out.status.success() {
            bail!("open failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        last = String::from_utf8(out.stdout)?;
        opens.push(last.split_whitespace().next().context("a time")?.parse::<f64>()?);
    }
    opens.sort_by(f64::total_cmp);
    let fields: Vec<u64> = last.split_whitespace().skip(1).map(|f| f.parse().unwrap_or(0)).collect();
    println!(
        "open {days} days of heavy use ({completions} completions, {:.1} MB file): median {:.1} ms (min {:.1}, max {:.1}) target <= 200 ms for 365 days",
        size as f64 / 1e6,
        percentile(&opens, 0.5),
        opens[0],
        opens[opens.len() - 1]
    );
    println!(
        "engine memory after opening those {days} days: {:.1} MB resident ({:.1} MB before open, peak {:.1} MB) target <= 50 MB",
        fields[1] as f64 / 1024.0,
        fields[0] as f64 / 1024.0,
        fields[2] as f64 / 1024.0
    );
    if fields[3] as usize != completions {
        bail!("the reopened engine holds {} completions, expected {completions}", fields[3]);
    }
    Ok(())
}
