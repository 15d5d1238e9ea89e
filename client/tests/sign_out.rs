//! Removing this device's data when signing out or deleting the account never loses what was
//! logged offline unless the user says so (PRODUCT.md §1): while the server lacks changes made
//! here, sync gets a short while to finish, and then the removal is refused with
//! `unsynced_changes`; `LocalData::Discard` removes all the same.
#![allow(clippy::unwrap_used)]

mod fake_server;

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use mingizuk_client::core::automerge::transaction::Transactable;
use mingizuk_client::core::automerge::{AutoCommit, ROOT, ReadDoc};
use mingizuk_client::core::catalog::PRESETS;
use mingizuk_client::core::schema::DocKind;
use mingizuk_client::sync::UNSYNCED_PATIENCE;
use mingizuk_client::{Cloud, Engine, LocalData, ManualClock};
use sqlx::{Connection, SqliteConnection};

/// 2026-11-02 09:00 in Seoul (UTC+9).
const MONDAY_9AM_KST: i64 = 1_793_577_600_000;
/// Nothing listens on port 9 ("discard"): a device that never reaches its server.
const NO_SERVER: &str = "http://127.0.0.1:9";

/// A device signed in earlier, now offline, that logged an action since it last synced.
async fn signed_in_offline(dir: &Path) -> (Arc<Engine>, Cloud) {
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, 9 * 60));
    let engine = Arc::new(Engine::open(&dir.join("device.sqlite"), clock).await.unwrap());
    fake_server::save_session(NO_SERVER, dir);
    let cloud = Cloud::new(engine.clone(), NO_SERVER, dir).unwrap();
    cloud.resume().await.unwrap();
    engine.draw_character().await.unwrap();
    let basic = PRESETS[0].id;
    let first = engine.routine(basic).await.unwrap().entries[0].id;
    engine.complete_action(basic, first).await.unwrap();
    (engine, cloud)
}

#[tokio::test]
async fn signing_out_offline_keeps_unsynced_history_unless_the_user_agrees_to_lose_it() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, cloud) = signed_in_offline(dir.path()).await;

    let started = Instant::now();
    let refused = cloud.sign_out(LocalData::Remove).await.unwrap_err();
    assert_eq!(refused.code(), "unsynced_changes");
    assert!(started.elapsed() >= UNSYNCED_PATIENCE, "sync was given its chance to finish first");
    assert!(cloud.user().await.is_some(), "still signed in");
    assert_eq!(engine.personal().await.actions.len(), 1, "the offline action is still on the device");

    cloud.sign_out(LocalData::Discard).await.unwrap();
    assert!(cloud.user().await.is_none());
    assert!(engine.personal().await.actions.is_empty(), "the user chose to lose it: removed");
    assert_eq!(engine.derived().await.total_exp, 0);
}

#[tokio::test]
async fn deleting_the_account_offline_with_remove_refuses_before_deleting_anything() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, cloud) = signed_in_offline(dir.path()).await;

    let refused = cloud.delete_account(LocalData::Remove).await.unwrap_err();
    assert_eq!(refused.code(), "unsynced_changes", "refused before asking the server: {refused}");
    assert!(cloud.user().await.is_some());
    assert_eq!(engine.personal().await.actions.len(), 1);
    // Keeping the data needs no wait: the server is asked (and here cannot be reached).
    assert_eq!(cloud.delete_account(LocalData::Keep).await.unwrap_err().code(), "network_failed");
    cloud.pause().await;
}

/// An older build of the app, run on the same data folder in between, stores its changes without
/// counting them: the device that opens after it must not take its last confirmation for the
/// whole story, or removing its data offline would lose what that build logged.
#[tokio::test]
async fn changes_stored_by_an_older_build_in_between_wait_for_the_server_before_removal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.sqlite");
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, 9 * 60));
    // Nothing waits: the device has just removed its data and started over.
    let engine = Engine::open(&path, clock.clone()).await.unwrap();
    engine.wipe().await.unwrap();
    let routines = engine.export_documents().await.unwrap().into_iter().find(|d| d.kind == DocKind::Routines).unwrap();
    engine.close().await.unwrap();
    let reopened = Arc::new(Engine::open(&path, clock.clone()).await.unwrap());
    let cloud = Cloud::new(reopened.clone(), NO_SERVER, dir.path()).unwrap();
    assert_eq!(cloud.status().borrow().writes_waiting, 0, "this build's own restart changes nothing");
    drop(cloud);
    Arc::into_inner(reopened).unwrap().close().await.unwrap();

    // The older build adds a change to the routines document, as one chunk, and counts nothing.
    let mut doc = AutoCommit::load(&routines.bytes).unwrap();
    doc.put(ROOT, "older_build_note", "kept").unwrap();
    doc.commit();
    let change = doc.save_incremental();
    let mut db = SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query("INSERT INTO chunks (doc_id, hash, snapshot, bytes) VALUES (?, 'older-build', 0, ?)")
        .bind(routines.id.to_string())
        .bind(change)
        .execute(&mut db)
        .await
        .unwrap();
    db.close().await.unwrap();

    // Opened offline, that change waits, removal is refused, and a second restart still counts it.
    for _ in 0..2 {
        let engine = Arc::new(Engine::open(&path, clock.clone()).await.unwrap());
        let cloud = Cloud::new(engine.clone(), NO_SERVER, dir.path()).unwrap();
        let status = cloud.status().borrow().clone();
        assert_eq!((status.changes_waiting, status.writes_waiting), (true, 1), "{status:?}");
        let refused = cloud.sign_out(LocalData::Remove).await.unwrap_err();
        assert_eq!(refused.code(), "unsynced_changes");
        let kept = engine.export_documents().await.unwrap().into_iter().find(|d| d.kind == DocKind::Routines).unwrap();
        assert!(AutoCommit::load(&kept.bytes).unwrap().get(ROOT, "older_build_note").unwrap().is_some());
        drop(cloud);
        Arc::into_inner(engine).unwrap().close().await.unwrap();
    }
}
