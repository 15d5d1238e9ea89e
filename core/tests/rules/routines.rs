//! Routines (§3): names, 1–5 actions counted 1–99, read-only presets, deletion, the main routine.

use mingizuk_core::RuleError;
use mingizuk_core::catalog::{self, PRESETS};
use mingizuk_core::limits::{ACTION_COUNT_MAX, ROUTINE_NAME_MAX_CHARS};
use mingizuk_core::rules::Change;
use uuid::Uuid;

use crate::support::{KST, User, basic, date, local, workout};

#[test]
fn a_routine_name_has_1_to_30_characters_counted_as_unicode_characters() {
    let mut user = User::new();
    let thirty = "가".repeat(30);
    assert_eq!(thirty.len(), 90, "90 bytes, 30 characters");
    assert_eq!(ROUTINE_NAME_MAX_CHARS, 30);
    user.create(&thirty, &[("squat", 10)]);
    let thirty_one = "나".repeat(31);
    assert_eq!(user.try_create(&thirty_one, &[("squat", 10)]), Err(RuleError::NameTooLong { max: 30 }));
    assert_eq!(user.try_create("", &[("squat", 10)]), Err(RuleError::NameEmpty));
    assert_eq!(user.try_create(" \t ", &[("squat", 10)]), Err(RuleError::NameEmpty));
    let a = user.create("a", &[("squat", 10)]);
    assert_eq!(user.edit(a, &thirty_one, &[("squat", 10)]), Err(RuleError::NameTooLong { max: 30 }));
    assert_eq!(user.edit(a, "  ", &[("squat", 10)]), Err(RuleError::NameEmpty));
}

#[test]
fn a_routine_name_is_trimmed() {
    let mut user = User::new();
    let id = user.create("  아침 운동 \n", &[("squat", 10)]);
    assert_eq!(user.personal.routines[&id].name, "아침 운동");
    // 30 characters plus spaces around them is still 30 characters.
    let padded = format!("  {}  ", "다".repeat(30));
    user.create(&padded, &[("squat", 10)]);
    user.edit(id, " 저녁 운동 ", &[("squat", 10)]).unwrap();
    assert_eq!(user.personal.routines[&id].name, "저녁 운동");
}

#[test]
fn a_routine_name_is_unique_among_live_routines() {
    let mut user = User::new();
    let morning = user.create("아침", &[("squat", 10)]);
    assert_eq!(user.try_create("아침", &[("lunge", 10)]), Err(RuleError::NameTaken("아침".into())));
    assert_eq!(user.try_create(" 아침 ", &[("lunge", 10)]), Err(RuleError::NameTaken("아침".into())));
    assert_eq!(
        user.try_create(PRESETS[0].name_ko, &[("lunge", 10)]),
        Err(RuleError::NameTaken(PRESETS[0].name_ko.into())),
        "preset names are taken too"
    );
    // Editing may keep the routine's own name, but not take another's.
    let evening = user.create("저녁", &[("lunge", 10)]);
    user.edit(morning, "아침", &[("squat", 20)]).unwrap();
    assert_eq!(user.edit(evening, "아침", &[("lunge", 10)]), Err(RuleError::NameTaken("아침".into())));
    // A deleted routine's name is free again.
    user.delete(morning).unwrap();
    let again = user.create("아침", &[("plank", 10)]);
    assert_ne!(again, morning);
    assert_eq!(user.personal.live_routines().filter(|r| r.name == "아침").count(), 1);
}

#[test]
fn a_routine_has_1_to_5_actions() {
    let mut user = User::new();
    assert_eq!(user.try_create("없음", &[]), Err(RuleError::NoActions));
    let five = [("squat", 1), ("lunge", 2), ("plank", 3), ("push_up", 4), ("sky_bike", 5)];
    let id = user.create("다섯", &five);
    assert_eq!(user.personal.routines[&id].entries.len(), 5);
    let six = [("squat", 1), ("lunge", 2), ("plank", 3), ("push_up", 4), ("sky_bike", 5), ("breathing", 6)];
    assert_eq!(user.try_create("여섯", &six), Err(RuleError::TooManyActions { max: 5 }));
    assert_eq!(user.edit(id, "다섯", &six), Err(RuleError::TooManyActions { max: 5 }));
    assert_eq!(user.edit(id, "다섯", &[]), Err(RuleError::NoActions));
    assert_eq!(user.personal.routines[&id].entries.len(), 5, "a refused edit changes nothing");
}

