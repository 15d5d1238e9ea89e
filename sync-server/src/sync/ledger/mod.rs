//! A document as the server needs it: the graph of its changes, not its contents.
//!
//! The server relays and stores changes; it never reads a document. Automerge's own sync
//! implementation (`SyncDoc for Automerge`) needs the whole document in memory, and applying a
//! peer's change to it walks every operation of the object the change touches. Overwritten values
//! stay in that object, so the walk grows with every change, and it was most of the server's CPU.
//! The sync protocol itself only needs the change graph: heads, dependencies, which changes a peer
//! lacks (bloom filters of change hashes) and the bytes of changes to send. This module keeps
//! exactly that and speaks the protocol as `automerge::sync` does (same messages, same state
//! machine over the same [`sync::State`], version 1 and 2 messages), so clients cannot tell.
//!
//! What automerge checks and this does not: that a change's operations make sense against the
//! document (an operation on an object that does not exist, say). Every chunk is still parsed and
//! hashed by automerge, its checksum checked and its actor's sequence numbers kept unique; the
//! owner of a document is the only one who can write to it.
//!
//! What a peer sends is bounded before automerge works on it ([`Bounds`]): the bloom filters and
//! entries of a sync message (`message`), what its compressed chunks inflate to (`inflate`), and
//! the bytes of changes left waiting for their dependencies.

use std::collections::{BTreeSet, BinaryHeap, HashMap};

use automerge::{ActorId, Change, ChangeHash};

use chunks::split_chunks;
use inflate::Allowance;

mod chunks;
mod cursor;
mod inflate;
mod message;
mod protocol;

pub use message::decode_message;

/// Changes that wait for a dependency the server does not have, at most, per document in memory
/// (what peers send; not what the server reads back from its storage).
pub const MAX_PENDING: usize = 4096;

/// What one message of a peer may make a ledger hold, beyond the bytes of the message itself.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Bytes the compressed change chunks of one message may inflate to, in all.
    pub inflated_changes: usize,
    /// Bytes the compressed columns of the documents in one message may inflate to, in all.
    pub inflated_documents: usize,
    /// Bytes of the changes waiting for a dependency the server does not have, per document.
    pub pending_bytes: usize,
    /// How many changes may wait so, per document.
    pub pending_changes: usize,
}

impl Bounds {
    /// How many times its size a document's compressed columns may inflate to. automerge encodes
    /// columns (run lengths, deltas) before deflating them, so deflate rarely gains more than a few
    /// times on a real save; a deflate bomb gains a thousand.
    pub const DOCUMENT_INFLATION: usize = 16;

    /// The bounds for peers whose messages are at most `max_message_bytes`: compressed changes
    /// inflate to no more than the message could have carried uncompressed; documents (a whole
    /// save, which an automerge peer sends compressed) to [`Bounds::DOCUMENT_INFLATION`] times
    /// that; and the changes left waiting for their dependencies take no more than two messages
    /// (those of one message, waiting for the next one's).
    pub fn for_messages_of(max_message_bytes: usize) -> Self {
        Self {
            inflated_changes: max_message_bytes,
            inflated_documents: max_message_bytes.saturating_mul(Self::DOCUMENT_INFLATION),
            pending_bytes: max_message_bytes.saturating_mul(2),
            pending_changes: MAX_PENDING,
        }
    }

    /// For what the server reads back from its own storage: it accepted all of it once. Chunks
    /// are read in no causal order, so one may hold any number of changes whose dependencies come
    /// in a chunk read after it: no limit on what waits either, or the document could never load.
    const TRUSTED: Self = Self {
        inflated_changes: usize::MAX,
        inflated_documents: usize::MAX,
        pending_bytes: usize::MAX,
        pending_changes: usize::MAX,
    };

