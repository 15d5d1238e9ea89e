//! Cycles as builds before cycle ids wrote them: numbered in the routines document (`"2":
//! "restart"`), in completions (`"cycle": 2`), in the device's completion cache and in export files
//! of version 1. They read as they always did, and the cycles a new build starts follow them.
#![allow(clippy::unwrap_used)]

use mingizuk_core::automerge::{ActorId, ObjType, ROOT, ReadDoc, Value};
use mingizuk_core::catalog::PRESETS;
use mingizuk_core::export;
use mingizuk_core::model::{
    ActionCompletion, CompletionKey, Cycle, CycleInfo, CycleStart, Moment, Personal, RoutineCompletion,
};
use mingizuk_core::rules::{self, Change, FreshCycle};
use mingizuk_core::schema::{self, DocKind, Month};
use uuid::Uuid;

const KST: i32 = 9 * 60;
/// 2025-03-03 08:00 in Seoul.
const MORNING: i64 = 1_740_956_400_000;

fn completion(cycle: Cycle, entry: usize, at_ms: i64) -> ActionCompletion {
    let (id, action, count) = PRESETS[0].entries[entry];
    let key = CompletionKey { routine: PRESETS[0].id, cycle, entry: id };
    ActionCompletion { key, action: action.into(), count, moment: Moment::new(at_ms, KST).unwrap() }
}

#[test]
fn a_document_with_numbered_cycles_reads_as_before_and_a_restart_moves_past_it() {
    let actor = ActorId::from(&[3_u8; 16][..]);
    let basic = PRESETS[0].id;
    let mut routines = schema::genesis(DocKind::Routines, &actor);
    let started = Change::StartCycle {
        routine: basic,
        cycle: Cycle::Number(2),
        info: CycleInfo::numbered(2, CycleStart::Restart),
    };
    schema::write(&mut routines, &started).unwrap();
    let month = Month::of(Moment::new(MORNING, KST).unwrap().date);
    let mut log = schema::genesis(DocKind::Log(month), &actor);
    let mut written = Vec::new();
    for entry in 0..5 {
        written.push(Change::CompleteAction(completion(Cycle::FIRST, entry, MORNING + entry as i64 * 60_000)));
    }
    let moment = Moment::new(MORNING + 300_000, KST).unwrap();
    let key = mingizuk_core::model::CycleKey { routine: basic, cycle: Cycle::FIRST };
    written.push(Change::CompleteRoutine(RoutineCompletion { key, actions: 5, moment }));
    written.push(Change::CompleteAction(completion(Cycle::Number(2), 0, MORNING + 600_000)));
    for change in &written {
        schema::write(&mut log, change).unwrap();
    }

    // Stored as older builds stored them: a start under the cycle's number, numbers in the log.
    let (_, map) = routines.get(ROOT, "routines").unwrap().unwrap();
    let (_, preset) = routines.get(&map, basic.to_string()).unwrap().unwrap();
    let (_, cycles) = routines.get(&preset, "cycles").unwrap().unwrap();
    let (value, _) = routines.get(&cycles, "2").unwrap().unwrap();
    assert_eq!(value.as_str(), Some("restart"));
    let (_, actions) = log.get(ROOT, "actions").unwrap().unwrap();
    let first = completion(Cycle::Number(2), 0, 0).key.encode();
    assert!(first.contains("/2/"), "{first}");
    let (_, stored) = log.get(&actions, first.as_str()).unwrap().unwrap();
    assert!(matches!(log.get(&stored, "cycle").unwrap(), Some((Value::Scalar(s), _)) if s.as_i64() == Some(2)));
    assert!(matches!(log.get(&stored, "routine").unwrap(), Some((Value::Scalar(_), _))));
    assert!(!matches!(log.get(&stored, "cycle").unwrap(), Some((Value::Object(ObjType::Map), _))));

    let mut personal = Personal { routines: schema::read_routines(&routines).unwrap(), ..Personal::default() };
    personal.absorb(&schema::read_log(&log).unwrap());
    let routine = personal.routines[&basic].clone();
    assert_eq!(personal.current_cycle(&routine), Cycle::Number(2));
    assert!(personal.routine_records.contains_key(&key), "cycle 1 was completed");
    assert_eq!(personal.done_in_cycle(&routine, Cycle::Number(2)).len(), 1);

    // Cycle 2 is finished on this build; the restart starts cycle 3 under an id, and it is current.
    for entry in 1..5 {
        personal.apply(&[Change::CompleteAction(completion(Cycle::Number(2), entry, MORNING + 700_000))]);
    }
    let fresh = FreshCycle { id: Uuid::from_u128(9), root: Uuid::from_u128(1), at_ms: MORNING + 800_000 };
    let restart = rules::plan_restart(&personal, basic, fresh).unwrap();
    for change in &restart {
        schema::write(if let Change::StartCycle { .. } = change { &mut routines } else { &mut log }, change).unwrap();
    }
    personal.apply(&restart);
    let read = schema::read_routines(&routines).unwrap();
    assert_eq!(read[&basic], personal.routines[&basic], "the new cycle reads back as written");
    assert_eq!(personal.current_cycle(&read[&basic]), Cycle::Id(fresh.id));
    assert_eq!(read[&basic].cycle_number(Cycle::Id(fresh.id)), 3);
}

#[test]
fn cached_completions_and_version_1_exports_with_numbered_cycles_still_parse() {
    let routine = PRESETS[0].id;
    let entry = PRESETS[0].entries[0].0;
    // The body a device's completion cache holds for a completion an older build wrote.
    let cached = format!(
        r#"{{"key":{{"routine":"{routine}","cycle":2,"entry":"{entry}"}},"action":"sit_stand","count":10,
        "moment":{{"at_ms":{MORNING},"offset_minutes":540,"date":"2025-03-03"}}}}"#
    );
    let read: ActionCompletion = serde_json::from_str(&cached).unwrap();
    assert_eq!(read.key.cycle, Cycle::Number(2));
    assert_eq!(
        serde_json::to_string(&read.key).unwrap(),
        format!(r#"{{"routine":"{routine}","cycle":2,"entry":"{entry}"}}"#)
    );
    let id = Uuid::from_u128(5);
    let new: CompletionKey =
        serde_json::from_str(&format!(r#"{{"routine":"{routine}","cycle":"{id}","entry":"{entry}"}}"#)).unwrap();
    assert_eq!(new.cycle, Cycle::Id(id));

    // An export of version 1: cycles as `"2": "restart"`.
    let mut file = serde_json::to_value(export::export(&Personal::default(), MORNING)).unwrap();
    file["version"] = 1.into();
    file["routines"] = serde_json::json!([{
        "id": routine, "name": "x", "preset": true, "entries": [], "created_at_ms": 0, "deleted": false,
        "cycles": {"2": "restart", "3": "reset"}
    }]);
    let parsed = export::parse(&file.to_string()).unwrap();
    let cycles: Vec<_> = parsed.routines[0].cycles.iter().map(|(c, i)| (*c, i.number, i.start)).collect();
    assert_eq!(cycles, [(Cycle::Number(2), 2, CycleStart::Restart), (Cycle::Number(3), 3, CycleStart::Reset)]);
    // This build writes version 2, with each cycle's number, start and instant.
    let written = serde_json::to_value(export::export(&Personal::default(), MORNING)).unwrap();
    assert_eq!(written["version"], 2);
}
