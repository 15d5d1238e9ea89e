//! The desktop social sign-in from the app's side: the client (`Cloud`) starts it with its own
//! PKCE challenge and a loopback listener, a "browser" (an HTTP client following redirects by
//! hand) goes through our server and a fake identity provider on loopback, comes back to the
//! app's loopback address, and the app trades the one-time code for a session and syncs.

mod fake_idp;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use fake_idp::{FakeIdp, Flavor, browse};
use mingizuk_client::{Cloud, Engine, ManualClock};
use mingizuk_server::{AppState, Config, server, storage};
use reqwest::StatusCode;

/// 2026-11-02 00:00 UTC.
const START_MS: i64 = 1_793_577_600_000;

async fn start_server(idp: &FakeIdp) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let mut env: HashMap<String, String> = [
        ("MINGIZUK_DATA_DIR".to_owned(), dir.path().display().to_string()),
        ("MINGIZUK_JWT_SECRET".to_owned(), "desktop-social-test-secret-of-32-bytes".to_owned()),
        ("MINGIZUK_PUBLIC_URL".to_owned(), base.clone()),
    ]
    .into();
    env.extend(idp.env("MINGIZUK_OAUTH_KAKAO"));
    let config = Config::from_sources(None, &env).expect("configuration");
    let storage = storage::open(config.database_url.expose()).await.expect("open SQLite");
    tokio::spawn(server::serve(listener, AppState::new(config, storage), std::future::pending()));
    (base, dir)
}

async fn device(server: &str) -> (Arc<Engine>, Cloud, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let clock = Arc::new(ManualClock::new(START_MS, 9 * 60));
    let engine = Arc::new(Engine::open(&dir.path().join("device.sqlite"), clock).await.expect("engine"));
    let cloud = Cloud::new(engine.clone(), server, dir.path()).expect("cloud");
    (engine, cloud, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_signs_in_with_kakao_through_the_browser_and_syncs() {
    let idp = FakeIdp::start(Flavor::Kakao).await;
    idp.sign_in_as("kakao-user-1", Some("mongsil@example.com"));
    let (server, _dir) = start_server(&idp).await;
    let (engine, cloud, _device_dir) = device(&server).await;

    let pending = cloud.begin_social_sign_in("kakao").await.expect("begin");
    assert!(pending.browser_url.starts_with(&format!("{server}/v1/auth/kakao/start?")), "{}", pending.browser_url);
    let browser_url = pending.browser_url.clone();
    let (page, user) =
        tokio::join!(browse(&browser_url), cloud.finish_social_sign_in(pending, Duration::from_secs(30)));
    assert_eq!(page.0, StatusCode::OK);
    assert!(page.1.contains("You can close this window"), "{}", page.1);
    let user = user.expect("signed in");
    assert_eq!(user.email, "mongsil@example.com");
    assert!(cloud.wait_up_to_date(Duration::from_secs(30)).await, "the device syncs after a social sign-in");

    // A second device signing in with the same provider account reaches the same documents.
    let (other_engine, other, _other_dir) = device(&server).await;
    let pending = other.begin_social_sign_in("kakao").await.expect("begin");
    let browser_url = pending.browser_url.clone();
    let (_, again) = tokio::join!(browse(&browser_url), other.finish_social_sign_in(pending, Duration::from_secs(30)));
    assert_eq!(again.expect("signed in").id, user.id);
    assert_eq!(other_engine.root_id().await, engine.root_id().await);
    cloud.pause().await;
    other.pause().await;
}

#[tokio::test]
async fn a_refusal_at_the_provider_reaches_the_app_as_an_error_and_changes_nothing() {
    let idp = FakeIdp::start(Flavor::Kakao).await;
    let (server, _dir) = start_server(&idp).await;
    let (engine, cloud, _device_dir) = device(&server).await;
    let root = engine.root_id().await;
    let pending = cloud.begin_social_sign_in("kakao").await.expect("begin");
    // The browser comes back to the app without a code, as a provider refusal does.
    let callback = pending.browser_url.clone();
    let redirect = reqwest::Url::parse(&callback)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())
        .expect("redirect_uri");
    let refused = format!("{redirect}?error=provider_denied");
    let (page, outcome) = tokio::join!(browse(&refused), cloud.finish_social_sign_in(pending, Duration::from_secs(10)));
    assert_eq!(page.0, StatusCode::OK);
    assert_eq!(outcome.expect_err("refused").code(), "provider_denied");
    assert!(cloud.user().await.is_none());
    assert_eq!(engine.root_id().await, root, "the device's data stays its own");
    assert!(cloud.begin_social_sign_in("myspace").await.is_err(), "unknown providers are refused");
}
