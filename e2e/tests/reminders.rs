//! Reminders end to end: the real app under Xvfb sends its daily reminder to a real desktop
//! notification server (dunst on a private D-Bus, drawing on the same X screen), which shows it as
//! a popup — the path a reminder takes on a Linux desktop. With a reminder set, the window's close
//! button (a window manager's `WM_DELETE_WINDOW`, sent over X11) leaves the app running for it,
//! and the desktop's login entry (XDG autostart, in the test's home) starts it, unseen, at login.
//!
//! Run by `scripts/test.sh` (`xvfb-run cargo test -p mingizuk-e2e`) after it built the app.

use std::time::Duration;

use anyhow::{Result, ensure};
use mingizuk_e2e::notifications::{NotificationServer, Shown};
use mingizuk_e2e::window::Screen;
use mingizuk_e2e::{App, PATIENCE, free_port, pass_onboarding};

/// Held by each test for its whole run: the background journey finds the app's window by its
/// title on the X screen, so no other app of this file may have one open meanwhile (cargo runs a
/// file's tests side by side unless told `--test-threads=1`).
static ONE_APP_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The local time as the app reads it, `HH:MM`, and the seconds into the minute.
fn local_time() -> (String, u32) {
    let out = std::process::Command::new("date").arg("+%H:%M %S").output().expect("date");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let (minute, seconds) = text.split_once(' ').unwrap_or((&text, "0"));
    (minute.to_owned(), seconds.parse().unwrap_or(0))
}

