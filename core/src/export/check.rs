//! The checks an export file passes before anything of it is written: every record against the
//! rules a device's own writes follow, every key once, and every date within the span of the
//! product's life. Pure: the caller hands in the device's clock reading.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate};

use super::{Export, invalid};
use crate::catalog;
use crate::error::RuleError;
use crate::limits::{ACTION_COUNT_MAX, ACTION_COUNT_MIN, ROUTINE_MAX_ACTIONS, ROUTINE_NAME_MAX_CHARS};
use crate::model::{Cycle, CycleInfo, CycleStart, Moment, Personal, RoutineId};
use crate::rules::{self, ActionPick, Change};

/// The highest cycle number an import takes: a cycle a minute for almost two years.
pub const MAX_CYCLE_NUMBER: u32 = 1_000_000;

/// The first instant a record may carry: 2020-01-01 00:00 UTC. The original Mingizuk dates from
/// 2021 and this rebuild from later still, so an earlier date is a damaged or forged file (or a
/// device clock reset to 1970), never history. With the upper bound it keeps every log month a
/// four-digit year and the monthly log documents an import can create to one per month of the
/// product's life (the server refuses accounts of more than 10 000 documents).
pub const EARLIEST_MS: i64 = 1_577_836_800_000;

/// How far past the export, and past the importing device's clock, a record may be dated: two
/// devices' clocks disagree, and a local date runs up to a day ahead of UTC's.
pub const CLOCK_MARGIN_MS: i64 = 24 * 3_600_000;

/// The instants a file's records may carry: from `EARLIEST_MS` to the earlier of the export and
/// the device's clock, plus the margin.
#[derive(Debug, Clone, Copy)]
struct Span {
    from_ms: i64,
    to_ms: i64,
}

fn utc_date(at_ms: i64) -> Option<NaiveDate> {
    DateTime::from_timestamp_millis(at_ms).map(|t| t.date_naive())
}

/// The UTC date of an instant, for a message (the raw number when it has none).
fn day(at_ms: i64) -> String {
    utc_date(at_ms).map_or_else(|| at_ms.to_string(), |d| d.to_string())
}

impl Span {
    fn of(file: &Export, now_ms: i64) -> Span {
        Span { from_ms: EARLIEST_MS, to_ms: file.exported_at_ms.min(now_ms).saturating_add(CLOCK_MARGIN_MS) }
    }

    fn holds(&self, at_ms: i64) -> bool {
        (self.from_ms..=self.to_ms).contains(&at_ms)
    }

    /// Whether `date` is the local date, in some time zone, of an instant of the span.
    fn holds_date(&self, date: NaiveDate) -> bool {
        let first = utc_date(self.from_ms).and_then(|d| d.pred_opt()).unwrap_or(NaiveDate::MIN);
        let last = utc_date(self.to_ms).and_then(|d| d.succ_opt()).unwrap_or(NaiveDate::MAX);
        (first..=last).contains(&date)
    }

    fn refusal(&self, what: &str, dated: impl std::fmt::Display) -> RuleError {
        invalid(format!(
            "{what}: dated {dated}, outside {} – {} (before Mingizuk, or after the export or this device's clock)",
            day(self.from_ms),
            day(self.to_ms)
        ))
    }

    fn check_instant(&self, at_ms: i64, what: &dyn Fn() -> String) -> Result<(), RuleError> {
        if self.holds(at_ms) {
            return Ok(());
        }
        let dated = DateTime::from_timestamp_millis(at_ms).map_or_else(|| at_ms.to_string(), |t| t.to_rfc3339());
        Err(self.refusal(&what(), dated))
    }

    fn check_moment(&self, m: &Moment, what: &dyn Fn() -> String) -> Result<(), RuleError> {
        if Moment::new(m.at_ms, m.offset_minutes).as_ref() != Some(m) {
            return Err(invalid(format!("{}: its date does not match its instant and UTC offset", what())));
        }
        if !self.holds(m.at_ms) {
            return Err(self.refusal(&what(), m.date));
        }
        Ok(())
    }
}

