//! Reading the plain model back from the documents. Unknown or malformed entries are skipped,
//! never fatal (a document written by a newer app must still open); conflicting values are all
//! read and resolved by the model's rules.

use std::collections::BTreeMap;

use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, Value};
use chrono::NaiveDate;
use uuid::Uuid;

use super::{DocKind, bad, map_at};
use crate::catalog::Character;
use crate::error::RuleError;
use crate::model::{
    Account, ActionCompletion, CompletionKey, Cycle, CycleInfo, CycleKey, CycleStart, Draw, Entry, Language, Log,
    Moment, Routine, RoutineCompletion, RoutineId,
};

fn str_of(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<String> {
    match doc.get(obj, key).ok()?? {
        (Value::Scalar(s), _) => s.as_str().map(str::to_owned),
        _ => None,
    }
}

pub(super) fn int_of(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<i64> {
    match doc.get(obj, key).ok()?? {
        (Value::Scalar(s), _) => s.as_i64(),
        _ => None,
    }
}

fn bool_of(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<bool> {
    match doc.get(obj, key).ok()?? {
        (Value::Scalar(s), _) => s.as_bool(),
        _ => None,
    }
}

/// Every map stored under `key` of `obj`, conflicting values included, in `get_all`'s order
/// (Automerge's winner last).
pub(super) fn all_maps(doc: &AutoCommit, obj: &ObjId, key: &str) -> Vec<ObjId> {
    doc.get_all(obj, key)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(v, id)| matches!(v, Value::Object(ObjType::Map)).then_some(id))
        .collect()
}

/// Reads the account root. Unknown or malformed entries are skipped, never fatal: a document
/// written by a newer app must still open.
pub fn read_account(doc: &AutoCommit) -> Result<Account, RuleError> {
    let mut account = Account {
        main_routine: str_of(doc, &ROOT, "main_routine").and_then(|s| s.parse().ok()),
        language: match str_of(doc, &ROOT, "language").as_deref() {
            Some("en") => Language::En,
            _ => Language::Ko,
        },
        reminder_minutes: int_of(doc, &ROOT, "reminder").and_then(|m| u16::try_from(m).ok()).filter(|m| *m < 24 * 60),
        ..Account::default()
    };
    let draws = map_at(doc, &ROOT, "draws")?;
    for key in doc.keys(&draws) {
        let Ok(id) = key.parse::<Uuid>() else { continue };
        for obj in all_maps(doc, &draws, &key) {
            let character = str_of(doc, &obj, "character").and_then(|c| Character::from_id(&c));
            if let (Some(character), Some(at_ms)) = (character, int_of(doc, &obj, "at")) {
                account.draws.push(Draw { id, character, at_ms });
            }
        }
    }
    account.draws.sort_by_key(|d| (d.at_ms, d.id));
    account.draws.dedup_by_key(|d| d.id);
    let started = map_at(doc, &ROOT, "started")?;
    for key in doc.keys(&started) {
        if let Some(date) = str_of(doc, &started, &key).and_then(|d| d.parse().ok()) {
            account.started.insert(key, date);
        }
    }
    Ok(account)
}

/// The documents the account root lists, by id.
pub fn read_doc_list(doc: &AutoCommit) -> Result<BTreeMap<Uuid, DocKind>, RuleError> {
    let docs = map_at(doc, &ROOT, "docs")?;
    Ok(doc.keys(&docs).filter_map(|k| Some((k.parse().ok()?, DocKind::parse(&str_of(doc, &docs, &k)?)?))).collect())
}

/// Reads the routines. A routine is stored as one map under its id, or, when two devices of the
/// account each created it before they synced (a device that imported an export holding a
/// routine another device already had), as several conflicting maps under that id: its
/// *copies*. The copies are merged into one routine, the same way on every device:
/// - its cycles are those of every copy, and of two starts of one cycle the restart stands;
/// - it is deleted when any copy is;
/// - its name, actions, preset flag and creation instant are those of one copy: a whole one (all
///   four readable) before one that is not, then the one edited most (an edit counts one past the
///   most any copy had, so a copy edited since the copies parted wins over one left as it was,
///   whichever device edited), then one not made by an import (the device that had the routine
///   all along may have changed it since the export), then the last in `get_all`'s order, which
///   is the copy Automerge itself picks (`get` returns the last).
///
/// Every edit is written to every copy (`write`), so after one the copies agree. A copy with a
/// missing or malformed part never fails the read: the part reads as empty.
pub fn read_routines(doc: &AutoCommit) -> Result<BTreeMap<RoutineId, Routine>, RuleError> {
    let routines = map_at(doc, &ROOT, "routines")?;
    let mut out = BTreeMap::new();
    for key in doc.keys(&routines) {
        let Ok(id) = key.parse::<Uuid>() else { continue };
        let copies = all_maps(doc, &routines, &key).iter().map(|obj| read_copy(doc, id, obj)).collect();
        if let Some(routine) = merge_copies(copies) {
            out.insert(id, routine);
        }
    }
    Ok(out)
}

/// One stored copy of a routine, as read.
struct Copy {
    /// Whether the parts taken from one chosen copy (name, action list, preset flag, creation
    /// instant) are all there to read. An edit writes the name and list to every copy, so those
    /// two alone would not keep a damaged copy from being chosen after one.
    whole: bool,
    /// Whether an import wrote it (`Change::ImportRoutine`).
    imported: bool,
    /// How many edits it has taken (`write` sets every copy one past the most any copy had).
    edits: i64,
    routine: Routine,
}

fn read_copy(doc: &AutoCommit, id: RoutineId, obj: &ObjId) -> Copy {
    let name = str_of(doc, obj, "name");
    let list = match doc.get(obj, "entries") {
        Ok(Some((Value::Object(ObjType::List), list))) => Some(list),
        _ => None,
    };
    let entries = list
        .as_ref()
        .map(|list| {
            (0..doc.length(list))
                .filter_map(|i| match doc.get(list, i).ok()?? {
                    (Value::Object(ObjType::Map), e) => Some(Entry {
                        id: str_of(doc, &e, "id")?.parse().ok()?,
                        action: str_of(doc, &e, "action")?,
                        count: u8::try_from(int_of(doc, &e, "count")?).ok()?,
                    }),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let mut cycles = BTreeMap::new();
    if let Ok(cycle_map) = map_at(doc, obj, "cycles") {
        for key in doc.keys(&cycle_map) {
            if let Some((cycle, info)) = read_cycle(doc, &cycle_map, &key) {
                cycles.insert(cycle, info);
            }
        }
    }
    let preset = bool_of(doc, obj, "preset");
    let created_at_ms = int_of(doc, obj, "created_at");
    Copy {
        whole: name.is_some() && list.is_some() && preset.is_some() && created_at_ms.is_some(),
        imported: bool_of(doc, obj, "imported").unwrap_or(false),
        edits: int_of(doc, obj, "edits").unwrap_or(0),
        routine: Routine {
            id,
            name: name.unwrap_or_default(),
            preset: preset.unwrap_or(false),
            entries,
            created_at_ms: created_at_ms.unwrap_or(0),
            deleted: bool_of(doc, obj, "deleted").unwrap_or(false),
            cycles,
        },
    }
}

/// One entry of a routine's map of cycles: `"2": "restart"` as older builds write a numbered
/// cycle, or `"<id>": {number, start, at}`.
fn read_cycle(doc: &AutoCommit, cycles: &ObjId, key: &str) -> Option<(Cycle, CycleInfo)> {
    match key.parse::<Cycle>().ok()? {
        Cycle::Number(n) => {
            // Concurrent restart and reset of one numbered cycle: restart wins, it keeps more.
            let starts = doc.get_all(cycles, key).unwrap_or_default();
            let start = starts.iter().filter_map(|(v, _)| v.as_str().and_then(CycleStart::from_name)).min()?;
            Some((Cycle::Number(n), CycleInfo::numbered(n, start)))
        }
        // Two devices may have started the same cycle (a routine's first): both records merge.
        Cycle::Id(id) => {
            let info = all_maps(doc, cycles, key)
                .iter()
                .filter_map(|obj| {
                    let number = u32::try_from(int_of(doc, obj, "number")?).ok().filter(|n| *n >= 1)?;
                    let start = CycleStart::from_name(&str_of(doc, obj, "start")?)?;
                    Some(CycleInfo { number, start, at_ms: int_of(doc, obj, "at")? })
                })
                .reduce(CycleInfo::merge)?;
            Some((Cycle::Id(id), info))
        }
    }
}

/// The one routine the copies of a routine read as (see `read_routines`); none without a copy.
fn merge_copies(mut copies: Vec<Copy>) -> Option<Routine> {
    // `max_by_key` with the position last: of equal copies, the last in `get_all`'s order.
    let (chosen, _) = copies.iter().enumerate().max_by_key(|(i, c)| (c.whole, c.edits, !c.imported, *i))?;
    let mut cycles: BTreeMap<Cycle, CycleInfo> = BTreeMap::new();
    let mut deleted = false;
    for copy in &copies {
        deleted |= copy.routine.deleted;
        for (cycle, info) in &copy.routine.cycles {
            let slot = cycles.entry(*cycle).or_insert(*info);
            *slot = slot.merge(*info);
        }
    }
    let mut routine = copies.swap_remove(chosen).routine;
    routine.deleted = deleted;
    routine.cycles = cycles;
    Some(routine)
}

fn read_moment(doc: &AutoCommit, obj: &ObjId) -> Option<Moment> {
    let m = Moment::new(int_of(doc, obj, "at")?, i32::try_from(int_of(doc, obj, "offset")?).ok()?)?;
    // The stored date must be the one the instant and offset give; anything else is corrupt.
    (str_of(doc, obj, "date")?.parse::<NaiveDate>().ok()? == m.date).then_some(m)
}

/// A completion's cycle: a number (older builds) or an id.
fn cycle_of(doc: &AutoCommit, obj: &ObjId) -> Option<Cycle> {
    match doc.get(obj, "cycle").ok()?? {
        (Value::Scalar(s), _) => match s.as_i64() {
            Some(n) => u32::try_from(n).ok().map(Cycle::Number),
            None => s.as_str().and_then(|id| id.parse().ok()).map(Cycle::Id),
        },
        _ => None,
    }
}

/// Reads a month's log: every version of every completion, conflicts included.
pub fn read_log(doc: &AutoCommit) -> Result<Log, RuleError> {
    let mut log = Log::default();
    let actions = map_at(doc, &ROOT, "actions")?;
    for key in doc.keys(&actions) {
        for obj in all_maps(doc, &actions, &key) {
            let parsed = (|| {
                let key = CompletionKey {
                    routine: str_of(doc, &obj, "routine")?.parse().ok()?,
                    cycle: cycle_of(doc, &obj)?,
                    entry: str_of(doc, &obj, "entry")?.parse().ok()?,
                };
                Some(ActionCompletion {
                    key,
                    action: str_of(doc, &obj, "action")?,
                    count: u8::try_from(int_of(doc, &obj, "count")?).ok()?,
                    moment: read_moment(doc, &obj)?,
                })
            })();
            if let Some(c) = parsed.filter(|c| c.key.encode() == key) {
                log.actions.push(c);
            }
        }
    }
    let routines = map_at(doc, &ROOT, "routines")?;
    for key in doc.keys(&routines) {
        for obj in all_maps(doc, &routines, &key) {
            let parsed = (|| {
                Some(RoutineCompletion {
                    key: CycleKey { routine: str_of(doc, &obj, "routine")?.parse().ok()?, cycle: cycle_of(doc, &obj)? },
                    actions: u8::try_from(int_of(doc, &obj, "actions")?).ok()?,
                    moment: read_moment(doc, &obj)?,
                })
            })();
            if let Some(c) = parsed.filter(|c| c.key.encode() == key) {
                log.routines.push(c);
            }
        }
    }
    Ok(log)
}

/// The kind a document says it is, checked against the kind expected.
pub fn check_kind(doc: &AutoCommit, expected: DocKind) -> Result<(), RuleError> {
    let want = match expected {
        DocKind::Account => "account",
        DocKind::Routines => "routines",
        DocKind::Log(_) => "log",
    };
    match str_of(doc, &ROOT, "kind") {
        Some(k) if k == want => {}
        other => return Err(bad(format!("expected a {want} document, found {other:?}"))),
    }
    if let DocKind::Log(month) = expected {
        let found = str_of(doc, &ROOT, "month");
        if found.as_deref() != Some(month.to_string().as_str()) {
            return Err(bad(format!("expected the log of {month}, found {found:?}")));
        }
    }
    Ok(())
}