    fn allowance(&self) -> Allowance {
        Allowance { changes: self.inflated_changes, documents: self.inflated_documents }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("chunk at byte {at}: {reason}")]
    Chunk { at: usize, reason: String },
    #[error("change {hash} reuses sequence number {seq} of its actor")]
    DuplicateSeq { hash: ChangeHash, seq: u64 },
    #[error("more than {0} changes wait for changes the server does not have")]
    TooManyPending(usize),
    #[error("changes waiting for changes the server does not have take more than {0} bytes")]
    TooManyPendingBytes(usize),
    #[error("sync message refused: {0}")]
    Message(String),
}

struct Node {
    /// Position in `Ledger::order`.
    index: usize,
    deps: Box<[ChangeHash]>,
    bytes: Box<[u8]>,
}

/// The change graph of one document, with the bytes of every change.
#[derive(Default)]
pub struct Ledger {
    nodes: HashMap<ChangeHash, Node>,
    /// Every change in the order it was applied: each after its dependencies.
    order: Vec<ChangeHash>,
    heads: BTreeSet<ChangeHash>,
    /// The highest sequence number applied, per actor.
    seqs: HashMap<ActorId, u64>,
    /// Changes whose dependencies have not all arrived, in arrival order.
    pending: Vec<Change>,
}

