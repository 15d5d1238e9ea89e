//! Meetup storage: meetups with their location and region, members, likes, comments, the notice,
//! uploaded images' records, and idempotent writes. Owned by the meetups module; the trait grows
//! with it. Rules that need the current rows to be decided atomically (a full meetup, a second
//! join) are decided here inside the write transaction; who may ask is the caller's check.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::chat::{ChatMessage, MeetupId, Sender};
use super::{StorageError, UserId};

pub(crate) mod sql;

/// A meetup to create (or, for `update_meetup`, as it should become: `host` is then the editor),
/// already validated by the caller (lengths, start ≤ end, region derived).
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

/// A meetup as lists and its detail show it, seen by one viewer (`liked_by_me`).
#[derive(Debug, Clone, PartialEq)]
pub struct Meetup {
    pub id: MeetupId,
    pub host: Sender,
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
    /// Seats taken: members, the host included, whose account is not in its deletion grace (hidden
    /// like their comments; a join may take the seat, and one restored within the grace is a member
    /// again even if that puts the meetup over its limit).
    pub member_count: u32,
    pub like_count: u32,
    /// Comments by live accounts (those of accounts in their deletion grace are hidden).
    pub comment_count: u32,
    pub liked_by_me: bool,
    pub created_at: DateTime<Utc>,
    /// When it was last written; every edit moves it forward by at least a millisecond, so it
    /// tells an edit made from a stale read (`update_meetup`'s `based_on`).
    pub updated_at: DateTime<Utc>,
}

impl Meetup {
    /// A meetup has ended once its end time has come.
    pub fn ended(&self, now: DateTime<Utc>) -> bool {
        self.ends_at <= now
    }

    /// The cursor of a page that ends with this meetup.
    pub fn cursor(&self) -> Cursor {
        Cursor { like_count: i64::from(self.like_count), id: self.id }
    }
}

/// A meetup with its members, host first, then in the order they joined; members in their
/// account's deletion grace are left out.
#[derive(Debug, Clone, PartialEq)]
pub struct MeetupDetail {
    pub meetup: Meetup,
    pub members: Vec<Sender>,
}

/// The order of a meetup list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Newest first.
    New,
    /// Most liked first; among equals, newest first.
    Likes,
}

/// Where a page of a list ends: the last meetup shown, by the keys of its sort. A meetup created
/// later never lands before a cursor, so walking the pages shows each meetup once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub like_count: i64,
    pub id: MeetupId,
}

/// Which of the viewer's own meetups a list holds ("my meetups").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Hosted by the viewer.
    Host,
    /// Joined by the viewer and hosted by someone else.
    Member,
    /// Liked by the viewer.
    Liked,
}

/// A page of meetups to read. Meetups hosted by an account in its deletion grace never show.
#[derive(Debug, Clone)]
pub struct MeetupQuery {
    pub viewer: UserId,
    pub sort: Sort,
    /// A region ("서울특별시 강남구", matched exactly) or a 시·도 alone ("서울특별시", matching every
    /// region in it), spelled as stored.
    pub region: Option<String>,
    pub role: Option<Role>,
    pub after: Option<Cursor>,
    pub limit: u32,
}

/// What an edit of a meetup did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    Done,
    /// The editor is not the host; nothing changed.
    NotHost,
    /// The new member limit is below the members it already has; nothing changed.
    LimitBelowMembers(u32),
    /// The meetup was written after the read the edit is based on; nothing changed.
    Stale,
}

/// Whether an edit's member `limit` is refused with `members` seats taken under the `current`
/// limit: only a limit set or lowered below them. A meetup can hold more members than its limit
/// (one back from their account's deletion grace takes their seat again), and an edit that keeps
/// or raises the limit must still land there.
pub(crate) fn limit_below_members(limit: Option<u32>, current: Option<i64>, members: i64) -> bool {
    limit.map(i64::from).is_some_and(|limit| limit < members && current.is_none_or(|current| limit < current))
}

/// What a deletion of a meetup did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Deleted with everything in it; its image, if any, is the media owner's to delete.
    Deleted { image_id: Option<uuid::Uuid> },
    /// The caller is not the host; nothing changed.
    NotHost,
}

/// A meetup deleted with its host's account (`Storage::soft_delete_user`). Its image, if any, is
/// the media owner's to delete, and its room the chat's to close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeletedMeetup {
    pub id: MeetupId,
    pub image_id: Option<uuid::Uuid>,
}

