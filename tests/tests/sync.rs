//! Devices that logged offline sign in to one account and sync through a real server on
//! 127.0.0.1: they end with identical documents and identical derived state, on both storage
//! backends.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use mingizuk_client::LocalData;
use mingizuk_client::core::automerge::AutoCommit;
use mingizuk_client::core::schema::DocKind;
use mingizuk_client::core::wire;
use mingizuk_server::storage::DocumentId;
use mingizuk_tests::{Backend, CONVERGE, DAY, Device, START_MS, TestDb, TestServer, converge};

const PASSWORD: &str = "correct horse battery";

async fn two_devices_logged_offline_converge(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let phone = Device::new(&server.url, START_MS).await;
    let laptop = Device::new(&server.url, START_MS + 3 * DAY).await;
    phone.work_out(9).await;
    laptop.work_out(5).await;
    laptop.engine.create_routine("evening", &[]).await.ok();

    phone.cloud.sign_up("mingi@example.com", PASSWORD, "mingi").await.unwrap();
    assert!(phone.cloud.wait_up_to_date(CONVERGE).await, "the phone reaches up to date");
    laptop.cloud.sign_in("mingi@example.com", PASSWORD).await.unwrap();
    assert!(laptop.cloud.wait_up_to_date(CONVERGE).await, "the laptop reaches up to date");
    converge(&[&phone, &laptop]).await;
    let total = phone.engine.derived().await.total_exp;
    assert!(total > 0);

    // Changes made while connected reach the other device without reconnecting.
    laptop.work_out(3).await;
    assert!(laptop.cloud.wait_up_to_date(CONVERGE).await);
    converge(&[&phone, &laptop]).await;
    assert!(phone.engine.derived().await.total_exp > total);

    // A fresh device that never connected pulls the whole account.
    let tablet = new_device_signed_in(&server, START_MS + 4 * DAY).await;
    converge(&[&phone, &laptop, &tablet]).await;
    shut_down(&[&phone, &laptop, &tablet], server, db).await;
}

/// A device that never connected, signed in to mingi's account at `at_ms`, up to date.
async fn new_device_signed_in(server: &TestServer, at_ms: i64) -> Device {
    let device = Device::new(&server.url, at_ms).await;
    device.cloud.sign_in("mingi@example.com", PASSWORD).await.unwrap();
    assert!(device.cloud.wait_up_to_date(CONVERGE).await);
    device
}

/// A phone that logged four workouts offline, then signed up as mingi: up to date.
async fn phone_that_logged_and_signed_up(server: &TestServer) -> Device {
    let phone = Device::new(&server.url, START_MS).await;
    phone.work_out(4).await;
    phone.cloud.sign_up("mingi@example.com", PASSWORD, "mingi").await.unwrap();
    assert!(phone.cloud.wait_up_to_date(CONVERGE).await);
    phone
}

