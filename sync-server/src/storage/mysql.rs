//! The MySQL / MariaDB backend (mysql_async), for production and for several server instances on
//! one database. Every write is a single INSERT or DELETE keyed by content, or one short
//! transaction of them, so concurrent instances never overwrite each other. InnoDB may still pick a
//! write as a deadlock victim; such writes are retried a few times, never reported as done.

use std::future::Future;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mysql_async::prelude::Queryable;
use mysql_async::{Pool, TxOpts};

use super::batches;
use super::meetups::DeletedMeetup;
use super::types::time_from_db;
use super::{
    AuthCode, Chunk, ChunkKey, Claim, ContentHash, DocumentId, NewRefreshToken, NewUser, OAuthState, Rotation, Storage,
    StorageError, TokenFamily, TokenHash, User, UserId, now_millis,
};

const ER_DUP_ENTRY: u16 = 1062;
const ER_NO_REFERENCED_ROW_2: u16 = 1452;
const ER_LOCK_WAIT_TIMEOUT: u16 = 1205;
const ER_LOCK_DEADLOCK: u16 = 1213;
/// Tries of a write InnoDB keeps choosing as a deadlock victim.
const WRITE_ATTEMPTS: usize = 5;

pub struct MySqlStorage {
    pool: Pool,
    /// The chat relay's group commit across rooms (`chat_writer`).
    chat: crate::storage::chat_queue::ChatQueue,
}

fn backend(e: mysql_async::Error) -> StorageError {
    StorageError::MySql(e)
}

fn server_code(e: &mysql_async::Error) -> Option<u16> {
    match e {
        mysql_async::Error::Server(server) => Some(server.code),
        _ => None,
    }
}

/// Runs `write` again while InnoDB reports a deadlock or a lock wait timeout.
async fn retrying<T, F, Fut>(mut write: F) -> Result<T, mysql_async::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, mysql_async::Error>>,
{
    let mut attempt = 1;
    loop {
        match write().await {
            Err(e)
                if attempt < WRITE_ATTEMPTS
                    && matches!(server_code(&e), Some(ER_LOCK_DEADLOCK | ER_LOCK_WAIT_TIMEOUT)) =>
            {
                tracing::debug!(attempt, error = %e, "MySQL write retried");
                attempt += 1;
            }
            other => return other,
        }
    }
}

type UserRow = (String, String, String, Option<String>, i64, Option<i64>);

fn user_from_row((id, email, nickname, password_hash, created_at, deleted_at): UserRow) -> Result<User, StorageError> {
    Ok(User {
        id: UserId::from_db(&id)?,
        email,
        nickname,
        password_hash,
        created_at: time_from_db(created_at)?,
        deleted_at: deleted_at.map(time_from_db).transpose()?,
    })
}

/// A failed insert into `users`: a taken email or nickname is the caller's to handle.
fn user_insert_error(e: mysql_async::Error) -> StorageError {
    match &e {
        // "Duplicate entry '…' for key 'users_email_key'": the key name ends the message.
        mysql_async::Error::Server(server) if server.code == ER_DUP_ENTRY => {
            let key = server.message.rsplit("for key").next().unwrap_or_default();
            if key.contains("users_email_key") {
                StorageError::EmailTaken
            } else if key.contains("users_nickname_key") {
                StorageError::NicknameTaken
            } else {
                backend(e)
            }
        }
        _ => backend(e),
    }
}

/// The account just inserted from `new` at `created_at` (Unix milliseconds).
fn new_user_row(new: &NewUser, created_at: i64) -> Result<User, StorageError> {
    Ok(User {
        id: new.id,
        email: new.email.clone(),
        nickname: new.nickname.clone(),
        password_hash: new.password_hash.clone(),
        created_at: time_from_db(created_at)?,
        deleted_at: None,
    })
}

const INSERT_CHUNK: &str = "INSERT INTO chunks (doc_id, kind, hash, bytes) VALUES (?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE doc_id = doc_id";

impl MySqlStorage {
    /// Connects to the database a `mysql://user:password@host:port/database` URL names (it must
    /// exist) and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        let opts = pool::pool_opts(url)?;
        let pool = Pool::new(opts);
        let storage = Self { chat: chat_writer::start(pool.clone()), pool };
        storage.migrate().await?;
        Ok(storage)
    }

    async fn conn(&self) -> Result<mysql_async::Conn, StorageError> {
        self.pool.get_conn().await.map_err(backend)
    }
}

mod chat;
mod chat_batch;
mod chat_writer;
mod comments;
mod documents;
mod idempotency;
mod media;
mod meetups;
mod pool;
mod schema;
mod social;
mod tokens;

