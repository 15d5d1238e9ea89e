//! One account on three devices. Each device holds the account's Automerge documents (account,
//! routines, a log per month), changes them offline through the rules, and exchanges them with
//! the others now and then, in every way the app may: a merge, a saved document loaded
//! incrementally, the sync protocol; some documents at a time or all of them. Whatever happens,
//! every rule's invariant holds on every device after every step, a local change applied in
//! memory equals the documents read back, and once everything has been exchanged the devices hold
//! identical documents, identical derived state and identical history views.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, NaiveDate};
use mingizuk_core::RuleError;
use mingizuk_core::automerge::sync::{self, SyncDoc};
use mingizuk_core::automerge::transaction::CommitOptions;
use mingizuk_core::automerge::{ActorId, AutoCommit, ChangeHash};
use mingizuk_core::catalog::{self, Character, PRESETS};
use mingizuk_core::fold::{self, Derived, Event};
use mingizuk_core::history::{self, ChartMode, MonthGrid, Streaks, WeekPage};
use mingizuk_core::limits::{
    CHARACTER_COMPLETE_EXP, DAILY_EXP_CAP, EXP_PER_ACTION, ROUTINE_MAX_ACTIONS, ROUTINE_NAME_MAX_CHARS,
};
use mingizuk_core::model::{
    Account, CompletionKey, CycleStart, EntryId, Log, Moment, Personal, Routine, RoutineCompletion, RoutineId,
};
use mingizuk_core::rules::{self, ActionPick, Change};
use mingizuk_core::schema::{self, DocKind, Month};
use proptest::prelude::*;
use uuid::Uuid;

/// UTC offsets the devices travel between, in minutes: Honolulu to Kiritimati.
const OFFSETS: [i32; 10] = [-600, -480, -300, -180, 0, 60, 330, 540, 600, 840];
const KST: i32 = 540;

/// 2025-01-30 12:00 UTC: close to the end of a month, so that histories cross into the next.
fn base_ms() -> i64 {
    NaiveDate::from_ymd_opt(2025, 1, 30).unwrap().and_hms_opt(12, 0, 0).unwrap().and_utc().timestamp_millis()
}

fn id_of(seed: u64, replica: u8, n: u64) -> Uuid {
    Uuid::from_u64_pair(seed, (u64::from(replica) + 1) << 48 | n)
}

/// `schema::genesis`, built once per kind and copied: the genesis is the same document on every
/// device (see `replicas_created_apart_merge_field_by_field`), and building the routines' one
/// takes a millisecond, a third of a small case.
fn genesis(kind: DocKind, actor: &ActorId) -> AutoCommit {
    type Built = std::cell::RefCell<BTreeMap<DocKind, AutoCommit>>;
    thread_local! {
        static BUILT: Built = const { std::cell::RefCell::new(BTreeMap::new()) };
    }
    let build = || schema::genesis(kind, &ActorId::from(&[0xff; 16][..]));
    let mut doc = BUILT.with(|built| built.borrow_mut().entry(kind).or_insert_with(build).clone());
    doc.set_actor(actor.clone());
    doc
}

/// What one document holds, as read.
enum Parsed {
    Account(Account),
    Routines(BTreeMap<RoutineId, Routine>),
    Log(Log),
}

/// One device of the account.
struct Replica {
    index: u8,
    actor: ActorId,
    root: Uuid,
    seed: u64,
    next_id: u64,
    docs: BTreeMap<DocKind, AutoCommit>,
    parsed: BTreeMap<DocKind, (Vec<ChangeHash>, Parsed)>,
    /// Always what the documents say: re-read after every exchange, applied after every write.
    personal: Personal,
    now_ms: i64,
    offset: i32,
}

impl Replica {
    fn new(root: Uuid, seed: u64, index: u8, now_ms: i64, offset: i32) -> Replica {
        let mut actor = [0_u8; 16];
        actor[..8].copy_from_slice(&seed.to_be_bytes());
        actor[8] = index + 1;
        actor[9..].copy_from_slice(b"replica");
        let mut replica = Replica {
            index,
            actor: ActorId::from(&actor[..]),
            root,
            seed,
            next_id: 0,
            docs: BTreeMap::new(),
            parsed: BTreeMap::new(),
            personal: Personal::default(),
            now_ms,
            offset,
        };
        replica.ensure(DocKind::Account);
        replica.ensure(DocKind::Routines);
        let today = replica.moment().date;
        let device = format!("device-{index}");
        schema::record_start(replica.docs.get_mut(&DocKind::Account).unwrap(), &device, today).unwrap();
        replica.commit();
        replica.personal = replica.read();
        replica
    }

    fn moment(&self) -> Moment {
        Moment::new(self.now_ms, self.offset).unwrap()
    }

    fn tick(&mut self, minutes: i64) {
        self.now_ms += minutes * 60_000;
    }

    /// The document of this kind, created from its genesis when the device has none yet, and
    /// listed in the account root.
    fn ensure(&mut self, kind: DocKind) {
        if self.docs.contains_key(&kind) {
            return;
        }
        self.docs.insert(kind, genesis(kind, &self.actor));
        let account = self.docs.get_mut(&DocKind::Account).expect("the account document comes first");
        schema::register_doc(account, self.root, kind).unwrap();
    }

    fn commit(&mut self) {
        let time = self.now_ms / 1000;
        for doc in self.docs.values_mut() {
            doc.commit_with(CommitOptions::default().with_time(time));
        }
    }

    /// The personal data, read from the documents alone. Each document is parsed again only when
    /// its heads moved: reading is a function of a document's changes, which its heads name.
    fn read(&mut self) -> Personal {
        let mut personal = Personal::default();
        for (kind, doc) in &mut self.docs {
            let heads = doc.get_heads();
            let cached = self.parsed.get(kind).filter(|(h, _)| *h == heads);
            if cached.is_none() {
                schema::check_kind(doc, *kind).unwrap();
                let parsed = match kind {
                    DocKind::Account => Parsed::Account(schema::read_account(doc).unwrap()),
                    DocKind::Routines => Parsed::Routines(schema::read_routines(doc).unwrap()),
                    DocKind::Log(_) => Parsed::Log(schema::read_log(doc).unwrap()),
                };
                self.parsed.insert(*kind, (heads, parsed));
            }
            match &self.parsed[kind].1 {
                Parsed::Account(account) => personal.account = account.clone(),
                Parsed::Routines(routines) => personal.routines = routines.clone(),
                Parsed::Log(log) => personal.absorb(log),
            }
        }
        personal
    }

