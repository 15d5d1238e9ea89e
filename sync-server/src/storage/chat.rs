//! Chat storage: the messages of a meetup's room, numbered per meetup from 1 without gaps, and the
//! one call both the chat relay and the meetup writes (join and leave post system messages in the
//! same transaction) use to append one. Owned by the chat module; the trait grows with it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::types::time_from_db;
use super::{StorageError, UserId};

/// A meetup's id (an auto-increment key: the newest meetup has the highest).
pub type MeetupId = i64;

/// What a chat message is: typed by a member, or the system's note of a join or a leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Text,
    Join,
    Leave,
}

impl MessageKind {
    pub(crate) fn to_db(self) -> i64 {
        match self {
            Self::Text => 0,
            Self::Join => 1,
            Self::Leave => 2,
        }
    }

    pub(crate) fn from_db(value: i64) -> Result<Self, StorageError> {
        match value {
            0 => Ok(Self::Text),
            1 => Ok(Self::Join),
            2 => Ok(Self::Leave),
            other => Err(StorageError::Corrupt(format!("chat message kind {other}"))),
        }
    }
}

/// Who sent a message, as the room shows it. `None` on a stored message whose sender's account is
/// gone, or hidden from others while it is in its deletion grace (PRODUCT.md §2; back on sign-in).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Sender {
    pub id: UserId,
    pub nickname: String,
}

/// A message as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatMessage {
    pub id: i64,
    pub meetup_id: MeetupId,
    pub seq: i64,
    pub kind: MessageKind,
    pub client_id: Option<Uuid>,
    pub sender: Option<Sender>,
    pub text: String,
    pub at: DateTime<Utc>,
}

/// A message to append: `seq` and `id` are given by storage.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub meetup_id: MeetupId,
    pub kind: MessageKind,
    /// Who sends it. The stored message shows the account's nickname as read in the transaction
    /// that stores it, not `sender.nickname` (which may be what it was when a chat connection
    /// opened), so a message sent after a profile edit carries the new name.
    pub sender: &'a Sender,
    pub client_id: Option<Uuid>,
    pub text: &'a str,
}

impl NewMessage<'_> {
    /// This message as stored with `id`, `seq` and time `at`, its sender shown as `nickname` (the
    /// account's, read while storing it).
    pub(crate) fn stored(&self, id: i64, seq: i64, at: DateTime<Utc>, nickname: Option<String>) -> ChatMessage {
        ChatMessage {
            id,
            meetup_id: self.meetup_id,
            seq,
            kind: self.kind,
            client_id: self.client_id,
            sender: Some(self.sender_as(nickname)),
            text: self.text.to_owned(),
            at,
        }
    }

    /// The sender shown as `nickname`; the name given with the message only if the account's
    /// could not be read (it cannot be missing: the row references the account).
    pub(crate) fn sender_as(&self, nickname: Option<String>) -> Sender {
        Sender { id: self.sender.id, nickname: nickname.unwrap_or_else(|| self.sender.nickname.clone()) }
    }
}

/// A stored message joined with its sender's nickname, as both backends select it: id, meetup,
/// seq, kind, client id, sender id, text, time, nickname.
pub(crate) type MessageRow = (i64, i64, i64, i64, Option<String>, Option<String>, String, i64, Option<String>);

/// The select list and join of a `MessageRow` (a macro, so the queries below stay literals). A
/// sender in their account's deletion grace joins no row: their messages keep their place in the
/// room's sequence (clients replay by it) and show no sender, as after the purge, while their
/// comments and their place in member lists are hidden outright.
macro_rules! select_messages {
    () => {
        "SELECT m.id, m.meetup_id, m.seq, m.kind, m.client_id, m.sender_user_id, m.text, m.created_at, u.nickname \
         FROM chat_messages m LEFT JOIN users u ON u.id = m.sender_user_id AND u.deleted_at IS NULL "
    };
}

/// Messages of a meetup after a sequence number, oldest first (binds: meetup, seq, limit).
pub(crate) const MESSAGES_AFTER: &str =
    concat!(select_messages!(), "WHERE m.meetup_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?");

/// Messages of a meetup before a sequence number, newest first (binds: meetup, seq, limit).
pub(crate) const MESSAGES_BEFORE: &str =
    concat!(select_messages!(), "WHERE m.meetup_id = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?");

pub(crate) fn message_from_row(
    (id, meetup_id, seq, kind, client_id, sender, text, created_at, nickname): MessageRow,
) -> Result<ChatMessage, StorageError> {
    let client_id = client_id
        .map(|c| Uuid::parse_str(&c).map_err(|e| StorageError::Corrupt(format!("client id {c:?}: {e}"))))
        .transpose()?;
    let sender = match (sender, nickname) {
        (Some(id), Some(nickname)) => Some(Sender { id: UserId::from_db(&id)?, nickname }),
        _ => None,
    };
    Ok(ChatMessage {
        id,
        meetup_id,
        seq,
        kind: MessageKind::from_db(kind)?,
        client_id,
        sender,
        text,
        at: time_from_db(created_at)?,
    })
}

/// A meetup's notice (one per room).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Notice {
    pub text: String,
    pub at: DateTime<Utc>,
}