#[async_trait]
impl Storage for MySqlStorage {
    async fn ping(&self) -> Result<(), StorageError> {
        let mut conn = self.conn().await?;
        conn.query_drop("SELECT 1").await.map_err(backend)
    }

    async fn claim_document(&self, doc_id: &DocumentId, user: UserId) -> Result<Claim, StorageError> {
        // The primary key decides: of concurrent inserts exactly one creates the row, the others
        // find it. The owner is then read back rather than inferred from an affected-row count.
        let pool = &self.pool;
        retrying(|| async move {
            pool.get_conn()
                .await?
                .exec_drop(
                    "INSERT INTO documents (doc_id, owner_user_id, created_at) VALUES (?, ?, ?)
                     ON DUPLICATE KEY UPDATE doc_id = doc_id",
                    (doc_id.as_str(), user.to_db(), now_millis()),
                )
                .await
        })
        .await
        .map_err(|e| match server_code(&e) {
            Some(ER_NO_REFERENCED_ROW_2) => StorageError::UnknownUser,
            _ => backend(e),
        })?;
        match self.document_owner(doc_id).await? {
            Some(owner) if owner == user => Ok(Claim::Owned),
            Some(_) => Ok(Claim::OwnedByOther),
            None => Err(StorageError::Corrupt(format!("document {doc_id} neither inserted nor found"))),
        }
    }

    async fn document_owner(&self, doc_id: &DocumentId) -> Result<Option<UserId>, StorageError> {
        let mut conn = self.conn().await?;
        let owner: Option<String> = conn
            .exec_first("SELECT owner_user_id FROM documents WHERE doc_id = ?", (doc_id.as_str(),))
            .await
            .map_err(backend)?;
        owner.as_deref().map(UserId::from_db).transpose()
    }

    async fn put_chunk(&self, doc_id: &DocumentId, key: ChunkKey, bytes: &[u8]) -> Result<(), StorageError> {
        let pool = &self.pool;
        retrying(|| async move {
            pool.get_conn()
                .await?
                .exec_drop(INSERT_CHUNK, (doc_id.as_str(), key.kind_code(), key.hash().0.to_vec(), bytes.to_vec()))
                .await
        })
        .await
        .map_err(|e| match server_code(&e) {
            Some(ER_NO_REFERENCED_ROW_2) => StorageError::UnknownDocument,
            _ => backend(e),
        })
    }

    async fn account_root(&self, user: UserId) -> Result<uuid::Uuid, StorageError> {
        self.account_root_of(user).await
    }

    async fn load_chunks(&self, doc_id: &DocumentId) -> Result<Vec<Chunk>, StorageError> {
        let mut conn = self.conn().await?;
        let rows: Vec<(i64, Vec<u8>, Vec<u8>)> = conn
            .exec("SELECT kind, hash, bytes FROM chunks WHERE doc_id = ? ORDER BY kind, hash", (doc_id.as_str(),))
            .await
            .map_err(backend)?;
        rows.into_iter().map(|(kind, hash, bytes)| Ok(Chunk { key: ChunkKey::from_db(kind, &hash)?, bytes })).collect()
    }

    async fn chunk_keys(&self, doc_id: &DocumentId) -> Result<Vec<ChunkKey>, StorageError> {
        self.chunk_keys_of(doc_id).await
    }

    async fn chunk(&self, doc_id: &DocumentId, key: ChunkKey) -> Result<Option<Vec<u8>>, StorageError> {
        self.chunk_of(doc_id, key).await
    }

    async fn compact(
        &self,
        doc_id: &DocumentId,
        snapshot: ContentHash,
        snapshot_bytes: &[u8],
        replaced: &[ChunkKey],
    ) -> Result<(), StorageError> {
        let snapshot_key = ChunkKey::Snapshot(snapshot);
        let pool = &self.pool;
        retrying(|| async move {
            let mut conn = pool.get_conn().await?;
            let mut tx = conn.start_transaction(TxOpts::default()).await?;
            tx.exec_drop(
                INSERT_CHUNK,
                (doc_id.as_str(), snapshot_key.kind_code(), snapshot.0.to_vec(), snapshot_bytes.to_vec()),
            )
            .await?;
            for (kind, hashes) in batches::replaced_by_kind(replaced, snapshot_key) {
                for group in batches::groups(&hashes) {
                    let mut params: Vec<mysql_async::Value> = vec![doc_id.as_str().into(), kind.into()];
                    params.extend(group.iter().map(|hash| mysql_async::Value::from(*hash)));
                    tx.exec_drop(batches::DELETE_CHUNKS.text(group.len()), params).await?;
                }
            }
            tx.commit().await
        })
        .await
        .map_err(|e| match server_code(&e) {
            Some(ER_NO_REFERENCED_ROW_2) => StorageError::UnknownDocument,
            _ => backend(e),
        })
    }