    /// `read` without the cache.
    fn read_uncached(&self) -> Personal {
        let mut personal = Personal {
            account: schema::read_account(&self.docs[&DocKind::Account]).unwrap(),
            routines: schema::read_routines(&self.docs[&DocKind::Routines]).unwrap(),
            ..Personal::default()
        };
        for (kind, doc) in &self.docs {
            schema::check_kind(doc, *kind).unwrap();
            if let DocKind::Log(_) = kind {
                personal.absorb(&schema::read_log(doc).unwrap());
            }
        }
        personal
    }

    /// Writes changes to their documents, commits, and applies them in memory.
    fn write_unchecked(&mut self, changes: &[Change]) {
        let mut touched = BTreeSet::from([DocKind::Account]);
        for change in changes {
            let kind = schema::target(change);
            self.ensure(kind);
            schema::write(self.docs.get_mut(&kind).unwrap(), change).unwrap();
            touched.insert(kind);
        }
        let time = self.now_ms / 1000;
        for kind in touched {
            self.docs.get_mut(&kind).unwrap().commit_with(CommitOptions::default().with_time(time));
        }
        self.personal.apply(changes);
    }

    /// `write_unchecked`, then: what `Personal::apply` made equals reading the documents back.
    fn write(&mut self, changes: &[Change]) {
        self.write_unchecked(changes);
        self.check_read(changes);
    }

    fn check_read(&mut self, changes: &[Change]) {
        let read = self.read();
        let what =
            || format!("device {}: applying {changes:?} in memory differs from reading the documents back", self.index);
        assert_eq!(self.personal.account, read.account, "{}: account", what());
        assert_eq!(self.personal.routines, read.routines, "{}: routines", what());
        assert_eq!(self.personal.actions, read.actions, "{}: action completions", what());
        assert_eq!(self.personal.routine_records, read.routine_records, "{}: routine completions", what());
        assert_eq!(self.personal, read, "{}", what());
    }

    /// Writes what a rule planned, or checks that its refusal is one of `allowed`.
    fn outcome(&mut self, planned: Result<Vec<Change>, RuleError>, allowed: &[&str]) -> Option<Vec<Change>> {
        match planned {
            Ok(changes) => {
                self.write(&changes);
                Some(changes)
            }
            Err(e) => {
                assert!(allowed.contains(&e.code()), "device {}: unexpected refusal {e:?}", self.index);
                None
            }
        }
    }

    /// Every routine the device knows, deleted and presets included, in id order: the same list
    /// on devices that know the same routines.
    fn routine(&self, pick: u8) -> Routine {
        let all: Vec<&Routine> = self.personal.routines.values().collect();
        all[usize::from(pick) % all.len()].clone()
    }

    fn create(&mut self, name: &str, picks: &[ActionPick]) -> Result<RoutineId, RuleError> {
        self.next_id += 1;
        let id = id_of(self.seed, self.index, self.next_id);
        let (seed, index, next_id) = (self.seed, self.index, &mut self.next_id);
        let mut new_id = || {
            *next_id += 1;
            id_of(seed, index, *next_id)
        };
        let planned = rules::plan_create_routine(&self.personal, id, name, picks, &mut new_id, self.now_ms);
        let changes = planned?;
        self.write(&changes);
        Ok(id)
    }

    fn edit(&mut self, id: RoutineId, name: &str, picks: &[ActionPick]) -> Result<Vec<Change>, RuleError> {
        let (seed, index, next_id) = (self.seed, self.index, &mut self.next_id);
        let mut new_id = || {
            *next_id += 1;
            id_of(seed, index, *next_id)
        };
        let changes = rules::plan_edit_routine(&self.personal, id, name, picks, &mut new_id)?;
        self.write(&changes);
        Ok(changes)
    }

    fn draw(&mut self, roll: u32) -> Result<Character, RuleError> {
        self.next_id += 1;
        let id = id_of(self.seed, self.index, self.next_id);
        let changes = rules::plan_draw(&Derived::of(&self.personal), id, self.now_ms, roll)?;
        self.write(&changes);
        match changes.as_slice() {
            [Change::Draw(d)] => Ok(d.character),
            other => panic!("a draw plans one draw, got {other:?}"),
        }
    }

    fn undone(&self, routine: &Routine) -> Option<EntryId> {
        let done = self.personal.done_in_cycle(routine, routine.current_cycle());
        routine.entries.iter().find(|e| !done.contains(&e.id)).map(|e| e.id)
    }

    /// Restarts the routine while its cycle is complete, then completes its first entry not
    /// done. (A device that received another's log but not its routines may restart into a
    /// cycle that is already complete.) Checks `apply` against the documents only when `check`.
    fn play_on(&mut self, id: RoutineId, derived: &Derived, check: bool) -> Result<Vec<Change>, RuleError> {
        let mut changes = Vec::new();
        loop {
            let routine = self.personal.routines[&id].clone();
            if !self.personal.cycle_complete(&routine, routine.current_cycle()) {
                break;
            }
            let restart = rules::plan_restart(&self.personal, id)?;
            self.write_unchecked(&restart);
            changes.extend(restart);
        }
        let routine = self.personal.routines[&id].clone();
        let entry = self.undone(&routine).expect("an incomplete cycle has an entry not done");
        let completed = rules::plan_complete_action(&self.personal, derived, id, entry, self.moment())?;
        self.write_unchecked(&completed);
        changes.extend(completed);
        if check {
            self.check_read(&changes);
        }
        Ok(changes)
    }

