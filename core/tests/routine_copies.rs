//! A routine stored twice. A laptop restores an old export before it ever synced with the phone of
//! the same account, and the export holds a routine the phone has had all along: each device then
//! created the routine apart, and once they sync the routines document holds two copies of it
//! under one id. They read as one routine, what the phone did to it since the export stands
//! whichever copy Automerge happens to prefer, and an edit made afterwards reaches both copies.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use mingizuk_core::RuleError;
use mingizuk_core::automerge::transaction::{CommitOptions, Transactable};
use mingizuk_core::automerge::{ActorId, AutoCommit, ObjType, ROOT, ReadDoc};
use mingizuk_core::catalog::PRESETS;
use mingizuk_core::export::{self, Export};
use mingizuk_core::fold::Derived;
use mingizuk_core::model::{Entry, Moment, Personal, Routine, RoutineId};
use mingizuk_core::rules::{self, ActionPick, Change, FreshCycle};
use mingizuk_core::schema::{self, DocKind};
use uuid::Uuid;

#[path = "routine_copies/stored.rs"]
mod stored;
use stored::{PLAYED_AND_RESTARTED, starts, stored_copies};

/// 2026-11-02 09:00 in Seoul (UTC+9).
const MONDAY_9AM_KST: i64 = 1_793_577_600_000;
const KST: i32 = 9 * 60;
const HOUR: i64 = 3_600_000;

fn picks(list: &[(&str, u8)]) -> Vec<ActionPick> {
    list.iter().map(|(action, count)| ActionPick { action: (*action).to_owned(), count: *count }).collect()
}

/// One device of the account: its documents, and its data as the rules change it in memory.
struct Device {
    actor: ActorId,
    docs: BTreeMap<DocKind, AutoCommit>,
    personal: Personal,
    now_ms: i64,
    next_id: u128,
}

impl Device {
    /// A device that has just opened the app; `actor` orders its writes against the others'.
    fn new(actor: u8) -> Device {
        let actor = ActorId::from(&[actor; 16][..]);
        let docs = [DocKind::Account, DocKind::Routines].map(|kind| (kind, schema::genesis(kind, &actor))).into();
        let next_id = u128::from(actor.to_bytes()[0]) << 64;
        let mut device = Device { actor, docs, personal: Personal::default(), now_ms: MONDAY_9AM_KST, next_id };
        device.personal = device.read();
        device
    }

    fn routines_doc(&self) -> &AutoCommit {
        &self.docs[&DocKind::Routines]
    }

    /// The personal data, read from the documents alone.
    fn read(&self) -> Personal {
        let mut personal = Personal {
            account: schema::read_account(&self.docs[&DocKind::Account]).unwrap(),
            routines: schema::read_routines(self.routines_doc()).unwrap(),
            ..Personal::default()
        };
        for (kind, doc) in &self.docs {
            if let DocKind::Log(_) = kind {
                personal.absorb(&schema::read_log(doc).unwrap());
            }
        }
        personal
    }

    /// Writes what a rule planned to the documents and applies it in memory: the two agree.
    fn write(&mut self, planned: Result<Vec<Change>, RuleError>) {
        let changes = planned.unwrap();
        for change in &changes {
            let kind = schema::target(change);
            let doc = self.docs.entry(kind).or_insert_with(|| schema::genesis(kind, &self.actor));
            schema::write(doc, change).unwrap();
        }
        for doc in self.docs.values_mut() {
            doc.commit_with(CommitOptions::default().with_time(self.now_ms / 1000));
        }
        self.personal.apply(&changes);
        assert_eq!(self.personal, self.read(), "{changes:?} applied in memory differs from the documents read back");
        self.now_ms += HOUR;
    }

    /// Receives every document of `other`.
    fn receive(&mut self, other: &mut Device) {
        for (kind, theirs) in &mut other.docs {
            let mine = self.docs.entry(*kind).or_insert_with(|| schema::genesis(*kind, &self.actor));
            mine.merge(theirs).unwrap();
        }
        self.personal = self.read();
        self.now_ms = self.now_ms.max(other.now_ms);
    }

