//! The hard cases, one by one: concurrent completions, draws, restarts and edits; clocks apart.

use std::collections::BTreeSet;

use mingizuk_core::RuleError;
use mingizuk_core::automerge::ActorId;
use mingizuk_core::catalog::{Character, PRESETS};
use mingizuk_core::fold::{Derived, Event};
use mingizuk_core::limits::DAILY_EXP_CAP;
use mingizuk_core::model::{CompletionKey, Cycle, CycleInfo, CycleStart, RoutineId};
use mingizuk_core::rules::{self, ActionPick, Change, FreshCycle};
use mingizuk_core::schema::{self, DocKind, Month};
use uuid::Uuid;

use crate::exchange::{exchange, heads};
use crate::invariants::check_invariants;
use crate::ops::picks_of_routine;
use crate::replica::{KST, Replica, base_ms, genesis};

fn basic() -> RoutineId {
    PRESETS[0].id
}

fn pick(action: &str, count: u8) -> ActionPick {
    ActionPick { action: action.into(), count }
}

/// Two devices of one account that have seen each other's documents.
fn pair(offset_b: i32) -> Vec<Replica> {
    let root = Uuid::from_u128(0x5eed);
    let mut replicas = vec![Replica::new(root, 1, 0, base_ms(), KST), Replica::new(root, 2, 1, base_ms(), offset_b)];
    exchange(&mut replicas, 0, 1, 7, 2);
    replicas
}

fn both_ways(replicas: &mut [Replica]) {
    exchange(replicas, 0, 1, 7, 0);
    exchange(replicas, 1, 0, 7, 1);
    let [a, b] = replicas else { panic!() };
    for kind in a.docs.keys() {
        assert_eq!(heads(&mut a.docs[kind].clone()), heads(&mut b.docs[kind].clone()), "{kind:?}");
    }
    assert_eq!(a.personal, b.personal);
}

#[test]
fn replicas_created_apart_merge_field_by_field() {
    // Every device starts every document from the same genesis change.
    let (actor_a, actor_b) = (ActorId::from(&[1_u8; 16][..]), ActorId::from(&[2_u8; 16][..]));
    for kind in [DocKind::Account, DocKind::Routines, DocKind::Log(Month { year: 2025, month: 1 })] {
        let mut a = schema::genesis(kind, &actor_a);
        assert_eq!(a.get_heads(), schema::genesis(kind, &actor_b).get_heads());
        assert_eq!(a.get_heads(), genesis(kind, &actor_b).get_heads(), "the copied genesis is the same");
        assert_eq!(a.get_actor(), &actor_a, "each device writes as itself");
    }

    // Two devices of one account that never met: one started offline and adopted the root later.
    let root = Uuid::from_u128(0xacc);
    let mut replicas =
        vec![Replica::new(root, 10, 0, base_ms(), KST), Replica::new(root, 20, 1, base_ms() + 3_600_000, -300)];
    let morning = replicas[0].create("아침", &[pick("squat", 10), pick("lunge", 10)]).unwrap();
    let evening = replicas[1].create("저녁", &[pick("plank", 30)]).unwrap();
    for r in &mut replicas {
        r.tick(1);
        r.draw(0).unwrap();
        r.tick(1);
    }
    let derived = Derived::of(&replicas[0].personal);
    replicas[0].play_on(morning, &derived, true).unwrap();
    let derived = Derived::of(&replicas[1].personal);
    replicas[1].play_on(evening, &derived, true).unwrap();
    replicas[1].play_on(basic(), &derived, true).unwrap();

    both_ways(&mut replicas);
    for r in &replicas {
        let p = &r.personal;
        let names: BTreeSet<&str> = p.routines.values().map(|r| r.name.as_str()).collect();
        assert_eq!(p.routines.len(), 4, "two presets, merged into one each, and both new routines");
        assert!(names.contains("아침") && names.contains("저녁"));
        assert_eq!(p.routines[&basic()].entries.len(), 5, "the presets' entries are not doubled");
        assert_eq!(p.account.draws.len(), 2);
        assert_eq!(p.account.started.len(), 2);
        assert_eq!(p.actions.len(), 3);
        assert_eq!(p.routine_records.len(), 1, "the one-action routine was completed");
        let genesis_changes = r.docs[&DocKind::Routines]
            .clone()
            .get_changes(&[])
            .iter()
            .filter(|c| c.message() == Some("genesis"))
            .count();
        assert_eq!(genesis_changes, 1);
        check_invariants("merged", p);
    }
}