    /// Performs one user action, checking the rules' answer against what the data says.
    fn act(&mut self, op: &Op) {
        self.tick(1);
        match op {
            Op::Create { name, picks } => {
                let allowed = PICK_ERRORS.iter().chain(NAME_ERRORS).copied().collect::<Vec<_>>();
                let picks = picks_of(picks);
                match self.create(&name_of(*name), &picks) {
                    Ok(id) => {
                        let routine = &self.personal.routines[&id];
                        assert_eq!(routine.name, name_of(*name).trim());
                        assert_eq!(picks_of_routine(routine), picks);
                    }
                    Err(e) => assert!(allowed.contains(&e.code()), "unexpected refusal {e:?}"),
                }
            }
            Op::Edit { routine, name, picks } => {
                let routine = self.routine(*routine);
                let picks = picks_of(picks);
                let allowed = PICK_ERRORS
                    .iter()
                    .chain(NAME_ERRORS)
                    .chain(&["routine_deleted", "preset_read_only"])
                    .copied()
                    .collect::<Vec<_>>();
                match self.edit(routine.id, &name_of(*name), &picks) {
                    Ok(_) => {
                        let edited = &self.personal.routines[&routine.id];
                        assert_eq!(picks_of_routine(edited), picks);
                        // An unchanged entry keeps its id (and its completion); any other is new.
                        for entry in &edited.entries {
                            match routine.entries.iter().find(|e| e.action == entry.action && e.count == entry.count) {
                                Some(old) => assert_eq!(entry.id, old.id, "{entry:?} is unchanged"),
                                None => assert!(routine.entries.iter().all(|e| e.id != entry.id), "{entry:?} is new"),
                            }
                        }
                    }
                    Err(e) => assert!(allowed.contains(&e.code()), "unexpected refusal {e:?}"),
                }
            }
            Op::Delete { routine } => {
                let id = self.routine(*routine).id;
                let planned = rules::plan_delete_routine(&self.personal, id);
                if self.outcome(planned, &["routine_deleted", "preset_read_only"]).is_some() {
                    assert!(self.personal.routines[&id].deleted);
                    assert_ne!(self.personal.account.main_routine, Some(id));
                }
            }
            Op::SetMain { routine } => {
                let id = routine.map(|r| self.routine(r).id);
                let planned = rules::plan_set_main(&self.personal, id);
                if self.outcome(planned, &["routine_deleted"]).is_some() {
                    assert_eq!(self.personal.account.main_routine, id);
                }
            }
            Op::Complete { routine, entry } => {
                let routine = self.routine(*routine);
                let entry = routine.entries[usize::from(*entry) % routine.entries.len()].id;
                self.complete(&routine, entry);
            }
            Op::Binge { routine, actions } => {
                // The documents are read back once, after the whole binge.
                let id = self.routine(*routine).id;
                let mut all = Vec::new();
                for _ in 0..*actions {
                    if self.personal.routines[&id].deleted {
                        break;
                    }
                    self.tick(1);
                    let derived = Derived::of(&self.personal);
                    match self.play_on(id, &derived, false) {
                        Ok(changes) => all.extend(changes),
                        // Asked for a character, the user draws one and goes on.
                        Err(RuleError::NeedCharacter) => {
                            self.check_read(&all);
                            all.clear();
                            self.draw(u32::from(*actions)).unwrap();
                        }
                        Err(e) => panic!("device {}: playing on was refused: {e:?}", self.index),
                    }
                }
                self.check_read(&all);
            }
            Op::Restart { routine } => {
                let routine = self.routine(*routine);
                let complete = self.personal.cycle_complete(&routine, routine.current_cycle());
                let planned = rules::plan_restart(&self.personal, routine.id);
                match (&planned, routine.deleted, complete) {
                    (Err(RuleError::RoutineDeleted), true, _) | (Err(RuleError::CycleNotComplete), false, false) => {}
                    (Ok(_), false, true) => {
                        self.write(&planned.unwrap());
                        let after = &self.personal.routines[&routine.id];
                        assert_eq!(after.current_cycle(), routine.current_cycle() + 1);
                        assert_eq!(after.cycles[&after.current_cycle()], CycleStart::Restart);
                        assert!(
                            self.personal.cycle_complete(after, routine.current_cycle()),
                            "the finished cycle is recorded"
                        );
                    }
                    other => panic!("device {}: restart {other:?}", self.index),
                }
            }
            Op::Reset { routine } => {
                let routine = self.routine(*routine);
                let cycle = routine.current_cycle();
                let untouched = self.personal.done_in_cycle(&routine, cycle).is_empty()
                    && !self.personal.cycle_complete(&routine, cycle);
                let planned = rules::plan_reset(&self.personal, routine.id);
                match (planned, routine.deleted) {
                    (Err(RuleError::RoutineDeleted), true) => {}
                    (Ok(changes), false) => {
                        assert_eq!(changes.is_empty(), untouched);
                        self.write(&changes);
                        let expected = if untouched { cycle } else { cycle + 1 };
                        assert_eq!(self.personal.routines[&routine.id].current_cycle(), expected);
                    }
                    other => panic!("device {}: reset {other:?}", self.index),
                }
            }
            Op::Draw { roll } => {
                let before = Derived::of(&self.personal);
                match (self.draw(*roll), before.growing) {
                    (Err(RuleError::CharacterGrowing), Some(_)) => {}
                    (Err(RuleError::CollectionComplete), None) => assert!(before.drawable().is_empty()),
                    (Ok(character), None) => {
                        assert!(!before.collected(character), "only characters not collected are drawn");
                        let after = Derived::of(&self.personal);
                        assert_eq!(after.growing.map(|g| g.character), Some(character));
                    }
                    other => panic!("device {}: draw {other:?}", self.index),
                }
            }
            Op::Wait { minutes } => self.tick(i64::from(*minutes)),
            Op::Travel { offset } => self.offset = OFFSETS[*offset % OFFSETS.len()],
        }
    }

    fn complete(&mut self, routine: &Routine, entry: EntryId) {
        let derived = Derived::of(&self.personal);
        let cycle = routine.current_cycle();
        let key = CompletionKey { routine: routine.id, cycle, entry };
        let done = self.personal.actions.contains_key(&key) || self.personal.cycle_complete(routine, cycle);
        let needs_character = derived.growing.is_none() && !derived.drawable().is_empty();
        let planned = rules::plan_complete_action(&self.personal, &derived, routine.id, entry, self.moment());
        match (planned, routine.deleted, needs_character, done) {
            (Err(RuleError::RoutineDeleted), true, _, _)
            | (Err(RuleError::NeedCharacter), false, true, _)
            | (Err(RuleError::AlreadyCompleted), false, false, true) => {}
            (Ok(changes), false, false, false) => {
                self.write(&changes);
                assert_eq!(self.personal.actions[&key].moment, self.moment());
                let last = routine.entries.iter().all(|e| {
                    e.id == entry
                        || self.personal.actions.contains_key(&CompletionKey {
                            routine: routine.id,
                            cycle,
                            entry: e.id,
                        })
                });
                assert_eq!(changes.len(), if last { 2 } else { 1 }, "the last action of a cycle records the routine");
            }
            other => panic!("device {}: complete {other:?}", self.index),
        }
    }
}

const NAME_ERRORS: &[&str] = &["routine_name_empty", "routine_name_too_long", "routine_name_taken"];
const PICK_ERRORS: &[&str] = &[
    "routine_no_actions",
    "routine_too_many_actions",
    "action_count_out_of_range",
    "unknown_action",
    "duplicate_action",
];

fn name_of(n: u8) -> String {
    match n % 10 {
        0 => "아침".into(),
        1 => "저녁".into(),
        2 => " 아침 ".into(),
        3 => "출근 전 스트레칭".into(),
        4 => "Morning".into(),
        5 => String::new(),
        6 => "   ".into(),
        7 => "가".repeat(ROUTINE_NAME_MAX_CHARS),
        8 => "나".repeat(ROUTINE_NAME_MAX_CHARS + 1),
        _ => PRESETS[0].name_ko.into(),
    }
}

