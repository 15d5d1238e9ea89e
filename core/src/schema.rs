//! The Automerge documents that hold a user's personal data, and how the plain model is read
//! from them and written to them.
//!
//! Three kinds of document: the account root, the routines, and one log per calendar month.
//! Every document starts from a fixed *genesis* change (fixed actor, time 0), so that replicas
//! created apart share their top-level maps and merge field by field instead of hiding one
//! another's maps behind a conflict. Values that two devices may write concurrently are either
//! keyed by UUIDs (no conflict) or read with all their conflicting values and resolved by a
//! deterministic rule (earliest completion, restart over reset, earliest draw).

use std::collections::BTreeMap;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, ObjId, ObjType, ROOT, ReadDoc, Value};
use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use crate::catalog::{self, Character};
use crate::error::RuleError;
use crate::model::{
    Account, ActionCompletion, CompletionKey, CycleKey, CycleStart, Draw, Entry, Language, Log, Moment, Routine,
    RoutineCompletion, RoutineId,
};
use crate::rules::Change;

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

impl std::str::FromStr for Month {
    type Err = RuleError;
    fn from_str(s: &str) -> Result<Month, RuleError> {
        let bad = || RuleError::InvalidDocument(format!("bad month \"{s}\""));
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        let month = Month { year: y.parse().map_err(|_| bad())?, month: m.parse().map_err(|_| bad())? };
        NaiveDate::from_ymd_opt(month.year, month.month, 1).ok_or_else(bad)?;
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

/// Writes one change to the document `target(change)` names. The caller commits.
pub fn write(doc: &mut AutoCommit, change: &Change) -> Result<(), RuleError> {
    match change {
        Change::CreateRoutine(r) => {
            let routines = map_at(doc, &ROOT, "routines")?;
            let obj = doc.put_object(&routines, r.id.to_string(), ObjType::Map).map_err(am)?;
            doc.put(&obj, "name", r.name.as_str()).map_err(am)?;
            doc.put(&obj, "preset", false).map_err(am)?;
            doc.put(&obj, "created_at", r.created_at_ms).map_err(am)?;
            doc.put(&obj, "deleted", false).map_err(am)?;
            doc.put_object(&obj, "cycles", ObjType::Map).map_err(am)?;
            let entries = doc.put_object(&obj, "entries", ObjType::List).map_err(am)?;
            for (i, e) in r.entries.iter().enumerate() {
                write_entry(doc, &entries, i, e).map_err(am)?;
            }
        }
        Change::EditRoutine { id, name, entries } => {
            let obj = map_at(doc, &map_at(doc, &ROOT, "routines")?, &id.to_string())?;
            doc.put(&obj, "name", name.as_str()).map_err(am)?;
            // The list is replaced whole: of two concurrent edits one list wins entire, so a
            // merge can never interleave them into more than five actions.
            let list = doc.put_object(&obj, "entries", ObjType::List).map_err(am)?;
            for (i, e) in entries.iter().enumerate() {
                write_entry(doc, &list, i, e).map_err(am)?;
            }
        }
        Change::DeleteRoutine(id) => {
            let obj = map_at(doc, &map_at(doc, &ROOT, "routines")?, &id.to_string())?;
            doc.put(&obj, "deleted", true).map_err(am)?;
        }
        Change::StartCycle { routine, cycle, start } => {
            let obj = map_at(doc, &map_at(doc, &ROOT, "routines")?, &routine.to_string())?;
            let cycles = map_at(doc, &obj, "cycles")?;
            let kind = match start {
                CycleStart::Restart => "restart",
                CycleStart::Reset => "reset",
            };
            doc.put(&cycles, cycle.to_string(), kind).map_err(am)?;
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
            doc.put(&obj, "cycle", i64::from(c.key.cycle)).map_err(am)?;
            doc.put(&obj, "entry", c.key.entry.to_string()).map_err(am)?;
            doc.put(&obj, "action", c.action.as_str()).map_err(am)?;
            doc.put(&obj, "count", i64::from(c.count)).map_err(am)?;
            write_moment(doc, &obj, &c.moment)?;
        }
        Change::CompleteRoutine(c) => {
            let routines = map_at(doc, &ROOT, "routines")?;
            let obj = doc.put_object(&routines, c.key.encode(), ObjType::Map).map_err(am)?;
            doc.put(&obj, "routine", c.key.routine.to_string()).map_err(am)?;
            doc.put(&obj, "cycle", i64::from(c.key.cycle)).map_err(am)?;
            doc.put(&obj, "actions", i64::from(c.actions)).map_err(am)?;
            write_moment(doc, &obj, &c.moment)?;
        }
    }
    Ok(())
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

// ---- reading ----

fn str_of(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<String> {
    match doc.get(obj, key).ok()?? {
        (Value::Scalar(s), _) => s.as_str().map(str::to_owned),
        _ => None,
    }
}

fn int_of(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<i64> {
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

/// Every map stored under `key` of `obj`, conflicting values included.
fn all_maps(doc: &AutoCommit, obj: &ObjId, key: &str) -> Vec<ObjId> {
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

pub fn read_routines(doc: &AutoCommit) -> Result<BTreeMap<RoutineId, Routine>, RuleError> {
    let routines = map_at(doc, &ROOT, "routines")?;
    let mut out = BTreeMap::new();
    for key in doc.keys(&routines) {
        let Ok(id) = key.parse::<Uuid>() else { continue };
        let Ok(obj) = map_at(doc, &routines, &key) else { continue };
        let entries = match doc.get(&obj, "entries").map_err(am)? {
            Some((Value::Object(ObjType::List), list)) => (0..doc.length(&list))
                .filter_map(|i| match doc.get(&list, i).ok()?? {
                    (Value::Object(ObjType::Map), e) => Some(Entry {
                        id: str_of(doc, &e, "id")?.parse().ok()?,
                        action: str_of(doc, &e, "action")?,
                        count: u8::try_from(int_of(doc, &e, "count")?).ok()?,
                    }),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let mut cycles = BTreeMap::new();
        if let Ok(cycle_map) = map_at(doc, &obj, "cycles") {
            for key in doc.keys(&cycle_map) {
                let Ok(n) = key.parse::<u32>() else { continue };
                // Concurrent restart and reset of one cycle: restart wins, it keeps more.
                let starts = doc.get_all(&cycle_map, key.as_str()).unwrap_or_default();
                let start = starts
                    .iter()
                    .filter_map(|(v, _)| match v.as_str() {
                        Some("restart") => Some(CycleStart::Restart),
                        Some("reset") => Some(CycleStart::Reset),
                        _ => None,
                    })
                    .min();
                if let Some(start) = start {
                    cycles.insert(n, start);
                }
            }
        }
        out.insert(
            id,
            Routine {
                id,
                name: str_of(doc, &obj, "name").unwrap_or_default(),
                preset: bool_of(doc, &obj, "preset").unwrap_or(false),
                entries,
                created_at_ms: int_of(doc, &obj, "created_at").unwrap_or(0),
                deleted: bool_of(doc, &obj, "deleted").unwrap_or(false),
                cycles,
            },
        );
    }
    Ok(out)
}

fn read_moment(doc: &AutoCommit, obj: &ObjId) -> Option<Moment> {
    let m = Moment::new(int_of(doc, obj, "at")?, i32::try_from(int_of(doc, obj, "offset")?).ok()?)?;
    // The stored date must be the one the instant and offset give; anything else is corrupt.
    (str_of(doc, obj, "date")?.parse::<NaiveDate>().ok()? == m.date).then_some(m)
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
                    cycle: u32::try_from(int_of(doc, &obj, "cycle")?).ok()?,
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
                    key: CycleKey {
                        routine: str_of(doc, &obj, "routine")?.parse().ok()?,
                        cycle: u32::try_from(int_of(doc, &obj, "cycle")?).ok()?,
                    },
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
