//! The sync indicator says how many of this device's changes wait for the server (PRODUCT.md §1),
//! offline too, and a device remembers across a restart what the server holds: one closed while
//! up to date may remove its data offline after it opens again, one closed with changes waiting
//! still counts them.
#![allow(clippy::unwrap_used)]

use mingizuk_client::sync::{SyncStatus, UNSYNCED_PATIENCE};
use mingizuk_client::{Cloud, LocalData, SyncPhase};
use mingizuk_tests::{Backend, CONVERGE, DAY, Device, START_MS, TestDb, TestServer, reopened};

/// Waits until the device's status satisfies `what`, and returns it.
async fn status_where(cloud: &Cloud, what: impl Fn(&SyncStatus) -> bool) -> SyncStatus {
    let mut status = cloud.status();
    let found = tokio::time::timeout(CONVERGE, status.wait_for(|s| what(s))).await;
    assert!(found.is_ok(), "the status stayed {:?}", cloud.status().borrow().clone());
    cloud.status().borrow().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_indicator_counts_the_changes_waiting_offline_and_remembers_them_after_a_restart() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let phone = Device::new(&server.url, START_MS).await;
    phone.work_out(1).await;
    phone.cloud.sign_up("mingi@example.com", "correct horse battery", "mingi").await.unwrap();
    assert!(phone.cloud.wait_up_to_date(CONVERGE).await);
    let synced = phone.cloud.status().borrow().clone();
    assert_eq!((synced.changes_waiting, synced.writes_waiting), (false, 0), "{synced:?}");

    // Offline (syncing stopped), three changes wait, and the indicator says three.
    phone.cloud.pause().await;
    status_where(&phone.cloud, |s| s.phase == SyncPhase::Offline).await;
    phone.work_out(3).await;
    let offline = status_where(&phone.cloud, |s| s.writes_waiting == 3).await;
    assert!(offline.changes_waiting, "{offline:?}");

    // Closed and opened again, still offline: the three still wait, and removing the device's
    // data is refused at once.
    let Device { engine, cloud, dir, .. } = phone;
    drop((engine, cloud));
    let (engine, cloud) = reopened(dir.path(), &server.url, START_MS + DAY).await;
    let after_restart = cloud.status().borrow().clone();
    assert_eq!(after_restart.phase, SyncPhase::Offline);
    assert_eq!((after_restart.changes_waiting, after_restart.writes_waiting), (true, 3), "{after_restart:?}");
    let refused = cloud.sign_out(LocalData::Remove).await.unwrap_err();
    assert_eq!(refused.code(), "unsynced_changes");

    // Back online, they go, and nothing waits.
    cloud.resume().await.unwrap();
    assert!(cloud.wait_up_to_date(CONVERGE).await, "{:?}", cloud.status().borrow().clone());
    assert_eq!(cloud.status().borrow().writes_waiting, 0);

    // Closed while up to date and opened offline: the device knows the server holds everything,
    // so its data may be removed at once, without syncing first.
    cloud.pause().await;
    drop((engine, cloud));
    let (engine, cloud) = reopened(dir.path(), &server.url, START_MS + 2 * DAY).await;
    let known = cloud.status().borrow().clone();
    assert_eq!((known.phase, known.changes_waiting, known.writes_waiting), (SyncPhase::Offline, false, 0));
    let started = std::time::Instant::now();
    cloud.sign_out(LocalData::Remove).await.unwrap();
    assert!(started.elapsed() < UNSYNCED_PATIENCE, "{:?}", started.elapsed());
    assert!(engine.personal().await.actions.is_empty(), "removed");

    // The device that comes after starts as a new one: nothing of the old count waits.
    drop((engine, cloud));
    let (_engine, cloud) = reopened(dir.path(), &server.url, START_MS + 3 * DAY).await;
    let fresh = cloud.status().borrow().clone();
    assert_eq!((fresh.changes_waiting, fresh.writes_waiting), (false, 0), "{fresh:?}");
    server.stop().await;
    db.drop_database().await;
}
