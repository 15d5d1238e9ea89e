//! SQLite: meetups, members, likes, comments, notice and image records. Writes that check rows
//! before changing them run in one `BEGIN IMMEDIATE` transaction, so the check holds at commit.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::chat::insert_message;
use super::{SqliteStorage, backend};
use crate::storage::chat::{MeetupId, MessageKind, NewMessage, Sender};
use crate::storage::meetups::{Join, Leave, MeetupStore, NewMeetup};
use crate::storage::{StorageError, now_millis};

#[async_trait]
impl MeetupStore for SqliteStorage {
    async fn create_meetup(&self, new: &NewMeetup) -> Result<MeetupId, StorageError> {
        let now = now_millis();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO meetups (host_user_id, title, contents, starts_at, ends_at, member_limit, image_id,
                                  place_name, address, lat, lng, region, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(new.host.to_db())
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
        .bind(now)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
        sqlx::query("INSERT INTO meetup_members (meetup_id, user_id, joined_at) VALUES (?, ?, ?)")
            .bind(id)
            .bind(new.host.to_db())
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(id)
    }

    async fn join_meetup(&self, meetup: MeetupId, user: &Sender, now: DateTime<Utc>) -> Result<Join, StorageError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        let row: Option<(i64, Option<i64>, i64, i64)> = sqlx::query_as(
            "SELECT m.ends_at, m.member_limit,
                    (SELECT COUNT(*) FROM meetup_members mm WHERE mm.meetup_id = m.id),
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
}
