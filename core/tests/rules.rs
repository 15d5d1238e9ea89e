//! The product rules of PRODUCT.md §3–§5, one test per rule, with the spec's numbers. States are
//! built the way the app builds them: through the `plan_*` rules and `Personal::apply`.
#![allow(clippy::unwrap_used)]

use chrono::{Days, NaiveDate};
use mingizuk_core::RuleError;
use mingizuk_core::automerge::ActorId;
use mingizuk_core::catalog::{self, Character, PRESETS};
use mingizuk_core::fold::{self, Derived, Event};
use mingizuk_core::history::{self, ChartMode};
use mingizuk_core::limits::{
    ACTION_COUNT_MAX, CHARACTER_COMPLETE_EXP, DAILY_EXP_CAP, EXP_PER_ACTION, ROUTINE_MAX_ACTIONS,
    ROUTINE_NAME_MAX_CHARS,
};
use mingizuk_core::model::{CompletionKey, CycleStart, EntryId, Moment, Personal, RoutineId};
use mingizuk_core::rules::{self, ActionPick, Change};
use mingizuk_core::schema::{self, DocKind};
use uuid::Uuid;

const KST: i32 = 9 * 60;
const UTC: i32 = 0;

/// The basic preset: five actions, each ×10.
fn basic() -> RoutineId {
    PRESETS[0].id
}

/// The workout preset: four actions, each ×10.
fn workout() -> RoutineId {
    PRESETS[1].id
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The moment a device at UTC `offset` minutes shows `hour:minute` on `day`.
fn local(day: NaiveDate, hour: u32, minute: u32, offset: i32) -> Moment {
    let utc_ms = day.and_hms_opt(hour, minute, 0).unwrap().and_utc().timestamp_millis() - i64::from(offset) * 60_000;
    let moment = Moment::new(utc_ms, offset).unwrap();
    assert_eq!(moment.date, day);
    moment
}

fn picks(list: &[(&str, u8)]) -> Vec<ActionPick> {
    list.iter().map(|(action, count)| ActionPick { action: (*action).to_owned(), count: *count }).collect()
}

/// One user on one device, changed only through the rules.
struct User {
    personal: Personal,
    next_id: u128,
}

impl User {
    /// A new user: the genesis documents read back (so the presets are there), nothing else.
    fn new() -> User {
        let actor = ActorId::from(&[7_u8; 16][..]);
        let personal = Personal {
            account: schema::read_account(&schema::genesis(DocKind::Account, &actor)).unwrap(),
            routines: schema::read_routines(&schema::genesis(DocKind::Routines, &actor)).unwrap(),
            ..Personal::default()
        };
        User { personal, next_id: 0 }
    }

    fn id(&mut self) -> Uuid {
        self.next_id += 1;
        Uuid::from_u128(self.next_id)
    }

    fn derived(&self) -> Derived {
        Derived::of(&self.personal)
    }

    fn apply(&mut self, planned: Result<Vec<Change>, RuleError>) -> Result<Vec<Change>, RuleError> {
        let changes = planned?;
        self.personal.apply(&changes);
        Ok(changes)
    }

    fn try_create(&mut self, name: &str, list: &[(&str, u8)]) -> Result<RoutineId, RuleError> {
        let id = self.id();
        let next_id = &mut self.next_id;
        let mut new_id = || {
            *next_id += 1;
            Uuid::from_u128(*next_id)
        };
        let planned = rules::plan_create_routine(&self.personal, id, name, &picks(list), &mut new_id, 0);
        self.apply(planned)?;
        Ok(id)
    }

    fn create(&mut self, name: &str, list: &[(&str, u8)]) -> RoutineId {
        self.try_create(name, list).unwrap()
    }

    fn edit(&mut self, id: RoutineId, name: &str, list: &[(&str, u8)]) -> Result<Vec<Change>, RuleError> {
        let next_id = &mut self.next_id;
        let mut new_id = || {
            *next_id += 1;
            Uuid::from_u128(*next_id)
        };
        let planned = rules::plan_edit_routine(&self.personal, id, name, &picks(list), &mut new_id);
        self.apply(planned)
    }

    fn delete(&mut self, id: RoutineId) -> Result<Vec<Change>, RuleError> {
        let planned = rules::plan_delete_routine(&self.personal, id);
        self.apply(planned)
    }

    fn set_main(&mut self, id: Option<RoutineId>) -> Result<Vec<Change>, RuleError> {
        let planned = rules::plan_set_main(&self.personal, id);
        self.apply(planned)
    }

    fn draw(&mut self, at: Moment, roll: u32) -> Result<Character, RuleError> {
        let id = self.id();
        let planned = rules::plan_draw(&self.derived(), id, at.at_ms, roll);
        match self.apply(planned)?.as_slice() {
            [Change::Draw(d)] => Ok(d.character),
            other => panic!("a draw plans one draw, got {other:?}"),
        }
    }

    fn entry(&self, routine: RoutineId, index: usize) -> EntryId {
        self.personal.routines[&routine].entries[index].id
    }

    fn complete_entry(&mut self, routine: RoutineId, entry: EntryId, at: Moment) -> Result<Vec<Change>, RuleError> {
        let planned = rules::plan_complete_action(&self.personal, &self.derived(), routine, entry, at);
        self.apply(planned)
    }

    fn complete(&mut self, routine: RoutineId, index: usize, at: Moment) -> Result<Vec<Change>, RuleError> {
        let entry = self.entry(routine, index);
        self.complete_entry(routine, entry, at)
    }

    /// Completes the first `n` entries of the routine's current cycle, one minute apart from `at`.
    fn complete_first(&mut self, routine: RoutineId, n: usize, at: Moment) {
        for i in 0..n {
            let moment = Moment::new(at.at_ms + 60_000 * i as i64, at.offset_minutes).unwrap();
            self.complete(routine, i, moment).unwrap();
        }
    }

    fn restart(&mut self, id: RoutineId) -> Result<Vec<Change>, RuleError> {
        let planned = rules::plan_restart(&self.personal, id);
        self.apply(planned)
    }

    fn reset(&mut self, id: RoutineId) -> Result<Vec<Change>, RuleError> {
        let planned = rules::plan_reset(&self.personal, id);
        self.apply(planned)
    }

    /// Plays the routine on: restarts it when its cycle is complete, then completes the first
    /// entry not yet done.
    fn next_action(&mut self, routine: RoutineId, at: Moment) -> Vec<Change> {
        let r = self.personal.routines[&routine].clone();
        let mut changes = Vec::new();
        if self.personal.cycle_complete(&r, r.current_cycle()) {
            changes = self.restart(routine).unwrap();
        }
        let r = self.personal.routines[&routine].clone();
        let done = self.personal.done_in_cycle(&r, r.current_cycle());
        let entry = r.entries.iter().find(|e| !done.contains(&e.id)).unwrap().id;
        changes.extend(self.complete_entry(routine, entry, at).unwrap());
        changes
    }

    fn cycle(&self, routine: RoutineId) -> u32 {
        self.personal.routines[&routine].current_cycle()
    }

    fn done(&self, routine: RoutineId) -> Vec<EntryId> {
        let r = &self.personal.routines[&routine];
        self.personal.done_in_cycle(r, r.current_cycle())
    }
}

fn events(changes: &[Change]) -> Vec<Event<'_>> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::Draw(d) => Some(Event::Draw(d)),
            Change::CompleteAction(a) => Some(Event::Action(a)),
            Change::CompleteRoutine(r) => Some(Event::Routine(r)),
            _ => None,
        })
        .collect()
}