impl Ledger {
    /// The document's heads, sorted.
    pub fn heads(&self) -> Vec<ChangeHash> {
        self.heads.iter().copied().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    pub fn has_change(&self, hash: &ChangeHash) -> bool {
        self.nodes.contains_key(hash)
    }

    /// The changes that wait for a dependency the ledger does not have.
    pub fn waiting(&self) -> std::collections::HashSet<ChangeHash> {
        self.pending.iter().map(Change::hash).collect()
    }

    /// Whether any change waits so.
    pub fn has_waiting(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Adds the changes held in `bytes`, read from the server's storage (any sequence of
    /// automerge chunks: changes, compressed changes, documents); returns the changes applied, in
    /// order.
    pub fn load(&mut self, bytes: &[u8]) -> Result<Vec<ChangeHash>, LedgerError> {
        let mut changes = Vec::new();
        split_chunks(bytes, &mut changes, &mut Bounds::TRUSTED.allowance())?;
        self.apply(changes, &Bounds::TRUSTED)
    }

    /// The bytes of `hashes`' changes, one after the other: a chunk sequence [`Ledger::load`] and
    /// `Automerge::load_incremental` read.
    pub fn bytes_of<'a>(&self, hashes: impl IntoIterator<Item = &'a ChangeHash>) -> Vec<u8> {
        let mut out = Vec::new();
        for hash in hashes {
            if let Some(node) = self.nodes.get(hash) {
                out.extend_from_slice(&node.bytes);
            }
        }
        out
    }

    /// Every change, dependencies first.
    pub fn all_bytes(&self) -> Vec<u8> {
        self.bytes_of(&self.order)
    }

    /// Applies what arrived, each change once all its dependencies are in, in time linear in
    /// the changes (a message may hold a hundred thousand, in any order).
    fn apply(&mut self, changes: Vec<Change>, bounds: &Bounds) -> Result<Vec<ChangeHash>, LedgerError> {
        let mut arriving: HashMap<(ActorId, u64), ChangeHash> =
            self.pending.iter().map(|c| ((c.actor_id().clone(), c.seq()), c.hash())).collect();
        for change in changes {
            let hash = change.hash();
            let key = (change.actor_id().clone(), change.seq());
            if self.nodes.contains_key(&hash) || arriving.get(&key) == Some(&hash) {
                continue;
            }
            let taken = self.seqs.get(&key.0).is_some_and(|&seq| seq >= key.1);
            if taken || arriving.contains_key(&key) {
                return Err(LedgerError::DuplicateSeq { hash, seq: key.1 });
            }
            arriving.insert(key, hash);
            self.pending.push(change);
        }
        // Kahn's order: how many dependencies each waiting change lacks, and who waits on what.
        let mut lacking = vec![0usize; self.pending.len()];
        let mut waiting_on: HashMap<ChangeHash, Vec<usize>> = HashMap::new();
        let mut ready = std::collections::VecDeque::new();
        for (i, change) in self.pending.iter().enumerate() {
            let mut deps: Vec<&ChangeHash> = change.deps().iter().filter(|d| !self.nodes.contains_key(d)).collect();
            deps.sort_unstable();
            deps.dedup();
            lacking[i] = deps.len();
            for dep in deps {
                waiting_on.entry(*dep).or_default().push(i);
            }
            if lacking[i] == 0 {
                ready.push_back(i);
            }
        }
        let mut slots: Vec<Option<Change>> = std::mem::take(&mut self.pending).into_iter().map(Some).collect();
        let mut applied = Vec::new();
        while let Some(i) = ready.pop_front() {
            let Some(change) = slots[i].take() else { continue };
            let hash = self.insert(change)?;
            applied.push(hash);
            for waiter in waiting_on.remove(&hash).into_iter().flatten() {
                lacking[waiter] -= 1;
                if lacking[waiter] == 0 {
                    ready.push_back(waiter);
                }
            }
        }
        self.pending = slots.into_iter().flatten().collect();
        if self.pending.len() > bounds.pending_changes {
            return Err(LedgerError::TooManyPending(bounds.pending_changes));
        }
        let pending_bytes: usize = self.pending.iter().map(|c| c.raw_bytes().len()).sum();
        if pending_bytes > bounds.pending_bytes {
            return Err(LedgerError::TooManyPendingBytes(bounds.pending_bytes));
        }
        Ok(applied)
    }

    fn insert(&mut self, change: Change) -> Result<ChangeHash, LedgerError> {
        let hash = change.hash();
        let seq = self.seqs.entry(change.actor_id().clone()).or_insert(0);
        if *seq >= change.seq() {
            return Err(LedgerError::DuplicateSeq { hash, seq: change.seq() });
        }
        *seq = change.seq();
        for dep in change.deps() {
            self.heads.remove(dep);
        }
        self.heads.insert(hash);
        let node = Node { index: self.order.len(), deps: change.deps().into(), bytes: change.raw_bytes().into() };
        self.nodes.insert(hash, node);
        self.order.push(hash);
        Ok(hash)
    }

    /// The changes that are not `heads` nor among their ancestors (hashes not held are ignored),
    /// dependencies first: what a peer at `heads` lacks.
    ///
    /// Walks back from both our heads and `heads`, newest first, painting what each reaches, and
    /// stops when nothing reached only from our side is left: the cost is the changes since
    /// `heads`, not the document.
    fn hashes_since(&self, heads: &[ChangeHash]) -> Vec<ChangeHash> {
        const OURS: u8 = 1;
        const THEIRS: u8 = 2;
        let theirs: Vec<usize> = heads.iter().filter_map(|h| self.nodes.get(h)).map(|n| n.index).collect();
        if theirs.is_empty() {
            return self.order.clone();
        }
        let mut paint: HashMap<usize, u8> = HashMap::new();
        for head in &self.heads {
            paint.insert(self.nodes[head].index, OURS);
        }
        for index in theirs {
            *paint.entry(index).or_default() |= THEIRS;
        }
        let mut queue: BinaryHeap<usize> = paint.keys().copied().collect();
        let mut ours_only = paint.values().filter(|p| **p == OURS).count();
        let mut since = Vec::new();
        while ours_only > 0 {
            let Some(index) = queue.pop() else { break };
            let colour = paint[&index];
            if colour == OURS {
                ours_only -= 1;
                since.push(index);
            }
            for dep in self.nodes[&self.order[index]].deps.iter() {
                let dep = self.nodes[dep].index;
                let old = paint.get(&dep).copied().unwrap_or(0);
                let new = old | colour;
                if new == old {
                    continue;
                }
                paint.insert(dep, new);
                if old == 0 {
                    queue.push(dep);
                }
                match (old == OURS, new == OURS) {
                    (false, true) => ours_only += 1,
                    (true, false) => ours_only -= 1,
                    _ => {}
                }
            }
        }
        since.sort_unstable();
        since.into_iter().map(|index| self.order[index]).collect()
    }
}

#[cfg(test)]
mod tests;
