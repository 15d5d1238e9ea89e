//! The documents the server holds in memory while peers sync them, and the one rule that makes
//! "up to date" trustworthy: a document's changes are committed to storage before any sync
//! message whose heads include them can be generated. Every read or write of a document happens
//! under its lock; the lock is held across the storage write, and a failed write drops the
//! document from memory (the next use reloads what storage has), so no peer is ever told about a
//! change the database does not hold.
//!
//! Several instances: with a bus (`crate::bus`, Redis pub/sub) each instance announces the
//! documents it stored changes of, and the others that hold one in memory read its new chunks from
//! storage and wake their connections syncing it, so a user's devices on different instances hear
//! each other live. An announcement lost on the way only delays that until the next one, a
//! reconnect, or the catch-up after an outage the bus can see.

use std::collections::HashMap;
use std::sync::{Arc, Mutex as StdMutex, OnceLock};

use automerge::ChangeHash;
use automerge::sync;
use tokio::sync::{Mutex, Semaphore};

use super::fanout::{DocShout, RemoteDocs};
use super::ledger::{self, Bounds, Ledger};
use super::signal::{Ephemeral, Signal};
use crate::bus::{Bus, Channel};
use crate::storage::{ChunkKey, Claim, ContentHash, DocumentId, Storage, StorageError, UserId};

mod compaction;

/// Incremental chunks a document gathers on the server before it is compacted into a snapshot.
pub const COMPACT_AFTER_CHUNKS: usize = 256;

/// Why a peer's message about a document was not applied.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    /// Someone else's: the peer is told `doc-unavailable`, nothing more.
    #[error("the document is unavailable")]
    Unavailable,
    /// Asked for before any device stored it: the peer is told `doc-unavailable` and stays
    /// subscribed, so it hears of the document as soon as one of the user's devices stores it.
    #[error("nobody has stored the document yet")]
    NotYetStored,
    /// The sync message does not decode or its changes do not apply.
    #[error("invalid sync message: {0}")]
    InvalidMessage(String),
    /// The database refused or failed: the peer must not believe anything was kept.
    #[error("storage failed: {0}")]
    Storage(#[from] StorageError),
}

/// One document in memory.
pub struct DocEntry {
    pub id: DocumentId,
    state: Mutex<DocState>,
}

#[derive(Default)]
struct DocState {
    /// `None` until first used, and again after a storage failure.
    loaded: Option<Loaded>,
    /// Connections syncing this document, by connection id.
    subscribers: HashMap<u64, Arc<Signal>>,
}

#[derive(Default)]
struct Loaded {
    doc: Ledger,
    owner: Option<UserId>,
    chunks: Vec<ChunkKey>,
    /// The compaction of this document under way, if one is.
    compacting: Option<u64>,
    /// After a failed compaction, the chunk count at which the next one may start (0: none
    /// failed). Each attempt builds the whole document, so one that keeps failing is tried again
    /// each time the chunks have doubled, not at every change.
    retry_at: usize,
}

/// What one incoming sync message led to.
pub struct Applied {
    /// The reply for the sender, if the protocol calls for one.
    pub reply: Option<Vec<u8>>,
}

/// The documents in memory, shared by every connection.
pub struct Hub {
    storage: Arc<dyn Storage>,
    docs: StdMutex<HashMap<DocumentId, Arc<DocEntry>>>,
    /// The other instances, when there are any.
    bus: OnceLock<Bus<DocShout>>,
    /// One compaction at a time: each builds a whole document, off the async workers.
    compacting: Arc<Semaphore>,
    /// What one peer's message may make a document hold.
    bounds: Bounds,
}

impl Hub {
    pub(crate) fn storage(&self) -> &dyn Storage {
        &*self.storage
    }

    /// The hub of peers whose messages are at most `max_message_bytes`.
    pub fn new(storage: Arc<dyn Storage>, max_message_bytes: usize) -> Self {
        Self {
            bounds: Bounds::for_messages_of(max_message_bytes),
            storage,
            docs: StdMutex::new(HashMap::new()),
            bus: OnceLock::new(),
            compacting: Arc::new(Semaphore::new(1)),
        }
    }

    /// Joins the other instances on `config`'s documents channel: from now on each instance hears
    /// which documents the others stored changes of.
    pub fn connect_bus(self: &Arc<Self>, config: &crate::config::RedisConfig) -> Result<(), redis::RedisError> {
        let listener = Arc::new(RemoteDocs::new(self));
        let channel = Channel { url: &config.url, name: config.documents_channel(), what: "documents" };
        // Only the first bus counts; a server connects one at start.
        let _ = self.bus.set(Bus::start(channel, listener)?);
        Ok(())
    }

