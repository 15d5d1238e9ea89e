//! The history views over the derived state: the monthly habit tracker, the weekly chart and
//! the streaks (PRODUCT.md §5). Dates are local calendar dates; `today` is handed in.

use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::fold::Derived;
use crate::limits::WEEK_DAYS;

/// One day of the habit tracker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackerDay {
    pub date: NaiveDate,
    /// At least one action was completed that local day.
    pub marked: bool,
    pub actions: u32,
}

/// A month of the habit tracker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthGrid {
    pub year: i32,
    pub month: u32,
    /// Weekday of the 1st, 0 = Sunday … 6 = Saturday (the grid starts on Sunday).
    pub first_weekday: u32,
    pub days: Vec<TrackerDay>,
}

/// The habit tracker for a month; `None` for an impossible month.
pub fn month_grid(derived: &Derived, year: i32, month: u32) -> Option<MonthGrid> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let days = first
        .iter_days()
        .take_while(|d| d.month() == month)
        .map(|date| {
            let actions = derived.days.get(&date).map_or(0, |t| t.actions);
            TrackerDay { date, marked: actions > 0, actions }
        })
        .collect();
    Some(MonthGrid { year, month, first_weekday: first.weekday().num_days_from_sunday(), days })
}

/// What the weekly chart counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartMode {
    Actions,
    Routines,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bar {
    pub date: NaiveDate,
    pub count: u32,
    pub today: bool,
}

/// One page of the weekly chart: "밍기적 N주차".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekPage {
    /// 1 for the week that starts on the user's first day.
    pub week: u32,
    pub mode: ChartMode,
    pub bars: Vec<Bar>,
    /// The week today falls in (the last page).
    pub current_week: u32,
    /// "밍기적 시작한지 N일 째 되는 날": 1 on the first day.
    pub day_number: u32,
}

/// The first day of the user's history: the earliest device start or completion, else today.
pub fn start_date(derived: &Derived, started_on: Option<NaiveDate>, today: NaiveDate) -> NaiveDate {
    let first_done = derived.days.keys().next().copied();
    [started_on, first_done].into_iter().flatten().min().unwrap_or(today).min(today)
}

fn week_of(start: NaiveDate, date: NaiveDate) -> u32 {
    u32::try_from((date - start).num_days().max(0) / WEEK_DAYS).unwrap_or(0) + 1
}

/// The page of week `week` (clamped to 1..=current week).
pub fn week_page(derived: &Derived, start: NaiveDate, today: NaiveDate, week: u32, mode: ChartMode) -> WeekPage {
    let current_week = week_of(start, today);
    let week = week.clamp(1, current_week);
    let first = start + Days::new(u64::from(week - 1) * WEEK_DAYS as u64);
    let bars = first
        .iter_days()
        .take(WEEK_DAYS as usize)
        .map(|date| {
            let totals = derived.days.get(&date).copied().unwrap_or_default();
            let count = match mode {
                ChartMode::Actions => totals.actions,
                ChartMode::Routines => totals.routines,
            };
            Bar { date, count, today: date == today }
        })
        .collect();
    let day_number = u32::try_from((today - start).num_days().max(0)).unwrap_or(0) + 1;
    WeekPage { week, mode, bars, current_week, day_number }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Streaks {
    /// Marked days in a row up to today, or up to yesterday while today is still open: a day
    /// not yet done never breaks the streak.
    pub current: u32,
    pub best: u32,
}

pub fn streaks(derived: &Derived, today: NaiveDate) -> Streaks {
    let marked = |d: NaiveDate| derived.days.get(&d).is_some_and(|t| t.actions > 0);
    let mut best = 0;
    let mut run = 0;
    let mut previous: Option<NaiveDate> = None;
    for (date, totals) in &derived.days {
        if totals.actions == 0 || *date > today {
            continue;
        }
        run = if previous.and_then(|p| p.succ_opt()) == Some(*date) { run + 1 } else { 1 };
        best = best.max(run);
        previous = Some(*date);
    }
    let mut day = if marked(today) { today } else { today.pred_opt().unwrap_or(today) };
    let mut current = 0;
    while marked(day) {
        current += 1;
        match day.pred_opt() {
            Some(p) => day = p,
            None => break,
        }
    }
    Streaks { current, best }
}
