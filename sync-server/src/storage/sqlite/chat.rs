//! SQLite: chat messages. `insert_message` is shared with the meetup writes (join and leave post
//! their system message in the same transaction).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;
use uuid::Uuid;

use super::{SqliteStorage, backend};
use crate::storage::chat::{
    AccessRow, ChatMessage, ChatStore, MESSAGES_AFTER, MESSAGES_BEFORE, MeetupId, MessageRow, NewMessage, Notice,
    Posted, ROOM_ACCESS, RoomAccess, access_from_row, message_from_row, notice_from_row, notice_to_row,
};
use crate::storage::types::time_from_db;
use crate::storage::{StorageError, UserId, now_millis};

/// Appends `new` to its meetup's room inside the caller's write transaction (`BEGIN IMMEDIATE`)
/// and returns it with `true`; a text message whose (sender, client id) is already stored is not
/// stored again: that one comes back with `false`. `UnknownMeetup` if the meetup is gone.
pub(super) async fn insert_message(
    conn: &mut SqliteConnection,
    new: &NewMessage<'_>,
) -> Result<(ChatMessage, bool), StorageError> {
    if let Some(before) = stored_before(conn, new).await? {
        return Ok((before, false));
    }
    Ok((append(conn, new).await?, true))
}

/// The text message this (sender, client id) already stored, if any.
async fn stored_before(conn: &mut SqliteConnection, new: &NewMessage<'_>) -> Result<Option<ChatMessage>, StorageError> {
    let Some(client_id) = new.client_id else { return Ok(None) };
    let existing: Option<(i64, i64, i64, String, i64, Option<String>)> = sqlx::query_as(
        "SELECT m.id, m.meetup_id, m.seq, m.text, m.created_at, u.nickname
         FROM chat_messages m LEFT JOIN users u ON u.id = m.sender_user_id
         WHERE m.sender_user_id = ? AND m.client_id = ?",
    )
    .bind(new.sender.id.to_db())
    .bind(client_id.hyphenated().to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    existing
        .map(|(id, meetup_id, seq, text, created_at, nickname)| {
            Ok(ChatMessage {
                id,
                meetup_id,
                seq,
                kind: new.kind,
                client_id: Some(client_id),
                sender: Some(new.sender_as(nickname)),
                text,
                at: time_from_db(created_at)?,
            })
        })
        .transpose()
}

/// Stores `new` with its meetup's next sequence number. `UnknownMeetup` if the meetup is gone.
async fn append(conn: &mut SqliteConnection, new: &NewMessage<'_>) -> Result<ChatMessage, StorageError> {
    let seq: Option<(i64,)> =
        sqlx::query_as("UPDATE meetups SET chat_seq = chat_seq + 1 WHERE id = ? RETURNING chat_seq")
            .bind(new.meetup_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(backend)?;
    let Some((seq,)) = seq else { return Err(StorageError::UnknownMeetup) };
    let now = now_millis();
    // The sender's nickname as it is now comes back with the insert: no statement more per message.
    let (id, nickname): (i64, Option<String>) = sqlx::query_as(
        "INSERT INTO chat_messages (meetup_id, seq, kind, sender_user_id, client_id, text, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         RETURNING id, (SELECT nickname FROM users WHERE id = sender_user_id)",
    )
    .bind(new.meetup_id)
    .bind(seq)
    .bind(new.kind.to_db())
    .bind(new.sender.id.to_db())
    .bind(new.client_id.map(|c: Uuid| c.hyphenated().to_string()))
    .bind(new.text)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(new.stored(id, seq, time_from_db(now)?, nickname))
}

/// The user's standing in the meetup's room, through `db` (the pool, or a transaction).
async fn room_access<'c>(
    db: impl sqlx::SqliteExecutor<'c>,
    meetup: MeetupId,
    user: UserId,
) -> Result<Option<RoomAccess>, StorageError> {
    let row: Option<AccessRow> =
        sqlx::query_as(ROOM_ACCESS).bind(user.to_db()).bind(meetup).fetch_optional(db).await.map_err(backend)?;
    row.map(|row| access_from_row(row, user)).transpose()
}

#[async_trait]
impl ChatStore for SqliteStorage {
    async fn room_access(&self, meetup: MeetupId, user: UserId) -> Result<Option<RoomAccess>, StorageError> {
        room_access(&self.pool, meetup, user).await
    }

    async fn post_message(&self, new: &NewMessage<'_>) -> Result<(ChatMessage, bool), StorageError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        let posted = insert_message(&mut tx, new).await?;
        tx.commit().await.map_err(backend)?;
        Ok(posted)
    }

    async fn post_messages(&self, batch: &[NewMessage<'_>]) -> Result<Vec<Posted>, StorageError> {
        // Committed together with the other rooms' batches queued meanwhile (`chat_writer`).
        self.chat.post(batch).await
    }

    async fn notice(&self, meetup: MeetupId) -> Result<Option<Notice>, StorageError> {
        let row: Option<(Option<String>, Option<i64>)> =
            sqlx::query_as("SELECT notice_text, notice_at FROM meetups WHERE id = ?")
                .bind(meetup)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        let Some((text, at)) = row else { return Err(StorageError::UnknownMeetup) };
        notice_from_row(text, at)
    }

    async fn set_notice(
        &self,
        meetup: MeetupId,
        notice: Option<(&str, DateTime<Utc>)>,
    ) -> Result<Option<Notice>, StorageError> {
        let (text, at) = notice_to_row(notice);
        let updated = sqlx::query("UPDATE meetups SET notice_text = ?, notice_at = ? WHERE id = ?")
            .bind(text)
            .bind(at)
            .bind(meetup)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        if updated.rows_affected() == 0 {
            return Err(StorageError::UnknownMeetup);
        }
        notice_from_row(text.map(str::to_owned), at)
    }

    async fn messages_after(
        &self,
        meetup: MeetupId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, StorageError> {
        let rows: Vec<MessageRow> = sqlx::query_as(MESSAGES_AFTER)
            .bind(meetup)
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.into_iter().map(message_from_row).collect()
    }

    async fn messages_before(
        &self,
        meetup: MeetupId,
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, StorageError> {
        let rows: Vec<MessageRow> = sqlx::query_as(MESSAGES_BEFORE)
            .bind(meetup)
            .bind(before_seq.unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.into_iter().map(message_from_row).collect()
    }
}
