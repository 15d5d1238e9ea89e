//! A connection's outbox: the bounded queue of events (stored messages of its rooms, its acks and
//! errors) waiting to be written to its socket. Pushing never waits; a reader too slow for its
//! rooms overflows and is closed, never skipped (it replays from its last sequence number).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::Notify;

use super::frames::ErrorCode;
use crate::storage::UserId;
use crate::storage::chat::MeetupId;

pub(super) fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain data behind; keep going with it.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

static NEXT_OUTBOX: AtomicU64 = AtomicU64::new(1);

/// What reaches a connection.
#[derive(Debug, Clone)]
pub enum Event {
    /// A stored message of a room, already encoded.
    Message { meetup: MeetupId, seq: i64, frame: Utf8Bytes },
    /// A frame sent as it is: a room's notice, or an ack or error for this connection.
    Direct(Utf8Bytes),
    /// The room sends this connection nothing more, and says why: `not_member` when the user left,
    /// `unknown_meetup` when the meetup was deleted.
    Removed(MeetupId, ErrorCode),
    /// Something of the room may have been lost on its way here (another instance's event through
    /// Redis): send the client what storage holds after its last sequence number.
    CatchUp(MeetupId),
    /// The connection's account was deleted: the connection closes.
    AccountDeleted,
}

/// The queue filled up: the connection is too slow for its rooms and must reconnect.
#[derive(Debug)]
pub struct Overflowed;

/// One connection's bounded queue of events. Pushing never waits: a full queue marks the
/// connection overflowed and drops what it held, and the connection closes (the client replays
/// from its last sequence number), so one slow reader never holds up a room.
pub struct Outbox {
    pub id: u64,
    pub user: UserId,
    capacity: usize,
    queue: Mutex<VecDeque<Event>>,
    overflowed: AtomicBool,
    notify: Notify,
}

impl Outbox {
    pub fn new(user: UserId, capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            id: NEXT_OUTBOX.fetch_add(1, Ordering::Relaxed),
            user,
            capacity,
            queue: Mutex::new(VecDeque::new()),
            overflowed: AtomicBool::new(false),
            notify: Notify::new(),
        })
    }

    pub fn push(&self, event: Event) {
        {
            let mut queue = locked(&self.queue);
            if self.overflowed.load(Ordering::Relaxed) {
                return;
            }
            if queue.len() >= self.capacity {
                self.overflowed.store(true, Ordering::Relaxed);
                queue.clear();
            } else {
                queue.push_back(event);
            }
        }
        self.notify.notify_one();
    }

    /// Waits for events and takes them all, oldest first.
    pub async fn next(&self) -> Result<Vec<Event>, Overflowed> {
        loop {
            {
                let mut queue = locked(&self.queue);
                if self.overflowed.load(Ordering::Relaxed) {
                    return Err(Overflowed);
                }
                if !queue.is_empty() {
                    return Ok(queue.drain(..).collect());
                }
            }
            self.notify.notified().await;
        }
    }
}

/// Every open connection's outbox by user, so that all of one user's connections are reached at
/// once (their account was deleted), whatever rooms they are in.
#[derive(Default)]
pub struct Connections(Mutex<HashMap<UserId, HashMap<u64, Weak<Outbox>>>>);

impl Connections {
    /// A connection opened: `close_all_of` reaches it until it is `closed`.
    pub fn opened(&self, outbox: &Arc<Outbox>) {
        locked(&self.0).entry(outbox.user).or_default().insert(outbox.id, Arc::downgrade(outbox));
    }

    pub fn closed(&self, outbox: &Outbox) {
        let mut connections = locked(&self.0);
        if let Some(of_user) = connections.get_mut(&outbox.user) {
            of_user.remove(&outbox.id);
            if of_user.is_empty() {
                connections.remove(&outbox.user);
            }
        }
    }

    /// Tells every open connection of `user` to close: its account was deleted.
    pub fn close_all_of(&self, user: UserId) {
        let outboxes: Vec<Arc<Outbox>> = locked(&self.0)
            .get(&user)
            .map(|of_user| of_user.values().filter_map(Weak::upgrade).collect())
            .unwrap_or_default();
        for outbox in outboxes {
            outbox.push(Event::AccountDeleted);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: i64) -> Event {
        Event::Message { meetup: 1, seq: n, frame: Utf8Bytes::from(n.to_string()) }
    }

    #[tokio::test]
    async fn an_outbox_hands_over_its_events_in_order() {
        let outbox = Outbox::new(UserId::random(), 4);
        outbox.push(frame(1));
        outbox.push(frame(2));
        let seqs: Vec<i64> = outbox
            .next()
            .await
            .expect("not overflowed")
            .into_iter()
            .filter_map(|e| if let Event::Message { seq, .. } = e { Some(seq) } else { None })
            .collect();
        assert_eq!(seqs, vec![1, 2]);
    }

    #[tokio::test]
    async fn a_full_outbox_overflows_rather_than_skipping_or_waiting() {
        let outbox = Outbox::new(UserId::random(), 3);
        for n in 1..=4 {
            outbox.push(frame(n));
        }
        assert!(outbox.next().await.is_err(), "the connection must close and replay");
        outbox.push(frame(5));
        assert!(outbox.next().await.is_err(), "and stays overflowed");
    }
}