    fn fresh(&mut self) -> FreshCycle {
        self.next_id += 1;
        FreshCycle { id: Uuid::from_u128(self.next_id), root: Uuid::from_u128(0xacc), at_ms: self.now_ms }
    }

    fn draw(&mut self) {
        self.next_id += 1;
        let planned = rules::plan_draw(&Derived::of(&self.personal), Uuid::from_u128(self.next_id), self.now_ms, 0);
        self.write(planned);
    }

    fn create(&mut self, name: &str, list: &[(&str, u8)]) -> RoutineId {
        self.next_id += 1;
        let id = Uuid::from_u128(self.next_id);
        let next_id = &mut self.next_id;
        let mut new_id = || {
            *next_id += 1;
            Uuid::from_u128(*next_id)
        };
        let planned = rules::plan_create_routine(&self.personal, id, name, &picks(list), &mut new_id, self.now_ms);
        self.write(planned);
        id
    }

    fn edit(&mut self, id: RoutineId, name: &str, list: &[(&str, u8)]) {
        let next_id = &mut self.next_id;
        let mut new_id = || {
            *next_id += 1;
            Uuid::from_u128(*next_id)
        };
        let planned = rules::plan_edit_routine(&self.personal, id, name, &picks(list), &mut new_id);
        self.write(planned);
    }

    /// Does every action of the routine's current cycle, then starts the next cycle.
    fn play_and_restart(&mut self, id: RoutineId) {
        loop {
            let routine = self.personal.routines[&id].clone();
            let done = self.personal.done_in_cycle(&routine, self.personal.current_cycle(&routine));
            let Some(entry) = routine.entries.iter().find(|e| !done.contains(&e.id)) else { break };
            let moment = Moment::new(self.now_ms, KST).unwrap();
            let fresh = self.fresh();
            let planned =
                rules::plan_complete_action(&self.personal, &Derived::of(&self.personal), id, entry.id, moment, fresh);
            self.write(planned);
        }
        let fresh = self.fresh();
        let planned = rules::plan_restart(&self.personal, id, fresh);
        self.write(planned);
    }

    fn delete(&mut self, id: RoutineId) {
        let planned = rules::plan_delete_routine(&self.personal, id);
        self.write(planned);
    }

    fn export(&self) -> Export {
        export::export(&self.personal, self.now_ms)
    }

    fn import(&mut self, file: &Export) {
        let plan = export::plan_import_at(&self.personal, file, self.now_ms).unwrap();
        self.write(Ok(plan.changes));
    }
}

/// A routine's copy as the document stores it.
/// The two orders in which Automerge may prefer one device's writes over the other's (by actor,
/// between writes made at the same point of the document's history), and the two orders in which
/// the devices may receive each other's documents.
const ORDERS: [(u8, u8, bool); 4] = [(1, 2, true), (1, 2, false), (2, 1, true), (2, 1, false)];

fn sync(phone: &mut Device, laptop: &mut Device, laptop_first: bool) {
    if laptop_first {
        laptop.receive(phone);
        phone.receive(laptop);
    } else {
        phone.receive(laptop);
        laptop.receive(phone);
    }
    assert_eq!(phone.personal, laptop.personal, "the two devices read the same documents alike");
}

