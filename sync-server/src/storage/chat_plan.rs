//! What a group commit of chat messages does with each message, shared by both backends' batch
//! writers (`mysql/chat_batch.rs`, `sqlite/chat_batch.rs`): each backend reads, inside its
//! transaction, the batch's meetups, the senders' membership and the messages already stored
//! under the batch's (sender, client id) pairs; the plan then says which messages are resends,
//! which are refused and which are new, with their place in their meetup's new messages; the
//! backend advances each meetup's counter once and inserts the new ones; the plan numbers them and
//! gives each message its outcome, in order.
//!
//! Same results as appending the messages one by one with `insert_message` after checking each
//! sender's standing — a fixed number of statements per transaction instead of several per message.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::chat::{ChatMessage, MeetupId, MessageKind, NewMessage, Posted, RoomAccess, Sender};
use super::{StorageError, UserId};

/// A (sender, client id) pair as stored.
pub(crate) type Key = (String, String);

pub(crate) fn key(new: &NewMessage<'_>) -> Option<Key> {
    new.client_id.map(|c| (new.sender.id.to_db(), c.hyphenated().to_string()))
}

/// A time in milliseconds as stored; one that cannot be read (we wrote it) comes back as the epoch.
pub(crate) fn time(millis: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(millis).unwrap_or_default()
}

/// The batch's meetups as read in the transaction: host and end of each, and which senders are
/// members of which.
pub(crate) struct Rooms {
    pub(crate) meetups: HashMap<MeetupId, (String, i64)>,
    pub(crate) members: HashSet<(MeetupId, String)>,
}

impl Rooms {
    /// Why `new` may not be stored at `now`, if it may not (see `RoomAccess::refusal`). Every
    /// meetup of the batch is in `meetups` (a batch with a meetup gone is not planned).
    fn refusal(&self, new: &NewMessage<'_>, now: DateTime<Utc>) -> Option<Posted> {
        let sender = new.sender.id.to_db();
        let Some((host, ends_at)) = self.meetups.get(&new.meetup_id) else { return Some(Posted::NotMember) };
        let host = *host == sender;
        let member = host || self.members.contains(&(new.meetup_id, sender));
        RoomAccess { member, host, ends_at: time(*ends_at) }.refusal(now)
    }
}

/// A message stored before, as both backends read it: id, meetup, seq, text, time, sender id,
/// client id, and the sender's nickname now.
pub(crate) type StoredRow = (i64, i64, i64, String, i64, String, String, Option<String>);

/// The select list that reads a `StoredRow` (`c` the message, `u` its sender).
pub(crate) const STORED_COLUMNS: &str =
    "c.id, c.meetup_id, c.seq, c.text, c.created_at, c.sender_user_id, c.client_id, u.nickname";

/// The batch's messages stored before, by (sender, client id).
pub(crate) type StoredBefore = HashMap<Key, ChatMessage>;

pub(crate) fn stored_by_key(rows: Vec<StoredRow>) -> StoredBefore {
    let mut stored = HashMap::new();
    for (id, meetup_id, seq, text, created_at, sender, client, nickname) in rows {
        // The sender as the room shows them now.
        let shown = UserId::from_db(&sender).ok().zip(nickname).map(|(id, nickname)| Sender { id, nickname });
        let Ok(client_id) = Uuid::parse_str(&client) else { continue };
        let message = ChatMessage {
            id,
            meetup_id,
            seq,
            kind: MessageKind::Text,
            client_id: Some(client_id),
            sender: shown,
            text,
            at: time(created_at),
        };
        stored.insert((sender, client), message);
    }
    stored
}

/// Meetup ids as an SQL list (`1, 2, 3`): numbers, so safe to write into a statement.
pub(crate) fn id_list(ids: impl Iterator<Item = MeetupId>) -> String {
    ids.map(|id| id.to_string()).collect::<Vec<_>>().join(", ")
}

/// The `UPDATE` that advances each meetup's message counter by its count of new messages, in one
/// statement (both backends; SQLite adds `RETURNING`, MySQL reads the counters back after it).
pub(crate) fn counter_update(counts: &BTreeMap<MeetupId, i64>) -> String {
    let mut sql = String::from("UPDATE meetups SET chat_seq = chat_seq + CASE id");
    for (meetup, count) in counts {
        // Writing to a String cannot fail.
        let _ = write!(sql, " WHEN {meetup} THEN {count}");
    }
    let _ = write!(sql, " END WHERE id IN ({})", id_list(counts.keys().copied()));
    sql
}