/// Checks every record of the file against the rules a device's own writes follow, at `now_ms`
/// on the device's clock.
pub(super) fn check(file: &Export, personal: &Personal, now_ms: i64) -> Result<(), RuleError> {
    let span = Span::of(file, now_ms);
    if file.exported_at_ms < EARLIEST_MS || utc_date(file.exported_at_ms).is_none() {
        return Err(invalid(format!("the export is dated {}, before Mingizuk", day(file.exported_at_ms))));
    }
    let mut ids = HashSet::new();
    for r in &file.routines {
        let what = || format!("routine {}", r.id);
        if !ids.insert(r.id) {
            return Err(invalid(format!("{} appears twice", what())));
        }
        if r.preset {
            if catalog::preset(r.id).is_none() {
                return Err(invalid(format!("{} is not a preset of this app", what())));
            }
        } else {
            let name = r.name.trim();
            if name.is_empty() || name.chars().count() > ROUTINE_NAME_MAX_CHARS {
                return Err(invalid(format!("{} has a name of 1–{ROUTINE_NAME_MAX_CHARS} characters", what())));
            }
            let picks: Vec<ActionPick> =
                r.entries.iter().map(|e| ActionPick { action: e.action.clone(), count: e.count }).collect();
            rules::check_picks(&picks).map_err(|e| invalid(format!("{}: {e}", what())))?;
            if r.entries.iter().map(|e| e.id).collect::<HashSet<_>>().len() != r.entries.len() {
                return Err(invalid(format!("{} repeats an entry id", what())));
            }
            span.check_instant(r.created_at_ms, &what)?;
        }
        for (cycle, info) in &r.cycles {
            let numbered = match cycle {
                // As older builds recorded it: a number and a start alone.
                Cycle::Number(n) => {
                    *n >= 2 && info.start != CycleStart::First && *info == CycleInfo::numbered(*n, info.start)
                }
                Cycle::Id(_) => info.number >= 1 && (info.number == 1) == (info.start == CycleStart::First),
            };
            if !numbered {
                return Err(invalid(format!("{} lists cycle {cycle} with a wrong number or start", what())));
            }
            // A number near the last a `u32` holds would leave the routine unable to start another
            // cycle on every device. (Not "past the cycles listed": a file from a build that read
            // one copy of a routine may skip numbers.)
            if info.number > MAX_CYCLE_NUMBER {
                return Err(invalid(format!(
                    "{} lists cycle {cycle} numbered {}, past {MAX_CYCLE_NUMBER}",
                    what(),
                    info.number
                )));
            }
            if let Cycle::Id(_) = cycle {
                span.check_instant(info.at_ms, &|| format!("cycle {cycle} of {}", what()))?;
            }
        }
    }
    let known = |id: &RoutineId| ids.contains(id) || personal.routines.contains_key(id);
    // One record per key, as a document holds it: of two, the document would keep one and the
    // device's completion cache both, and devices would disagree on which counts.
    let mut keys = HashSet::new();
    for c in &file.action_completions {
        let what = || format!("the completion of {} in cycle {} of routine {}", c.action, c.key.cycle, c.key.routine);
        if !keys.insert(c.key.encode()) {
            return Err(invalid(format!("{} appears twice", what())));
        }
        if !known(&c.key.routine) {
            return Err(invalid(format!("{}: the routine is not in the file", what())));
        }
        if c.key.cycle == Cycle::Number(0) || catalog::action(&c.action).is_none() {
            return Err(invalid(format!("{}: no such action or cycle", what())));
        }
        if !(ACTION_COUNT_MIN..=ACTION_COUNT_MAX).contains(&c.count) {
            return Err(invalid(format!("{}: a count of {}", what(), c.count)));
        }
        span.check_moment(&c.moment, &what)?;
    }
    for c in &file.routine_completions {
        let what = || format!("the completion of cycle {} of routine {}", c.key.cycle, c.key.routine);
        if !keys.insert(c.key.encode()) {
            return Err(invalid(format!("{} appears twice", what())));
        }
        if !known(&c.key.routine) {
            return Err(invalid(format!("{}: the routine is not in the file", what())));
        }
        if c.key.cycle == Cycle::Number(0) || c.actions < 1 || usize::from(c.actions) > ROUTINE_MAX_ACTIONS {
            return Err(invalid(format!("{}: no such cycle or number of actions", what())));
        }
        span.check_moment(&c.moment, &what)?;
    }
    if file.draws.iter().map(|d| d.id).collect::<HashSet<_>>().len() != file.draws.len() {
        return Err(invalid("a draw appears twice"));
    }
    for d in &file.draws {
        span.check_instant(d.at_ms, &|| format!("draw {}", d.id))?;
    }
    if file.started.keys().any(|device| device.is_empty() || device.len() > 64) {
        return Err(invalid("a device's start date has no valid device id"));
    }
    if let Some((device, date)) = file.started.iter().find(|(_, date)| !span.holds_date(**date)) {
        return Err(span.refusal(&format!("the start date of device {device}"), date));
    }
    if let Some(main) = file.settings.main_routine
        && !known(&main)
    {
        return Err(invalid("the main routine is not in the file"));
    }
    Ok(())
}

/// Refuses an import plan's changes dated more than `CLOCK_MARGIN_MS` after `now_ms`: a file that
/// claims an export instant in the future must not date records after the device's clock. (Not
/// for a device's own writes: a cycle's completion takes the time of its last action, which may
/// come from a device whose clock runs ahead.)
pub fn check_dated_by(changes: &[Change], now_ms: i64) -> Result<(), RuleError> {
    let latest = now_ms.saturating_add(CLOCK_MARGIN_MS);
    let late = changes.iter().find_map(|change| {
        let (at_ms, what) = match change {
            Change::CreateRoutine(r) | Change::ImportRoutine(r) => (r.created_at_ms, format!("routine {}", r.id)),
            Change::CompleteAction(c) => (c.moment.at_ms, format!("the completion of {}", c.action)),
            Change::CompleteRoutine(c) => (c.moment.at_ms, format!("the completion of routine {}", c.key.routine)),
            Change::Draw(d) => (d.at_ms, format!("draw {}", d.id)),
            _ => return None,
        };
        (at_ms > latest).then_some(what)
    });
    match late {
        Some(what) => Err(invalid(format!("{what} is dated after this device's clock ({})", day(now_ms)))),
        None => Ok(()),
    }
}
