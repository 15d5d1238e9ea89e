//! What the benchmark programs share: their flag parsing, the heavy user both measure with, the
//! servers under test as child processes (`server`) and throwaway MySQL databases (`mysql`).

pub mod mysql;
pub mod server;

use anyhow::Result;
use mingizuk_client::Engine;
use mingizuk_client::core::rules::ActionPick;

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
