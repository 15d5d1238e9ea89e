//! The engine as the app uses it: real SQLite files in a temporary folder, a clock moved by hand.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;

use mingizuk_client::core::catalog::PRESETS;
use mingizuk_client::core::history::ChartMode;
use mingizuk_client::core::rules::ActionPick;
use mingizuk_client::{Engine, ManualClock};

/// 2026-11-02 09:00 in Seoul (UTC+9).
const MONDAY_9AM_KST: i64 = 1_793_577_600_000;
const KST: i32 = 9 * 60;
const HOUR: i64 = 3_600_000;

async fn device(dir: &Path, name: &str, clock: &Arc<ManualClock>) -> Engine {
    Engine::open(&dir.join(format!("{name}.sqlite")), clock.clone()).await.unwrap()
}

fn pick(action: &str, count: u8) -> ActionPick {
    ActionPick { action: action.into(), count }
}

/// Plays every action of the routine's current cycle.
async fn play(engine: &Engine, routine: uuid::Uuid, clock: &ManualClock) -> u32 {
    let mut exp = 0;
    for entry in engine.routine(routine).await.unwrap().entries {
        if !entry.done {
            clock.advance(60_000);
            exp += engine.complete_action(routine, entry.id).await.unwrap().exp_gained;
        }
    }
    exp
}

#[tokio::test]
async fn first_launch_is_usable_offline_with_the_presets_and_no_character() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let engine = device(dir.path(), "phone", &clock).await;
    let routines = engine.routines().await;
    assert_eq!(routines.len(), 2);
    assert!(routines.iter().all(|r| r.preset));
    assert_eq!(routines[0].name, "움직이기 싫은 오늘, 기본만 하자!");
    let home = engine.home().await.unwrap();
    assert!(home.character.is_none());
    assert_eq!(home.drawable.len(), 3);
    assert!(home.main.is_none());
    assert_eq!(home.today.to_string(), "2026-11-02");
}

#[tokio::test]
async fn completing_the_basic_preset_gives_600_exp_and_marks_today() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let engine = device(dir.path(), "phone", &clock).await;
    let basic = PRESETS[0].id;
    let first = engine.routine(basic).await.unwrap().entries[0].id;
    let refused = engine.complete_action(basic, first).await.unwrap_err();
    assert_eq!(refused.code(), "need_character");

    engine.draw_character().await.unwrap();
    engine.set_main(Some(basic)).await.unwrap();
    assert_eq!(play(&engine, basic, &clock).await, 600);

    let home = engine.home().await.unwrap();
    let main = home.main.unwrap();
    assert!(main.complete);
    assert_eq!(home.today_exp, 600);
    assert_eq!(home.character.unwrap().exp, 600);
    assert!(home.character.unwrap().gauge_permille > 0);
    let today = home.tracker.days.iter().find(|d| d.date == home.today).unwrap();
    assert!(today.marked);
    let week = engine.week_page(None, ChartMode::Actions).await.unwrap();
    assert_eq!(week.week, 1);
    assert_eq!(week.bars.iter().find(|b| b.today).unwrap().count, 5);
    let routines = engine.week_page(None, ChartMode::Routines).await.unwrap();
    assert_eq!(routines.bars.iter().find(|b| b.today).unwrap().count, 1);

    let again = engine.complete_action(basic, first).await.unwrap_err();
    assert_eq!(again.code(), "already_completed");
    engine.restart(basic).await.unwrap();
    assert_eq!(engine.routine(basic).await.unwrap().cycle, 2);
    assert_eq!(engine.routine(basic).await.unwrap().done_count, 0);
}

#[tokio::test]
async fn the_daily_cap_clamps_and_the_next_local_day_starts_fresh() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let engine = device(dir.path(), "phone", &clock).await;
    engine.draw_character().await.unwrap();
    let basic = PRESETS[0].id;
    let mut gained = 0;
    for _ in 0..4 {
        gained += play(&engine, basic, &clock).await;
        engine.restart(basic).await.unwrap();
    }
    assert_eq!(gained, 2_000, "four rounds of 600 are clamped to the cap");
    assert_eq!(engine.home().await.unwrap().today_exp, 2_000);
    clock.advance(24 * HOUR);
    assert_eq!(play(&engine, basic, &clock).await, 600);
}

