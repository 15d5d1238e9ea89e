//! The SQLite backend (sqlx): the embedded default, one file in the data folder. WAL journal with
//! `synchronous = FULL`, so a committed write survives the process and the machine going down.
//! Writes that need more than one statement take the write lock up front (`BEGIN IMMEDIATE`) so two
//! connections never deadlock upgrading a read lock. Document chunks are written by one writer
//! task that commits concurrent writes together (group commit, `sqlite/chunks.rs`).

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::error::ErrorKind;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use super::batches;
use super::meetups::DeletedMeetup;
use super::types::time_from_db;
use super::{
    AuthCode, Chunk, ChunkKey, Claim, ContentHash, DocumentId, NewRefreshToken, NewUser, OAuthState, Rotation, Storage,
    StorageError, TokenFamily, TokenHash, User, UserId, migrate, now_millis,
};

/// How long a connection waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(15);
/// Pooled connections (the chunk writer keeps one more of its own). Each is a thread and a page
/// cache; readers run concurrently in WAL mode, and two cores gain nothing from more.
const MAX_CONNECTIONS: u32 = 4;
/// A pooled connection's page cache (`PRAGMA cache_size`, negative: KiB). SQLite discards a
/// connection's cache whenever another connection has written since its last transaction, which
/// under load is every time, so a large one only holds memory (SQLite's default is 2 MiB each).
const POOL_CACHE_KIB: &str = "-256";

/// How many pages the WAL may hold before a commit copies them into the database file itself
/// (SQLite's default is 1 000, 4 MiB). A task of its own copies what the writers commit every
/// quarter of a second (`sqlite/checkpoint.rs`), but under steady load the WAL never drains
/// completely, so it is only rewound when it reaches this size, by a writer's commit that copies
/// the last quarter second's pages: at 32 768 pages (128 MiB) a quarter as often as at the 8 192
/// before. With `temp_store = memory`, the statement journal a multi-row `INSERT` keeps is no
/// longer a file written at every batch. Together with the larger WAL (8 192 pages then, `bench
/// --bin chat`, SQLite): 18 → 9 kB written to disk per chat message.
const WAL_CHECKPOINT_PAGES: &str = "32768";

pub struct SqliteStorage {
    pool: SqlitePool,
    chunks: chunks::ChunkWriter,
    chat: crate::storage::chat_queue::ChatQueue,
}

fn backend(e: sqlx::Error) -> StorageError {
    StorageError::Sqlite(e)
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

impl SqliteStorage {
    /// Opens (creating if missing) the database file `url` names — `sqlite://path`, `sqlite:path`
    /// or a bare path — and applies pending migrations.
    pub async fn open(url: &str) -> Result<Self, StorageError> {
        let options = if url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url).map_err(|e| StorageError::InvalidUrl(e.to_string()))?
        } else {
            SqliteConnectOptions::new().filename(url)
        };
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("cache_size", POOL_CACHE_KIB)
            .pragma("temp_store", "memory")
            .pragma("wal_autocheckpoint", WAL_CHECKPOINT_PAGES);
        if let Some(parent) = options.get_filename().parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let pool =
            SqlitePoolOptions::new().max_connections(MAX_CONNECTIONS).connect_with(options).await.map_err(backend)?;
        let checkpoints = checkpoint::Checkpoints::start(pool.clone());
        let storage = Self {
            chunks: chunks::ChunkWriter::start(pool.clone(), checkpoints.clone()),
            chat: chat_writer::start(pool.clone(), checkpoints),
            pool,
        };
        schema::migrate(&storage.pool, migrate::SQLITE).await?;
        Ok(storage)
    }
}

