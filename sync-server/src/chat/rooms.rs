//! The in-process fan-out: one [`Room`] per meetup with someone in it, holding its subscribers'
//! outboxes. Every write that gives a room a message (a sent text, a join, a leave) or changes its
//! notice runs under the room's order lock, and publishes only after storage committed it, so
//! subscribers receive messages in sequence order without gaps. Sends are group-committed: whoever
//! takes the lock writes everything queued meanwhile in one transaction. Each write runs in its own
//! task, so a client that disconnects mid-write cannot leave a committed message unpublished.
//!
//! Several instances: with a bus (`bus.rs`, Redis pub/sub) each publication also goes to the other
//! instances, which hand it to their subscribers of the room; storage stays the source of truth for
//! replay. A subscriber that falls behind is dropped, never skipped; it replays from its last
//! sequence number when it reconnects.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use chrono::Utc;
use uuid::Uuid;

use super::bus::{Bus, Shout};
use super::frames::{self, ErrorCode};
use super::outbox::locked;
pub use super::outbox::{Connections, Event, Outbox};
use crate::storage::chat::{ChatMessage, MeetupId, MessageKind, NewMessage, Notice, Posted, Sender};
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
}

impl Room {
    pub fn subscribe(&self, outbox: &Arc<Outbox>) {
        locked(&self.subscribers).insert(outbox.id, Arc::clone(outbox));
    }

    pub fn unsubscribe(&self, outbox: u64) {
        locked(&self.subscribers).remove(&outbox);
    }

    /// Whether the room delivers to the connection of `outbox`.
    pub fn delivers_to(&self, outbox: u64) -> bool {
        locked(&self.subscribers).contains_key(&outbox)
    }

    /// How many connections the room delivers to.
    pub fn subscribers(&self) -> usize {
        locked(&self.subscribers).len()
    }

    pub(super) fn publish(&self, event: &Event) {
        for outbox in locked(&self.subscribers).values() {
            outbox.push(event.clone());
        }
    }

    /// Stops delivering this room to every connection of `user` (everyone when `None`), telling
    /// each why.
    pub(super) fn remove(&self, user: Option<UserId>, why: ErrorCode) {
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
    /// The other instances, when there are any.
    bus: OnceLock<Bus<Shout>>,
    /// Every open connection, by user.
    connections: Connections,
}

struct RoomMap {
    rooms: HashMap<MeetupId, Weak<Room>>,
    /// Dead entries are swept when the map reaches this size.
    sweep_at: usize,
}

impl Rooms {
    pub fn new(storage: Arc<dyn Storage>) -> Self {
        Self {
            storage,
            rooms: Mutex::new(RoomMap { rooms: HashMap::new(), sweep_at: 64 }),
            bus: OnceLock::new(),
            connections: Connections::default(),
        }
    }

    /// Joins the other instances on `config`'s chat channel: from now on what this instance
    /// publishes reaches their subscribers, and theirs reaches ours.
    pub fn connect_bus(self: &Arc<Self>, config: &crate::config::RedisConfig) -> Result<(), redis::RedisError> {
        let listener = Arc::new(super::bus::RemoteRooms(Arc::downgrade(self)));
        let channel = crate::bus::Channel { url: &config.url, name: config.chat_channel(), what: "chat" };
        let bus = Bus::start(channel, listener)?;
        // Only the first bus counts; a server connects one at start.
        let _ = self.bus.set(bus);
        Ok(())
    }

    fn shout(&self, shout: Shout) {
        if let Some(bus) = self.bus.get() {
            bus.publish(shout);
        }
    }

    /// Delivers a stored message to the room's subscribers here and on the other instances.
    fn publish_message(&self, room: &Room, message: &ChatMessage) {
        let frame = frames::message(message);
        if let Some(bus) = self.bus.get() {
            bus.publish(Shout::Message { meetup: room.meetup, seq: message.seq, frame: frame.as_str().to_owned() });
        }
        room.publish(&Event::Message { meetup: room.meetup, seq: message.seq, frame });
    }

    /// Every open connection of this instance.
    pub fn connections(&self) -> &Connections {
        &self.connections
    }

    /// Closes every chat connection of `user`, here and on the other instances: the account was
    /// deleted. (A connection an instance without Redis holds finds out by itself, within
    /// `Limits::account_recheck`.)
    pub fn account_deleted(&self, user: UserId) {
        self.connections.close_all_of(user);
        self.shout(Shout::AccountDeleted { user });
    }

    /// Every room live in this instance.
    pub(super) fn live(&self) -> Vec<Arc<Room>> {
        locked(&self.rooms).rooms.values().filter_map(Weak::upgrade).collect()
    }

    /// The room of `meetup` if it is live in this instance.
    pub(super) fn existing(&self, meetup: MeetupId) -> Option<Arc<Room>> {
        locked(&self.rooms).rooms.get(&meetup).and_then(Weak::upgrade)
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

    /// Stores `queued` and publishes what was stored. Storage checks each sender's membership and
    /// the meetup's end in the transaction that stores the message, after recognising resends, so
    /// nothing from someone who left follows their leave message, whichever instance the leave
    /// went through, and a resend of a message stored before is acked, not refused.
    async fn commit(&self, room: &Room, queued: Vec<Post>) {
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
                    for (posted, post) in posted.iter().zip(batch) {
                        let reply = match posted {
                            Posted::Stored(message) => {
                                self.publish_message(room, message);
                                frames::ack(message)
                            }
                            // A resend was published when it was first stored.
                            Posted::Resent(message) => frames::ack(message),
                            Posted::NotMember => {
                                frames::error(ErrorCode::NotMember, Some(room.meetup), Some(post.client_id))
                            }
                            Posted::Ended => {
                                frames::error(ErrorCode::MeetupEnded, Some(room.meetup), Some(post.client_id))
                            }
                        };
                        post.outbox.push(Event::Direct(reply));
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
                rooms.publish_message(&room, message);
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
                rooms.publish_message(&room, message);
                room.remove(Some(user.id), ErrorCode::NotMember);
                rooms.shout(Shout::Left { meetup, user: user.id });
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
            rooms.shout(Shout::Notice { meetup });
            room.publish(&Event::Direct(frames::notice(meetup, notice.as_ref())));
            Ok(notice)
        })
        .await
    }

    /// Pushes the room's notice as storage holds it now (another instance changed it).
    pub(super) async fn notice_changed_elsewhere(&self, room: &Room) {
        let _order = room.order.lock().await;
        match self.storage.notice(room.meetup).await {
            Ok(notice) => room.publish(&Event::Direct(frames::notice(room.meetup, notice.as_ref()))),
            // As an event lost on the way: the room's connections catch up, the notice among it.
            Err(e) => {
                tracing::warn!(meetup = room.meetup, error = %e, "reading a notice changed elsewhere failed");
                room.publish(&Event::CatchUp(room.meetup));
            }
        }
    }

    /// Tells everyone in the meetup's room that it is gone and stops delivering it. For the
    /// meetup's deletion, once it is committed.
    pub async fn close(&self, meetup: MeetupId) {
        let room = self.room(meetup);
        let _order = room.order.lock().await;
        room.remove(None, ErrorCode::UnknownMeetup);
        self.shout(Shout::Closed { meetup });
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