#[tokio::test]
async fn custom_routines_are_created_edited_and_deleted_within_the_limits() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let engine = device(dir.path(), "phone", &clock).await;
    let six = ["squat", "lunge", "plank", "push_up", "sky_bike", "neck_roll"].map(|a| pick(a, 10));
    assert_eq!(engine.create_routine("too many", &six).await.unwrap_err().code(), "routine_too_many_actions");
    assert_eq!(engine.create_routine("", &six[..1]).await.unwrap_err().code(), "routine_name_empty");
    assert_eq!(
        engine.create_routine("zero", &[pick("squat", 0)]).await.unwrap_err().code(),
        "action_count_out_of_range"
    );
    assert_eq!(engine.create_routine("moon", &[pick("moonwalk", 3)]).await.unwrap_err().code(), "unknown_action");
    let id = engine.create_routine("아침 스트레칭", &[pick("neck_roll", 10), pick("squat", 15)]).await.unwrap();
    assert_eq!(engine.create_routine("아침 스트레칭", &six[..1]).await.unwrap_err().code(), "routine_name_taken");
    assert_eq!(engine.routines().await.len(), 3);

    engine.edit_routine(id, "저녁 스트레칭", &[pick("neck_roll", 10), pick("plank", 30)]).await.unwrap();
    let view = engine.routine(id).await.unwrap();
    assert_eq!(view.name, "저녁 스트레칭");
    assert_eq!(
        view.entries.iter().map(|e| (e.action.as_str(), e.count)).collect::<Vec<_>>(),
        [("neck_roll", 10), ("plank", 30)]
    );
    assert_eq!(engine.edit_routine(PRESETS[1].id, "mine", &six[..1]).await.unwrap_err().code(), "preset_read_only");

    engine.set_main(Some(id)).await.unwrap();
    engine.delete_routine(id).await.unwrap();
    assert_eq!(engine.routines().await.len(), 2);
    assert!(engine.home().await.unwrap().main.is_none(), "deleting the main routine clears it");
    assert_eq!(engine.routine(id).await.unwrap_err().code(), "routine_not_found");
}

#[tokio::test]
async fn everything_written_before_a_close_is_there_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let engine = device(dir.path(), "phone", &clock).await;
    engine.draw_character().await.unwrap();
    let custom = engine.create_routine("점심", &[pick("squat", 10), pick("lunge", 10)]).await.unwrap();
    engine.set_main(Some(custom)).await.unwrap();
    // Several days and two months, so that several log documents exist.
    for day in 0..40 {
        clock.set(MONDAY_9AM_KST + day * 24 * HOUR);
        play(&engine, custom, &clock).await;
        engine.restart(custom).await.unwrap();
        let first = engine.routine(custom).await.unwrap().entries[0].id;
        engine.complete_action(custom, first).await.unwrap();
    }
    let routines = engine.routines().await;
    let personal = engine.personal().await;
    let derived = engine.derived().await;
    let device_id = engine.device_id();
    let root = engine.root_id().await;
    engine.close().await.unwrap();

    let reopened = device(dir.path(), "phone", &clock).await;
    assert_eq!(reopened.device_id(), device_id);
    assert_eq!(reopened.root_id().await, root);
    assert_eq!(reopened.routines().await, routines);
    assert_eq!(reopened.personal().await, personal);
    assert_eq!(reopened.derived().await, derived);
    let stored: Vec<_> = reopened.stored_day_totals().await.unwrap();
    let derived_days: Vec<_> = derived.days.iter().map(|(d, t)| (*d, *t)).collect();
    assert_eq!(stored, derived_days, "the SQLite projection equals the fold");
}