fn picks_of(picks: &[(u8, u8)]) -> Vec<ActionPick> {
    picks
        .iter()
        .map(|(action, count)| ActionPick {
            action: catalog::ACTIONS.get(usize::from(*action)).map_or("moonwalk", |a| a.id).to_owned(),
            count: *count,
        })
        .collect()
}

fn picks_of_routine(routine: &Routine) -> Vec<ActionPick> {
    routine.entries.iter().map(|e| ActionPick { action: e.action.clone(), count: e.count }).collect()
}

/// Sends documents from one device to another: `docs` picks the account (1), the routines (2)
/// and the logs (4); `mode` merges (0), loads what the sender saved (1: the whole document, or the
/// changes after the receiver's heads), or runs the sync protocol both ways (2).
fn exchange(replicas: &mut [Replica], from: usize, to: usize, docs: u8, mode: u8) {
    assert_ne!(from, to);
    let (a, b) = if from < to {
        let (left, right) = replicas.split_at_mut(to);
        (&mut left[from], &mut right[0])
    } else {
        let (left, right) = replicas.split_at_mut(from);
        (&mut right[0], &mut left[to])
    };
    let chosen = |kind: &DocKind| match kind {
        DocKind::Account => docs & 1 != 0,
        DocKind::Routines => docs & 2 != 0,
        DocKind::Log(_) => docs & 4 != 0,
    };
    // A document both devices hold at the same heads has nothing to exchange.
    let same = |a: &mut Replica, b: &mut Replica, kind: DocKind| match (a.docs.get_mut(&kind), b.docs.get_mut(&kind)) {
        (Some(x), Some(y)) => heads(x) == heads(y),
        _ => false,
    };
    match mode % 3 {
        0 => {
            for kind in a.docs.keys().copied().filter(chosen).collect::<Vec<_>>() {
                if same(a, b, kind) {
                    continue;
                }
                b.ensure(kind);
                b.docs.get_mut(&kind).unwrap().merge(a.docs.get_mut(&kind).unwrap()).unwrap();
            }
        }
        1 => {
            for kind in a.docs.keys().copied().filter(chosen).collect::<Vec<_>>() {
                if same(a, b, kind) {
                    continue;
                }
                // The whole document to a device without it; else the changes after the
                // receiver's heads that the sender knows.
                let sender = a.docs.get_mut(&kind).unwrap();
                let bytes = match b.docs.get_mut(&kind) {
                    None => sender.save(),
                    Some(receiver) => {
                        let known: Vec<ChangeHash> =
                            heads(receiver).into_iter().filter(|h| sender.get_change_by_hash(h).is_some()).collect();
                        sender.save_after(&known)
                    }
                };
                b.ensure(kind);
                b.docs.get_mut(&kind).unwrap().load_incremental(&bytes).unwrap();
            }
        }
        _ => {
            let kinds: BTreeSet<DocKind> = a.docs.keys().chain(b.docs.keys()).copied().filter(chosen).collect();
            for kind in kinds {
                if same(a, b, kind) {
                    continue;
                }
                a.ensure(kind);
                b.ensure(kind);
                sync_docs(a.docs.get_mut(&kind).unwrap(), b.docs.get_mut(&kind).unwrap());
            }
        }
    }
    for replica in [a, b] {
        replica.commit();
        replica.personal = replica.read();
    }
}

/// Runs the automerge sync protocol between two documents until neither has more to say, with
/// every message encoded and decoded as on the wire.
fn sync_docs(a: &mut AutoCommit, b: &mut AutoCommit) {
    let (mut state_a, mut state_b) = (sync::State::new(), sync::State::new());
    for _ in 0..64 {
        let to_b = a.sync().generate_sync_message(&mut state_a);
        let to_a = b.sync().generate_sync_message(&mut state_b);
        if to_b.is_none() && to_a.is_none() {
            return;
        }
        if let Some(m) = to_b {
            b.sync().receive_sync_message(&mut state_b, sync::Message::decode(&m.encode()).unwrap()).unwrap();
        }
        if let Some(m) = to_a {
            a.sync().receive_sync_message(&mut state_a, sync::Message::decode(&m.encode()).unwrap()).unwrap();
        }
    }
    panic!("the sync protocol did not settle");
}

fn implied(personal: &Personal) -> Vec<RoutineCompletion> {
    personal.routines.values().filter_map(|r| personal.implied_routine_completion(r)).collect()
}

/// Every invariant of the rules on one device's data; returns the derived state.
fn check_invariants(who: &str, personal: &Personal) -> Derived {
    let derived = Derived::of(personal);
    let implied = implied(personal);

    // Each day's exp is its awards clamped once to the cap: all awards are positive, so clamping
    // each award that crosses the cap adds up to the same.
    let mut raw: BTreeMap<NaiveDate, (u32, u32, u32)> = BTreeMap::new();
    for a in personal.actions.values() {
        let day = raw.entry(a.moment.date).or_default();
        day.0 += 1;
        day.2 += EXP_PER_ACTION;
    }
    for r in personal.routine_records.values().chain(&implied) {
        let day = raw.entry(r.moment.date).or_default();
        day.1 += 1;
        day.2 += fold::routine_bonus(r.actions);
    }
    assert_eq!(derived.days.keys().collect::<Vec<_>>(), raw.keys().collect::<Vec<_>>(), "{who}: days");
    for (date, totals) in &derived.days {
        assert!(totals.exp <= DAILY_EXP_CAP, "{who}: {date} earned {} exp", totals.exp);
        let (actions, routines, exp) = raw[date];
        assert_eq!(
            (totals.actions, totals.routines, totals.exp),
            (actions, routines, exp.min(DAILY_EXP_CAP)),
            "{who}: {date}"
        );
    }
    assert_eq!(derived.total_exp, derived.days.values().map(|d| u64::from(d.exp)).sum::<u64>(), "{who}: total exp");
    assert_eq!(derived.action_totals.values().sum::<u32>() as usize, personal.actions.len(), "{who}: action totals");
    assert_eq!(
        derived.routine_totals.values().sum::<u32>() as usize,
        personal.routine_records.len() + implied.len(),
        "{who}: routine totals"
    );

    // Characters: at most one grows (an Option), below the completion exp, never one collected.
    let collected: BTreeSet<Character> = derived.collection.iter().map(|c| c.character).collect();
    assert_eq!(collected.len(), derived.collection.len(), "{who}: a character is collected once");
    let mut given = u64::from(CHARACTER_COMPLETE_EXP) * derived.collection.len() as u64;
    if let Some(growing) = derived.growing {
        assert!(growing.exp < CHARACTER_COMPLETE_EXP, "{who}: {growing:?}");
        assert!(!collected.contains(&growing.character), "{who}: {growing:?} is collected");
        assert!(
            personal.account.draws.iter().any(|d| d.character == growing.character && d.at_ms == growing.drawn_at_ms),
            "{who}: {growing:?} was drawn"
        );
        given += u64::from(growing.exp);
    }
    assert!(given <= derived.total_exp, "{who}: characters got more exp than was earned");

    // Completions: one per key, each with the local date of its instant and offset.
    for (key, completion) in &personal.actions {
        assert_eq!(*key, completion.key, "{who}");
        let m = completion.moment;
        assert_eq!(Moment::new(m.at_ms, m.offset_minutes), Some(m), "{who}: {completion:?}");
    }
    for (key, record) in &personal.routine_records {
        assert_eq!(*key, record.key, "{who}");
        assert!((1..=ROUTINE_MAX_ACTIONS).contains(&usize::from(record.actions)), "{who}: {record:?}");
    }

    // Routines, however merged: 1–5 distinct catalog actions counted 1–99, a trimmed name of
    // 1–30 characters (two devices may pick one name concurrently, so names may repeat).
    for routine in personal.live_routines() {
        rules::check_picks(&picks_of_routine(routine)).unwrap_or_else(|e| panic!("{who}: {routine:?}: {e}"));
        assert_eq!(routine.name.trim(), routine.name, "{who}");
        assert!((1..=ROUTINE_NAME_MAX_CHARS).contains(&routine.name.chars().count()), "{who}: {routine:?}");
        assert!(routine.current_cycle() >= 1);
    }
    let presets: Vec<_> =
        PRESETS.iter().map(|p| personal.routines.get(&p.id).map(|r| (r.preset, r.entries.len()))).collect();
    assert_eq!(presets, [Some((true, 5)), Some((true, 4))], "{who}: the presets are intact");
    derived
}