#[test]
fn what_the_phone_did_after_the_export_survives_the_laptop_restoring_it() {
    let mut the_import_was_preferred = Vec::new();
    for (phone_actor, laptop_actor, laptop_first) in ORDERS {
        let mut phone = Device::new(phone_actor);
        phone.draw();
        let id = phone.create("아침", &[("squat", 10)]);
        let file = phone.export();
        // Since the export the phone played the routine, started its next cycle, changed it
        // and deleted it.
        phone.play_and_restart(id);
        phone.edit(id, "저녁 운동", &[("squat", 20)]);
        let entries = phone.personal.routines[&id].entries.clone();
        phone.delete(id);

        // The laptop restores the export before it ever syncs: it has the routine as it was.
        let mut laptop = Device::new(laptop_actor);
        laptop.now_ms = phone.now_ms;
        laptop.import(&file);
        assert!(laptop.personal.live_routines().any(|r| r.id == id && r.name == "아침"));

        sync(&mut phone, &mut laptop, laptop_first);
        let copies = stored_copies(laptop.routines_doc(), id);
        assert_eq!(copies.len(), 2, "each device created the routine");
        the_import_was_preferred.push(copies[1].name.as_deref() == Some("아침"));

        let orders = format!("phone actor {phone_actor}, laptop actor {laptop_actor}, laptop first: {laptop_first}");
        for device in [&phone, &laptop] {
            let routine = &device.personal.routines[&id];
            assert!(routine.deleted, "{orders}: the phone deleted the routine");
            assert!(device.personal.live_routines().all(|r| r.id != id), "{orders}");
            assert_eq!(starts(routine), PLAYED_AND_RESTARTED, "{orders}: the phone's cycle");
            assert_eq!(device.personal.current_number(routine), 2, "{orders}");
            assert_eq!(routine.name, "저녁 운동", "{orders}: the phone's name");
            assert_eq!(routine.entries, entries, "{orders}: the phone's actions");
        }
    }
    // Automerge preferred the laptop's copy in some of these orders and the phone's in others.
    assert!(the_import_was_preferred.contains(&true), "{the_import_was_preferred:?}");
    assert!(the_import_was_preferred.contains(&false), "{the_import_was_preferred:?}");
}

#[test]
fn an_edit_made_after_the_devices_synced_reaches_every_copy() {
    for (phone_actor, laptop_actor, laptop_first) in ORDERS {
        let orders = format!("phone actor {phone_actor}, laptop actor {laptop_actor}, laptop first: {laptop_first}");
        let mut phone = Device::new(phone_actor);
        phone.draw();
        let id = phone.create("아침", &[("squat", 10), ("lunge", 10)]);
        let file = phone.export();
        phone.edit(id, "아침 운동", &[("squat", 10), ("lunge", 10)]);
        let mut laptop = Device::new(laptop_actor);
        laptop.now_ms = phone.now_ms;
        laptop.import(&file);
        sync(&mut phone, &mut laptop, laptop_first);
        assert_eq!(laptop.personal.routines[&id].name, "아침 운동", "{orders}: the phone renamed it since the export");

        // The laptop changes the routine: every copy takes the change, and reads it back.
        laptop.edit(id, "점심", &[("squat", 15), ("lunge", 10)]);
        let entries: Vec<String> = laptop.personal.routines[&id].entries.iter().map(|e| e.id.to_string()).collect();
        for copy in stored_copies(laptop.routines_doc(), id) {
            assert_eq!(copy.name.as_deref(), Some("점심"), "{orders}");
            assert_eq!(copy.entries, entries, "{orders}");
        }
        laptop.play_and_restart(id);
        for copy in stored_copies(laptop.routines_doc(), id) {
            let mut starts: Vec<&str> = copy.cycles.values().map(String::as_str).collect();
            starts.sort_unstable();
            assert_eq!(starts, ["first", "restart"], "{orders}");
        }
        assert_eq!(laptop.personal.current_number(&laptop.personal.routines[&id]), 2, "{orders}");
        laptop.delete(id);
        let copies = stored_copies(laptop.routines_doc(), id);
        assert_eq!(copies.len(), 2, "{orders}");
        assert!(copies.iter().all(|c| c.deleted == Some(true)), "{orders}");

        // The phone receives it all and reads the same routine.
        phone.receive(&mut laptop);
        let routine = &phone.personal.routines[&id];
        assert_eq!((routine.name.as_str(), routine.deleted), ("점심", true), "{orders}");
        assert_eq!(starts(routine), PLAYED_AND_RESTARTED, "{orders}");
        assert_eq!(phone.personal, laptop.personal, "{orders}");
    }
}

#[test]
fn an_edit_the_restoring_device_made_before_it_synced_stands_against_a_copy_left_as_it_was() {
    for (phone_actor, laptop_actor, laptop_first) in ORDERS {
        let orders = format!("phone actor {phone_actor}, laptop actor {laptop_actor}, laptop first: {laptop_first}");
        let mut phone = Device::new(phone_actor);
        phone.draw();
        let id = phone.create("아침", &[("squat", 10)]);
        let file = phone.export();
        // The laptop restores the export and changes the routine before it ever syncs; the
        // phone leaves its copy as it was.
        let mut laptop = Device::new(laptop_actor);
        laptop.now_ms = phone.now_ms;
        laptop.import(&file);
        laptop.edit(id, "밤 운동", &[("squat", 30)]);
        let entries = laptop.personal.routines[&id].entries.clone();

        sync(&mut phone, &mut laptop, laptop_first);
        for device in [&phone, &laptop] {
            let routine = &device.personal.routines[&id];
            assert_eq!((routine.name.as_str(), &routine.entries), ("밤 운동", &entries), "{orders}: the laptop's edit");
        }
    }
}

