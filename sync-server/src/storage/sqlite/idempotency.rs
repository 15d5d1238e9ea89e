//! SQLite: idempotency keys, their claims and kept responses. Each step is one statement, and
//! SQLite runs one writer at a time, so each is atomic without a transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::media::unknown_user_or_backend;
use super::{SqliteStorage, backend};
use crate::storage::idempotency::{IdempotencyStore, KeyClaim, RUNNING, claim_from_db, key_kept_changing};
use crate::storage::{StorageError, UserId};

/// Rounds of claim, take over and read before giving up; another round is needed only when the
/// row went away between two statements (its claim released, or purged).
const CLAIM_ROUNDS: usize = 4;

#[async_trait]
impl IdempotencyStore for SqliteStorage {
    async fn claim_key(
        &self,
        user: UserId,
        key: &str,
        request_hash: &[u8; 32],
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> Result<KeyClaim, StorageError> {
        let user = user.to_db();
        for _ in 0..CLAIM_ROUNDS {
            let claim = Uuid::new_v4();
            let inserted = sqlx::query(
                "INSERT INTO idempotency_keys (user_id, key, request_hash, status, body, created_at, claim)
                 VALUES (?, ?, ?, ?, x'', ?, ?) ON CONFLICT (user_id, key) DO NOTHING",
            )
            .bind(&user)
            .bind(key)
            .bind(request_hash.as_slice())
            .bind(RUNNING)
            .bind(now.timestamp_millis())
            .bind(claim.hyphenated().to_string())
            .execute(&self.pool)
            .await
            .map_err(unknown_user_or_backend)?;
            if inserted.rows_affected() == 1 {
                return Ok(KeyClaim::Claimed(claim));
            }
            let taken = sqlx::query(
                "UPDATE idempotency_keys SET claim = ?, created_at = ?
                 WHERE user_id = ? AND key = ? AND status = ? AND created_at < ? AND request_hash = ?",
            )
            .bind(claim.hyphenated().to_string())
            .bind(now.timestamp_millis())
            .bind(&user)
            .bind(key)
            .bind(RUNNING)
            .bind(stale_before.timestamp_millis())
            .bind(request_hash.as_slice())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
            if taken.rows_affected() == 1 {
                return Ok(KeyClaim::Claimed(claim));
            }
            let row: Option<(Vec<u8>, i64, Vec<u8>)> =
                sqlx::query_as("SELECT request_hash, status, body FROM idempotency_keys WHERE user_id = ? AND key = ?")
                    .bind(&user)
                    .bind(key)
                    .fetch_optional(&self.pool)
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
        let kept = sqlx::query(
            "UPDATE idempotency_keys SET status = ?, body = ?, created_at = ?, claim = NULL
             WHERE user_id = ? AND key = ? AND claim = ?",
        )
        .bind(i64::from(status))
        .bind(body)
        .bind(now.timestamp_millis())
        .bind(user.to_db())
        .bind(key)
        .bind(claim.hyphenated().to_string())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(kept.rows_affected() == 1)
    }

    async fn release_key(&self, user: UserId, key: &str, claim: Uuid) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM idempotency_keys WHERE user_id = ? AND key = ? AND claim = ?")
            .bind(user.to_db())
            .bind(key)
            .bind(claim.hyphenated().to_string())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn purge_kept_responses(&self, created_before: DateTime<Utc>) -> Result<u64, StorageError> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < ?")
            .bind(created_before.timestamp_millis())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }
}
