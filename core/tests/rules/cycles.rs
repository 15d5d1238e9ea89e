//! Cycles (§3): restart and reset, edits within a cycle, completing twice; the rule errors' codes.

use mingizuk_core::RuleError;
use mingizuk_core::export::{ImportReason, ImportRefusal};
use mingizuk_core::model::{CompletionKey, Cycle, CycleInfo, CycleStart};
use mingizuk_core::rules::{Change, plan_switch_main};

use crate::support::{KST, User, basic, date, local, workout};

#[test]
fn restart_is_refused_until_the_cycle_is_complete() {
    let mut user = User::new();
    let day = date("2025-03-03");
    user.draw(local(day, 6, 0, KST), 0).unwrap();
    assert_eq!(user.restart(basic()), Err(RuleError::CycleNotComplete), "nothing done");
    user.complete_first(basic(), 4, local(day, 7, 0, KST));
    assert_eq!(user.restart(basic()), Err(RuleError::CycleNotComplete), "four of five done");
    assert_eq!(RuleError::CycleNotComplete.code(), "cycle_not_complete");
    user.complete(basic(), 4, local(day, 8, 0, KST)).unwrap();
    assert_eq!(user.cycle(basic()), 1);
    let changes = user.restart(basic()).unwrap();
    let [Change::StartCycle { routine, cycle: Cycle::Id(_), info }] = changes.as_slice() else { panic!("{changes:?}") };
    assert_eq!((*routine, info.number, info.start), (basic(), 2, CycleStart::Restart));
    assert_eq!(user.cycle(basic()), 2);
    assert!(user.done(basic()).is_empty(), "the new cycle starts with nothing done");
    assert_eq!(user.restart(basic()), Err(RuleError::CycleNotComplete));
}

#[test]
fn each_cycle_can_be_completed_again_and_earns_again() {
    let mut user = User::new();
    let day = date("2025-03-03");
    user.draw(local(day, 6, 0, KST), 0).unwrap();
    for cycle in 1..=3 {
        assert_eq!(user.cycle(basic()), cycle);
        user.complete_first(basic(), 5, local(day, 6 + cycle, 0, KST));
        user.restart(basic()).unwrap();
    }
    let derived = user.derived();
    assert_eq!(derived.total_exp, 1800);
    assert_eq!(derived.routine_totals[&basic()], 3);
    assert_eq!(derived.action_totals["sit_stand"], 3);
    let numbers: Vec<u32> = user.personal.routines[&basic()].cycles.values().map(|c| c.number).collect();
    assert_eq!(numbers.len(), 4, "cycles 1 to 4 were started: {numbers:?}");
    assert!((1..=4).all(|n| numbers.contains(&n)), "{numbers:?}");
}

#[test]
fn reset_starts_a_fresh_cycle_and_keeps_the_exp_earned() {
    let mut user = User::new();
    let day = date("2025-03-03");
    user.draw(local(day, 6, 0, KST), 0).unwrap();
    user.complete_first(basic(), 3, local(day, 7, 0, KST));
    let changes = user.reset(basic()).unwrap();
    let [Change::StartCycle { info, .. }] = changes.as_slice() else { panic!("{changes:?}") };
    assert_eq!((info.number, info.start), (2, CycleStart::Reset));
    assert_eq!(user.cycle(basic()), 2);
    assert!(user.done(basic()).is_empty());
    let derived = user.derived();
    assert_eq!((derived.total_exp, derived.days[&day].actions, derived.days[&day].routines), (300, 3, 0));
    // The first three actions can be done again in the fresh cycle.
    user.complete_first(basic(), 5, local(day, 8, 0, KST));
    assert_eq!(user.derived().total_exp, 300 + 600);
}

#[test]
fn reset_of_an_untouched_cycle_changes_nothing() {
    let mut user = User::new();
    assert_eq!(user.reset(basic()), Ok(Vec::new()));
    assert_eq!(user.cycle(basic()), 1);
}

