//! The checks an export file passes before anything of it is written: every record against the
//! rules a device's own writes follow, every key once, and every date within the span of the
//! product's life. Pure: the caller hands in the device's clock reading.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate};

use super::{Export, ImportReason, ImportRefusal, refuse};
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
    /// The device's clock plus the margin: a record past it asks the user to check the clock
    /// (`FutureDate`), one past the export alone is a damaged file (`BadDate`).
    clock_ms: i64,
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
        let clock_ms = now_ms.saturating_add(CLOCK_MARGIN_MS);
        Span {
            from_ms: EARLIEST_MS,
            to_ms: file.exported_at_ms.saturating_add(CLOCK_MARGIN_MS).min(clock_ms),
            clock_ms,
        }
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

    /// The refusal of a record dated `dated` (on `date`), outside the span; `late` when it is
    /// past the device's clock.
    fn refusal(&self, what: &str, dated: impl std::fmt::Display, date: Option<NaiveDate>, late: bool) -> ImportRefusal {
        let reason = if late { ImportReason::FutureDate } else { ImportReason::BadDate };
        let message = format!(
            "{what}: dated {dated}, outside {} – {} (before Mingizuk, or after the export or this device's clock)",
            day(self.from_ms),
            day(self.to_ms)
        );
        refuse(reason, message).date(date)
    }

    fn check_instant(&self, at_ms: i64, what: &dyn Fn() -> String) -> Result<(), ImportRefusal> {
        if self.holds(at_ms) {
            return Ok(());
        }
        let dated = DateTime::from_timestamp_millis(at_ms).map_or_else(|| at_ms.to_string(), |t| t.to_rfc3339());
        Err(self.refusal(&what(), dated, utc_date(at_ms), at_ms > self.clock_ms))
    }

    /// A completion's moment: its date that of its instant and offset, its instant in the span.
    fn check_moment(&self, m: &Moment, what: &dyn Fn() -> String) -> Result<(), ImportRefusal> {
        if Moment::new(m.at_ms, m.offset_minutes).as_ref() != Some(m) {
            let message = format!("{}: its date does not match its instant and UTC offset", what());
            return Err(refuse(ImportReason::BadCompletion, message));
        }
        if !self.holds(m.at_ms) {
            return Err(self.refusal(&what(), m.date, Some(m.date), m.at_ms > self.clock_ms));
        }
        Ok(())
    }

    /// Whether a local date is past any the device's clock reads in some time zone.
    fn after_clock(&self, date: NaiveDate) -> bool {
        utc_date(self.clock_ms).and_then(|d| d.succ_opt()).is_some_and(|last| date > last)
    }
}

/// The name the user knows a routine by: a preset's in the account's language, else the name the
/// file (or the device) gives it.
fn routine_name<'a>(file: &'a Export, personal: &'a Personal, id: RoutineId) -> Option<&'a str> {
    if let Some(preset) = catalog::preset(id) {
        return Some(personal.account.language.pick(preset.name_ko, preset.name_en));
    }
    file.routines.iter().find(|r| r.id == id).or_else(|| personal.routines.get(&id)).map(|r| r.name.as_str())
}

