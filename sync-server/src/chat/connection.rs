//! One `/v1/chat` WebSocket for one authenticated user: JSON frames in, the rooms it subscribed to
//! out. Membership is checked on subscribe, again when the room's events may have been lost (Redis
//! away) or a leave is heard (it may be stale), and on every send by storage in the transaction
//! that stores it (a resend is acked even after a leave or the end); a subscribe replays what is
//! stored after the client's last sequence number, page by page, before live delivery. Each room's
//! messages leave here in sequence order, each once: one that arrives past a gap has the gap filled
//! from storage first, one already sent is skipped. Limits (message size, rate, idle time, rooms
//! per connection, the outbox) are enforced here.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message as Frame, Utf8Bytes, WebSocket};
use futures_util::SinkExt;

use super::Limits;
use super::frames::{self, ClientFrame, ErrorCode};
use super::rooms::{Event, Outbox, Post, Room, Rooms};
use crate::rate::TokenBucket;
use crate::storage::StorageError;
use crate::storage::chat::{MeetupId, Notice, Sender};
use crate::sync::{Close, close};

/// Messages read from storage at a time while replaying.
const REPLAY_PAGE: u32 = 500;

struct Subscription {
    room: Arc<Room>,
    /// The last sequence number sent to the client.
    last_seq: i64,
}

struct Connection {
    user: Sender,
    rooms: Arc<Rooms>,
    limits: Limits,
    outbox: Arc<Outbox>,
    subscribed: HashMap<MeetupId, Subscription>,
    /// Meetups found to exist, reused for `EXISTING_FRESH` so a busy member's sends do not each
    /// read the database; a deletion drops the answer at once (`Event::Removed`), and one inside
    /// the window still fails in storage (`unknown_meetup`).
    existing: HashMap<MeetupId, Instant>,
    rate: TokenBucket,
}

/// How long a meetup found to exist is taken to exist for sends.
const EXISTING_FRESH: Duration = Duration::from_secs(2);

/// Runs a connection until it closes, then leaves every room it was in.
pub async fn serve(mut socket: WebSocket, rooms: Arc<Rooms>, user: Sender, limits: Limits) {
    let outbox = Outbox::new(user.id, limits.outbox_capacity);
    rooms.connections().opened(&outbox);
    let mut conn = Connection {
        user,
        rooms,
        outbox,
        subscribed: HashMap::new(),
        existing: HashMap::new(),
        rate: TokenBucket::new(limits.messages_per_second, limits.burst),
        limits,
    };
    let close = conn.run(&mut socket).await;
    for (_, subscription) in conn.subscribed.drain() {
        subscription.room.unsubscribe(conn.outbox.id);
    }
    conn.rooms.connections().closed(&conn.outbox);
    tracing::debug!(user = %conn.user.id, code = close.0, reason = close.1, "chat connection closed");
    close.send(&mut socket).await;
}

/// `step` (writes to the client among it), unless it takes longer than `limit`: then the client
/// is too slow, and the connection closes.
async fn within(limit: Duration, step: impl Future<Output = Result<(), Close>>) -> Result<(), Close> {
    tokio::time::timeout(limit, step).await.unwrap_or(Err(Close(close::TRY_AGAIN, "too_slow")))
}