#[test]
fn a_routine_synced_at_the_last_cycle_number_refuses_restart_and_reset_and_keeps_its_cycle() {
    let mut user = User::new();
    let day = date("2025-03-03");
    user.draw(local(day, 6, 0, KST), 0).unwrap();
    // Another device's (or an imported file's) routines document says the cycle is the last one.
    let last = Change::StartCycle {
        routine: basic(),
        cycle: Cycle::Number(u32::MAX),
        info: CycleInfo::numbered(u32::MAX, CycleStart::Restart),
    };
    user.personal.apply(&[last]);
    assert_eq!(user.cycle(basic()), u32::MAX);
    user.complete_first(basic(), 3, local(day, 7, 0, KST));
    assert_eq!(user.reset(basic()), Err(RuleError::CycleLimit));
    user.complete(basic(), 3, local(day, 8, 0, KST)).unwrap();
    user.complete(basic(), 4, local(day, 8, 1, KST)).unwrap();
    assert_eq!(user.restart(basic()), Err(RuleError::CycleLimit));
    assert_eq!(RuleError::CycleLimit.code(), "cycle_limit_reached");
    assert_eq!(user.cycle(basic()), u32::MAX, "nothing changed");
    assert_eq!(user.derived().total_exp, 600, "the cycle's actions and bonus count as usual");
}

#[test]
fn a_removed_action_no_longer_blocks_completion() {
    let mut user = User::new();
    let day = date("2025-03-03");
    user.draw(local(day, 6, 0, KST), 0).unwrap();
    let id = user.create("셋", &[("squat", 10), ("lunge", 10), ("plank", 10)]);
    user.complete_first(id, 2, local(day, 7, 0, KST));
    assert_eq!(user.restart(id), Err(RuleError::CycleNotComplete));
    let changes = user.edit(id, "셋", &[("squat", 10), ("lunge", 10)]).unwrap();
    assert_eq!(changes.len(), 1, "the cycle was not complete before the edit, so nothing is recorded");
    let routine = &user.personal.routines[&id];
    assert!(user.personal.cycle_complete(routine, user.personal.current_cycle(routine)));
    let derived = user.derived();
    assert_eq!(derived.total_exp, 200 + 2 * 20, "the two-action routine is complete, with its bonus");
    assert_eq!(derived.routine_totals[&id], 1);
    let restart = user.restart(id).unwrap();
    assert!(
        matches!(restart.as_slice(), [Change::CompleteRoutine(r), Change::StartCycle { info, .. }] if r.actions == 2 && info.number == 2),
        "restarting records the completion the edit implied: {restart:?}"
    );
    assert_eq!(user.derived().total_exp, 240, "recording it does not count it twice");
}

#[test]
fn a_replaced_entry_does_not_inherit_its_completion() {
    let mut user = User::new();
    let day = date("2025-03-03");
    user.draw(local(day, 6, 0, KST), 0).unwrap();
    let id = user.create("둘", &[("squat", 10), ("lunge", 10)]);
    let squat = user.entry(id, 0);
    user.complete_entry(id, squat, local(day, 7, 0, KST)).unwrap();
    // Same action, other count: a new entry.
    user.edit(id, "둘", &[("squat", 20), ("lunge", 10)]).unwrap();
    let new_squat = user.entry(id, 0);
    assert_ne!(new_squat, squat);
    assert!(user.done(id).is_empty());
    assert_eq!(user.restart(id), Err(RuleError::CycleNotComplete));
    user.complete_entry(id, new_squat, local(day, 8, 0, KST)).unwrap();
    assert_eq!(user.complete_entry(id, squat, local(day, 9, 0, KST)), Err(RuleError::EntryNotInRoutine));
    assert_eq!(user.derived().total_exp, 200, "both squats were done and both count");
}

