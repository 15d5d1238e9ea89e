//! What an export file must be before an import writes any of it (PRODUCT.md §9): every date
//! within the life of the product, every completion once, and log months that name one document
//! and read back as themselves.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use chrono::NaiveDate;
use mingizuk_core::automerge::ActorId;
use mingizuk_core::catalog::{Character, PRESETS};
use mingizuk_core::export::{self, CLOCK_MARGIN_MS, EARLIEST_MS, Export, ImportDetails, ImportReason};
use mingizuk_core::model::{
    ActionCompletion, CompletionKey, Cycle, CycleInfo, CycleKey, CycleStart, Draw, Moment, Personal, Routine,
    RoutineCompletion,
};
use mingizuk_core::schema::{self, DocKind, Month};
use uuid::Uuid;

/// 2026-11-02 09:00 in Seoul (UTC+9).
const MONDAY_9AM_KST: i64 = 1_793_577_600_000;
const KST: i32 = 9 * 60;
const DAY: i64 = 24 * 3_600_000;

/// A device that has just opened the app: the presets, nothing else.
fn new_device() -> Personal {
    let actor = ActorId::from(&[7_u8; 16][..]);
    Personal {
        account: schema::read_account(&schema::genesis(DocKind::Account, &actor)).unwrap(),
        routines: schema::read_routines(&schema::genesis(DocKind::Routines, &actor)).unwrap(),
        ..Personal::default()
    }
}

fn at(at_ms: i64) -> Moment {
    Moment::new(at_ms, KST).unwrap()
}

fn basic_action(entry: usize, at_ms: i64) -> ActionCompletion {
    let (id, action, count) = PRESETS[0].entries[entry];
    ActionCompletion {
        key: CompletionKey { routine: PRESETS[0].id, cycle: Cycle::FIRST, entry: id },
        action: action.into(),
        count,
        moment: at(at_ms),
    }
}

/// Two weeks of a phone's history, exported on its last day.
fn export_of_two_weeks() -> Export {
    let first = MONDAY_9AM_KST - 14 * DAY;
    let mut file = export::export(&new_device(), MONDAY_9AM_KST);
    file.started.insert("phone".into(), at(first).date);
    file.draws.push(Draw { id: Uuid::from_u128(1), character: Character::Mingi, at_ms: first });
    file.routines.push(Routine {
        id: Uuid::from_u128(2),
        name: "아침".into(),
        preset: false,
        entries: vec![mingizuk_core::model::Entry { id: Uuid::from_u128(3), action: "squat".into(), count: 10 }],
        created_at_ms: first,
        deleted: false,
        cycles: BTreeMap::new(),
    });
    file.action_completions = (0..PRESETS[0].entries.len()).map(|i| basic_action(i, first + i as i64 * DAY)).collect();
    file.routine_completions.push(RoutineCompletion {
        key: CycleKey { routine: PRESETS[0].id, cycle: Cycle::FIRST },
        actions: PRESETS[0].entries.len() as u8,
        moment: at(first + 4 * DAY),
    });
    file
}

fn refusal(file: &Export, now_ms: i64) -> String {
    match export::plan_import_at(&new_device(), file, now_ms) {
        Ok(plan) => panic!("taken: {:?}", plan.report),
        Err(e) => {
            assert_eq!(e.code(), "invalid_import", "{e}");
            e.to_string()
        }
    }
}

#[test]
fn a_month_label_reads_back_as_the_month_it_was_written_from() {
    for year in [-10_000, -1, 0, 1, 2020, 2026, 9999, 10_000] {
        for month in [1, 12] {
            let kind = DocKind::Log(Month { year, month });
            assert_eq!(DocKind::parse(&kind.label()), Some(kind), "{}", kind.label());
        }
    }
    // Only the spelling a month is written in: another would name another document.
    for label in ["log/+2026-01", "log/2026-1", "log/02026-01", "log/2026-13", "log/2026", "log/-01"] {
        assert_eq!(DocKind::parse(label), None, "{label}");
    }
}

#[test]
fn a_two_weeks_export_imports_up_to_the_edges_of_the_product_span() {
    let mut file = export_of_two_weeks();
    assert!(export::plan_import_at(&new_device(), &file, MONDAY_9AM_KST).is_ok());
    // The first instant of 2020, and a day past the export (another device's clock ahead).
    file.action_completions[0].moment = at(EARLIEST_MS);
    file.action_completions[1].moment = at(MONDAY_9AM_KST + CLOCK_MARGIN_MS);
    file.started.insert("old phone".into(), "2019-12-31".parse().unwrap());
    let plan = export::plan_import_at(&new_device(), &file, MONDAY_9AM_KST).unwrap();
    assert_eq!(plan.report.completions, 6);
}

