//! The main routine as home and the daily reminder see it (done today, finished across devices)
//! and switching it with a reset, on real SQLite files and a clock moved by hand.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;

use mingizuk_client::core::catalog::PRESETS;
use mingizuk_client::core::rules::ActionPick;
use mingizuk_client::{Engine, ManualClock};
use uuid::Uuid;

/// 2026-11-02 09:00 in Seoul (UTC+9).
const MONDAY_9AM_KST: i64 = 1_793_577_600_000;
const KST: i32 = 9 * 60;
const DAY: i64 = 24 * 3_600_000;

async fn device(dir: &Path, name: &str, clock: &Arc<ManualClock>) -> Engine {
    Engine::open(&dir.join(format!("{name}.sqlite")), clock.clone()).await.unwrap()
}

/// Completes the routine's entries `from..to` of its current cycle, a minute apart.
async fn complete(engine: &Engine, routine: Uuid, clock: &ManualClock, from: usize, to: usize) {
    let entries = engine.routine(routine).await.unwrap().entries;
    for entry in &entries[from..to] {
        clock.advance(60_000);
        engine.complete_action(routine, entry.id).await.unwrap();
    }
}

/// A phone on Monday 9 am in Seoul with a character drawn and the basic preset as main.
async fn phone_playing_basic() -> (tempfile::TempDir, Arc<ManualClock>, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let phone = device(dir.path(), "phone", &clock).await;
    phone.draw_character().await.unwrap();
    phone.set_main(Some(PRESETS[0].id)).await.unwrap();
    (dir, clock, phone)
}

#[tokio::test]
async fn home_says_todays_routine_is_done_only_on_the_day_a_cycle_of_it_was_completed() {
    let (_dir, clock, phone) = phone_playing_basic().await;
    let basic = PRESETS[0].id;
    let home = phone.home().await.unwrap();
    assert!(!home.done_today && !home.main.unwrap().complete);
    assert!(!phone.main_routine_done_today().await.unwrap());

    complete(&phone, basic, &clock, 0, 5).await;
    let home = phone.home().await.unwrap();
    assert!(home.done_today, "the whole routine was done today");
    assert!(phone.main_routine_done_today().await.unwrap());

    // The next day the cycle is still complete (it waits for a restart), but today's is not done.
    clock.advance(DAY);
    let home = phone.home().await.unwrap();
    assert!(home.main.unwrap().complete, "the cycle stays complete until the user restarts it");
    assert!(!home.done_today, "nothing was done today");
    assert!(!phone.main_routine_done_today().await.unwrap(), "so the daily reminder comes");
}

#[tokio::test]
async fn a_main_routine_finished_across_two_devices_is_done_today_and_silences_the_reminder() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let phone = device(dir.path(), "phone", &clock).await;
    let laptop = device(dir.path(), "laptop", &clock).await;
    let basic = PRESETS[0].id;
    phone.draw_character().await.unwrap();
    phone.set_main(Some(basic)).await.unwrap();
    laptop.adopt_account(phone.root_id().await).await.unwrap();
    laptop.merge_documents(&phone.export_documents().await.unwrap()).await.unwrap();

    // Three actions on the phone, the last two on the laptop before either hears of the other.
    complete(&phone, basic, &clock, 0, 3).await;
    complete(&laptop, basic, &clock, 3, 5).await;
    phone.merge_documents(&laptop.export_documents().await.unwrap()).await.unwrap();

    assert!(phone.personal().await.routine_records.is_empty(), "neither device recorded the completion");
    assert_eq!(phone.derived().await.routine_totals[&basic], 1, "the fold counts it all the same");
    assert!(phone.main_routine_done_today().await.unwrap(), "no daily reminder: the routine is done");
    let home = phone.home().await.unwrap();
    assert!(home.done_today && home.main.unwrap().complete);
}

#[tokio::test]
async fn switching_the_main_routine_with_a_reset_does_both_or_neither() {
    let (dir, clock, phone) = phone_playing_basic().await;
    let basic = PRESETS[0].id;
    complete(&phone, basic, &clock, 0, 2).await;
    let gone = phone.create_routine("플랭크만", &[ActionPick { action: "plank".into(), count: 3 }]).await.unwrap();
    // The routine the user is switching to was deleted meanwhile (on another device, say).
    phone.delete_routine(gone).await.unwrap();

    let refused = phone.switch_main(Some(gone), Some(basic)).await.unwrap_err();
    assert_eq!(refused.code(), "routine_deleted");
    let main = phone.home().await.unwrap().main.unwrap();
    assert_eq!((main.id, main.cycle, main.done_count), (basic, 1, 2), "the old main keeps its progress");

    let workout = PRESETS[1].id;
    phone.switch_main(Some(workout), Some(basic)).await.unwrap();
    assert_eq!(phone.home().await.unwrap().main.unwrap().id, workout);
    let old = phone.routine(basic).await.unwrap();
    assert_eq!((old.cycle, old.done_count, old.is_main), (2, 0, false), "the old main starts a fresh cycle");
    phone.close().await.unwrap();
    let reopened = device(dir.path(), "phone", &clock).await;
    assert_eq!(reopened.home().await.unwrap().main.unwrap().id, workout, "both changes were stored");
    assert_eq!(reopened.routine(basic).await.unwrap().cycle, 2);
}
