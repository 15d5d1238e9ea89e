//! One device of the account: its documents and its clock; the rules' changes written to the
//! documents and applied in memory, and the two compared.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use mingizuk_core::RuleError;
use mingizuk_core::automerge::transaction::CommitOptions;
use mingizuk_core::automerge::{ActorId, AutoCommit, ChangeHash};
use mingizuk_core::catalog::Character;
use mingizuk_core::fold::Derived;
use mingizuk_core::model::{Account, EntryId, Log, Moment, Personal, Routine, RoutineId};
use mingizuk_core::rules::{self, ActionPick, Change, FreshCycle};
use mingizuk_core::schema::{self, DocKind};
use uuid::Uuid;

/// UTC offsets the devices travel between, in minutes: Honolulu to Kiritimati.
pub const OFFSETS: [i32; 10] = [-600, -480, -300, -180, 0, 60, 330, 540, 600, 840];
pub const KST: i32 = 540;

/// 2025-01-30 12:00 UTC: close to the end of a month, so that histories cross into the next.
pub fn base_ms() -> i64 {
    NaiveDate::from_ymd_opt(2025, 1, 30).unwrap().and_hms_opt(12, 0, 0).unwrap().and_utc().timestamp_millis()
}

fn id_of(seed: u64, replica: u8, n: u64) -> Uuid {
    Uuid::from_u64_pair(seed, (u64::from(replica) + 1) << 48 | n)
}

/// `schema::genesis`, built once per kind and copied: the genesis is the same document on every
/// device (see `replicas_created_apart_merge_field_by_field`), and building the routines' one
/// takes a millisecond, a third of a small case.
pub fn genesis(kind: DocKind, actor: &ActorId) -> AutoCommit {
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
pub struct Replica {
    pub index: u8,
    actor: ActorId,
    root: Uuid,
    seed: u64,
    next_id: u64,
    pub docs: BTreeMap<DocKind, AutoCommit>,
    parsed: BTreeMap<DocKind, (Vec<ChangeHash>, Parsed)>,
    /// Always what the documents say: re-read after every exchange, applied after every write.
    pub personal: Personal,
    pub now_ms: i64,
    pub offset: i32,
}

impl Replica {
    pub fn new(root: Uuid, seed: u64, index: u8, now_ms: i64, offset: i32) -> Replica {
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

    pub fn moment(&self) -> Moment {
        Moment::new(self.now_ms, self.offset).unwrap()
    }

    pub fn tick(&mut self, minutes: i64) {
        self.now_ms += minutes * 60_000;
    }

    /// The document of this kind, created from its genesis when the device has none yet, and
    /// listed in the account root.
    pub fn ensure(&mut self, kind: DocKind) {
        if self.docs.contains_key(&kind) {
            return;
        }
        self.docs.insert(kind, genesis(kind, &self.actor));
        let account = self.docs.get_mut(&DocKind::Account).expect("the account document comes first");
        schema::register_doc(account, self.root, kind).unwrap();
    }

    /// Joins the account whose root is `root`, as a device used without an account does when it
    /// signs in: its documents are listed under the account's ids from then on.
    pub fn adopt(&mut self, root: Uuid) {
        let kinds: Vec<DocKind> = self.docs.keys().copied().collect();
        let account = self.docs.get_mut(&DocKind::Account).expect("the account document comes first");
        for kind in kinds {
            schema::move_doc(account, self.root, root, kind).unwrap();
        }
        self.root = root;
        self.commit();
    }

    pub fn commit(&mut self) {
        let time = self.now_ms / 1000;
        for doc in self.docs.values_mut() {
            doc.commit_with(CommitOptions::default().with_time(time));
        }
    }

    /// The personal data, read from the documents alone. Each document is parsed again only when
    /// its heads moved: reading is a function of a document's changes, which its heads name.
    pub fn read(&mut self) -> Personal {
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
    pub fn read_uncached(&self) -> Personal {
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
    pub fn write_unchecked(&mut self, changes: &[Change]) {
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
    pub fn write(&mut self, changes: &[Change]) {
        self.write_unchecked(changes);
        self.check_read(changes);
    }

    pub fn check_read(&mut self, changes: &[Change]) {
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
    pub fn outcome(&mut self, planned: Result<Vec<Change>, RuleError>, allowed: &[&str]) -> Option<Vec<Change>> {
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
    pub fn routine(&self, pick: u8) -> Routine {
        let all: Vec<&Routine> = self.personal.routines.values().collect();
        all[usize::from(pick) % all.len()].clone()
    }

    pub fn create(&mut self, name: &str, picks: &[ActionPick]) -> Result<RoutineId, RuleError> {
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

    pub fn edit(&mut self, id: RoutineId, name: &str, picks: &[ActionPick]) -> Result<Vec<Change>, RuleError> {
        let (seed, index, next_id) = (self.seed, self.index, &mut self.next_id);
        let mut new_id = || {
            *next_id += 1;
            id_of(seed, index, *next_id)
        };
        let changes = rules::plan_edit_routine(&self.personal, id, name, picks, &mut new_id)?;
        self.write(&changes);
        Ok(changes)
    }

    pub fn draw(&mut self, roll: u32) -> Result<Character, RuleError> {
        self.next_id += 1;
        let id = id_of(self.seed, self.index, self.next_id);
        let changes = rules::plan_draw(&Derived::of(&self.personal), id, self.now_ms, roll)?;
        self.write(&changes);
        match changes.as_slice() {
            [Change::Draw(d)] => Ok(d.character),
            other => panic!("a draw plans one draw, got {other:?}"),
        }
    }

    /// The id and instant of a cycle the next action may start.
    pub fn fresh(&mut self) -> FreshCycle {
        self.next_id += 1;
        FreshCycle { id: id_of(self.seed, self.index, self.next_id), root: self.root, at_ms: self.now_ms }
    }

    pub fn undone(&self, routine: &Routine) -> Option<EntryId> {
        let done = self.personal.done_in_cycle(routine, self.personal.current_cycle(routine));
        routine.entries.iter().find(|e| !done.contains(&e.id)).map(|e| e.id)
    }

    /// Restarts the routine while its cycle is complete, then completes its first entry not
    /// done. (A device that received another's log but not its routines may restart into a
    /// cycle that is already complete.) Checks `apply` against the documents only when `check`.
    pub fn play_on(&mut self, id: RoutineId, derived: &Derived, check: bool) -> Result<Vec<Change>, RuleError> {
        let mut changes = Vec::new();
        loop {
            let routine = self.personal.routines[&id].clone();
            if !self.personal.cycle_complete(&routine, self.personal.current_cycle(&routine)) {
                break;
            }
            let fresh = self.fresh();
            let restart = rules::plan_restart(&self.personal, id, fresh)?;
            self.write_unchecked(&restart);
            changes.extend(restart);
        }
        let routine = self.personal.routines[&id].clone();
        let entry = self.undone(&routine).expect("an incomplete cycle has an entry not done");
        let fresh = self.fresh();
        let completed = rules::plan_complete_action(&self.personal, derived, id, entry, self.moment(), fresh)?;
        self.write_unchecked(&completed);
        changes.extend(completed);
        if check {
            self.check_read(&changes);
        }
        Ok(changes)
    }
}
