//! SQLite: uploaded images' records. Each call is one statement (the quota's insert counts inside
//! its own), so no transaction is needed.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::error::ErrorKind;
use uuid::Uuid;

use super::{SqliteStorage, backend, kind};
use crate::storage::media::{MediaRecord, MediaStore, media_from_db, media_id_from_db, size_to_db};
use crate::storage::{StorageError, UserId};

/// A failed insert of a row that names its user: an unknown user is the caller's to handle.
pub(super) fn unknown_user_or_backend(e: sqlx::Error) -> StorageError {
    match kind(&e) {
        Some(ErrorKind::ForeignKeyViolation) => StorageError::UnknownUser,
        _ => backend(e),
    }
}

#[async_trait]
impl MediaStore for SqliteStorage {
    async fn insert_media(&self, media: &MediaRecord) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO media (id, owner_user_id, content_type, byte_size, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(media.id.hyphenated().to_string())
        .bind(media.owner.to_db())
        .bind(&media.content_type)
        .bind(size_to_db(media.byte_size)?)
        .bind(media.created_at.timestamp_millis())
        .execute(&self.pool)
        .await
        .map_err(unknown_user_or_backend)?;
        Ok(())
    }

    async fn insert_media_within_quota(
        &self,
        media: &MediaRecord,
        since: DateTime<Utc>,
        quota: u32,
    ) -> Result<bool, StorageError> {
        // One statement: SQLite takes the write lock before it counts, so the count and the
        // insert see the same rows whoever else uploads meanwhile.
        let owner = media.owner.to_db();
        let done = sqlx::query(
            "INSERT INTO media (id, owner_user_id, content_type, byte_size, created_at)
             SELECT ?, ?, ?, ?, ?
             WHERE (SELECT COUNT(*) FROM media WHERE owner_user_id = ? AND created_at >= ?) < ?",
        )
        .bind(media.id.hyphenated().to_string())
        .bind(&owner)
        .bind(&media.content_type)
        .bind(size_to_db(media.byte_size)?)
        .bind(media.created_at.timestamp_millis())
        .bind(&owner)
        .bind(since.timestamp_millis())
        .bind(i64::from(quota))
        .execute(&self.pool)
        .await
        .map_err(unknown_user_or_backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn media(&self, id: Uuid) -> Result<Option<MediaRecord>, StorageError> {
        let row: Option<(String, String, i64, i64)> =
            sqlx::query_as("SELECT owner_user_id, content_type, byte_size, created_at FROM media WHERE id = ?")
                .bind(id.hyphenated().to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        row.map(|row| media_from_db(id, row)).transpose()
    }

    async fn delete_media(&self, id: Uuid) -> Result<bool, StorageError> {
        let done = sqlx::query("DELETE FROM media WHERE id = ?")
            .bind(id.hyphenated().to_string())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_media_if_unused(&self, id: Uuid) -> Result<bool, StorageError> {
        let id = id.hyphenated().to_string();
        let done =
            sqlx::query("DELETE FROM media WHERE id = ? AND NOT EXISTS (SELECT 1 FROM meetups WHERE image_id = ?)")
                .bind(&id)
                .bind(&id)
                .execute(&self.pool)
                .await
                .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn unused_media(&self, created_before: DateTime<Utc>, limit: u32) -> Result<Vec<Uuid>, StorageError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM media m WHERE m.created_at < ?
               AND NOT EXISTS (SELECT 1 FROM meetups WHERE image_id = m.id)
             ORDER BY m.created_at LIMIT ?",
        )
        .bind(created_before.timestamp_millis())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(|(id,)| media_id_from_db(id)).collect()
    }

    async fn count_media_since(&self, owner: UserId, since: DateTime<Utc>) -> Result<u64, StorageError> {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM media WHERE owner_user_id = ? AND created_at >= ?")
            .bind(owner.to_db())
            .bind(since.timestamp_millis())
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        Ok(count.unsigned_abs())
    }
}
