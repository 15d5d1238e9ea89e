//! The device's documents in memory and on disk: loading them from their chunks, writing user
//! changes to them with the projection in one transaction, merging another replica's documents,
//! re-keying them to an account, and compacting chunks. The `Engine` in `engine.rs` is the public
//! face; everything here runs under its lock.

use std::collections::{BTreeMap, HashMap, HashSet};

use mingizuk_core::automerge::{ActorId, AutoCommit, ChangeHash, transaction::CommitOptions};
use mingizuk_core::fold::Derived;
use mingizuk_core::model::{Account, Log, Moment, Personal, Routine, RoutineId};
use mingizuk_core::schema::{self, DocKind, Month};
use uuid::Uuid;

use crate::clock::Clock;
use crate::engine::DocumentBytes;
use crate::error::{ClientError, Result};
use crate::store::{Batch, Chunk, LogEntry, Store};

mod merge;
mod sync;
mod write;

pub(crate) use merge::OtherAccountData;

/// Chunks a document may gather before a write compacts it on the spot. Compaction otherwise
/// happens at open and in `Engine::maintain`, off the hot path of a completion.
pub(crate) const COMPACT_INLINE_CHUNKS: usize = 1024;
/// Chunks that make a document worth compacting when the app is idle.
pub(crate) const COMPACT_IDLE_CHUNKS: usize = 64;

/// A document held in memory, with what of it is already stored.
struct Loaded {
    doc: AutoCommit,
    /// Heads covered by the stored chunks.
    saved: Vec<ChangeHash>,
    /// Hashes of the stored chunks (what compaction may delete).
    chunks: Vec<String>,
}

pub(crate) struct State {
    pub(crate) store: Store,
    actor: ActorId,
    pub(crate) root: Uuid,
    /// Documents loaded in memory; old months stay on disk until a merge or export needs them.
    docs: HashMap<DocKind, Loaded>,
    /// Documents held on this device.
    known: BTreeMap<DocKind, Uuid>,
    /// Every completion version read from each month's log.
    logs: BTreeMap<Month, Log>,
    pub(crate) personal: Personal,
    pub(crate) derived: Derived,
    /// Counts writes made on this device, so the sync task knows when there is news to send (and
    /// how many wait); stored with each write (`sync::WRITES`).
    pub(crate) local_writes: tokio::sync::watch::Sender<u64>,
    /// How many of those writes the server was last known to hold (stored too).
    pub(crate) writes_confirmed: tokio::sync::watch::Sender<u64>,
    /// Documents whose compaction after a write failed, with the number of chunks at which a
    /// write tries again (twice as many: a disk that stays full is not rewritten at every write).
    compact_retry: HashMap<DocKind, usize>,
}

/// The Automerge actor of this opening of the database: a new one each time, never the device id.
/// Changes are numbered per actor, and one actor's number must never mean two changes; a data
/// folder restored from a backup, or copied to another computer, would otherwise write changes
/// already numbered by the original, and no replica (the server included) could take both.
fn session_actor() -> ActorId {
    ActorId::from(Uuid::new_v4().as_bytes().as_slice())
}

pub(crate) fn commit_options(now_ms: i64) -> CommitOptions {
    CommitOptions::default().with_time(now_ms / 1000)
}

impl State {
    /// Opens the store and reads this device's personal data; on first launch creates the
    /// device's documents. Returns the state and the device id.
    pub(crate) async fn open(path: &std::path::Path, clock: &dyn Clock) -> Result<(State, Uuid)> {
        let mut store = Store::open(path).await?;
        let device = match store.meta("device_id").await? {
            Some(id) => id.parse().map_err(|e| ClientError::corrupt("meta.device_id", e))?,
            None => Uuid::new_v4(),
        };
        let root = match store.meta("root").await? {
            Some(id) => id.parse().map_err(|e| ClientError::corrupt("meta.root", e))?,
            None => Uuid::new_v4(),
        };
        let actor = session_actor();
        let (known, unread) = named_documents(&mut store).await?;
        let (writes, writes_confirmed) = sync::stored_write_counts(&mut store).await?;
        let mut state = State {
            store,
            actor,
            root,
            docs: HashMap::new(),
            known,
            logs: BTreeMap::new(),
            personal: Personal::default(),
            derived: Derived::default(),
            local_writes: tokio::sync::watch::Sender::new(writes),
            writes_confirmed: tokio::sync::watch::Sender::new(writes_confirmed),
            compact_retry: HashMap::new(),
        };
        if state.known.is_empty() {
            // A new device: nothing written yet.
            state.local_writes.send_replace(0);
            state.writes_confirmed.send_replace(0);
            let first = FirstLaunch::new(&state.actor, root, device, clock)?;
            state.store.commit(&first.batch).await?;
            state.docs = first.docs;
            state.known = first.known;
        }
        state.load_personal(&unread).await?;
        state.sync_projection().await?;
        state.compact(&[DocKind::Account, DocKind::Routines], COMPACT_IDLE_CHUNKS).await?;
        Ok((state, device))
    }

