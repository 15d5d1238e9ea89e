//! MySQL: chat messages. `insert_message` is shared with the meetup writes (join and leave post
//! their system message in the same transaction).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mysql_async::prelude::Queryable;
use mysql_async::{Transaction, TxOpts};

use super::{MySqlStorage, backend, retrying};
use crate::storage::chat::{
    AccessRow, ChatMessage, ChatStore, MESSAGES_AFTER, MESSAGES_BEFORE, MeetupId, MessageRow, NewMessage, Notice,
    Posted, ROOM_ACCESS, RoomAccess, access_from_row, message_from_row, notice_from_row, notice_to_row,
};
use crate::storage::{StorageError, UserId, now_millis};

/// What `insert_message` did.
pub(super) enum Inserted {
    /// Stored now.
    New(ChatMessage),
    /// A text message with this (sender, client id) was stored before: that one.
    Existing(ChatMessage),
    /// The meetup is gone.
    UnknownMeetup,
}

/// Appends `new` to its meetup's room inside the caller's transaction: the meetup's row lock
/// (taken by the `UPDATE` of its counter) orders concurrent appends, so sequence numbers have no
/// gaps and no repeats. Returns a plain driver error so callers can retry deadlocks as a whole;
/// a stored time that cannot be read comes back as the epoch's start (never happens: we write it).
pub(super) async fn insert_message(
    tx: &mut Transaction<'_>,
    new: &NewMessage<'_>,
) -> Result<Inserted, mysql_async::Error> {
    let time = |millis: i64| chrono::DateTime::from_timestamp_millis(millis).unwrap_or_default();
    if let Some(client_id) = new.client_id {
        let existing: Option<(i64, i64, i64, String, i64, Option<String>)> = tx
            .exec_first(
                "SELECT m.id, m.meetup_id, m.seq, m.text, m.created_at, u.nickname
                 FROM chat_messages m LEFT JOIN users u ON u.id = m.sender_user_id
                 WHERE m.sender_user_id = ? AND m.client_id = ?",
                (new.sender.id.to_db(), client_id.hyphenated().to_string()),
            )
            .await?;
        if let Some((id, meetup_id, seq, text, created_at, nickname)) = existing {
            return Ok(Inserted::Existing(ChatMessage {
                id,
                meetup_id,
                seq,
                kind: new.kind,
                client_id: Some(client_id),
                sender: Some(new.sender_as(nickname)),
                text,
                at: time(created_at),
            }));
        }
    }
    tx.exec_drop("UPDATE meetups SET chat_seq = chat_seq + 1 WHERE id = ?", (new.meetup_id,)).await?;
    if tx.affected_rows() == 0 {
        return Ok(Inserted::UnknownMeetup);
    }
    // The sender's nickname as it is now comes back with the counter: no round trip more.
    let seq: Option<(i64, Option<String>)> = tx
        .exec_first(
            "SELECT m.chat_seq, u.nickname FROM meetups m LEFT JOIN users u ON u.id = ? WHERE m.id = ?",
            (new.sender.id.to_db(), new.meetup_id),
        )
        .await?;
    let Some((seq, nickname)) = seq else { return Ok(Inserted::UnknownMeetup) };
    let now = now_millis();
    tx.exec_drop(
        "INSERT INTO chat_messages (meetup_id, seq, kind, sender_user_id, client_id, text, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            new.meetup_id,
            seq,
            new.kind.to_db(),
            new.sender.id.to_db(),
            new.client_id.map(|c| c.hyphenated().to_string()),
            new.text,
            now,
        ),
    )
    .await?;
    let id = tx.last_insert_id().and_then(|id| i64::try_from(id).ok()).unwrap_or_default();
    Ok(Inserted::New(new.stored(id, seq, time(now), nickname)))
}

#[async_trait]
impl ChatStore for MySqlStorage {
    async fn room_access(&self, meetup: MeetupId, user: UserId) -> Result<Option<RoomAccess>, StorageError> {
        let mut conn = self.conn().await?;
        let row: Option<AccessRow> = conn.exec_first(ROOM_ACCESS, (user.to_db(), meetup)).await.map_err(backend)?;
        row.map(|row| access_from_row(row, user)).transpose()
    }

    async fn post_message(&self, new: &NewMessage<'_>) -> Result<(ChatMessage, bool), StorageError> {
        let pool = &self.pool;
        let inserted = retrying(|| async move {
            let mut conn = pool.get_conn().await?;
            let mut tx = conn.start_transaction(TxOpts::default()).await?;
            let inserted = insert_message(&mut tx, new).await?;
            tx.commit().await?;
            Ok(inserted)
        })
        .await
        .map_err(backend)?;
        match inserted {
            Inserted::New(message) => Ok((message, true)),
            Inserted::Existing(message) => Ok((message, false)),
            Inserted::UnknownMeetup => Err(StorageError::UnknownMeetup),
        }
    }

    async fn post_messages(&self, batch: &[NewMessage<'_>]) -> Result<Vec<Posted>, StorageError> {
        // Committed together with the other rooms' batches queued meanwhile (`chat_writer`).
        self.chat.post(batch).await
    }

    async fn notice(&self, meetup: MeetupId) -> Result<Option<Notice>, StorageError> {
        let mut conn = self.conn().await?;
        let row: Option<(Option<String>, Option<i64>)> = conn
            .exec_first("SELECT notice_text, notice_at FROM meetups WHERE id = ?", (meetup,))
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
        let mut conn = self.conn().await?;
        conn.exec_drop("UPDATE meetups SET notice_text = ?, notice_at = ? WHERE id = ?", (text, at, meetup))
            .await
            .map_err(backend)?;
        // MySQL counts changed rows, not matched ones: an update that changed nothing (the same
        // notice again, or no notice to remove) needs a look before it can be called a miss.
        if conn.affected_rows() == 0 {
            let found: Option<i64> =
                conn.exec_first("SELECT id FROM meetups WHERE id = ?", (meetup,)).await.map_err(backend)?;
            found.ok_or(StorageError::UnknownMeetup)?;
        }
        notice_from_row(text.map(str::to_owned), at)
    }

    async fn messages_after(
        &self,
        meetup: MeetupId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, StorageError> {
        let mut conn = self.conn().await?;
        let rows: Vec<MessageRow> = conn.exec(MESSAGES_AFTER, (meetup, after_seq, limit)).await.map_err(backend)?;
        rows.into_iter().map(message_from_row).collect()
    }

    async fn messages_before(
        &self,
        meetup: MeetupId,
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, StorageError> {
        let mut conn = self.conn().await?;
        let rows: Vec<MessageRow> =
            conn.exec(MESSAGES_BEFORE, (meetup, before_seq.unwrap_or(i64::MAX), limit)).await.map_err(backend)?;
        rows.into_iter().map(message_from_row).collect()
    }
}
