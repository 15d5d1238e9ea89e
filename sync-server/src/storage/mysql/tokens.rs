//! MySQL: refresh tokens and account deletion, the writes that must be atomic (rotation spends a
//! token with a row-locking `UPDATE … WHERE used_at IS NULL` and stores its successor in the same
//! transaction; deletion marks the account, revokes its tokens, deletes the meetups it hosts and
//! takes its likes off the counts together, and restoring puts the likes back). Split from
//! `mysql.rs` along the accounts seam.

use mysql_async::TxOpts;
use mysql_async::prelude::Queryable;

use super::{ER_NO_REFERENCED_ROW_2, MySqlStorage, backend, retrying, server_code};
use crate::storage::meetups::{DeletedMeetup, sql};
use crate::storage::types::{TokenState, classify_unrotated};
use crate::storage::{NewRefreshToken, Rotation, StorageError, TokenFamily, TokenHash, UserId, now_millis};

impl MySqlStorage {
    pub(super) async fn soft_delete(&self, id: UserId) -> Result<Vec<DeletedMeetup>, StorageError> {
        let pool = &self.pool;
        let hosted = retrying(|| async move {
            let now = now_millis();
            let mut conn = pool.get_conn().await?;
            let mut tx = conn.start_transaction(TxOpts::default()).await?;
            // The account's row, locked first: a like (`set_like`) holds it shared while it counts.
            let found: Option<Option<i64>> =
                tx.exec_first("SELECT deleted_at FROM users WHERE id = ? FOR UPDATE", (id.to_db(),)).await?;
            let Some(deleted_at) = found else {
                tx.rollback().await?;
                return Ok(None);
            };
            tx.exec_drop("UPDATE users SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL", (now, id.to_db()))
                .await?;
            tx.exec_drop(
                "UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                (now, id.to_db()),
            )
            .await?;
            // A meetup's creation locks the host's row shared before anything else and holds it
            // until it commits (`create_meetup`): one created before this is found here (a locking
            // read sees it), one after finds its host in the grace and stores nothing.
            let hosted: Vec<(i64, Option<String>)> = tx.exec(sql::HOSTED_LOCKED, (id.to_db(),)).await?;
            tx.exec_drop(sql::DELETE_HOSTED, (id.to_db(),)).await?;
            if deleted_at.is_none() {
                tx.exec_drop(sql::LIKES_OFF, (id.to_db(),)).await?;
            }
            tx.commit().await?;
            Ok(Some(hosted))
        })
        .await
        .map_err(backend)?;
        sql::deleted_from_rows(hosted.ok_or(StorageError::UnknownUser)?)
    }

    pub(super) async fn restore(&self, id: UserId) -> Result<(), StorageError> {
        let pool = &self.pool;
        let found = retrying(|| async move {
            let mut conn = pool.get_conn().await?;
            let mut tx = conn.start_transaction(TxOpts::default()).await?;
            let found: Option<Option<i64>> =
                tx.exec_first("SELECT deleted_at FROM users WHERE id = ? FOR UPDATE", (id.to_db(),)).await?;
            match found {
                None => {
                    tx.rollback().await?;
                    return Ok(false);
                }
                Some(Some(_)) => {
                    tx.exec_drop("UPDATE users SET deleted_at = NULL WHERE id = ?", (id.to_db(),)).await?;
                    tx.exec_drop(sql::LIKES_ON, (id.to_db(),)).await?;
                }
                Some(None) => {}
            }
            tx.commit().await?;
            Ok(true)
        })
        .await
        .map_err(backend)?;
        if found { Ok(()) } else { Err(StorageError::UnknownUser) }
    }

    pub(super) async fn insert_token(&self, token: &NewRefreshToken) -> Result<(), StorageError> {
        let mut conn = self.conn().await?;
        conn.exec_drop(
            "INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at, used_at, revoked_at, created_at)
             VALUES (?, ?, ?, ?, NULL, NULL, ?)",
            (
                token.hash.0.to_vec(),
                token.user_id.to_db(),
                token.family.to_db(),
                token.expires_at.timestamp_millis(),
                now_millis(),
            ),
        )
        .await
        .map_err(|e| match server_code(&e) {
            Some(ER_NO_REFERENCED_ROW_2) => StorageError::UnknownUser,
            _ => backend(e),
        })
    }

    pub(super) async fn rotate_token(
        &self,
        old: TokenHash,
        next: TokenHash,
        next_expires_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Rotation, StorageError> {
        type Row = (String, String, Option<i64>, Option<i64>);
        let pool = &self.pool;
        let (spent, row) = retrying(|| async move {
            let now = now_millis();
            let mut conn = pool.get_conn().await?;
            let mut tx = conn.start_transaction(TxOpts::default()).await?;
            // The UPDATE takes the row lock: a concurrent rotation of the same token waits, then
            // finds `used_at` set and changes nothing.
            tx.exec_drop(
                "UPDATE refresh_tokens SET used_at = ?
                 WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?",
                (now, old.0.to_vec(), now),
            )
            .await?;
            let spent = tx.affected_rows() == 1;
            let row: Option<Row> = tx
                .exec_first(
                    "SELECT user_id, family_id, used_at, revoked_at FROM refresh_tokens
                     WHERE token_hash = ? FOR UPDATE",
                    (old.0.to_vec(),),
                )
                .await?;
            if spent && let Some((user, family, ..)) = &row {
                tx.exec_drop(
                    "INSERT INTO refresh_tokens
                     (token_hash, user_id, family_id, expires_at, used_at, revoked_at, created_at)
                     VALUES (?, ?, ?, ?, NULL, NULL, ?)",
                    (next.0.to_vec(), user, family, next_expires_at.timestamp_millis(), now),
                )
                .await?;
            }
            tx.commit().await?;
            Ok((spent, row))
        })
        .await
        .map_err(backend)?;
        let state = row
            .map(|(user, family, used_at, revoked_at)| TokenState::from_db(&user, &family, used_at, revoked_at))
            .transpose()?;
        match (spent, state) {
            (true, Some(TokenState { user_id, family, .. })) => Ok(Rotation::Rotated { user_id, family }),
            (true, None) => Err(StorageError::Corrupt("a spent refresh token vanished in its transaction".into())),
            (false, state) => Ok(classify_unrotated(state)),
        }
    }

    pub(super) async fn revoke_family(&self, family: TokenFamily) -> Result<u64, StorageError> {
        let pool = &self.pool;
        retrying(|| async move {
            let mut conn = pool.get_conn().await?;
            conn.exec_drop(
                "UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL",
                (now_millis(), family.to_db()),
            )
            .await?;
            Ok(conn.affected_rows())
        })
        .await
        .map_err(backend)
    }

    pub(super) async fn family_of(&self, token: TokenHash) -> Result<Option<TokenFamily>, StorageError> {
        let mut conn = self.conn().await?;
        let family: Option<String> = conn
            .exec_first("SELECT family_id FROM refresh_tokens WHERE token_hash = ?", (token.0.to_vec(),))
            .await
            .map_err(backend)?;
        family.as_deref().map(TokenFamily::from_db).transpose()
    }
}
