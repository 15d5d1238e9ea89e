//! A document as the server needs it: the graph of its changes, not its contents.
//!
//! The server relays and stores changes; it never reads a document. Automerge's own sync
//! implementation (`SyncDoc for Automerge`) needs the whole document in memory, and applying a
//! peer's change to it walks every operation of the object the change touches — on a document
//! that keeps overwriting a few keys that grows with every change, and it was most of the server's
//! CPU. The sync protocol itself only needs the change graph: heads, dependencies, which changes a
//! peer lacks (bloom filters of change hashes) and the bytes of changes to send. This module keeps
//! exactly that and speaks the protocol as `automerge::sync` does (same messages, same state
//! machine over the same [`sync::State`], version 1 and 2 messages), so clients cannot tell.
//!
//! What automerge checks and this does not: that a change's operations make sense against the
//! document (an operation on an object that does not exist, say). Every chunk is still parsed and
//! hashed by automerge, its checksum checked and its actor's sequence numbers kept unique; the
//! owner of a document is the only one who can write to it.

use std::collections::{BTreeSet, BinaryHeap, HashMap, HashSet};

use automerge::sync::{self, BloomFilter, Capability, ChunkList, Have, Message, MessageFlags, MessageVersion};
use automerge::{ActorId, Automerge, Change, ChangeHash};

/// Changes that wait for a dependency the server does not have, at most, per document in memory.
pub const MAX_PENDING: usize = 4096;

