//! SQLite: meetup comments. The checks of a change (the comment's meetup visible, the author's own
//! comment) and the change run in one `BEGIN IMMEDIATE` transaction.

use async_trait::async_trait;
use sqlx::SqliteConnection;

use super::meetups::visible;
use super::{SqliteStorage, backend};
use crate::storage::chat::MeetupId;
use crate::storage::meetups::sql::{self, CommentRow};
use crate::storage::meetups::{Authored, Comment, CommentStore};
use crate::storage::{StorageError, UserId, now_millis};

#[async_trait]
impl CommentStore for SqliteStorage {
    async fn add_comment(&self, meetup: MeetupId, author: UserId, text: &str) -> Result<Comment, StorageError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        if visible(&mut tx, meetup).await?.is_none() {
            return Err(StorageError::UnknownMeetup);
        }
        let now = now_millis();
        let id = sqlx::query(sql::INSERT_COMMENT)
            .bind(meetup)
            .bind(author.to_db())
            .bind(text)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(backend)?
            .last_insert_rowid();
        let row: CommentRow = sqlx::query_as(sql::COMMENT).bind(id).fetch_one(&mut *tx).await.map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        sql::comment_from_row(row)
    }

    async fn comments(&self, meetup: MeetupId, after: Option<i64>, limit: u32) -> Result<Vec<Comment>, StorageError> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        if visible(&mut conn, meetup).await?.is_none() {
            return Err(StorageError::UnknownMeetup);
        }
        let rows: Vec<CommentRow> = sqlx::query_as(sql::COMMENTS_OF_MEETUP)
            .bind(meetup)
            .bind(after.unwrap_or(0))
            .bind(i64::from(limit))
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?;
        rows.into_iter().map(sql::comment_from_row).collect()
    }

    async fn comments_by(&self, author: UserId, before: Option<i64>, limit: u32) -> Result<Vec<Comment>, StorageError> {
        let rows: Vec<CommentRow> = sqlx::query_as(sql::COMMENTS_BY)
            .bind(author.to_db())
            .bind(before.unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.into_iter().map(sql::comment_from_row).collect()
    }

    async fn edit_comment(&self, comment: i64, author: UserId, text: &str) -> Result<Authored<Comment>, StorageError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        if let Some(refusal) = refusal(&mut tx, comment, author).await? {
            return Ok(refusal);
        }
        sqlx::query(sql::EDIT_COMMENT)
            .bind(text)
            .bind(now_millis())
            .bind(comment)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let row: CommentRow = sqlx::query_as(sql::COMMENT).bind(comment).fetch_one(&mut *tx).await.map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(Authored::Done(sql::comment_from_row(row)?))
    }

    async fn delete_comment(&self, comment: i64, author: UserId) -> Result<Authored<()>, StorageError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        if let Some(refusal) = refusal(&mut tx, comment, author).await? {
            return Ok(refusal);
        }
        sqlx::query(sql::DELETE_COMMENT).bind(comment).execute(&mut *tx).await.map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(Authored::Done(()))
    }
}

/// `None` if `author` wrote the comment and its meetup is visible; otherwise why they may not change it.
async fn refusal<T>(
    conn: &mut SqliteConnection,
    comment: i64,
    author: UserId,
) -> Result<Option<Authored<T>>, StorageError> {
    let written_by: Option<(String,)> =
        sqlx::query_as(sql::COMMENT_AUTHOR).bind(comment).fetch_optional(conn).await.map_err(backend)?;
    Ok(match written_by {
        None => Some(Authored::Unknown),
        Some((written_by,)) if written_by != author.to_db() => Some(Authored::NotAuthor),
        Some(_) => None,
    })
}