/// Everything the history screens show.
#[derive(Debug, PartialEq)]
struct Views {
    derived: Derived,
    start: NaiveDate,
    months: Vec<MonthGrid>,
    weeks: Vec<WeekPage>,
    streaks: Vec<Streaks>,
}

fn views(personal: &Personal, today: NaiveDate) -> Views {
    let derived = Derived::of(personal);
    let start = history::start_date(&derived, personal.account.started_on(), today);
    let last = derived.days.keys().next_back().copied().unwrap_or(today).max(today);
    let mut months = Vec::new();
    let mut month = Month::of(start);
    while month <= Month::of(last) {
        months.push(history::month_grid(&derived, month.year, month.month).unwrap());
        month = Month::of(NaiveDate::from_ymd_opt(month.year, month.month, 1).unwrap() + Days::new(31));
    }
    let current_week = history::week_page(&derived, start, today, 1, ChartMode::Actions).current_week;
    let weeks = (1..=current_week)
        .flat_map(|w| {
            [ChartMode::Actions, ChartMode::Routines].map(|m| history::week_page(&derived, start, today, w, m))
        })
        .collect();
    let streaks = [today, today.succ_opt().unwrap()].map(|d| history::streaks(&derived, d)).to_vec();
    Views { derived, start, months, weeks, streaks }
}

fn heads(doc: &mut AutoCommit) -> Vec<ChangeHash> {
    let mut heads = doc.get_heads();
    heads.sort();
    heads
}

fn converged(replicas: &mut [Replica]) -> bool {
    let kinds: Vec<Vec<DocKind>> = replicas.iter().map(|r| r.docs.keys().copied().collect()).collect();
    if kinds.iter().any(|k| *k != kinds[0]) {
        return false;
    }
    kinds[0].iter().all(|kind| {
        let all: Vec<_> = replicas.iter_mut().map(|r| heads(r.docs.get_mut(kind).unwrap())).collect();
        all.iter().all(|h| *h == all[0])
    })
}

/// A small deterministic generator for the parts of a case that need no shrinking.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[derive(Debug, Clone)]
enum Op {
    Create {
        name: u8,
        picks: Vec<(u8, u8)>,
    },
    Edit {
        routine: u8,
        name: u8,
        picks: Vec<(u8, u8)>,
    },
    Delete {
        routine: u8,
    },
    SetMain {
        routine: Option<u8>,
    },
    Complete {
        routine: u8,
        entry: u8,
    },
    /// Plays a routine on for several actions, restarting it whenever a cycle is complete and
    /// drawing a character when asked to.
    Binge {
        routine: u8,
        actions: u8,
    },
    Restart {
        routine: u8,
    },
    Reset {
        routine: u8,
    },
    Draw {
        roll: u32,
    },
    Wait {
        minutes: u32,
    },
    Travel {
        offset: usize,
    },
}

#[derive(Debug, Clone)]
enum Step {
    Local {
        replica: u8,
        op: Op,
    },
    /// Two devices act without exchanging in between: the same action done twice, concurrent
    /// restarts, draws, edits… `sync_first` lets them agree on the state first.
    Twin {
        a: u8,
        b: u8,
        sync_first: bool,
        op_a: Op,
        op_b: Op,
    },
    Exchange {
        from: u8,
        to: u8,
        docs: u8,
        mode: u8,
    },
}

#[derive(Debug, Clone)]
struct Case {
    seed: u64,
    /// Minutes each device's clock is ahead of the first base instant.
    skew: [i64; 3],
    offsets: [usize; 3],
    steps: Vec<Step>,
}

fn picks_strategy() -> impl Strategy<Value = Vec<(u8, u8)>> + Clone {
    // Index 18 is past the catalog: an unknown action. Counts 0 and 100 are out of range.
    let action = prop_oneof![20 => 0..18_u8, 1 => Just(18_u8)];
    let count = prop_oneof![20 => 1..=99_u8, 1 => Just(0_u8), 1 => Just(100_u8)];
    let pick = (action, count);
    prop_oneof![
        9 => prop::collection::vec(pick.clone(), 1..=5),
        1 => prop::collection::vec(pick, 0..=7),
    ]
}

fn minutes_strategy() -> impl Strategy<Value = u32> {
    prop_oneof![3 => 1..180_u32, 3 => 180..3_000_u32, 1 => 3_000..20_000_u32]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<u8>(), picks_strategy()).prop_map(|(name, picks)| Op::Create { name, picks }),
        2 => (any::<u8>(), any::<u8>(), picks_strategy()).prop_map(|(routine, name, picks)| Op::Edit { routine, name, picks }),
        1 => any::<u8>().prop_map(|routine| Op::Delete { routine }),
        1 => proptest::option::of(any::<u8>()).prop_map(|routine| Op::SetMain { routine }),
        8 => (any::<u8>(), any::<u8>()).prop_map(|(routine, entry)| Op::Complete { routine, entry }),
        3 => (any::<u8>(), 1..=10_u8).prop_map(|(routine, actions)| Op::Binge { routine, actions }),
        2 => any::<u8>().prop_map(|routine| Op::Restart { routine }),
        1 => any::<u8>().prop_map(|routine| Op::Reset { routine }),
        2 => any::<u32>().prop_map(|roll| Op::Draw { roll }),
        5 => minutes_strategy().prop_map(|minutes| Op::Wait { minutes }),
        1 => (0..OFFSETS.len()).prop_map(|offset| Op::Travel { offset }),
    ]
}

