//! MySQL: social identities, the single-use rows of a social login, and the purge. A single-use
//! row is taken by deleting it: of two instances that both read it, only the one whose `DELETE`
//! removed the row (InnoDB locks it; the other then deletes nothing) gets it. Split from `mysql.rs`
//! along the social-login seam.

use chrono::{DateTime, Utc};
use mysql_async::TxOpts;
use mysql_async::prelude::Queryable;

use super::{
    ER_DUP_ENTRY, ER_NO_REFERENCED_ROW_2, MySqlStorage, UserRow, backend, new_user_row, retrying, server_code,
    user_from_row, user_insert_error,
};
use crate::storage::meetups::sql;
use crate::storage::types::time_from_db;
use crate::storage::{AuthCode, CodeChallenge, NewUser, OAuthState, StorageError, TokenHash, User, UserId, now_millis};

type StateRow = (String, String, String, String, String, i64);

fn challenge_from_db(text: &str) -> Result<CodeChallenge, StorageError> {
    CodeChallenge::parse(text).ok_or_else(|| StorageError::Corrupt(format!("code challenge {text:?}")))
}

impl MySqlStorage {
    pub(super) async fn identity_user(&self, provider: &str, subject: &str) -> Result<Option<User>, StorageError> {
        let mut conn = self.conn().await?;
        let row: Option<UserRow> = conn
            .exec_first(
                "SELECT u.id, u.email, u.nickname, u.password_hash, u.created_at, u.deleted_at
                 FROM identities i JOIN users u ON u.id = i.user_id
                 WHERE i.provider = ? AND i.subject = ?",
                (provider, subject),
            )
            .await
            .map_err(backend)?;
        row.map(user_from_row).transpose()
    }

    pub(super) async fn provider_of(&self, user: UserId) -> Result<Option<String>, StorageError> {
        let mut conn = self.conn().await?;
        conn.exec_first(
            "SELECT provider FROM identities WHERE user_id = ? ORDER BY created_at LIMIT 1",
            (user.to_db(),),
        )
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
        let mut conn = self.conn().await?;
        let mut tx = conn.start_transaction(TxOpts::default()).await.map_err(backend)?;
        // A failed statement leaves the transaction open; dropping `tx` rolls it back.
        tx.exec_drop(
            "INSERT INTO users (id, email, nickname, password_hash, created_at, deleted_at)
             VALUES (?, ?, ?, ?, ?, NULL)",
            (new.id.to_db(), &new.email, &new.nickname, new.password_hash.as_deref(), created_at),
        )
        .await
        .map_err(user_insert_error)?;
        tx.exec_drop(
            "INSERT INTO identities (provider, subject, user_id, created_at) VALUES (?, ?, ?, ?)",
            (provider, subject, new.id.to_db(), created_at),
        )
        .await
        .map_err(|e| match server_code(&e) {
            Some(ER_DUP_ENTRY) => StorageError::IdentityTaken,
            _ => backend(e),
        })?;
        tx.commit().await.map_err(backend)?;
        new_user_row(new, created_at)
    }

    pub(super) async fn insert_state(&self, state: &OAuthState) -> Result<(), StorageError> {
        let mut conn = self.conn().await?;
        conn.exec_drop(
            "INSERT INTO oauth_states
             (state_hash, provider, pkce_verifier, nonce, app_redirect_uri, app_code_challenge, expires_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                state.hash.0.to_vec(),
                &state.provider,
                &state.pkce_verifier,
                &state.nonce,
                &state.app_redirect_uri,
                state.app_code_challenge.as_str(),
                state.expires_at.timestamp_millis(),
            ),
        )
        .await
        .map_err(backend)
    }

    pub(super) async fn take_state(&self, hash: TokenHash) -> Result<Option<OAuthState>, StorageError> {
        let mut conn = self.conn().await?;
        let row: Option<StateRow> = conn
            .exec_first(
                "SELECT provider, pkce_verifier, nonce, app_redirect_uri, app_code_challenge, expires_at
                 FROM oauth_states WHERE state_hash = ?",
                (hash.0.to_vec(),),
            )
            .await
            .map_err(backend)?;
        let Some((provider, pkce_verifier, nonce, app_redirect_uri, challenge, expires_at)) = row else {
            return Ok(None);
        };
        conn.exec_drop("DELETE FROM oauth_states WHERE state_hash = ?", (hash.0.to_vec(),)).await.map_err(backend)?;
        if conn.affected_rows() != 1 {
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
        let mut conn = self.conn().await?;
        conn.exec_drop(
            "INSERT INTO auth_codes (code_hash, user_id, code_challenge, expires_at) VALUES (?, ?, ?, ?)",
            (
                code.hash.0.to_vec(),
                code.user_id.to_db(),
                code.code_challenge.as_str(),
                code.expires_at.timestamp_millis(),
            ),
        )
        .await
        .map_err(|e| match server_code(&e) {
            Some(ER_NO_REFERENCED_ROW_2) => StorageError::UnknownUser,
            _ => backend(e),
        })
    }

    pub(super) async fn take_code(&self, hash: TokenHash) -> Result<Option<AuthCode>, StorageError> {
        let mut conn = self.conn().await?;
        let row: Option<(String, String, i64)> = conn
            .exec_first(
                "SELECT user_id, code_challenge, expires_at FROM auth_codes WHERE code_hash = ?",
                (hash.0.to_vec(),),
            )
            .await
            .map_err(backend)?;
        let Some((user_id, challenge, expires_at)) = row else { return Ok(None) };
        conn.exec_drop("DELETE FROM auth_codes WHERE code_hash = ?", (hash.0.to_vec(),)).await.map_err(backend)?;
        if conn.affected_rows() != 1 {
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
        // InnoDB cascades: documents (and their chunks), refresh tokens, identities, one-time
        // codes and likes go with their account. The likes counted in no like count since the
        // account's deletion (`sql::LIKES_OFF`).
        let pool = &self.pool;
        let before = deleted_before.timestamp_millis();
        retrying(|| async move {
            let mut conn = pool.get_conn().await?;
            conn.exec_drop(sql::PURGE_USERS, (before,)).await?;
            Ok(conn.affected_rows())
        })
        .await
        .map_err(backend)
    }

    pub(super) async fn purge_logins(&self, now: DateTime<Utc>) -> Result<u64, StorageError> {
        let now = now.timestamp_millis();
        let mut conn = self.conn().await?;
        conn.exec_drop("DELETE FROM oauth_states WHERE expires_at < ?", (now,)).await.map_err(backend)?;
        let states = conn.affected_rows();
        conn.exec_drop("DELETE FROM auth_codes WHERE expires_at < ?", (now,)).await.map_err(backend)?;
        Ok(states + conn.affected_rows())
    }
}