#[tokio::test]
async fn offline_logs_from_two_devices_merge_into_one_history() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let phone = device(dir.path(), "phone", &clock).await;
    let laptop = device(dir.path(), "laptop", &clock).await;
    // Each device was used offline before signing in: both drew and logged.
    phone.draw_character().await.unwrap();
    let basic = PRESETS[0].id;
    let phone_first = phone.routine(basic).await.unwrap().entries[0].id;
    phone.complete_action(basic, phone_first).await.unwrap();
    clock.advance(HOUR);
    laptop.draw_character().await.unwrap();
    play(&laptop, basic, &clock).await;
    let laptop_routine = laptop.create_routine("노트북", &[pick("plank", 5)]).await.unwrap();

    // Signing in: the laptop joins the phone's account; then both exchange documents.
    laptop.adopt_account(phone.root_id().await).await.unwrap();
    phone.merge_documents(&laptop.export_documents().await.unwrap()).await.unwrap();
    laptop.merge_documents(&phone.export_documents().await.unwrap()).await.unwrap();

    assert_eq!(phone.personal().await, laptop.personal().await);
    assert_eq!(phone.derived().await, laptop.derived().await);
    assert_eq!(phone.routines().await, laptop.routines().await);
    let merged = phone.derived().await;
    // Played apart before signing in, the preset's first cycles are two: every action counts
    // (they were one cycle when cycles were numbered, and the phone's action vanished).
    assert_eq!(merged.days.values().map(|d| d.actions).sum::<u32>(), 6);
    assert_eq!(merged.total_exp, 700);
    // The phone's draw came first; the laptop's concurrent draw is void.
    assert!(merged.growing.is_some());
    assert!(phone.routine(laptop_routine).await.is_ok());
    assert_eq!(phone.routines().await.len(), 3, "presets merged into one copy each");

    // Merging again changes nothing; a document of another account is refused.
    let before = phone.derived().await;
    phone.merge_documents(&laptop.export_documents().await.unwrap()).await.unwrap();
    assert_eq!(phone.derived().await, before);
    let stranger = device(dir.path(), "stranger", &clock).await;
    let err = phone.merge_documents(&stranger.export_documents().await.unwrap()).await.unwrap_err();
    assert_eq!(err.code(), "invalid_input");
    assert_eq!(phone.derived().await, before);
}

#[tokio::test]
async fn a_corrupt_document_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let phone = device(dir.path(), "phone", &clock).await;
    let mut docs = phone.export_documents().await.unwrap();
    let before = phone.personal().await;
    docs[0].bytes = vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3];
    assert_eq!(phone.merge_documents(&docs).await.unwrap_err().code(), "corrupt_document");
    assert_eq!(phone.personal().await, before);
}

#[tokio::test]
async fn a_completion_records_the_instant_the_local_date_and_the_offset() {
    let dir = tempfile::tempdir().unwrap();
    // 23:30 on Monday in Seoul is still Monday 14:30 UTC.
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST + 14 * HOUR + 30 * 60_000, KST));
    let engine = device(dir.path(), "phone", &clock).await;
    engine.draw_character().await.unwrap();
    let basic = PRESETS[0].id;
    let first = engine.routine(basic).await.unwrap().entries[0].id;
    engine.complete_action(basic, first).await.unwrap();
    let personal = engine.personal().await;
    let completion = personal.actions.values().next().unwrap();
    assert_eq!(completion.moment.offset_minutes, KST);
    assert_eq!(completion.moment.date.to_string(), "2026-11-02");
    assert_eq!(completion.moment.at_ms, clock_now(&clock));
}

fn clock_now(clock: &ManualClock) -> i64 {
    use mingizuk_client::Clock;
    clock.now_ms()
}

#[tokio::test]
async fn idle_maintenance_compacts_documents_without_losing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let engine = device(dir.path(), "phone", &clock).await;
    engine.draw_character().await.unwrap();
    let basic = PRESETS[0].id;
    for _ in 0..16 {
        play(&engine, basic, &clock).await;
        engine.restart(basic).await.unwrap();
    }
    let before = engine.storage_stats().await.unwrap();
    assert_eq!(before.snapshots, 0);
    assert!(before.chunks > 80, "one chunk per change: {before:?}");
    let derived = engine.derived().await;

    engine.maintain().await.unwrap();
    let after = engine.storage_stats().await.unwrap();
    assert!(after.snapshots >= 1, "{after:?}");
    assert!(after.chunks < before.chunks / 4, "{before:?} → {after:?}");
    assert_eq!(engine.derived().await, derived);
    // Writing goes on after compaction, and everything reads back the same after a reopen.
    clock.advance(24 * HOUR);
    play(&engine, basic, &clock).await;
    assert_eq!(engine.derived().await.total_exp, derived.total_exp + 600);
    let (derived, personal) = (engine.derived().await, engine.personal().await);
    engine.close().await.unwrap();
    let reopened = device(dir.path(), "phone", &clock).await;
    assert_eq!(reopened.derived().await, derived);
    assert_eq!(reopened.personal().await, personal);
}