impl Connection {
    async fn run(&mut self, socket: &mut WebSocket) -> Close {
        let mut ping = tokio::time::interval(self.limits.ping_interval);
        ping.tick().await;
        // Its first tick is at once: an account deleted between the upgrade's check and the
        // connection's registration (`Connections::opened`) is not missed.
        let mut recheck = tokio::time::interval(self.limits.account_recheck);
        let mut last_heard = Instant::now();
        let outbox = Arc::clone(&self.outbox);
        let write_timeout = self.limits.write_timeout;
        loop {
            let step = tokio::select! {
                frame = socket.recv() => {
                    last_heard = Instant::now();
                    match frame {
                        None | Some(Ok(Frame::Close(_))) => Err(Close(close::NORMAL, "closed")),
                        Some(Err(e)) => Err(Close::read_failure(e)),
                        Some(Ok(Frame::Text(text))) => within(write_timeout, self.receive(socket, &text)).await,
                        Some(Ok(Frame::Ping(_) | Frame::Pong(_))) => Ok(()),
                        Some(Ok(Frame::Binary(_))) => Err(Close(close::UNSUPPORTED, "text_frames_only")),
                    }
                }
                events = outbox.next() => match events {
                    Ok(events) => within(write_timeout, self.deliver(socket, events)).await,
                    Err(_) => Err(Close(close::TRY_AGAIN, "too_slow")),
                },
                _ = ping.tick() => {
                    if last_heard.elapsed() > self.limits.idle_timeout {
                        Err(Close(close::NORMAL, "idle_timeout"))
                    } else {
                        let ping = async { socket.send(Frame::Ping(Vec::new().into())).await.map_err(Close::from) };
                        within(write_timeout, ping).await
                    }
                }
                _ = recheck.tick() => {
                    if crate::sync::account_deleted(self.rooms.storage(), self.user.id).await {
                        Err(Close(close::POLICY, "account_deleted"))
                    } else {
                        Ok(())
                    }
                }
            };
            if let Err(close) = step {
                return close;
            }
        }
    }

    async fn receive(&mut self, socket: &mut WebSocket, text: &str) -> Result<(), Close> {
        if text.len() > self.limits.max_message_bytes {
            return Err(Close(close::TOO_BIG, "message_too_large"));
        }
        let frame = serde_json::from_str::<ClientFrame>(text);
        if !self.rate.take() {
            let (meetup, client_id) = match &frame {
                Ok(ClientFrame::Send { meetup_id, client_id, .. }) => (Some(*meetup_id), Some(*client_id)),
                Ok(ClientFrame::Subscribe { meetup_id, .. } | ClientFrame::Unsubscribe { meetup_id }) => {
                    (Some(*meetup_id), None)
                }
                Err(_) => (None, None),
            };
            return reply(socket, frames::error(ErrorCode::RateLimited, meetup, client_id)).await;
        }
        match frame {
            Err(_) => reply(socket, frames::error(ErrorCode::InvalidFrame, None, None)).await,
            Ok(ClientFrame::Subscribe { meetup_id, since_seq }) => self.subscribe(socket, meetup_id, since_seq).await,
            Ok(ClientFrame::Unsubscribe { meetup_id }) => {
                if let Some(subscription) = self.subscribed.remove(&meetup_id) {
                    subscription.room.unsubscribe(self.outbox.id);
                }
                Ok(())
            }
            Ok(ClientFrame::Send { meetup_id, client_id, text }) => match self.check_send(meetup_id, &text).await {
                Ok(text) => {
                    let post = Post { sender: self.user.clone(), client_id, text, outbox: Arc::clone(&self.outbox) };
                    self.rooms.send(meetup_id, post);
                    Ok(())
                }
                Err(code) => reply(socket, frames::error(code, Some(meetup_id), Some(client_id))).await,
            },
        }
    }

    /// The text to store, if the meetup exists. Whether the sender may post in its room now is
    /// storage's to say, in the transaction that stores the message (membership and the end, after
    /// resends): a resend of a message stored before its sender left or the meetup ended is acked
    /// again there, not refused, and only storage can tell it is one. A meetup that does not exist
    /// is refused here, as it would fail the whole group commit it joined.
    async fn check_send(&mut self, meetup: MeetupId, text: &str) -> Result<String, ErrorCode> {
        let text = frames::checked_text(text).ok_or(ErrorCode::InvalidText)?;
        if self.existing.get(&meetup).is_none_or(|at| at.elapsed() >= EXISTING_FRESH) {
            match self.access(meetup).await {
                Ok(_) | Err(ErrorCode::NotMember) => {}
                Err(code) => return Err(code),
            }
            self.existing.insert(meetup, Instant::now());
        }
        Ok(text.to_owned())
    }