fn day_exp(derived: &Derived, day: NaiveDate) -> u32 {
    derived.days.get(&day).map_or(0, |t| t.exp)
}

fn growing_exp(derived: &Derived) -> u32 {
    derived.growing.unwrap().exp
}

// ---- exp (§4) ----

#[test]
fn a_five_action_routine_gives_600_exp() {
    let mut user = User::new();
    let day = date("2025-03-03");
    user.draw(local(day, 7, 0, KST), 0).unwrap();
    for i in 0..4 {
        let changes = user.complete(basic(), i, local(day, 8, i as u32, KST)).unwrap();
        assert_eq!(changes.len(), 1, "an action that does not finish the cycle is one completion");
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

// ---- characters (§4) ----

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
        if user.personal.cycle_complete(&r, r.current_cycle()) {
            user.restart(basic()).unwrap();
        }
        let entry = {
            let r = &user.personal.routines[&basic()];
            let done = user.personal.done_in_cycle(r, r.current_cycle());
            r.entries.iter().find(|e| !done.contains(&e.id)).unwrap().id
        };
        let changes = rules::plan_complete_action(&user.personal, derived, basic(), entry, at).unwrap();
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
    if user.personal.cycle_complete(&r, r.current_cycle()) {
        user.restart(basic()).unwrap();
    }
    let undone = {
        let r = &user.personal.routines[&basic()];
        let done = user.personal.done_in_cycle(r, r.current_cycle());
        r.entries.iter().find(|e| !done.contains(&e.id)).unwrap().id
    };
    assert_eq!(
        rules::plan_complete_action(&user.personal, &derived, basic(), undone, later),
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

// ---- routines (§3) ----

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

// ---- cycles (§3) ----

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
    assert_eq!(changes, [Change::StartCycle { routine: basic(), cycle: 2, start: CycleStart::Restart }]);
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
    assert_eq!(user.personal.routines[&basic()].cycles.len(), 3, "cycles 2, 3 and 4 were started");
}

#[test]
fn reset_starts_a_fresh_cycle_and_keeps_the_exp_earned() {
    let mut user = User::new();
    let day = date("2025-03-03");
    user.draw(local(day, 6, 0, KST), 0).unwrap();
    user.complete_first(basic(), 3, local(day, 7, 0, KST));
    let changes = user.reset(basic()).unwrap();
    assert_eq!(changes, [Change::StartCycle { routine: basic(), cycle: 2, start: CycleStart::Reset }]);
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
    assert!(user.personal.cycle_complete(routine, 1));
    let derived = user.derived();
    assert_eq!(derived.total_exp, 200 + 2 * 20, "the two-action routine is complete, with its bonus");
    assert_eq!(derived.routine_totals[&id], 1);
    let restart = user.restart(id).unwrap();
    assert!(
        matches!(restart.as_slice(), [Change::CompleteRoutine(r), Change::StartCycle { cycle: 2, .. }] if r.actions == 2),
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
    let key = CompletionKey { routine: basic(), cycle: 1, entry: user.entry(basic(), 2) };
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
        (RuleError::NeedCharacter, "need_character"),
        (RuleError::CharacterGrowing, "character_growing"),
        (RuleError::CollectionComplete, "collection_complete"),
        (RuleError::InvalidDocument("x".into()), "invalid_document"),
        (RuleError::InvalidImport("x".into()), "invalid_import"),
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
            | RuleError::NeedCharacter
            | RuleError::CharacterGrowing
            | RuleError::CollectionComplete
            | RuleError::InvalidDocument(_)
            | RuleError::InvalidImport(_) => {}
        }
    }
}

// ---- history (§5) ----

/// A user who did `per_day[i]` actions of a two-action routine on the given days.
fn history_of(days: &[(&str, usize)]) -> User {
    let mut user = User::new();
    let pair = user.create("둘", &[("squat", 10), ("lunge", 10)]);
    user.draw(local(date(days[0].0), 5, 0, KST), 0).unwrap();
    for (day, count) in days {
        for i in 0..*count {
            user.next_action(pair, local(date(day), 7, i as u32, KST));
        }
    }
    user
}

#[test]
fn the_tracker_marks_days_with_at_least_one_action() {
    let user = history_of(&[("2025-03-01", 1), ("2025-03-02", 3), ("2025-03-31", 2), ("2025-04-01", 1)]);
    let derived = user.derived();
    let march = history::month_grid(&derived, 2025, 3).unwrap();
    assert_eq!((march.year, march.month, march.days.len()), (2025, 3, 31));
    assert_eq!(march.first_weekday, 6, "2025-03-01 is a Saturday; the grid starts on Sunday");
    let marked: Vec<u32> = march.days.iter().filter(|d| d.marked).map(|d| chrono::Datelike::day(&d.date)).collect();
    assert_eq!(marked, [1, 2, 31]);
    assert_eq!(march.days[1].actions, 3);
    assert_eq!(march.days[2].actions, 0);
    let april = history::month_grid(&derived, 2025, 4).unwrap();
    assert_eq!((april.days.len(), april.first_weekday), (30, 2));
    assert_eq!(april.days.iter().filter(|d| d.marked).count(), 1);
    assert_eq!(history::month_grid(&derived, 2024, 2).unwrap().days.len(), 29);
    assert_eq!(history::month_grid(&derived, 2025, 13), None);
    assert_eq!(history::month_grid(&derived, 2025, 0), None);
}

#[test]
fn weekly_pages_are_numbered_from_the_start_date() {
    let user = history_of(&[("2025-03-03", 3), ("2025-03-05", 1), ("2025-03-12", 2)]);
    let derived = user.derived();
    let today = date("2025-03-12");
    let start = history::start_date(&derived, Some(date("2025-03-04")), today);
    assert_eq!(start, date("2025-03-03"), "the first completion is earlier than the device's start");
    assert_eq!(history::start_date(&derived, Some(date("2025-03-01")), today), date("2025-03-01"));
    assert_eq!(history::start_date(&Derived::default(), None, today), today);
    assert_eq!(history::start_date(&Derived::default(), Some(date("2025-04-01")), today), today);

    let first = history::week_page(&derived, start, today, 1, ChartMode::Actions);
    assert_eq!((first.week, first.current_week, first.day_number), (1, 2, 10));
    let dates: Vec<_> = first.bars.iter().map(|b| b.date).collect();
    assert_eq!(dates, (3..=9).map(|d| NaiveDate::from_ymd_opt(2025, 3, d).unwrap()).collect::<Vec<_>>());
    let counts: Vec<u32> = first.bars.iter().map(|b| b.count).collect();
    assert_eq!(counts, [3, 0, 1, 0, 0, 0, 0]);
    assert!(first.bars.iter().all(|b| !b.today));

    let routines = history::week_page(&derived, start, today, 1, ChartMode::Routines);
    let counts: Vec<u32> = routines.bars.iter().map(|b| b.count).collect();
    assert_eq!(counts, [1, 0, 1, 0, 0, 0, 0], "3 then 1 actions of a two-action routine: 2 routines");

    let current = history::week_page(&derived, start, today, 2, ChartMode::Actions);
    assert_eq!(current.bars[0].date, date("2025-03-10"));
    let today_bars: Vec<_> = current.bars.iter().filter(|b| b.today).map(|b| (b.date, b.count)).collect();
    assert_eq!(today_bars, [(today, 2)]);
    assert_eq!(history::week_page(&derived, start, today, 99, ChartMode::Actions), current, "clamped to this week");
    assert_eq!(history::week_page(&derived, start, today, 0, ChartMode::Actions), first, "clamped to week 1");

    let first_day = history::week_page(&derived, start, start, 1, ChartMode::Actions);
    assert_eq!((first_day.week, first_day.current_week, first_day.day_number), (1, 1, 1));
    let week_two = history::week_page(&derived, start, date("2025-03-10"), 2, ChartMode::Actions);
    assert_eq!((week_two.week, week_two.day_number), (2, 8));
}

#[test]
fn streaks_count_marked_days_and_an_open_today_does_not_break_them() {
    let user =
        history_of(&[("2025-03-01", 1), ("2025-03-02", 1), ("2025-03-03", 1), ("2025-03-05", 2), ("2025-03-06", 1)]);
    let derived = user.derived();
    let at = |d: &str| history::streaks(&derived, date(d));
    assert_eq!((at("2025-03-06").current, at("2025-03-06").best), (2, 3));
    // Today not done yet: the streak up to yesterday still stands.
    assert_eq!((at("2025-03-07").current, at("2025-03-07").best), (2, 3));
    // Yesterday missed: the current streak is broken.
    assert_eq!((at("2025-03-08").current, at("2025-03-08").best), (0, 3));
    assert_eq!((at("2025-03-03").current, at("2025-03-03").best), (3, 3));
    assert_eq!((at("2025-03-04").current, at("2025-03-02").best), (3, 2), "days after today do not count");
    assert_eq!(history::streaks(&Derived::default(), date("2025-03-01")), history::Streaks::default());
    assert_eq!(derived.action_totals["squat"] + derived.action_totals["lunge"], 6);
    assert_eq!(derived.action_totals["squat"], 3);
}

// ---- the fold ----

#[test]
fn appending_later_events_gives_the_same_result_as_folding_everything() {
    let mut user = history_of(&[("2025-02-27", 5), ("2025-02-28", 21), ("2025-03-01", 3)]);
    let three = user.create("셋", &[("squat", 10), ("lunge", 10), ("plank", 10)]);
    user.complete_first(three, 2, local(date("2025-03-01"), 20, 0, KST));
    // The edit makes the cycle complete without recording it: the fold implies its bonus.
    user.edit(three, "셋", &[("squat", 10), ("lunge", 10)]).unwrap();
    let whole = user.derived();
    assert_eq!(day_exp(&whole, date("2025-02-28")), 2000);

    let implied = fold::implied_completions(&user.personal);
    assert_eq!(implied.len(), 1);
    let events = fold::sorted_events(&user.personal, &implied);
    for split in 0..=events.len() {
        let mut derived = Derived::default();
        assert!(derived.try_append(&events[..split]));
        assert!(derived.try_append(&events[split..]), "split at {split}");
        assert_eq!(derived, whole, "split at {split}");
    }
    let mut one_by_one = Derived::default();
    for event in &events {
        assert!(one_by_one.try_append(std::slice::from_ref(event)));
    }
    assert_eq!(one_by_one, whole);

    // An event that is not after the last one applied is refused, and nothing changes.
    let mut derived = whole.clone();
    assert!(!derived.try_append(&events[..1]));
    assert!(!derived.try_append(&events[events.len() - 1..]), "the last event again");
    assert_eq!(derived, whole);
    assert!(derived.try_append(&[]));
    assert_eq!(derived, whole);
}
