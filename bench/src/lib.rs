//! What the benchmark programs share: their flag parsing, the heavy user both measure with, the
//! servers under test as child processes (`server`) and throwaway MySQL databases (`mysql`).

pub mod mysql;
pub mod server;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use mingizuk_client::core::rules::ActionPick;
use mingizuk_client::{Engine, ManualClock};

/// The value after `name` on the command line, or `default`.
pub fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The text after `name` on the command line, or `default`.
pub fn text_arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned().unwrap_or_else(|| default.to_owned())
}

/// Whether `name` is on the command line.
pub fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

/// The value at quantile `q` (0 to 1) of sorted `samples`, nearest rank; `None` if there are none.
pub fn quantile<T: Copy>(sorted: &[T], q: f64) -> Option<T> {
    let last = sorted.len().checked_sub(1)?;
    sorted.get(((last as f64 * q).round() as usize).min(last)).copied()
}

/// A heavy user's setup: a character drawn and four 5-action routines; returns the routines.
pub async fn heavy_user(engine: &Engine) -> Result<Vec<uuid::Uuid>> {
    engine.draw_character().await?;
    let actions = ["squat", "lunge", "plank", "push_up", "sky_bike", "neck_roll", "shoulder_roll", "waist_roll"];
    let mut routines = Vec::new();
    for i in 0..4 {
        let picks: Vec<ActionPick> =
            (0..5).map(|j| ActionPick { action: actions[(i + j) % actions.len()].into(), count: 10 }).collect();
        routines.push(engine.create_routine(&format!("루틴 {i}"), &picks).await?);
    }
    Ok(routines)
}

/// One day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// Completes the next undone action of the routine (restarting a complete one first); returns
/// how long the completion itself took.
pub async fn complete_next(engine: &Engine, routine: uuid::Uuid) -> Result<Duration> {
    let view = engine.routine(routine).await?;
    if view.complete {
        engine.restart(routine).await?;
        return Box::pin(complete_next(engine, routine)).await;
    }
    let entry = view.entries.iter().find(|e| !e.done).context("an undone entry")?.id;
    // A completed character moves to the collection; a heavy user draws the next one.
    if engine.collection().await.growing.is_none() && !engine.collection().await.drawable.is_empty() {
        engine.draw_character().await?;
    }
    let started = Instant::now();
    engine.complete_action(routine, entry).await?;
    Ok(started.elapsed())
}

/// Builds `days` of heavy use (20 completions a day, 20 minutes apart, in four routines) in the
/// device database at `path`, starting at `start_ms` in a zone `offset_minutes` east of UTC.
/// Returns the number of completions.
pub async fn build_year(path: &Path, start_ms: i64, offset_minutes: i32, days: usize) -> Result<usize> {
    let clock = Arc::new(ManualClock::new(start_ms, offset_minutes));
    let engine = Engine::open(path, clock.clone()).await?;
    let routines = heavy_user(&engine).await?;
    let mut done = 0;
    for day in 0..days {
        clock.set(start_ms + day as i64 * DAY_MS);
        for i in 0..20 {
            clock.advance(20 * 60_000);
            complete_next(&engine, routines[i % routines.len()]).await?;
            done += 1;
        }
    }
    engine.close().await?;
    Ok(done)
}
