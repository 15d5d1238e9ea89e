//! Compaction: a document's chunks folded into one snapshot, in the background.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use automerge::{Automerge, ChangeHash};

use super::{DocEntry, Hub, Ledger};
use crate::storage::{ChunkKey, ContentHash, DocumentId};

/// What a compaction folds into one snapshot, read when its turn comes.
struct Compaction {
    snapshot: ContentHash,
    /// The document's heads, sorted: the snapshot must load back to exactly these.
    heads: Vec<ChangeHash>,
    /// Every change of the document, dependencies first.
    changes: Vec<u8>,
    /// The chunks the snapshot replaces.
    replaced: Vec<ChunkKey>,
}

static NEXT_COMPACTION: AtomicU64 = AtomicU64::new(1);

/// A new compaction's number, kept by the document it is for while it runs.
pub(super) fn next_job() -> u64 {
    NEXT_COMPACTION.fetch_add(1, Ordering::Relaxed)
}

impl Hub {
    /// Replaces the document's chunks by one snapshot: automerge's saved form, several times
    /// smaller than the changes it holds (the one place the server builds the document itself).
    ///
    /// In a task of its own, after the change that made it due was answered: compactions run one
    /// at a time, and the documents of peers syncing at the same pace fall due together, so a
    /// change that waited for its document's compaction waited for a queue of them (seconds, in
    /// `bench --bin sync`). A failed compaction loses nothing: the chunks it would replace are still
    /// there, and it is tried again once the document has twice as many (`Loaded::retry_at`). The
    /// document is read only when the compaction's turn comes, so compactions waiting for it hold
    /// no copy of their documents.
    pub(super) fn start_compaction(&self, entry: &Arc<DocEntry>, job: u64) {
        let (storage, compacting, entry) = (self.storage.clone(), self.compacting.clone(), Arc::downgrade(entry));
        tokio::spawn(async move {
            let Ok(_one_at_a_time) = compacting.acquire().await else { return };
            let Some((doc, compaction)) = Self::to_compact(&entry, job).await else { return };
            let result = match compaction {
                Some(Compaction { snapshot, heads, changes, replaced }) => {
                    async {
                        let saved = tokio::task::spawn_blocking(move || snapshot_of(&changes, &heads))
                            .await
                            .map_err(|e| e.to_string())??;
                        storage.compact(&doc, snapshot, &saved, &replaced).await.map_err(|e| e.to_string())?;
                        Ok::<_, String>((snapshot, replaced))
                    }
                    .await
                }
                None => Err("changes wait for a change the document lacks: the snapshot would leave them out".into()),
            };
            if let Err(e) = &result {
                tracing::warn!(doc = %doc, error = %e, "compaction failed; tried again once the document has twice the chunks");
            }
            let done = result.as_ref().ok().map(|(snapshot, replaced)| (*snapshot, replaced.as_slice()));
            Self::compacted(&entry, job, done).await;
        });
    }

    /// What compaction `job` folds, if the document it was started for is still in memory: one
    /// dropped meanwhile (a storage failure) starts a compaction of its own once loaded again.
    /// `None` for the compaction while changes wait for one the document lacks: some may have
    /// been read from a chunk, which the snapshot (of the applied changes only) would replace.
    async fn to_compact(entry: &Weak<DocEntry>, job: u64) -> Option<(DocumentId, Option<Compaction>)> {
        let entry = entry.upgrade()?;
        let state = entry.state.lock().await;
        let loaded = state.loaded.as_ref().filter(|loaded| loaded.compacting == Some(job))?;
        if loaded.doc.has_waiting() {
            return Some((entry.id.clone(), None));
        }
        let heads = loaded.doc.heads();
        let compaction = Compaction {
            snapshot: ContentHash::of_heads(heads.iter().map(|h| h.0.as_slice())),
            heads,
            changes: loaded.doc.all_bytes(),
            replaced: loaded.chunks.clone(),
        };
        Some((entry.id.clone(), Some(compaction)))
    }

    /// Brings the document in memory, if it still is, in line with what its compaction left in
    /// storage: the snapshot in place of the chunks it replaced. A document dropped and loaded
    /// again meanwhile read its chunks before or after the compaction committed; either way this
    /// leaves exactly what storage holds.
    async fn compacted(entry: &Weak<DocEntry>, job: u64, done: Option<(ContentHash, &[ChunkKey])>) {
        let Some(entry) = entry.upgrade() else { return };
        let mut state = entry.state.lock().await;
        let Some(loaded) = state.loaded.as_mut() else { return };
        if loaded.compacting == Some(job) {
            loaded.compacting = None;
            loaded.retry_at = if done.is_some() { 0 } else { loaded.chunks.len() * 2 };
        }
        if let Some((snapshot, replaced)) = done {
            let replaced: HashSet<&ChunkKey> = replaced.iter().collect();
            loaded.chunks.retain(|key| !replaced.contains(key));
            let snapshot = ChunkKey::Snapshot(snapshot);
            if !loaded.chunks.contains(&snapshot) {
                loaded.chunks.insert(0, snapshot);
            }
        }
    }
}

/// automerge's saved form of the document whose `changes` (dependencies first) lead to `heads`,
/// once it is checked to load back, as the server itself loads it, to exactly those heads: the
/// chunks it replaces are deleted with nothing else left to hold their changes.
pub(super) fn snapshot_of(changes: &[u8], heads: &[ChangeHash]) -> Result<Vec<u8>, String> {
    let saved = Automerge::load(changes).map_err(|e| e.to_string())?.save();
    let mut check = Ledger::default();
    check.load(&saved).map_err(|e| format!("the snapshot does not load back: {e}"))?;
    if check.heads() != heads {
        return Err("the snapshot loads back to other heads than the document's".into());
    }
    Ok(saved)
}