    /// Every document of this device, whole.
    pub(crate) async fn export(&mut self) -> Result<Vec<DocumentBytes>> {
        let kinds: Vec<(DocKind, Uuid)> = self.known.iter().map(|(k, v)| (*k, *v)).collect();
        let mut out = Vec::with_capacity(kinds.len());
        for (kind, id) in kinds {
            let bytes = match self.docs.get_mut(&kind) {
                Some(loaded) => loaded.doc.save(),
                None => self.load(kind).await?.doc.save(),
            };
            out.push(DocumentBytes { id, kind, bytes });
        }
        Ok(out)
    }

    /// Forgets everything this device holds and starts again as on first launch, as the new
    /// device `device` (signing out with "remove this device's data"). The old data goes and the
    /// new documents come in one transaction, and memory changes only once it is committed: a
    /// failure leaves the device as it was, old account and all.
    pub(crate) async fn wipe(&mut self, device: Uuid, clock: &dyn Clock) -> Result<()> {
        let actor = session_actor();
        let root = Uuid::new_v4();
        let mut first = FirstLaunch::new(&actor, root, device, clock)?;
        let personal = first.personal()?;
        first.batch.wipe = true;
        // The count goes on (a sync status may still compare with it), all of it settled: the
        // device that comes after starts, like a new one, with nothing waiting.
        let writes = self.mark_wipe(&mut first.batch);
        self.store.commit(&first.batch).await?;
        self.actor = actor;
        self.root = root;
        self.docs = first.docs;
        self.known = first.known;
        self.logs.clear();
        self.compact_retry.clear();
        self.derived = Derived::of(&personal);
        self.personal = personal;
        self.local_writes.send_replace(writes);
        self.writes_confirmed.send_replace(writes);
        Ok(())
    }

    /// Compacts the documents in memory that gathered many chunks.
    pub(crate) async fn maintain(&mut self) -> Result<()> {
        let kinds: Vec<DocKind> = self.docs.keys().copied().collect();
        self.compact(&kinds, COMPACT_IDLE_CHUNKS).await
    }

    /// Reads the account and routines documents and the stored completions into memory; those of
    /// the `unread` documents (of a kind this build cannot name) are left where they are.
    async fn load_personal(&mut self, unread: &HashSet<Uuid>) -> Result<()> {
        let account = self.load_cached(DocKind::Account).await?;
        let account = schema::read_account(&account.doc)?;
        let routines = self.load_cached(DocKind::Routines).await?;
        let routines = schema::read_routines(&routines.doc)?;
        let months: HashMap<Uuid, Month> = self
            .known
            .iter()
            .filter_map(|(k, id)| if let DocKind::Log(m) = k { Some((*id, *m)) } else { None })
            .collect();
        let mut logs: BTreeMap<Month, Log> = BTreeMap::new();
        for (doc_id, entry) in self.store.log_entries().await? {
            let Some(month) = months.get(&doc_id).copied() else {
                if unread.contains(&doc_id) {
                    continue;
                }
                return Err(ClientError::corrupt(doc_id, "log entry of no log"));
            };
            let log = logs.entry(month).or_default();
            match entry {
                LogEntry::Action(c) => log.actions.push(c),
                LogEntry::Routine(c) => log.routines.push(c),
            }
        }
        self.logs = logs;
        self.personal = personal_of(account, routines, &self.logs);
        self.derived = Derived::of(&self.personal);
        Ok(())
    }