    async fn create_user(&self, new: &NewUser) -> Result<User, StorageError> {
        let created_at = now_millis();
        let mut conn = self.conn().await?;
        conn.exec_drop(
            "INSERT INTO users (id, email, nickname, password_hash, created_at, deleted_at)
             VALUES (?, ?, ?, ?, ?, NULL)",
            (new.id.to_db(), &new.email, &new.nickname, new.password_hash.as_deref(), created_at),
        )
        .await
        .map_err(user_insert_error)?;
        new_user_row(new, created_at)
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StorageError> {
        let mut conn = self.conn().await?;
        let row: Option<UserRow> = conn
            .exec_first(
                "SELECT id, email, nickname, password_hash, created_at, deleted_at FROM users WHERE email = ?",
                (email,),
            )
            .await
            .map_err(backend)?;
        row.map(user_from_row).transpose()
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StorageError> {
        let mut conn = self.conn().await?;
        let row: Option<UserRow> = conn
            .exec_first(
                "SELECT id, email, nickname, password_hash, created_at, deleted_at FROM users WHERE id = ?",
                (id.to_db(),),
            )
            .await
            .map_err(backend)?;
        row.map(user_from_row).transpose()
    }

    async fn set_nickname(&self, id: UserId, nickname: &str) -> Result<(), StorageError> {
        let mut conn = self.conn().await?;
        conn.exec_drop("UPDATE users SET nickname = ? WHERE id = ?", (nickname, id.to_db())).await.map_err(|e| {
            match server_code(&e) {
                Some(ER_DUP_ENTRY) => StorageError::NicknameTaken,
                _ => backend(e),
            }
        })?;
        // MySQL counts changed rows: an unchanged nickname affects none, so ask whether the user exists.
        if conn.affected_rows() == 0 && self.user_by_id(id).await?.is_none() {
            return Err(StorageError::UnknownUser);
        }
        Ok(())
    }

    async fn set_password_hash(&self, id: UserId, password_hash: &str) -> Result<(), StorageError> {
        let mut conn = self.conn().await?;
        conn.exec_drop("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, id.to_db()))
            .await
            .map_err(backend)?;
        if conn.affected_rows() == 0 && self.user_by_id(id).await?.is_none() {
            return Err(StorageError::UnknownUser);
        }
        Ok(())
    }

    async fn soft_delete_user(&self, id: UserId) -> Result<Vec<DeletedMeetup>, StorageError> {
        self.soft_delete(id).await
    }

    async fn restore_user(&self, id: UserId) -> Result<(), StorageError> {
        self.restore(id).await
    }

    async fn insert_refresh_token(&self, token: &NewRefreshToken) -> Result<(), StorageError> {
        self.insert_token(token).await
    }

    async fn rotate_refresh_token(
        &self,
        old: TokenHash,
        next: TokenHash,
        next_expires_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Rotation, StorageError> {
        self.rotate_token(old, next, next_expires_at).await
    }

    async fn revoke_token_family(&self, family: TokenFamily) -> Result<u64, StorageError> {
        self.revoke_family(family).await
    }

    async fn token_family(&self, token: TokenHash) -> Result<Option<TokenFamily>, StorageError> {
        self.family_of(token).await
    }

    async fn user_by_identity(&self, provider: &str, subject: &str) -> Result<Option<User>, StorageError> {
        self.identity_user(provider, subject).await
    }

    async fn identity_provider(&self, user: UserId) -> Result<Option<String>, StorageError> {
        self.provider_of(user).await
    }

    async fn create_user_with_identity(
        &self,
        new: &NewUser,
        provider: &str,
        subject: &str,
    ) -> Result<User, StorageError> {
        self.create_linked_user(new, provider, subject).await
    }

    async fn insert_oauth_state(&self, state: &OAuthState) -> Result<(), StorageError> {
        self.insert_state(state).await
    }

    async fn take_oauth_state(&self, state: TokenHash) -> Result<Option<OAuthState>, StorageError> {
        self.take_state(state).await
    }

    async fn insert_auth_code(&self, code: &AuthCode) -> Result<(), StorageError> {
        self.insert_code(code).await
    }

    async fn take_auth_code(&self, code: TokenHash) -> Result<Option<AuthCode>, StorageError> {
        self.take_code(code).await
    }

    async fn purge_deleted_users(&self, deleted_before: DateTime<Utc>) -> Result<u64, StorageError> {
        self.purge_users(deleted_before).await
    }

    async fn purge_expired_logins(&self, now: DateTime<Utc>) -> Result<u64, StorageError> {
        self.purge_logins(now).await
    }

    async fn close(&self) {
        if let Err(e) = self.pool.clone().disconnect().await {
            tracing::warn!(error = %e, "closing the MySQL pool");
        }
    }
}
