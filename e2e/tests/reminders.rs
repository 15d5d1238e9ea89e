//! Reminders end to end: the real app under Xvfb sends its daily reminder to a real desktop
//! notification server (dunst on a private D-Bus, drawing on the same X screen), which shows it as
//! a popup — the path a reminder takes on a Linux desktop.
//!
//! Run by `scripts/test.sh` (`xvfb-run cargo test -p mingizuk-e2e`) after it built the app.

use std::time::Duration;

use anyhow::{Result, ensure};
use mingizuk_e2e::notifications::{NotificationServer, Shown};
use mingizuk_e2e::{App, PATIENCE, free_port, pass_onboarding};

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
