//! What a user does on a device (`Op`), drawn at random, and the checks of the rules' answer.

use mingizuk_core::RuleError;
use mingizuk_core::catalog::{self, PRESETS};
use mingizuk_core::fold::Derived;
use mingizuk_core::limits::ROUTINE_NAME_MAX_CHARS;
use mingizuk_core::model::{CompletionKey, Cycle, CycleStart, EntryId, Routine};
use mingizuk_core::rules::{self, ActionPick, Change};
use proptest::prelude::*;

use crate::replica::{OFFSETS, Replica};

#[derive(Debug, Clone)]
pub enum Op {
    Create {
        name: u8,
        picks: Vec<(u8, u8)>,
    },
    Edit {
        routine: u8,
        name: u8,
        picks: Vec<(u8, u8)>,
    },
    Delete {
        routine: u8,
    },
    SetMain {
        routine: Option<u8>,
    },
    Complete {
        routine: u8,
        entry: u8,
    },
    /// Plays a routine on for several actions, restarting it whenever a cycle is complete and
    /// drawing a character when asked to.
    Binge {
        routine: u8,
        actions: u8,
    },
    Restart {
        routine: u8,
    },
    Reset {
        routine: u8,
    },
    Draw {
        roll: u32,
    },
    Wait {
        minutes: u32,
    },
    Travel {
        offset: usize,
    },
}

