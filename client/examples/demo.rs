//! The engine demo that `scripts/run.sh` starts until the desktop app exists: one device on the
//! real clock. Each run opens the same database, makes sure a character grows and a main routine
//! is set, completes the next action of the main routine, and prints the home screen, the
//! month's tracker and this week's chart. With `MINGIZUK_SERVER` set (run.sh starts a local sync
//! server), the device signs in to a local demo account (created on the first run, its password
//! kept in the data folder) and syncs; without a server it works offline all the same.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use mingizuk_client::core::catalog::PRESETS;
use mingizuk_client::core::history::ChartMode;
use mingizuk_client::{Cloud, Engine, SyncPhase, SystemClock};

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
    let engine = Arc::new(Engine::open(&path, Arc::new(SystemClock)).await?);
    println!("밍기적 — device {} (data in {})", engine.device_id(), path.display());
    let cloud = match std::env::var("MINGIZUK_SERVER") {
        Ok(url) if !url.is_empty() => Some(connect(&engine, &url, &dir).await?),
        _ => None,
    };

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
    if let Some(cloud) = cloud {
        let synced = cloud.wait_up_to_date(std::time::Duration::from_secs(10)).await;
        let status = cloud.status().borrow().clone();
        match (synced, status.phase) {
            (true, _) => println!("\n동기화 완료 — the server holds everything this device has"),
            (false, SyncPhase::Offline) => {
                println!("\n오프라인 — changes wait for the server ({})", status.last_error.unwrap_or_default())
            }
            (false, _) => println!("\n동기화 중 — still syncing; the next run continues"),
        }
        cloud.pause().await;
    }
    drop(engine);
    Ok(())
}

/// Signs in to the local demo account (created on the first run), or resumes the saved session.
async fn connect(engine: &Arc<Engine>, url: &str, dir: &std::path::Path) -> anyhow::Result<Cloud> {
    let cloud = Cloud::new(engine.clone(), url, dir)?;
    if cloud.user().await.is_some() {
        cloud.resume().await?;
        return Ok(cloud);
    }
    let account = dir.join("demo-account.txt");
    let result = match std::fs::read_to_string(&account) {
        Ok(text) => {
            let (email, password) = text.trim().split_once(' ').context("demo-account.txt holds 'email password'")?;
            cloud.sign_in(email, password).await
        }
        Err(_) => {
            let tag = engine.device_id().simple().to_string();
            let (email, password) = (format!("demo-{}@mingizuk.local", &tag[..8]), format!("demo-{tag}"));
            std::fs::write(&account, format!("{email} {password}\n"))?;
            #[cfg(unix)]
            std::fs::set_permissions(&account, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
            cloud.sign_up(&email, &password, &format!("데모{}", &tag[..4])).await
        }
    };
    match result {
        Ok(user) => println!("signed in as {} <{}> at {url}", user.nickname, user.email),
        Err(e) => println!("offline: {e} ({}) — everything works without the server", e.code()),
    }
    Ok(cloud)
}
