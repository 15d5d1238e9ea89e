//! The server's storage interface: document ownership, append-only document chunks, user accounts
//! and their refresh tokens, social identities and the single-use rows of a social login, meetups
//! with their members and chat rooms (`meetups`, `chat`), uploaded images' records (`media`) and
//! the responses kept for idempotent writes (`idempotency`), with one implementation per backend
//! (SQLite through sqlx, MySQL/MariaDB through mysql_async). Everything above this module talks to `dyn Storage` only; the conformance suite in `tests/storage.rs` holds
//! both backends to the same behaviour. No HTTP, protocol or auth rules live here: the caller
//! decides who may do what, storage only keeps it consistent.

mod batches;
pub mod chat;
mod chat_plan;
mod chat_queue;
pub mod idempotency;
pub mod media;
pub mod meetups;
mod migrate;
mod mysql;
mod social;
mod sqlite;
mod types;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use mysql::MySqlStorage;
pub use social::{AuthCode, CodeChallenge, OAuthState};
pub use sqlite::SqliteStorage;
pub use types::{
    Chunk, ChunkKey, Claim, ContentHash, DocumentId, InvalidDocumentId, NewChunks, NewRefreshToken, NewUser, Rotation,
    TokenFamily, TokenHash, User, UserId,
};

/// What can go wrong in storage. Conflicts the caller must handle are their own variants; every
/// other failure keeps its cause for the log and is never turned into an empty result.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("the email address is already registered")]
    EmailTaken,
    #[error("the nickname is already taken")]
    NicknameTaken,
    #[error("no such user")]
    UnknownUser,
    #[error("this provider identity is already linked to an account")]
    IdentityTaken,
    #[error("no such meetup")]
    UnknownMeetup,
    /// A meetup names an image that is not stored (never, or purged meanwhile).
    #[error("no such image")]
    UnknownImage,
    #[error("no such document: it must be claimed before chunks are stored")]
    UnknownDocument,
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    #[error("migration {version} ({name}) was changed after it was applied")]
    MigrationEdited { version: i64, name: String },
    #[error("the database has migration {0}, which this server does not know; is it older than the database?")]
    UnknownMigration(i64),
    #[error("another server instance held the migration lock too long")]
    MigrationLockTimeout,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("SQLite: {0}")]
    Sqlite(#[source] sqlx::Error),
    #[error("MySQL: {0}")]
    MySql(#[source] mysql_async::Error),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// The storage interface both backends implement. Object-safe, so the server holds an
/// `Arc<dyn Storage>` chosen at start from the database URL.
#[async_trait]
pub trait Storage:
    chat::ChatStore
    + idempotency::IdempotencyStore
    + media::MediaStore
    + meetups::MeetupStore
    + meetups::CommentStore
    + Send
    + Sync
    + 'static
{
    /// A cheap round trip to the database, for health checks.
    async fn ping(&self) -> Result<(), StorageError>;

    /// Gives `doc_id` to `user` unless someone already has it. Claiming one's own document again
    /// is `Owned`. Concurrent claims of one new document produce exactly one owner.
    async fn claim_document(&self, doc_id: &DocumentId, user: UserId) -> Result<Claim, StorageError>;

    /// The owner of `doc_id`, if anyone stored it.
    async fn document_owner(&self, doc_id: &DocumentId) -> Result<Option<UserId>, StorageError>;

    /// Stores one chunk of a claimed document. Storing the same key twice is a no-op: chunks are
    /// keyed by their content, so the same key means the same bytes.
    async fn put_chunk(&self, doc_id: &DocumentId, key: ChunkKey, bytes: &[u8]) -> Result<(), StorageError>;

    /// The account's root document id: chosen at random and stored the first time it is asked
    /// for, the same ever after (concurrent first calls agree). `UnknownUser` if no such account.
    async fn account_root(&self, user: UserId) -> Result<uuid::Uuid, StorageError>;

    /// Every chunk of `doc_id`, snapshots first. Unknown documents have none.
    async fn load_chunks(&self, doc_id: &DocumentId) -> Result<Vec<Chunk>, StorageError>;

    /// The keys of every chunk of `doc_id`, snapshots first: read without the chunks' bytes.
    async fn chunk_keys(&self, doc_id: &DocumentId) -> Result<Vec<ChunkKey>, StorageError>;

    /// The bytes of one chunk, if it is (still) stored.
    async fn chunk(&self, doc_id: &DocumentId, key: ChunkKey) -> Result<Option<Vec<u8>>, StorageError>;

    /// The chunks of `doc_id` whose keys are not among `known`, snapshots first: what another
    /// instance stored since this one read the document, without reading again the bytes it has;
    /// with the keys of every chunk the document has now (another instance's compaction may have
    /// replaced some that `known` lists).
    async fn load_chunks_except(&self, doc_id: &DocumentId, known: &[ChunkKey]) -> Result<NewChunks, StorageError> {
        if known.is_empty() {
            return Ok(NewChunks::of(self.load_chunks(doc_id).await?, known));
        }
        let stored = self.chunk_keys(doc_id).await?;
        let known_set: std::collections::HashSet<&ChunkKey> = known.iter().collect();
        let mut new = Vec::new();
        for &key in stored.iter().filter(|key| !known_set.contains(key)) {
            match self.chunk(doc_id, key).await? {
                Some(bytes) => new.push(Chunk { key, bytes }),
                // Compacted away since the keys were read: the snapshot that replaced it holds
                // its changes, and a read of everything now includes that snapshot.
                None => return Ok(NewChunks::of(self.load_chunks(doc_id).await?, known)),
            }
        }
        Ok(NewChunks { stored, new })
    }

    /// In one transaction: stores the snapshot and deletes exactly the chunks in `replaced` (the
    /// ones the caller read and folded into the snapshot). Chunks written meanwhile survive. The
    /// snapshot's own key is never deleted even if listed.
    async fn compact(
        &self,
        doc_id: &DocumentId,
        snapshot: ContentHash,
        snapshot_bytes: &[u8],
        replaced: &[ChunkKey],
    ) -> Result<(), StorageError>;

    /// Creates an account. `EmailTaken` / `NicknameTaken` when either is in use (including by an
    /// account in its deletion grace period). The caller normalises the email first.
    async fn create_user(&self, new: &NewUser) -> Result<User, StorageError>;

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StorageError>;

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StorageError>;

    /// Changes a user's nickname: `NicknameTaken` if another account has it, `UnknownUser` if no
    /// such account.
    async fn set_nickname(&self, id: UserId, nickname: &str) -> Result<(), StorageError>;

    /// Replaces a user's password hash (`UnknownUser` if no such account).
    async fn set_password_hash(&self, id: UserId, password_hash: &str) -> Result<(), StorageError>;

    /// In one transaction: marks the account deleted now (unless it already is), revokes every
    /// refresh token it holds, deletes the meetups it hosts with everything in them (PRODUCT.md §2:
    /// at once, and none created meanwhile survives hidden: a meetup's creation reads its host live
    /// in its own transaction) and takes its likes off the like counts. Returns the meetups
    /// deleted. `UnknownUser` if no such account.
    async fn soft_delete_user(&self, id: UserId) -> Result<Vec<meetups::DeletedMeetup>, StorageError>;

    /// In one transaction: clears the deletion mark of an account in its grace period and puts its
    /// likes back on the like counts; nothing if it is live. `UnknownUser` if no such account.
    async fn restore_user(&self, id: UserId) -> Result<(), StorageError>;

    /// Stores a refresh token (by its hash). `UnknownUser` if the user does not exist.
    async fn insert_refresh_token(&self, token: &NewRefreshToken) -> Result<(), StorageError>;

    /// Spends the live token `old` and, in the same transaction, stores `next` (a hash and an
    /// expiry) in its family. Atomic: of concurrent rotations of one token exactly one is
    /// `Rotated`; the others see `Reused`. Nothing is revoked here; the caller decides.
    async fn rotate_refresh_token(
        &self,
        old: TokenHash,
        next: TokenHash,
        next_expires_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Rotation, StorageError>;

    /// Revokes every token of a family; returns how many were still unrevoked.
    async fn revoke_token_family(&self, family: TokenFamily) -> Result<u64, StorageError>;

    /// The family a token belongs to, whatever its state (for logout).
    async fn token_family(&self, token: TokenHash) -> Result<Option<TokenFamily>, StorageError>;

    /// The account a provider's subject is linked to, whatever its deletion state.
    async fn user_by_identity(&self, provider: &str, subject: &str) -> Result<Option<User>, StorageError>;

    /// The provider (`google`, `kakao`, `naver`) an account signs in through, if it has one.
    async fn identity_provider(&self, user: UserId) -> Result<Option<String>, StorageError>;

    /// In one transaction: creates the account and links (`provider`, `subject`) to it. Errors as
    /// `create_user`, plus `IdentityTaken` when the pair is already linked (a concurrent first
    /// login won); then nothing is created.
    async fn create_user_with_identity(
        &self,
        new: &NewUser,
        provider: &str,
        subject: &str,
    ) -> Result<User, StorageError>;

    /// Stores a started social login until its callback.
    async fn insert_oauth_state(&self, state: &OAuthState) -> Result<(), StorageError>;

    /// Removes and returns the started login `state` names, expired or not (the caller judges).
    /// `None` if unknown or already taken: of concurrent takes exactly one gets it.
    async fn take_oauth_state(&self, state: TokenHash) -> Result<Option<OAuthState>, StorageError>;

    /// Stores a one-time code for the app. `UnknownUser` if the user does not exist.
    async fn insert_auth_code(&self, code: &AuthCode) -> Result<(), StorageError>;

    /// Removes and returns a one-time code, expired or not; `None` if unknown or already taken. Of
    /// concurrent takes exactly one gets it.
    async fn take_auth_code(&self, code: TokenHash) -> Result<Option<AuthCode>, StorageError>;

    /// Hard-deletes the accounts marked deleted before `deleted_before`, and with them everything
    /// they own (documents and their chunks, refresh tokens, identities, one-time codes, the meetups
    /// they host with everything in them; their messages in other rooms stay, without a sender). Returns
    /// how many accounts went.
    async fn purge_deleted_users(&self, deleted_before: DateTime<Utc>) -> Result<u64, StorageError>;

    /// Deletes started logins and one-time codes that expired before `now`; returns how many.
    async fn purge_expired_logins(&self, now: DateTime<Utc>) -> Result<u64, StorageError>;

    /// Closes the connection pool; later calls fail.
    async fn close(&self);
}

/// The MariaDB/MySQL server tests make their throwaway databases on: root without a password on
/// 127.0.0.1:3306, unless `MINGIZUK_TEST_MYSQL_URL` names another (without a database path). For
/// this crate's tests and the workspace's.
#[doc(hidden)]
pub fn test_mysql_admin_url() -> String {
    std::env::var("MINGIZUK_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_owned())
}

/// Opens the backend a database URL names: `mysql://…` selects MySQL/MariaDB, anything else
/// (`sqlite://path`, `sqlite:path` or a bare path) a SQLite file, created if missing. Runs the
/// migrations before returning.
pub async fn open(database_url: &str) -> Result<std::sync::Arc<dyn Storage>, StorageError> {
    if database_url.starts_with("mysql://") {
        Ok(std::sync::Arc::new(MySqlStorage::connect(database_url).await?))
    } else {
        Ok(std::sync::Arc::new(SqliteStorage::open(database_url).await?))
    }
}

/// The current time as stored: Unix milliseconds, UTC.
fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