/// The hard cases, on purpose: two devices doing conflicting things to the same data.
fn twin_strategy() -> impl Strategy<Value = (Op, Op)> {
    use Op::*;
    prop_oneof![
        (any::<u8>(), any::<u8>())
            .prop_map(|(routine, entry)| (Complete { routine, entry }, Complete { routine, entry })),
        (any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(routine, e1, e2)| (Complete { routine, entry: e1 }, Complete { routine, entry: e2 })),
        (any::<u8>(), 1..=8_u8, 1..=8_u8)
            .prop_map(|(routine, x, y)| (Binge { routine, actions: x }, Binge { routine, actions: y })),
        any::<u8>().prop_map(|routine| (Restart { routine }, Restart { routine })),
        any::<u8>().prop_map(|routine| (Restart { routine }, Reset { routine })),
        (any::<u32>(), any::<u32>()).prop_map(|(x, y)| (Draw { roll: x }, Draw { roll: y })),
        (any::<u8>(), any::<u8>(), picks_strategy(), any::<u8>(), picks_strategy()).prop_map(
            |(routine, n1, p1, n2, p2)| (Edit { routine, name: n1, picks: p1 }, Edit { routine, name: n2, picks: p2 })
        ),
        (any::<u8>(), any::<u8>(), picks_strategy())
            .prop_map(|(routine, name, picks)| (Edit { routine, name, picks }, Delete { routine })),
        (any::<u8>(), any::<u8>(), picks_strategy(), any::<u8>())
            .prop_map(|(routine, name, picks, entry)| (Edit { routine, name, picks }, Complete { routine, entry })),
        (any::<u8>(), picks_strategy(), picks_strategy())
            .prop_map(|(name, p1, p2)| (Create { name, picks: p1 }, Create { name, picks: p2 })),
        (any::<u8>(), any::<u8>()).prop_map(|(x, y)| (SetMain { routine: Some(x) }, SetMain { routine: Some(y) })),
        any::<u8>().prop_map(|routine| (Delete { routine }, SetMain { routine: Some(routine) })),
    ]
}

fn step_strategy() -> impl Strategy<Value = Step> {
    prop_oneof![
        12 => (0..3_u8, op_strategy()).prop_map(|(replica, op)| Step::Local { replica, op }),
        3 => (0..3_u8, 1..3_u8, prop_oneof![3 => Just(true), 1 => Just(false)], twin_strategy())
            .prop_map(|(a, d, sync_first, (op_a, op_b))| Step::Twin { a, b: (a + d) % 3, sync_first, op_a, op_b }),
        5 => (0..3_u8, 1..3_u8, prop_oneof![3 => Just(7_u8), 1 => 1..7_u8], 0..3_u8)
            .prop_map(|(from, d, docs, mode)| Step::Exchange { from, to: (from + d) % 3, docs, mode }),
    ]
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (
        any::<u64>(),
        [0..4_320_i64, 0..4_320_i64, 0..4_320_i64],
        [0..OFFSETS.len(), 0..OFFSETS.len(), 0..OFFSETS.len()],
        prop::collection::vec(step_strategy(), 1..45),
    )
        .prop_map(|(seed, skew, offsets, steps)| Case { seed, skew, offsets, steps })
}

fn run(case: &Case) {
    let root = Uuid::from_u64_pair(case.seed, 0xACC0);
    let mut replicas: Vec<Replica> = (0..3)
        .map(|i| {
            let now = base_ms() + case.skew[i] * 60_000;
            Replica::new(root, case.seed, i as u8, now, OFFSETS[case.offsets[i]])
        })
        .collect();
    for r in &replicas {
        check_invariants("start", &r.personal);
    }

    for (n, step) in case.steps.iter().enumerate() {
        match step {
            Step::Local { replica, op } => {
                let r = &mut replicas[usize::from(*replica)];
                r.act(op);
                check_invariants(&format!("step {n}, device {replica}"), &r.personal);
            }
            Step::Twin { a, b, sync_first, op_a, op_b } => {
                let (a, b) = (usize::from(*a), usize::from(*b));
                if *sync_first {
                    exchange(&mut replicas, a, b, 7, 0);
                    exchange(&mut replicas, b, a, 7, 1);
                }
                replicas[a].act(op_a);
                replicas[b].act(op_b);
                for i in [a, b] {
                    check_invariants(&format!("step {n}, device {i}"), &replicas[i].personal);
                }
            }
            Step::Exchange { from, to, docs, mode } => {
                let (from, to) = (usize::from(*from), usize::from(*to));
                exchange(&mut replicas, from, to, *docs, *mode);
                for i in [from, to] {
                    check_invariants(&format!("step {n}, device {i} after an exchange"), &replicas[i].personal);
                }
            }
        }
    }

    // Everything to everyone, pair by pair in a random order, until nothing changes.
    let mut rng = SplitMix(case.seed);
    let mut rounds = 0;
    while !converged(&mut replicas) {
        rounds += 1;
        assert!(rounds <= 4, "the devices do not converge");
        let mut pairs: Vec<(usize, usize)> =
            (0..3).flat_map(|a| (0..3).filter(move |b| *b != a).map(move |b| (a, b))).collect();
        for i in (1..pairs.len()).rev() {
            pairs.swap(i, rng.below(i + 1));
        }
        for (from, to) in pairs {
            let mode = rng.below(3) as u8;
            exchange(&mut replicas, from, to, 7, mode);
        }
    }

    // Identical documents: the same documents, the same heads, the same content read back.
    let first = replicas[0].read_uncached();
    assert_eq!(replicas[0].read(), first, "reading with the cache equals reading afresh");
    let docs = schema::read_doc_list(&replicas[0].docs[&DocKind::Account]).unwrap();
    let ids: BTreeMap<Uuid, DocKind> = replicas[0].docs.keys().map(|k| (k.id_in(root), *k)).collect();
    assert_eq!(docs, ids, "the account lists every document of the account");
    for r in &replicas {
        assert_eq!(r.personal, first, "device {} reads other data", r.index);
        assert_eq!(schema::read_doc_list(&r.docs[&DocKind::Account]).unwrap(), docs);
    }
    assert_eq!(first.account.started.len(), 3, "every device's first day is kept");

    // Identical derived state and history views.
    let today = replicas.iter().map(|r| r.moment().date).max().unwrap();
    let seen = views(&replicas[0].personal, today);
    for r in &replicas {
        assert_eq!(views(&r.personal, today), seen, "device {} shows other history", r.index);
    }
    let derived = check_invariants("converged", &first);
    assert_eq!(derived, seen.derived);

    // Folding a prefix and appending the rest gives the same state.
    let implied = implied(&first);
    let mut events: Vec<Event<'_>> = first
        .account
        .draws
        .iter()
        .map(Event::Draw)
        .chain(first.actions.values().map(Event::Action))
        .chain(first.routine_records.values().map(Event::Routine))
        .chain(implied.iter().map(Event::Routine))
        .collect();
    events.sort_by_key(Event::order);
    for _ in 0..3 {
        let split = rng.below(events.len() + 1);
        let mut appended = Derived::default();
        assert!(appended.try_append(&events[..split]));
        assert!(appended.try_append(&events[split..]));
        assert_eq!(appended, derived, "split at {split} of {}", events.len());
    }
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn three_devices_of_one_account_converge(case in case_strategy()) {
        run(&case);
    }
}

