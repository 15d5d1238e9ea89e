//! MySQL: meetups, members, likes, comments, notice and image records. Writes that check rows
//! before changing them lock the meetup's row first (`SELECT … FOR UPDATE`), so concurrent joins
//! of one meetup are ordered and its member limit holds.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mysql_async::prelude::{FromRow, FromValue, Queryable};
use mysql_async::{FromRowError, Params, Row, TxOpts};

use super::chat::{Inserted, insert_message};
use super::{ER_NO_REFERENCED_ROW_2, MySqlStorage, backend, retrying};
use crate::storage::chat::{ChatMessage, MeetupId, MessageKind, NewMessage, Sender};
use crate::storage::meetups::sql::{self, Arg, MeetupRow};
use crate::storage::meetups::{
    Edit, Join, Leave, Meetup, MeetupDetail, MeetupQuery, MeetupStore, NewMeetup, Removal, limit_below_members,
};
use crate::storage::{StorageError, UserId, now_millis};

/// The system message a join or a leave stored, or why there is none.
fn stored(inserted: Inserted) -> Result<ChatMessage, StorageError> {
    match inserted {
        Inserted::New(message) | Inserted::Existing(message) => Ok(message),
        Inserted::UnknownMeetup => Err(StorageError::UnknownMeetup),
    }
}

/// A visible meetup's row and its members' rows, as `viewer` sees it.
async fn detail_rows(
    conn: &mut impl Queryable,
    meetup: MeetupId,
    viewer: UserId,
) -> Result<Option<(MeetupRow, Vec<(String, String)>)>, mysql_async::Error> {
    let row: Option<MeetupRow> = conn.exec_first(sql::MEETUP, (viewer.to_db(), meetup)).await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some((row, conn.exec(sql::MEMBERS, (meetup,)).await?)))
}

fn detail_from_rows((row, members): (MeetupRow, Vec<(String, String)>)) -> Result<MeetupDetail, StorageError> {
    let members = members.into_iter().map(sql::member_from_row).collect::<Result<_, _>>()?;
    Ok(MeetupDetail { meetup: sql::meetup_from_row(row)?, members })
}

#[async_trait]
impl MeetupStore for MySqlStorage {
    async fn create_meetup(&self, new: &NewMeetup) -> Result<MeetupDetail, StorageError> {
        let pool = &self.pool;
        retrying(|| async move {
            let now = now_millis();
            let mut conn = pool.get_conn().await?;
            let mut tx = conn.start_transaction(TxOpts::default()).await?;
            // The host's row first, held shared until the commit, as the account's deletion locks
            // it first too: the deletion waits for this meetup and then deletes it, or this waits
            // for the deletion and stores nothing. (The meetup's insert would lock the row too, for
            // its foreign key, but only after writing its index entries, which the deletion's scan
            // of the host's meetups would wait for: a deadlock.)
            let live: Option<i64> = tx.exec_first(sql::LIVE_ACCOUNT_LOCKED, (new.host.to_db(),)).await?;
            if live.is_none() {
                return Ok(Err(StorageError::UnknownMeetup));
            }
            tx.exec_drop(
                "INSERT INTO meetups (host_user_id, title, contents, starts_at, ends_at, member_limit, image_id,
                                      place_name, address, lat, lng, region, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                Params::Positional([vec![new.host.to_db().into()], fields(new), vec![now.into(), now.into()]].concat()),
            )
            .await?;
            let id = tx.last_insert_id().and_then(|id| i64::try_from(id).ok()).unwrap_or_default();
            tx.exec_drop(
                "INSERT INTO meetup_members (meetup_id, user_id, joined_at) VALUES (?, ?, ?)",
                (id, new.host.to_db(), now),
            )
            .await?;
            // Read in the transaction: if the read fails, the meetup is not stored either. Not found
            // (the host's account entered its grace meanwhile) or unreadable: dropped, the
            // transaction rolls back.
            let Some(rows) = detail_rows(&mut tx, id, new.host).await? else {
                return Ok(Err(StorageError::UnknownMeetup));
            };
            let created = detail_from_rows(rows);
            if created.is_ok() {
                tx.commit().await?;
            }
            Ok(created)
        })
        .await
        .map_err(image_missing)?
    }

