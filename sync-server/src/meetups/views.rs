//! What the meetup routes answer: meetups (with `ended` judged at the time of the answer), pages
//! with an opaque `next_cursor`, comments and likes. A cursor is the base64url text of the keys of
//! the last item shown, tagged with its list's order, so a cursor of one order is refused by another.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::rules::invalid;
use crate::error::ApiError;
use crate::storage::chat::{MeetupId, Sender};
use crate::storage::meetups::{Comment, Cursor, Meetup, MeetupDetail, Sort};

#[derive(Serialize)]
pub struct LocationView {
    place_name: String,
    address: String,
    lat: f64,
    lng: f64,
}

#[derive(Serialize)]
pub struct MeetupView {
    id: MeetupId,
    host: Sender,
    title: String,
    contents: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    member_limit: Option<u32>,
    image_id: Option<Uuid>,
    location: LocationView,
    region: String,
    member_count: u32,
    like_count: u32,
    liked_by_me: bool,
    comment_count: u32,
    ended: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// In the detail only, host first.
    #[serde(skip_serializing_if = "Option::is_none")]
    members: Option<Vec<Sender>>,
}

impl MeetupView {
    pub fn of(meetup: Meetup, now: DateTime<Utc>) -> Self {
        Self {
            ended: meetup.ended(now),
            id: meetup.id,
            host: meetup.host,
            title: meetup.title,
            contents: meetup.contents,
            starts_at: meetup.starts_at,
            ends_at: meetup.ends_at,
            member_limit: meetup.member_limit,
            image_id: meetup.image_id,
            location: LocationView {
                place_name: meetup.place_name,
                address: meetup.address,
                lat: meetup.lat,
                lng: meetup.lng,
            },
            region: meetup.region,
            member_count: meetup.member_count,
            like_count: meetup.like_count,
            liked_by_me: meetup.liked_by_me,
            comment_count: meetup.comment_count,
            created_at: meetup.created_at,
            updated_at: meetup.updated_at,
            members: None,
        }
    }

    pub fn detail(detail: MeetupDetail, now: DateTime<Utc>) -> Self {
        Self { members: Some(detail.members), ..Self::of(detail.meetup, now) }
    }
}

#[derive(Serialize)]
pub struct CommentView {
    id: i64,
    meetup_id: MeetupId,
    author: Sender,
    text: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Comment> for CommentView {
    fn from(comment: Comment) -> Self {
        Self {
            id: comment.id,
            meetup_id: comment.meetup_id,
            author: comment.author,
            text: comment.text,
            created_at: comment.created_at,
            updated_at: comment.updated_at,
        }
    }
}

#[derive(Serialize)]
pub struct LikeView {
    pub like_count: u32,
    pub liked_by_me: bool,
}

/// One page of a list and the cursor of the next, `null` on the last page.
#[derive(Serialize)]
pub struct Page<T> {
    items: Vec<T>,
    next_cursor: Option<String>,
}

/// The pages of every list: `limit` items, read as `limit + 1` to learn whether more follow.
pub fn page<T, V>(mut items: Vec<T>, limit: u32, cursor: impl Fn(&T) -> String, view: impl Fn(T) -> V) -> Page<V> {
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = if more { items.last().map(cursor) } else { None };
    Page { items: items.into_iter().map(view).collect(), next_cursor }
}

fn encode(text: String) -> String {
    URL_SAFE_NO_PAD.encode(text)
}

fn decode(cursor: &str) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD.decode(cursor).ok().and_then(|bytes| String::from_utf8(bytes).ok()).ok_or_else(bad_cursor)
}

fn bad_cursor() -> ApiError {
    invalid("invalid_cursor", "the cursor is not one this list gave")
}

pub fn meetup_cursor(sort: Sort, meetup: &Meetup) -> String {
    let Cursor { like_count, id } = meetup.cursor();
    match sort {
        Sort::New => encode(format!("new:{id}")),
        Sort::Likes => encode(format!("likes:{like_count}:{id}")),
    }
}

pub fn parse_meetup_cursor(sort: Sort, cursor: &str) -> Result<Cursor, ApiError> {
    let text = decode(cursor)?;
    let number = |s: &str| s.parse::<i64>().map_err(|_| bad_cursor());
    match (sort, text.split(':').collect::<Vec<_>>().as_slice()) {
        (Sort::New, ["new", id]) => Ok(Cursor { like_count: 0, id: number(id)? }),
        (Sort::Likes, ["likes", likes, id]) => Ok(Cursor { like_count: number(likes)?, id: number(id)? }),
        _ => Err(bad_cursor()),
    }
}

pub fn comment_cursor(comment: &Comment) -> String {
    encode(format!("comment:{}", comment.id))
}

pub fn parse_comment_cursor(cursor: &str) -> Result<i64, ApiError> {
    let text = decode(cursor)?;
    text.strip_prefix("comment:").and_then(|id| id.parse().ok()).ok_or_else(bad_cursor)
}
