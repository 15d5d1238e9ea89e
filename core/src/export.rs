//! Export of all personal data (PRODUCT.md §9) — a JSON file that keeps every id, and a CSV of
//! the history for spreadsheets — and the import of such a JSON file back, on this or another
//! device or account, without duplicates.
//!
//! Import never overwrites what the device already has: a routine, completion or draw whose id
//! (or key) is already known is skipped, so importing the same file twice changes nothing the
//! second time. A custom routine whose name is taken by another live routine comes in renamed
//! ("name (2)"). The file is checked whole before anything is written (`check`): one bad record,
//! a key twice or a date outside the product's life refuses it all, with the record named.
//!
//! A routine the device does not know may still be on another device of the account that has not
//! synced yet: it is created as imported (`Change::ImportRoutine`), and once the two copies meet
//! in the routines document they read as one in which the other device's copy stands (see
//! `schema::read_routines`).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::catalog;
use crate::error::RuleError;
use crate::limits::ROUTINE_NAME_MAX_CHARS;
use crate::model::{ActionCompletion, Cycle, Draw, Language, Moment, Personal, Routine, RoutineCompletion, RoutineId};
use crate::rules::Change;

mod check;
mod refusal;
pub use check::{CLOCK_MARGIN_MS, EARLIEST_MS, check_dated_by};
pub use refusal::{ImportDetails, ImportReason, ImportRefusal};

/// The `format` field of every export.
pub const FORMAT: &str = "mingizuk-export";
/// The version of the export format this build writes. Version 2 names cycles by id
/// (`model::Cycle`); version 1 files (numbered cycles only) are read as well.
pub const VERSION: u32 = 2;

/// Everything personal of one user, as one JSON document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    pub format: String,
    pub version: u32,
    pub exported_at_ms: i64,
    pub settings: Settings,
    /// Local date on which each device first opened the app.
    pub started: BTreeMap<String, NaiveDate>,
    pub draws: Vec<Draw>,
    /// Custom routines (deleted ones too: the history names them) and presets (for their cycles).
    pub routines: Vec<Routine>,
    /// The winning completion of each action key.
    pub action_completions: Vec<ActionCompletion>,
    pub routine_completions: Vec<RoutineCompletion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub main_routine: Option<RoutineId>,
    pub language: Language,
    pub reminder_minutes: Option<u16>,
}

/// What an import added; the rest was already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ImportReport {
    pub routines: u32,
    pub completions: u32,
    pub draws: u32,
    /// Records of the file the device already had.
    pub already_there: u32,
}

/// What to write for an import: the changes, then the start dates to record in the account.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportPlan {
    pub changes: Vec<Change>,
    pub started: Vec<(String, NaiveDate)>,
    pub report: ImportReport,
}

/// The export of `personal`, made at `now_ms`.
pub fn export(personal: &Personal, now_ms: i64) -> Export {
    let account = &personal.account;
    Export {
        format: FORMAT.to_owned(),
        version: VERSION,
        exported_at_ms: now_ms,
        settings: Settings {
            main_routine: account.main_routine,
            language: account.language,
            reminder_minutes: account.reminder_minutes,
        },
        started: account.started.clone(),
        draws: account.draws.clone(),
        routines: personal.routines.values().cloned().collect(),
        action_completions: personal.actions.values().cloned().collect(),
        routine_completions: personal.routine_records.values().cloned().collect(),
    }
}

/// A refusal of the import for `reason`, with `message` for the log.
fn refuse(reason: ImportReason, message: impl std::fmt::Display) -> ImportRefusal {
    ImportRefusal::new(reason, message)
}

/// Parses an export file; anything that is not one is refused with `invalid_import`.
pub fn parse(json: &str) -> Result<Export, RuleError> {
    /// The head of any JSON object: other fields, or none, are not yet a refusal.
    #[derive(Deserialize)]
    struct Head {
        format: Option<serde_json::Value>,
        version: Option<serde_json::Value>,
    }
    let head: Head = match serde_json::from_str(json) {
        Ok(head) => head,
        // Valid JSON of another shape (an array, a number) is some other program's file; broken
        // JSON that names the format is an export cut short or edited.
        Err(e) if e.is_data() => {
            return Err(refuse(ImportReason::NotAnExport, "this file is not a Mingizuk export").into());
        }
        Err(e) if json.contains(FORMAT) => {
            return Err(refuse(ImportReason::Damaged, format!("the export is damaged: {e}")).into());
        }
        Err(e) => return Err(refuse(ImportReason::NotJson, format!("this is not a JSON export: {e}")).into()),
    };
    if head.format.as_ref().and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(refuse(ImportReason::NotAnExport, "this file is not a Mingizuk export").into());
    }
    match head.version.as_ref().and_then(serde_json::Value::as_u64) {
        Some(v) if (1..=u64::from(VERSION)).contains(&v) => {}
        Some(v) if v > u64::from(VERSION) => {
            let refusal = refuse(
                ImportReason::NewerVersion,
                format!("this export was made by a newer Mingizuk (format version {v})"),
            );
            return Err(match u32::try_from(v) {
                Ok(v) => refusal.version(v),
                Err(_) => refusal,
            }
            .into());
        }
        _ => return Err(refuse(ImportReason::Damaged, "this export has no known format version").into()),
    }
    serde_json::from_str(json).map_err(|e| refuse(ImportReason::Damaged, format!("the export is damaged: {e}")).into())
}

