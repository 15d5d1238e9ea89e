//! The engine side of signing in on a device that holds another account's data: documents that
//! took one account's root are refused to another (`other_account_data`, nothing changed) unless
//! the user chose to merge; a device that never had an account, or was wiped, is anyone's.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;

use mingizuk_client::{Engine, ManualClock};
use sqlx::{Connection, SqliteConnection};
use uuid::Uuid;

/// 2026-11-02 09:00 in Seoul (UTC+9).
const MONDAY_9AM_KST: i64 = 1_793_577_600_000;

async fn open(path: &Path) -> Engine {
    Engine::open(path, Arc::new(ManualClock::new(MONDAY_9AM_KST, 9 * 60))).await.unwrap()
}

/// Draws a character and completes one action of the first routine.
async fn log_one(engine: &Engine) {
    engine.draw_character().await.unwrap();
    let routine = &engine.routines().await[0];
    engine.complete_action(routine.id, routine.entries[0].id).await.unwrap();
}

#[tokio::test]
async fn data_attached_to_one_account_goes_to_another_only_when_the_user_merges_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.sqlite");
    let engine = open(&path).await;
    log_one(&engine).await;
    let (mingi, muneo) = (Uuid::new_v4(), Uuid::new_v4());
    engine.adopt_account(mingi).await.unwrap();
    let before = engine.export_documents().await.unwrap();

    let refused = engine.adopt_account(muneo).await.unwrap_err();
    assert_eq!(refused.code(), "other_account_data");
    assert_eq!(engine.root_id().await, mingi);
    assert_eq!(engine.export_documents().await.unwrap(), before, "nothing changed");
    engine.adopt_account(mingi).await.unwrap();
    assert_eq!(engine.export_documents().await.unwrap(), before, "the same account again: nothing to do");

    // Remembered across a restart.
    engine.close().await.unwrap();
    let engine = open(&path).await;
    assert_eq!(engine.adopt_account(muneo).await.unwrap_err().code(), "other_account_data");

    engine.adopt_other_account_data(muneo).await.unwrap();
    assert_eq!(engine.root_id().await, muneo);
    assert_eq!(engine.personal().await.actions.len(), 1, "the history went along");
    // Now muneo's: the next account is asked about it in turn.
    assert_eq!(engine.adopt_account(Uuid::new_v4()).await.unwrap_err().code(), "other_account_data");
}

#[tokio::test]
async fn a_device_that_never_had_an_account_or_was_wiped_is_attached_unasked() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(&dir.path().join("device.sqlite")).await;
    log_one(&engine).await;
    let mingi = Uuid::new_v4();
    engine.adopt_account(mingi).await.unwrap();
    assert_eq!(engine.root_id().await, mingi);
    engine.wipe().await.unwrap();
    let muneo = Uuid::new_v4();
    engine.adopt_account(muneo).await.unwrap();
    assert_eq!(engine.root_id().await, muneo);
}

#[tokio::test]
async fn a_database_from_before_the_account_was_recorded_records_it_when_its_session_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.sqlite");
    let engine = open(&path).await;
    let mingi = Uuid::new_v4();
    engine.adopt_account(mingi).await.unwrap();
    engine.close().await.unwrap();
    // As an older build left it: attached to mingi's account, with no record of it.
    let url = format!("sqlite://{}", path.display());
    let mut conn = SqliteConnection::connect(&url).await.unwrap();
    let removed = sqlx::query("DELETE FROM meta WHERE key = 'account_root'").execute(&mut conn).await.unwrap();
    assert_eq!(removed.rows_affected(), 1);
    conn.close().await.unwrap();

    // Resuming mingi's saved session adopts the same root, and records it.
    let engine = open(&path).await;
    engine.adopt_account(mingi).await.unwrap();
    assert_eq!(engine.adopt_account(Uuid::new_v4()).await.unwrap_err().code(), "other_account_data");
}
