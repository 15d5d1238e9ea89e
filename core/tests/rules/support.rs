//! The rule tests' helpers: one `User` changed only through the rules, the presets, moments on a
//! local clock, and the figures read off the derived state.

use chrono::NaiveDate;
use mingizuk_core::RuleError;
use mingizuk_core::automerge::ActorId;
use mingizuk_core::catalog::{Character, PRESETS};
use mingizuk_core::fold::{Derived, Event};
use mingizuk_core::model::{EntryId, Moment, Personal, RoutineId};
use mingizuk_core::rules::{self, ActionPick, Change, FreshCycle};
use mingizuk_core::schema::{self, DocKind};
use uuid::Uuid;

pub const KST: i32 = 9 * 60;
pub const UTC: i32 = 0;

/// The basic preset: five actions, each ×10.
pub fn basic() -> RoutineId {
    PRESETS[0].id
}

/// The workout preset: four actions, each ×10.
pub fn workout() -> RoutineId {
    PRESETS[1].id
}

pub fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The moment a device at UTC `offset` minutes shows `hour:minute` on `day`.
pub fn local(day: NaiveDate, hour: u32, minute: u32, offset: i32) -> Moment {
    let utc_ms = day.and_hms_opt(hour, minute, 0).unwrap().and_utc().timestamp_millis() - i64::from(offset) * 60_000;
    let moment = Moment::new(utc_ms, offset).unwrap();
    assert_eq!(moment.date, day);
    moment
}

fn picks(list: &[(&str, u8)]) -> Vec<ActionPick> {
    list.iter().map(|(action, count)| ActionPick { action: (*action).to_owned(), count: *count }).collect()
}

/// One user on one device, changed only through the rules.
pub struct User {
    pub personal: Personal,
    next_id: u128,
    /// The latest instant an action was completed at: the instant a cycle started after it.
    now_ms: i64,
}

impl User {
    /// A new user: the genesis documents read back (so the presets are there), nothing else.
    pub fn new() -> User {
        let actor = ActorId::from(&[7_u8; 16][..]);
        let personal = Personal {
            account: schema::read_account(&schema::genesis(DocKind::Account, &actor)).unwrap(),
            routines: schema::read_routines(&schema::genesis(DocKind::Routines, &actor)).unwrap(),
            ..Personal::default()
        };
        User { personal, next_id: 0, now_ms: 0 }
    }

    pub fn id(&mut self) -> Uuid {
        self.next_id += 1;
        Uuid::from_u128(self.next_id)
    }

    /// A fresh cycle's id and instant, as a device's engine gives them.
    pub fn fresh(&mut self) -> FreshCycle {
        FreshCycle { id: self.id(), root: Uuid::from_u128(0xacc), at_ms: self.now_ms }
    }

    pub fn derived(&self) -> Derived {
        Derived::of(&self.personal)
    }

    pub fn apply(&mut self, planned: Result<Vec<Change>, RuleError>) -> Result<Vec<Change>, RuleError> {
        let changes = planned?;
        self.personal.apply(&changes);
        Ok(changes)
    }

    pub fn try_create(&mut self, name: &str, list: &[(&str, u8)]) -> Result<RoutineId, RuleError> {
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

    pub fn create(&mut self, name: &str, list: &[(&str, u8)]) -> RoutineId {
        self.try_create(name, list).unwrap()
    }

    pub fn edit(&mut self, id: RoutineId, name: &str, list: &[(&str, u8)]) -> Result<Vec<Change>, RuleError> {
        let next_id = &mut self.next_id;
        let mut new_id = || {
            *next_id += 1;
            Uuid::from_u128(*next_id)
        };
        let planned = rules::plan_edit_routine(&self.personal, id, name, &picks(list), &mut new_id);
        self.apply(planned)
    }

    pub fn delete(&mut self, id: RoutineId) -> Result<Vec<Change>, RuleError> {
        let planned = rules::plan_delete_routine(&self.personal, id);
        self.apply(planned)
    }

    pub fn set_main(&mut self, id: Option<RoutineId>) -> Result<Vec<Change>, RuleError> {
        let planned = rules::plan_set_main(&self.personal, id);
        self.apply(planned)
    }

    pub fn draw(&mut self, at: Moment, roll: u32) -> Result<Character, RuleError> {
        let id = self.id();
        let planned = rules::plan_draw(&self.derived(), id, at.at_ms, roll);
        match self.apply(planned)?.as_slice() {
            [Change::Draw(d)] => Ok(d.character),
            other => panic!("a draw plans one draw, got {other:?}"),
        }
    }

    pub fn entry(&self, routine: RoutineId, index: usize) -> EntryId {
        self.personal.routines[&routine].entries[index].id
    }

    pub fn complete_entry(&mut self, routine: RoutineId, entry: EntryId, at: Moment) -> Result<Vec<Change>, RuleError> {
        self.now_ms = self.now_ms.max(at.at_ms);
        let fresh = self.fresh();
        let planned = rules::plan_complete_action(&self.personal, &self.derived(), routine, entry, at, fresh);
        self.apply(planned)
    }

    pub fn complete(&mut self, routine: RoutineId, index: usize, at: Moment) -> Result<Vec<Change>, RuleError> {
        let entry = self.entry(routine, index);
        self.complete_entry(routine, entry, at)
    }

    /// Completes the first `n` entries of the routine's current cycle, one minute apart from `at`.
    pub fn complete_first(&mut self, routine: RoutineId, n: usize, at: Moment) {
        for i in 0..n {
            let moment = Moment::new(at.at_ms + 60_000 * i as i64, at.offset_minutes).unwrap();
            self.complete(routine, i, moment).unwrap();
        }
    }

    pub fn restart(&mut self, id: RoutineId) -> Result<Vec<Change>, RuleError> {
        let fresh = self.fresh();
        let planned = rules::plan_restart(&self.personal, id, fresh);
        self.apply(planned)
    }

    pub fn reset(&mut self, id: RoutineId) -> Result<Vec<Change>, RuleError> {
        let fresh = self.fresh();
        let planned = rules::plan_reset(&self.personal, id, fresh);
        self.apply(planned)
    }

    /// Plays the routine on: restarts it when its cycle is complete, then completes the first
    /// entry not yet done.
    pub fn next_action(&mut self, routine: RoutineId, at: Moment) -> Vec<Change> {
        let r = self.personal.routines[&routine].clone();
        let mut changes = Vec::new();
        if self.personal.cycle_complete(&r, self.personal.current_cycle(&r)) {
            changes = self.restart(routine).unwrap();
        }
        let r = self.personal.routines[&routine].clone();
        let done = self.personal.done_in_cycle(&r, self.personal.current_cycle(&r));
        let entry = r.entries.iter().find(|e| !done.contains(&e.id)).unwrap().id;
        changes.extend(self.complete_entry(routine, entry, at).unwrap());
        changes
    }

    /// The number of the routine's current cycle.
    pub fn cycle(&self, routine: RoutineId) -> u32 {
        let r = &self.personal.routines[&routine];
        r.cycle_number(self.personal.current_cycle(r))
    }

    pub fn done(&self, routine: RoutineId) -> Vec<EntryId> {
        let r = &self.personal.routines[&routine];
        self.personal.done_in_cycle(r, self.personal.current_cycle(r))
    }
}

pub fn events(changes: &[Change]) -> Vec<Event<'_>> {
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

pub fn day_exp(derived: &Derived, day: NaiveDate) -> u32 {
    derived.days.get(&day).map_or(0, |t| t.exp)
}

pub fn growing_exp(derived: &Derived) -> u32 {
    derived.growing.unwrap().exp
}