#[test]
fn an_unchanged_entry_keeps_its_completion() {
    let mut user = User::new();
    let day = date("2025-03-03");
    user.draw(local(day, 6, 0, KST), 0).unwrap();
    let id = user.create("셋", &[("squat", 10), ("lunge", 10), ("plank", 10)]);
    let (squat, plank) = (user.entry(id, 0), user.entry(id, 2));
    user.complete_entry(id, squat, local(day, 7, 0, KST)).unwrap();
    // Reordered, lunge replaced by push-ups, renamed.
    user.edit(id, "새 이름", &[("plank", 10), ("squat", 10), ("push_up", 10)]).unwrap();
    let routine = &user.personal.routines[&id];
    assert_eq!(routine.entries[0].id, plank);
    assert_eq!(routine.entries[1].id, squat);
    assert_eq!(user.done(id), [squat]);
    assert_eq!(user.complete_entry(id, squat, local(day, 8, 0, KST)), Err(RuleError::AlreadyCompleted));
    user.complete(id, 0, local(day, 9, 0, KST)).unwrap();
    let last = user.complete(id, 2, local(day, 10, 0, KST)).unwrap();
    assert_eq!(last.len(), 2, "the third action completes the edited cycle");
    assert_eq!(user.derived().total_exp, 300 + 60);
}

#[test]
fn an_edit_after_the_cycle_became_complete_keeps_its_bonus() {
    let mut user = User::new();
    let day = date("2025-03-03");
    user.draw(local(day, 6, 0, KST), 0).unwrap();
    let id = user.create("둘", &[("squat", 10), ("lunge", 10)]);
    user.complete_first(id, 1, local(day, 7, 0, KST));
    user.edit(id, "둘", &[("squat", 10)]).unwrap();
    assert_eq!(user.derived().total_exp, 120);
    let changes = user.edit(id, "둘", &[("squat", 10), ("lunge", 10)]).unwrap();
    assert!(
        matches!(changes.as_slice(), [Change::CompleteRoutine(r), Change::EditRoutine { .. }] if r.actions == 1),
        "the complete cycle is recorded before the edit: {changes:?}"
    );
    assert_eq!(user.derived().total_exp, 120, "adding an action never takes back a bonus");
    assert_eq!(user.complete(id, 1, local(day, 8, 0, KST)), Err(RuleError::AlreadyCompleted));
    user.restart(id).unwrap();
    user.complete_first(id, 2, local(day, 9, 0, KST));
    assert_eq!(user.derived().total_exp, 120 + 240);
}

#[test]
fn completing_the_same_entry_twice_in_a_cycle_is_already_completed() {
    let mut user = User::new();
    let day = date("2025-03-03");
    user.draw(local(day, 6, 0, KST), 0).unwrap();
    user.complete(basic(), 2, local(day, 7, 0, KST)).unwrap();
    assert_eq!(user.complete(basic(), 2, local(day, 7, 5, KST)), Err(RuleError::AlreadyCompleted));
    assert_eq!(RuleError::AlreadyCompleted.code(), "already_completed");
    let derived = user.derived();
    assert_eq!((derived.total_exp, derived.days[&day].actions), (100, 1));
    let cycle = user.personal.current_cycle(&user.personal.routines[&basic()]);
    let key = CompletionKey { routine: basic(), cycle, entry: user.entry(basic(), 2) };
    assert_eq!(user.personal.actions[&key].moment, local(day, 7, 0, KST));
}

#[test]
fn an_entry_of_another_routine_is_not_in_the_routine() {
    let mut user = User::new();
    let day = date("2025-03-03");
    user.draw(local(day, 6, 0, KST), 0).unwrap();
    let other = user.entry(workout(), 0);
    assert_eq!(user.complete_entry(basic(), other, local(day, 7, 0, KST)), Err(RuleError::EntryNotInRoutine));
    assert_eq!(RuleError::EntryNotInRoutine.code(), "entry_not_in_routine");
}

