//! The in-process fan-out: one [`Room`] per meetup with someone in it, holding its subscribers'
//! outboxes. Every write that gives a room a message (a sent text, a join, a leave) or changes its
//! notice runs under the room's order lock, and publishes only after storage committed it, so
//! subscribers receive messages in sequence order without gaps. Sends are group-committed: whoever
//! takes the lock writes everything queued meanwhile in one transaction. Each write runs in its own
//! task, so a client that disconnects mid-write cannot leave a committed message unpublished.
//!
//! One process only: several instances would publish through Redis pub/sub, with storage as the
//! source of truth for replay (not built yet). A subscriber that falls behind is dropped, never
//! skipped; it replays from its last sequence number when it reconnects.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};

use chrono::Utc;
use uuid::Uuid;

use super::frames::{self, ErrorCode};
use super::outbox::locked;
pub use super::outbox::{Event, Outbox};
use crate::storage::chat::{ChatMessage, MeetupId, MessageKind, NewMessage, Notice, Sender};
use crate::storage::meetups::{Join, Leave};
use crate::storage::{Storage, StorageError, UserId};

/// The most messages one group commit writes.
const MAX_BATCH: usize = 256;

/// A text message accepted from a member, waiting for the room's next group commit.
pub struct Post {
    pub sender: Sender,
    pub client_id: Uuid,
    pub text: String,
    /// Where its ack or error goes.
    pub outbox: Arc<Outbox>,
}

/// Posts waiting for a room's next group commit, and whether a task is committing them.
#[derive(Default)]
struct Pending {
    posts: Vec<Post>,
    committing: bool,
}

/// One meetup's room.
pub struct Room {
    pub meetup: MeetupId,
    /// Held around every write of the room and its publication.
    order: tokio::sync::Mutex<()>,
    pending: Mutex<Pending>,
    subscribers: Mutex<HashMap<u64, Arc<Outbox>>>,
    /// Who left the meetup through this room (and has not joined again). A send is checked for
    /// membership before it is queued; a leave that commits between that check and the group
    /// commit is caught here, so nothing from someone who left follows their leave message.
    departed: Mutex<HashSet<UserId>>,
}

impl Room {
    pub fn subscribe(&self, outbox: &Arc<Outbox>) {
        locked(&self.subscribers).insert(outbox.id, Arc::clone(outbox));
    }

    pub fn unsubscribe(&self, outbox: u64) {
        locked(&self.subscribers).remove(&outbox);
    }

    fn publish(&self, event: &Event) {
        for outbox in locked(&self.subscribers).values() {
            outbox.push(event.clone());
        }
    }

    fn publish_message(&self, message: &ChatMessage) {
        self.publish(&Event::Message { meetup: self.meetup, seq: message.seq, frame: frames::message(message) });
    }

    /// Stops delivering this room to every connection of `user` (everyone when `None`), telling
    /// each why.
    fn remove(&self, user: Option<UserId>, why: ErrorCode) {
        let mut subscribers = locked(&self.subscribers);
        subscribers.retain(|_, outbox| {
            let removed = user.is_none_or(|user| outbox.user == user);
            if removed {
                outbox.push(Event::Removed(self.meetup, why));
            }
            !removed
        });
    }
}

/// Every room with someone in it or a write under way. A room lives while a connection or a write
/// holds it; the map keeps only weak references.
pub struct Rooms {
    storage: Arc<dyn Storage>,
    rooms: Mutex<RoomMap>,
}

struct RoomMap {
    rooms: HashMap<MeetupId, Weak<Room>>,
    /// Dead entries are swept when the map reaches this size.
    sweep_at: usize,
}

impl Rooms {
    pub fn new(storage: Arc<dyn Storage>) -> Self {
        Self { storage, rooms: Mutex::new(RoomMap { rooms: HashMap::new(), sweep_at: 64 }) }
    }

    pub fn storage(&self) -> &dyn Storage {
        &*self.storage
    }

    pub fn room(&self, meetup: MeetupId) -> Arc<Room> {
        let mut map = locked(&self.rooms);
        if let Some(room) = map.rooms.get(&meetup).and_then(Weak::upgrade) {
            return room;
        }
        if map.rooms.len() >= map.sweep_at {
            map.rooms.retain(|_, room| room.strong_count() > 0);
            map.sweep_at = (map.rooms.len() * 2).max(64);
        }
        let room = Arc::new(Room {
            meetup,
            order: tokio::sync::Mutex::new(()),
            pending: Mutex::new(Pending::default()),
            subscribers: Mutex::new(HashMap::new()),
            departed: Mutex::new(HashSet::new()),
        });
        map.rooms.insert(meetup, Arc::downgrade(&room));
        room
    }

    /// Queues a member's message for the room's next group commit. Its ack (after it is stored and
    /// published) or its error goes to the post's outbox. One committer task per room at a time:
    /// it is started by the send that finds none running and ends when nothing is left queued, so
    /// a busy room costs one task and one lock round per commit, not per message.
    pub fn send(self: &Arc<Self>, meetup: MeetupId, post: Post) {
        let room = self.room(meetup);
        {
            let mut pending = locked(&room.pending);
            pending.posts.push(post);
            if pending.committing {
                return;
            }
            pending.committing = true;
        }
        let rooms = Arc::clone(self);
        tokio::spawn(async move { rooms.commit_pending(&room).await });
    }

