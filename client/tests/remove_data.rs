//! Removing this device's data (signing out with "remove data") on real SQLite files: the old
//! data goes and the fresh start comes in one transaction, so a disk failure half-way leaves the
//! device exactly as it was.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;

use mingizuk_client::core::catalog::PRESETS;
use mingizuk_client::{Engine, ManualClock};
use sqlx::{Connection, SqliteConnection};

/// 2026-11-02 09:00 in Seoul (UTC+9).
const MONDAY_9AM_KST: i64 = 1_793_577_600_000;
const KST: i32 = 9 * 60;

async fn open(path: &Path, clock: &Arc<ManualClock>) -> Engine {
    Engine::open(path, clock.clone()).await.unwrap()
}

async fn complete(engine: &Engine, entry: usize) {
    let basic = PRESETS[0].id;
    let entry = engine.routine(basic).await.unwrap().entries[entry].id;
    engine.complete_action(basic, entry).await.unwrap();
}

#[tokio::test]
async fn removing_this_devices_data_that_fails_half_way_leaves_the_device_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.sqlite");
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let phone = open(&path, &clock).await;
    phone.draw_character().await.unwrap();
    complete(&phone, 0).await;
    let (root, device) = (phone.root_id().await, phone.device_id());
    let (personal, documents) = (phone.personal().await, phone.export_documents().await.unwrap());

    // The disk refuses new documents from now on: the old ones could go, the fresh ones cannot come.
    let mut db = SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query("CREATE TRIGGER refuse BEFORE INSERT ON documents BEGIN SELECT RAISE(FAIL, 'disk full'); END")
        .execute(&mut db)
        .await
        .unwrap();
    let err = phone.wipe().await.unwrap_err();
    assert_eq!(err.code(), "storage_failed", "{err}");
    assert_eq!((phone.root_id().await, phone.device_id()), (root, device), "the same account and device");
    assert_eq!(phone.personal().await, personal);
    assert_eq!(phone.export_documents().await.unwrap(), documents, "every document still stored");

    // The device goes on as before, and its history survives a restart.
    sqlx::query("DROP TRIGGER refuse").execute(&mut db).await.unwrap();
    clock.advance(60_000);
    complete(&phone, 1).await;
    let derived = phone.derived().await;
    assert_eq!(derived.action_totals.values().sum::<u32>(), 2);
    phone.close().await.unwrap();
    let phone = open(&path, &clock).await;
    assert_eq!(phone.derived().await, derived);
    assert_eq!(phone.root_id().await, root);

    // Once the disk takes it, the data goes: a new account root and device, presets, no history.
    phone.wipe().await.unwrap();
    assert_ne!(phone.root_id().await, root);
    assert_ne!(phone.device_id(), device);
    assert!(phone.personal().await.actions.is_empty());
    let fresh = phone.derived().await;
    let routines = phone.routines().await;
    assert_eq!(routines.len(), PRESETS.len());
    phone.close().await.unwrap();
    let phone = open(&path, &clock).await;
    assert_eq!(phone.derived().await, fresh);
    assert_eq!(phone.routines().await, routines);
    phone.draw_character().await.unwrap();
    complete(&phone, 0).await;
}