/// Sets the reminder time in the me screen's settings, as the time picker does (WebKit's time
/// field does not take typed digits reliably through WebDriver): its value, then `input` and
/// `change`. Waits for the app to say it was saved.
async fn set_reminder(app: &App, time: &str) -> Result<()> {
    let field = app.find("reminder-time").await?;
    app.show(&field).await?;
    app.client
        .execute(
            "const [field, value] = arguments; field.focus(); field.value = value; \
             field.dispatchEvent(new Event('input', { bubbles: true })); \
             field.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![serde_json::to_value(&field)?, time.into()],
        )
        .await?;
    app.until_info_toast("the reminder is saved", "알림 시간을 저장했어요").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daily_reminder_set_for_now_pops_up_on_the_desktop_once_while_the_main_routine_is_not_done() -> Result<()> {
    let _alone = ONE_APP_AT_A_TIME.lock().await;
    let notifications = NotificationServer::start().await?;
    // No server: reminders are the device's own business.
    let app = App::launch_with(&format!("http://127.0.0.1:{}", free_port()?), &[notifications.env()]).await?;
    let outcome = reminder_journey(&app, &notifications).await;
    if outcome.is_err() {
        app.screenshot("failure-reminders").await.ok();
        notifications.screenshot("failure-reminders-screen").await.ok();
    }
    app.close().await?;
    outcome
}

async fn reminder_journey(app: &App, notifications: &NotificationServer) -> Result<()> {
    pass_onboarding(app).await?;
    app.click("nav-me").await?;
    ensure!(notifications.displayed().await? == 0, "nothing is notified before a reminder is set");

    // A minute that stays "now" until the reminder is looked at (the daily window is an hour,
    // but it does not reach past midnight).
    let (mut now, seconds) = local_time();
    if now == "23:59" && seconds > 50 {
        tokio::time::sleep(Duration::from_secs(15)).await;
        now = local_time().0;
    }
    set_reminder(app, &now).await?;
    notifications.until_displayed(1, PATIENCE).await?;
    notifications.screenshot("17-reminder-notification").await?;
    let shown = notifications.close_all().await?;
    ensure!(
        shown.iter().map(|s| (s.summary.as_str(), s.body.as_str())).collect::<Vec<_>>()
            == [("밍기적", "오늘도 작은 밍기적을 만들어봐요!🙌")],
        "the daily reminder in the user's language (Korean by default), got {shown:?}"
    );
    ensure!(shown.iter().all(|Shown { app, .. }| !app.is_empty()), "the popup names the app: {shown:?}");

    // Saving the time again makes the app look at once: today's reminder was already shown.
    set_reminder(app, &now).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    ensure!(notifications.displayed().await? == 0, "the daily reminder comes once a day");
    ensure!(notifications.close_all().await?.len() == 1, "the daily reminder comes once a day");
    Ok(())
}

/// Waits for `check` on something WebDriver does not see (the X window, the data folder's lock).
async fn until(what: &str, mut check: impl FnMut() -> Result<bool>) -> Result<()> {
    let started = std::time::Instant::now();
    while !check()? {
        ensure!(started.elapsed() < PATIENCE, "waited {PATIENCE:?} for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// A time of day three hours from now: a reminder set that stays quiet during the test.
fn later_today() -> String {
    let (now, _) = local_time();
    let hour: u32 = now[..2].parse().unwrap_or(0);
    format!("{:02}:{}", (hour + 3) % 24, &now[3..])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_reminder_set_closing_the_window_keeps_the_app_running_and_launching_it_shows_the_window() -> Result<()>
{
    let _alone = ONE_APP_AT_A_TIME.lock().await;
    let notifications = NotificationServer::start().await?;
    let app = App::launch_with(&format!("http://127.0.0.1:{}", free_port()?), &[notifications.env()]).await?;
    let outcome = background_journey(&app, &notifications).await;
    if outcome.is_err() {
        app.screenshot("failure-background").await.ok();
        notifications.screenshot("failure-background-screen").await.ok();
    }
    // The journey ends with the app quit: its WebDriver session ends with it.
    let _ = app.close().await;
    outcome
}

async fn background_journey(app: &App, notifications: &NotificationServer) -> Result<()> {
    pass_onboarding(app).await?;
    app.click("nav-me").await?;
    set_reminder(app, &later_today()).await?;
    until_login_entry(app, true).await?;
    let (entry, written) = (app.login_entry(), std::fs::read(app.login_entry())?);
    let screen = Screen::connect()?;
    let window = screen.window("밍기적")?;
    ensure!(screen.shown(window)?, "the app's window is on screen");

    // The close button: the window goes, the app stays (its page still answers) and says so once.
    screen.request_close(window)?;
    until("the window to be hidden", || Ok(!screen.shown(window)?)).await?;
    notifications.until_displayed(1, PATIENCE).await?;
    let told = notifications.close_all().await?;
    ensure!(
        told.len() == 1 && told[0].body.contains("트레이 메뉴에서 '종료'"),
        "the user is told that the app keeps running and how to quit it: {told:?}"
    );
    ensure!(app.invoke("settings").await?["reminder_minutes"].is_u64(), "the app still runs");

    // Launching it again shows the same window; the new launch gives way.
    ensure!(app.launch_again().await?.success(), "a second launch exits quietly");
    until("the window to be shown again", || screen.shown(window)).await?;
    ensure!(screen.window("밍기적").is_ok(), "one window, not two");

    // Told once: closing again says nothing.
    screen.request_close(window)?;
    until("the window to be hidden", || Ok(!screen.shown(window)?)).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    ensure!(notifications.displayed().await? == 0, "the user is told only the first time");
    ensure!(app.launch_again().await?.success(), "a second launch exits quietly");
    until("the window to be shown again", || screen.shown(window)).await?;

    // With nothing to remind of, closing the window quits: the data folder is free again.
    app.click("reminder-off").await?;
    app.until_info_toast("the reminder is off", "알림 끄기").await?;
    until_login_entry(app, false).await?;
    screen.request_close(window)?;
    let lock = std::fs::File::open(app.data.path().join("device/app.lock"))?;
    until("the app to quit", || free(&lock)).await?;

    // Started at login by an entry left from before, with nothing to remind of: it quits, and
    // takes the entry away.
    std::fs::write(&entry, written)?;
    let mut at_login = app.start_again(&["--background"])?;
    let status = tokio::time::timeout(PATIENCE, at_login.wait()).await??;
    ensure!(status.success(), "an app started at login with nothing to remind of quits: {status}");
    ensure!(!entry.exists(), "and removes the entry it was started by");
    Ok(())
}

/// Whether no app holds the data folder (its lock, taken and at once let go if free).
fn free(lock: &std::fs::File) -> Result<bool> {
    match lock.try_lock() {
        Ok(()) => {
            lock.unlock()?;
            Ok(true)
        }
        Err(std::fs::TryLockError::WouldBlock) => Ok(false),
        Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
    }
}

/// Waits until the desktop's login entry for the app is there (`present`) or gone; when there,
/// it starts this very app in the background.
async fn until_login_entry(app: &App, present: bool) -> Result<()> {
    until("the login entry to follow the reminder", || Ok(app.login_entry().exists() == present)).await?;
    if present {
        let entry = std::fs::read_to_string(app.login_entry())?;
        let exe = std::fs::canonicalize(mingizuk_e2e::app_binary()?)?;
        let data = app.data.path().join("device");
        ensure!(
            entry.contains(&format!("\"MINGIZUK_DATA_DIR={}\"", data.display()))
                && entry.contains(&format!(" \"{}\" --background\n", exe.display())),
            "the login entry starts this app, on its data folder, in the background: {entry}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn started_at_login_with_a_reminder_set_the_app_waits_unseen_until_it_is_launched() -> Result<()> {
    let _alone = ONE_APP_AT_A_TIME.lock().await;
    let app = App::launch(&format!("http://127.0.0.1:{}", free_port()?)).await?;
    let outcome = login_journey(&app).await;
    if outcome.is_err() {
        app.screenshot("failure-login").await.ok();
    }
    let _ = app.close().await;
    outcome
}

async fn login_journey(app: &App) -> Result<()> {
    pass_onboarding(app).await?;
    app.click("nav-me").await?;
    set_reminder(app, &later_today()).await?;
    until_login_entry(app, true).await?;
    // The user logs out: the app ends (its WebDriver session with it), the data folder stays.
    app.client.clone().close().await?;
    let lock = std::fs::File::open(app.data.path().join("device/app.lock"))?;
    until("the app to end", || free(&lock)).await?;

    // Logging in starts it as its entry says: it runs, holding the folder, with no window shown.
    let mut at_login = app.start_again(&["--background"])?;
    until("the app to start", || Ok(!free(&lock)?)).await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    ensure!(at_login.try_wait()?.is_none(), "the app started at login keeps running for its reminder");
    let screen = Screen::connect()?;
    for window in screen.titled("밍기적")? {
        ensure!(!screen.shown(window)?, "the app started at login shows no window");
    }

    // Launching it shows its window.
    ensure!(app.launch_again().await?.success(), "a launch gives way to the app started at login");
    until("the window to be shown", || {
        let windows = screen.titled("밍기적")?;
        Ok(windows.len() == 1 && screen.shown(windows[0])?)
    })
    .await?;
    at_login.kill().await?;
    Ok(())
}
