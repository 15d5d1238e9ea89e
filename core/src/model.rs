//! The plain, in-memory shape of a user's personal data, as read from the Automerge documents.
//! Rules check against it and the fold derives everything from it; it carries no I/O and no
//! Automerge types.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::catalog::Character;

pub type RoutineId = Uuid;
pub type EntryId = Uuid;
pub type DrawId = Uuid;

/// Where and when something happened: the instant, and the local calendar date and UTC offset
/// of the device at that instant. Days are counted by `date`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Moment {
    /// Milliseconds since the Unix epoch (UTC).
    pub at_ms: i64,
    /// The UTC offset of the device, in minutes east of UTC.
    pub offset_minutes: i32,
    /// The local calendar date: always the date of `at_ms` shifted by `offset_minutes`.
    pub date: NaiveDate,
}

impl Moment {
    /// The moment `at_ms` seen from a device at UTC `offset_minutes`; `None` when either is out
    /// of range.
    pub fn new(at_ms: i64, offset_minutes: i32) -> Option<Moment> {
        let offset = FixedOffset::east_opt(offset_minutes.checked_mul(60)?)?;
        let date = DateTime::from_timestamp_millis(at_ms)?.with_timezone(&offset).date_naive();
        Some(Moment { at_ms, offset_minutes, date })
    }
}

/// One action of a routine, with its own id so that completions refer to exactly this entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entry {
    pub id: EntryId,
    pub action: String,
    pub count: u8,
}

mod cycle;
pub use cycle::{Cycle, CycleInfo, CycleStart};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routine {
    pub id: RoutineId,
    pub name: String,
    pub preset: bool,
    pub entries: Vec<Entry>,
    pub created_at_ms: i64,
    pub deleted: bool,
    /// Every cycle started, but cycle 1 of a routine (`Cycle::FIRST`), which needs no record.
    /// Older files list `Number` cycles as `{"2": "restart"}` (`cycles_serde`).
    #[serde(with = "cycle::cycles_serde")]
    pub cycles: BTreeMap<Cycle, CycleInfo>,
}

impl Routine {
    /// The number of a cycle of this routine (1 for one it does not list).
    pub fn cycle_number(&self, cycle: Cycle) -> u32 {
        match (self.cycles.get(&cycle), cycle) {
            (Some(info), _) => info.number,
            (None, Cycle::Number(n)) => n,
            (None, Cycle::Id(_)) => 1,
        }
    }

    pub fn entry(&self, id: EntryId) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }
}

/// The key of an action completion: the same action entry done twice in one cycle (on two
/// devices, say) is one completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CompletionKey {
    pub routine: RoutineId,
    pub cycle: Cycle,
    pub entry: EntryId,
}

impl CompletionKey {
    pub fn encode(&self) -> String {
        format!("a/{}/{}/{}", self.routine, self.cycle, self.entry)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ActionCompletion {
    pub key: CompletionKey,
    /// What was done, as it was when done (the routine may change later).
    pub action: String,
    pub count: u8,
    pub moment: Moment,
}

/// The key of a routine completion: one per (routine, cycle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CycleKey {
    pub routine: RoutineId,
    pub cycle: Cycle,
}

impl CycleKey {
    pub fn encode(&self) -> String {
        format!("r/{}/{}", self.routine, self.cycle)
    }
}

/// A routine cycle completed: its bonus is `ROUTINE_BONUS_PER_ACTION × actions`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RoutineCompletion {
    pub key: CycleKey,
    pub actions: u8,
    pub moment: Moment,
}

/// A character draw. Of concurrent draws only the first (by instant, then id) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Draw {
    pub id: DrawId,
    pub character: Character,
    pub at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    Ko,
    En,
}

impl Language {
    /// Of a text given in both languages, the one in this language.
    pub fn pick<'a>(self, ko: &'a str, en: &'a str) -> &'a str {
        match self {
            Self::Ko => ko,
            Self::En => en,
        }
    }
}

/// The account root: settings, main routine, draws and the first day of each device.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Account {
    pub main_routine: Option<RoutineId>,
    pub draws: Vec<Draw>,
    /// Local date on which each device first opened the app; the user started on the earliest.
    pub started: BTreeMap<String, NaiveDate>,
    pub language: Language,
    /// Daily reminder time as minutes after local midnight.
    pub reminder_minutes: Option<u16>,
}

impl Account {
    pub fn started_on(&self) -> Option<NaiveDate> {
        self.started.values().min().copied()
    }
}

/// The completions recorded in one month's log document (every version seen, before the
/// "earliest wins" rule picks one per key).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Log {
    pub actions: Vec<ActionCompletion>,
    pub routines: Vec<RoutineCompletion>,
}

/// Everything personal of one user, merged: the input of every rule and of the fold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Personal {
    pub account: Account,
    pub routines: BTreeMap<RoutineId, Routine>,
    /// Winning action completions, one per key.
    pub actions: BTreeMap<CompletionKey, ActionCompletion>,
    /// Recorded routine completions, one per (routine, cycle).
    pub routine_records: BTreeMap<CycleKey, RoutineCompletion>,
}