#[test]
fn the_same_action_on_two_devices_counts_once_and_the_earliest_wins() {
    let mut replicas = pair(-300);
    replicas[0].draw(0).unwrap();
    exchange(&mut replicas, 0, 1, 7, 0);
    // Four of five actions done and shared; then both devices do the fifth, offline.
    for _ in 0..4 {
        replicas[0].tick(1);
        let derived = Derived::of(&replicas[0].personal);
        replicas[0].play_on(basic(), &derived, true).unwrap();
    }
    exchange(&mut replicas, 0, 1, 7, 1);
    replicas[0].tick(600);
    replicas[1].tick(120);
    let first = replicas[1].moment();
    for r in &mut replicas {
        let derived = Derived::of(&r.personal);
        let changes = r.play_on(basic(), &derived, true).unwrap();
        assert_eq!(changes.len(), 2, "on each device the fifth action completes the routine");
    }
    both_ways(&mut replicas);
    let p = &replicas[0].personal;
    // The first completion started the preset's first cycle, and the devices shared it.
    let cycle = p.current_cycle(&p.routines[&basic()]);
    assert!(matches!(cycle, Cycle::Id(_)), "{cycle}");
    let fifth = CompletionKey { routine: basic(), cycle, entry: PRESETS[0].entries[4].0 };
    assert_eq!(p.actions[&fifth].moment, first, "the earliest completion wins");
    assert_eq!(p.routine_records.len(), 1);
    assert_eq!(p.routine_records.values().next().unwrap().moment, first);
    let month = DocKind::Log(Month::of(first.date));
    let log = schema::read_log(&replicas[0].docs[&month]).unwrap();
    assert_eq!(log.actions.iter().filter(|a| a.key == fifth).count(), 2, "both versions are kept in the document");
    let derived = check_invariants("merged", p);
    assert_eq!(derived.total_exp, 600, "one completion, one bonus");
    assert_eq!(derived.days.values().map(|d| d.actions).sum::<u32>(), 5);
}

#[test]
fn concurrent_draws_keep_only_the_earliest() {
    let mut replicas = pair(KST);
    replicas[0].tick(30);
    replicas[1].tick(10);
    assert_eq!(replicas[0].draw(0).unwrap(), Character::Mingi);
    assert_eq!(replicas[1].draw(1).unwrap(), Character::Muneo);
    both_ways(&mut replicas);
    let derived = check_invariants("merged", &replicas[0].personal);
    let growing = derived.growing.unwrap();
    assert_eq!((growing.character, growing.drawn_at_ms), (Character::Muneo, replicas[1].now_ms));
    assert_eq!(replicas[0].personal.account.draws.len(), 2);
    assert_eq!(replicas[0].draw(2), Err(RuleError::CharacterGrowing));
}

#[test]
fn concurrent_restart_and_reset_of_one_cycle_leave_one_fresh_cycle_current() {
    let mut replicas = pair(KST);
    replicas[0].draw(0).unwrap();
    for _ in 0..5 {
        replicas[0].tick(1);
        let derived = Derived::of(&replicas[0].personal);
        replicas[0].play_on(basic(), &derived, true).unwrap();
    }
    exchange(&mut replicas, 0, 1, 7, 2);
    let fresh = replicas[0].fresh();
    let restart = rules::plan_restart(&replicas[0].personal, basic(), fresh).unwrap();
    replicas[0].write(&restart);
    let fresh = replicas[1].fresh();
    let reset = rules::plan_reset(&replicas[1].personal, basic(), fresh).unwrap();
    let info = CycleInfo { number: 2, start: CycleStart::Reset, at_ms: fresh.at_ms };
    assert_eq!(reset, [Change::StartCycle { routine: basic(), cycle: Cycle::Id(fresh.id), info }]);
    replicas[1].write(&reset);
    both_ways(&mut replicas);
    // Both fresh cycles are listed; both devices play the same one on, with nothing done in it.
    let routine = &replicas[0].personal.routines[&basic()];
    let starts: Vec<_> = routine.cycles.values().map(|c| (c.number, c.start)).collect();
    assert_eq!(starts.iter().filter(|(n, _)| *n == 2).count(), 2, "{starts:?}");
    assert_eq!(replicas[0].personal.current_cycle(routine), replicas[1].personal.current_cycle(routine));
    assert_eq!(replicas[0].personal.current_number(routine), 2);
    assert!(replicas[0].personal.done_in_cycle(routine, replicas[0].personal.current_cycle(routine)).is_empty());
    assert_eq!(check_invariants("merged", &replicas[0].personal).total_exp, 600);
}

