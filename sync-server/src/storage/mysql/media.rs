//! MySQL: uploaded images' records. Each call is one statement, but for the quota's insert, which
//! counts and inserts in one transaction under the owner's row lock.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mysql_async::TxOpts;
use mysql_async::prelude::Queryable;
use uuid::Uuid;

use super::{ER_NO_REFERENCED_ROW_2, MySqlStorage, backend, retrying, server_code};
use crate::storage::media::{MediaRecord, MediaStore, media_from_db, media_id_from_db, size_to_db};
use crate::storage::{StorageError, UserId};

#[async_trait]
impl MediaStore for MySqlStorage {
    async fn insert_media(&self, media: &MediaRecord) -> Result<(), StorageError> {
        let mut conn = self.conn().await?;
        conn.exec_drop(
            "INSERT INTO media (id, owner_user_id, content_type, byte_size, created_at) VALUES (?, ?, ?, ?, ?)",
            (
                media.id.hyphenated().to_string(),
                media.owner.to_db(),
                media.content_type.as_str(),
                size_to_db(media.byte_size)?,
                media.created_at.timestamp_millis(),
            ),
        )
        .await
        .map_err(|e| match server_code(&e) {
            Some(ER_NO_REFERENCED_ROW_2) => StorageError::UnknownUser,
            _ => backend(e),
        })
    }

    async fn insert_media_within_quota(
        &self,
        media: &MediaRecord,
        since: DateTime<Utc>,
        quota: u32,
    ) -> Result<bool, StorageError> {
        // The owner's row is locked first, so one owner's uploads count and insert one at a time
        // (locking the range of their images instead would let two gap locks deadlock).
        let pool = &self.pool;
        let (owner, id) = (media.owner.to_db(), media.id.hyphenated().to_string());
        let (owner, id, size) = (owner.as_str(), id.as_str(), size_to_db(media.byte_size)?);
        let outcome = retrying(|| async move {
            let mut conn = pool.get_conn().await?;
            let mut tx = conn.start_transaction(TxOpts::default()).await?;
            let exists: Option<i64> = tx.exec_first("SELECT 1 FROM users WHERE id = ? FOR UPDATE", (owner,)).await?;
            if exists.is_none() {
                return Ok(None);
            }
            let recent: Option<i64> = tx
                .exec_first(
                    "SELECT COUNT(*) FROM media WHERE owner_user_id = ? AND created_at >= ?",
                    (owner, since.timestamp_millis()),
                )
                .await?;
            if recent.unwrap_or_default() >= i64::from(quota) {
                return Ok(Some(false));
            }
            tx.exec_drop(
                "INSERT INTO media (id, owner_user_id, content_type, byte_size, created_at) VALUES (?, ?, ?, ?, ?)",
                (id, owner, media.content_type.as_str(), size, media.created_at.timestamp_millis()),
            )
            .await?;
            tx.commit().await?;
            Ok(Some(true))
        })
        .await
        .map_err(backend)?;
        outcome.ok_or(StorageError::UnknownUser)
    }

    async fn media(&self, id: Uuid) -> Result<Option<MediaRecord>, StorageError> {
        let mut conn = self.conn().await?;
        let row: Option<(String, String, i64, i64)> = conn
            .exec_first(
                "SELECT owner_user_id, content_type, byte_size, created_at FROM media WHERE id = ?",
                (id.hyphenated().to_string(),),
            )
            .await
            .map_err(backend)?;
        row.map(|row| media_from_db(id, row)).transpose()
    }

    async fn delete_media(&self, id: Uuid) -> Result<bool, StorageError> {
        let mut conn = self.conn().await?;
        conn.exec_drop("DELETE FROM media WHERE id = ?", (id.hyphenated().to_string(),)).await.map_err(backend)?;
        Ok(conn.affected_rows() == 1)
    }

    async fn delete_media_if_unused(&self, id: Uuid) -> Result<bool, StorageError> {
        let id = id.hyphenated().to_string();
        let mut conn = self.conn().await?;
        conn.exec_drop(
            "DELETE FROM media WHERE id = ? AND NOT EXISTS (SELECT 1 FROM meetups WHERE image_id = ?)",
            (id.as_str(), id.as_str()),
        )
        .await
        .map_err(backend)?;
        Ok(conn.affected_rows() == 1)
    }

    async fn unused_media(&self, created_before: DateTime<Utc>, limit: u32) -> Result<Vec<Uuid>, StorageError> {
        let mut conn = self.conn().await?;
        let rows: Vec<String> = conn
            .exec(
                "SELECT id FROM media m WHERE m.created_at < ?
                   AND NOT EXISTS (SELECT 1 FROM meetups WHERE image_id = m.id)
                 ORDER BY m.created_at LIMIT ?",
                (created_before.timestamp_millis(), limit),
            )
            .await
            .map_err(backend)?;
        rows.iter().map(|id| media_id_from_db(id)).collect()
    }

    async fn count_media_since(&self, owner: UserId, since: DateTime<Utc>) -> Result<u64, StorageError> {
        let mut conn = self.conn().await?;
        let count: Option<u64> = conn
            .exec_first(
                "SELECT COUNT(*) FROM media WHERE owner_user_id = ? AND created_at >= ?",
                (owner.to_db(), since.timestamp_millis()),
            )
            .await
            .map_err(backend)?;
        Ok(count.unwrap_or(0))
    }
}