    async fn join_meetup(&self, meetup: MeetupId, user: &Sender, now: DateTime<Utc>) -> Result<Join, StorageError> {
        let pool = &self.pool;
        let outcome = retrying(|| async move {
            let mut conn = pool.get_conn().await?;
            let mut tx = conn.start_transaction(TxOpts::default()).await?;
            let row: Option<(i64, Option<i64>)> =
                tx.exec_first("SELECT ends_at, member_limit FROM meetups WHERE id = ? FOR UPDATE", (meetup,)).await?;
            let Some((ends_at, limit)) = row else { return Ok(None) };
            let already: Option<i64> = tx
                .exec_first(
                    "SELECT 1 FROM meetup_members WHERE meetup_id = ? AND user_id = ?",
                    (meetup, user.id.to_db()),
                )
                .await?;
            if already.is_some() {
                return Ok(Some(Ok(Join::AlreadyMember)));
            }
            if ends_at <= now.timestamp_millis() {
                return Ok(Some(Ok(Join::Ended)));
            }
            let members: Option<i64> = tx.exec_first(sql::MEMBER_COUNT, (meetup,)).await?;
            if limit.is_some_and(|limit| members.unwrap_or_default() >= limit) {
                return Ok(Some(Ok(Join::Full)));
            }
            tx.exec_drop(
                "INSERT INTO meetup_members (meetup_id, user_id, joined_at) VALUES (?, ?, ?)",
                (meetup, user.id.to_db(), now_millis()),
            )
            .await?;
            let new =
                NewMessage { meetup_id: meetup, kind: MessageKind::Join, sender: user, client_id: None, text: "" };
            let inserted = insert_message(&mut tx, &new).await?;
            tx.commit().await?;
            Ok(Some(stored(inserted).map(Join::Joined)))
        })
        .await
        .map_err(backend)?;
        outcome.unwrap_or(Err(StorageError::UnknownMeetup))
    }

    async fn leave_meetup(&self, meetup: MeetupId, user: &Sender) -> Result<Leave, StorageError> {
        let pool = &self.pool;
        let outcome = retrying(|| async move {
            let mut conn = pool.get_conn().await?;
            let mut tx = conn.start_transaction(TxOpts::default()).await?;
            let host: Option<String> =
                tx.exec_first("SELECT host_user_id FROM meetups WHERE id = ? FOR UPDATE", (meetup,)).await?;
            let Some(host) = host else { return Ok(None) };
            if host == user.id.to_db() {
                return Ok(Some(Ok(Leave::Host)));
            }
            tx.exec_drop("DELETE FROM meetup_members WHERE meetup_id = ? AND user_id = ?", (meetup, user.id.to_db()))
                .await?;
            if tx.affected_rows() == 0 {
                return Ok(Some(Ok(Leave::NotMember)));
            }
            let new =
                NewMessage { meetup_id: meetup, kind: MessageKind::Leave, sender: user, client_id: None, text: "" };
            let inserted = insert_message(&mut tx, &new).await?;
            tx.commit().await?;
            Ok(Some(stored(inserted).map(Leave::Left)))
        })
        .await
        .map_err(backend)?;
        outcome.unwrap_or(Err(StorageError::UnknownMeetup))
    }

    async fn meetup(&self, meetup: MeetupId, viewer: UserId) -> Result<Option<MeetupDetail>, StorageError> {
        let mut conn = self.conn().await?;
        detail_rows(&mut conn, meetup, viewer).await.map_err(backend)?.map(detail_from_rows).transpose()
    }