    async fn access(&self, meetup: MeetupId) -> Result<crate::storage::chat::RoomAccess, ErrorCode> {
        match self.rooms.storage().room_access(meetup, self.user.id).await {
            Ok(Some(access)) if access.member => Ok(access),
            Ok(Some(_)) => Err(ErrorCode::NotMember),
            Ok(None) => Err(ErrorCode::UnknownMeetup),
            Err(e) => Err(storage_failed(e)),
        }
    }

    /// The room's notice, if the user may be in the room now.
    async fn notice_if_member(&self, meetup: MeetupId) -> Result<Option<Notice>, ErrorCode> {
        self.access(meetup).await?;
        self.rooms.storage().notice(meetup).await.map_err(storage_failed)
    }

    /// Replays what is stored after `since_seq`, then joins the live room. The room is joined
    /// after the bulk of the replay (so a long history does not pile up in the outbox) and
    /// membership is checked again once joined, so a leave racing this subscribe cannot be missed.
    async fn subscribe(&mut self, socket: &mut WebSocket, meetup: MeetupId, since_seq: i64) -> Result<(), Close> {
        if let Some(old) = self.subscribed.remove(&meetup) {
            old.room.unsubscribe(self.outbox.id);
        }
        if self.subscribed.len() >= self.limits.max_rooms {
            return reply(socket, frames::error(ErrorCode::TooManyRooms, Some(meetup), None)).await;
        }
        if let Err(code) = self.access(meetup).await {
            return reply(socket, frames::error(code, Some(meetup), None)).await;
        }
        let mut last_seq = since_seq.max(0);
        match self.replay(socket, meetup, &mut last_seq, i64::MAX).await {
            Ok(()) => {}
            Err(Replay::Closed(close)) => return Err(close),
            Err(Replay::Storage(e)) => {
                return reply(socket, frames::error(storage_failed(e), Some(meetup), None)).await;
            }
        }
        let room = self.rooms.room(meetup);
        room.subscribe(&self.outbox);
        let notice = match self.notice_if_member(meetup).await {
            Ok(notice) => notice,
            Err(code) => {
                room.unsubscribe(self.outbox.id);
                return reply(socket, frames::error(code, Some(meetup), None)).await;
            }
        };
        self.subscribed.insert(meetup, Subscription { room, last_seq });
        socket.feed(Frame::Text(frames::notice(meetup, notice.as_ref()))).await?;
        self.catch_up(socket, meetup, i64::MAX).await
    }

    /// Sends stored messages of `meetup` with `last_seq < seq < before_seq`, oldest first.
    async fn replay(
        &self,
        socket: &mut WebSocket,
        meetup: MeetupId,
        last_seq: &mut i64,
        before_seq: i64,
    ) -> Result<(), Replay> {
        loop {
            let page = self.rooms.storage().messages_after(meetup, *last_seq, REPLAY_PAGE).await?;
            let full = page.len() == REPLAY_PAGE as usize;
            for message in page.iter().take_while(|m| m.seq < before_seq) {
                socket.feed(Frame::Text(frames::message(message))).await.map_err(|e| Replay::Closed(e.into()))?;
                *last_seq = message.seq;
            }
            socket.flush().await.map_err(|e| Replay::Closed(e.into()))?;
            if !full || page.last().is_some_and(|m| m.seq >= before_seq) {
                return Ok(());
            }
        }
    }

    /// Fills the subscription's gap up to (not including) `before_seq` from storage. A storage
    /// failure here closes the connection: the client replays from its last seq when it is back.
    async fn catch_up(&mut self, socket: &mut WebSocket, meetup: MeetupId, before_seq: i64) -> Result<(), Close> {
        let Some(mut last_seq) = self.subscribed.get(&meetup).map(|s| s.last_seq) else { return Ok(()) };
        let result = self.replay(socket, meetup, &mut last_seq, before_seq).await;
        if let Some(subscription) = self.subscribed.get_mut(&meetup) {
            subscription.last_seq = last_seq;
        }
        match result {
            Ok(()) => Ok(()),
            Err(Replay::Closed(close)) => Err(close),
            Err(Replay::Storage(e)) => {
                tracing::error!(meetup, error = %e, "chat catch-up failed");
                Err(Close(close::INTERNAL, "storage_failed"))
            }
        }
    }

