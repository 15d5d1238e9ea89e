//! The Automerge documents that hold a user's personal data, and how the plain model is read
//! from them and written to them.
//!
//! Three kinds of document: the account root, the routines, and one log per calendar month.
//! Every document starts from a fixed *genesis* change (fixed actor, time 0), so that replicas
//! created apart share their top-level maps and merge field by field instead of hiding one
//! another's maps behind a conflict. Values that two devices may write concurrently are either
//! keyed by UUIDs (no conflict) or read with all their conflicting values and resolved by a
//! deterministic rule (earliest completion, restart over reset, earliest draw, the copies of a
//! routine that two devices created apart merged into one).

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, ObjId, ObjType, ROOT, ReadDoc, Value};
use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use crate::catalog;
use crate::error::RuleError;
use crate::model::{Cycle, Entry, Language, Moment, Routine};
use crate::rules::Change;

mod read;
pub use read::{check_kind, read_account, read_doc_list, read_log, read_routines};

/// Version of the document layout, stored in every genesis.
pub const SCHEMA_VERSION: i64 = 1;
const GENESIS_ACTOR: [u8; 16] = *b"mingizuk-genesis";

/// A calendar month, the unit of log documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn of(date: NaiveDate) -> Month {
        Month { year: date.year(), month: date.month() }
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Parses what `Display` writes, and only that: a year before 1 keeps its sign ("-001-01") and
/// a spelling `Display` would not give ("+2025-01", "2025-1") is refused, so a month's label
/// names one document and reads back as the month it was written from.
impl std::str::FromStr for Month {
    type Err = RuleError;
    fn from_str(s: &str) -> Result<Month, RuleError> {
        let bad = || RuleError::InvalidDocument(format!("bad month \"{s}\""));
        let (y, m) = s.rsplit_once('-').ok_or_else(bad)?;
        let month = Month { year: y.parse().map_err(|_| bad())?, month: m.parse().map_err(|_| bad())? };
        NaiveDate::from_ymd_opt(month.year, month.month, 1).ok_or_else(bad)?;
        if month.to_string() != s {
            return Err(bad());
        }
        Ok(month)
    }
}

/// What a document holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum DocKind {
    Account,
    Routines,
    Log(Month),
}

impl DocKind {
    pub fn label(&self) -> String {
        match self {
            DocKind::Account => "account".into(),
            DocKind::Routines => "routines".into(),
            DocKind::Log(m) => format!("log/{m}"),
        }
    }

    pub fn parse(label: &str) -> Option<DocKind> {
        match label {
            "account" => Some(DocKind::Account),
            "routines" => Some(DocKind::Routines),
            _ => label.strip_prefix("log/").and_then(|m| m.parse().ok()).map(DocKind::Log),
        }
    }

    /// The id of this document in the account with root `root`: the root itself, or a name-based
    /// UUID derived from it, so every device of the account finds the same document.
    pub fn id_in(&self, root: Uuid) -> Uuid {
        match self {
            DocKind::Account => root,
            other => Uuid::new_v5(&root, other.label().as_bytes()),
        }
    }
}

/// A fresh document of this kind, identical on every device, ready for `actor` to write to.
pub fn genesis(kind: DocKind, actor: &ActorId) -> AutoCommit {
    let mut doc = AutoCommit::new().with_actor(ActorId::from(&GENESIS_ACTOR[..]));
    build_genesis(&mut doc, kind).expect("writing to a fresh document cannot fail");
    doc.commit_with(CommitOptions::default().with_time(0).with_message("genesis"));
    doc.set_actor(actor.clone());
    doc
}

