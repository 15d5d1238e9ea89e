//! A heavy user's year through the real client: an engine with 20 completions a day (the engine
//! benchmark's workload) signs up and uploads everything, then fresh devices of the same account
//! sign in and pull it all.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use mingizuk_bench::{DAY_MS, complete_next, heavy_user};
use mingizuk_client::{Cloud, Engine, ManualClock};

/// 2025-11-03 00:00 UTC.
const START_MS: i64 = 1_762_128_000_000;
const KST: i32 = 9 * 60;
const WAIT: Duration = Duration::from_secs(600);
const EMAIL: &str = "heavy@example.com";

pub struct Year {
    pub completions: usize,
    pub documents: usize,
    pub built: Duration,
    pub uploaded: Duration,
}

/// Builds `days` of heavy use on a device in `dir`, signs it up on `server` and waits until the
/// server holds all of it.
pub async fn upload(server: &str, dir: &Path, days: usize) -> Result<Year> {
    let started = Instant::now();
    let clock = Arc::new(ManualClock::new(START_MS, KST));
    let engine = Arc::new(Engine::open(&dir.join("writer.sqlite"), clock.clone()).await?);
    let routines = heavy_user(&engine).await?;
    for day in 0..days {
        clock.set(START_MS + day as i64 * DAY_MS);
        for i in 0..20 {
            clock.advance(20 * 60_000);
            complete_next(&engine, routines[i % routines.len()]).await?;
        }
    }
    let completions = engine.personal().await.actions.len();
    let built = started.elapsed();
    let cloud = Cloud::new(engine.clone(), server, &dir.join("writer"))?;
    let started = Instant::now();
    cloud.sign_up(EMAIL, crate::PASSWORD, "heavy").await?;
    if !cloud.wait_up_to_date(WAIT).await {
        bail!("the writer did not get up to date: {:?}", *cloud.status().borrow());
    }
    let uploaded = started.elapsed();
    let documents = engine.export_documents().await?.len();
    cloud.pause().await;
    Ok(Year { completions, documents, built, uploaded })
}

/// A fresh device (new database, never connected) signs in and pulls the account: the time from
/// sign-in to up to date, and the time of the sign-in call alone (password check included).
pub async fn pull(server: &str, dir: &Path, expected: usize) -> Result<(Duration, Duration)> {
    let folder = tempfile::tempdir_in(dir)?;
    let clock = Arc::new(ManualClock::new(START_MS + 366 * DAY_MS, KST));
    let engine = Arc::new(Engine::open(&folder.path().join("fresh.sqlite"), clock).await?);
    let cloud = Cloud::new(engine.clone(), server, folder.path())?;
    let started = Instant::now();
    cloud.sign_in(EMAIL, crate::PASSWORD).await?;
    let signed_in = started.elapsed();
    if !cloud.wait_up_to_date(WAIT).await {
        bail!("the fresh device did not get up to date: {:?}", *cloud.status().borrow());
    }
    let elapsed = started.elapsed();
    cloud.pause().await;
    let pulled = engine.personal().await.actions.len();
    if pulled != expected {
        bail!("the fresh device holds {pulled} completions, expected {expected}");
    }
    Ok((elapsed, signed_in))
}
