//! SQLite: social identities, the single-use rows of a social login, and the purge. A single-use
//! row is taken by deleting it: of two connections that both read it, only the one whose `DELETE`
//! removed the row gets it. Split from `sqlite.rs` along the social-login seam.

use chrono::{DateTime, Utc};
use sqlx::error::ErrorKind;

use super::{SqliteStorage, UserRow, backend, kind, new_user_row, user_from_row, user_insert_error};
use crate::storage::meetups::sql;
use crate::storage::types::time_from_db;
use crate::storage::{AuthCode, CodeChallenge, NewUser, OAuthState, StorageError, TokenHash, User, UserId, now_millis};

type StateRow = (String, String, String, String, String, i64);

fn challenge_from_db(text: &str) -> Result<CodeChallenge, StorageError> {
    CodeChallenge::parse(text).ok_or_else(|| StorageError::Corrupt(format!("code challenge {text:?}")))
}

impl SqliteStorage {
    pub(super) async fn identity_user(&self, provider: &str, subject: &str) -> Result<Option<User>, StorageError> {
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT u.id, u.email, u.nickname, u.password_hash, u.created_at, u.deleted_at
             FROM identities i JOIN users u ON u.id = i.user_id
             WHERE i.provider = ? AND i.subject = ?",
        )
        .bind(provider)
        .bind(subject)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.map(user_from_row).transpose()
    }

    pub(super) async fn provider_of(&self, user: UserId) -> Result<Option<String>, StorageError> {
        sqlx::query_scalar("SELECT provider FROM identities WHERE user_id = ? ORDER BY created_at LIMIT 1")
            .bind(user.to_db())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)
    }

    pub(super) async fn create_linked_user(
        &self,
        new: &NewUser,
        provider: &str,
        subject: &str,
    ) -> Result<User, StorageError> {
        let created_at = now_millis();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        let linked: Option<(String,)> =
            sqlx::query_as("SELECT user_id FROM identities WHERE provider = ? AND subject = ?")
                .bind(provider)
                .bind(subject)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        if linked.is_some() {
            return Err(StorageError::IdentityTaken);
        }
        sqlx::query(
            "INSERT INTO users (id, email, nickname, password_hash, created_at, deleted_at)
             VALUES (?, ?, ?, ?, ?, NULL)",
        )
        .bind(new.id.to_db())
        .bind(&new.email)
        .bind(&new.nickname)
        .bind(new.password_hash.as_deref())
        .bind(created_at)
        .execute(&mut *tx)
        .await
        .map_err(user_insert_error)?;
        sqlx::query("INSERT INTO identities (provider, subject, user_id, created_at) VALUES (?, ?, ?, ?)")
            .bind(provider)
            .bind(subject)
            .bind(new.id.to_db())
            .bind(created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| match kind(&e) {
                Some(ErrorKind::UniqueViolation) => StorageError::IdentityTaken,
                _ => backend(e),
            })?;
        tx.commit().await.map_err(backend)?;
        new_user_row(new, created_at)
    }

    pub(super) async fn insert_state(&self, state: &OAuthState) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO oauth_states
             (state_hash, provider, pkce_verifier, nonce, app_redirect_uri, app_code_challenge, expires_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(state.hash.0.as_slice())
        .bind(&state.provider)
        .bind(&state.pkce_verifier)
        .bind(&state.nonce)
        .bind(&state.app_redirect_uri)
        .bind(state.app_code_challenge.as_str())
        .bind(state.expires_at.timestamp_millis())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    pub(super) async fn take_state(&self, hash: TokenHash) -> Result<Option<OAuthState>, StorageError> {
        let row: Option<StateRow> = sqlx::query_as(
            "SELECT provider, pkce_verifier, nonce, app_redirect_uri, app_code_challenge, expires_at
             FROM oauth_states WHERE state_hash = ?",
        )
        .bind(hash.0.as_slice())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some((provider, pkce_verifier, nonce, app_redirect_uri, challenge, expires_at)) = row else {
            return Ok(None);
        };
        let taken = sqlx::query("DELETE FROM oauth_states WHERE state_hash = ?")
            .bind(hash.0.as_slice())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        if taken.rows_affected() != 1 {
            return Ok(None);
        }
        Ok(Some(OAuthState {
            hash,
            provider,
            pkce_verifier,
            nonce,
            app_redirect_uri,
            app_code_challenge: challenge_from_db(&challenge)?,
            expires_at: time_from_db(expires_at)?,
        }))
    }

    pub(super) async fn insert_code(&self, code: &AuthCode) -> Result<(), StorageError> {
        sqlx::query("INSERT INTO auth_codes (code_hash, user_id, code_challenge, expires_at) VALUES (?, ?, ?, ?)")
            .bind(code.hash.0.as_slice())
            .bind(code.user_id.to_db())
            .bind(code.code_challenge.as_str())
            .bind(code.expires_at.timestamp_millis())
            .execute(&self.pool)
            .await
            .map_err(|e| match kind(&e) {
                Some(ErrorKind::ForeignKeyViolation) => StorageError::UnknownUser,
                _ => backend(e),
            })?;
        Ok(())
    }

    pub(super) async fn take_code(&self, hash: TokenHash) -> Result<Option<AuthCode>, StorageError> {
        let row: Option<(String, String, i64)> =
            sqlx::query_as("SELECT user_id, code_challenge, expires_at FROM auth_codes WHERE code_hash = ?")
                .bind(hash.0.as_slice())
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        let Some((user_id, challenge, expires_at)) = row else { return Ok(None) };
        let taken = sqlx::query("DELETE FROM auth_codes WHERE code_hash = ?")
            .bind(hash.0.as_slice())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        if taken.rows_affected() != 1 {
            return Ok(None);
        }
        Ok(Some(AuthCode {
            hash,
            user_id: UserId::from_db(&user_id)?,
            code_challenge: challenge_from_db(&challenge)?,
            expires_at: time_from_db(expires_at)?,
        }))
    }

    pub(super) async fn purge_users(&self, deleted_before: DateTime<Utc>) -> Result<u64, StorageError> {
        // Foreign keys are on for every connection: documents (and their chunks), refresh tokens,
        // identities, one-time codes and likes go with their account. The likes counted in no
        // like count since the account's deletion (`sql::LIKES_OFF`).
        let before = deleted_before.timestamp_millis();
        let purged = sqlx::query(sql::PURGE_USERS).bind(before).execute(&self.pool).await.map_err(backend)?;
        Ok(purged.rows_affected())
    }

    pub(super) async fn purge_logins(&self, now: DateTime<Utc>) -> Result<u64, StorageError> {
        let now = now.timestamp_millis();
        let states = sqlx::query("DELETE FROM oauth_states WHERE expires_at < ?")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        let codes = sqlx::query("DELETE FROM auth_codes WHERE expires_at < ?")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(states.rows_affected() + codes.rows_affected())
    }
}
