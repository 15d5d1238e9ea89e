//! MySQL: meetups, members, likes, comments, notice and image records. Writes that check rows
//! before changing them lock the meetup's row first (`SELECT … FOR UPDATE`), so concurrent joins
//! of one meetup are ordered and its member limit holds.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mysql_async::TxOpts;
use mysql_async::prelude::Queryable;

use super::chat::{Inserted, insert_message};
use super::{MySqlStorage, backend, retrying};
use crate::storage::chat::{ChatMessage, MeetupId, MessageKind, NewMessage, Sender};
use crate::storage::meetups::{Join, Leave, MeetupStore, NewMeetup};
use crate::storage::{StorageError, now_millis};

/// The system message a join or a leave stored, or why there is none.
fn stored(inserted: Inserted) -> Result<ChatMessage, StorageError> {
    match inserted {
        Inserted::New(message) | Inserted::Existing(message) => Ok(message),
        Inserted::UnknownMeetup => Err(StorageError::UnknownMeetup),
    }
}

#[async_trait]
impl MeetupStore for MySqlStorage {
    async fn create_meetup(&self, new: &NewMeetup) -> Result<MeetupId, StorageError> {
        let pool = &self.pool;
        retrying(|| async move {
            let now = now_millis();
            let mut conn = pool.get_conn().await?;
            let mut tx = conn.start_transaction(TxOpts::default()).await?;
            tx.exec_drop(
                "INSERT INTO meetups (host_user_id, title, contents, starts_at, ends_at, member_limit, image_id,
                                      place_name, address, lat, lng, region, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                mysql_async::Params::Positional(vec![
                    new.host.to_db().into(),
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
                    now.into(),
                    now.into(),
                ]),
            )
            .await?;
            let id = tx.last_insert_id().and_then(|id| i64::try_from(id).ok()).unwrap_or_default();
            tx.exec_drop(
                "INSERT INTO meetup_members (meetup_id, user_id, joined_at) VALUES (?, ?, ?)",
                (id, new.host.to_db(), now),
            )
            .await?;
            tx.commit().await?;
            Ok(id)
        })
        .await
        .map_err(backend)
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
            let members: Option<i64> =
                tx.exec_first("SELECT COUNT(*) FROM meetup_members WHERE meetup_id = ?", (meetup,)).await?;
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
}
