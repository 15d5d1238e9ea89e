//! An import file's dates, through the engine on real SQLite files: a file that would name a log
//! month the app cannot read back, or fill years to come, is refused whole, and the app keeps
//! opening.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;

use mingizuk_client::core::catalog::PRESETS;
use mingizuk_client::core::export::Export;
use mingizuk_client::core::model::Moment;
use mingizuk_client::{Engine, ManualClock};

/// 2026-11-02 09:00 in Seoul (UTC+9).
const MONDAY_9AM_KST: i64 = 1_793_577_600_000;
const KST: i32 = 9 * 60;
const DAY: i64 = 24 * 3_600_000;

async fn device(dir: &Path, name: &str, clock: &Arc<ManualClock>) -> Engine {
    Engine::open(&dir.join(format!("{name}.sqlite")), clock.clone()).await.unwrap()
}

/// A phone that drew a character and played the basic preset once, and its export.
async fn phone_export(dir: &Path, clock: &Arc<ManualClock>) -> Export {
    let phone = device(dir, "phone", clock).await;
    phone.draw_character().await.unwrap();
    let basic = PRESETS[0].id;
    for entry in phone.routine(basic).await.unwrap().entries {
        clock.advance(60_000);
        phone.complete_action(basic, entry.id).await.unwrap();
    }
    let file = serde_json::from_str(&phone.export_json().await.unwrap()).unwrap();
    phone.close().await.unwrap();
    file
}

fn moment(at_ms: i64) -> Moment {
    Moment::new(at_ms, KST).unwrap()
}

#[tokio::test]
async fn a_completion_dated_in_year_minus_one_is_refused_and_the_app_opens_again() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let mut file = phone_export(dir.path(), &clock).await;
    let year_minus_one = chrono::NaiveDate::from_ymd_opt(-1, 1, 15).unwrap().and_hms_opt(0, 0, 0).unwrap();
    file.action_completions[0].moment = moment(year_minus_one.and_utc().timestamp_millis());

    let laptop = device(dir.path(), "laptop", &clock).await;
    let documents = laptop.export_documents().await.unwrap();
    let err = laptop.import(&serde_json::to_string(&file).unwrap()).await.unwrap_err();
    assert_eq!(err.code(), "invalid_import", "{err}");
    assert_eq!(laptop.export_documents().await.unwrap(), documents, "nothing was written");
    laptop.close().await.unwrap();
    let laptop = device(dir.path(), "laptop", &clock).await;
    assert_eq!(laptop.export_documents().await.unwrap(), documents);
}

#[tokio::test]
async fn a_file_that_claims_an_export_in_years_to_come_cannot_log_past_the_devices_clock() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let mut file = phone_export(dir.path(), &clock).await;
    // Every record and the export itself moved consistently into the next century.
    let shift = 80 * 365 * DAY;
    file.exported_at_ms += shift;
    for c in &mut file.action_completions {
        c.moment = moment(c.moment.at_ms + shift);
    }
    for c in &mut file.routine_completions {
        c.moment = moment(c.moment.at_ms + shift);
    }
    for d in &mut file.draws {
        d.at_ms += shift;
    }

    let laptop = device(dir.path(), "laptop", &clock).await;
    let documents = laptop.export_documents().await.unwrap();
    let derived = laptop.derived().await;
    let err = laptop.import(&serde_json::to_string(&file).unwrap()).await.unwrap_err();
    assert_eq!(err.code(), "invalid_import", "{err}");
    assert!(err.to_string().contains("this device's clock"), "{err}");
    assert_eq!(laptop.export_documents().await.unwrap(), documents, "no log document of 2106 was made");
    assert_eq!(laptop.derived().await, derived);
}

#[tokio::test]
async fn an_import_that_repeats_a_completion_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let mut file = phone_export(dir.path(), &clock).await;
    let mut later = file.action_completions[0].clone();
    later.moment = moment(later.moment.at_ms + 3_600_000);
    file.action_completions.push(later);

    let laptop = device(dir.path(), "laptop", &clock).await;
    let documents = laptop.export_documents().await.unwrap();
    let err = laptop.import(&serde_json::to_string(&file).unwrap()).await.unwrap_err();
    assert_eq!(err.code(), "invalid_import", "{err}");
    assert_eq!(laptop.export_documents().await.unwrap(), documents);
}

#[tokio::test]
async fn a_cycle_finished_with_an_action_from_a_device_whose_clock_runs_ahead_can_be_restarted_here() {
    let dir = tempfile::tempdir().unwrap();
    let here = Arc::new(ManualClock::new(MONDAY_9AM_KST, KST));
    let ahead = Arc::new(ManualClock::new(MONDAY_9AM_KST + 3 * DAY, KST));
    let laptop = device(dir.path(), "laptop", &here).await;
    let phone = device(dir.path(), "phone", &ahead).await;
    phone.draw_character().await.unwrap();
    laptop.adopt_account(phone.root_id().await).await.unwrap();
    laptop.merge_documents(&phone.export_documents().await.unwrap()).await.unwrap();
    let basic = PRESETS[0].id;
    let entries = laptop.routine(basic).await.unwrap().entries;
    let (last, rest) = entries.split_last().unwrap();
    for entry in rest {
        laptop.complete_action(basic, entry.id).await.unwrap();
    }
    // Offline, the phone plays the one action left: neither device saw the whole cycle done.
    assert!(!phone.complete_action(basic, last.id).await.unwrap().routine_completed);
    laptop.merge_documents(&phone.export_documents().await.unwrap()).await.unwrap();

    // The cycle's completion takes the time of its last action: three days after this clock.
    laptop.restart(basic).await.unwrap();
    assert_eq!(laptop.routine(basic).await.unwrap().cycle, 2);
}