    /// After the room's events may have been lost on their way here (another instance's, while
    /// Redis was away): a leave or a deletion among them is found in storage and ends the
    /// subscription as it would have, the notice is sent again as it is now, then the messages
    /// missed. (A notice or a message sent twice is harmless: the client keeps the last notice
    /// and each message once.)
    async fn recheck(&mut self, socket: &mut WebSocket, meetup: MeetupId) -> Result<(), Close> {
        if !self.subscribed.contains_key(&meetup) {
            return Ok(());
        }
        match self.notice_if_member(meetup).await {
            Ok(notice) => {
                socket.feed(Frame::Text(frames::notice(meetup, notice.as_ref()))).await?;
                self.catch_up(socket, meetup, i64::MAX).await
            }
            // As a failed catch-up: the client replays from its last seq when it is back.
            Err(ErrorCode::StorageFailed) => Err(Close(close::INTERNAL, "storage_failed")),
            Err(code) => {
                self.existing.remove(&meetup);
                if let Some(subscription) = self.subscribed.remove(&meetup) {
                    subscription.room.unsubscribe(self.outbox.id);
                }
                socket.feed(Frame::Text(frames::error(code, Some(meetup), None))).await?;
                Ok(())
            }
        }
    }

    async fn deliver(&mut self, socket: &mut WebSocket, events: Vec<Event>) -> Result<(), Close> {
        for event in events {
            match event {
                Event::Message { meetup, seq, frame } => {
                    let Some(last_seq) = self.subscribed.get(&meetup).map(|s| s.last_seq) else { continue };
                    if seq <= last_seq {
                        continue;
                    }
                    if seq > last_seq + 1 {
                        self.catch_up(socket, meetup, seq).await?;
                    }
                    socket.feed(Frame::Text(frame)).await?;
                    if let Some(subscription) = self.subscribed.get_mut(&meetup) {
                        subscription.last_seq = seq;
                    }
                }
                Event::Direct(frame) => socket.feed(Frame::Text(frame)).await?,
                Event::CatchUp(meetup) => self.recheck(socket, meetup).await?,
                Event::AccountDeleted => return Err(Close(close::POLICY, "account_deleted")),
                Event::Removed(meetup, why) => self.removed(socket, meetup, why).await?,
            }
        }
        socket.flush().await?;
        Ok(())
    }

    /// The room stopped delivering to this connection (`Event::Removed`): the user left, or the
    /// meetup is gone. Unless the removal is already stale.
    async fn removed(&mut self, socket: &mut WebSocket, meetup: MeetupId, why: ErrorCode) -> Result<(), Close> {
        self.existing.remove(&meetup);
        let Some(room) = self.subscribed.get(&meetup).map(|s| Arc::clone(&s.room)) else { return Ok(()) };
        // The room deregisters the connection as it queues this event: a subscription the room
        // still holds was made after it (a leave, a join again, a subscribe handled before this
        // event), and stays.
        if room.delivers_to(self.outbox.id) {
            return Ok(());
        }
        // A leave heard late from another instance (Redis is not ordered with storage) may come
        // after the user joined again: storage decides, as after a lost event. Back in the room
        // first, so a leave that follows the check is not missed; then the notice and what went by
        // meanwhile are sent.
        if why == ErrorCode::NotMember {
            room.subscribe(&self.outbox);
            return self.recheck(socket, meetup).await;
        }
        self.subscribed.remove(&meetup);
        socket.feed(Frame::Text(frames::error(why, Some(meetup), None))).await?;
        Ok(())
    }
}

enum Replay {
    Closed(Close),
    Storage(StorageError),
}

impl From<StorageError> for Replay {
    fn from(e: StorageError) -> Self {
        Self::Storage(e)
    }
}

fn storage_failed(e: StorageError) -> ErrorCode {
    tracing::error!(error = %e, "chat storage call failed");
    ErrorCode::StorageFailed
}

async fn reply(socket: &mut WebSocket, frame: Utf8Bytes) -> Result<(), Close> {
    socket.send(Frame::Text(frame)).await.map_err(Close::from)
}