    /// The entries in memory: all, or the one of `id`.
    pub(super) fn resident_entries(&self, id: Option<&DocumentId>) -> Vec<Arc<DocEntry>> {
        let docs = match self.docs.lock() {
            Ok(docs) => docs,
            Err(poisoned) => poisoned.into_inner(),
        };
        match id {
            Some(id) => docs.get(id).cloned().into_iter().collect(),
            None => docs.values().cloned().collect(),
        }
    }

    /// How many documents are in memory.
    pub fn resident(&self) -> usize {
        self.docs.lock().map(|d| d.len()).unwrap_or(0)
    }

    /// The document's entry, made if it is not in memory. Callers keep the `Arc` while they use
    /// it and call [`Hub::release`] after dropping it.
    pub fn entry(&self, id: &DocumentId) -> Arc<DocEntry> {
        let mut docs = match self.docs.lock() {
            Ok(docs) => docs,
            Err(poisoned) => poisoned.into_inner(),
        };
        docs.entry(id.clone())
            .or_insert_with(|| Arc::new(DocEntry { id: id.clone(), state: Mutex::new(DocState::default()) }))
            .clone()
    }

    /// Evicts a document nobody holds any more.
    pub fn release(&self, id: &DocumentId) {
        let mut docs = match self.docs.lock() {
            Ok(docs) => docs,
            Err(poisoned) => poisoned.into_inner(),
        };
        if docs.get(id).is_some_and(|e| Arc::strong_count(e) == 1) {
            docs.remove(id);
        }
    }

    /// Applies one sync message from `signal.user`'s connection `conn` (whose sync state for the
    /// document is `peer`), stores what it brought, wakes the other connections syncing the
    /// document and returns the reply. `request` is the protocol's "I do not have it" opening:
    /// a document nobody stored is then unavailable.
    pub async fn receive(
        &self,
        entry: &Arc<DocEntry>,
        conn: u64,
        signal: &Arc<Signal>,
        peer: &mut sync::State,
        data: &[u8],
        request: bool,
    ) -> Result<Applied, DocError> {
        let user = signal.user;
        let message = ledger::decode_message(data).map_err(|e| DocError::InvalidMessage(e.to_string()))?;
        let mut state = entry.state.lock().await;
        let DocState { loaded: slot, subscribers } = &mut *state;
        let loaded = self.loaded(&entry.id, slot).await?;
        if loaded.owner.is_some_and(|owner| owner != user) {
            subscribers.remove(&conn);
            return Err(DocError::Unavailable);
        }
        if request && loaded.owner.is_none() && loaded.doc.is_empty() {
            // Another device of the user may be about to store it (it listed the document in the
            // account before its changes arrived): the first change stored wakes this peer.
            subscribers.insert(conn, signal.clone());
            return Err(DocError::NotYetStored);
        }
        let mut compaction = None;
        let applied = match loaded.doc.receive_sync_message(peer, message, &self.bounds) {
            Ok(applied) => applied,
            Err(e) => {
                // Changes may have been applied before the failure: memory must match storage again.
                *slot = None;
                return Err(DocError::InvalidMessage(e.to_string()));
            }
        };
        if !applied.is_empty() {
            match self.commit(&entry.id, user, loaded, &applied).await {
                Ok(due) => compaction = due,
                Err(e) => {
                    *slot = None;
                    subscribers.remove(&conn);
                    return Err(e);
                }
            }
            for (other, subscriber) in subscribers.iter() {
                if *other != conn {
                    subscriber.mark(&entry.id);
                }
            }
            if let Some(bus) = self.bus.get() {
                bus.publish(DocShout::Changed { doc: entry.id.as_str().to_owned() });
            }
        }
        subscribers.insert(conn, signal.clone());
        let reply = loaded.doc.generate_sync_message(peer).map(sync::Message::encode);
        drop(state);
        if let Some(compaction) = compaction {
            self.start_compaction(entry, compaction);
        }
        Ok(Applied { reply })
    }

    /// The next message for a connection after the document changed, if it needs one.
    pub async fn generate(
        &self,
        entry: &DocEntry,
        user: UserId,
        peer: &mut sync::State,
    ) -> Result<Option<Vec<u8>>, DocError> {
        let mut state = entry.state.lock().await;
        let loaded = self.loaded(&entry.id, &mut state.loaded).await?;
        if loaded.owner.is_some_and(|owner| owner != user) {
            return Err(DocError::Unavailable);
        }
        Ok(loaded.doc.generate_sync_message(peer).map(sync::Message::encode))
    }

