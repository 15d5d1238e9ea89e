//! Every rule's invariant on one device's data, and everything the history screens show.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, NaiveDate};
use mingizuk_core::catalog::{Character, PRESETS};
use mingizuk_core::fold::{self, Derived};
use mingizuk_core::history::{self, ChartMode, MonthGrid, Streaks, WeekPage};
use mingizuk_core::limits::{
    CHARACTER_COMPLETE_EXP, DAILY_EXP_CAP, EXP_PER_ACTION, ROUTINE_MAX_ACTIONS, ROUTINE_NAME_MAX_CHARS,
};
use mingizuk_core::model::{Moment, Personal, RoutineCompletion};
use mingizuk_core::rules;
use mingizuk_core::schema::Month;

use crate::ops::picks_of_routine;

pub fn implied(personal: &Personal) -> Vec<RoutineCompletion> {
    personal.routines.values().filter_map(|r| personal.implied_routine_completion(r)).collect()
}

/// Every invariant of the rules on one device's data; returns the derived state.
pub fn check_invariants(who: &str, personal: &Personal) -> Derived {
    let derived = Derived::of(personal);
    let implied = implied(personal);

    // Each day's exp is its awards clamped once to the cap: all awards are positive, so clamping
    // each award that crosses the cap adds up to the same.
    let mut raw: BTreeMap<NaiveDate, (u32, u32, u32)> = BTreeMap::new();
    for a in personal.actions.values() {
        let day = raw.entry(a.moment.date).or_default();
        day.0 += 1;
        day.2 += EXP_PER_ACTION;
    }
    for r in personal.routine_records.values().chain(&implied) {
        let day = raw.entry(r.moment.date).or_default();
        day.1 += 1;
        day.2 += fold::routine_bonus(r.actions);
    }
    assert_eq!(derived.days.keys().collect::<Vec<_>>(), raw.keys().collect::<Vec<_>>(), "{who}: days");
    for (date, totals) in &derived.days {
        assert!(totals.exp <= DAILY_EXP_CAP, "{who}: {date} earned {} exp", totals.exp);
        let (actions, routines, exp) = raw[date];
        assert_eq!(
            (totals.actions, totals.routines, totals.exp),
            (actions, routines, exp.min(DAILY_EXP_CAP)),
            "{who}: {date}"
        );
    }
    assert_eq!(derived.total_exp, derived.days.values().map(|d| u64::from(d.exp)).sum::<u64>(), "{who}: total exp");
    assert_eq!(derived.action_totals.values().sum::<u32>() as usize, personal.actions.len(), "{who}: action totals");
    assert_eq!(
        derived.routine_totals.values().sum::<u32>() as usize,
        personal.routine_records.len() + implied.len(),
        "{who}: routine totals"
    );

    // Characters: at most one grows (an Option), below the completion exp, never one collected.
    let collected: BTreeSet<Character> = derived.collection.iter().map(|c| c.character).collect();
    assert_eq!(collected.len(), derived.collection.len(), "{who}: a character is collected once");
    let mut given = u64::from(CHARACTER_COMPLETE_EXP) * derived.collection.len() as u64;
    if let Some(growing) = derived.growing {
        assert!(growing.exp < CHARACTER_COMPLETE_EXP, "{who}: {growing:?}");
        assert!(!collected.contains(&growing.character), "{who}: {growing:?} is collected");
        assert!(
            personal.account.draws.iter().any(|d| d.character == growing.character && d.at_ms == growing.drawn_at_ms),
            "{who}: {growing:?} was drawn"
        );
        given += u64::from(growing.exp);
    }
    assert!(given <= derived.total_exp, "{who}: characters got more exp than was earned");

    // Completions: one per key, each with the local date of its instant and offset.
    for (key, completion) in &personal.actions {
        assert_eq!(*key, completion.key, "{who}");
        let m = completion.moment;
        assert_eq!(Moment::new(m.at_ms, m.offset_minutes), Some(m), "{who}: {completion:?}");
    }
    for (key, record) in &personal.routine_records {
        assert_eq!(*key, record.key, "{who}");
        assert!((1..=ROUTINE_MAX_ACTIONS).contains(&usize::from(record.actions)), "{who}: {record:?}");
    }

    // Routines, however merged: 1–5 distinct catalog actions counted 1–99, a trimmed name of
    // 1–30 characters (two devices may pick one name concurrently, so names may repeat).
    for routine in personal.live_routines() {
        rules::check_picks(&picks_of_routine(routine)).unwrap_or_else(|e| panic!("{who}: {routine:?}: {e}"));
        assert_eq!(routine.name.trim(), routine.name, "{who}");
        assert!((1..=ROUTINE_NAME_MAX_CHARS).contains(&routine.name.chars().count()), "{who}: {routine:?}");
        assert!(routine.cycle_number(personal.current_cycle(routine)) >= 1);
    }
    let presets: Vec<_> =
        PRESETS.iter().map(|p| personal.routines.get(&p.id).map(|r| (r.preset, r.entries.len()))).collect();
    assert_eq!(presets, [Some((true, 5)), Some((true, 4))], "{who}: the presets are intact");
    derived
}

/// Everything the history screens show.
#[derive(Debug, PartialEq)]
pub struct Views {
    pub derived: Derived,
    start: NaiveDate,
    months: Vec<MonthGrid>,
    weeks: Vec<WeekPage>,
    streaks: Vec<Streaks>,
}

pub fn views(personal: &Personal, today: NaiveDate) -> Views {
    let derived = Derived::of(personal);
    let start = history::start_date(&derived, personal.account.started_on(), today);
    let last = derived.days.keys().next_back().copied().unwrap_or(today).max(today);
    let mut months = Vec::new();
    let mut month = Month::of(start);
    while month <= Month::of(last) {
        months.push(history::month_grid(&derived, month.year, month.month).unwrap());
        month = Month::of(NaiveDate::from_ymd_opt(month.year, month.month, 1).unwrap() + Days::new(31));
    }
    let current_week = history::week_page(&derived, start, today, 1, ChartMode::Actions).current_week;
    let weeks = (1..=current_week)
        .flat_map(|w| {
            [ChartMode::Actions, ChartMode::Routines].map(|m| history::week_page(&derived, start, today, w, m))
        })
        .collect();
    let streaks = [today, today.succ_opt().unwrap()].map(|d| history::streaks(&derived, d)).to_vec();
    Views { derived, start, months, weeks, streaks }
}