#[test]
fn a_routine_stored_once_reads_as_it_was_written() {
    // The presets, as every device starts with them.
    let device = Device::new(1);
    for preset in &PRESETS {
        let entries =
            preset.entries.iter().map(|(id, action, count)| Entry { id: *id, action: (*action).into(), count: *count });
        let expected = Routine {
            id: preset.id,
            name: preset.name_ko.into(),
            preset: true,
            entries: entries.collect(),
            created_at_ms: 0,
            deleted: false,
            cycles: BTreeMap::new(),
        };
        assert_eq!(device.personal.routines[&preset.id], expected);
    }

    // A routine made, played and changed on one device.
    let mut phone = Device::new(1);
    phone.draw();
    let created_at_ms = phone.now_ms;
    let id = phone.create("아침", &[("squat", 10), ("lunge", 12)]);
    let squat = phone.personal.routines[&id].entries[0].clone();
    phone.play_and_restart(id);
    phone.edit(id, "아침 운동", &[("squat", 10), ("plank", 30)]);
    let read = schema::read_routines(phone.routines_doc()).unwrap();
    assert_eq!(stored_copies(phone.routines_doc(), id).len(), 1);
    let plank = read[&id].entries[1].clone();
    assert_eq!((plank.action.as_str(), plank.count), ("plank", 30));
    let cycles = read[&id].cycles.clone();
    assert_eq!(starts(&read[&id]), PLAYED_AND_RESTARTED);
    assert_eq!(
        read[&id],
        Routine {
            id,
            name: "아침 운동".into(),
            preset: false,
            entries: vec![squat, plank],
            created_at_ms,
            deleted: false,
            cycles
        }
    );

    // The same routine restored on a device that never had it reads as the export holds it.
    let file = phone.export();
    let mut laptop = Device::new(2);
    laptop.now_ms = phone.now_ms;
    laptop.import(&file);
    assert_eq!(stored_copies(laptop.routines_doc(), id).len(), 1);
    assert_eq!(schema::read_routines(laptop.routines_doc()).unwrap()[&id], read[&id]);
}

#[test]
fn a_damaged_copy_neither_fails_the_read_nor_hides_the_whole_one() {
    for other_actor in [0_u8, 0xfe] {
        let mut phone = Device::new(1);
        let id = phone.create("아침", &[("squat", 10)]);
        let before = phone.personal.routines[&id].clone();
        // Another writer (damage, or an app that stores routines otherwise) wrote a copy of the
        // routine with no name, no cycles and no readable action list.
        let mut other = schema::genesis(DocKind::Routines, &ActorId::from(&[other_actor; 16][..]));
        let Some((_, routines)) = other.get(ROOT, "routines").unwrap() else { panic!() };
        let copy = other.put_object(&routines, id.to_string(), ObjType::Map).unwrap();
        other.put(&copy, "entries", "squat×10").unwrap();
        other.put(&copy, "deleted", false).unwrap();
        other.commit();
        phone.docs.get_mut(&DocKind::Routines).unwrap().merge(&mut other).unwrap();
        phone.personal = phone.read();
        assert_eq!(stored_copies(phone.routines_doc(), id).len(), 2);
        assert_eq!(phone.personal.routines[&id], before, "other actor {other_actor}");

        // The routine stays playable and editable, and every copy takes the edit.
        phone.draw();
        phone.play_and_restart(id);
        phone.edit(id, "아침 운동", &[("squat", 10), ("lunge", 10)]);
        assert!(stored_copies(phone.routines_doc(), id).iter().all(|c| c.name.as_deref() == Some("아침 운동")));
        assert_eq!(starts(&phone.personal.routines[&id]), PLAYED_AND_RESTARTED);
    }
}
