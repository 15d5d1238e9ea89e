//! The meetup queries both backends run, written once (both take `?` placeholders), and the
//! conversion of their rows. Backends only bind, execute and read columns by name.

use super::{Comment, DeletedMeetup, Meetup, MeetupQuery, Role, Sort};
use crate::storage::chat::Sender;
use crate::storage::types::time_from_db;
use crate::storage::{StorageError, UserId};

/// The select list and joins of a `MeetupRow`; its one bind is the viewer (for `liked_by_me`).
/// Meetups whose host is in their deletion grace are left out, and so are members and comments of
/// accounts in their grace from the counts (a macro, so queries stay literals).
macro_rules! select_meetups {
    () => {
        "SELECT m.id, m.host_user_id, u.nickname AS host_nickname, m.title, m.contents, m.starts_at,
                m.ends_at, m.member_limit, m.image_id, m.place_name, m.address, m.lat, m.lng, m.region,
                m.like_count,
                (SELECT COUNT(*) FROM meetup_members mm JOIN users mu ON mu.id = mm.user_id
                 WHERE mm.meetup_id = m.id AND mu.deleted_at IS NULL) AS member_count,
                (SELECT COUNT(*) FROM comments c JOIN users cu ON cu.id = c.author_user_id
                 WHERE c.meetup_id = m.id AND cu.deleted_at IS NULL) AS comment_count,
                EXISTS (SELECT 1 FROM meetup_likes l WHERE l.meetup_id = m.id AND l.user_id = ?) AS liked_by_me,
                m.created_at, m.updated_at
         FROM meetups m JOIN users u ON u.id = m.host_user_id
         WHERE u.deleted_at IS NULL "
    };
}

/// One visible meetup (binds: viewer, meetup).
pub(crate) const MEETUP: &str = concat!(select_meetups!(), "AND m.id = ?");

/// The members of a meetup shown to others, host first, then by joining time (binds: meetup).
/// Members in their account's deletion grace are hidden, as they are from `member_count`.
pub(crate) const MEMBERS: &str = "SELECT u.id, u.nickname FROM meetup_members mm
     JOIN meetups m ON m.id = mm.meetup_id JOIN users u ON u.id = mm.user_id
     WHERE mm.meetup_id = ? AND u.deleted_at IS NULL ORDER BY u.id = m.host_user_id DESC, mm.joined_at, u.id";

/// The host and image of a visible meetup (binds: meetup).
macro_rules! visible_meetup {
    () => {
        "SELECT m.host_user_id, m.image_id FROM meetups m
         JOIN users u ON u.id = m.host_user_id WHERE m.id = ? AND u.deleted_at IS NULL"
    };
}
pub(crate) const VISIBLE_MEETUP: &str = visible_meetup!();
/// The same, locking the meetup's row until the transaction ends (MySQL).
pub(crate) const VISIBLE_MEETUP_LOCKED: &str = concat!(visible_meetup!(), " FOR UPDATE");

/// Rewrites a meetup's fields if it is still as written at the time read (binds: the fields in
/// `NewMeetup` order from title, now, now, id, the `updated_at` read). `updated_at` always moves
/// forward, so an edit based on an older read matches no row.
pub(crate) const UPDATE_MEETUP: &str = "UPDATE meetups SET title = ?, contents = ?, starts_at = ?, ends_at = ?,
     member_limit = ?, image_id = ?, place_name = ?, address = ?, lat = ?, lng = ?, region = ?,
     updated_at = CASE WHEN updated_at >= ? THEN updated_at + 1 ELSE ? END
     WHERE id = ? AND updated_at = ?";

/// The seats taken in a meetup, as `member_count` shows them: members whose account is not in its
/// deletion grace (binds: meetup). A join is refused, and a member limit may not go, below it.
macro_rules! member_count {
    () => {
        "SELECT COUNT(*) FROM meetup_members mm JOIN users u ON u.id = mm.user_id
         WHERE mm.meetup_id = ? AND u.deleted_at IS NULL"
    };
}
pub(crate) const MEMBER_COUNT: &str = member_count!();
/// The seats taken (as `MEMBER_COUNT` counts them) and the member limit (binds: meetup, meetup).
pub(crate) const SEATS: &str = concat!("SELECT (", member_count!(), "), member_limit FROM meetups WHERE id = ?");
pub(crate) const IMAGE_OF: &str = "SELECT COUNT(*) FROM media WHERE id = ? AND owner_user_id = ?";
pub(crate) const LIKE_COUNT: &str = "SELECT like_count FROM meetups WHERE id = ?";
pub(crate) const LIKE_UP: &str = "UPDATE meetups SET like_count = like_count + 1 WHERE id = ?";
pub(crate) const LIKE_DOWN: &str = "UPDATE meetups SET like_count = like_count - 1 WHERE id = ?";
/// Takes an account's likes off the counts of the meetups it liked (binds: user): its deletion
/// hides it, likes included. A like counts only while its account is live, so the purge, which
/// deletes the likes of accounts long in their grace, changes no count.
pub(crate) const LIKES_OFF: &str = "UPDATE meetups SET like_count = like_count - 1
     WHERE id IN (SELECT meetup_id FROM meetup_likes WHERE user_id = ?)";