/// A comment on a meetup.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: i64,
    pub meetup_id: MeetupId,
    pub author: Sender,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a change of a comment by its supposed author did.
#[derive(Debug, Clone, PartialEq)]
pub enum Authored<T> {
    Done(T),
    /// Someone else wrote it; nothing changed.
    NotAuthor,
    /// No such comment (or its meetup is hidden).
    Unknown,
}

/// The meetups module's storage calls. Both backends implement it; the conformance suite checks them.
#[async_trait]
pub trait MeetupStore: Send + Sync {
    /// Stores a meetup with its host as its first member; returns it as its host sees it, read in
    /// the same transaction: when that read fails nothing is stored, so a retry cannot create it
    /// twice. `UnknownMeetup` (nothing stored) if the host's account is in its deletion grace.
    async fn create_meetup(&self, new: &NewMeetup) -> Result<MeetupDetail, StorageError>;

    /// Adds `user` to the meetup unless it has ended (at `now`), is full or has them already.
    /// `UnknownMeetup` if it does not exist.
    async fn join_meetup(&self, meetup: MeetupId, user: &Sender, now: DateTime<Utc>) -> Result<Join, StorageError>;

    /// Removes `user` from the meetup (not its host). `UnknownMeetup` if it does not exist.
    async fn leave_meetup(&self, meetup: MeetupId, user: &Sender) -> Result<Leave, StorageError>;

    /// One meetup with its members as `viewer` sees it; `None` if unknown or hidden (its host's
    /// account is in its deletion grace).
    async fn meetup(&self, meetup: MeetupId, viewer: UserId) -> Result<Option<MeetupDetail>, StorageError>;

    /// Up to `query.limit` meetups after `query.after`, in the query's order.
    async fn meetups(&self, query: &MeetupQuery) -> Result<Vec<Meetup>, StorageError>;

    /// Rewrites every field of the meetup from `edit` if `edit.host` is its host, the new member
    /// limit holds its members and the meetup is still as last written at `based_on` (its
    /// `updated_at`), all checked in the writing transaction. `UnknownMeetup` if unknown or hidden.
    async fn update_meetup(
        &self,
        meetup: MeetupId,
        edit: &NewMeetup,
        based_on: DateTime<Utc>,
    ) -> Result<Edit, StorageError>;

    /// Deletes the meetup with its members, likes, comments, notice and chat if `by` hosts it.
    /// `UnknownMeetup` if unknown or hidden.
    async fn delete_meetup(&self, meetup: MeetupId, by: UserId) -> Result<Removal, StorageError>;

    /// Whether `image` is an uploaded image of `user` (the only images their meetups may show).
    async fn image_of(&self, image: uuid::Uuid, user: UserId) -> Result<bool, StorageError>;

    /// `user` likes the meetup (`like`; a second like changes nothing) or takes their like back;
    /// returns its like count, kept in the same transaction. `UnknownMeetup` if unknown or hidden,
    /// `UnknownUser` if `user`'s account is not live (a like counts only while it is: an account's
    /// deletion takes its likes off the counts, its restoring puts them back).
    async fn set_like(&self, meetup: MeetupId, user: UserId, like: bool) -> Result<u32, StorageError>;
}

/// Comments on meetups. Both backends implement it; the conformance suite checks them.
#[async_trait]
pub trait CommentStore: Send + Sync {
    /// Adds a comment (text already validated). `UnknownMeetup` if unknown or hidden.
    async fn add_comment(&self, meetup: MeetupId, author: UserId, text: &str) -> Result<Comment, StorageError>;

    /// Up to `limit` comments of the meetup with an id above `after`, oldest first; comments of
    /// accounts in their deletion grace are hidden. `UnknownMeetup` if unknown or hidden.
    async fn comments(&self, meetup: MeetupId, after: Option<i64>, limit: u32) -> Result<Vec<Comment>, StorageError>;

    /// Up to `limit` comments `author` wrote with an id below `before`, newest first ("my comments").
    async fn comments_by(&self, author: UserId, before: Option<i64>, limit: u32) -> Result<Vec<Comment>, StorageError>;

    /// Replaces the text of the comment if `author` wrote it.
    async fn edit_comment(&self, comment: i64, author: UserId, text: &str) -> Result<Authored<Comment>, StorageError>;

    /// Deletes the comment if `author` wrote it.
    async fn delete_comment(&self, comment: i64, author: UserId) -> Result<Authored<()>, StorageError>;
}