    async fn commit_pending(&self, room: &Room) {
        /// A committer that panicked must not leave the room believing one is still running.
        struct Unwinding<'a>(&'a Room);
        impl Drop for Unwinding<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    locked(&self.0.pending).committing = false;
                }
            }
        }
        let _unwinding = Unwinding(room);
        loop {
            // Taken anew for each commit, so a join or a leave waiting for it gets its turn.
            let _order = room.order.lock().await;
            let queued = {
                let mut pending = locked(&room.pending);
                if pending.posts.is_empty() {
                    // Under the same lock as `send`'s check: a post queued after this starts a
                    // committer of its own.
                    pending.committing = false;
                    return;
                }
                std::mem::take(&mut pending.posts)
            };
            self.commit(room, queued).await;
        }
    }

    async fn commit(&self, room: &Room, mut queued: Vec<Post>) {
        {
            let departed = locked(&room.departed);
            queued.retain(|post| {
                let left = departed.contains(&post.sender.id);
                if left {
                    post.outbox.push(Event::Direct(frames::error(
                        ErrorCode::NotMember,
                        Some(room.meetup),
                        Some(post.client_id),
                    )));
                }
                !left
            });
        }
        for batch in queued.chunks(MAX_BATCH) {
            let new: Vec<NewMessage<'_>> = batch
                .iter()
                .map(|post| NewMessage {
                    meetup_id: room.meetup,
                    kind: MessageKind::Text,
                    sender: &post.sender,
                    client_id: Some(post.client_id),
                    text: &post.text,
                })
                .collect();
            match self.storage.post_messages(&new).await {
                Ok(posted) => {
                    for ((message, stored), post) in posted.iter().zip(batch) {
                        // A resend was published when it was first stored.
                        if *stored {
                            room.publish_message(message);
                        }
                        post.outbox.push(Event::Direct(frames::ack(message)));
                    }
                }
                Err(e) => {
                    let code = match e {
                        StorageError::UnknownMeetup => ErrorCode::UnknownMeetup,
                        e => {
                            tracing::error!(meetup = room.meetup, error = %e, "storing chat messages failed");
                            ErrorCode::StorageFailed
                        }
                    };
                    for post in batch {
                        post.outbox.push(Event::Direct(frames::error(code, Some(room.meetup), Some(post.client_id))));
                    }
                }
            }
        }
    }

    /// Adds `user` to the meetup and publishes the room's join message.
    pub async fn join(self: &Arc<Self>, meetup: MeetupId, user: Sender) -> Result<Join, StorageError> {
        self.write(meetup, move |rooms, room| async move {
            let joined = rooms.storage.join_meetup(meetup, &user, Utc::now()).await?;
            if let Join::Joined(message) = &joined {
                locked(&room.departed).remove(&user.id);
                room.publish_message(message);
            }
            Ok(joined)
        })
        .await
    }

    /// Removes `user` from the meetup, publishes the room's leave message and stops delivering the
    /// room to the user's connections.
    pub async fn leave(self: &Arc<Self>, meetup: MeetupId, user: Sender) -> Result<Leave, StorageError> {
        self.write(meetup, move |rooms, room| async move {
            let left = rooms.storage.leave_meetup(meetup, &user).await?;
            if let Leave::Left(message) = &left {
                locked(&room.departed).insert(user.id);
                room.publish_message(message);
                room.remove(Some(user.id), ErrorCode::NotMember);
            }
            Ok(left)
        })
        .await
    }

    /// Sets, replaces (`Some`) or removes (`None`) the meetup's notice and pushes it to the room.
    pub async fn change_notice(
        self: &Arc<Self>,
        meetup: MeetupId,
        text: Option<String>,
    ) -> Result<Option<Notice>, StorageError> {
        self.write(meetup, move |rooms, room| async move {
            let notice = rooms.storage.set_notice(meetup, text.as_deref().map(|text| (text, Utc::now()))).await?;
            room.publish(&Event::Direct(frames::notice(meetup, notice.as_ref())));
            Ok(notice)
        })
        .await
    }

    /// Tells everyone in the meetup's room that it is gone and stops delivering it. For the
    /// meetup's deletion, once it is committed.
    pub async fn close(&self, meetup: MeetupId) {
        let room = self.room(meetup);
        let _order = room.order.lock().await;
        room.remove(None, ErrorCode::UnknownMeetup);
    }

    /// Runs `write` under the room's order lock in a task of its own, so that a request dropped
    /// halfway (its client went away) cannot leave a committed change unpublished.
    async fn write<T, F, Fut>(self: &Arc<Self>, meetup: MeetupId, write: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Self>, Arc<Room>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, StorageError>> + Send,
    {
        let rooms = Arc::clone(self);
        let room = self.room(meetup);
        let task = tokio::spawn(async move {
            let order = Arc::clone(&room);
            let _order = order.order.lock().await;
            write(rooms, room).await
        });
        match task.await {
            Ok(result) => result,
            Err(e) => Err(StorageError::Io(std::io::Error::other(format!("a room write did not finish: {e}")))),
        }
    }
}