/// Puts an account's likes back on the counts (binds: user): it was restored within its grace.
pub(crate) const LIKES_ON: &str = "UPDATE meetups SET like_count = like_count + 1
     WHERE id IN (SELECT meetup_id FROM meetup_likes WHERE user_id = ?)";
/// Whether an account is live, not in its deletion grace (binds: user): one row if it is.
macro_rules! live_account {
    () => {
        "SELECT 1 FROM users WHERE id = ? AND deleted_at IS NULL"
    };
}
pub(crate) const LIVE_ACCOUNT: &str = live_account!();
/// The same, holding the account's row until the transaction ends, so that its deletion (which
/// locks the row to update it) waits for a like being counted, or the like waits for it (MySQL).
pub(crate) const LIVE_ACCOUNT_LOCKED: &str = concat!(live_account!(), " LOCK IN SHARE MODE");
/// The meetups an account hosts and their images, whatever its state (binds: host).
macro_rules! hosted {
    () => {
        "SELECT id, image_id FROM meetups WHERE host_user_id = ?"
    };
}
pub(crate) const HOSTED: &str = hosted!();
/// The same, locking them until the transaction ends (MySQL).
pub(crate) const HOSTED_LOCKED: &str = concat!(hosted!(), " FOR UPDATE");
/// Deletes the meetups an account hosts with everything in them (cascades; binds: host).
pub(crate) const DELETE_HOSTED: &str = "DELETE FROM meetups WHERE host_user_id = ?";
/// Deletes the accounts deleted before the bound time; what they own goes with them (cascades).
pub(crate) const PURGE_USERS: &str = "DELETE FROM users WHERE deleted_at IS NOT NULL AND deleted_at < ?";
pub(crate) const LIKED: &str = "SELECT COUNT(*) FROM meetup_likes WHERE meetup_id = ? AND user_id = ?";
pub(crate) const LIKE: &str = "INSERT INTO meetup_likes (meetup_id, user_id, created_at) VALUES (?, ?, ?)";
pub(crate) const UNLIKE: &str = "DELETE FROM meetup_likes WHERE meetup_id = ? AND user_id = ?";

/// The select list of a `CommentRow` (a macro, so the queries below stay literals).
macro_rules! select_comments {
    () => {
        "SELECT c.id, c.meetup_id, c.author_user_id, u.nickname, c.text, c.created_at, c.updated_at
         FROM comments c JOIN users u ON u.id = c.author_user_id "
    };
}

/// One comment (binds: comment).
pub(crate) const COMMENT: &str = concat!(select_comments!(), "WHERE c.id = ?");

/// A meetup's comments after an id, oldest first (binds: meetup, after, limit).
pub(crate) const COMMENTS_OF_MEETUP: &str =
    concat!(select_comments!(), "WHERE c.meetup_id = ? AND c.id > ? AND u.deleted_at IS NULL ORDER BY c.id LIMIT ?");

/// An author's comments on visible meetups before an id, newest first (binds: author, before, limit).
pub(crate) const COMMENTS_BY: &str = concat!(
    select_comments!(),
    "JOIN meetups m ON m.id = c.meetup_id JOIN users h ON h.id = m.host_user_id
     WHERE c.author_user_id = ? AND c.id < ? AND h.deleted_at IS NULL ORDER BY c.id DESC LIMIT ?"
);

/// The author of a comment on a visible meetup (binds: comment).
macro_rules! comment_author {
    () => {
        "SELECT c.author_user_id FROM comments c
         JOIN meetups m ON m.id = c.meetup_id JOIN users h ON h.id = m.host_user_id
         WHERE c.id = ? AND h.deleted_at IS NULL"
    };
}
pub(crate) const COMMENT_AUTHOR: &str = comment_author!();
/// The same, locking the rows read until the transaction ends (MySQL).
pub(crate) const COMMENT_AUTHOR_LOCKED: &str = concat!(comment_author!(), " FOR UPDATE");

pub(crate) const EDIT_COMMENT: &str = "UPDATE comments SET text = ?, updated_at = ? WHERE id = ?";
pub(crate) const DELETE_COMMENT: &str = "DELETE FROM comments WHERE id = ?";
pub(crate) const INSERT_COMMENT: &str =
    "INSERT INTO comments (meetup_id, author_user_id, text, created_at, updated_at) VALUES (?, ?, ?, ?, ?)";

/// A value to bind to a query built at run time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Int(i64),
    Text(String),
}