/// `name`, or `name (2)`, `name (3)`… — the first that no name in `taken` has, within the
/// routine name limit.
fn free_name(name: &str, taken: &BTreeSet<String>) -> String {
    let name = name.trim();
    if !taken.contains(name) {
        return name.to_owned();
    }
    (2u32..)
        .map(|n| {
            let suffix = format!(" ({n})");
            let keep = ROUTINE_NAME_MAX_CHARS.saturating_sub(suffix.chars().count());
            let stem: String = name.chars().take(keep).collect();
            format!("{}{suffix}", stem.trim_end())
        })
        .find(|candidate| !taken.contains(candidate))
        .unwrap_or_else(|| name.to_owned())
}

/// Plans the import of `file` into `personal` with the file's own export instant for the
/// device's clock. A forged export instant then bounds nothing: a caller with a clock uses
/// `plan_import_at` (or checks the planned changes with `check_dated_by`).
pub fn plan_import(personal: &Personal, file: &Export) -> Result<ImportPlan, RuleError> {
    plan_import_at(personal, file, file.exported_at_ms)
}

/// Plans the import of `file` into `personal` at `now_ms` on the device's clock: only what is not
/// there yet. Every record must be dated from `EARLIEST_MS` to the earlier of the export and
/// `now_ms`, plus `CLOCK_MARGIN_MS`.
pub fn plan_import_at(personal: &Personal, file: &Export, now_ms: i64) -> Result<ImportPlan, RuleError> {
    check::check(file, personal, now_ms)?;
    let mut plan = ImportPlan::default();
    let mut report = ImportReport::default();
    let mut taken: BTreeSet<String> = personal.live_routines().map(|r| r.name.clone()).collect();
    let mut deleted = Vec::new();
    for r in &file.routines {
        if !r.preset && !personal.routines.contains_key(&r.id) {
            let name = if r.deleted { r.name.trim().to_owned() } else { free_name(&r.name, &taken) };
            if !r.deleted {
                taken.insert(name.clone());
            }
            plan.changes.push(Change::ImportRoutine(Routine { name, cycles: BTreeMap::new(), ..r.clone() }));
            if r.deleted {
                deleted.push(Change::DeleteRoutine(r.id));
            }
            report.routines += 1;
        } else {
            report.already_there += 1;
        }
        let have = personal.routines.get(&r.id).map(|local| &local.cycles);
        for (cycle, info) in &r.cycles {
            match (have.and_then(|c| c.get(cycle)), cycle) {
                // A cycle with an id is started once; the device's record of it stands.
                (Some(_), Cycle::Id(_)) => {}
                // Of two starts of one numbered cycle the first in `CycleStart`'s order (a
                // restart) stands, as when two devices merge (`Personal::apply`).
                (Some(local), Cycle::Number(_)) if local.start <= info.start => {}
                _ => plan.changes.push(Change::StartCycle { routine: r.id, cycle: *cycle, info: *info }),
            }
        }
    }
    plan.changes.extend(deleted);
    for c in &file.action_completions {
        if personal.actions.contains_key(&c.key) {
            report.already_there += 1;
        } else {
            plan.changes.push(Change::CompleteAction(c.clone()));
            report.completions += 1;
        }
    }
    for c in &file.routine_completions {
        if personal.routine_records.contains_key(&c.key) {
            report.already_there += 1;
        } else {
            plan.changes.push(Change::CompleteRoutine(c.clone()));
            report.completions += 1;
        }
    }
    for d in &file.draws {
        if personal.account.draws.iter().any(|x| x.id == d.id) {
            report.already_there += 1;
        } else {
            plan.changes.push(Change::Draw(*d));
            report.draws += 1;
        }
    }
    if personal.account.main_routine.is_none()
        && let Some(main) = file.settings.main_routine
        && file.routines.iter().chain(personal.routines.get(&main)).any(|r| r.id == main && !r.deleted)
    {
        plan.changes.push(Change::SetMain(Some(main)));
    }
    plan.started = file
        .started
        .iter()
        .filter(|(device, _)| !personal.account.started.contains_key(*device))
        .map(|(device, date)| (device.clone(), *date))
        .collect();
    plan.report = report;
    Ok(plan)
}