/// The notice columns of a meetup's row, as both backends read them: text and time, or neither.
pub(crate) fn notice_from_row(text: Option<String>, at: Option<i64>) -> Result<Option<Notice>, StorageError> {
    match (text, at) {
        (Some(text), Some(at)) => Ok(Some(Notice { text, at: time_from_db(at)? })),
        _ => Ok(None),
    }
}

/// The notice columns to write for `notice`: text and time in milliseconds, or neither.
pub(crate) fn notice_to_row(notice: Option<(&str, DateTime<Utc>)>) -> (Option<&str>, Option<i64>) {
    match notice {
        Some((text, at)) => (Some(text), Some(at.timestamp_millis())),
        None => (None, None),
    }
}

/// What a user may do in a meetup's room, read in one query before a subscribe or a send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomAccess {
    /// The user is a member (the host is always one).
    pub member: bool,
    pub host: bool,
    /// When the meetup ends: after it the room is read-only.
    pub ends_at: DateTime<Utc>,
}

impl RoomAccess {
    /// Why a text message of this user may not be stored at `now`, if it may not.
    pub(crate) fn refusal(&self, now: DateTime<Utc>) -> Option<Posted> {
        if !self.member {
            Some(Posted::NotMember)
        } else if self.ends_at <= now {
            Some(Posted::Ended)
        } else {
            None
        }
    }
}

/// A user's standing in a meetup as both backends read it (binds: user, meetup): the host's id,
/// the end, and whether the user is in the member list with an account not in its deletion grace
/// (a deleted account is hidden from others: it can no longer subscribe to a room or post in it).
pub(crate) const ROOM_ACCESS: &str = "SELECT m.host_user_id, m.ends_at, \
     EXISTS (SELECT 1 FROM meetup_members mm JOIN users u ON u.id = mm.user_id \
     WHERE mm.meetup_id = m.id AND mm.user_id = ? AND u.deleted_at IS NULL) \
     FROM meetups m WHERE m.id = ?";

/// A row of `ROOM_ACCESS`.
pub(crate) type AccessRow = (String, i64, i64);

/// `user`'s standing from a row of `ROOM_ACCESS`.
pub(crate) fn access_from_row((host, ends_at, member): AccessRow, user: UserId) -> Result<RoomAccess, StorageError> {
    let host = host == user.to_db();
    Ok(RoomAccess { member: member != 0 || host, host, ends_at: time_from_db(ends_at)? })
}

/// What became of one message of a batch (`ChatStore::post_messages`).
#[derive(Debug, Clone, PartialEq)]
pub enum Posted {
    /// Stored now.
    Stored(ChatMessage),
    /// This (sender, client id) was stored before: that message, not stored again.
    Resent(ChatMessage),
    /// Not stored: the sender is not a member of the meetup (any more).
    NotMember,
    /// Not stored: the meetup has ended, its room is read-only.
    Ended,
}

/// The chat module's storage calls. Both backends implement it; the conformance suite checks them.
#[async_trait]
pub trait ChatStore: Send + Sync {
    /// The user's standing in the meetup's room; `None` if the meetup does not exist.
    async fn room_access(&self, meetup: MeetupId, user: UserId) -> Result<Option<RoomAccess>, StorageError>;

    /// Appends a message in its own transaction; `true` if stored now, `false` if this (sender,
    /// client id) was stored before (that message comes back). `UnknownMeetup` if it is gone.
    /// Membership is the caller's check (`room_access`), made just before.
    async fn post_message(&self, new: &NewMessage<'_>) -> Result<(ChatMessage, bool), StorageError>;

    /// Appends several members' text messages in one transaction, in the order given (the relay's
    /// group commit: one commit for everything queued while the previous one was being written),
    /// and says what became of each. Unlike `post_message`, membership and the meetup's end are
    /// checked here, inside the transaction that stores the message, so a message can never follow
    /// its sender's leave, whichever instance the leave went through: a resend comes back as
    /// stored before, a message from someone who is not a member now or after the end is refused.
    /// `UnknownMeetup` (nothing stored) if a meetup is gone; one failure stores none of them.
    async fn post_messages(&self, batch: &[NewMessage<'_>]) -> Result<Vec<Posted>, StorageError>;

    /// The meetup's notice, if it has one. `UnknownMeetup` if it does not exist.
    async fn notice(&self, meetup: MeetupId) -> Result<Option<Notice>, StorageError>;

    /// Sets or replaces (`Some((text, at))`) or removes (`None`) the meetup's notice; returns it as
    /// stored. The caller checks that the host asks and the text. `UnknownMeetup` if it does not exist.
    async fn set_notice(
        &self,
        meetup: MeetupId,
        notice: Option<(&str, DateTime<Utc>)>,
    ) -> Result<Option<Notice>, StorageError>;

    /// Up to `limit` messages with `seq > after_seq`, oldest first (catch-up after a reconnect).
    async fn messages_after(
        &self,
        meetup: MeetupId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, StorageError>;

    /// Up to `limit` messages with `seq < before_seq` (all when `None`), newest first (history pages).
    async fn messages_before(
        &self,
        meetup: MeetupId,
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, StorageError>;
}
