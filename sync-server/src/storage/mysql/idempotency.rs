//! MySQL: idempotency keys, their claims and kept responses. Each step is one statement on the
//! key's primary-key row, so each is atomic: a duplicate insert fails on the key, and a take-over
//! or a completion re-reads the row it updates under its lock.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mysql_async::prelude::Queryable;
use uuid::Uuid;

use super::{ER_DUP_ENTRY, ER_NO_REFERENCED_ROW_2, MySqlStorage, backend, server_code};
use crate::storage::idempotency::{IdempotencyStore, KeyClaim, RUNNING, claim_from_db, key_kept_changing};
use crate::storage::{StorageError, UserId};

/// Rounds of claim, take over and read before giving up; another round is needed only when the
/// row went away between two statements (its claim released, or purged).
const CLAIM_ROUNDS: usize = 4;

#[async_trait]
impl IdempotencyStore for MySqlStorage {
    async fn claim_key(
        &self,
        user: UserId,
        key: &str,
        request_hash: &[u8; 32],
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> Result<KeyClaim, StorageError> {
        let user = user.to_db();
        let mut conn = self.conn().await?;
        for _ in 0..CLAIM_ROUNDS {
            let claim = Uuid::new_v4();
            let inserted = conn
                .exec_drop(
                    "INSERT INTO idempotency_keys (user_id, `key`, request_hash, status, body, created_at, claim)
                     VALUES (?, ?, ?, ?, '', ?, ?)",
                    (
                        &user,
                        key,
                        request_hash.to_vec(),
                        RUNNING,
                        now.timestamp_millis(),
                        claim.hyphenated().to_string(),
                    ),
                )
                .await;
            match inserted {
                Ok(()) => return Ok(KeyClaim::Claimed(claim)),
                Err(e) => match server_code(&e) {
                    Some(ER_DUP_ENTRY) => {}
                    Some(ER_NO_REFERENCED_ROW_2) => return Err(StorageError::UnknownUser),
                    _ => return Err(backend(e)),
                },
            }
            conn.exec_drop(
                "UPDATE idempotency_keys SET claim = ?, created_at = ?
                 WHERE user_id = ? AND `key` = ? AND status = ? AND created_at < ? AND request_hash = ?",
                (
                    claim.hyphenated().to_string(),
                    now.timestamp_millis(),
                    &user,
                    key,
                    RUNNING,
                    stale_before.timestamp_millis(),
                    request_hash.to_vec(),
                ),
            )
            .await
            .map_err(backend)?;
            if conn.affected_rows() == 1 {
                return Ok(KeyClaim::Claimed(claim));
            }
            let row: Option<(Vec<u8>, i64, Vec<u8>)> = conn
                .exec_first(
                    "SELECT request_hash, status, body FROM idempotency_keys WHERE user_id = ? AND `key` = ?",
                    (&user, key),
                )
                .await
                .map_err(backend)?;
            if let Some((hash, status, body)) = row {
                return claim_from_db(&hash, status, body);
            }
        }
        Err(key_kept_changing())
    }

    async fn keep_response(
        &self,
        user: UserId,
        key: &str,
        claim: Uuid,
        status: u16,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let mut conn = self.conn().await?;
        conn.exec_drop(
            "UPDATE idempotency_keys SET status = ?, body = ?, created_at = ?, claim = NULL
             WHERE user_id = ? AND `key` = ? AND claim = ?",
            (status, body, now.timestamp_millis(), user.to_db(), key, claim.hyphenated().to_string()),
        )
        .await
        .map_err(backend)?;
        Ok(conn.affected_rows() == 1)
    }

    async fn release_key(&self, user: UserId, key: &str, claim: Uuid) -> Result<(), StorageError> {
        let mut conn = self.conn().await?;
        conn.exec_drop(
            "DELETE FROM idempotency_keys WHERE user_id = ? AND `key` = ? AND claim = ?",
            (user.to_db(), key, claim.hyphenated().to_string()),
        )
        .await
        .map_err(backend)
    }

    async fn purge_kept_responses(&self, created_before: DateTime<Utc>) -> Result<u64, StorageError> {
        let mut conn = self.conn().await?;
        conn.exec_drop("DELETE FROM idempotency_keys WHERE created_at < ?", (created_before.timestamp_millis(),))
            .await
            .map_err(backend)?;
        Ok(conn.affected_rows())
    }
}
