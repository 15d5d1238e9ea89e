//! MySQL: meetup comments. A change locks the comment's row (`FOR UPDATE`) while it checks the
//! author, so the check holds until the change commits.

use async_trait::async_trait;
use mysql_async::prelude::Queryable;
use mysql_async::{Transaction, TxOpts};

use super::{MySqlStorage, backend, retrying};
use crate::storage::chat::MeetupId;
use crate::storage::meetups::sql::{self, CommentRow};
use crate::storage::meetups::{Authored, Comment, CommentStore};
use crate::storage::{StorageError, UserId, now_millis};

#[async_trait]
impl CommentStore for MySqlStorage {
    async fn add_comment(&self, meetup: MeetupId, author: UserId, text: &str) -> Result<Comment, StorageError> {
        let pool = &self.pool;
        let row = retrying(|| async move {
            let mut conn = pool.get_conn().await?;
            let mut tx = conn.start_transaction(TxOpts::default()).await?;
            let visible: Option<(String, Option<String>)> =
                tx.exec_first(sql::VISIBLE_MEETUP_LOCKED, (meetup,)).await?;
            if visible.is_none() {
                return Ok(None);
            }
            let now = now_millis();
            tx.exec_drop(sql::INSERT_COMMENT, (meetup, author.to_db(), text, now, now)).await?;
            let id = tx.last_insert_id().and_then(|id| i64::try_from(id).ok()).unwrap_or_default();
            let row: Option<CommentRow> = tx.exec_first(sql::COMMENT, (id,)).await?;
            tx.commit().await?;
            Ok(row)
        })
        .await
        .map_err(backend)?;
        sql::comment_from_row(row.ok_or(StorageError::UnknownMeetup)?)
    }

    async fn comments(&self, meetup: MeetupId, after: Option<i64>, limit: u32) -> Result<Vec<Comment>, StorageError> {
        let mut conn = self.conn().await?;
        let visible: Option<(String, Option<String>)> =
            conn.exec_first(sql::VISIBLE_MEETUP, (meetup,)).await.map_err(backend)?;
        if visible.is_none() {
            return Err(StorageError::UnknownMeetup);
        }
        let rows: Vec<CommentRow> =
            conn.exec(sql::COMMENTS_OF_MEETUP, (meetup, after.unwrap_or(0), limit)).await.map_err(backend)?;
        rows.into_iter().map(sql::comment_from_row).collect()
    }

    async fn comments_by(&self, author: UserId, before: Option<i64>, limit: u32) -> Result<Vec<Comment>, StorageError> {
        let mut conn = self.conn().await?;
        let rows: Vec<CommentRow> =
            conn.exec(sql::COMMENTS_BY, (author.to_db(), before.unwrap_or(i64::MAX), limit)).await.map_err(backend)?;
        rows.into_iter().map(sql::comment_from_row).collect()
    }

    async fn edit_comment(&self, comment: i64, author: UserId, text: &str) -> Result<Authored<Comment>, StorageError> {
        let pool = &self.pool;
        let outcome = retrying(|| async move {
            let mut conn = pool.get_conn().await?;
            let mut tx = conn.start_transaction(TxOpts::default()).await?;
            if let Some(refusal) = refusal(&mut tx, comment, author).await? {
                return Ok(Err(refusal));
            }
            tx.exec_drop(sql::EDIT_COMMENT, (text, now_millis(), comment)).await?;
            let row: Option<CommentRow> = tx.exec_first(sql::COMMENT, (comment,)).await?;
            tx.commit().await?;
            Ok(Ok(row))
        })
        .await
        .map_err(backend)?;
        match outcome {
            Err(refusal) => Ok(refusal),
            Ok(Some(row)) => Ok(Authored::Done(sql::comment_from_row(row)?)),
            Ok(None) => Ok(Authored::Unknown),
        }
    }

    async fn delete_comment(&self, comment: i64, author: UserId) -> Result<Authored<()>, StorageError> {
        let pool = &self.pool;
        retrying(|| async move {
            let mut conn = pool.get_conn().await?;
            let mut tx = conn.start_transaction(TxOpts::default()).await?;
            if let Some(refusal) = refusal(&mut tx, comment, author).await? {
                return Ok(refusal);
            }
            tx.exec_drop(sql::DELETE_COMMENT, (comment,)).await?;
            tx.commit().await?;
            Ok(Authored::Done(()))
        })
        .await
        .map_err(backend)
    }
}

/// `None` if `author` wrote the comment and its meetup is visible (the comment's row is then
/// locked); otherwise why they may not change it.
async fn refusal<T>(
    tx: &mut Transaction<'_>,
    comment: i64,
    author: UserId,
) -> Result<Option<Authored<T>>, mysql_async::Error> {
    let written_by: Option<String> = tx.exec_first(sql::COMMENT_AUTHOR_LOCKED, (comment,)).await?;
    Ok(match written_by {
        None => Some(Authored::Unknown),
        Some(written_by) if written_by != author.to_db() => Some(Authored::NotAuthor),
        Some(_) => None,
    })
}
