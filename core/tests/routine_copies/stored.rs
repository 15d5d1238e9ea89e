//! What the routines document holds of a routine, read field by field.

use std::collections::BTreeMap;

use mingizuk_core::automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, Value};
use mingizuk_core::model::{CycleStart, Routine, RoutineId};

#[derive(Debug, PartialEq)]
pub struct Stored {
    pub name: Option<String>,
    pub entries: Vec<String>,
    pub deleted: Option<bool>,
    /// Each cycle's start, by key.
    pub cycles: BTreeMap<String, String>,
}

/// The cycles a routine lists: their numbers and starts, by number.
pub fn starts(routine: &Routine) -> Vec<(u32, CycleStart)> {
    let mut starts: Vec<_> = routine.cycles.values().map(|c| (c.number, c.start)).collect();
    starts.sort();
    starts
}

/// A routine played once through and restarted: its first cycle, then the second.
pub const PLAYED_AND_RESTARTED: [(u32, CycleStart); 2] = [(1, CycleStart::First), (2, CycleStart::Restart)];

fn text(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<String> {
    match doc.get(obj, key).unwrap()? {
        (Value::Scalar(s), _) => s.as_str().map(str::to_owned),
        _ => None,
    }
}

/// Every copy of the routine in the document, Automerge's preferred one last.
pub fn stored_copies(doc: &AutoCommit, id: RoutineId) -> Vec<Stored> {
    let Some((_, routines)) = doc.get(ROOT, "routines").unwrap() else { panic!("no routines map") };
    let objects = doc.get_all(&routines, id.to_string()).unwrap().into_iter().map(|(_, obj)| obj);
    objects
        .map(|obj| {
            let entries = match doc.get(&obj, "entries").unwrap() {
                Some((Value::Object(ObjType::List), list)) => (0..doc.length(&list))
                    .map(|i| text(doc, &doc.get(&list, i).unwrap().unwrap().1, "id").unwrap())
                    .collect(),
                _ => Vec::new(),
            };
            let cycles = match doc.get(&obj, "cycles").unwrap() {
                Some((Value::Object(ObjType::Map), map)) => {
                    let start = |k: &str| match doc.get(&map, k).unwrap() {
                        Some((Value::Object(ObjType::Map), cycle)) => text(doc, &cycle, "start"),
                        _ => text(doc, &map, k),
                    };
                    doc.keys(&map).map(|k| (k.clone(), start(&k).unwrap())).collect()
                }
                _ => BTreeMap::new(),
            };
            let deleted = match doc.get(&obj, "deleted").unwrap() {
                Some((Value::Scalar(s), _)) => s.as_bool(),
                _ => None,
            };
            Stored { name: text(doc, &obj, "name"), entries, deleted, cycles }
        })
        .collect()
}
