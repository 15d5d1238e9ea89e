//! Exp (§4): 100 per action, a routine bonus of 20 per action, the daily cap of 2000 by local date.

use chrono::NaiveDate;
use mingizuk_core::fold;
use mingizuk_core::limits::{DAILY_EXP_CAP, ROUTINE_MAX_ACTIONS};
use mingizuk_core::model::Moment;
use mingizuk_core::rules::Change;

use crate::support::{KST, UTC, User, basic, date, day_exp, growing_exp, local, workout};

#[test]
fn a_five_action_routine_gives_600_exp() {
    let mut user = User::new();
    let day = date("2025-03-03");
    user.draw(local(day, 7, 0, KST), 0).unwrap();
    for i in 0..4 {
        let changes = user.complete(basic(), i, local(day, 8, i as u32, KST)).unwrap();
        let completions = changes.iter().filter(|c| !matches!(c, Change::StartCycle { .. })).count();
        assert_eq!(completions, 1, "an action that does not finish the cycle is one completion");
    }
    let last = user.complete(basic(), 4, local(day, 8, 10, KST)).unwrap();
    assert!(
        matches!(last.as_slice(), [Change::CompleteAction(_), Change::CompleteRoutine(r)] if r.actions == 5),
        "the last action also records the routine: {last:?}"
    );
    let derived = user.derived();
    assert_eq!(derived.total_exp, 600);
    assert_eq!(day_exp(&derived, day), 600);
    assert_eq!((derived.days[&day].actions, derived.days[&day].routines), (5, 1));
    assert_eq!(growing_exp(&derived), 600);
    assert_eq!(derived.routine_totals[&basic()], 1);
}

#[test]
fn a_routine_bonus_is_20_exp_per_action() {
    for n in 1..=ROUTINE_MAX_ACTIONS {
        assert_eq!(fold::routine_bonus(n as u8), 20 * n as u32);
    }
    let mut user = User::new();
    let day = date("2025-03-03");
    user.draw(local(day, 7, 0, KST), 0).unwrap();
    let one = user.create("하나", &[("squat", 10)]);
    user.complete_first(one, 1, local(day, 8, 0, KST));
    assert_eq!(user.derived().total_exp, 120);
    let three = user.create("셋", &[("squat", 10), ("lunge", 12), ("plank", 30)]);
    user.complete_first(three, 3, local(day, 9, 0, KST));
    assert_eq!(user.derived().total_exp, 120 + 300 + 60);
    let workout_day = date("2025-03-04");
    user.complete_first(workout(), 4, local(workout_day, 9, 0, KST));
    assert_eq!(day_exp(&user.derived(), workout_day), 4 * 100 + 4 * 20);
}

/// Four five-action routines with four of their actions done: 16 actions, 1600 exp, no bonus.
fn sixteen_actions_without_a_bonus(user: &mut User, day: NaiveDate) {
    let sets = [
        [("squat", 10), ("lunge", 10), ("plank", 10), ("push_up", 10), ("sky_bike", 10)],
        [("neck_roll", 5), ("shoulder_roll", 5), ("waist_roll", 5), ("arm_circle", 5), ("knee_roll", 5)],
        [("cat_pose", 3), ("overhead_reach", 3), ("forward_bend", 3), ("breathing", 3), ("neck_stretch", 3)],
        [("lying_reach", 1), ("sit_stand", 1), ("wrist_ankle_roll", 1), ("squat", 1), ("lunge", 1)],
    ];
    for (i, set) in sets.iter().enumerate() {
        let id = user.create(&format!("루틴 {i}"), set);
        user.complete_first(id, 4, local(day, 8 + i as u32, 0, KST));
    }
}

#[test]
fn the_award_that_crosses_the_daily_cap_is_clamped_to_exactly_2000() {
    let mut user = User::new();
    let day = date("2025-03-03");
    user.draw(local(day, 7, 0, KST), 0).unwrap();
    sixteen_actions_without_a_bonus(&mut user, day);
    user.complete_first(workout(), 3, local(day, 13, 0, KST));
    let derived = user.derived();
    assert_eq!((derived.days[&day].actions, day_exp(&derived, day)), (19, 1900));

    // The 20th action finishes the workout: 100 + a bonus of 80 would make 2080.
    let changes = user.complete(workout(), 3, local(day, 14, 0, KST)).unwrap();
    assert_eq!(changes.len(), 2);
    let derived = user.derived();
    assert_eq!(derived.days[&day].actions, 20);
    assert_eq!(day_exp(&derived, day), DAILY_EXP_CAP);
    assert_eq!(derived.total_exp, 2000);
    assert_eq!(growing_exp(&derived), 2000, "the character gets only what the cap lets through");

    // More exercise that day still counts as exercise, but earns nothing.
    let id = user.personal.routines.values().find(|r| r.name == "루틴 0").unwrap().id;
    user.complete(id, 4, local(day, 15, 0, KST)).unwrap();
    let derived = user.derived();
    assert_eq!((derived.days[&day].actions, derived.days[&day].routines), (21, 2));
    assert_eq!((day_exp(&derived, day), derived.total_exp), (2000, 2000));
}

