//! One device's data is open in one copy of the app at a time: a second copy started on the same
//! data folder (a double click on the launcher) is refused with `data_in_use` and changes nothing,
//! rather than writing as the same Automerge actor and leaving documents no replica can load.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use mingizuk_client::{Engine, ManualClock};

/// 2026-11-02 09:00 in Seoul (UTC+9).
const MONDAY_9AM_KST: i64 = 1_793_577_600_000;

#[tokio::test]
async fn a_second_copy_on_the_same_data_is_refused_until_the_first_closes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.sqlite");
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, 9 * 60));
    let first = Engine::open(&path, clock.clone()).await.unwrap();
    let character = first.draw_character().await.unwrap();

    let second = Engine::open(&path, clock.clone()).await.err().expect("a second copy must be refused");
    assert_eq!(second.code(), "data_in_use");
    assert_eq!(first.personal().await.account.draws.len(), 1, "the first copy goes on untouched");

    first.close().await.unwrap();
    let reopened = Engine::open(&path, clock).await.unwrap();
    assert_eq!(reopened.derived().await.growing.map(|g| g.character), Some(character));
}

/// Copies the database files of `from` to `to` (a backup, or the folder moved to a new computer).
fn copy_database(from: &std::path::Path, to: &std::path::Path) {
    for suffix in ["", "-wal"] {
        let (mut source, mut target) = (from.as_os_str().to_owned(), to.as_os_str().to_owned());
        source.push(suffix);
        target.push(suffix);
        if std::path::Path::new(&source).exists() {
            std::fs::copy(&source, &target).unwrap();
        }
    }
}

#[tokio::test]
async fn a_data_folder_restored_from_a_backup_still_merges_with_what_was_written_after_the_backup() {
    let dir = tempfile::tempdir().unwrap();
    let (path, backup) = (dir.path().join("device.sqlite"), dir.path().join("backup.sqlite"));
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, 9 * 60));
    let basic = mingizuk_client::core::catalog::PRESETS[0].id;
    let phone = Engine::open(&path, clock.clone()).await.unwrap();
    phone.draw_character().await.unwrap();
    phone.set_main(Some(basic)).await.unwrap();
    phone.close().await.unwrap();
    copy_database(&path, &backup);

    // The original goes on; so, later, does the restored copy: the same account writes on both.
    let original = Engine::open(&path, clock.clone()).await.unwrap();
    let first = original.routine(basic).await.unwrap().entries[0].id;
    original.complete_action(basic, first).await.unwrap();
    clock.advance(60_000);
    let restored = Engine::open(&backup, clock.clone()).await.unwrap();
    let second = restored.routine(basic).await.unwrap().entries[1].id;
    restored.complete_action(basic, second).await.unwrap();

    original.merge_documents(&restored.export_documents().await.unwrap()).await.unwrap();
    restored.merge_documents(&original.export_documents().await.unwrap()).await.unwrap();
    assert_eq!(original.personal().await.actions.len(), 2, "both completions are kept");
    assert_eq!(original.derived().await, restored.derived().await);
}