    async fn meetups(&self, query: &MeetupQuery) -> Result<Vec<Meetup>, StorageError> {
        let (text, args) = sql::meetup_page(query);
        let params: Vec<mysql_async::Value> = args
            .into_iter()
            .map(|arg| match arg {
                Arg::Int(value) => value.into(),
                Arg::Text(value) => value.into(),
            })
            .collect();
        let mut conn = self.conn().await?;
        let rows: Vec<MeetupRow> = conn.exec(text, Params::Positional(params)).await.map_err(backend)?;
        rows.into_iter().map(sql::meetup_from_row).collect()
    }

    async fn update_meetup(
        &self,
        meetup: MeetupId,
        edit: &NewMeetup,
        based_on: DateTime<Utc>,
    ) -> Result<Edit, StorageError> {
        let pool = &self.pool;
        let outcome = retrying(|| async move {
            let mut conn = pool.get_conn().await?;
            let mut tx = conn.start_transaction(TxOpts::default()).await?;
            let row: Option<(String, Option<String>)> = tx.exec_first(sql::VISIBLE_MEETUP_LOCKED, (meetup,)).await?;
            let Some((host, _)) = row else { return Ok(None) };
            if host != edit.host.to_db() {
                return Ok(Some(Edit::NotHost));
            }
            let seats: Option<(i64, Option<i64>)> = tx.exec_first(sql::SEATS, (meetup, meetup)).await?;
            let (members, limit) = seats.unwrap_or_default();
            if limit_below_members(edit.member_limit, limit, members) {
                return Ok(Some(Edit::LimitBelowMembers(u32::try_from(members).unwrap_or(u32::MAX))));
            }
            let now = now_millis();
            tx.exec_drop(
                sql::UPDATE_MEETUP,
                Params::Positional(
                    [fields(edit), vec![now.into(), now.into(), meetup.into(), based_on.timestamp_millis().into()]]
                        .concat(),
                ),
            )
            .await?;
            if tx.affected_rows() == 0 {
                return Ok(Some(Edit::Stale));
            }
            tx.commit().await?;
            Ok(Some(Edit::Done))
        })
        .await
        .map_err(image_missing)?;
        outcome.ok_or(StorageError::UnknownMeetup)
    }

    async fn delete_meetup(&self, meetup: MeetupId, by: UserId) -> Result<Removal, StorageError> {
        let pool = &self.pool;
        let outcome = retrying(|| async move {
            let mut conn = pool.get_conn().await?;
            let mut tx = conn.start_transaction(TxOpts::default()).await?;
            let row: Option<(String, Option<String>)> = tx.exec_first(sql::VISIBLE_MEETUP_LOCKED, (meetup,)).await?;
            let Some((host, image)) = row else { return Ok(None) };
            if host != by.to_db() {
                return Ok(Some(None));
            }
            // Members, likes, comments, the notice (a column) and chat go with it (ON DELETE CASCADE).
            tx.exec_drop("DELETE FROM meetups WHERE id = ?", (meetup,)).await?;
            tx.commit().await?;
            Ok(Some(Some(image)))
        })
        .await
        .map_err(backend)?;
        match outcome {
            None => Err(StorageError::UnknownMeetup),
            Some(None) => Ok(Removal::NotHost),
            Some(Some(image)) => {
                Ok(Removal::Deleted { image_id: image.as_deref().map(sql::uuid_from_db).transpose()? })
            }
        }
    }

    async fn image_of(&self, image: uuid::Uuid, user: UserId) -> Result<bool, StorageError> {
        let mut conn = self.conn().await?;
        let found: Option<i64> =
            conn.exec_first(sql::IMAGE_OF, (image.hyphenated().to_string(), user.to_db())).await.map_err(backend)?;
        Ok(found.unwrap_or_default() > 0)
    }