#[tokio::test]
async fn a_storage_failure_is_reported_and_leaves_nothing_half_written() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let engine = device(dir.path(), "phone", &clock).await;
    engine.draw_character().await.unwrap();
    let basic = PRESETS[0].id;
    let entries = engine.routine(basic).await.unwrap().entries;
    engine.complete_action(basic, entries[0].id).await.unwrap();
    let (personal, derived) = (engine.personal().await, engine.derived().await);

    // Another process breaks the projection table: the next completion cannot commit.
    let url = format!("sqlite://{}", dir.path().join("phone.sqlite").display());
    let mut other = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("ALTER TABLE day_totals RENAME TO day_totals_away").execute(&mut other).await.unwrap();
    clock.advance(60_000);
    let err = engine.complete_action(basic, entries[1].id).await.unwrap_err();
    assert_eq!(err.code(), "storage_failed");
    assert_eq!(engine.personal().await, personal, "nothing of the failed write is in memory");
    assert_eq!(engine.derived().await, derived);

    // Once the database is whole again, the same action succeeds, once.
    sqlx::query("ALTER TABLE day_totals_away RENAME TO day_totals").execute(&mut other).await.unwrap();
    other.close().await.unwrap();
    engine.complete_action(basic, entries[1].id).await.unwrap();
    let (personal, derived) = (engine.personal().await, engine.derived().await);
    assert_eq!(derived.total_exp, 200);
    engine.close().await.unwrap();
    let reopened = device(dir.path(), "phone", &clock).await;
    assert_eq!(reopened.personal().await, personal);
    assert_eq!(reopened.derived().await, derived);
    assert_eq!(reopened.export_documents().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_write_stands_when_the_compaction_after_it_fails() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let engine = device(dir.path(), "phone", &clock).await;
    engine.draw_character().await.unwrap();
    // Another process makes snapshots impossible (as a full disk would make the larger write fail):
    // every compaction after a write fails, the writes themselves do not.
    let url = format!("sqlite://{}", dir.path().join("phone.sqlite").display());
    let mut other = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query(
        "CREATE TRIGGER no_snapshots BEFORE INSERT ON chunks WHEN NEW.snapshot = 1
         BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
    )
    .execute(&mut other)
    .await
    .unwrap();
    let basic = PRESETS[0].id;
    let mut exp = 0u64;
    // Past the 1 024 chunks of one document at which a write compacts it.
    let largest = "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM chunks GROUP BY doc_id)";
    while sqlx::query_scalar::<_, i64>(largest).fetch_one(&mut other).await.unwrap() < 1_040 {
        exp += u64::from(play(&engine, basic, &clock).await);
        engine.restart(basic).await.unwrap();
    }
    assert_eq!(engine.storage_stats().await.unwrap().snapshots, 0, "no compaction went through");
    assert_eq!(engine.derived().await.total_exp, exp, "every completion counted");

    // Once it can, idle maintenance compacts (writes wait for twice as many chunks).
    sqlx::query("DROP TRIGGER no_snapshots").execute(&mut other).await.unwrap();
    other.close().await.unwrap();
    exp += u64::from(play(&engine, basic, &clock).await);
    engine.maintain().await.unwrap();
    assert!(engine.storage_stats().await.unwrap().snapshots >= 1);
    let (derived, personal) = (engine.derived().await, engine.personal().await);
    assert_eq!(derived.total_exp, exp);
    engine.close().await.unwrap();
    let reopened = device(dir.path(), "phone", &clock).await;
    assert_eq!(reopened.derived().await, derived);
    assert_eq!(reopened.personal().await, personal);
}