/// Stops every device's sync, then the server, and drops the database.
async fn shut_down(devices: &[&Device], server: TestServer, db: TestDb) {
    for device in devices {
        device.cloud.pause().await;
    }
    server.stop().await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_logged_offline_converge_on_sqlite() {
    two_devices_logged_offline_converge(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_logged_offline_converge_on_mysql() {
    two_devices_logged_offline_converge(Backend::MySql).await;
}

/// `name`'s account, made on one device and signed in on a second, both up to date.
async fn one_account_on_two_devices(server: &TestServer, name: &str) -> (Device, Device) {
    let first = Device::new(&server.url, START_MS).await;
    first.cloud.sign_up(&format!("{name}@example.com"), PASSWORD, name).await.unwrap();
    assert!(first.cloud.wait_up_to_date(CONVERGE).await);
    let second = Device::new(&server.url, START_MS).await;
    second.cloud.sign_in(&format!("{name}@example.com"), PASSWORD).await.unwrap();
    assert!(second.cloud.wait_up_to_date(CONVERGE).await);
    (first, second)
}

/// A device offline for a month, logging every day, catches up in one connection; so does the
/// device that was waiting for it.
async fn a_month_offline_catches_up(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let (home, travel) = one_account_on_two_devices(&server, "muneo").await;
    travel.cloud.pause().await;
    for _ in 0..35 {
        travel.clock.advance(DAY);
        travel.work_out(4).await;
    }
    home.work_out(2).await;
    travel.cloud.resume().await.unwrap();
    assert!(travel.cloud.wait_up_to_date(CONVERGE).await);
    converge(&[&home, &travel]).await;
    assert!(home.engine.derived().await.days.len() >= 30, "a month of days arrived");
    shut_down(&[&home, &travel], server, db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_offline_catches_up_on_sqlite() {
    a_month_offline_catches_up(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_offline_catches_up_on_mysql() {
    a_month_offline_catches_up(Backend::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_leaves_the_device_signed_out_and_its_data_alone() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let first = Device::new(&server.url, START_MS).await;
    first.cloud.sign_up("mongsil@example.com", PASSWORD, "mongsil").await.unwrap();
    let other = Device::new(&server.url, START_MS).await;
    other.work_out(2).await;
    let before = other.visible().await;
    let root = other.engine.root_id().await;
    let error = other.cloud.sign_in("mongsil@example.com", "not the password").await.unwrap_err();
    assert_eq!(error.code(), "invalid_credentials");
    assert!(other.cloud.user().await.is_none());
    assert_eq!(other.engine.root_id().await, root, "the device's data stays its own");
    assert_eq!(other.visible().await, before);
    tokio::time::sleep(Duration::from_millis(10)).await;
    first.cloud.pause().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_keeps_or_removes_this_devices_data_and_the_account_keeps_it_all() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let phone = phone_that_logged_and_signed_up(&server).await;
    let history = phone.visible().await;

    phone.cloud.sign_out(LocalData::Keep).await.unwrap();
    assert!(phone.cloud.user().await.is_none());
    assert_eq!(phone.visible().await, history, "kept: the device still shows its history");
    assert!(!phone.dir.path().join("session.json").exists(), "the session is forgotten");

    phone.cloud.sign_in("mingi@example.com", PASSWORD).await.unwrap();
    assert!(phone.cloud.wait_up_to_date(CONVERGE).await);
    phone.cloud.sign_out(LocalData::Remove).await.unwrap();
    assert!(phone.engine.personal().await.actions.is_empty(), "removed: no history on the device");
    assert_eq!(phone.engine.derived().await.total_exp, 0);

    // The account still has everything: signing in again brings it back.
    phone.cloud.sign_in("mingi@example.com", PASSWORD).await.unwrap();
    let synced = phone.cloud.wait_up_to_date(CONVERGE).await;
    assert!(synced, "{:?}", phone.cloud.status().borrow().clone());
    assert_eq!(phone.visible().await, history);
    phone.cloud.pause().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_unconnected_removes_at_once_what_the_server_holds_and_refuses_what_it_lacks() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let phone = phone_that_logged_and_signed_up(&server).await;
    let laptop = new_device_signed_in(&server, START_MS + DAY).await;
    // No longer connected: a stopped sync leaves the status as a lost connection does.
    for device in [&phone, &laptop] {
        device.cloud.pause().await;
        let mut status = device.cloud.status();
        let offline = status.wait_for(|s| s.phase == mingizuk_client::SyncPhase::Offline);
        tokio::time::timeout(CONVERGE, offline).await.unwrap().unwrap();
    }

    // Everything the phone logged reached the server before the connection ended: no refusal.
    let started = std::time::Instant::now();
    phone.cloud.sign_out(LocalData::Remove).await.unwrap();
    assert!(started.elapsed() < mingizuk_client::sync::UNSYNCED_PATIENCE, "{:?}", started.elapsed());
    assert!(phone.engine.personal().await.actions.is_empty());

    // The laptop logs offline: those records are only here.
    laptop.work_out(1).await;
    let refused = laptop.cloud.sign_out(LocalData::Remove).await;
    assert_eq!(refused.map_err(|e| e.code().to_owned()), Err("unsynced_changes".to_owned()));
    assert!(!laptop.engine.personal().await.actions.is_empty(), "refused: nothing removed");
    server.stop().await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_a_new_signing_key_makes_devices_refresh_not_stall() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let address = server.url.trim_start_matches("http://").to_owned();
    let phone = Device::new(&server.url, START_MS).await;
    phone.cloud.sign_up("mingi@example.com", PASSWORD, "mingi").await.unwrap();
    assert!(phone.cloud.wait_up_to_date(CONVERGE).await);
    server.stop().await;

    // Offline work, then the server comes back signing with another key: the access token the
    // device holds is now refused, its refresh token (in the database) is not.
    phone.work_out(2).await;
    let server = TestServer::start_at(&db, "a-rotated-signing-key-of-enough-length", &address).await;
    let synced = phone.cloud.wait_up_to_date(CONVERGE).await;
    assert!(synced, "{:?}", phone.cloud.status().borrow().clone());
    assert!(phone.cloud.user().await.is_some(), "still signed in");
    phone.cloud.pause().await;
    server.stop().await;
}

/// A device that learns of a month another device logged before the server has it asks for it
/// and is told the server has none. When this device then logs in that month too, it sends the
/// month: it must not keep it back, and must not say it is up to date while it does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_the_server_did_not_have_yet_is_sent_once_this_device_logs_in_it() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let (phone, laptop) = one_account_on_two_devices(&server, "mingi").await;

    // The phone, offline, logs in December; only its account document (which lists December's
    // log) reaches the laptop, by hand, so the server has no December yet.
    phone.cloud.pause().await;
    phone.clock.advance(31 * DAY);
    phone.work_out(2).await;
    let account: Vec<_> =
        phone.engine.export_documents().await.unwrap().into_iter().filter(|d| d.kind == DocKind::Account).collect();
    laptop.engine.merge_documents(&account).await.unwrap();
    assert!(laptop.cloud.wait_up_to_date(CONVERGE).await, "the laptop asked for December and was told there is none");

    laptop.clock.advance(31 * DAY);
    laptop.work_out(3).await;
    assert!(laptop.cloud.wait_up_to_date(CONVERGE).await);
    // Up to date means the server holds it: read back from the server's storage.
    let december = DocKind::Log("2026-12".parse().unwrap()).id_in(laptop.engine.root_id().await);
    let stored = DocumentId::new(wire::document_id(december)).unwrap();
    let chunks = server.storage.load_chunks(&stored).await.unwrap();
    let bytes: Vec<u8> = chunks.into_iter().flat_map(|c| c.bytes).collect();
    let mut held = AutoCommit::load(&bytes).expect("the server holds December");
    let mut held: Vec<String> = held.get_heads().iter().map(|h| h.to_string()).collect();
    held.sort();
    assert_eq!(Some(held), laptop.heads().await.remove(&december), "the server holds the laptop's December");

    // The phone comes back, and a new device signs in: their Decembers and the laptop's are one.
    phone.cloud.resume().await.unwrap();
    assert!(phone.cloud.wait_up_to_date(CONVERGE).await);
    let tablet = new_device_signed_in(&server, START_MS + 31 * DAY).await;
    converge(&[&phone, &laptop, &tablet]).await;
    shut_down(&[&phone, &laptop, &tablet], server, db).await;
}
