//! The device's documents in memory and on disk: loading them from their chunks, writing user
//! changes to them with the projection in one transaction, merging another replica's documents,
//! re-keying them to an account, and compacting chunks. The `Engine` in `engine.rs` is the public
//! face; everything here runs under its lock.

use std::collections::{BTreeMap, HashMap};

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
    /// Counts writes made on this device, so the sync task knows when there is news to send.
    pub(crate) local_writes: tokio::sync::watch::Sender<u64>,
    /// Documents whose compaction after a write failed, with the number of chunks at which a
    /// write tries again (twice as many: a disk that stays full is not rewritten at every write).
    compact_retry: HashMap<DocKind, usize>,
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
        let actor = ActorId::from(device.as_bytes().as_slice());
        let mut known = BTreeMap::new();
        for (id, label) in store.documents().await? {
            let kind =
                DocKind::parse(&label).ok_or_else(|| ClientError::corrupt(id, format!("unknown kind {label}")))?;
            known.insert(kind, id);
        }
        let mut state = State {
            store,
            actor,
            root,
            docs: HashMap::new(),
            known,
            logs: BTreeMap::new(),
            personal: Personal::default(),
            derived: Derived::default(),
            local_writes: tokio::sync::watch::Sender::new(0),
            compact_retry: HashMap::new(),
        };
        if state.known.is_empty() {
            state.first_launch(device, clock).await?;
        }
        state.load_personal().await?;
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
    /// device `device` (signing out with "remove this device's data").
    pub(crate) async fn wipe(&mut self, device: Uuid, clock: &dyn Clock) -> Result<()> {
        self.store.wipe().await?;
        self.actor = ActorId::from(device.as_bytes().as_slice());
        self.root = Uuid::new_v4();
        self.docs.clear();
        self.known.clear();
        self.logs.clear();
        self.first_launch(device, clock).await?;
        self.load_personal().await?;
        self.local_writes.send_modify(|n| *n += 1);
        Ok(())
    }

    /// Compacts the documents in memory that gathered many chunks.
    pub(crate) async fn maintain(&mut self) -> Result<()> {
        let kinds: Vec<DocKind> = self.docs.keys().copied().collect();
        self.compact(&kinds, COMPACT_IDLE_CHUNKS).await
    }

    async fn first_launch(&mut self, device: Uuid, clock: &dyn Clock) -> Result<()> {
        let now = clock.now_ms();
        let today = Moment::new(now, clock.offset_minutes(now))
            .ok_or_else(|| ClientError::Invalid(format!("the clock is out of range: {now}")))?
            .date;
        let mut batch = Batch::default();
        let mut account = schema::genesis(DocKind::Account, &self.actor);
        schema::record_start(&mut account, &device.to_string(), today)?;
        schema::register_doc(&mut account, self.root, DocKind::Routines)?;
        account.commit_with(commit_options(now));
        let routines = schema::genesis(DocKind::Routines, &self.actor);
        for (kind, doc) in [(DocKind::Account, account), (DocKind::Routines, routines)] {
            let id = kind.id_in(self.root);
            let mut loaded = Loaded { doc, saved: Vec::new(), chunks: Vec::new() };
            batch.new_docs.push((id, kind.label()));
            if let Some(p) = loaded.unsaved(kind, id) {
                batch.chunks.push(p.chunk);
                loaded.saved = p.heads;
                loaded.chunks.push(batch.chunks.last().map(|c| c.hash.clone()).unwrap_or_default());
            }
            self.docs.insert(kind, loaded);
            self.known.insert(kind, id);
        }
        batch.meta.push(("device_id", device.to_string()));
        batch.meta.push(("root", self.root.to_string()));
        if let Err(e) = self.store.commit(&batch).await {
            self.docs.clear();
            self.known.clear();
            return Err(e);
        }
        Ok(())
    }

    /// Reads the account and routines documents and the stored completions into memory.
    async fn load_personal(&mut self) -> Result<()> {
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
            let month = *months.get(&doc_id).ok_or_else(|| ClientError::corrupt(doc_id, "log entry of no log"))?;
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