// ---- the hard cases, one by one ----

fn basic() -> RoutineId {
    PRESETS[0].id
}

fn pick(action: &str, count: u8) -> ActionPick {
    ActionPick { action: action.into(), count }
}

/// Two devices of one account that have seen each other's documents.
fn pair(offset_b: i32) -> Vec<Replica> {
    let root = Uuid::from_u128(0x5eed);
    let mut replicas = vec![Replica::new(root, 1, 0, base_ms(), KST), Replica::new(root, 2, 1, base_ms(), offset_b)];
    exchange(&mut replicas, 0, 1, 7, 2);
    replicas
}

fn both_ways(replicas: &mut [Replica]) {
    exchange(replicas, 0, 1, 7, 0);
    exchange(replicas, 1, 0, 7, 1);
    let [a, b] = replicas else { panic!() };
    for kind in a.docs.keys() {
        assert_eq!(heads(&mut a.docs[kind].clone()), heads(&mut b.docs[kind].clone()), "{kind:?}");
    }
    assert_eq!(a.personal, b.personal);
}

#[test]
fn replicas_created_apart_merge_field_by_field() {
    // Every device starts every document from the same genesis change.
    let (actor_a, actor_b) = (ActorId::from(&[1_u8; 16][..]), ActorId::from(&[2_u8; 16][..]));
    for kind in [DocKind::Account, DocKind::Routines, DocKind::Log(Month { year: 2025, month: 1 })] {
        let mut a = schema::genesis(kind, &actor_a);
        assert_eq!(a.get_heads(), schema::genesis(kind, &actor_b).get_heads());
        assert_eq!(a.get_heads(), genesis(kind, &actor_b).get_heads(), "the copied genesis is the same");
        assert_eq!(a.get_actor(), &actor_a, "each device writes as itself");
    }

    // Two devices of one account that never met: one started offline and adopted the root later.
    let root = Uuid::from_u128(0xacc);
    let mut replicas =
        vec![Replica::new(root, 10, 0, base_ms(), KST), Replica::new(root, 20, 1, base_ms() + 3_600_000, -300)];
    let morning = replicas[0].create("아침", &[pick("squat", 10), pick("lunge", 10)]).unwrap();
    let evening = replicas[1].create("저녁", &[pick("plank", 30)]).unwrap();
    for r in &mut replicas {
        r.tick(1);
        r.draw(0).unwrap();
        r.tick(1);
    }
    let derived = Derived::of(&replicas[0].personal);
    replicas[0].play_on(morning, &derived, true).unwrap();
    let derived = Derived::of(&replicas[1].personal);
    replicas[1].play_on(evening, &derived, true).unwrap();
    replicas[1].play_on(basic(), &derived, true).unwrap();

    both_ways(&mut replicas);
    for r in &replicas {
        let p = &r.personal;
        let names: BTreeSet<&str> = p.routines.values().map(|r| r.name.as_str()).collect();
        assert_eq!(p.routines.len(), 4, "two presets, merged into one each, and both new routines");
        assert!(names.contains("아침") && names.contains("저녁"));
        assert_eq!(p.routines[&basic()].entries.len(), 5, "the presets' entries are not doubled");
        assert_eq!(p.account.draws.len(), 2);
        assert_eq!(p.account.started.len(), 2);
        assert_eq!(p.actions.len(), 3);
        assert_eq!(p.routine_records.len(), 1, "the one-action routine was completed");
        let genesis_changes = r.docs[&DocKind::Routines]
            .clone()
            .get_changes(&[])
            .iter()
            .filter(|c| c.message() == Some("genesis"))
            .count();
        assert_eq!(genesis_changes, 1);
        check_invariants("merged", p);
    }
}

#[test]
fn the_same_action_on_two_devices_counts_once_and_the_earliest_wins() {
    let mut replicas = pair(-300);
    replicas[0].draw(0).unwrap();
    exchange(&mut replicas, 0, 1, 7, 0);
    // Four of five actions done and shared; then both devices do the fifth, offline.
    for _ in 0..4 {
        replicas[0].tick(1);
        let derived = Derived::of(&replicas[0].personal);
        replicas[0].play_on(basic(), &derived, true).unwrap();
    }
    exchange(&mut replicas, 0, 1, 7, 1);
    replicas[0].tick(600);
    replicas[1].tick(120);
    let first = replicas[1].moment();
    for r in &mut replicas {
        let derived = Derived::of(&r.personal);
        let changes = r.play_on(basic(), &derived, true).unwrap();
        assert_eq!(changes.len(), 2, "on each device the fifth action completes the routine");
    }
    both_ways(&mut replicas);
    let p = &replicas[0].personal;
    let fifth = CompletionKey { routine: basic(), cycle: 1, entry: PRESETS[0].entries[4].0 };
    assert_eq!(p.actions[&fifth].moment, first, "the earliest completion wins");
    assert_eq!(p.routine_records.len(), 1);
    assert_eq!(p.routine_records.values().next().unwrap().moment, first);
    let month = DocKind::Log(Month::of(first.date));
    let log = schema::read_log(&replicas[0].docs[&month]).unwrap();
    assert_eq!(log.actions.iter().filter(|a| a.key == fifth).count(), 2, "both versions are kept in the document");
    let derived = check_invariants("merged", p);
    assert_eq!(derived.total_exp, 600, "one completion, one bonus");
    assert_eq!(derived.days.values().map(|d| d.actions).sum::<u32>(), 5);
}