/// Checks every record of the file against the rules a device's own writes follow, at `now_ms`
/// on the device's clock.
pub(super) fn check(file: &Export, personal: &Personal, now_ms: i64) -> Result<(), RuleError> {
    let span = Span::of(file, now_ms);
    if file.exported_at_ms < EARLIEST_MS || utc_date(file.exported_at_ms).is_none() {
        let message = format!("the export is dated {}, before Mingizuk", day(file.exported_at_ms));
        return Err(refuse(ImportReason::BadDate, message).date(utc_date(file.exported_at_ms)).into());
    }
    let name = |id: RoutineId| routine_name(file, personal, id);
    let mut ids = HashSet::new();
    for r in &file.routines {
        let what = || format!("routine {}", r.id);
        let named = |reason, message: String| refuse(reason, message).routine(name(r.id));
        if !ids.insert(r.id) {
            return Err(named(ImportReason::Duplicate, format!("{} appears twice", what())).into());
        }
        if r.preset {
            if catalog::preset(r.id).is_none() {
                return Err(
                    named(ImportReason::UnknownPreset, format!("{} is not a preset of this app", what())).into()
                );
            }
        } else {
            let trimmed = r.name.trim();
            if trimmed.is_empty() || trimmed.chars().count() > ROUTINE_NAME_MAX_CHARS {
                let message = format!("{} has a name of 1–{ROUTINE_NAME_MAX_CHARS} characters", what());
                return Err(named(ImportReason::BadName, message).max(ROUTINE_NAME_MAX_CHARS).into());
            }
            let picks: Vec<ActionPick> =
                r.entries.iter().map(|e| ActionPick { action: e.action.clone(), count: e.count }).collect();
            rules::check_picks(&picks).map_err(|e| named(ImportReason::BadActions, format!("{}: {e}", what())))?;
            if r.entries.iter().map(|e| e.id).collect::<HashSet<_>>().len() != r.entries.len() {
                return Err(named(ImportReason::BadActions, format!("{} repeats an entry id", what())).into());
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
                let message = format!("{} lists cycle {cycle} with a wrong number or start", what());
                return Err(named(ImportReason::BadCycle, message).into());
            }
            // A number near the last a `u32` holds would leave the routine unable to start another
            // cycle on every device. (Not "past the cycles listed": a file from a build that read
            // one copy of a routine may skip numbers.)
            if info.number > MAX_CYCLE_NUMBER {
                let message =
                    format!("{} lists cycle {cycle} numbered {}, past {MAX_CYCLE_NUMBER}", what(), info.number);
                return Err(named(ImportReason::BadCycle, message).into());
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
        let named = |reason, message: String| refuse(reason, message).routine(name(c.key.routine));
        if !keys.insert(c.key.encode()) {
            return Err(named(ImportReason::Duplicate, format!("{} appears twice", what())).into());
        }
        if !known(&c.key.routine) {
            return Err(refuse(ImportReason::Damaged, format!("{}: the routine is not in the file", what())).into());
        }
        if c.key.cycle == Cycle::Number(0) || catalog::action(&c.action).is_none() {
            return Err(named(ImportReason::BadCompletion, format!("{}: no such action or cycle", what())).into());
        }
        if !(ACTION_COUNT_MIN..=ACTION_COUNT_MAX).contains(&c.count) {
            return Err(named(ImportReason::BadCompletion, format!("{}: a count of {}", what(), c.count)).into());
        }
        span.check_moment(&c.moment, &what).map_err(|e| e.routine(name(c.key.routine)))?;
    }
    for c in &file.routine_completions {
        let what = || format!("the completion of cycle {} of routine {}", c.key.cycle, c.key.routine);
        let named = |reason, message: String| refuse(reason, message).routine(name(c.key.routine));
        if !keys.insert(c.key.encode()) {
            return Err(named(ImportReason::Duplicate, format!("{} appears twice", what())).into());
        }
        if !known(&c.key.routine) {
            return Err(refuse(ImportReason::Damaged, format!("{}: the routine is not in the file", what())).into());
        }
        if c.key.cycle == Cycle::Number(0) || c.actions < 1 || usize::from(c.actions) > ROUTINE_MAX_ACTIONS {
            let message = format!("{}: no such cycle or number of actions", what());
            return Err(named(ImportReason::BadCompletion, message).into());
        }
        span.check_moment(&c.moment, &what).map_err(|e| e.routine(name(c.key.routine)))?;
    }
    if file.draws.iter().map(|d| d.id).collect::<HashSet<_>>().len() != file.draws.len() {
        return Err(refuse(ImportReason::Duplicate, "a draw appears twice").into());
    }
    for d in &file.draws {
        span.check_instant(d.at_ms, &|| format!("draw {}", d.id))?;
    }
    if file.started.keys().any(|device| device.is_empty() || device.len() > 64) {
        return Err(refuse(ImportReason::Damaged, "a device's start date has no valid device id").into());
    }
    if let Some((device, date)) = file.started.iter().find(|(_, date)| !span.holds_date(**date)) {
        let what = format!("the start date of device {device}");
        return Err(span.refusal(&what, date, Some(*date), span.after_clock(*date)).into());
    }
    if let Some(main) = file.settings.main_routine
        && !known(&main)
    {
        return Err(refuse(ImportReason::Damaged, "the main routine is not in the file").into());
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
        let (at_ms, date, what) = match change {
            Change::CreateRoutine(r) | Change::ImportRoutine(r) => {
                (r.created_at_ms, utc_date(r.created_at_ms), format!("routine {}", r.id))
            }
            Change::CompleteAction(c) => {
                (c.moment.at_ms, Some(c.moment.date), format!("the completion of {}", c.action))
            }
            Change::CompleteRoutine(c) => {
                (c.moment.at_ms, Some(c.moment.date), format!("the completion of routine {}", c.key.routine))
            }
            Change::Draw(d) => (d.at_ms, utc_date(d.at_ms), format!("draw {}", d.id)),
            _ => return None,
        };
        (at_ms > latest).then_some((what, date))
    });
    match late {
        Some((what, date)) => {
            let message = format!("{what} is dated after this device's clock ({})", day(now_ms));
            Err(refuse(ImportReason::FutureDate, message).date(date).into())
        }
        None => Ok(()),
    }
}
