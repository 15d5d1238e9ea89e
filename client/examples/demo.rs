//! The engine demo that `scripts/run.sh` starts until the desktop app exists: one device,
//! offline, on the real clock. Each run opens the same database, makes sure a character grows
//! and a main routine is set, completes the next action of the main routine, and prints the
//! home screen, the month's tracker and this week's chart.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use mingizuk_client::core::catalog::PRESETS;
use mingizuk_client::core::history::ChartMode;
use mingizuk_client::{Engine, SystemClock};

fn data_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("MINGIZUK_DATA_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME").context("HOME is not set; set MINGIZUK_DATA_DIR")?;
    Ok(PathBuf::from(home).join(".local/share/mingizuk"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let dir = data_dir()?;
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("device.sqlite");
    let engine = Engine::open(&path, Arc::new(SystemClock)).await?;
    println!("밍기적 — device {} (data in {})", engine.device_id(), path.display());

    let home = engine.home().await?;
    if home.character.is_none() && !home.drawable.is_empty() {
        let character = engine.draw_character().await?;
        println!("+ 캐릭터를 추가하세요! → drew {} ({})", character.name_ko(), character.name_en());
    }
    let main = match engine.home().await?.main {
        Some(main) => main,
        None => {
            engine.set_main(Some(PRESETS[0].id)).await?;
            println!("메인루틴 설정하기 → {}", PRESETS[0].name_ko);
            engine.routine(PRESETS[0].id).await?
        }
    };
    if main.complete {
        engine.restart(main.id).await?;
        println!("루틴 재시작하기 → cycle {}", main.cycle + 1);
    }
    let main = engine.routine(main.id).await?;
    if let Some(entry) = main.entries.iter().find(|e| !e.done) {
        let done = engine.complete_action(main.id, entry.id).await?;
        println!(
            "완료하기! {} ×{} → +{} exp{}",
            entry.name_ko,
            entry.count,
            done.exp_gained,
            if done.routine_completed { " — routine complete!" } else { "" }
        );
    }

    let home = engine.home().await?;
    let main = home.main.as_ref().context("a main routine")?;
    println!("\n{} ({}/{} done, cycle {})", main.name, main.done_count, main.entries.len(), main.cycle);
    if let Some(c) = home.character {
        println!(
            "{}: Lv.{} / {} (look {}), {} exp, gauge {:.1}%",
            c.character.name_ko(),
            c.level,
            c.max_level,
            c.look,
            c.exp,
            f64::from(c.gauge_permille) / 10.0
        );
    }
    println!(
        "today: {} / {} exp; streak {} (best {})",
        home.today_exp, home.daily_exp_cap, home.streaks.current, home.streaks.best
    );
    println!("\n이번달 해빗 트래커 {}-{:02}", home.tracker.year, home.tracker.month);
    println!(" 일 월 화 수 목 금 토");
    let mut line = "   ".repeat(home.tracker.first_weekday as usize);
    for day in &home.tracker.days {
        line.push_str(if day.marked { "  ●" } else { "  ·" });
        if line.chars().count() >= 21 {
            println!("{line}");
            line.clear();
        }
    }
    if !line.is_empty() {
        println!("{line}");
    }
    let week = engine.week_page(None, ChartMode::Actions).await?;
    println!("\n밍기적 {}주차 (밍기적 시작한지 {}일 째 되는 날)", week.week, week.day_number);
    for bar in &week.bars {
        let label = if bar.today { "오늘".to_string() } else { bar.date.format("%m/%d").to_string() };
        println!("{label:>6} {:<20} {}", "█".repeat(bar.count.min(20) as usize), bar.count);
    }
    engine.close().await?;
    Ok(())
}
