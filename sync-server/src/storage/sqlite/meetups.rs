//! SQLite: meetups, members, likes, comments, notice and image records. Writes that check rows
//! before changing them run in one `BEGIN IMMEDIATE` transaction, so the check holds at commit.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::{Sqlite, SqliteConnection};

use super::chat::insert_message;
use super::{SqliteStorage, backend};
use crate::storage::chat::{MeetupId, MessageKind, NewMessage, Sender};
use crate::storage::meetups::sql::{self, Arg, MeetupRow};
use crate::storage::meetups::{
    Edit, Join, Leave, Meetup, MeetupDetail, MeetupQuery, MeetupStore, NewMeetup, Removal, limit_below_members,
};
use crate::storage::{StorageError, UserId, now_millis};

/// A visible meetup with its members, as `viewer` sees it.
async fn detail(
    conn: &mut SqliteConnection,
    meetup: MeetupId,
    viewer: UserId,
) -> Result<Option<MeetupDetail>, StorageError> {
    let row: Option<MeetupRow> = sqlx::query_as(sql::MEETUP)
        .bind(viewer.to_db())
        .bind(meetup)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    let Some(row) = row else { return Ok(None) };
    let members: Vec<(String, String)> =
        sqlx::query_as(sql::MEMBERS).bind(meetup).fetch_all(&mut *conn).await.map_err(backend)?;
    let members = members.into_iter().map(sql::member_from_row).collect::<Result<_, _>>()?;
    Ok(Some(MeetupDetail { meetup: sql::meetup_from_row(row)?, members }))
}

#[async_trait]
impl MeetupStore for SqliteStorage {
    async fn create_meetup(&self, new: &NewMeetup) -> Result<MeetupDetail, StorageError> {
        let now = now_millis();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        let insert = sqlx::query(
            "INSERT INTO meetups (host_user_id, title, contents, starts_at, ends_at, member_limit, image_id,
                                  place_name, address, lat, lng, region, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(new.host.to_db());
        let id = bind_fields(insert, new)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(image_missing)?
            .last_insert_rowid();
        sqlx::query("INSERT INTO meetup_members (meetup_id, user_id, joined_at) VALUES (?, ?, ?)")
            .bind(id)
            .bind(new.host.to_db())
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let created = detail(&mut tx, id, new.host).await?.ok_or(StorageError::UnknownMeetup)?;
        tx.commit().await.map_err(backend)?;
        Ok(created)
    }

    async fn join_meetup(&self, meetup: MeetupId, user: &Sender, now: DateTime<Utc>) -> Result<Join, StorageError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        let row: Option<(i64, Option<i64>, i64, i64)> = sqlx::query_as(
            "SELECT m.ends_at, m.member_limit,
                    (SELECT COUNT(*) FROM meetup_members mm JOIN users u ON u.id = mm.user_id
                     WHERE mm.meetup_id = m.id AND u.deleted_at IS NULL),
                    EXISTS (SELECT 1 FROM meetup_members mm WHERE mm.meetup_id = m.id AND mm.user_id = ?)
             FROM meetups m WHERE m.id = ?",
        )
        .bind(user.id.to_db())
        .bind(meetup)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        let Some((ends_at, limit, members, already)) = row else { return Err(StorageError::UnknownMeetup) };
        if already != 0 {
            return Ok(Join::AlreadyMember);
        }
        if ends_at <= now.timestamp_millis() {
            return Ok(Join::Ended);
        }
        if limit.is_some_and(|limit| members >= limit) {
            return Ok(Join::Full);
        }
        sqlx::query("INSERT INTO meetup_members (meetup_id, user_id, joined_at) VALUES (?, ?, ?)")
            .bind(meetup)
            .bind(user.id.to_db())
            .bind(now_millis())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let new = NewMessage { meetup_id: meetup, kind: MessageKind::Join, sender: user, client_id: None, text: "" };
        let (message, _) = insert_message(&mut tx, &new).await?;
        tx.commit().await.map_err(backend)?;
        Ok(Join::Joined(message))
    }