/// What becomes of each message of a batch.
pub(crate) struct Plan {
    /// Where each key is first stored in this batch.
    first_of: HashMap<Key, usize>,
    refused: Vec<Option<Posted>>,
    /// How many new messages each meetup gets.
    counts: BTreeMap<MeetupId, i64>,
    /// Each new message's place among its meetup's new ones (from 1), its sequence number once
    /// `number` ran; `None` for the others.
    seqs: Vec<Option<i64>>,
    /// Each meetup's last sequence number after this batch (`number`).
    last: BTreeMap<MeetupId, i64>,
}

impl Plan {
    /// Classifies each message of `batch` at `now`: stored before, a repeat of one earlier in this
    /// batch, refused, or new.
    pub(crate) fn new(batch: &[NewMessage<'_>], stored: &StoredBefore, rooms: &Rooms, now: i64) -> Self {
        let mut plan = Self {
            first_of: HashMap::new(),
            refused: vec![None; batch.len()],
            counts: BTreeMap::new(),
            seqs: vec![None; batch.len()],
            last: BTreeMap::new(),
        };
        for (index, new) in batch.iter().enumerate() {
            let k = key(new);
            if k.as_ref().is_some_and(|k| stored.contains_key(k) || plan.first_of.contains_key(k)) {
                continue;
            }
            if let Some(refusal) = rooms.refusal(new, time(now)) {
                plan.refused[index] = Some(refusal);
                continue;
            }
            if let Some(k) = k {
                plan.first_of.insert(k, index);
            }
            let count = plan.counts.entry(new.meetup_id).or_default();
            *count += 1;
            plan.seqs[index] = Some(*count);
        }
        plan
    }

    /// How many new messages each meetup gets, by meetup id (empty: nothing to insert).
    pub(crate) fn counts(&self) -> &BTreeMap<MeetupId, i64> {
        &self.counts
    }

    /// Gives the new messages their sequence numbers from each meetup's counter after it was
    /// advanced by its count (`last`); `false` if a meetup of the counts is missing from `last`.
    pub(crate) fn number(&mut self, batch: &[NewMessage<'_>], last: BTreeMap<MeetupId, i64>) -> bool {
        if self.counts.keys().any(|meetup| !last.contains_key(meetup)) {
            return false;
        }
        for (seq, new) in self.seqs.iter_mut().zip(batch) {
            if let Some(offset) = seq {
                let meetup = new.meetup_id;
                *offset += last.get(&meetup).copied().unwrap_or_default()
                    - self.counts.get(&meetup).copied().unwrap_or_default();
            }
        }
        self.last = last;
        true
    }

    /// The new messages with their sequence numbers (after `number`), in batch order.
    pub(crate) fn new_messages<'p, 'b>(
        &'p self,
        batch: &'p [NewMessage<'b>],
    ) -> impl Iterator<Item = (&'p NewMessage<'b>, i64)> + 'p {
        batch.iter().zip(&self.seqs).filter_map(|(new, seq)| seq.map(|seq| (new, seq)))
    }

    /// Each meetup's new sequence numbers as (meetup, first, last) (after `number`).
    pub(crate) fn ranges(&self) -> impl Iterator<Item = (MeetupId, i64, i64)> + '_ {
        self.counts.iter().map(|(&meetup, &count)| {
            let last = self.last.get(&meetup).copied().unwrap_or_default();
            (meetup, last - count + 1, last)
        })
    }

    /// What became of each message, in order, given the new ones' ids and senders' nicknames by
    /// (meetup, seq) as inserted at `now`.
    pub(crate) fn outcome(
        mut self,
        batch: &[NewMessage<'_>],
        stored: &StoredBefore,
        mut ids: HashMap<(MeetupId, i64), (i64, Option<String>)>,
        now: i64,
    ) -> Result<Vec<Posted>, StorageError> {
        let mut posted: Vec<Posted> = Vec::with_capacity(batch.len());
        for (index, new) in batch.iter().enumerate() {
            if let Some(seq) = self.seqs[index] {
                let (id, nickname) = ids.remove(&(new.meetup_id, seq)).unwrap_or_default();
                posted.push(Posted::Stored(new.stored(id, seq, time(now), nickname)));
                continue;
            }
            if let Some(refusal) = self.refused[index].take() {
                posted.push(refusal);
                continue;
            }
            // Neither new nor refused, so it has a key: stored before, or first seen earlier in
            // this batch (whose outcome is already in place: one entry per message, in order).
            let earlier = key(new).and_then(|k| match self.first_of.get(&k).and_then(|&i| posted.get(i)) {
                Some(Posted::Stored(message)) => Some(message.clone()),
                _ => stored.get(&k).cloned(),
            });
            let Some(message) = earlier else {
                return Err(StorageError::Corrupt("a chat message neither new nor stored before".into()));
            };
            let sender = Some(new.sender_as(message.sender.map(|s| s.nickname)));
            posted.push(Posted::Resent(ChatMessage { kind: new.kind, sender, ..message }));
        }
        Ok(posted)
    }
}