/// The query of a page of meetups and its binds.
pub(crate) fn meetup_page(query: &MeetupQuery) -> (String, Vec<Arg>) {
    let viewer = || Arg::Text(query.viewer.to_db());
    let mut sql = String::from(select_meetups!());
    let mut args = vec![viewer()];
    if let Some(region) = &query.region {
        sql.push_str("AND (m.region = ? OR m.region LIKE ? ESCAPE '!') ");
        args.extend([Arg::Text(region.clone()), Arg::Text(mingizuk_core::region::province_pattern(region))]);
    }
    match query.role {
        None => {}
        Some(Role::Host) => {
            sql.push_str("AND m.host_user_id = ? ");
            args.push(viewer());
        }
        Some(Role::Member) => {
            sql.push_str(
                "AND m.host_user_id <> ? \
                 AND EXISTS (SELECT 1 FROM meetup_members me WHERE me.meetup_id = m.id AND me.user_id = ?) ",
            );
            args.extend([viewer(), viewer()]);
        }
        Some(Role::Liked) => {
            sql.push_str("AND EXISTS (SELECT 1 FROM meetup_likes ml WHERE ml.meetup_id = m.id AND ml.user_id = ?) ");
            args.push(viewer());
        }
    }
    match (query.sort, query.after) {
        (Sort::New, Some(after)) => {
            sql.push_str("AND m.id < ? ");
            args.push(Arg::Int(after.id));
        }
        (Sort::Likes, Some(after)) => {
            sql.push_str("AND (m.like_count < ? OR (m.like_count = ? AND m.id < ?)) ");
            args.extend([Arg::Int(after.like_count), Arg::Int(after.like_count), Arg::Int(after.id)]);
        }
        (_, None) => {}
    }
    sql.push_str(match query.sort {
        Sort::New => "ORDER BY m.id DESC LIMIT ?",
        Sort::Likes => "ORDER BY m.like_count DESC, m.id DESC LIMIT ?",
    });
    args.push(Arg::Int(i64::from(query.limit)));
    (sql, args)
}

/// A meetup row as both backends read it, column by column.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct MeetupRow {
    pub id: i64,
    pub host_user_id: String,
    pub host_nickname: String,
    pub title: String,
    pub contents: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub member_limit: Option<i64>,
    pub image_id: Option<String>,
    pub place_name: String,
    pub address: String,
    pub lat: f64,
    pub lng: f64,
    pub region: String,
    pub like_count: i64,
    pub member_count: i64,
    pub comment_count: i64,
    pub liked_by_me: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

fn count(value: i64, what: &str) -> Result<u32, StorageError> {
    u32::try_from(value).map_err(|_| StorageError::Corrupt(format!("{what} {value}")))
}

pub(crate) fn uuid_from_db(text: &str) -> Result<uuid::Uuid, StorageError> {
    uuid::Uuid::parse_str(text).map_err(|e| StorageError::Corrupt(format!("image id {text:?}: {e}")))
}

pub(crate) fn meetup_from_row(row: MeetupRow) -> Result<Meetup, StorageError> {
    Ok(Meetup {
        id: row.id,
        host: Sender { id: UserId::from_db(&row.host_user_id)?, nickname: row.host_nickname },
        title: row.title,
        contents: row.contents,
        starts_at: time_from_db(row.starts_at)?,
        ends_at: time_from_db(row.ends_at)?,
        member_limit: row.member_limit.map(|limit| count(limit, "member limit")).transpose()?,
        image_id: row.image_id.as_deref().map(uuid_from_db).transpose()?,
        place_name: row.place_name,
        address: row.address,
        lat: row.lat,
        lng: row.lng,
        region: row.region,
        member_count: count(row.member_count, "member count")?,
        like_count: count(row.like_count, "like count")?,
        comment_count: count(row.comment_count, "comment count")?,
        liked_by_me: row.liked_by_me != 0,
        created_at: time_from_db(row.created_at)?,
        updated_at: time_from_db(row.updated_at)?,
    })
}

/// A comment joined with its author's nickname: id, meetup, author id, nickname, text, created, updated.
pub(crate) type CommentRow = (i64, i64, String, String, String, i64, i64);

pub(crate) fn comment_from_row(
    (id, meetup_id, author, nickname, text, created_at, updated_at): CommentRow,
) -> Result<Comment, StorageError> {
    Ok(Comment {
        id,
        meetup_id,
        author: Sender { id: UserId::from_db(&author)?, nickname },
        text,
        created_at: time_from_db(created_at)?,
        updated_at: time_from_db(updated_at)?,
    })
}

pub(crate) fn member_from_row((id, nickname): (String, String)) -> Result<Sender, StorageError> {
    Ok(Sender { id: UserId::from_db(&id)?, nickname })
}

pub(crate) fn like_count_from_db(value: i64) -> Result<u32, StorageError> {
    count(value, "like count")
}

/// The meetups an account's deletion took with it, from rows of `HOSTED`.
pub(crate) fn deleted_from_rows(rows: Vec<(i64, Option<String>)>) -> Result<Vec<DeletedMeetup>, StorageError> {
    rows.into_iter()
        .map(|(id, image)| Ok(DeletedMeetup { id, image_id: image.as_deref().map(uuid_from_db).transpose()? }))
        .collect()
}