#[test]
fn each_action_is_counted_1_to_99() {
    let mut user = User::new();
    let range = Err(RuleError::CountOutOfRange { min: 1, max: 99 });
    assert_eq!(user.try_create("영", &[("squat", 0)]).map(|_| ()), range);
    assert_eq!(user.try_create("백", &[("squat", 100)]).map(|_| ()), range);
    assert_eq!(user.try_create("최대", &[("squat", u8::MAX)]).map(|_| ()), range);
    let id = user.create("하나와 구십구", &[("squat", 1), ("lunge", ACTION_COUNT_MAX)]);
    let counts: Vec<u8> = user.personal.routines[&id].entries.iter().map(|e| e.count).collect();
    assert_eq!(counts, [1, 99]);
    assert_eq!(user.edit(id, "하나와 구십구", &[("squat", 0)]).map(|_| ()), range);
}

#[test]
fn unknown_or_duplicate_actions_are_refused() {
    let mut user = User::new();
    assert_eq!(user.try_create("문워크", &[("moonwalk", 10)]), Err(RuleError::UnknownAction("moonwalk".into())));
    assert_eq!(user.try_create("대문자", &[("Squat", 10)]), Err(RuleError::UnknownAction("Squat".into())));
    assert_eq!(
        user.try_create("두번", &[("squat", 10), ("lunge", 10), ("squat", 20)]),
        Err(RuleError::DuplicateAction("squat".into()))
    );
    assert_eq!(catalog::ACTIONS.len(), 18);
    for action in catalog::ACTIONS {
        user.create(action.id, &[(action.id, 10)]);
    }
}

#[test]
fn presets_are_read_only_but_playable() {
    let mut user = User::new();
    assert_eq!(user.personal.live_routines().filter(|r| r.preset).count(), 2);
    for preset in [basic(), workout()] {
        let name = user.personal.routines[&preset].name.clone();
        assert_eq!(user.edit(preset, &name, &[("squat", 10)]), Err(RuleError::PresetReadOnly));
        assert_eq!(user.delete(preset), Err(RuleError::PresetReadOnly));
    }
    assert_eq!(RuleError::PresetReadOnly.code(), "preset_read_only");
    user.set_main(Some(workout())).unwrap();
    assert_eq!(user.personal.main_routine().unwrap().id, workout());
    let day = date("2025-03-03");
    user.draw(local(day, 6, 0, KST), 0).unwrap();
    user.complete_first(workout(), 4, local(day, 8, 0, KST));
    assert_eq!(user.derived().total_exp, 480);
}

#[test]
fn a_deleted_or_unknown_routine_cannot_be_played_edited_or_made_main() {
    let mut user = User::new();
    let day = date("2025-03-03");
    user.draw(local(day, 6, 0, KST), 0).unwrap();
    let id = user.create("곧 삭제", &[("squat", 10), ("lunge", 10)]);
    let entry = user.entry(id, 0);
    user.complete_entry(id, entry, local(day, 7, 0, KST)).unwrap();
    user.delete(id).unwrap();
    assert!(user.personal.routines[&id].deleted, "deletion is soft");
    assert_eq!(user.delete(id), Err(RuleError::RoutineDeleted));
    assert_eq!(user.edit(id, "곧 삭제", &[("squat", 10)]), Err(RuleError::RoutineDeleted));
    assert_eq!(user.set_main(Some(id)), Err(RuleError::RoutineDeleted));
    assert_eq!(user.complete(id, 1, local(day, 8, 0, KST)), Err(RuleError::RoutineDeleted));
    assert_eq!(user.restart(id), Err(RuleError::RoutineDeleted));
    assert_eq!(user.reset(id), Err(RuleError::RoutineDeleted));
    assert_eq!(user.derived().total_exp, 100, "what was done before the deletion stays in the history");

    let unknown = Uuid::from_u128(u128::MAX);
    assert_eq!(user.edit(unknown, "x", &[("squat", 10)]), Err(RuleError::RoutineNotFound));
    assert_eq!(user.delete(unknown), Err(RuleError::RoutineNotFound));
    assert_eq!(user.set_main(Some(unknown)), Err(RuleError::RoutineNotFound));
    assert_eq!(user.complete_entry(unknown, entry, local(day, 9, 0, KST)), Err(RuleError::RoutineNotFound));
}

#[test]
fn at_most_one_main_routine_and_deleting_it_clears_it() {
    let mut user = User::new();
    assert_eq!(user.personal.main_routine(), None);
    let a = user.create("a", &[("squat", 10)]);
    let b = user.create("b", &[("squat", 10)]);
    user.set_main(Some(a)).unwrap();
    user.set_main(Some(b)).unwrap();
    assert_eq!(user.personal.account.main_routine, Some(b));
    user.delete(a).unwrap();
    assert_eq!(user.personal.account.main_routine, Some(b), "deleting another routine keeps the main one");
    let changes = user.delete(b).unwrap();
    assert_eq!(changes, [Change::DeleteRoutine(b), Change::SetMain(None)]);
    assert_eq!(user.personal.account.main_routine, None);
    user.set_main(Some(basic())).unwrap();
    user.set_main(None).unwrap();
    assert_eq!(user.personal.main_routine(), None);
}