/// Order of "earliest wins": the instant, then the rest of the record so that ties are broken
/// the same way everywhere.
fn earlier<T: Ord>(a: T, b: T) -> bool {
    a < b
}

impl Personal {
    /// Adds completions read from a log, keeping the earliest version of each key.
    pub fn absorb(&mut self, log: &Log) {
        for c in &log.actions {
            match self.actions.get(&c.key) {
                Some(old) if !earlier((c.moment, &c.action, c.count), (old.moment, &old.action, old.count)) => {}
                _ => {
                    self.actions.insert(c.key, c.clone());
                }
            }
        }
        for r in &log.routines {
            match self.routine_records.get(&r.key) {
                Some(old) if !earlier((r.moment, r.actions), (old.moment, old.actions)) => {}
                _ => {
                    self.routine_records.insert(r.key, r.clone());
                }
            }
        }
    }

    pub fn live_routines(&self) -> impl Iterator<Item = &Routine> {
        self.routines.values().filter(|r| !r.deleted)
    }

    /// The main routine, unless it was deleted.
    pub fn main_routine(&self) -> Option<&Routine> {
        self.account.main_routine.and_then(|id| self.routines.get(&id)).filter(|r| !r.deleted)
    }

    /// The cycle being played now. The highest number goes on, so a device that restarts a cycle
    /// it knows always moves past it. Of cycles of one number (started apart: a routine's first
    /// on a device used before it signed in, a restart on two devices at once), one with
    /// something done goes before one with nothing done, so the user's progress stays in view;
    /// then the latest start, then the highest key. The other cycles' completions stay in the
    /// history and keep their exp.
    pub fn current_cycle(&self, routine: &Routine) -> Cycle {
        let top = routine.cycles.values().map(|i| i.number).max().unwrap_or(1).max(1);
        let implicit = (top == 1).then_some((Cycle::FIRST, i64::MIN));
        routine
            .cycles
            .iter()
            .filter(|(_, info)| info.number == top)
            .map(|(cycle, info)| (*cycle, info.at_ms))
            .chain(implicit)
            .max_by_key(|(cycle, at_ms)| (self.played(routine.id, *cycle), *at_ms, *cycle))
            .map_or(Cycle::FIRST, |(cycle, _)| cycle)
    }

    /// Whether anything was done in the cycle: an action, or its completion recorded.
    fn played(&self, routine: RoutineId, cycle: Cycle) -> bool {
        let actions =
            CompletionKey { routine, cycle, entry: Uuid::nil() }..=CompletionKey { routine, cycle, entry: Uuid::max() };
        self.actions.range(actions).next().is_some() || self.routine_records.contains_key(&CycleKey { routine, cycle })
    }

    /// The number of the routine's current cycle.
    pub fn current_number(&self, routine: &Routine) -> u32 {
        routine.cycle_number(self.current_cycle(routine))
    }

    /// The entries of the routine's current cycle that are done.
    pub fn done_in_cycle(&self, routine: &Routine, cycle: Cycle) -> Vec<EntryId> {
        routine
            .entries
            .iter()
            .filter(|e| self.actions.contains_key(&CompletionKey { routine: routine.id, cycle, entry: e.id }))
            .map(|e| e.id)
            .collect()
    }

    /// Whether the given cycle of the routine is complete: recorded, or (for the current cycle)
    /// every current entry done.
    pub fn cycle_complete(&self, routine: &Routine, cycle: Cycle) -> bool {
        self.routine_records.contains_key(&CycleKey { routine: routine.id, cycle })
            || (cycle == self.current_cycle(routine)
                && !routine.entries.is_empty()
                && self.done_in_cycle(routine, cycle).len() == routine.entries.len())
    }

    /// The completion a current cycle that is complete but unrecorded implies: at the instant of
    /// its last action. Recording it copies existing facts, so two devices write the same record.
    pub fn implied_routine_completion(&self, routine: &Routine) -> Option<RoutineCompletion> {
        let cycle = self.current_cycle(routine);
        let key = CycleKey { routine: routine.id, cycle };
        if self.routine_records.contains_key(&key) || !self.cycle_complete(routine, cycle) {
            return None;
        }
        let last = routine
            .entries
            .iter()
            .filter_map(|e| self.actions.get(&CompletionKey { routine: routine.id, cycle, entry: e.id }))
            .map(|c| c.moment)
            .max()?;
        Some(RoutineCompletion { key, actions: routine.entries.len() as u8, moment: last })
    }

    /// Whether a cycle of the routine was completed on the local `date`, as the fold counts
    /// completions: a recorded one, or the one its current cycle implies (its actions done on
    /// several devices, which no device recorded).
    pub fn routine_completed_on(&self, routine: &Routine, date: NaiveDate) -> bool {
        let cycles = CycleKey { routine: routine.id, cycle: Cycle::Number(0) }..=CycleKey {
            routine: routine.id,
            cycle: Cycle::Id(Uuid::max()),
        };
        self.routine_records.range(cycles).any(|(_, r)| r.moment.date == date)
            || self.implied_routine_completion(routine).is_some_and(|c| c.moment.date == date)
    }
}