fn build_genesis(doc: &mut AutoCommit, kind: DocKind) -> Result<(), automerge::AutomergeError> {
    doc.put(ROOT, "schema", SCHEMA_VERSION)?;
    match kind {
        DocKind::Account => {
            doc.put(ROOT, "kind", "account")?;
            doc.put(ROOT, "main_routine", "")?;
            doc.put(ROOT, "language", "ko")?;
            doc.put_object(ROOT, "draws", ObjType::Map)?;
            doc.put_object(ROOT, "started", ObjType::Map)?;
            doc.put_object(ROOT, "docs", ObjType::Map)?;
        }
        DocKind::Routines => {
            doc.put(ROOT, "kind", "routines")?;
            let routines = doc.put_object(ROOT, "routines", ObjType::Map)?;
            for preset in &catalog::PRESETS {
                let obj = doc.put_object(&routines, preset.id.to_string(), ObjType::Map)?;
                doc.put(&obj, "name", preset.name_ko)?;
                doc.put(&obj, "preset", true)?;
                doc.put(&obj, "created_at", 0_i64)?;
                doc.put(&obj, "deleted", false)?;
                doc.put_object(&obj, "cycles", ObjType::Map)?;
                let entries = doc.put_object(&obj, "entries", ObjType::List)?;
                for (i, (id, action, count)) in preset.entries.iter().enumerate() {
                    write_entry(doc, &entries, i, &Entry { id: *id, action: (*action).into(), count: *count })?;
                }
            }
        }
        DocKind::Log(month) => {
            doc.put(ROOT, "kind", "log")?;
            // The month is part of the genesis, so a log can never pass for another month's.
            doc.put(ROOT, "month", month.to_string())?;
            doc.put_object(ROOT, "actions", ObjType::Map)?;
            doc.put_object(ROOT, "routines", ObjType::Map)?;
        }
    }
    Ok(())
}

fn write_entry(
    doc: &mut AutoCommit,
    list: &ObjId,
    index: usize,
    entry: &Entry,
) -> Result<(), automerge::AutomergeError> {
    let obj = doc.insert_object(list, index, ObjType::Map)?;
    doc.put(&obj, "id", entry.id.to_string())?;
    doc.put(&obj, "action", entry.action.as_str())?;
    doc.put(&obj, "count", i64::from(entry.count))?;
    Ok(())
}

/// Which document a change is written to.
pub fn target(change: &Change) -> DocKind {
    match change {
        Change::CreateRoutine(_)
        | Change::ImportRoutine(_)
        | Change::EditRoutine { .. }
        | Change::DeleteRoutine(_)
        | Change::StartCycle { .. } => DocKind::Routines,
        Change::SetMain(_) | Change::Draw(_) => DocKind::Account,
        Change::CompleteAction(c) => DocKind::Log(Month::of(c.moment.date)),
        Change::CompleteRoutine(c) => DocKind::Log(Month::of(c.moment.date)),
    }
}

fn bad(what: impl std::fmt::Display) -> RuleError {
    RuleError::InvalidDocument(what.to_string())
}

fn am(e: automerge::AutomergeError) -> RuleError {
    bad(e)
}