    /// Rewrites the per-day projection where it differs from the derived state (after an
    /// upgrade or an interrupted run).
    async fn sync_projection(&mut self) -> Result<()> {
        let stored: BTreeMap<_, _> = self.store.all_day_totals().await?.into_iter().collect();
        let days = day_diff(&stored, &self.derived.days);
        if !days.is_empty() {
            self.store.commit(&Batch { days, ..Batch::default() }).await?;
        }
        Ok(())
    }

    /// Loads a document from its stored chunks (or makes a new one) without caching it.
    async fn load(&mut self, kind: DocKind) -> Result<Loaded> {
        let Some(id) = self.known.get(&kind).copied() else {
            return Ok(Loaded { doc: schema::genesis(kind, &self.actor), saved: Vec::new(), chunks: Vec::new() });
        };
        let chunks = self.store.chunks(id).await?;
        let mut doc = AutoCommit::new();
        for chunk in &chunks {
            doc.load_incremental(&chunk.bytes).map_err(|e| ClientError::corrupt(id, e))?;
        }
        schema::check_kind(&doc, kind).map_err(|e| ClientError::corrupt(id, e))?;
        doc.set_actor(self.actor.clone());
        let saved = doc.get_heads();
        Ok(Loaded { doc, saved, chunks: chunks.into_iter().map(|c| c.hash).collect() })
    }

    async fn load_cached(&mut self, kind: DocKind) -> Result<&mut Loaded> {
        if !self.docs.contains_key(&kind) {
            let loaded = self.load(kind).await?;
            self.docs.insert(kind, loaded);
        }
        self.docs.get_mut(&kind).ok_or_else(|| ClientError::corrupt(kind.label(), "not loaded"))
    }

    /// Compacts the documents a committed write added to, once they have gathered
    /// `COMPACT_INLINE_CHUNKS` chunks. The write stands whatever happens here: a failure (a full
    /// disk) is logged, not returned as the write's, and a write tries again once the document has
    /// twice as many chunks (idle maintenance tries at its next round).
    async fn compact_after_write(&mut self, kinds: &[DocKind]) {
        for kind in kinds {
            let chunks = self.docs.get(kind).map_or(0, |loaded| loaded.chunks.len());
            let threshold = self.compact_retry.get(kind).copied().unwrap_or(0).max(COMPACT_INLINE_CHUNKS);
            if chunks < threshold {
                continue;
            }
            match self.compact(&[*kind], threshold).await {
                Ok(()) => {
                    self.compact_retry.remove(kind);
                }
                Err(e) => {
                    tracing::warn!(error = %e, document = kind.label(), chunks, "compacting after a write failed");
                    self.compact_retry.insert(*kind, chunks * 2);
                }
            }
        }
    }

    /// Folds a document's chunks into one snapshot once it has gathered many. The snapshot is
    /// stored first and only the chunks it covers are deleted, in the same transaction.
    async fn compact(&mut self, kinds: &[DocKind], threshold: usize) -> Result<()> {
        for kind in kinds {
            let Some(loaded) = self.docs.get_mut(kind) else { continue };
            if loaded.chunks.len() < threshold {
                continue;
            }
            let id = kind.id_in(self.root);
            let heads = loaded.doc.get_heads();
            let snapshot = Chunk::snapshot(id, loaded.doc.save());
            let batch = Batch {
                compacted: loaded.chunks.iter().filter(|h| **h != snapshot.hash).map(|h| (id, h.clone())).collect(),
                chunks: vec![snapshot.clone()],
                ..Batch::default()
            };
            self.store.commit(&batch).await?;
            loaded.saved = heads;
            loaded.chunks = vec![snapshot.hash];
        }
        Ok(())
    }
}

/// The stored documents this build can name, by kind, and the ids of those it cannot. A document
/// whose kind does not parse (a newer app's, or a damaged row) is logged and left unread, never
/// fatal: it stays stored, untouched, since nothing deletes a document it does not name (only a
/// wipe deletes them all).
async fn named_documents(store: &mut Store) -> Result<(BTreeMap<DocKind, Uuid>, HashSet<Uuid>)> {
    let (mut named, mut unread) = (BTreeMap::new(), HashSet::new());
    for (id, label) in store.documents().await? {
        match DocKind::parse(&label) {
            Some(kind) => {
                named.insert(kind, id);
            }
            None => {
                tracing::warn!(document = %id, kind = label, "a stored document of unknown kind is left unread");
                unread.insert(id);
            }
        }
    }
    Ok((named, unread))
}