const MAGIC_BYTES: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const DOCUMENT_CHUNK: u8 = 0;
const CHANGE_CHUNK: u8 = 1;
const COMPRESSED_CHANGE_CHUNK: u8 = 2;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("chunk at byte {at}: {reason}")]
    Chunk { at: usize, reason: String },
    #[error("change {hash} reuses sequence number {seq} of its actor")]
    DuplicateSeq { hash: ChangeHash, seq: u64 },
    #[error("more than {MAX_PENDING} changes wait for changes the server does not have")]
    TooManyPending,
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

    /// Adds the changes held in `bytes` (any sequence of automerge chunks: changes, compressed
    /// changes, documents); returns the changes applied, in order.
    pub fn load(&mut self, bytes: &[u8]) -> Result<Vec<ChangeHash>, LedgerError> {
        let mut changes = Vec::new();
        split_chunks(bytes, &mut changes)?;
        self.apply(changes)
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

    fn apply(&mut self, changes: Vec<Change>) -> Result<Vec<ChangeHash>, LedgerError> {
        let mut arriving: HashMap<(ActorId, u64), ChangeHash> =
            self.pending.iter().map(|c| ((c.actor_id().clone(), c.seq()), c.hash())).collect();
        for change in changes {
            let hash = change.hash();
            if self.nodes.contains_key(&hash) || self.pending.iter().any(|c| c.hash() == hash) {
                continue;
            }
            let key = (change.actor_id().clone(), change.seq());
            let taken = self.seqs.get(&key.0).is_some_and(|&seq| seq >= key.1);
            if taken || arriving.get(&key).is_some_and(|other| *other != hash) {
                return Err(LedgerError::DuplicateSeq { hash, seq: key.1 });
            }
            arriving.insert(key, hash);
            self.pending.push(change);
        }
        let mut applied = Vec::new();
        loop {
            let before = applied.len();
            let mut waiting = Vec::with_capacity(self.pending.len());
            for change in std::mem::take(&mut self.pending) {
                if change.deps().iter().all(|dep| self.nodes.contains_key(dep)) {
                    applied.push(self.insert(change)?);
                } else {
                    waiting.push(change);
                }
            }
            self.pending = waiting;
            if applied.len() == before || self.pending.is_empty() {
                break;
            }
        }
        if self.pending.len() > MAX_PENDING {
            return Err(LedgerError::TooManyPending);
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

    fn bloom_filter(&self, last_sync: Vec<ChangeHash>) -> Have {
        let hashes = self.hashes_since(&last_sync);
        Have { last_sync, bloom: BloomFilter::from_hashes(hashes.iter()) }
    }

    /// What we lack to reach `start`: hashes neither applied nor waiting, following the
    /// dependencies of those waiting.
    fn missing_deps_from(&self, start: impl Iterator<Item = ChangeHash>) -> Vec<ChangeHash> {
        let waiting: HashMap<ChangeHash, &Change> = self.pending.iter().map(|c| (c.hash(), c)).collect();
        let mut missing = HashSet::new();
        let mut seen = HashSet::new();
        let mut stack: Vec<ChangeHash> = start.collect();
        while let Some(hash) = stack.pop() {
            if self.has_change(&hash) || !seen.insert(hash) {
                continue;
            }
            match waiting.get(&hash) {
                Some(change) => stack.extend(change.deps().iter().copied()),
                None => {
                    missing.insert(hash);
                }
            }
        }
        let mut missing: Vec<ChangeHash> = missing.into_iter().collect();
        missing.sort();
        missing
    }

    /// The changes a peer that has `have` and asked for `need` should get.
    fn hashes_to_send(&self, have: &[Have], need: &[ChangeHash]) -> Vec<ChangeHash> {
        let need: Vec<ChangeHash> = need.iter().filter(|h| self.has_change(h)).copied().collect();
        if have.is_empty() {
            return need;
        }
        let mut last_sync: Vec<ChangeHash> = have.iter().flat_map(|h| h.last_sync.iter().copied()).collect();
        last_sync.sort();
        last_sync.dedup();
        let since = self.hashes_since(&last_sync);
        let since_set: HashSet<&ChangeHash> = since.iter().collect();
        let mut dependents: HashMap<ChangeHash, Vec<ChangeHash>> = HashMap::new();
        let mut to_send = HashSet::new();
        for hash in &since {
            for dep in self.nodes[hash].deps.iter() {
                if since_set.contains(dep) {
                    dependents.entry(*dep).or_default().push(*hash);
                }
            }
            if have.iter().all(|h| !h.bloom.contains_hash(hash)) {
                to_send.insert(*hash);
            }
        }
        // A change the peer lacks makes it lack everything built on it as well.
        let mut stack: Vec<ChangeHash> = to_send.iter().copied().collect();
        while let Some(hash) = stack.pop() {
            for dependent in dependents.get(&hash).into_iter().flatten() {
                if to_send.insert(*dependent) {
                    stack.push(*dependent);
                }
            }
        }
        let mut hashes: Vec<ChangeHash> = need.into_iter().filter(|h| !to_send.contains(h)).collect();
        hashes.extend(since.into_iter().filter(|h| to_send.contains(h)));
        hashes
    }

    /// Forgets the sent changes the peer now has (those its `heads` include).
    fn filter_sent(&self, heads: &[ChangeHash], sent: &mut BTreeSet<ChangeHash>) {
        if sent.is_empty() || !heads.iter().any(|h| self.has_change(h)) {
            return;
        }
        let lacking: HashSet<ChangeHash> = self.hashes_since(heads).into_iter().collect();
        sent.retain(|hash| lacking.contains(hash));
    }

    /// The next message for the peer `state` describes, as `SyncDoc::generate_sync_message`
    /// would make it.
    pub fn generate_sync_message(&self, state: &mut sync::State) -> Option<Message> {
        let our_heads = self.heads();
        let our_need = if state.read_only {
            Vec::new()
        } else {
            self.missing_deps_from(state.their_heads.iter().flatten().copied())
        };
        let their_heads: HashSet<&ChangeHash> = state.their_heads.iter().flatten().collect();
        let our_have = if our_need.iter().all(|hash| their_heads.contains(hash)) {
            vec![self.bloom_filter(state.shared_heads.clone())]
        } else {
            Vec::new()
        };
        if let Some(first) = state.their_have.as_ref().and_then(|have| have.first())
            && !first.last_sync.iter().all(|hash| self.has_change(hash))
        {
            return Some(reset(our_heads));
        }
        let v2 = has_capability(state, &Capability::MessageV2);
        let outgoing = match (&state.their_have, &state.their_need) {
            _ if state.peer_read_only => Outgoing::changes(self, Vec::new(), v2),
            (Some(have), Some(need)) => {
                if state.their_heads.as_ref().is_some_and(Vec::is_empty) && v2 {
                    Outgoing::everything(self)
                } else {
                    let hashes: Vec<ChangeHash> = self
                        .hashes_to_send(have, need)
                        .into_iter()
                        .filter(|hash| !state.sent_hashes.contains(hash))
                        .collect();
                    if hashes.len() > self.order.len() / 3 && v2 {
                        Outgoing::everything(self)
                    } else {
                        Outgoing::changes(self, hashes, v2)
                    }
                }
            }
            _ => Outgoing::changes(self, Vec::new(), v2),
        };
        let heads_unchanged = state.last_sent_heads == our_heads;
        let heads_equal = state.their_heads.as_ref() == Some(&our_heads);
        if heads_unchanged && state.have_responded {
            if (heads_equal || state.read_only) && outgoing.hashes.is_empty() {
                return None;
            }
            if state.in_flight {
                return None;
            }
        }
        state.have_responded = true;
        state.last_sent_heads.clone_from(&our_heads);
        state.sent_hashes.extend(outgoing.hashes.iter().copied());
        let mut flags = MessageFlags::new();
        flags.set(MessageFlags::SUPPORTS_SYNC_RESET);
        if state.read_only {
            flags.set(MessageFlags::READ_ONLY);
        }
        let heads = if state.needs_reset {
            state.needs_reset = false;
            if has_capability(state, &Capability::SyncReset) {
                flags.set(MessageFlags::SYNC_RESET);
                our_heads
            } else {
                Vec::new()
            }
        } else {
            our_heads
        };
        state.in_flight = true;
        Some(Message {
            heads,
            need: our_need,
            have: our_have,
            changes: ChunkList::from(outgoing.chunks),
            flags: Some(flags),
            version: outgoing.version,
        })
    }

    /// Takes in a peer's message as `SyncDoc::receive_sync_message` would; returns the changes
    /// it brought that were applied, in order. After an error the ledger may hold some of them:
    /// the caller discards it.
    pub fn receive_sync_message(
        &mut self,
        state: &mut sync::State,
        message: Message,
    ) -> Result<Vec<ChangeHash>, LedgerError> {
        state.in_flight = false;
        let before = self.heads();
        let Message { heads: message_heads, changes, need, have, flags, .. } = message;
        if let Some(flags) = flags {
            let mut capabilities = vec![Capability::MessageV2];
            if flags.contains(MessageFlags::SUPPORTS_SYNC_RESET) {
                capabilities.push(Capability::SyncReset);
            }
            state.their_capabilities = Some(capabilities);
            if flags.contains(MessageFlags::SYNC_RESET) {
                state.sent_hashes.clear();
            }
            state.peer_read_only = flags.contains(MessageFlags::READ_ONLY);
        }
        let mut applied = Vec::new();
        if !changes.is_empty() && !state.read_only {
            let mut parsed = Vec::new();
            for blob in changes.iter() {
                split_chunks(blob, &mut parsed)?;
            }
            applied = self.apply(parsed)?;
            state.shared_heads = advance_heads(&before, &self.heads, &state.shared_heads);
        }
        self.filter_sent(&message_heads, &mut state.sent_hashes);
        if changes.is_empty() && message_heads == before {
            state.last_sent_heads.clone_from(&message_heads);
        }
        let known: Vec<ChangeHash> = message_heads.iter().filter(|h| self.has_change(h)).copied().collect();
        if known.len() == message_heads.len() {
            state.shared_heads.clone_from(&message_heads);
            // The peer lost everything: start over with it.
            if message_heads.is_empty() {
                state.last_sent_heads = Vec::new();
                state.sent_hashes = BTreeSet::new();
            }
        } else {
            let mut shared: Vec<ChangeHash> = state.shared_heads.iter().chain(&known).copied().collect();
            shared.sort();
            shared.dedup();
            state.shared_heads = shared;
        }
        state.their_have = Some(have);
        state.their_heads = Some(message_heads);
        state.their_need = Some(need);
        Ok(applied)
    }
}

/// The changes part of an outgoing message.
struct Outgoing {
    hashes: Vec<ChangeHash>,
    chunks: Vec<Vec<u8>>,
    version: MessageVersion,
}

impl Outgoing {
    /// Version 2 carries every change in one chunk list entry; version 1 one entry per change.
    fn changes(ledger: &Ledger, hashes: Vec<ChangeHash>, v2: bool) -> Self {
        if !v2 {
            let chunks = hashes.iter().filter_map(|h| ledger.nodes.get(h)).map(|n| n.bytes.to_vec()).collect();
            return Self { hashes, chunks, version: MessageVersion::V1 };
        }
        let bytes = ledger.bytes_of(&hashes);
        let chunks = if bytes.is_empty() { Vec::new() } else { vec![bytes] };
        Self { hashes, chunks, version: MessageVersion::V2 }
    }

    /// The whole document, for a peer that has none of it or lacks much of it.
    fn everything(ledger: &Ledger) -> Self {
        Self::changes(ledger, ledger.order.clone(), true)
    }
}

fn has_capability(state: &sync::State, capability: &Capability) -> bool {
    state.their_capabilities.as_ref().is_some_and(|c| c.contains(capability))
}

/// The message that tells a peer we cannot use what it says it has (automerge's `Message::reset`).
fn reset(heads: Vec<ChangeHash>) -> Message {
    let mut flags = MessageFlags::new();
    flags.set(MessageFlags::SUPPORTS_SYNC_RESET);
    Message {
        heads,
        need: Vec::new(),
        have: vec![Have::default()],
        changes: ChunkList::empty(),
        flags: Some(flags),
        version: MessageVersion::V1,
    }
}

/// The heads both sides share after applying changes (automerge's `advance_heads`).
fn advance_heads(before: &[ChangeHash], after: &BTreeSet<ChangeHash>, shared: &[ChangeHash]) -> Vec<ChangeHash> {
    let mut heads: Vec<ChangeHash> = after.iter().filter(|h| !before.contains(h)).copied().collect();
    heads.extend(shared.iter().filter(|h| after.contains(h)));
    heads.sort();
    heads.dedup();
    heads
}

/// Parses a sequence of automerge chunks into changes: change chunks as they are, documents
/// unpacked into their changes.
fn split_chunks(bytes: &[u8], out: &mut Vec<Change>) -> Result<(), LedgerError> {
    let mut at = 0;
    while at < bytes.len() {
        let fail = |reason: String| LedgerError::Chunk { at, reason };
        let (kind, len) = chunk_header(&bytes[at..]).ok_or_else(|| fail("not an automerge chunk".into()))?;
        let chunk = bytes.get(at..at + len).ok_or_else(|| fail("truncated".into()))?;
        match kind {
            CHANGE_CHUNK | COMPRESSED_CHANGE_CHUNK => {
                let change = Change::try_from(chunk).map_err(|e| fail(e.to_string()))?;
                if change.hash().0[..4] != chunk[4..8] {
                    return Err(fail("checksum mismatch".into()));
                }
                out.push(change);
            }
            DOCUMENT_CHUNK => {
                let doc = Automerge::load(chunk).map_err(|e| fail(e.to_string()))?;
                out.extend(doc.get_changes(&[]));
            }
            other => return Err(fail(format!("unsupported chunk type {other}"))),
        }
        at += len;
    }
    Ok(())
}

/// A chunk's type and whole length (header included): magic bytes, checksum, type, LEB128 length.
fn chunk_header(bytes: &[u8]) -> Option<(u8, usize)> {
    if bytes.get(..4)? != MAGIC_BYTES {
        return None;
    }
    let kind = *bytes.get(8)?;
    let mut len: u64 = 0;
    let mut at = 9;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(at)?;
        at += 1;
        len |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return at.checked_add(usize::try_from(len).ok()?).map(|total| (kind, total));
        }
    }
    None
}

#[cfg(test)]
#[path = "ledger_tests.rs"]
mod tests;