impl Replica {
    /// Performs one user action, checking the rules' answer against what the data says.
    pub fn act(&mut self, op: &Op) {
        self.tick(1);
        match op {
            Op::Create { name, picks } => {
                let allowed = PICK_ERRORS.iter().chain(NAME_ERRORS).copied().collect::<Vec<_>>();
                let picks = picks_of(picks);
                match self.create(&name_of(*name), &picks) {
                    Ok(id) => {
                        let routine = &self.personal.routines[&id];
                        assert_eq!(routine.name, name_of(*name).trim());
                        assert_eq!(picks_of_routine(routine), picks);
                    }
                    Err(e) => assert!(allowed.contains(&e.code()), "unexpected refusal {e:?}"),
                }
            }
            Op::Edit { routine, name, picks } => {
                let routine = self.routine(*routine);
                let picks = picks_of(picks);
                let allowed = PICK_ERRORS
                    .iter()
                    .chain(NAME_ERRORS)
                    .chain(&["routine_deleted", "preset_read_only"])
                    .copied()
                    .collect::<Vec<_>>();
                match self.edit(routine.id, &name_of(*name), &picks) {
                    Ok(_) => {
                        let edited = &self.personal.routines[&routine.id];
                        assert_eq!(picks_of_routine(edited), picks);
                        // An unchanged entry keeps its id (and its completion); any other is new.
                        for entry in &edited.entries {
                            match routine.entries.iter().find(|e| e.action == entry.action && e.count == entry.count) {
                                Some(old) => assert_eq!(entry.id, old.id, "{entry:?} is unchanged"),
                                None => assert!(routine.entries.iter().all(|e| e.id != entry.id), "{entry:?} is new"),
                            }
                        }
                    }
                    Err(e) => assert!(allowed.contains(&e.code()), "unexpected refusal {e:?}"),
                }
            }
            Op::Delete { routine } => {
                let id = self.routine(*routine).id;
                let planned = rules::plan_delete_routine(&self.personal, id);
                if self.outcome(planned, &["routine_deleted", "preset_read_only"]).is_some() {
                    assert!(self.personal.routines[&id].deleted);
                    assert_ne!(self.personal.account.main_routine, Some(id));
                }
            }
            Op::SetMain { routine } => {
                let id = routine.map(|r| self.routine(r).id);
                let planned = rules::plan_set_main(&self.personal, id);
                if self.outcome(planned, &["routine_deleted"]).is_some() {
                    assert_eq!(self.personal.account.main_routine, id);
                }
            }
            Op::Complete { routine, entry } => {
                let routine = self.routine(*routine);
                let entry = routine.entries[usize::from(*entry) % routine.entries.len()].id;
                self.complete(&routine, entry);
            }
            Op::Binge { routine, actions } => {
                // The documents are read back once, after the whole binge.
                let id = self.routine(*routine).id;
                let mut all = Vec::new();
                for _ in 0..*actions {
                    if self.personal.routines[&id].deleted {
                        break;
                    }
                    self.tick(1);
                    let derived = Derived::of(&self.personal);
                    match self.play_on(id, &derived, false) {
                        Ok(changes) => all.extend(changes),
                        // Asked for a character, the user draws one and goes on.
                        Err(RuleError::NeedCharacter) => {
                            self.check_read(&all);
                            all.clear();
                            self.draw(u32::from(*actions)).unwrap();
                        }
                        Err(e) => panic!("device {}: playing on was refused: {e:?}", self.index),
                    }
                }
                self.check_read(&all);
            }
            Op::Restart { routine } => {
                let routine = self.routine(*routine);
                let before = self.personal.current_cycle(&routine);
                let complete = self.personal.cycle_complete(&routine, before);
                let before_number = self.personal.current_number(&routine);
                let fresh = self.fresh();
                let planned = rules::plan_restart(&self.personal, routine.id, fresh);
                match (&planned, routine.deleted, complete) {
                    (Err(RuleError::RoutineDeleted), true, _) | (Err(RuleError::CycleNotComplete), false, false) => {}
                    (Ok(_), false, true) => {
                        self.write(&planned.unwrap());
                        let after = &self.personal.routines[&routine.id];
                        assert_eq!(self.personal.current_cycle(after), Cycle::Id(fresh.id), "the new cycle is current");
                        assert_eq!(self.personal.current_number(after), before_number + 1);
                        assert_eq!(after.cycles[&Cycle::Id(fresh.id)].start, CycleStart::Restart);
                        assert!(self.personal.cycle_complete(after, before), "the finished cycle is recorded");
                    }
                    other => panic!("device {}: restart {other:?}", self.index),
                }
            }
            Op::Reset { routine } => {
                let routine = self.routine(*routine);
                let cycle = self.personal.current_cycle(&routine);
                let before_number = self.personal.current_number(&routine);
                let untouched = self.personal.done_in_cycle(&routine, cycle).is_empty()
                    && !self.personal.cycle_complete(&routine, cycle);
                let fresh = self.fresh();
                let planned = rules::plan_reset(&self.personal, routine.id, fresh);
                match (planned, routine.deleted) {
                    (Err(RuleError::RoutineDeleted), true) => {}
                    (Ok(changes), false) => {
                        assert_eq!(changes.is_empty(), untouched);
                        self.write(&changes);
                        let after = &self.personal.routines[&routine.id];
                        let expected =
                            if untouched { (cycle, before_number) } else { (Cycle::Id(fresh.id), before_number + 1) };
                        assert_eq!((self.personal.current_cycle(after), self.personal.current_number(after)), expected);
                    }
                    other => panic!("device {}: reset {other:?}", self.index),
                }
            }
            Op::Draw { roll } => {
                let before = Derived::of(&self.personal);
                match (self.draw(*roll), before.growing) {
                    (Err(RuleError::CharacterGrowing), Some(_)) => {}
                    (Err(RuleError::CollectionComplete), None) => assert!(before.drawable().is_empty()),
                    (Ok(character), None) => {
                        assert!(!before.collected(character), "only characters not collected are drawn");
                        let after = Derived::of(&self.personal);
                        assert_eq!(after.growing.map(|g| g.character), Some(character));
                    }
                    other => panic!("device {}: draw {other:?}", self.index),
                }
            }
            Op::Wait { minutes } => self.tick(i64::from(*minutes)),
            Op::Travel { offset } => self.offset = OFFSETS[*offset % OFFSETS.len()],
        }
    }