#[test]
fn every_rule_error_has_a_stable_snake_case_code() {
    let expected = [
        (RuleError::NameEmpty, "routine_name_empty"),
        (RuleError::NameTooLong { max: 30 }, "routine_name_too_long"),
        (RuleError::NameTaken("x".into()), "routine_name_taken"),
        (RuleError::NoActions, "routine_no_actions"),
        (RuleError::TooManyActions { max: 5 }, "routine_too_many_actions"),
        (RuleError::CountOutOfRange { min: 1, max: 99 }, "action_count_out_of_range"),
        (RuleError::UnknownAction("x".into()), "unknown_action"),
        (RuleError::DuplicateAction("x".into()), "duplicate_action"),
        (RuleError::RoutineNotFound, "routine_not_found"),
        (RuleError::RoutineDeleted, "routine_deleted"),
        (RuleError::PresetReadOnly, "preset_read_only"),
        (RuleError::EntryNotInRoutine, "entry_not_in_routine"),
        (RuleError::AlreadyCompleted, "already_completed"),
        (RuleError::CycleNotComplete, "cycle_not_complete"),
        (RuleError::CycleLimit, "cycle_limit_reached"),
        (RuleError::NeedCharacter, "need_character"),
        (RuleError::CharacterGrowing, "character_growing"),
        (RuleError::CollectionComplete, "collection_complete"),
        (RuleError::InvalidDocument("x".into()), "invalid_document"),
        (RuleError::from(ImportRefusal::new(ImportReason::Damaged, "x")), "invalid_import"),
    ];
    let mut codes = std::collections::BTreeSet::new();
    for (error, code) in &expected {
        assert_eq!(error.code(), *code, "{error:?}");
        assert!(
            code.split('_').all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase())),
            "{code} is snake_case"
        );
        assert!(codes.insert(*code), "{code} is used once");
        assert!(!error.to_string().is_empty());
    }
    // Adding a variant without listing its code here fails to compile.
    for (error, _) in &expected {
        match error {
            RuleError::NameEmpty
            | RuleError::NameTooLong { .. }
            | RuleError::NameTaken(_)
            | RuleError::NoActions
            | RuleError::TooManyActions { .. }
            | RuleError::CountOutOfRange { .. }
            | RuleError::UnknownAction(_)
            | RuleError::DuplicateAction(_)
            | RuleError::RoutineNotFound
            | RuleError::RoutineDeleted
            | RuleError::PresetReadOnly
            | RuleError::EntryNotInRoutine
            | RuleError::AlreadyCompleted
            | RuleError::CycleNotComplete
            | RuleError::CycleLimit
            | RuleError::NeedCharacter
            | RuleError::CharacterGrowing
            | RuleError::CollectionComplete
            | RuleError::InvalidDocument(_)
            | RuleError::InvalidImport(_) => {}
        }
    }
}

#[test]
fn a_switch_resets_only_the_routine_that_is_still_main() {
    let mut user = User::new();
    let day = date("2025-03-03");
    user.draw(local(day, 6, 0, KST), 0).unwrap();
    user.set_main(Some(basic())).unwrap();
    user.complete_first(basic(), 2, local(day, 7, 0, KST));
    user.complete_first(workout(), 1, local(day, 7, 30, KST));
    // The screen asked about resetting the basic routine, but another device made the workout main.
    user.set_main(Some(workout())).unwrap();
    let fresh = user.fresh();
    let planned = plan_switch_main(&user.personal, Some(basic()), Some(basic()), fresh);
    user.apply(planned).unwrap();
    assert_eq!((user.cycle(basic()), user.done(basic()).len()), (1, 2), "no longer main: not reset");
    assert_eq!(user.done(workout()).len(), 1, "nor is the routine the user was not asked about");
    let fresh = user.fresh();
    let planned = plan_switch_main(&user.personal, Some(workout()), Some(basic()), fresh);
    user.apply(planned).unwrap();
    assert_eq!((user.cycle(basic()), user.done(basic()).len()), (2, 0), "the main one is reset");
}