#[test]
fn an_award_partly_over_the_cap_gives_the_rest_and_the_next_local_day_starts_fresh() {
    let mut user = User::new();
    let day = date("2025-03-03");
    user.draw(local(day, 7, 0, KST), 0).unwrap();
    let three = user.create("셋", &[("squat", 10), ("lunge", 10), ("plank", 10)]);
    user.complete_first(three, 3, local(day, 7, 30, KST));
    sixteen_actions_without_a_bonus(&mut user, day);
    assert_eq!(day_exp(&user.derived(), day), 1960);

    user.complete(workout(), 0, local(day, 23, 50, KST)).unwrap();
    let derived = user.derived();
    assert_eq!(day_exp(&derived, day), 2000, "100 exp clamped to the 40 left");
    assert_eq!(growing_exp(&derived), 2000);

    let next = day.succ_opt().unwrap();
    user.complete(workout(), 1, local(next, 0, 5, KST)).unwrap();
    let derived = user.derived();
    assert_eq!((day_exp(&derived, day), day_exp(&derived, next)), (2000, 100));
    assert_eq!(derived.total_exp, 2100);
}

#[test]
fn days_are_counted_by_local_date() {
    // 2025-03-01 23:30 UTC is already 2025-03-02 08:30 in Seoul.
    let instant = date("2025-03-01").and_hms_opt(23, 30, 0).unwrap().and_utc().timestamp_millis();
    assert_eq!(Moment::new(instant, UTC).unwrap().date, date("2025-03-01"));
    assert_eq!(Moment::new(instant, KST).unwrap().date, date("2025-03-02"));
    assert_eq!(Moment::new(instant, -5 * 60).unwrap().date, date("2025-03-01"));
    assert_eq!(Moment::new(instant, 24 * 60), None, "an offset of a whole day is no offset");
    assert_eq!(Moment::new(i64::MAX, UTC), None);

    // 23:30 and 00:30 in Seoul are two days there, and one day for the same instants in London.
    let late = local(date("2025-03-01"), 23, 30, KST);
    let after_midnight = local(date("2025-03-02"), 0, 30, KST);
    let mut seoul = User::new();
    seoul.draw(local(date("2025-03-01"), 6, 0, KST), 0).unwrap();
    seoul.complete(basic(), 0, late).unwrap();
    seoul.complete(basic(), 1, after_midnight).unwrap();
    let days: Vec<_> = seoul.derived().days.keys().copied().collect();
    assert_eq!(days, [date("2025-03-01"), date("2025-03-02")]);

    let mut london = User::new();
    london.draw(local(date("2025-03-01"), 6, 0, UTC), 0).unwrap();
    london.complete(basic(), 0, Moment::new(late.at_ms, UTC).unwrap()).unwrap();
    london.complete(basic(), 1, Moment::new(after_midnight.at_ms, UTC).unwrap()).unwrap();
    let days: Vec<_> = london.derived().days.keys().copied().collect();
    assert_eq!(days, [date("2025-03-01")]);
    assert_eq!(london.derived().days[&date("2025-03-01")].actions, 2);
}

#[test]
fn the_cap_resets_at_local_midnight_not_at_utc_midnight() {
    let mut user = User::new();
    let day = date("2025-03-03");
    user.draw(local(day, 6, 0, KST), 0).unwrap();
    // From 10:00 in Seoul (01:00 UTC) on, the whole day lies in one UTC day.
    let first_at = local(day, 10, 0, KST);
    let mut at = first_at;
    while day_exp(&user.derived(), day) < DAILY_EXP_CAP {
        user.next_action(basic(), at);
        at = Moment::new(at.at_ms + 60_000, KST).unwrap();
    }
    // 00:30 in Seoul is 15:30 UTC of the same UTC day as everything above.
    let after_midnight = local(day.succ_opt().unwrap(), 0, 30, KST);
    let utc_day = |m: Moment| Moment::new(m.at_ms, UTC).unwrap().date;
    assert_eq!(utc_day(after_midnight), utc_day(first_at));
    user.next_action(basic(), after_midnight);
    let derived = user.derived();
    assert_eq!(day_exp(&derived, after_midnight.date), 100);
    assert_eq!(derived.total_exp, 2100);
}