/// The history as CSV, oldest first: one row per completed action and one per completed
/// routine cycle, with names in `language`.
pub fn history_csv(personal: &Personal, language: Language) -> String {
    let routine_name = |id: &RoutineId| -> String {
        match (catalog::preset(*id), personal.routines.get(id)) {
            (Some(p), _) => language.pick(p.name_ko, p.name_en).to_owned(),
            (None, Some(r)) => r.name.clone(),
            (None, None) => String::new(),
        }
    };
    let cycle_number = |routine: &RoutineId, cycle: Cycle| -> String {
        personal.routines.get(routine).map_or(cycle, |r| Cycle::Number(r.cycle_number(cycle))).to_string()
    };
    let mut rows: Vec<(Moment, [String; 8])> = Vec::new();
    for c in personal.actions.values() {
        let action =
            catalog::action(&c.action).map(|a| language.pick(a.name_ko, a.name_en)).unwrap_or(c.action.as_str());
        rows.push((
            c.moment,
            [
                "action".into(),
                c.key.routine.to_string(),
                routine_name(&c.key.routine),
                cycle_number(&c.key.routine, c.key.cycle),
                c.action.clone(),
                action.to_owned(),
                c.count.to_string(),
                String::new(),
            ],
        ));
    }
    for c in personal.routine_records.values() {
        rows.push((
            c.moment,
            [
                "routine".into(),
                c.key.routine.to_string(),
                routine_name(&c.key.routine),
                cycle_number(&c.key.routine, c.key.cycle),
                String::new(),
                String::new(),
                String::new(),
                c.actions.to_string(),
            ],
        ));
    }
    rows.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let mut out = String::from(
        "date,time,utc_offset,kind,routine_id,routine,cycle,action_id,action,count,actions_in_routine\r\n",
    );
    for (m, fields) in rows {
        let local = chrono::DateTime::from_timestamp_millis(m.at_ms)
            .zip(chrono::FixedOffset::east_opt(m.offset_minutes * 60))
            .map(|(t, o)| t.with_timezone(&o).format("%H:%M:%S").to_string())
            .unwrap_or_default();
        let sign = if m.offset_minutes < 0 { '-' } else { '+' };
        let offset = format!("UTC{sign}{:02}:{:02}", m.offset_minutes.abs() / 60, m.offset_minutes.abs() % 60);
        let cells = [m.date.to_string(), local, offset].into_iter().chain(fields);
        out.push_str(&cells.map(|c| csv_field(&c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// One CSV field (RFC 4180), with text that a spreadsheet would run as a formula made inert.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) && text.parse::<f64>().is_err() {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_name_gets_the_first_free_number_within_the_name_limit() {
        let taken: BTreeSet<String> = ["아침".to_owned(), "아침 (2)".to_owned()].into();
        assert_eq!(free_name("저녁", &taken), "저녁");
        assert_eq!(free_name(" 아침 ", &taken), "아침 (3)");
        let long = "a".repeat(ROUTINE_NAME_MAX_CHARS);
        let renamed = free_name(&long, &[long.clone()].into());
        assert_eq!(renamed.chars().count(), ROUTINE_NAME_MAX_CHARS);
        assert!(renamed.ends_with(" (2)"));
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_made_inert() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("+09:00"), "'+09:00");
        assert_eq!(csv_field("-5"), "-5");
    }

    #[test]
    fn a_file_that_is_not_an_export_of_this_version_is_refused_with_a_reason() {
        let refusal = |json: &str| match parse(json) {
            Ok(_) => panic!("{json} was taken"),
            Err(e) => match e.import_refusal() {
                Some(refusal) => (e.code(), refusal.reason, refusal.details.clone(), e.to_string()),
                None => panic!("{json}: no reason in {e}"),
            },
        };
        let none = ImportDetails::default();
        let cases = [
            ("not json", ImportReason::NotJson, none.clone(), "not a JSON export"),
            ("", ImportReason::NotJson, none.clone(), "not a JSON export"),
            ("[1, 2]", ImportReason::NotAnExport, none.clone(), "not a Mingizuk export"),
            (r#"{"format":"other","version":1}"#, ImportReason::NotAnExport, none.clone(), "not a Mingizuk export"),
            (
                r#"{"format":"mingizuk-export","version":3}"#,
                ImportReason::NewerVersion,
                ImportDetails { version: Some(3), ..ImportDetails::default() },
                "newer",
            ),
            (r#"{"format":"mingizuk-export"}"#, ImportReason::Damaged, none.clone(), "no known format version"),
            (r#"{"format":"mingizuk-export","version":"2"}"#, ImportReason::Damaged, none.clone(), "no known format"),
            (r#"{"format":"mingizuk-export","version":1}"#, ImportReason::Damaged, none.clone(), "damaged"),
            (r#"{"format":"mingizuk-export","version":2,"routines":["#, ImportReason::Damaged, none.clone(), "damaged"),
        ];
        for (json, reason, details, words) in cases {
            let (code, got, named, message) = refusal(json);
            assert_eq!((code, got, named), ("invalid_import", reason, details), "{json}");
            assert!(message.contains(words), "{json}: {message}");
        }
    }
}