    fn complete(&mut self, routine: &Routine, entry: EntryId) {
        let derived = Derived::of(&self.personal);
        let fresh = self.fresh();
        let current = self.personal.current_cycle(routine);
        let key = CompletionKey { routine: routine.id, cycle: current, entry };
        let done = self.personal.actions.contains_key(&key) || self.personal.cycle_complete(routine, current);
        // A routine's first completion starts its first cycle, named by the account.
        let starts = current == Cycle::FIRST && self.personal.done_in_cycle(routine, current).is_empty();
        let cycle = if starts { Cycle::first_of(fresh.root, routine.id) } else { current };
        let key = CompletionKey { routine: routine.id, cycle, entry };
        // Done in that cycle on another device whose routines this one has not seen yet: that
        // completion stands, and this device only learns of the cycle.
        let elsewhere =
            starts && (self.personal.actions.contains_key(&key) || self.personal.cycle_complete(routine, cycle));
        let before = self.personal.actions.get(&key).map(|c| c.moment);
        let needs_character = derived.growing.is_none() && !derived.drawable().is_empty();
        let planned = rules::plan_complete_action(&self.personal, &derived, routine.id, entry, self.moment(), fresh);
        match (planned, routine.deleted, needs_character, done) {
            (Err(RuleError::RoutineDeleted), true, _, _)
            | (Err(RuleError::NeedCharacter), false, true, _)
            | (Err(RuleError::AlreadyCompleted), false, false, true) => {}
            (Ok(changes), false, false, false) => {
                self.write(&changes);
                assert_eq!(self.personal.current_cycle(&self.personal.routines[&routine.id]), cycle);
                if elsewhere {
                    assert!(matches!(changes.as_slice(), [Change::StartCycle { .. }]), "{changes:?}");
                    assert_eq!(self.personal.actions.get(&key).map(|c| c.moment), before);
                    return;
                }
                assert_eq!(self.personal.actions[&key].moment, self.moment());
                let last = routine.entries.iter().all(|e| {
                    e.id == entry
                        || self.personal.actions.contains_key(&CompletionKey {
                            routine: routine.id,
                            cycle,
                            entry: e.id,
                        })
                });
                let expected = 1 + usize::from(last) + usize::from(starts);
                assert_eq!(changes.len(), expected, "the last action of a cycle records the routine");
            }
            other => panic!("device {}: complete {other:?}", self.index),
        }
    }
}

const NAME_ERRORS: &[&str] = &["routine_name_empty", "routine_name_too_long", "routine_name_taken"];
const PICK_ERRORS: &[&str] = &[
    "routine_no_actions",
    "routine_too_many_actions",
    "action_count_out_of_range",
    "unknown_action",
    "duplicate_action",
];

fn name_of(n: u8) -> String {
    match n % 10 {
        0 => "아침".into(),
        1 => "저녁".into(),
        2 => " 아침 ".into(),
        3 => "출근 전 스트레칭".into(),
        4 => "Morning".into(),
        5 => String::new(),
        6 => "   ".into(),
        7 => "가".repeat(ROUTINE_NAME_MAX_CHARS),
        8 => "나".repeat(ROUTINE_NAME_MAX_CHARS + 1),
        _ => PRESETS[0].name_ko.into(),
    }
}

fn picks_of(picks: &[(u8, u8)]) -> Vec<ActionPick> {
    picks
        .iter()
        .map(|(action, count)| ActionPick {
            action: catalog::ACTIONS.get(usize::from(*action)).map_or("moonwalk", |a| a.id).to_owned(),
            count: *count,
        })
        .collect()
}

pub fn picks_of_routine(routine: &Routine) -> Vec<ActionPick> {
    routine.entries.iter().map(|e| ActionPick { action: e.action.clone(), count: e.count }).collect()
}

