//! Characters (§4): levels, looks and the gauge; drawing one; collecting it at 100 000 exp.

use chrono::{Days, NaiveDate};
use mingizuk_core::RuleError;
use mingizuk_core::catalog::Character;
use mingizuk_core::fold::{self, Derived};
use mingizuk_core::limits::{CHARACTER_COMPLETE_EXP, DAILY_EXP_CAP, EXP_PER_ACTION};
use mingizuk_core::rules::{self, Change};
use uuid::Uuid;

use crate::support::{KST, User, basic, date, day_exp, events, growing_exp, local};

#[test]
fn level_is_1_at_0_exp_and_4_from_30000_and_never_above_10() {
    assert_eq!(fold::level(0), 1);
    assert_eq!(fold::level(9_999), 1);
    assert_eq!(fold::level(10_000), 2);
    assert_eq!(fold::level(29_999), 3);
    assert_eq!(fold::level(30_000), 4);
    assert_eq!(fold::level(60_000), 7);
    assert_eq!(fold::level(90_000), 10);
    assert_eq!(fold::level(99_999), 10);
    assert_eq!(fold::level(CHARACTER_COMPLETE_EXP), 10);
    assert_eq!(fold::level(u32::MAX), 10);
}

#[test]
fn looks_change_at_level_4_and_level_7() {
    let looks: Vec<u8> = (1..=10).map(fold::look).collect();
    assert_eq!(looks, [1, 1, 1, 2, 2, 2, 3, 3, 3, 3]);
    assert_eq!(fold::look(fold::level(29_999)), 1);
    assert_eq!(fold::look(fold::level(30_000)), 2);
    assert_eq!(fold::look(fold::level(60_000)), 3);
}

#[test]
fn the_gauge_shows_progress_within_the_level() {
    assert_eq!(fold::gauge_permille(0), 0);
    assert_eq!(fold::gauge_permille(5_000), 500);
    assert_eq!(fold::gauge_permille(10_000), 0);
    assert_eq!(fold::gauge_permille(35_000), 500);
    assert_eq!(fold::gauge_permille(99_999), 999);
    assert_eq!(fold::gauge_permille(CHARACTER_COMPLETE_EXP), 1000, "a complete character shows a full gauge");
}

#[test]
fn completing_an_action_needs_a_character() {
    let mut user = User::new();
    let day = date("2025-03-03");
    assert_eq!(user.complete(basic(), 0, local(day, 8, 0, KST)), Err(RuleError::NeedCharacter));
    assert_eq!(RuleError::NeedCharacter.code(), "need_character");
    let drawn = user.draw(local(day, 8, 1, KST), 1).unwrap();
    assert_eq!(drawn, Character::ALL[1], "the roll picks among the characters not collected");
    user.complete(basic(), 0, local(day, 8, 2, KST)).unwrap();
    assert_eq!(user.derived().growing.unwrap().character, drawn);
}

#[test]
fn no_draw_while_a_character_grows() {
    let mut user = User::new();
    let day = date("2025-03-03");
    user.draw(local(day, 8, 0, KST), 0).unwrap();
    assert_eq!(user.draw(local(day, 9, 0, KST), 1), Err(RuleError::CharacterGrowing));
    assert!(user.derived().drawable().is_empty());
}

/// Plays the basic preset on `day` until `stop` holds, keeping `derived` up to date with
/// `try_append` (which must accept every in-order step). Returns the last completion's changes.
fn play_until(user: &mut User, derived: &mut Derived, day: NaiveDate, stop: impl Fn(&Derived) -> bool) -> Vec<Change> {
    let mut last = Vec::new();
    // One completion a minute from 06:00, after those already played that day.
    let mut minute = derived.days.get(&day).map_or(0, |t| t.actions);
    while !stop(derived) {
        let at = local(day, 6 + minute / 60, minute % 60, KST);
        minute += 1;
        let r = user.personal.routines[&basic()].clone();
        if user.personal.cycle_complete(&r, user.personal.current_cycle(&r)) {
            user.restart(basic()).unwrap();
        }
        let entry = {
            let r = &user.personal.routines[&basic()];
            let done = user.personal.done_in_cycle(r, user.personal.current_cycle(r));
            r.entries.iter().find(|e| !done.contains(&e.id)).unwrap().id
        };
        let fresh = user.fresh();
        let changes = rules::plan_complete_action(&user.personal, derived, basic(), entry, at, fresh).unwrap();
        user.personal.apply(&changes);
        assert!(derived.try_append(&events(&changes)), "in-order events append");
        last = changes;
    }
    last
}

/// Earns the daily cap on each of `days` days from `first`.
fn cap_days(user: &mut User, derived: &mut Derived, first: NaiveDate, days: u64) {
    for i in 0..days {
        let day = first + Days::new(i);
        play_until(user, derived, day, |d| day_exp(d, day) >= DAILY_EXP_CAP);
        assert_eq!(day_exp(derived, day), DAILY_EXP_CAP);
    }
}

