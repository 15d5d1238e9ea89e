//! Export of all personal data and its import back (PRODUCT.md §9), through the engine on real
//! SQLite files: what a person does to move their history to a new device or keep a backup.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;

use mingizuk_client::core::catalog::PRESETS;
use mingizuk_client::core::export::Export;
use mingizuk_client::core::rules::ActionPick;
use mingizuk_client::{Engine, ManualClock};

/// 2026-11-02 09:00 in Seoul (UTC+9).
const MONDAY_9AM_KST: i64 = 1_793_577_600_000;
const KST: i32 = 9 * 60;
const DAY: i64 = 24 * 3_600_000;

async fn device(dir: &Path, name: &str, clock: &Arc<ManualClock>) -> Engine {
    Engine::open(&dir.join(format!("{name}.sqlite")), clock.clone()).await.unwrap()
}

fn pick(action: &str, count: u8) -> ActionPick {
    ActionPick { action: action.into(), count }
}

async fn play(engine: &Engine, routine: uuid::Uuid, clock: &ManualClock) {
    for entry in engine.routine(routine).await.unwrap().entries {
        if !entry.done {
            clock.advance(60_000);
            engine.complete_action(routine, entry.id).await.unwrap();
        }
    }
}

/// A phone used for two weeks: a character, a custom routine set as main and played most days,
/// the basic preset played and restarted, a deleted routine with history.
async fn two_weeks_of_use(dir: &Path, clock: &Arc<ManualClock>) -> Engine {
    let phone = device(dir, "phone", clock).await;
    phone.draw_character().await.unwrap();
    let morning = phone.create_routine("아침, 가볍게", &[pick("squat", 10), pick("plank", 3)]).await.unwrap();
    let gone = phone.create_routine("지울 루틴", &[pick("lunge", 5)]).await.unwrap();
    phone.set_main(Some(morning)).await.unwrap();
    let basic = PRESETS[0].id;
    for day in 0..14 {
        if day % 3 != 2 {
            play(&phone, morning, clock).await;
            phone.restart(morning).await.unwrap();
        }
        if day == 4 {
            play(&phone, basic, clock).await;
            phone.restart(basic).await.unwrap();
            play(&phone, gone, clock).await;
        }
        clock.advance(DAY);
    }
    phone.delete_routine(gone).await.unwrap();
    phone
}

#[tokio::test]
async fn a_new_device_that_imports_the_export_shows_the_same_history_characters_and_routines() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let phone = two_weeks_of_use(dir.path(), &clock).await;
    let file = phone.export_json().await.unwrap();

    let laptop = device(dir.path(), "laptop", &clock).await;
    let report = laptop.import(&file).await.unwrap();
    assert_eq!(report.routines, 2, "the custom routine and the deleted one");
    assert_eq!(report.draws, 1);
    let before = phone.personal().await;
    assert_eq!(report.completions as usize, before.actions.len() + before.routine_records.len());

    assert_eq!(laptop.derived().await, phone.derived().await);
    assert_eq!(laptop.routines().await, phone.routines().await);
    assert_eq!(laptop.stats().await.unwrap(), phone.stats().await.unwrap());
    assert_eq!(laptop.collection().await, phone.collection().await);
    assert_eq!(laptop.home().await.unwrap().main, phone.home().await.unwrap().main);

    // What was imported is stored like anything written on the device.
    let derived = laptop.derived().await;
    laptop.close().await.unwrap();
    let laptop = device(dir.path(), "laptop", &clock).await;
    assert_eq!(laptop.derived().await, derived);
}

#[tokio::test]
async fn importing_the_same_file_twice_adds_nothing_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let phone = two_weeks_of_use(dir.path(), &clock).await;
    let file = phone.export_json().await.unwrap();

    // Into the device it came from: all there already.
    let documents = phone.export_documents().await.unwrap();
    let again = phone.import(&file).await.unwrap();
    assert_eq!((again.routines, again.completions, again.draws), (0, 0, 0));
    assert!(again.already_there > 0);
    assert_eq!(phone.export_documents().await.unwrap(), documents, "not one change was written");

    // Into another device, twice.
    let laptop = device(dir.path(), "laptop", &clock).await;
    laptop.import(&file).await.unwrap();
    let once = laptop.personal().await;
    let second = laptop.import(&file).await.unwrap();
    assert_eq!((second.routines, second.completions, second.draws), (0, 0, 0));
    assert_eq!(laptop.personal().await, once);
    assert_eq!(laptop.routines().await.len(), 3, "two presets and the custom routine, once each");
}

#[tokio::test]
async fn a_custom_routine_whose_name_is_taken_on_the_device_comes_in_renamed() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let phone = device(dir.path(), "phone", &clock).await;
    phone.create_routine("저녁", &[pick("squat", 10)]).await.unwrap();
    let laptop = device(dir.path(), "laptop", &clock).await;
    let own = laptop.create_routine("저녁", &[pick("push_up", 5)]).await.unwrap();
    laptop.set_main(Some(own)).await.unwrap();

    laptop.import(&phone.export_json().await.unwrap()).await.unwrap();
    let mut names: Vec<String> = laptop.routines().await.into_iter().filter(|r| !r.preset).map(|r| r.name).collect();
    names.sort();
    assert_eq!(names, ["저녁", "저녁 (2)"]);
    assert_eq!(laptop.home().await.unwrap().main.unwrap().id, own, "the device's main routine stays");
}