#[test]
fn concurrent_edits_of_one_routine_keep_one_whole_action_list() {
    let mut replicas = pair(KST);
    let id = replicas[0].create("하나", &[pick("squat", 10)]).unwrap();
    exchange(&mut replicas, 0, 1, 7, 2);
    let mine = ["squat", "lunge", "plank", "push_up", "sky_bike"].map(|a| pick(a, 10));
    let theirs = ["neck_roll", "shoulder_roll", "waist_roll", "arm_circle", "knee_roll"].map(|a| pick(a, 5));
    replicas[0].edit(id, "몸풀기", &mine).unwrap();
    replicas[1].edit(id, "스트레칭", &theirs).unwrap();
    both_ways(&mut replicas);
    let routine = &replicas[0].personal.routines[&id];
    let merged = (routine.name.as_str(), picks_of_routine(routine));
    assert!(
        merged == ("몸풀기", mine.to_vec()) || merged == ("스트레칭", theirs.to_vec()),
        "one edit wins whole, name and actions: {merged:?}"
    );
    check_invariants("merged", &replicas[0].personal);
}

/// Plays the basic preset, a capped day after another, until the growing character is collected.
/// The documents are written at every step; the in-memory result is compared once at the end.
fn grind_until_collected(replica: &mut Replica) {
    let mut derived = Derived::of(&replica.personal);
    while derived.growing.is_some() {
        replica.tick(1);
        if derived.days.get(&replica.moment().date).is_some_and(|d| d.exp >= DAILY_EXP_CAP) {
            replica.tick(24 * 60);
        }
        let routine = replica.personal.routines[&basic()].clone();
        if replica.personal.cycle_complete(&routine, replica.personal.current_cycle(&routine)) {
            let fresh = replica.fresh();
            let restart = rules::plan_restart(&replica.personal, basic(), fresh).unwrap();
            replica.write_unchecked(&restart);
        }
        let routine = replica.personal.routines[&basic()].clone();
        let entry = replica.undone(&routine).unwrap();
        let fresh = replica.fresh();
        let changes =
            rules::plan_complete_action(&replica.personal, &derived, basic(), entry, replica.moment(), fresh).unwrap();
        replica.write_unchecked(&changes);
        let events: Vec<Event<'_>> = changes
            .iter()
            .filter_map(|c| match c {
                Change::CompleteAction(a) => Some(Event::Action(a)),
                Change::CompleteRoutine(r) => Some(Event::Routine(r)),
                _ => None,
            })
            .collect();
        // A future-dated event (the void draw) makes the incremental path refuse: fold again.
        if !derived.try_append(&events) {
            derived = Derived::of(&replica.personal);
        }
    }
    assert_eq!(replica.personal, replica.read_uncached());
    assert_eq!(derived, Derived::of(&replica.personal));
}

#[test]
fn a_draw_dated_before_an_existing_draw_reads_back_as_applied() {
    // Device A's clock runs a year ahead: its draw, and the fifty capped days that collect the
    // character, are all dated a year after device B's present.
    let mut replicas = pair(KST);
    replicas[0].tick(365 * 24 * 60);
    assert_eq!(replicas[0].draw(0).unwrap(), Character::Mingi);
    grind_until_collected(&mut replicas[0]);
    both_ways(&mut replicas);
    let derived = check_invariants("B", &replicas[1].personal);
    assert_eq!((derived.growing, derived.collection.len()), (None, 1));
    assert!(replicas[1].now_ms < replicas[0].personal.account.draws[0].at_ms);

    // B draws now: in the documents its draw sorts before A's, and `apply` must agree.
    replicas[1].tick(1);
    assert_eq!(replicas[1].draw(0).unwrap(), Character::Muneo);
    check_invariants("B", &replicas[1].personal);
    both_ways(&mut replicas);
    check_invariants("merged", &replicas[0].personal);
}

#[test]
fn routines_given_the_same_name_on_two_devices_stay_editable_after_merging() {
    let mut replicas = pair(KST);
    let a = replicas[0].create("아침", &[pick("squat", 10)]).unwrap();
    let b = replicas[1].create("아침", &[pick("lunge", 10)]).unwrap();
    both_ways(&mut replicas);
    // Both keep their name; each can still be edited without renaming.
    replicas[0].edit(a, "아침", &[pick("squat", 20)]).unwrap();
    replicas[1].edit(b, " 아침 ", &[pick("lunge", 20)]).unwrap();
    // Renaming one to a name in use is still refused.
    assert_eq!(
        replicas[0].edit(a, PRESETS[0].name_ko, &[pick("squat", 20)]),
        Err(RuleError::NameTaken(PRESETS[0].name_ko.into()))
    );
}