fn picks_strategy() -> impl Strategy<Value = Vec<(u8, u8)>> + Clone {
    // Index 18 is past the catalog: an unknown action. Counts 0 and 100 are out of range.
    let action = prop_oneof![20 => 0..18_u8, 1 => Just(18_u8)];
    let count = prop_oneof![20 => 1..=99_u8, 1 => Just(0_u8), 1 => Just(100_u8)];
    let pick = (action, count);
    prop_oneof![
        9 => prop::collection::vec(pick.clone(), 1..=5),
        1 => prop::collection::vec(pick, 0..=7),
    ]
}

fn minutes_strategy() -> impl Strategy<Value = u32> {
    prop_oneof![3 => 1..180_u32, 3 => 180..3_000_u32, 1 => 3_000..20_000_u32]
}

pub fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<u8>(), picks_strategy()).prop_map(|(name, picks)| Op::Create { name, picks }),
        2 => (any::<u8>(), any::<u8>(), picks_strategy()).prop_map(|(routine, name, picks)| Op::Edit { routine, name, picks }),
        1 => any::<u8>().prop_map(|routine| Op::Delete { routine }),
        1 => proptest::option::of(any::<u8>()).prop_map(|routine| Op::SetMain { routine }),
        8 => (any::<u8>(), any::<u8>()).prop_map(|(routine, entry)| Op::Complete { routine, entry }),
        3 => (any::<u8>(), 1..=10_u8).prop_map(|(routine, actions)| Op::Binge { routine, actions }),
        2 => any::<u8>().prop_map(|routine| Op::Restart { routine }),
        1 => any::<u8>().prop_map(|routine| Op::Reset { routine }),
        2 => any::<u32>().prop_map(|roll| Op::Draw { roll }),
        5 => minutes_strategy().prop_map(|minutes| Op::Wait { minutes }),
        1 => (0..OFFSETS.len()).prop_map(|offset| Op::Travel { offset }),
    ]
}

/// The hard cases, on purpose: two devices doing conflicting things to the same data.
pub fn twin_strategy() -> impl Strategy<Value = (Op, Op)> {
    use Op::*;
    prop_oneof![
        (any::<u8>(), any::<u8>())
            .prop_map(|(routine, entry)| (Complete { routine, entry }, Complete { routine, entry })),
        (any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(routine, e1, e2)| (Complete { routine, entry: e1 }, Complete { routine, entry: e2 })),
        (any::<u8>(), 1..=8_u8, 1..=8_u8)
            .prop_map(|(routine, x, y)| (Binge { routine, actions: x }, Binge { routine, actions: y })),
        any::<u8>().prop_map(|routine| (Restart { routine }, Restart { routine })),
        any::<u8>().prop_map(|routine| (Restart { routine }, Reset { routine })),
        (any::<u32>(), any::<u32>()).prop_map(|(x, y)| (Draw { roll: x }, Draw { roll: y })),
        (any::<u8>(), any::<u8>(), picks_strategy(), any::<u8>(), picks_strategy()).prop_map(
            |(routine, n1, p1, n2, p2)| (Edit { routine, name: n1, picks: p1 }, Edit { routine, name: n2, picks: p2 })
        ),
        (any::<u8>(), any::<u8>(), picks_strategy())
            .prop_map(|(routine, name, picks)| (Edit { routine, name, picks }, Delete { routine })),
        (any::<u8>(), any::<u8>(), picks_strategy(), any::<u8>())
            .prop_map(|(routine, name, picks, entry)| (Edit { routine, name, picks }, Complete { routine, entry })),
        (any::<u8>(), picks_strategy(), picks_strategy())
            .prop_map(|(name, p1, p2)| (Create { name, picks: p1 }, Create { name, picks: p2 })),
        (any::<u8>(), any::<u8>()).prop_map(|(x, y)| (SetMain { routine: Some(x) }, SetMain { routine: Some(y) })),
        any::<u8>().prop_map(|routine| (Delete { routine }, SetMain { routine: Some(routine) })),
    ]
}