fn map_at(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<ObjId, RuleError> {
    match doc.get(obj, key).map_err(am)? {
        Some((Value::Object(ObjType::Map), id)) => Ok(id),
        _ => Err(bad(format!("missing map \"{key}\""))),
    }
}

/// Every copy of routine `id` in the routines document, in `get_all`'s order; refused when there
/// is none. A routine has one copy, unless two devices of the account each created it before
/// they synced (an import of a routine another device already had): both copies then stand
/// under the same key as an Automerge conflict, and the reading merges them (`read_routines`).
fn routine_copies(doc: &AutoCommit, id: &Uuid) -> Result<Vec<ObjId>, RuleError> {
    let key = id.to_string();
    let copies = read::all_maps(doc, &map_at(doc, &ROOT, "routines")?, &key);
    if copies.is_empty() {
        return Err(bad(format!("missing map \"{key}\"")));
    }
    Ok(copies)
}

/// Writes a new routine: one copy under its id, marked `imported` when it comes from an export
/// file, so that a reader prefers another device's copy of it.
fn create_routine(doc: &mut AutoCommit, r: &Routine, imported: bool) -> Result<(), RuleError> {
    let routines = map_at(doc, &ROOT, "routines")?;
    let obj = doc.put_object(&routines, r.id.to_string(), ObjType::Map).map_err(am)?;
    doc.put(&obj, "name", r.name.as_str()).map_err(am)?;
    doc.put(&obj, "preset", false).map_err(am)?;
    doc.put(&obj, "created_at", r.created_at_ms).map_err(am)?;
    doc.put(&obj, "deleted", false).map_err(am)?;
    if imported {
        doc.put(&obj, "imported", true).map_err(am)?;
    }
    doc.put_object(&obj, "cycles", ObjType::Map).map_err(am)?;
    let entries = doc.put_object(&obj, "entries", ObjType::List).map_err(am)?;
    for (i, e) in r.entries.iter().enumerate() {
        write_entry(doc, &entries, i, e).map_err(am)?;
    }
    Ok(())
}

/// Writes one change to the document `target(change)` names. The caller commits.
pub fn write(doc: &mut AutoCommit, change: &Change) -> Result<(), RuleError> {
    match change {
        Change::CreateRoutine(r) => create_routine(doc, r, false)?,
        Change::ImportRoutine(r) => create_routine(doc, r, true)?,
        // A routine may be stored in several copies (see `routine_copies`): every copy takes the
        // change, so that they agree whichever of them a reader picks.
        Change::EditRoutine { id, name, entries } => {
            let copies = routine_copies(doc, id)?;
            // Counted past every copy's count: of copies that parted, the one edited since wins
            // the read over one left as it was (`read_routines`).
            let edits = copies.iter().filter_map(|obj| read::int_of(doc, obj, "edits")).max().unwrap_or(0) + 1;
            for obj in copies {
                doc.put(&obj, "name", name.as_str()).map_err(am)?;
                doc.put(&obj, "edits", edits).map_err(am)?;
                // The list is replaced whole: of two concurrent edits one list wins entire, so a
                // merge can never interleave them into more than five actions.
                let list = doc.put_object(&obj, "entries", ObjType::List).map_err(am)?;
                for (i, e) in entries.iter().enumerate() {
                    write_entry(doc, &list, i, e).map_err(am)?;
                }
            }
        }
        Change::DeleteRoutine(id) => {
            for obj in routine_copies(doc, id)? {
                doc.put(&obj, "deleted", true).map_err(am)?;
            }
        }
        Change::StartCycle { routine, cycle, info } => {
            // Cycles are read as the union of every copy's, so a copy without its map of cycles
            // (damaged, or written by a newer app) misses nothing; but one copy must take it.
            let mut written = false;
            for obj in routine_copies(doc, routine)? {
                if let Ok(cycles) = map_at(doc, &obj, "cycles") {
                    match cycle {
                        // As older builds write it (an imported file's numbered cycle).
                        Cycle::Number(n) => {
                            doc.put(&cycles, n.to_string(), info.start.name()).map_err(am)?;
                        }
                        Cycle::Id(id) => {
                            let obj = doc.put_object(&cycles, id.to_string(), ObjType::Map).map_err(am)?;
                            doc.put(&obj, "number", i64::from(info.number)).map_err(am)?;
                            doc.put(&obj, "start", info.start.name()).map_err(am)?;
                            doc.put(&obj, "at", info.at_ms).map_err(am)?;
                        }
                    }
                    written = true;
                }
            }
            if !written {
                return Err(bad(format!("routine {routine} has no map \"cycles\"")));
            }
        }
        Change::SetMain(id) => {
            doc.put(ROOT, "main_routine", id.map(|i| i.to_string()).unwrap_or_default()).map_err(am)?;
        }
        Change::Draw(d) => {
            let draws = map_at(doc, &ROOT, "draws")?;
            let obj = doc.put_object(&draws, d.id.to_string(), ObjType::Map).map_err(am)?;
            doc.put(&obj, "character", d.character.id()).map_err(am)?;
            doc.put(&obj, "at", d.at_ms).map_err(am)?;
        }
        Change::CompleteAction(c) => {
            let actions = map_at(doc, &ROOT, "actions")?;
            let obj = doc.put_object(&actions, c.key.encode(), ObjType::Map).map_err(am)?;
            doc.put(&obj, "routine", c.key.routine.to_string()).map_err(am)?;
            put_cycle(doc, &obj, c.key.cycle)?;
            doc.put(&obj, "entry", c.key.entry.to_string()).map_err(am)?;
            doc.put(&obj, "action", c.action.as_str()).map_err(am)?;
            doc.put(&obj, "count", i64::from(c.count)).map_err(am)?;
            write_moment(doc, &obj, &c.moment)?;
        }
        Change::CompleteRoutine(c) => {
            let routines = map_at(doc, &ROOT, "routines")?;
            let obj = doc.put_object(&routines, c.key.encode(), ObjType::Map).map_err(am)?;
            doc.put(&obj, "routine", c.key.routine.to_string()).map_err(am)?;
            put_cycle(doc, &obj, c.key.cycle)?;
            doc.put(&obj, "actions", i64::from(c.actions)).map_err(am)?;
            write_moment(doc, &obj, &c.moment)?;
        }
    }
    Ok(())
}

/// A completion's cycle: a number as older builds wrote it, an id as a string (which an older
/// build's reader skips rather than misreads).
fn put_cycle(doc: &mut AutoCommit, obj: &ObjId, cycle: Cycle) -> Result<(), RuleError> {
    match cycle {
        Cycle::Number(n) => doc.put(obj, "cycle", i64::from(n)),
        Cycle::Id(id) => doc.put(obj, "cycle", id.to_string()),
    }
    .map_err(am)
}

fn write_moment(doc: &mut AutoCommit, obj: &ObjId, m: &Moment) -> Result<(), RuleError> {
    doc.put(obj, "at", m.at_ms).map_err(am)?;
    doc.put(obj, "offset", i64::from(m.offset_minutes)).map_err(am)?;
    doc.put(obj, "date", m.date.to_string()).map_err(am)?;
    Ok(())
}

/// Records in the account root that the account owns a document (idempotent).
pub fn register_doc(root: &mut AutoCommit, root_id: Uuid, kind: DocKind) -> Result<(), RuleError> {
    let docs = map_at(root, &ROOT, "docs")?;
    let key = kind.id_in(root_id).to_string();
    if root.get(&docs, key.as_str()).map_err(am)?.is_none() {
        root.put(&docs, key, kind.label()).map_err(am)?;
    }
    Ok(())
}

/// Moves the account root's record of a document from the ids of account `old` to those of
/// account `new` (a device joining an account).
pub fn move_doc(root: &mut AutoCommit, old: Uuid, new: Uuid, kind: DocKind) -> Result<(), RuleError> {
    let docs = map_at(root, &ROOT, "docs")?;
    let old_key = kind.id_in(old).to_string();
    if root.get(&docs, old_key.as_str()).map_err(am)?.is_some() {
        root.delete(&docs, old_key.as_str()).map_err(am)?;
    }
    if kind != DocKind::Account {
        register_doc(root, new, kind)?;
    }
    Ok(())
}

/// Records the local date on which a device first opened the app.
pub fn record_start(root: &mut AutoCommit, device: &str, date: NaiveDate) -> Result<(), RuleError> {
    let started = map_at(root, &ROOT, "started")?;
    if root.get(&started, device).map_err(am)?.is_none() {
        root.put(&started, device, date.to_string()).map_err(am)?;
    }
    Ok(())
}

pub fn set_language(root: &mut AutoCommit, language: Language) -> Result<(), RuleError> {
    let code = match language {
        Language::Ko => "ko",
        Language::En => "en",
    };
    root.put(ROOT, "language", code).map_err(am)
}

/// The daily reminder time in minutes after midnight, or none.
pub fn set_reminder(root: &mut AutoCommit, minutes: Option<u16>) -> Result<(), RuleError> {
    root.put(ROOT, "reminder", minutes.map(i64::from).unwrap_or(-1)).map_err(am)
}