    async fn set_like(&self, meetup: MeetupId, user: UserId, like: bool) -> Result<u32, StorageError> {
        let pool = &self.pool;
        let count = retrying(|| async move {
            let mut conn = pool.get_conn().await?;
            let mut tx = conn.start_transaction(TxOpts::default()).await?;
            // The account's row first, held shared: its deletion (which locks it, then takes its
            // likes off the counts) comes wholly before this or wholly after.
            let live: Option<i64> = tx.exec_first(sql::LIVE_ACCOUNT_LOCKED, (user.to_db(),)).await?;
            if live.is_none() {
                return Ok(Err(StorageError::UnknownUser));
            }
            let row: Option<(String, Option<String>)> = tx.exec_first(sql::VISIBLE_MEETUP_LOCKED, (meetup,)).await?;
            if row.is_none() {
                return Ok(Err(StorageError::UnknownMeetup));
            }
            let liked: Option<i64> = tx.exec_first(sql::LIKED, (meetup, user.to_db())).await?;
            let liked = liked.unwrap_or_default() > 0;
            if like && !liked {
                tx.exec_drop(sql::LIKE, (meetup, user.to_db(), now_millis())).await?;
                tx.exec_drop(sql::LIKE_UP, (meetup,)).await?;
            } else if !like && liked {
                tx.exec_drop(sql::UNLIKE, (meetup, user.to_db())).await?;
                tx.exec_drop(sql::LIKE_DOWN, (meetup,)).await?;
            }
            let count: Option<i64> = tx.exec_first(sql::LIKE_COUNT, (meetup,)).await?;
            tx.commit().await?;
            Ok(count.ok_or(StorageError::UnknownMeetup))
        })
        .await
        .map_err(backend)?;
        sql::like_count_from_db(count?)
    }
}

/// A meetup's fields in `NewMeetup` order from `title` to `region` (as the insert and the update
/// list them).
fn fields(new: &NewMeetup) -> Vec<mysql_async::Value> {
    vec![
        new.title.as_str().into(),
        new.contents.as_str().into(),
        new.starts_at.timestamp_millis().into(),
        new.ends_at.timestamp_millis().into(),
        new.member_limit.into(),
        new.image_id.map(|id| id.hyphenated().to_string()).into(),
        new.place_name.as_str().into(),
        new.address.as_str().into(),
        new.lat.into(),
        new.lng.into(),
        new.region.as_str().into(),
    ]
}

/// Reads a meetup row by column position (the order of `sql::MEETUP`'s select list).
impl FromRow for MeetupRow {
    fn from_row_opt(row: Row) -> Result<Self, FromRowError> {
        fn at<T: FromValue>(row: &Row, index: usize) -> Option<T> {
            row.get_opt(index)?.ok()
        }
        let read = |row: &Row| {
            Some(MeetupRow {
                id: at(row, 0)?,
                host_user_id: at(row, 1)?,
                host_nickname: at(row, 2)?,
                title: at(row, 3)?,
                contents: at(row, 4)?,
                starts_at: at(row, 5)?,
                ends_at: at(row, 6)?,
                member_limit: at(row, 7)?,
                image_id: at(row, 8)?,
                place_name: at(row, 9)?,
                address: at(row, 10)?,
                lat: at(row, 11)?,
                lng: at(row, 12)?,
                region: at(row, 13)?,
                like_count: at(row, 14)?,
                member_count: at(row, 15)?,
                comment_count: at(row, 16)?,
                liked_by_me: at(row, 17)?,
                created_at: at(row, 18)?,
                updated_at: at(row, 19)?,
            })
        };
        read(&row).ok_or(FromRowError(row))
    }
}

/// A meetup's insert or update failed: on its image's foreign key, the image is not stored. An
/// image is checked before, but the daily purge may remove it in between.
fn image_missing(e: mysql_async::Error) -> StorageError {
    match &e {
        mysql_async::Error::Server(server)
            if server.code == ER_NO_REFERENCED_ROW_2 && server.message.contains("meetups_image_fk") =>
        {
            StorageError::UnknownImage
        }
        _ => backend(e),
    }
}
