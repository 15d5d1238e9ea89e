//! Data one account left on a device (signed out keeping it) never joins another account signing
//! in there unasked: the sign-in is refused with `other_account_data` and changes nothing, until
//! the user chooses to merge it. The same account again, a fresh device and a device whose data
//! was removed are never asked (PRODUCT.md §1: signing in attaches the device's local data).
#![allow(clippy::unwrap_used)]

use mingizuk_client::LocalData;
use mingizuk_tests::{CONVERGE, DAY, Device, START_MS, TestDb, TestServer, converge, reopened};

const PASSWORD: &str = "correct horse battery";
const MINGI: &str = "mingi@example.com";
const MUNEO: &str = "muneo@example.com";

/// How many actions the device's history holds.
async fn actions(device: &Device) -> usize {
    device.engine.personal().await.actions.len()
}

/// A device that never connected, signed in to `email`'s account, up to date.
async fn signed_in(server: &TestServer, email: &str, at_ms: i64) -> Device {
    let device = Device::new(&server.url, at_ms).await;
    device.cloud.sign_in(email, PASSWORD).await.unwrap();
    assert!(device.cloud.wait_up_to_date(CONVERGE).await);
    device
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_account_signing_in_is_asked_before_the_data_kept_on_the_device_joins_it() {
    let db = TestDb::new(mingizuk_tests::Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    // Muneo's own account, used on a tablet: two actions.
    let tablet = Device::new(&server.url, START_MS).await;
    tablet.work_out(2).await;
    tablet.cloud.sign_up(MUNEO, PASSWORD, "muneo").await.unwrap();
    assert!(tablet.cloud.wait_up_to_date(CONVERGE).await);

    // Mingi logs four actions on the phone, syncs, and signs out keeping the data.
    let phone = Device::new(&server.url, START_MS).await;
    phone.work_out(4).await;
    phone.cloud.sign_up(MINGI, PASSWORD, "mingi").await.unwrap();
    assert!(phone.cloud.wait_up_to_date(CONVERGE).await);
    phone.cloud.sign_out(LocalData::Keep).await.unwrap();
    let (root, heads, history) = (phone.engine.root_id().await, phone.heads().await, phone.visible().await);

    // Muneo signs in on the phone: asked first, and nothing changed meanwhile.
    let refused = phone.cloud.sign_in(MUNEO, PASSWORD).await.unwrap_err();
    assert_eq!(refused.code(), "other_account_data", "{refused}");
    assert!(phone.cloud.user().await.is_none(), "not signed in");
    assert!(!phone.dir.path().join("session.json").exists(), "no session saved");
    assert_eq!(phone.engine.root_id().await, root, "the documents still carry mingi's account");
    assert_eq!(phone.heads().await, heads, "no document changed");
    assert_eq!(phone.visible().await, history, "the device still shows mingi's history");
    // Muneo's account holds only muneo's actions: a fresh device signing in finds two.
    let desk = signed_in(&server, MUNEO, START_MS + DAY).await;
    assert_eq!(actions(&desk).await, 2);

    // Cancelled: the held sign-in is gone, and there is nothing to merge into.
    phone.cloud.cancel_sign_in().await;
    let nothing = phone.cloud.attach_other_account_data().await.unwrap_err();
    assert_eq!(nothing.code(), "signed_out");
    assert_eq!(phone.heads().await, heads);

    // Asked again, muneo chooses to merge: the account gets mingi's history.
    let refused = phone.cloud.sign_in(MUNEO, PASSWORD).await.unwrap_err();
    assert_eq!(refused.code(), "other_account_data");
    let user = phone.cloud.attach_other_account_data().await.unwrap();
    assert_eq!(user.email, MUNEO);
    assert_eq!(phone.cloud.user().await.unwrap().email, MUNEO);
    assert_ne!(phone.engine.root_id().await, root, "the documents now carry muneo's account");
    assert!(phone.cloud.wait_up_to_date(CONVERGE).await);
    converge(&[&phone, &tablet, &desk]).await;
    // Muneo's two actions and mingi's four were played in two accounts: two cycles, six actions.
    assert_eq!(actions(&tablet).await, 6, "muneo's devices hold mingi's history too");

    for device in [&phone, &tablet, &desk] {
        device.cloud.pause().await;
    }
    server.stop().await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_account_again_a_fresh_device_and_a_device_whose_data_was_removed_are_not_asked() {
    let db = TestDb::new(mingizuk_tests::Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    // A fresh device with history of its own signs up: attached silently.
    let phone = Device::new(&server.url, START_MS).await;
    phone.work_out(3).await;
    phone.cloud.sign_up(MINGI, PASSWORD, "mingi").await.unwrap();
    assert!(phone.cloud.wait_up_to_date(CONVERGE).await);
    let root = phone.engine.root_id().await;

    // Signed out keeping the data, the app restarted: the same account signs in unasked.
    phone.cloud.sign_out(LocalData::Keep).await.unwrap();
    let Device { engine, cloud, dir, .. } = phone;
    drop((engine, cloud));
    let (engine, cloud) = reopened(dir.path(), &server.url, START_MS + DAY).await;
    cloud.sign_in(MINGI, PASSWORD).await.unwrap();
    assert_eq!(engine.root_id().await, root);
    assert!(cloud.wait_up_to_date(CONVERGE).await);
    assert_eq!(engine.personal().await.actions.len(), 3);

    // Signed out removing the data: the device is a new one, and another account takes it
    // (with what was logged since) unasked; mingi's history stays mingi's.
    cloud.sign_out(LocalData::Remove).await.unwrap();
    cloud.sign_up(MUNEO, PASSWORD, "muneo").await.unwrap();
    assert!(cloud.wait_up_to_date(CONVERGE).await);
    assert!(engine.personal().await.actions.is_empty());
    let desk = signed_in(&server, MINGI, START_MS + 2 * DAY).await;
    assert_eq!(actions(&desk).await, 3);

    cloud.pause().await;
    desk.cloud.pause().await;
    server.stop().await;
    db.drop_database().await;
}
