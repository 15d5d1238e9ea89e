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
