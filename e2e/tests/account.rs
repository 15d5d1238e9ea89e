//! The desktop app end to end, with an account: the real binary in a real window under Xvfb, a
//! real sync server on 127.0.0.1, headless devices on the other side and a map tile server.
//!
//! Run by `scripts/test.sh` (`xvfb-run cargo test -p mingizuk-e2e`) after it built the app. Its own
//! test binary (apart from `offline.rs`), so each journey runs in a fresh process.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use fantoccini::Locator;
use mingizuk_client::social::Social;
use mingizuk_e2e::notifications::NotificationServer;
use mingizuk_e2e::tiles::{TileServer, tile_of};
use mingizuk_e2e::{App, PATIENCE, draw_character, free_port, now_ms, pass_onboarding};
use mingizuk_tests::{Device, JWT_SECRET, TestDb, TestServer};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_up_syncs_the_device_and_a_meetup_chat_shows_a_message_from_another_member() -> Result<()> {
    let db = TestDb::new(mingizuk_tests::Backend::Sqlite).await;
    // The app starts offline; the server comes up at the address it was given.
    let address = format!("127.0.0.1:{}", free_port()?);
    let server_url = format!("http://{address}");
    let tiles = TileServer::start().await?;
    let notifications = NotificationServer::start().await?;
    let env = [("MINGIZUK_TILE_URL", tiles.template.clone().into()), notifications.env()];
    let app = App::launch_with(&server_url, &env).await?;
    let outcome = account_journey(&app, &db, &address, &tiles, &notifications).await;
    if outcome.is_err() {
        app.screenshot("failure-account").await.ok();
        // What the shell itself says, beside what the screen shows.
        eprintln!("the shell's sync status at the failure: {:?}", app.invoke("sync_status").await);
    }
    app.close().await?;
    outcome
}

async fn account_journey(
    app: &App,
    db: &TestDb,
    address: &str,
    tiles: &TileServer,
    notifications: &NotificationServer,
) -> Result<()> {
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
    // Signing up attaches the device's documents to the account: the indicator says so when
    // the server holds them all.
    app.until_long("the sync indicator says up to date", || async {
        Ok(app.attr("sync-indicator", "data-phase").await?.as_deref() == Some("up_to_date"))
    })
    .await?;
    app.screenshot("12-me-signed-in").await?;

    // A second device of the same account, headless, finds the character drawn in the app.
    let laptop = Device::new(&server.url, now_ms()).await;
    laptop.cloud.sign_in(&email, password).await.context("the second device signs in")?;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while laptop.engine.collection().await.growing.is_none() {
        ensure!(tokio::time::Instant::now() < deadline, "the character drawn in the app reaches the second device");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Another person hosts a meetup that starts soon; the app's user joins it (and is reminded
    // of it on the desktop) and opens its chat.
    let host = Device::new(&server.url, now_ms()).await;
    host.cloud.sign_up("host-e2e@mingizuk.test", "stretch with friends", "모임장").await?;
    let social = Social::open(host.cloud.credentials(), host.dir.path()).await?;
    social.start().await;
    let meetup = create_meetup(&server.url, &host).await?;
    app.click("nav-meetups").await?;
    let card = format!("[data-testid=\"meetup-card\"][data-meetup-id=\"{meetup}\"]");
    app.click_element(&app.client.wait().at_most(PATIENCE).for_element(Locator::Css(&card)).await?).await?;
    app.find("meetup-detail").await?;
    app.click("meetup-join").await?;
    app.find("meetup-leave").await?;
    notifications.until_displayed(1, PATIENCE).await?;
    notifications.screenshot("18-meetup-reminder").await?;
    let shown = notifications.close_all().await?;
    ensure!(
        shown.len() == 1
            && shown[0].summary == MEETUP_TITLE
            && [STARTS_IN_MINUTES, STARTS_IN_MINUTES - 1]
                .iter()
                .any(|minutes| shown[0].body == format!("모임이 {minutes}분 뒤에 시작해요")),
        "a popup says the joined meetup starts in {STARTS_IN_MINUTES} minutes: {shown:?}"
    );
    // The place's map draws the tiles around it, from the tile server the app was given.
    let (x, y) = tile_of(PLACE.0, PLACE.1, 16);
    app.until("the map shows the tile of the meetup's place", || async {
        let loaded = app.select_all("[data-testid=\"place-map\"] img.leaflet-tile-loaded").await?;
        Ok(!loaded.is_empty() && tiles.requests().contains(&(16, x, y)))
    })
    .await?;
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

/// Where the meetup is: Yeouido Hangang Park (latitude, longitude).
const PLACE: (f64, f64) = (37.5284, 126.9327);

const MEETUP_TITLE: &str = "한강 아침 스트레칭";
/// The meetup starts this soon after it is created (within the reminder's half hour).
const STARTS_IN_MINUTES: i64 = 20;

/// A meetup hosted by `host` that starts in [`STARTS_IN_MINUTES`], created over the HTTP API.
async fn create_meetup(server_url: &str, host: &Device) -> Result<i64> {
    let token = host.cloud.credentials().access_token(false).await?;
    let soon = STARTS_IN_MINUTES * 60;
    let at = |seconds: i64| {
        let out = std::process::Command::new("date")
            .args(["-u", "-d", &format!("@{seconds}"), "+%Y-%m-%dT%H:%M:%SZ"])
            .output()
            .expect("date");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let now = now_ms() / 1000;
    let body = json!({
        "title": MEETUP_TITLE,
        "contents": "가볍게 몸 풀고 커피 한 잔!",
        "starts_at": at(now + soon),
        "ends_at": at(now + soon + 3600),
        "location": {"place_name": "여의도 한강공원", "address": "서울특별시 영등포구 여의동로 330", "lat": PLACE.0, "lng": PLACE.1}
    });
    let response =
        reqwest::Client::new().post(format!("{server_url}/v1/meetups")).bearer_auth(token).json(&body).send().await?;
    ensure!(response.status().is_success(), "the meetup is created: {}", response.status());
    let meetup: Value = response.json().await?;
    meetup["id"].as_i64().context("the meetup has an id")
}