/// A failed insert into `users`: a taken email or nickname is the caller's to handle.
fn user_insert_error(e: sqlx::Error) -> StorageError {
    match &e {
        // SQLite names the column: "UNIQUE constraint failed: users.email".
        sqlx::Error::Database(db) if db.kind() == ErrorKind::UniqueViolation => {
            if db.message().contains("users.email") {
                StorageError::EmailTaken
            } else if db.message().contains("users.nickname") {
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

/// The database error kind, if `e` is one.
fn kind(e: &sqlx::Error) -> Option<ErrorKind> {
    match e {
        sqlx::Error::Database(db) => Some(db.kind()),
        _ => None,
    }
}

mod chat;
mod chat_batch;
mod chat_writer;
mod checkpoint;
mod chunks;
mod comments;
mod documents;
mod idempotency;
mod media;
mod meetups;
mod schema;
mod social;
mod tokens;

#[cfg(test)]
mod tests;

#[async_trait]
impl Storage for SqliteStorage {
    async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(backend)?;
        Ok(())
    }

    async fn claim_document(&self, doc_id: &DocumentId, user: UserId) -> Result<Claim, StorageError> {
        let inserted = sqlx::query(
            "INSERT INTO documents (doc_id, owner_user_id, created_at) VALUES (?, ?, ?) ON CONFLICT (doc_id) DO NOTHING",
        )
        .bind(doc_id.as_str())
        .bind(user.to_db())
        .bind(now_millis())
        .execute(&self.pool)
        .await
        .map_err(|e| match kind(&e) {
            Some(ErrorKind::ForeignKeyViolation) => StorageError::UnknownUser,
            _ => backend(e),
        })?;
        if inserted.rows_affected() == 1 {
            return Ok(Claim::Owned);
        }
        match self.document_owner(doc_id).await? {
            Some(owner) if owner == user => Ok(Claim::Owned),
            Some(_) => Ok(Claim::OwnedByOther),
            None => Err(StorageError::Corrupt(format!("document {doc_id} neither inserted nor found"))),
        }
    }

    async fn document_owner(&self, doc_id: &DocumentId) -> Result<Option<UserId>, StorageError> {
        let owner: Option<(String,)> = sqlx::query_as("SELECT owner_user_id FROM documents WHERE doc_id = ?")
            .bind(doc_id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        owner.map(|(id,)| UserId::from_db(&id)).transpose()
    }

    async fn put_chunk(&self, doc_id: &DocumentId, key: ChunkKey, bytes: &[u8]) -> Result<(), StorageError> {
        self.chunks.put(doc_id, key, bytes).await
    }

    async fn account_root(&self, user: UserId) -> Result<uuid::Uuid, StorageError> {
        self.account_root_of(user).await
    }

    async fn load_chunks(&self, doc_id: &DocumentId) -> Result<Vec<Chunk>, StorageError> {
        let rows: Vec<(i64, Vec<u8>, Vec<u8>)> =
            sqlx::query_as("SELECT kind, hash, bytes FROM chunks WHERE doc_id = ? ORDER BY kind, hash")
                .bind(doc_id.as_str())
                .fetch_all(&self.pool)
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        sqlx::query(
            "INSERT INTO chunks (doc_id, kind, hash, bytes) VALUES (?, ?, ?, ?)
             ON CONFLICT (doc_id, kind, hash) DO NOTHING",
        )
        .bind(doc_id.as_str())
        .bind(snapshot_key.kind_code())
        .bind(snapshot.0.as_slice())
        .bind(snapshot_bytes)
        .execute(&mut *tx)
        .await
        .map_err(|e| match kind(&e) {
            Some(ErrorKind::ForeignKeyViolation) => StorageError::UnknownDocument,
            _ => backend(e),
        })?;
        for (kind, hashes) in batches::replaced_by_kind(replaced, snapshot_key) {
            for group in batches::groups(&hashes) {
                let mut query = sqlx::query(batches::DELETE_CHUNKS.text(group.len())).bind(doc_id.as_str()).bind(kind);
                for hash in group {
                    query = query.bind(*hash);
                }
                query.execute(&mut *tx).await.map_err(backend)?;
            }
        }
        tx.commit().await.map_err(backend)
    }

    async fn create_user(&self, new: &NewUser) -> Result<User, StorageError> {
        let created_at = now_millis();
        sqlx::query(
            "INSERT INTO users (id, email, nickname, password_hash, created_at, deleted_at)
             VALUES (?, ?, ?, ?, ?, NULL)",
        )
        .bind(new.id.to_db())
        .bind(&new.email)
        .bind(&new.nickname)
        .bind(new.password_hash.as_deref())
        .bind(created_at)
        .execute(&self.pool)
        .await
        .map_err(user_insert_error)?;
        new_user_row(new, created_at)
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StorageError> {
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT id, email, nickname, password_hash, created_at, deleted_at FROM users WHERE email = ?",
        )
        .bind(email)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.map(user_from_row).transpose()
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StorageError> {
        let row: Option<UserRow> =
            sqlx::query_as("SELECT id, email, nickname, password_hash, created_at, deleted_at FROM users WHERE id = ?")
                .bind(id.to_db())
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        row.map(user_from_row).transpose()
    }

    async fn set_nickname(&self, id: UserId, nickname: &str) -> Result<(), StorageError> {
        let updated = sqlx::query("UPDATE users SET nickname = ? WHERE id = ?")
            .bind(nickname)
            .bind(id.to_db())
            .execute(&self.pool)
            .await
            .map_err(|e| match kind(&e) {
                Some(ErrorKind::UniqueViolation) => StorageError::NicknameTaken,
                _ => backend(e),
            })?;
        if updated.rows_affected() == 0 { Err(StorageError::UnknownUser) } else { Ok(()) }
    }

    async fn set_password_hash(&self, id: UserId, password_hash: &str) -> Result<(), StorageError> {
        let updated = sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
            .bind(password_hash)
            .bind(id.to_db())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        if updated.rows_affected() == 0 { Err(StorageError::UnknownUser) } else { Ok(()) }
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
        self.pool.close().await;
    }
}