#[test]
fn a_log_cannot_pass_for_another_months_log() {
    let actor = ActorId::random();
    let november = Month { year: 2026, month: 11 };
    let december = Month { year: 2026, month: 12 };
    let doc = schema::genesis(DocKind::Log(november), &actor);
    assert!(schema::check_kind(&doc, DocKind::Log(november)).is_ok());
    assert!(schema::check_kind(&doc, DocKind::Log(december)).is_err());
}

/// Plays the basic preset on: `actions` actions, a minute apart, restarting as cycles complete.
fn play_basic(replica: &mut Replica, actions: usize) {
    for _ in 0..actions {
        replica.tick(1);
        let derived = Derived::of(&replica.personal);
        replica.play_on(basic(), &derived, true).unwrap();
    }
}

#[test]
fn devices_that_played_a_preset_apart_keep_both_histories() {
    // A laptop plays the basic preset twice through on one day; a phone used without an account
    // (its data has a root of its own) plays it twice through a month later, then signs in.
    // Presets have one id everywhere, so the two devices met in the same cycles when cycles were
    // numbered: the laptop's completions won every key and the phone's month vanished.
    let month = 30 * 24 * 3_600_000;
    let (laptop, phone) = (Uuid::from_u128(0xa9a7), Uuid::from_u128(0xf0e));
    let mut replicas =
        vec![Replica::new(laptop, 30, 0, base_ms(), KST), Replica::new(phone, 40, 1, base_ms() + month, KST)];
    for r in &mut replicas {
        r.draw(0).unwrap();
        play_basic(r, 10);
        assert_eq!(Derived::of(&r.personal).total_exp, 1200, "two cycles of 600 on each device");
    }
    let days = [replicas[0].moment().date, replicas[1].moment().date];
    replicas[1].adopt(laptop);
    both_ways(&mut replicas);
    let p = &replicas[0].personal;
    let derived = check_invariants("merged", p);
    assert_eq!(derived.total_exp, 2400, "both devices' cycles count");
    assert_eq!(derived.routine_totals[&basic()], 4);
    for day in days {
        assert_eq!((derived.days[&day].actions, derived.days[&day].routines, derived.days[&day].exp), (10, 2, 1200));
    }
    assert_eq!(p.actions.len(), 20, "no completion hides another");
    // One cycle goes on, the same on both devices: the phone's, started last, and complete.
    let routine = &p.routines[&basic()];
    assert_eq!(routine.cycles.len(), 4, "two cycles started on each device");
    assert!(routine.cycles.contains_key(&Cycle::first_of(laptop, basic())));
    assert!(routine.cycles.contains_key(&Cycle::first_of(phone, basic())));
    assert_eq!(p.current_number(routine), 2);
    assert!(p.cycle_complete(routine, p.current_cycle(routine)));
    let fresh = FreshCycle { id: Uuid::from_u128(1), root: laptop, at_ms: base_ms() + month };
    assert!(rules::plan_restart(p, basic(), fresh).is_ok(), "the user may start the next cycle");
}

#[test]
fn of_two_restarts_of_one_cycle_the_one_with_progress_goes_on() {
    let mut replicas = pair(KST);
    replicas[0].draw(0).unwrap();
    play_basic(&mut replicas[0], 5);
    exchange(&mut replicas, 0, 1, 7, 2);
    // Apart, the phone restarts and plays three actions; the laptop restarts an hour later.
    play_basic(&mut replicas[0], 3);
    replicas[1].tick(60);
    let fresh = replicas[1].fresh();
    let restart = rules::plan_restart(&replicas[1].personal, basic(), fresh).unwrap();
    replicas[1].write(&restart);
    both_ways(&mut replicas);
    let p = &replicas[0].personal;
    let routine = &p.routines[&basic()];
    assert_eq!(routine.cycles.values().filter(|c| c.number == 2).count(), 2, "both restarts stand");
    assert_ne!(p.current_cycle(routine), Cycle::Id(fresh.id), "not the later, empty one");
    assert_eq!(p.done_in_cycle(routine, p.current_cycle(routine)).len(), 3, "the phone's progress stays in view");
    assert_eq!(check_invariants("merged", p).total_exp, 600 + 300);
}