#[tokio::test]
async fn a_damaged_or_foreign_file_is_refused_whole_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let phone = two_weeks_of_use(dir.path(), &clock).await;
    let file: Export = serde_json::from_str(&phone.export_json().await.unwrap()).unwrap();
    let laptop = device(dir.path(), "laptop", &clock).await;
    let documents = laptop.export_documents().await.unwrap();

    let mut zero_count = file.clone();
    zero_count.action_completions.last_mut().unwrap().count = 0;
    let mut wrong_date = file.clone();
    wrong_date.action_completions[3].moment.date = wrong_date.action_completions[3].moment.date.succ_opt().unwrap();
    let mut unknown_action = file.clone();
    unknown_action.routines.iter_mut().find(|r| !r.preset).unwrap().entries[0].action = "teleport".into();
    let mut orphan = file.clone();
    orphan.routines.retain(|r| r.preset);
    let mut fake_preset = file.clone();
    fake_preset.routines.iter_mut().find(|r| !r.preset).unwrap().preset = true;
    let too_big = format!("{{\"format\":\"mingizuk-export\",\"pad\":\"{}\"}}", "x".repeat(33 * 1024 * 1024));
    let cases = [
        ("not JSON", "<html>".to_owned(), "not_json"),
        ("another app's JSON", r#"{"routines":[]}"#.to_owned(), "not_an_export"),
        ("a count of zero", serde_json::to_string(&zero_count).unwrap(), "bad_completion"),
        ("a date that is not the instant's", serde_json::to_string(&wrong_date).unwrap(), "bad_completion"),
        ("an action not in the catalog", serde_json::to_string(&unknown_action).unwrap(), "bad_actions"),
        ("completions of a routine not in the file", serde_json::to_string(&orphan).unwrap(), "damaged"),
        ("a routine posing as a preset", serde_json::to_string(&fake_preset).unwrap(), "unknown_preset"),
        ("a file over the size limit", too_big, "too_big"),
    ];
    for (case, json, reason) in cases {
        let err = laptop.import(&json).await.unwrap_err();
        assert_eq!(err.code(), "invalid_import", "{case}: {err}");
        assert_eq!(err.import_refusal().map(|r| r.reason.as_str()), Some(reason), "{case}: {err}");
        assert_eq!(laptop.export_documents().await.unwrap(), documents, "{case} changed nothing");
    }
}

#[tokio::test]
async fn the_csv_lists_every_completion_oldest_first_with_names_in_the_users_language() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let phone = two_weeks_of_use(dir.path(), &clock).await;
    let csv = phone.export_csv().await.unwrap();
    let lines: Vec<&str> = csv.split_terminator("\r\n").collect();
    assert_eq!(
        lines[0],
        "date,time,utc_offset,kind,routine_id,routine,cycle,action_id,action,count,actions_in_routine"
    );
    let personal = phone.personal().await;
    assert_eq!(lines.len() - 1, personal.actions.len() + personal.routine_records.len());
    assert!(lines[1].starts_with("2026-11-02,09:01:00,UTC+09:00,action,"), "{}", lines[1]);
    assert!(lines[1].contains(",\"아침, 가볍게\",1,squat,스쿼트,10,"), "a name with a comma is quoted: {}", lines[1]);
    let dates: Vec<&str> = lines[1..].iter().map(|l| &l[..10]).collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    assert!(lines.iter().any(|l| l.contains(",routine,") && l.ends_with(",2")), "a routine completion row");

    phone.set_language(mingizuk_client::core::model::Language::En).await.unwrap();
    assert!(phone.export_csv().await.unwrap().contains(",squat,Squat,10,"));
}

#[tokio::test]
async fn completions_imported_into_a_cycle_that_is_not_current_are_folded_like_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let phone = device(dir.path(), "phone", &clock).await;
    let laptop = device(dir.path(), "laptop", &clock).await;
    phone.draw_character().await.unwrap();
    laptop.adopt_account(phone.root_id().await).await.unwrap();
    let basic = PRESETS[0].id;
    play(&phone, basic, &clock).await;
    laptop.merge_documents(&phone.export_documents().await.unwrap()).await.unwrap();
    // Both restart the finished cycle apart, the laptop later: two empty second cycles, the
    // laptop's current; then the phone plays its own through.
    phone.restart(basic).await.unwrap();
    clock.advance(60_000);
    laptop.restart(basic).await.unwrap();
    laptop.merge_documents(&phone.export_documents().await.unwrap()).await.unwrap();
    play(&phone, basic, &clock).await;

    // The laptop imports the phone's export without its record of that cycle's completion: the
    // phone's cycle, with its five actions, becomes current, and its completion is implied.
    let mut file: Export = serde_json::from_str(&phone.export_json().await.unwrap()).unwrap();
    let last = file.routine_completions.iter().map(|c| c.moment).max().unwrap();
    file.routine_completions.retain(|c| c.moment != last);
    laptop.import(&serde_json::to_string(&file).unwrap()).await.unwrap();
    let derived = laptop.derived().await;
    assert_eq!(derived, mingizuk_client::core::fold::Derived::of(&laptop.personal().await));
    assert_eq!(derived.total_exp, 2 * 600, "two cycles, each with its bonus");
}