    /// Passes an ephemeral message from connection `conn` to the other connections syncing the
    /// document. Only a connection already syncing the document (so allowed to) may send one;
    /// returns whether it was.
    pub async fn relay(&self, entry: &DocEntry, conn: u64, message: Ephemeral) -> bool {
        let state = entry.state.lock().await;
        if !state.subscribers.contains_key(&conn) {
            return false;
        }
        for (other, subscriber) in &state.subscribers {
            if *other != conn {
                subscriber.post(message.clone());
            }
        }
        true
    }

    /// Forgets a connection (it closed or gave the document up).
    pub async fn unsubscribe(&self, entry: &DocEntry, conn: u64) {
        entry.state.lock().await.subscribers.remove(&conn);
    }

    async fn loaded<'a>(&self, id: &DocumentId, slot: &'a mut Option<Loaded>) -> Result<&'a mut Loaded, DocError> {
        if slot.is_none() {
            *slot = Some(self.load(id).await?);
        }
        slot.as_mut().ok_or(DocError::Unavailable)
    }

    async fn load(&self, id: &DocumentId) -> Result<Loaded, DocError> {
        let mut loaded = Loaded::default();
        self.load_new_chunks(id, &mut loaded).await?;
        Ok(loaded)
    }

    /// Reads the chunks of the document that `loaded` lacks (another instance stored them) and
    /// applies them; whether that changed its heads.
    async fn load_new_chunks(&self, id: &DocumentId, loaded: &mut Loaded) -> Result<bool, DocError> {
        if loaded.owner.is_none() {
            loaded.owner = self.storage.document_owner(id).await?;
            if loaded.owner.is_none() {
                return Ok(false);
            }
        }
        let mut changed = false;
        // Changes a device sent before their dependencies wait in memory, not stored: when a
        // chunk read here brings what they lack, they apply with it and must be stored then.
        let waiting = loaded.doc.waiting();
        let mut unstored = Vec::new();
        let read = self.storage.load_chunks_except(id, &loaded.chunks).await?;
        for chunk in read.new {
            let applied = loaded
                .doc
                .load(&chunk.bytes)
                .map_err(|e| StorageError::Corrupt(format!("document {id}, chunk {:?}: {e}", chunk.key)))?;
            changed |= !applied.is_empty();
            unstored.extend(applied.into_iter().filter(|hash| waiting.contains(hash)));
        }
        // What storage holds now, without the keys another instance's compaction replaced.
        loaded.chunks = read.stored;
        if !unstored.is_empty() {
            // Stored before anyone is told of them (a caller's error drops the document from
            // memory, so nothing unstored is ever announced).
            let bytes = loaded.doc.bytes_of(&unstored);
            let key = ChunkKey::Incremental(ContentHash::of(&bytes));
            self.storage.put_chunk(id, key, &bytes).await?;
            loaded.chunks.push(key);
        }
        Ok(changed)
    }

    /// Brings a document in memory up to what storage holds (another instance stored changes of
    /// it) and wakes the connections syncing it if that changed anything.
    pub(super) async fn refresh(&self, entry: &DocEntry) {
        let mut state = entry.state.lock().await;
        let DocState { loaded: slot, subscribers } = &mut *state;
        let changed = match slot.as_mut() {
            // Its next use loads it from storage whole.
            None => true,
            Some(loaded) => match self.load_new_chunks(&entry.id, loaded).await {
                Ok(changed) => changed,
                Err(e) => {
                    tracing::warn!(doc = %entry.id, error = %e, "reading another instance's changes failed");
                    *slot = None;
                    true
                }
            },
        };
        if changed {
            for subscriber in subscribers.values() {
                subscriber.mark(&entry.id);
            }
        }
    }

    /// Stores the `applied` changes, claiming the document for `user` if nobody has; returns the
    /// compaction now due, if one is.
    async fn commit(
        &self,
        id: &DocumentId,
        user: UserId,
        loaded: &mut Loaded,
        applied: &[ChangeHash],
    ) -> Result<Option<u64>, DocError> {
        if loaded.owner.is_none() {
            match self.storage.claim_document(id, user).await? {
                Claim::Owned => loaded.owner = Some(user),
                Claim::OwnedByOther => return Err(DocError::Unavailable),
            }
        }
        let bytes = loaded.doc.bytes_of(applied);
        let key = ChunkKey::Incremental(ContentHash::of(&bytes));
        self.storage.put_chunk(id, key, &bytes).await?;
        loaded.chunks.push(key);
        if loaded.chunks.len() < COMPACT_AFTER_CHUNKS.max(loaded.retry_at) || loaded.compacting.is_some() {
            return Ok(None);
        }
        let job = compaction::next_job();
        loaded.compacting = Some(job);
        Ok(Some(job))
    }
}

#[cfg(test)]
mod tests;