    async fn leave_meetup(&self, meetup: MeetupId, user: &Sender) -> Result<Leave, StorageError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        let host: Option<(String,)> = sqlx::query_as("SELECT host_user_id FROM meetups WHERE id = ?")
            .bind(meetup)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        let Some((host,)) = host else { return Err(StorageError::UnknownMeetup) };
        if host == user.id.to_db() {
            return Ok(Leave::Host);
        }
        let removed = sqlx::query("DELETE FROM meetup_members WHERE meetup_id = ? AND user_id = ?")
            .bind(meetup)
            .bind(user.id.to_db())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        if removed.rows_affected() == 0 {
            return Ok(Leave::NotMember);
        }
        let new = NewMessage { meetup_id: meetup, kind: MessageKind::Leave, sender: user, client_id: None, text: "" };
        let (message, _) = insert_message(&mut tx, &new).await?;
        tx.commit().await.map_err(backend)?;
        Ok(Leave::Left(message))
    }

    async fn meetup(&self, meetup: MeetupId, viewer: UserId) -> Result<Option<MeetupDetail>, StorageError> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        detail(&mut conn, meetup, viewer).await
    }

    async fn meetups(&self, query: &MeetupQuery) -> Result<Vec<Meetup>, StorageError> {
        let (text, args) = sql::meetup_page(query);
        let mut select = sqlx::query_as::<_, MeetupRow>(sqlx::AssertSqlSafe(text));
        for arg in args {
            select = match arg {
                Arg::Int(value) => select.bind(value),
                Arg::Text(value) => select.bind(value),
            };
        }
        let rows = select.fetch_all(&self.pool).await.map_err(backend)?;
        rows.into_iter().map(sql::meetup_from_row).collect()
    }

    async fn update_meetup(
        &self,
        meetup: MeetupId,
        edit: &NewMeetup,
        based_on: DateTime<Utc>,
    ) -> Result<Edit, StorageError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        let Some((host, _)) = visible(&mut tx, meetup).await? else { return Err(StorageError::UnknownMeetup) };
        if host != edit.host.to_db() {
            return Ok(Edit::NotHost);
        }
        let (members, limit): (i64, Option<i64>) =
            sqlx::query_as(sql::SEATS).bind(meetup).bind(meetup).fetch_one(&mut *tx).await.map_err(backend)?;
        if limit_below_members(edit.member_limit, limit, members) {
            return Ok(Edit::LimitBelowMembers(u32::try_from(members).unwrap_or(u32::MAX)));
        }
        let now = now_millis();
        let updated = bind_fields(sqlx::query(sql::UPDATE_MEETUP), edit)
            .bind(now)
            .bind(now)
            .bind(meetup)
            .bind(based_on.timestamp_millis())
            .execute(&mut *tx)
            .await
            .map_err(image_missing)?;
        if updated.rows_affected() == 0 {
            return Ok(Edit::Stale);
        }
        tx.commit().await.map_err(backend)?;
        Ok(Edit::Done)
    }

    async fn delete_meetup(&self, meetup: MeetupId, by: UserId) -> Result<Removal, StorageError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        let Some((host, image)) = visible(&mut tx, meetup).await? else { return Err(StorageError::UnknownMeetup) };
        if host != by.to_db() {
            return Ok(Removal::NotHost);
        }
        // Members, likes, comments, the notice (a column) and chat go with it (ON DELETE CASCADE).
        sqlx::query("DELETE FROM meetups WHERE id = ?").bind(meetup).execute(&mut *tx).await.map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(Removal::Deleted { image_id: image.as_deref().map(sql::uuid_from_db).transpose()? })
    }

    async fn image_of(&self, image: uuid::Uuid, user: UserId) -> Result<bool, StorageError> {
        let (found,): (i64,) = sqlx::query_as(sql::IMAGE_OF)
            .bind(image.hyphenated().to_string())
            .bind(user.to_db())
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        Ok(found > 0)
    }

    async fn set_like(&self, meetup: MeetupId, user: UserId, like: bool) -> Result<u32, StorageError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        // Read under the write lock, so the account's deletion (which takes its likes off the
        // counts) comes wholly before this or wholly after.
        let live: Option<(i64,)> =
            sqlx::query_as(sql::LIVE_ACCOUNT).bind(user.to_db()).fetch_optional(&mut *tx).await.map_err(backend)?;
        if live.is_none() {
            return Err(StorageError::UnknownUser);
        }
        if visible(&mut tx, meetup).await?.is_none() {
            return Err(StorageError::UnknownMeetup);
        }
        let changed = if like {
            sqlx::query(concat!(
                "INSERT INTO meetup_likes (meetup_id, user_id, created_at) VALUES (?, ?, ?) ",
                "ON CONFLICT DO NOTHING"
            ))
            .bind(meetup)
            .bind(user.to_db())
            .bind(now_millis())
        } else {
            sqlx::query(sql::UNLIKE).bind(meetup).bind(user.to_db())
        }
        .execute(&mut *tx)
        .await
        .map_err(backend)?
        .rows_affected();
        if changed > 0 {
            let update = if like { sql::LIKE_UP } else { sql::LIKE_DOWN };
            sqlx::query(update).bind(meetup).execute(&mut *tx).await.map_err(backend)?;
        }
        let (count,): (i64,) =
            sqlx::query_as(sql::LIKE_COUNT).bind(meetup).fetch_one(&mut *tx).await.map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        sql::like_count_from_db(count)
    }
}

/// A meetup's insert or update failed: on a foreign key, its image is not stored (the host is the
/// signed-in user). An image is checked before, but the daily purge may remove it in between.
fn image_missing(e: sqlx::Error) -> StorageError {
    match super::kind(&e) {
        Some(sqlx::error::ErrorKind::ForeignKeyViolation) => StorageError::UnknownImage,
        _ => backend(e),
    }
}

/// Binds a meetup's fields in `NewMeetup` order from `title` to `region` (as the insert and the
/// update list them).
fn bind_fields<'q>(
    query: Query<'q, Sqlite, SqliteArguments>,
    new: &'q NewMeetup,
) -> Query<'q, Sqlite, SqliteArguments> {
    query
        .bind(&new.title)
        .bind(&new.contents)
        .bind(new.starts_at.timestamp_millis())
        .bind(new.ends_at.timestamp_millis())
        .bind(new.member_limit.map(i64::from))
        .bind(new.image_id.map(|id| id.hyphenated().to_string()))
        .bind(&new.place_name)
        .bind(&new.address)
        .bind(new.lat)
        .bind(new.lng)
        .bind(&new.region)
}

/// The host and image of a visible meetup, read inside the caller's transaction.
pub(super) async fn visible(
    conn: &mut SqliteConnection,
    meetup: MeetupId,
) -> Result<Option<(String, Option<String>)>, StorageError> {
    sqlx::query_as(sql::VISIBLE_MEETUP).bind(meetup).fetch_optional(conn).await.map_err(backend)
}
