//! The desktop app end to end: the real binary in a real window under Xvfb, driven like a person
//! would, with a real sync server on 127.0.0.1 and headless devices on the other side.
//!
//! Run by `scripts/test.sh` (`xvfb-run cargo test -p mingizuk-e2e`) after it built the app.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use fantoccini::Locator;
use mingizuk_client::social::Social;
use mingizuk_e2e::{App, PATIENCE, free_port};
use mingizuk_tests::{Device, JWT_SECRET, TestDb, TestServer};
use serde_json::{Value, json};

fn now_ms() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis())
        .unwrap_or(i64::MAX)
}

/// Today's local date as the app shows it (`data-date` of the tracker and the chart).
fn today() -> String {
    let out = std::process::Command::new("date").arg("+%Y-%m-%d").output().expect("date");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Onboarding, shown on the first launch only: four slides, then "밍기적 시작하기".
async fn pass_onboarding(app: &App) -> Result<()> {
    app.find("onboarding").await?;
    app.screenshot("01-onboarding").await?;
    for _ in 0..3 {
        app.click("onboarding-next").await?;
    }
    app.click("onboarding-start").await?;
    app.find("nav-home").await?;
    Ok(())
}

/// From the home screen with no character: the draw prompt, the dialog, a character.
async fn draw_character(app: &App) -> Result<()> {
    app.click("nav-home").await?;
    app.click("draw-prompt").await?;
    app.screenshot("03-draw").await?;
    app.click("draw-confirm").await?;
    app.until_attr("character-card", "data-exp", "0").await?;
    Ok(())
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
    preset.find(Locator::Css("[data-testid=\"routine-set-main\"]")).await?.click().await?;
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
        if option.is_enabled().await? {
            option.click().await?;
        }
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
    card.find(Locator::Css("[data-testid=\"routine-edit\"]")).await?.click().await?;
    if !app.find_all("wizard-next").await?.is_empty() {
        app.click("wizard-next").await?;
    }
    app.fill("routine-name-input", "아침 스트레칭").await?;
    app.click("routine-save").await?;
    routine_card(app, "아침 스트레칭").await?;
    app.screenshot("10-routines-mine").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_up_syncs_the_device_and_a_meetup_chat_shows_a_message_from_another_member() -> Result<()> {
    let db = TestDb::new(mingizuk_tests::Backend::Sqlite).await;
    // The app starts offline; the server comes up at the address it was given.
    let address = format!("127.0.0.1:{}", free_port()?);
    let server_url = format!("http://{address}");
    let app = App::launch(&server_url).await?;
    let outcome = account_journey(&app, &db, &address).await;
    if outcome.is_err() {
        app.screenshot("failure-account").await.ok();
    }
    app.close().await?;
    outcome
}

async fn account_journey(app: &App, db: &TestDb, address: &str) -> Result<()> {
    pass_onboarding(app).await?;
    draw_character(app).await?;
    let server = TestServer::start_at(db, JWT_SECRET, address).await;

    // Sign up in the app: the device's data joins the new account and syncs.
    let email = format!("e2e-{}@mingizuk.test", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let password = "a quiet walk every day";
    app.click("nav-me").await?;
    app.click("auth-mode-signup").await?;
    app.fill("auth-email", &email).await?;
    app.fill("auth-password", password).await?;
    app.fill("auth-nickname", "밍기적러").await?;
    app.screenshot("11-me-sign-up").await?;
    app.click("auth-submit").await?;
    app.until("the profile shows the nickname", || async {
        Ok(app.text("me-nickname").await?.contains("밍기적러"))
    })
    .await?;
    app.until_attr("sync-indicator", "data-phase", "up_to_date").await?;
    app.screenshot("12-me-signed-in").await?;

    // A second device of the same account, headless, finds the character drawn in the app.
    let laptop = Device::new(&server.url, now_ms()).await;
    laptop.cloud.sign_in(&email, password).await.context("the second device signs in")?;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while laptop.engine.collection().await.growing.is_none() {
        ensure!(tokio::time::Instant::now() < deadline, "the character drawn in the app reaches the second device");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Another person hosts a meetup; the app's user joins it and opens its chat.
    let host = Device::new(&server.url, now_ms()).await;
    host.cloud.sign_up("host-e2e@mingizuk.test", "stretch with friends", "모임장").await?;
    let social = Social::open(host.cloud.credentials(), host.dir.path()).await?;
    social.start().await;
    let meetup = create_meetup(&server.url, &host).await?;
    app.click("nav-meetups").await?;
    let card = format!("[data-testid=\"meetup-card\"][data-meetup-id=\"{meetup}\"]");
    app.client.wait().at_most(PATIENCE).for_element(Locator::Css(&card)).await?.click().await?;
    app.find("meetup-detail").await?;
    app.click("meetup-join").await?;
    app.find("meetup-leave").await?;
    app.screenshot("13-meetup-detail").await?;
    app.click("meetup-chat").await?;
    app.find("chat").await?;

    social.open_room(meetup);
    let key = social.send_message(meetup, "안녕하세요! 내일 아침에 봬요 🙌").await?;
    app.until("the host's message arrives in the app's chat", || async {
        for message in app.find_all("chat-message").await? {
            if message.attr("data-client-id").await?.as_deref() == Some(key.as_str()) {
                return Ok(message.text().await?.contains("내일 아침에 봬요"));
            }
        }
        Ok(false)
    })
    .await?;
    app.screenshot("14-meetup-chat").await?;
    social.close().await;
    server.stop().await;
    Ok(())
}

/// A meetup hosted by `host` that starts tomorrow, created over the HTTP API.
async fn create_meetup(server_url: &str, host: &Device) -> Result<i64> {
    let token = host.cloud.credentials().access_token(false).await?;
    let day = 24 * 3600;
    let at = |seconds: i64| {
        let out = std::process::Command::new("date")
            .args(["-u", "-d", &format!("@{seconds}"), "+%Y-%m-%dT%H:%M:%SZ"])
            .output()
            .expect("date");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let now = now_ms() / 1000;
    let body = json!({
        "title": "한강 아침 스트레칭",
        "contents": "가볍게 몸 풀고 커피 한 잔!",
        "starts_at": at(now + day),
        "ends_at": at(now + day + 3600),
        "location": {"place_name": "여의도 한강공원", "address": "서울특별시 영등포구 여의동로 330", "lat": 37.5284, "lng": 126.9327}
    });
    let response =
        reqwest::Client::new().post(format!("{server_url}/v1/meetups")).bearer_auth(token).json(&body).send().await?;
    ensure!(response.status().is_success(), "the meetup is created: {}", response.status());
    let meetup: Value = response.json().await?;
    meetup["id"].as_i64().context("the meetup has an id")
}
