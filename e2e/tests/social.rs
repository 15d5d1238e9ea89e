//! The desktop app signs in with a social account end to end: the real binary under Xvfb, a real
//! sync server on 127.0.0.1 configured for Kakao, and a fake Kakao on loopback (the one the
//! server's own tests use). The app opens "the browser" through the OS (`xdg-open`); here that is a
//! script first on the app's `PATH` that follows the redirects with curl, as a browser whose user
//! approves at once would: server → provider → server → the app's loopback address (RFC 8252).
//!
//! Run by `scripts/test.sh` with the other end-to-end tests; its own test binary.

#[path = "../../sync-server/tests/fake_idp/mod.rs"]
mod fake_idp;

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use fake_idp::{FakeIdp, Flavor, browse};
use mingizuk_e2e::{App, PATIENCE, draw_character, now_ms, pass_onboarding};
use mingizuk_tests::{Device, JWT_SECRET, TestDb, TestServer};
use reqwest::StatusCode;

const EMAIL: &str = "mongsil@example.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_with_kakao_opens_the_browser_and_the_devices_data_joins_the_account() -> Result<()> {
    let db = TestDb::new(mingizuk_tests::Backend::Sqlite).await;
    let idp = FakeIdp::start(Flavor::Kakao).await;
    idp.sign_in_as("kakao-e2e-1", Some(EMAIL));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let server_url = format!("http://{}", listener.local_addr()?);
    let mut env = idp.env("MINGIZUK_OAUTH_KAKAO");
    env.push(("MINGIZUK_PUBLIC_URL".to_owned(), server_url.clone()));
    let server = TestServer::start_on(&db, listener, JWT_SECRET, env).await;

    let browser = tempfile::tempdir()?;
    let log = browser.path().join("browser.log");
    let path = install_browser(browser.path(), &log)?;
    let app = App::launch_with(&server_url, &[("PATH", path)]).await?;
    let outcome = journey(&app, &server).await;
    if outcome.is_err() {
        app.screenshot("failure-social").await.ok();
        eprintln!("the browser's log: {}", std::fs::read_to_string(&log).unwrap_or_default());
    }
    app.close().await?;
    server.stop().await;
    outcome
}

async fn journey(app: &App, server: &TestServer) -> Result<()> {
    pass_onboarding(app).await?;
    draw_character(app).await?;
    app.click("nav-me").await?;
    app.click("social-kakao").await?;
    app.until_long("the app is signed in with the Kakao account", || async {
        Ok(app.invoke("account").await?["user"]["email"].as_str() == Some(EMAIL))
    })
    .await?;
    let profile = app.find("me-nickname").await?;
    app.until_long("the sync indicator says up to date", || async {
        Ok(app.attr("sync-indicator", "data-phase").await?.as_deref() == Some("up_to_date"))
    })
    .await?;
    app.show(&profile).await?;
    app.screenshot("16-me-signed-in-with-kakao").await?;
    attach_photo(app).await?;

    // Another device signs in with the same Kakao account: the same user, and the character
    // drawn in the app before it signed in.
    let laptop = Device::new(&server.url, now_ms()).await;
    let pending = laptop.cloud.begin_social_sign_in("kakao").await?;
    let url = pending.browser_url.clone();
    let (page, user) = tokio::join!(browse(&url), laptop.cloud.finish_social_sign_in(pending, PATIENCE));
    ensure!(page.0 == StatusCode::OK, "the hand-off page answers");
    let user = user.context("the second device signs in with Kakao")?;
    let account = app.invoke("account").await?;
    ensure!(account["user"]["id"].as_str() == Some(user.id.as_str()), "one account for one Kakao user: {account}");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while laptop.engine.collection().await.growing.is_none() {
        ensure!(tokio::time::Instant::now() < deadline, "the character drawn in the app reaches the second device");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    laptop.cloud.pause().await;
    Ok(())
}

/// Attaches a PNG to a new meetup through the form's file input (WebDriver types the file's
/// path into it, as a person picks the file) and waits for the preview: the image as the server
/// serves it, so the bytes went through the shell's `upload_image` to the server and back.
async fn attach_photo(app: &App) -> Result<()> {
    app.click("nav-meetups").await?;
    app.click("meetup-write").await?;
    let png = Path::new(env!("CARGO_MANIFEST_DIR")).join("../src-tauri/icons/32x32.png").canonicalize()?;
    app.find("meetup-image").await?.send_keys(&png.to_string_lossy()).await?;
    let preview = "const img = document.querySelector('[data-testid=\"meetup-form\"] img.preview');\n\
                   const error = document.querySelector('[data-testid=\"image-error\"]');\n\
                   return { width: img && img.complete ? img.naturalWidth : 0, error: error && error.dataset.code };";
    let shown = app
        .until("the uploaded photo is shown in the meetup form", || async {
            Ok(app.client.execute(preview, vec![]).await?["width"] == 32)
        })
        .await;
    if shown.is_err() {
        eprintln!("the photo field at the failure: {:?}", app.client.execute(preview, vec![]).await);
    }
    shown?;
    app.screenshot("19-meetup-photo-uploaded").await?;
    Ok(())
}

/// Writes the e2e "browser" into `dir` as `xdg-open`; the `PATH` that finds it first. It returns
/// at once (a browser does not block the app) and logs what curl says to `log`.
fn install_browser(dir: &Path, log: &Path) -> Result<OsString> {
    let script = dir.join("xdg-open");
    let text = format!(
        "#!/bin/sh\n# The end-to-end tests' browser: follows the sign-in's redirects, as a user approving at once.\n\
         echo \"open $1\" >> '{log}'\n\
         curl --silent --show-error --location --max-redirs 10 --output /dev/null --write-out '%{{http_code}} %{{url_effective}}\\n' \"$1\" >> '{log}' 2>&1 &\n",
        log = log.display()
    );
    std::fs::write(&script, text)?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
    let mut path = OsString::from(dir);
    if let Some(system) = std::env::var_os("PATH") {
        path.push(":");
        path.push(system);
    }
    Ok(path)
}
