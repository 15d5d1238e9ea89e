//! The desktop app end to end, offline: the real binary in a real window under Xvfb, driven like
//! a person would, with no server at all.
//!
//! Run by `scripts/test.sh` (`xvfb-run cargo test -p mingizuk-e2e`) after it built the app.

use anyhow::{Context, Result, ensure};
use fantoccini::Locator;
use mingizuk_e2e::{App, PATIENCE, draw_character, free_port, pass_onboarding};

/// Today's local date as the app shows it (`data-date` of the tracker and the chart).
fn today() -> String {
    let out = std::process::Command::new("date").arg("+%Y-%m-%d").output().expect("date");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The routine card whose `data-name` is `name`, on the tab shown now.
async fn routine_card(app: &App, name: &str) -> Result<fantoccini::elements::Element> {
    let css = format!("[data-testid=\"routine-card\"][data-name=\"{name}\"]");
    Ok(app.client.wait().at_most(PATIENCE).for_element(Locator::Css(&css)).await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_launch_offline_plays_a_preset_and_keeps_a_custom_routine_within_the_limits() -> Result<()> {
    // No server listens on this port: the app is offline from its first second.
    let app = App::launch(&format!("http://127.0.0.1:{}", free_port()?)).await?;
    let outcome = offline_journey(&app).await;
    if outcome.is_err() {
        app.screenshot("failure-offline").await.ok();
    }
    app.close().await?;
    outcome
}

async fn offline_journey(app: &App) -> Result<()> {
    pass_onboarding(app).await?;
    app.until_attr("sync-indicator", "data-phase", "offline").await?;
    app.find("draw-prompt").await?;
    app.screenshot("02-home-first-launch").await?;
    draw_character(app).await?;

    // Set the first preset as the main routine.
    app.click("nav-routines").await?;
    app.click("tab-presets").await?;
    let cards = app.find_all("routine-card").await?;
    ensure!(cards.len() >= 2, "both presets are listed, found {}", cards.len());
    let preset = cards[0].clone();
    let preset_name = preset.attr("data-name").await?.context("a preset card names its routine")?;
    app.click_element(&preset.find(Locator::Css("[data-testid=\"routine-set-main\"]")).await?).await?;
    if !app.find_all("confirm-ok").await?.is_empty() {
        app.click("confirm-ok").await?;
    }
    app.until(&format!("{preset_name} is the main routine"), || async {
        Ok(routine_card(app, &preset_name).await?.attr("data-main").await?.as_deref() == Some("true"))
    })
    .await?;
    app.screenshot("04-routines-presets").await?;

    // Play it through: every action with its 5-second timer.
    app.click("nav-home").await?;
    app.find("main-routine").await?;
    let gauge_before = app.attr("exp-gauge", "data-permille").await?;
    app.click("player-open").await?;
    app.until("the player shows n/N", || async { Ok(app.text("player-progress").await?.contains('/')) }).await?;
    let progress = app.text("player-progress").await?;
    let total: usize = progress.rsplit('/').next().and_then(|n| n.trim().parse().ok()).context("n/N progress")?;
    ensure!(total == 5, "the first preset has five actions, the player says {progress}");
    for step in 1..=total {
        app.until(&format!("action {step}/{total}"), || async {
            Ok(app.text("player-progress").await?.replace(' ', "") == format!("{step}/{total}"))
        })
        .await?;
        app.click("player-start").await?;
        if step == 1 {
            app.find("player-timer").await?;
            app.screenshot("05-player").await?;
        }
        app.click("player-complete").await?;
        if step < total {
            app.click("player-next").await?;
        }
    }
    app.click("player-home").await?;

    // The tracker marks today, the gauge moved, the chart shows the bars.
    let today = today();
    let day = format!("[data-testid=\"tracker-day\"][data-date=\"{today}\"]");
    let marked = app.client.wait().at_most(PATIENCE).for_element(Locator::Css(&day)).await?;
    ensure!(marked.attr("data-marked").await?.as_deref() == Some("true"), "today is marked on the tracker");
    // 4 × 100 + (100 + 20 × 5) = 600 exp on the new character.
    app.until_attr("character-card", "data-exp", "600").await?;
    ensure!(app.attr("exp-gauge", "data-permille").await? != gauge_before, "the exp gauge moved");
    app.screenshot("06-home-after-workout").await?;

    app.click("nav-history").await?;
    app.click("chart-mode-actions").await?;
    let bar = "[data-testid=\"chart-bar\"][data-today=\"true\"]";
    let bar = app.client.wait().at_most(PATIENCE).for_element(Locator::Css(bar)).await?;
    ensure!(bar.attr("data-count").await?.as_deref() == Some("5"), "today's bar counts five actions");
    app.click("chart-mode-routines").await?;
    app.until("today's bar counts one routine", || async {
        let bars = app.select_all("[data-testid=\"chart-bar\"][data-today=\"true\"]").await?;
        Ok(match bars.first() {
            Some(bar) => bar.attr("data-count").await?.as_deref() == Some("1"),
            None => false,
        })
    })
    .await?;
    ensure!(app.text("streak-current").await?.contains('1'), "a one-day streak");
    app.screenshot("07-history").await?;

    custom_routine_within_limits(app).await
}

async fn custom_routine_within_limits(app: &App) -> Result<()> {
    app.click("nav-routines").await?;
    app.click("tab-mine").await?;
    app.click("routine-add").await?;
    // Step one: at most five actions.
    app.click("kind-stretching").await?;
    let options = app.find_all("action-option").await?;
    ensure!(options.len() >= 6, "the stretching list offers its actions, found {}", options.len());
    for option in options.iter().take(6) {
        // The sixth is refused: disabled, or clicked without being picked.
        let _ = app.click_element(option).await;
    }
    let mut picked = 0;
    for option in app.find_all("action-option").await? {
        if option.attr("aria-pressed").await?.as_deref() == Some("true") {
            picked += 1;
        }
    }
    ensure!(picked == 5, "a routine holds at most five actions, {picked} are picked");
    app.screenshot("08-routine-form-actions").await?;
    app.click("wizard-next").await?;

    // Step two: a name of 1–30 characters and counts of 1–99.
    let long_name = "가".repeat(31);
    app.fill("routine-name-input", &long_name).await?;
    app.click("routine-save").await?;
    let typed = app.find("routine-name-input").await?.prop("value").await?.unwrap_or_default();
    if typed.chars().count() > 30 {
        app.until_attr("form-error", "data-code", "name_too_long").await?;
    }
    app.fill("routine-name-input", "저녁 스트레칭").await?;
    let counts = app.find_all("count-input").await?;
    ensure!(counts.len() == 5, "one count per picked action, found {}", counts.len());
    counts[0].clear().await?;
    counts[0].send_keys("100").await?;
    app.click("routine-save").await?;
    app.until_attr("form-error", "data-code", "count_out_of_range").await?;
    app.screenshot("09-routine-form-limits").await?;
    counts[0].clear().await?;
    counts[0].send_keys("12").await?;
    app.click("routine-save").await?;
    let card = routine_card(app, "저녁 스트레칭").await?;

    // Edit it: a new name, kept in "my routines".
    app.click_element(&card.find(Locator::Css("[data-testid=\"routine-edit\"]")).await?).await?;
    if !app.find_all("wizard-next").await?.is_empty() {
        app.click("wizard-next").await?;
    }
    app.fill("routine-name-input", "아침 스트레칭").await?;
    app.click("routine-save").await?;
    routine_card(app, "아침 스트레칭").await?;
    app.screenshot("10-routines-mine").await?;
    my_data(app).await
}

/// The me screen's "my data": the history exported as JSON and CSV files, and the JSON file
/// imported back through the file chooser (everything in it is already on the device).
async fn my_data(app: &App) -> Result<()> {
    let files = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(app.export_dir()).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default()
    };
    app.click("nav-me").await?;
    app.click("export-json").await?;
    app.until("the JSON export is written", || async { Ok(files().len() == 1) }).await?;
    app.click("export-csv").await?;
    app.until("the CSV export is written", || async { Ok(files().len() == 2) }).await?;
    let json = files().into_iter().find(|p| p.extension().is_some_and(|e| e == "json")).context("no JSON export")?;
    let csv = files().into_iter().find(|p| p.extension().is_some_and(|e| e == "csv")).context("no CSV export")?;
    let history = std::fs::read_to_string(&csv)?;
    // The header, each action of the preset played, and its completion.
    ensure!(history.lines().count() >= 6, "the CSV holds the workout: {history}");
    let text = std::fs::read_to_string(&json)?;
    ensure!(text.contains("\"format\": \"mingizuk-export\""), "the JSON is an export");

    app.find("import-file").await?.send_keys(&json.to_string_lossy()).await?;
    // The exports' own toasts may still show above it.
    app.until_info_toast("the import is reported", "이미 모두 있어요").await?;
    app.screenshot("15-me-my-data").await?;
    Ok(())
}