#[test]
fn concurrent_draws_keep_only_the_earliest() {
    let mut replicas = pair(KST);
    replicas[0].tick(30);
    replicas[1].tick(10);
    assert_eq!(replicas[0].draw(0).unwrap(), Character::Mingi);
    assert_eq!(replicas[1].draw(1).unwrap(), Character::Muneo);
    both_ways(&mut replicas);
    let derived = check_invariants("merged", &replicas[0].personal);
    let growing = derived.growing.unwrap();
    assert_eq!((growing.character, growing.drawn_at_ms), (Character::Muneo, replicas[1].now_ms));
    assert_eq!(replicas[0].personal.account.draws.len(), 2);
    assert_eq!(replicas[0].draw(2), Err(RuleError::CharacterGrowing));
}

#[test]
fn concurrent_restart_and_reset_of_one_cycle_keep_the_restart() {
    let mut replicas = pair(KST);
    replicas[0].draw(0).unwrap();
    for _ in 0..5 {
        replicas[0].tick(1);
        let derived = Derived::of(&replicas[0].personal);
        replicas[0].play_on(basic(), &derived, true).unwrap();
    }
    exchange(&mut replicas, 0, 1, 7, 2);
    let restart = rules::plan_restart(&replicas[0].personal, basic()).unwrap();
    replicas[0].write(&restart);
    let reset = rules::plan_reset(&replicas[1].personal, basic()).unwrap();
    assert_eq!(reset, [Change::StartCycle { routine: basic(), cycle: 2, start: CycleStart::Reset }]);
    replicas[1].write(&reset);
    both_ways(&mut replicas);
    let routine = &replicas[0].personal.routines[&basic()];
    assert_eq!(routine.cycles, BTreeMap::from([(2, CycleStart::Restart)]));
    assert_eq!(check_invariants("merged", &replicas[0].personal).total_exp, 600);
}

#[test]
fn concurrent_edits_of_one_routine_keep_one_whole_action_list() {
    let mut replicas = pair(KST);
    let id = replicas[0].create("하나", &[pick("squat", 10)]).unwrap();
    exchange(&mut replicas, 0, 1, 7, 2);
    let mine = ["squat", "lunge", "plank", "push_up", "sky_bike"].map(|a| pick(a, 10));
    let theirs = ["neck_roll", "shoulder_roll", "waist_roll", "arm_circle", "knee_roll"].map(|a| pick(a, 5));
    replicas[0].edit(id, "몸풀기", &mine).unwrap();
    replicas[1].edit(id, "스트레칭", &theirs).unwrap();
    both_ways(&mut replicas);
    let routine = &replicas[0].personal.routines[&id];
    let merged = (routine.name.as_str(), picks_of_routine(routine));
    assert!(
        merged == ("몸풀기", mine.to_vec()) || merged == ("스트레칭", theirs.to_vec()),
        "one edit wins whole, name and actions: {merged:?}"
    );
    check_invariants("merged", &replicas[0].personal);
}

/// Plays the basic preset, a capped day after another, until the growing character is collected.
/// The documents are written at every step; the in-memory result is compared once at the end.
fn grind_until_collected(replica: &mut Replica) {
    let mut derived = Derived::of(&replica.personal);
    while derived.growing.is_some() {
        replica.tick(1);
        if derived.days.get(&replica.moment().date).is_some_and(|d| d.exp >= DAILY_EXP_CAP) {
            replica.tick(24 * 60);
        }
        let routine = replica.personal.routines[&basic()].clone();
        if replica.personal.cycle_complete(&routine, routine.current_cycle()) {
            let restart = rules::plan_restart(&replica.personal, basic()).unwrap();
            replica.write_unchecked(&restart);
        }
        let routine = replica.personal.routines[&basic()].clone();
        let entry = replica.undone(&routine).unwrap();
        let changes =
            rules::plan_complete_action(&replica.personal, &derived, basic(), entry, replica.moment()).unwrap();
        replica.write_unchecked(&changes);
        let events: Vec<Event<'_>> = changes
            .iter()
            .filter_map(|c| match c {
                Change::CompleteAction(a) => Some(Event::Action(a)),
                Change::CompleteRoutine(r) => Some(Event::Routine(r)),
                _ => None,
            })
            .collect();
        // A future-dated event (the void draw) makes the incremental path refuse: fold again.
        if !derived.try_append(&events) {
            derived = Derived::of(&replica.personal);
        }
    }
    assert_eq!(replica.personal, replica.read_uncached());
    assert_eq!(derived, Derived::of(&replica.personal));
}

#[test]
fn a_draw_dated_before_an_existing_draw_reads_back_as_applied() {
    // Device A's clock runs a year ahead: its draw, and the fifty capped days that collect the
    // character, are all dated a year after device B's present.
    let mut replicas = pair(KST);
    replicas[0].tick(365 * 24 * 60);
    assert_eq!(replicas[0].draw(0).unwrap(), Character::Mingi);
    grind_until_collected(&mut replicas[0]);
    both_ways(&mut replicas);
    let derived = check_invariants("B", &replicas[1].personal);
    assert_eq!((derived.growing, derived.collection.len()), (None, 1));
    assert!(replicas[1].now_ms < replicas[0].personal.account.draws[0].at_ms);

    // B draws now: in the documents its draw sorts before A's, and `apply` must agree.
    replicas[1].tick(1);
    assert_eq!(replicas[1].draw(0).unwrap(), Character::Muneo);
    check_invariants("B", &replicas[1].personal);
    both_ways(&mut replicas);
    check_invariants("merged", &replicas[0].personal);
}

#[test]
fn routines_given_the_same_name_on_two_devices_stay_editable_after_merging() {
    let mut replicas = pair(KST);
    let a = replicas[0].create("아침", &[pick("squat", 10)]).unwrap();
    let b = replicas[1].create("아침", &[pick("lunge", 10)]).unwrap();
    both_ways(&mut replicas);
    // Both keep their name; each can still be edited without renaming.
    replicas[0].edit(a, "아침", &[pick("squat", 20)]).unwrap();
    replicas[1].edit(b, " 아침 ", &[pick("lunge", 20)]).unwrap();
    // Renaming one to a name in use is still refused.
    assert_eq!(
        replicas[0].edit(a, PRESETS[0].name_ko, &[pick("squat", 20)]),
        Err(RuleError::NameTaken(PRESETS[0].name_ko.into()))
    );
}

#[test]
fn a_log_cannot_pass_for_another_months_log() {
    let actor = ActorId::random();
    let november = Month { year: 2026, month: 11 };
    let december = Month { year: 2026, month: 12 };
    let doc = schema::genesis(DocKind::Log(november), &actor);
    assert!(schema::check_kind(&doc, DocKind::Log(november)).is_ok());
    assert!(schema::check_kind(&doc, DocKind::Log(december)).is_err());
}
