//! The sync protocol over a [`Ledger`]: the same messages and state machine as automerge's
//! `SyncDoc for Automerge` (automerge 0.12 `sync.rs`), step for step.

use std::collections::{BTreeSet, HashMap, HashSet};

use automerge::sync::{self, BloomFilter, Capability, ChunkList, Have, Message, MessageFlags, MessageVersion};
use automerge::{Change, ChangeHash};

use super::{Bounds, Ledger, LedgerError, split_chunks};

impl Ledger {
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

    /// Takes in a peer's message (decoded by [`super::decode_message`]) as
    /// `SyncDoc::receive_sync_message` would, within `bounds`; returns the changes it brought that
    /// were applied, in order. After an error the ledger may hold some of them: the caller
    /// discards it.
    pub fn receive_sync_message(
        &mut self,
        state: &mut sync::State,
        message: Message,
        bounds: &Bounds,
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
            let mut allowance = bounds.allowance();
            for blob in changes.iter() {
                split_chunks(blob, &mut parsed, &mut allowance)?;
            }
            applied = self.apply(parsed, bounds)?;
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