#[test]
fn reaching_100000_exp_collects_the_character_and_overflow_goes_to_no_character() {
    let mut user = User::new();
    let first = date("2025-01-01");
    assert_eq!(user.draw(local(first, 6, 0, KST), 0).unwrap(), Character::Mingi);
    let three = user.create("셋", &[("squat", 10), ("lunge", 10), ("plank", 10)]);
    user.complete_first(three, 3, local(first, 6, 0, KST));
    let mut derived = user.derived();
    assert_eq!(growing_exp(&derived), 360);

    // 49 capped days: 98 360 exp, Lv 10 since 90 000.
    cap_days(&mut user, &mut derived, first + Days::new(1), 49);
    assert_eq!(growing_exp(&derived), 98_360);
    assert_eq!(fold::level(growing_exp(&derived)), 10);

    // Day 51: up to 99 960, then one action of 100 crosses 100 000.
    let day = first + Days::new(50);
    play_until(&mut user, &mut derived, day, |d| d.growing.is_none_or(|g| g.exp >= 99_960));
    assert_eq!(growing_exp(&derived), 99_960);
    let before = (derived.total_exp, day_exp(&derived, day));
    let crossing = play_until(&mut user, &mut derived, day, |d| d.growing.is_none());
    let Change::CompleteAction(action) = &crossing[0] else { panic!("{crossing:?}") };
    let award = EXP_PER_ACTION + if crossing.len() == 2 { 100 } else { 0 };
    assert!(derived.growing.is_none());
    assert_eq!(derived.collection.len(), 1);
    let collected = derived.collection[0];
    assert_eq!(collected.character, Character::Mingi);
    assert_eq!(collected.completed_at_ms, action.moment.at_ms);
    assert_eq!(collected.drawn_at_ms, local(first, 6, 0, KST).at_ms);
    // The whole award counts for the day and the total, though only 40 of it reached Mingi.
    assert_eq!((derived.total_exp, day_exp(&derived, day)), (before.0 + u64::from(award), before.1 + award));
    assert_eq!(derived.total_exp, derived.days.values().map(|d| u64::from(d.exp)).sum::<u64>());
    assert_eq!(derived, Derived::of(&user.personal), "appending step by step equals folding everything");

    // Nothing grows now: the next action needs a new character, drawn among the other two.
    let later = local(day, 23, 0, KST);
    let r = user.personal.routines[&basic()].clone();
    if user.personal.cycle_complete(&r, user.personal.current_cycle(&r)) {
        user.restart(basic()).unwrap();
    }
    let undone = {
        let r = &user.personal.routines[&basic()];
        let done = user.personal.done_in_cycle(r, user.personal.current_cycle(r));
        r.entries.iter().find(|e| !done.contains(&e.id)).unwrap().id
    };
    let fresh = user.fresh();
    assert_eq!(
        rules::plan_complete_action(&user.personal, &derived, basic(), undone, later, fresh),
        Err(RuleError::NeedCharacter)
    );
    assert_eq!(derived.drawable(), [Character::Muneo, Character::Mongsil]);
    for roll in 0..10 {
        let changes = rules::plan_draw(&derived, Uuid::from_u128(9_999), later.at_ms, roll).unwrap();
        let [Change::Draw(d)] = changes.as_slice() else { panic!("{changes:?}") };
        assert_ne!(d.character, Character::Mingi, "a collected character is never drawn again");
        assert_eq!(d.character, [Character::Muneo, Character::Mongsil][roll as usize % 2]);
    }
}

#[test]
fn with_every_character_collected_there_is_nothing_to_draw_and_exercise_still_counts() {
    let mut user = User::new();
    let mut derived = user.derived();
    let mut day = date("2025-01-01");
    for (n, character) in Character::ALL.into_iter().enumerate() {
        let at = local(day, 5, 0, KST);
        let changes = rules::plan_draw(&derived, Uuid::from_u128(1_000 + n as u128), at.at_ms, 0).unwrap();
        user.personal.apply(&changes);
        assert!(derived.try_append(&events(&changes)));
        assert_eq!(derived.growing.unwrap().character, character);
        cap_days(&mut user, &mut derived, day, 50);
        assert!(derived.growing.is_none(), "50 capped days make 100 000 exp");
        assert_eq!(derived.collection.len(), n + 1);
        day = day + Days::new(50);
    }
    assert_eq!(derived, Derived::of(&user.personal));
    let collected: Vec<_> = derived.collection.iter().map(|c| c.character).collect();
    assert_eq!(collected, Character::ALL);
    assert_eq!(
        rules::plan_draw(&derived, Uuid::from_u128(5), local(day, 5, 0, KST).at_ms, 0),
        Err(RuleError::CollectionComplete)
    );
    assert_eq!(derived.total_exp, 300_000);

    user.next_action(basic(), local(day, 9, 0, KST));
    let derived = user.derived();
    assert_eq!(day_exp(&derived, day), 100, "exercise still earns exp for the day");
    assert_eq!(derived.total_exp, 300_100);
    assert!(derived.growing.is_none());
}
