//! The one deterministic fold from the merged personal data to everything derived: exp per day
//! with the daily cap, the characters and the collection, and the per-day counts behind the
//! tracker, the weekly chart and the streaks. The same fold runs on every device and on the
//! server, so merged offline logs from several devices give one answer.
//!
//! Events are applied in a total order (instant, kind, key). Appending events that come after
//! the last applied one gives the same result as folding everything again, which lets the
//! client update its projection in O(1) on the usual path.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::catalog::Character;
use crate::limits::{
    CHARACTER_COMPLETE_EXP, DAILY_EXP_CAP, EXP_PER_ACTION, EXP_PER_LEVEL, MAX_LEVEL, ROUTINE_BONUS_PER_ACTION,
};
use crate::model::{ActionCompletion, Cycle, Draw, Personal, RoutineCompletion, RoutineId};

/// What one local calendar day adds up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DayTotals {
    pub actions: u32,
    pub routines: u32,
    /// Exp earned that day, after the daily cap.
    pub exp: u32,
}

/// The character that is growing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Growing {
    pub character: Character,
    pub exp: u32,
    pub drawn_at_ms: i64,
}

/// A character that reached `CHARACTER_COMPLETE_EXP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collected {
    pub character: Character,
    pub drawn_at_ms: i64,
    pub completed_at_ms: i64,
}

/// Level 1–10 for an amount of character exp.
pub fn level(exp: u32) -> u32 {
    (1 + exp / EXP_PER_LEVEL).min(MAX_LEVEL)
}

/// Which of the three looks (1, 2, 3) a level shows: Lv 1–3, Lv 4–6, Lv 7–10.
pub fn look(level: u32) -> u8 {
    match level {
        0..=3 => 1,
        4..=6 => 2,
        _ => 3,
    }
}

/// Progress within the current level, in thousandths (the home screen's gauge).
pub fn gauge_permille(exp: u32) -> u32 {
    let into_level = exp.saturating_sub((level(exp) - 1) * EXP_PER_LEVEL);
    (into_level.min(EXP_PER_LEVEL) * 1000) / EXP_PER_LEVEL
}

/// The exp a routine completion adds on top of its actions.
pub fn routine_bonus(actions: u8) -> u32 {
    ROUTINE_BONUS_PER_ACTION * u32::from(actions)
}

/// Where an event stands in the total order of the fold.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EventOrder {
    at_ms: i64,
    /// Draws first, then actions, then the routine bonus their last action earned.
    rank: u8,
    /// The event's own key: (draw id | routine, cycle, entry).
    key: (Uuid, Cycle, Uuid),
}

/// One input of the fold.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    Draw(&'a Draw),
    Action(&'a ActionCompletion),
    Routine(&'a RoutineCompletion),
}

impl Event<'_> {
    pub fn order(&self) -> EventOrder {
        match self {
            Event::Draw(d) => EventOrder { at_ms: d.at_ms, rank: 0, key: (d.id, Cycle::Number(0), Uuid::nil()) },
            Event::Action(a) => {
                EventOrder { at_ms: a.moment.at_ms, rank: 1, key: (a.key.routine, a.key.cycle, a.key.entry) }
            }
            Event::Routine(r) => {
                EventOrder { at_ms: r.moment.at_ms, rank: 2, key: (r.key.routine, r.key.cycle, Uuid::nil()) }
            }
        }
    }
}

/// The routine completions the data implies but no document records: current cycles whose
/// every action is done (on several devices, say).
pub fn implied_completions(personal: &Personal) -> Vec<RoutineCompletion> {
    personal.routines.values().filter_map(|r| personal.implied_routine_completion(r)).collect()
}