#[test]
fn a_record_dated_before_mingizuk_or_after_the_export_is_refused() {
    let file = export_of_two_weeks();
    let year_minus_one = chrono::NaiveDate::from_ymd_opt(-1, 6, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
    let far_future = MONDAY_9AM_KST + 1000 * 365 * DAY;
    let mut cases: Vec<(&str, Export)> = Vec::new();
    let mut case = |name, edit: &dyn Fn(&mut Export)| {
        let mut f = file.clone();
        edit(&mut f);
        cases.push((name, f));
    };
    case("a completion in year -1", &|f| {
        f.action_completions[0].moment = at(year_minus_one.and_utc().timestamp_millis());
    });
    case("a completion a minute before 2020", &|f| f.action_completions[0].moment = at(EARLIEST_MS - 60_000));
    case("a completion a thousand years ahead", &|f| f.action_completions[2].moment = at(far_future));
    case("a completion two days after the export", &|f| {
        f.action_completions[2].moment = at(MONDAY_9AM_KST + 2 * DAY);
    });
    case("a routine completion in 1970", &|f| f.routine_completions[0].moment = at(0));
    case("a draw in 1970", &|f| f.draws[0].at_ms = 0);
    case("a draw a thousand years ahead", &|f| f.draws[0].at_ms = far_future);
    case("a device started in 1999", &|f| {
        f.started.insert("tablet".into(), "1999-01-01".parse().unwrap());
    });
    case("a device started in 2999", &|f| {
        f.started.insert("tablet".into(), "2999-01-01".parse().unwrap());
    });
    case("a custom routine created in 1970", &|f| f.routines.last_mut().unwrap().created_at_ms = 0);
    case("an export made in 1970", &|f| f.exported_at_ms = 0);
    for (name, f) in cases {
        let reason = refusal(&f, MONDAY_9AM_KST);
        assert!(reason.contains("dated"), "{name}: {reason}");
    }
}

#[test]
fn an_export_dated_after_the_devices_clock_brings_nothing_later_than_the_clock() {
    let mut file = export_of_two_weeks();
    // The file claims an export in the year 3000 and a completion to match.
    file.exported_at_ms = MONDAY_9AM_KST + 1000 * 365 * DAY;
    file.action_completions[0].moment = at(file.exported_at_ms);
    let reason = refusal(&file, MONDAY_9AM_KST);
    assert!(reason.contains(&at(file.exported_at_ms).date.to_string()), "{reason}");
    // The plan's changes are checked against the clock too, for a caller without one.
    let plan = export::plan_import(&new_device(), &file).unwrap();
    let late = export::check_dated_by(&plan.changes, MONDAY_9AM_KST).unwrap_err();
    assert_eq!(late.code(), "invalid_import");
    assert!(export::check_dated_by(&plan.changes, file.exported_at_ms).is_ok());
}

#[test]
fn an_import_that_repeats_a_completion_is_refused() {
    let file = export_of_two_weeks();
    let mut twice = file.clone();
    let mut again = twice.action_completions[1].clone();
    again.moment = at(again.moment.at_ms + DAY);
    twice.action_completions.push(again);
    assert!(refusal(&twice, MONDAY_9AM_KST).contains("appears twice"));

    let mut cycle_twice = file.clone();
    let mut again = cycle_twice.routine_completions[0].clone();
    again.moment = at(again.moment.at_ms - DAY);
    again.actions = 1;
    cycle_twice.routine_completions.push(again);
    assert!(refusal(&cycle_twice, MONDAY_9AM_KST).contains("appears twice"));
}

#[test]
fn a_cycle_numbered_past_a_million_is_refused() {
    let mut file = export_of_two_weeks();
    let routine = Uuid::from_u128(2);
    let next = |number| CycleInfo { number, start: CycleStart::Restart, at_ms: MONDAY_9AM_KST - DAY };
    let custom = file.routines.iter_mut().find(|r| r.id == routine).unwrap();
    // Numbers may skip (a file from a build that read one copy of a routine): taken.
    custom.cycles.insert(Cycle::Id(Uuid::from_u128(10)), next(7));
    assert!(export::plan_import_at(&new_device(), &file, MONDAY_9AM_KST).is_ok(), "cycle 7 after the first");
    // A number near the last one: the routine could never be restarted again.
    let custom = file.routines.iter_mut().find(|r| r.id == routine).unwrap();
    custom.cycles.insert(Cycle::Id(Uuid::from_u128(11)), next(u32::MAX));
    assert!(refusal(&file, MONDAY_9AM_KST).contains("past 1000000"));
}

/// The reason a refusal hands the app, and what it names.
fn refused_for(file: &Export, now_ms: i64) -> (ImportReason, ImportDetails) {
    match export::plan_import_at(&new_device(), file, now_ms) {
        Ok(plan) => panic!("taken: {:?}", plan.report),
        Err(e) => {
            let refusal = e.import_refusal().unwrap_or_else(|| panic!("no reason: {e}"));
            (refusal.reason, refusal.details.clone())
        }
    }
}

fn naming(routine: Option<&str>, date: Option<NaiveDate>, max: Option<u32>) -> ImportDetails {
    ImportDetails { routine: routine.map(str::to_owned), date, max, version: None }
}

#[test]
fn each_kind_of_bad_record_is_refused_with_a_reason_and_the_routine_or_date_it_concerns() {
    use ImportReason as R;
    let file = export_of_two_weeks();
    let basics = new_device().account.language.pick(PRESETS[0].name_ko, PRESETS[0].name_en).to_owned();
    fn custom(f: &mut Export) -> &mut Routine {
        f.routines.iter_mut().find(|r| !r.preset).unwrap()
    }
    let routine = |name: &str| naming(Some(name), None, None);
    let dated = |date: NaiveDate| naming(None, Some(date), None);
    let basics_on = |date: NaiveDate| naming(Some(&basics), Some(date), None);
    let (now, later) = (MONDAY_9AM_KST, MONDAY_9AM_KST + 10 * DAY);
    let far_future = at(now + 1000 * 365 * DAY);
    let before_2020 = at(EARLIEST_MS - 60_000);
    let two_days_after = at(now + 2 * DAY);
    let in_2999: NaiveDate = "2999-01-01".parse().unwrap();
    let check = |name: &str, now_ms: i64, reason: ImportReason, details: ImportDetails, edit: &dyn Fn(&mut Export)| {
        let mut f = file.clone();
        edit(&mut f);
        assert_eq!(refused_for(&f, now_ms), (reason, details), "{name}");
    };
    check("a routine twice", now, R::Duplicate, routine("아침"), &|f| {
        let again = custom(f).clone();
        f.routines.push(again);
    });
    check("a completion twice", now, R::Duplicate, routine(&basics), &|f| {
        f.action_completions.push(f.action_completions[0].clone());
    });
    check("a draw twice", now, R::Duplicate, ImportDetails::default(), &|f| f.draws.push(f.draws[0]));
    check("a preset of a later build", now, R::UnknownPreset, routine("아침"), &|f| custom(f).preset = true);
    check("an empty name", now, R::BadName, naming(None, None, Some(30)), &|f| custom(f).name = "  ".into());
    check("a long name", now, R::BadName, naming(Some(&"a".repeat(31)), None, Some(30)), &|f| {
        custom(f).name = "a".repeat(31);
    });
    check("no actions", now, R::BadActions, routine("아침"), &|f| custom(f).entries.clear());
    check("an action not in the catalog", now, R::BadActions, routine("아침"), &|f| {
        custom(f).entries[0].action = "teleport".into();
    });
    check("a cycle past a million", now, R::BadCycle, routine("아침"), &|f| {
        let info = CycleInfo { number: u32::MAX, start: CycleStart::Restart, at_ms: now - DAY };
        custom(f).cycles.insert(Cycle::Id(Uuid::from_u128(11)), info);
    });
    check("a count of zero", now, R::BadCompletion, routine(&basics), &|f| f.action_completions[0].count = 0);
    check("a date not the instant's", now, R::BadCompletion, routine(&basics), &|f| {
        let date = f.routine_completions[0].moment.date;
        f.routine_completions[0].moment.date = date.succ_opt().unwrap();
    });
    check("a main routine not in the file", now, R::Damaged, ImportDetails::default(), &|f| {
        f.settings.main_routine = Some(Uuid::from_u128(99));
    });
    check("a completion before 2020", now, R::BadDate, basics_on(before_2020.date), &|f| {
        f.action_completions[0].moment = before_2020;
    });
    check("a completion after the export", later, R::BadDate, basics_on(two_days_after.date), &|f| {
        f.action_completions[0].moment = two_days_after;
    });
    check("a completion after the clock", now, R::FutureDate, basics_on(far_future.date), &|f| {
        f.exported_at_ms = far_future.at_ms;
        f.action_completions[0].moment = far_future;
    });
    check("a device started in 2999", now, R::FutureDate, dated(in_2999), &|f| {
        f.started.insert("tablet".into(), in_2999);
    });
    // A device whose clock reads 1970 is told to check it, not that the file is damaged.
    assert_eq!(refused_for(&file, 0).0, R::FutureDate);
}
