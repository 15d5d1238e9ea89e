//! SQLite: refresh tokens and account deletion, the writes that must be atomic (rotation spends a
//! token and stores its successor in one `BEGIN IMMEDIATE` transaction; deletion marks the account,
//! revokes its tokens, deletes the meetups it hosts and takes its likes off the counts together,
//! and restoring puts the likes back). Split from `sqlite.rs` along the accounts seam.

use sqlx::error::ErrorKind;

use super::{SqliteStorage, backend, kind};
use crate::storage::meetups::{DeletedMeetup, sql};
use crate::storage::types::{TokenState, classify_unrotated};
use crate::storage::{NewRefreshToken, Rotation, StorageError, TokenFamily, TokenHash, UserId, now_millis};

/// When the account was deleted (`None`: it is live), read in the caller's transaction;
/// `UnknownUser` if there is no such account.
async fn deletion_mark(tx: &mut sqlx::SqliteConnection, id: UserId) -> Result<Option<i64>, StorageError> {
    let found: Option<(Option<i64>,)> = sqlx::query_as("SELECT deleted_at FROM users WHERE id = ?")
        .bind(id.to_db())
        .fetch_optional(tx)
        .await
        .map_err(backend)?;
    found.map(|(deleted_at,)| deleted_at).ok_or(StorageError::UnknownUser)
}

impl SqliteStorage {
    pub(super) async fn soft_delete(&self, id: UserId) -> Result<Vec<DeletedMeetup>, StorageError> {
        let now = now_millis();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        let deleted_at = deletion_mark(&mut tx, id).await?;
        sqlx::query("UPDATE users SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL")
            .bind(now)
            .bind(id.to_db())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query("UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL")
            .bind(now)
            .bind(id.to_db())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        // Every write takes the database's one write lock (`BEGIN IMMEDIATE`): a meetup created
        // before this is deleted here, one after finds its host in the grace and is not stored.
        let hosted: Vec<(i64, Option<String>)> =
            sqlx::query_as(sql::HOSTED).bind(id.to_db()).fetch_all(&mut *tx).await.map_err(backend)?;
        sqlx::query(sql::DELETE_HOSTED).bind(id.to_db()).execute(&mut *tx).await.map_err(backend)?;
        if deleted_at.is_none() {
            sqlx::query(sql::LIKES_OFF).bind(id.to_db()).execute(&mut *tx).await.map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        sql::deleted_from_rows(hosted)
    }

    pub(super) async fn restore(&self, id: UserId) -> Result<(), StorageError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        let deleted_at = deletion_mark(&mut tx, id).await?;
        if deleted_at.is_some() {
            sqlx::query("UPDATE users SET deleted_at = NULL WHERE id = ?")
                .bind(id.to_db())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            sqlx::query(sql::LIKES_ON).bind(id.to_db()).execute(&mut *tx).await.map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    pub(super) async fn insert_token(&self, token: &NewRefreshToken) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at, used_at, revoked_at, created_at)
             VALUES (?, ?, ?, ?, NULL, NULL, ?)",
        )
        .bind(token.hash.0.as_slice())
        .bind(token.user_id.to_db())
        .bind(token.family.to_db())
        .bind(token.expires_at.timestamp_millis())
        .bind(now_millis())
        .execute(&self.pool)
        .await
        .map_err(|e| match kind(&e) {
            Some(ErrorKind::ForeignKeyViolation) => StorageError::UnknownUser,
            _ => backend(e),
        })?;
        Ok(())
    }

    pub(super) async fn rotate_token(
        &self,
        old: TokenHash,
        next: TokenHash,
        next_expires_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Rotation, StorageError> {
        let now = now_millis();
        // The write lock up front: a second rotation of the same token waits, then finds it spent.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        let spent = sqlx::query(
            "UPDATE refresh_tokens SET used_at = ?
             WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?",
        )
        .bind(now)
        .bind(old.0.as_slice())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        let row: Option<(String, String, Option<i64>, Option<i64>)> =
            sqlx::query_as("SELECT user_id, family_id, used_at, revoked_at FROM refresh_tokens WHERE token_hash = ?")
                .bind(old.0.as_slice())
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        let state = row
            .map(|(user, family, used_at, revoked_at)| TokenState::from_db(&user, &family, used_at, revoked_at))
            .transpose()?;
        if spent.rows_affected() != 1 {
            tx.commit().await.map_err(backend)?;
            return Ok(classify_unrotated(state));
        }
        let Some(TokenState { user_id, family, .. }) = state else {
            return Err(StorageError::Corrupt("a spent refresh token vanished in its transaction".into()));
        };
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at, used_at, revoked_at, created_at)
             VALUES (?, ?, ?, ?, NULL, NULL, ?)",
        )
        .bind(next.0.as_slice())
        .bind(user_id.to_db())
        .bind(family.to_db())
        .bind(next_expires_at.timestamp_millis())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(Rotation::Rotated { user_id, family })
    }

    pub(super) async fn revoke_family(&self, family: TokenFamily) -> Result<u64, StorageError> {
        let revoked =
            sqlx::query("UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL")
                .bind(now_millis())
                .bind(family.to_db())
                .execute(&self.pool)
                .await
                .map_err(backend)?;
        Ok(revoked.rows_affected())
    }

    pub(super) async fn family_of(&self, token: TokenHash) -> Result<Option<TokenFamily>, StorageError> {
        let family: Option<(String,)> = sqlx::query_as("SELECT family_id FROM refresh_tokens WHERE token_hash = ?")
            .bind(token.0.as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        family.map(|(f,)| TokenFamily::from_db(&f)).transpose()
    }
}