/// Every event of the fold, in the fold's order.
pub fn sorted_events<'a>(personal: &'a Personal, implied: &'a [RoutineCompletion]) -> Vec<Event<'a>> {
    let mut events: Vec<Event<'a>> = personal
        .account
        .draws
        .iter()
        .map(Event::Draw)
        .chain(personal.actions.values().map(Event::Action))
        .chain(personal.routine_records.values().map(Event::Routine))
        .chain(implied.iter().map(Event::Routine))
        .collect();
    events.sort_by_key(Event::order);
    events
}

/// Everything derived from the personal documents.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Derived {
    pub days: BTreeMap<NaiveDate, DayTotals>,
    /// All exp earned, after the daily cap (including exp that no character received).
    pub total_exp: u64,
    pub growing: Option<Growing>,
    pub collection: Vec<Collected>,
    /// Completed actions per catalog action id.
    pub action_totals: BTreeMap<String, u32>,
    /// Completed cycles per routine.
    pub routine_totals: BTreeMap<RoutineId, u32>,
    /// The last event applied; later events may be appended without a full fold.
    pub last: Option<EventOrder>,
}

impl Derived {
    /// Folds all of the user's data from scratch.
    pub fn of(personal: &Personal) -> Derived {
        let implied = implied_completions(personal);
        let events = sorted_events(personal, &implied);
        let mut derived = Derived::default();
        for event in &events {
            derived.apply(event);
        }
        derived
    }

    /// Appends events that all come after `self.last`, in order. Returns false (and changes
    /// nothing) when one does not, so the caller folds from scratch instead.
    pub fn try_append(&mut self, events: &[Event<'_>]) -> bool {
        let mut sorted: Vec<(EventOrder, &Event<'_>)> = events.iter().map(|e| (e.order(), e)).collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        if let (Some(last), Some(first)) = (&self.last, sorted.first())
            && first.0 <= *last
        {
            return false;
        }
        for (_, event) in sorted {
            self.apply(event);
        }
        true
    }

    pub fn collected(&self, character: Character) -> bool {
        self.collection.iter().any(|c| c.character == character)
    }

    /// Characters that may be drawn now: none while one is growing.
    pub fn drawable(&self) -> Vec<Character> {
        if self.growing.is_some() {
            return Vec::new();
        }
        Character::ALL.into_iter().filter(|c| !self.collected(*c)).collect()
    }

    fn apply(&mut self, event: &Event<'_>) {
        match event {
            Event::Draw(d) => {
                // A draw stands only if nothing grows and the character is not collected: of two
                // concurrent draws, the later one is void.
                if self.growing.is_none() && !self.collected(d.character) {
                    self.growing = Some(Growing { character: d.character, exp: 0, drawn_at_ms: d.at_ms });
                }
            }
            Event::Action(a) => {
                let day = self.days.entry(a.moment.date).or_default();
                day.actions += 1;
                *self.action_totals.entry(a.action.clone()).or_default() += 1;
                self.award(a.moment.date, a.moment.at_ms, EXP_PER_ACTION);
            }
            Event::Routine(r) => {
                self.days.entry(r.moment.date).or_default().routines += 1;
                *self.routine_totals.entry(r.key.routine).or_default() += 1;
                self.award(r.moment.date, r.moment.at_ms, routine_bonus(r.actions));
            }
        }
        self.last = Some(event.order());
    }

    fn award(&mut self, date: NaiveDate, at_ms: i64, amount: u32) {
        let day = self.days.entry(date).or_default();
        let granted = amount.min(DAILY_EXP_CAP.saturating_sub(day.exp));
        day.exp += granted;
        self.total_exp += u64::from(granted);
        if let Some(growing) = &mut self.growing {
            growing.exp = (growing.exp + granted).min(CHARACTER_COMPLETE_EXP);
            if growing.exp >= CHARACTER_COMPLETE_EXP {
                self.collection.push(Collected {
                    character: growing.character,
                    drawn_at_ms: growing.drawn_at_ms,
                    completed_at_ms: at_ms,
                });
                self.growing = None;
            }
        }
    }
}
