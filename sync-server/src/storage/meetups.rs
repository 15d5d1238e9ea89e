//! Meetup storage: meetups with their location and region, members, likes, comments, the notice,
//! uploaded images' records, and idempotent writes. Owned by the meetups module; the trait grows
//! with it. Rules that need the current rows to be decided atomically (a full meetup, a second
//! join) are decided here inside the write transaction; who may ask is the caller's check.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::chat::{ChatMessage, MeetupId, Sender};
use super::{StorageError, UserId};

/// A meetup to create, already validated by the caller (lengths, start ≤ end, region derived).
#[derive(Debug, Clone)]
pub struct NewMeetup {
    pub host: UserId,
    pub title: String,
    pub contents: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub member_limit: Option<u32>,
    pub image_id: Option<uuid::Uuid>,
    pub place_name: String,
    pub address: String,
    pub lat: f64,
    pub lng: f64,
    pub region: String,
}

/// What a join did. The host is a member from creation.
#[derive(Debug, Clone, PartialEq)]
pub enum Join {
    /// Joined now; the room's `join` system message, stored in the same transaction.
    Joined(ChatMessage),
    AlreadyMember,
    /// The member limit is reached.
    Full,
    /// The meetup has ended.
    Ended,
}

/// What a leave did.
#[derive(Debug, Clone, PartialEq)]
pub enum Leave {
    /// Left now; the room's `leave` system message, stored in the same transaction.
    Left(ChatMessage),
    NotMember,
    /// The host cannot leave their own meetup.
    Host,
}

/// The meetups module's storage calls. Both backends implement it; the conformance suite checks them.
#[async_trait]
pub trait MeetupStore: Send + Sync {
    /// Stores a meetup with its host as its first member; returns its id.
    async fn create_meetup(&self, new: &NewMeetup) -> Result<MeetupId, StorageError>;

    /// Adds `user` to the meetup unless it has ended (at `now`), is full or has them already.
    /// `UnknownMeetup` if it does not exist.
    async fn join_meetup(&self, meetup: MeetupId, user: &Sender, now: DateTime<Utc>) -> Result<Join, StorageError>;

    /// Removes `user` from the meetup (not its host). `UnknownMeetup` if it does not exist.
    async fn leave_meetup(&self, meetup: MeetupId, user: &Sender) -> Result<Leave, StorageError>;
}