/// The documents of a first launch: the account root, with this device's start date, and the
/// routines with the presets. Built in memory; the caller stores `batch`, then holds `docs`.
struct FirstLaunch {
    batch: Batch,
    docs: HashMap<DocKind, Loaded>,
    known: BTreeMap<DocKind, Uuid>,
}

impl FirstLaunch {
    fn new(actor: &ActorId, root: Uuid, device: Uuid, clock: &dyn Clock) -> Result<FirstLaunch> {
        let now = clock.now_ms();
        let today = Moment::new(now, clock.offset_minutes(now))
            .ok_or_else(|| ClientError::Invalid(format!("the clock is out of range: {now}")))?
            .date;
        let mut first = FirstLaunch { batch: Batch::default(), docs: HashMap::new(), known: BTreeMap::new() };
        let mut account = schema::genesis(DocKind::Account, actor);
        schema::record_start(&mut account, &device.to_string(), today)?;
        schema::register_doc(&mut account, root, DocKind::Routines)?;
        account.commit_with(commit_options(now));
        let routines = schema::genesis(DocKind::Routines, actor);
        for (kind, doc) in [(DocKind::Account, account), (DocKind::Routines, routines)] {
            let id = kind.id_in(root);
            let mut loaded = Loaded { doc, saved: Vec::new(), chunks: Vec::new() };
            first.batch.new_docs.push((id, kind.label()));
            if let Some(p) = loaded.unsaved(kind, id) {
                loaded.saved = p.heads;
                loaded.chunks.push(p.chunk.hash.clone());
                first.batch.chunks.push(p.chunk);
            }
            first.docs.insert(kind, loaded);
            first.known.insert(kind, id);
        }
        first.batch.meta.push(("device_id", device.to_string()));
        first.batch.meta.push((sync::WRITES, "0".to_string()));
        first.batch.meta.push(("root", root.to_string()));
        Ok(first)
    }

    /// The personal data these documents hold: presets, no history.
    fn personal(&self) -> Result<Personal> {
        let doc = |kind: DocKind| {
            self.docs.get(&kind).map(|l| &l.doc).ok_or_else(|| ClientError::corrupt(kind.label(), "not built"))
        };
        let account = schema::read_account(doc(DocKind::Account)?)?;
        let routines = schema::read_routines(doc(DocKind::Routines)?)?;
        Ok(personal_of(account, routines, &BTreeMap::new()))
    }
}

/// A chunk written to the store but not yet known to be committed.
struct Pending {
    kind: DocKind,
    heads: Vec<ChangeHash>,
    chunk: Chunk,
}

impl Loaded {
    /// What of the document is not stored yet, as a chunk, with the heads it brings us to.
    fn unsaved(&mut self, kind: DocKind, id: Uuid) -> Option<Pending> {
        let bytes = self.doc.save_after(&self.saved);
        (!bytes.is_empty()).then(|| Pending { kind, heads: self.doc.get_heads(), chunk: Chunk::incremental(id, bytes) })
    }
}

/// The merged personal data from the account, the routines and every month's log.
fn personal_of(account: Account, routines: BTreeMap<RoutineId, Routine>, logs: &BTreeMap<Month, Log>) -> Personal {
    let mut personal = Personal { account, routines, ..Personal::default() };
    for log in logs.values() {
        personal.absorb(log);
    }
    personal
}

/// The projection rows to write to go from `old` to `new`.
fn day_diff(
    old: &BTreeMap<chrono::NaiveDate, mingizuk_core::fold::DayTotals>,
    new: &BTreeMap<chrono::NaiveDate, mingizuk_core::fold::DayTotals>,
) -> Vec<(chrono::NaiveDate, Option<mingizuk_core::fold::DayTotals>)> {
    let mut out: Vec<_> = new.iter().filter(|(d, t)| old.get(d) != Some(t)).map(|(d, t)| (*d, Some(*t))).collect();
    out.extend(old.keys().filter(|d| !new.contains_key(d)).map(|d| (*d, None)));
    out
}
