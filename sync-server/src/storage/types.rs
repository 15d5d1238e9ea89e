//! The values storage takes and returns: identifiers, chunk keys and account rows. Plain data with
//! validation at construction, so both backends can trust what they are handed.

use std::fmt;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::StorageError;

/// The longest document id stored (automerge-repo ids are base58check strings of ~28 characters).
pub const DOCUMENT_ID_MAX_LEN: usize = 64;

/// A document's id as the sync protocol names it: 1 to 64 ASCII letters, digits, `-` or `_`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a document id is 1 to {DOCUMENT_ID_MAX_LEN} ASCII letters, digits, '-' or '_'")]
pub struct InvalidDocumentId;

impl DocumentId {
    pub fn new(id: impl Into<String>) -> Result<Self, InvalidDocumentId> {
        let id = id.into();
        let valid = !id.is_empty()
            && id.len() <= DOCUMENT_ID_MAX_LEN
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if valid { Ok(Self(id)) } else { Err(InvalidDocumentId) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentId({})", self.0)
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An account's id: a random UUID chosen by the server, stored hyphenated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct UserId(pub Uuid);

impl UserId {
    pub fn random() -> Self {
        Self(Uuid::new_v4())
    }

    pub(crate) fn to_db(self) -> String {
        self.0.hyphenated().to_string()
    }

    pub(crate) fn from_db(text: &str) -> Result<Self, StorageError> {
        Uuid::parse_str(text).map(Self).map_err(|e| StorageError::Corrupt(format!("user id {text:?}: {e}")))
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A SHA-256 digest naming a chunk's content.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentHash(pub [u8; 32]);

impl ContentHash {
    /// The hash of some bytes: the key of an incremental chunk.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// The hash of a set of heads (automerge change hashes), order-independent: the key of a
    /// snapshot, so two servers compacting the same state write the same row.
    pub fn of_heads<'a>(heads: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut heads: Vec<&[u8]> = heads.into_iter().collect();
        heads.sort_unstable();
        let mut hasher = Sha256::new();
        for head in heads {
            hasher.update((head.len() as u64).to_be_bytes());
            hasher.update(head);
        }
        Self(hasher.finalize().into())
    }

    pub(crate) fn from_db(bytes: &[u8]) -> Result<Self, StorageError> {
        <[u8; 32]>::try_from(bytes)
            .map(Self)
            .map_err(|_| StorageError::Corrupt(format!("chunk hash of {} bytes", bytes.len())))
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", hex::encode(&self.0[..8]))
    }
}

/// Which chunk of a document: a compacted snapshot (keyed by its heads) or one incremental save
/// (keyed by its bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChunkKey {
    Snapshot(ContentHash),
    Incremental(ContentHash),
}

impl ChunkKey {
    pub fn hash(&self) -> &ContentHash {
        match self {
            Self::Snapshot(hash) | Self::Incremental(hash) => hash,
        }
    }

    /// The `kind` column: snapshots sort first.
    pub(crate) fn kind_code(&self) -> i8 {
        match self {
            Self::Snapshot(_) => 0,
            Self::Incremental(_) => 1,
        }
    }

    pub(crate) fn from_db(kind: i64, hash: &[u8]) -> Result<Self, StorageError> {
        let hash = ContentHash::from_db(hash)?;
        match kind {
            0 => Ok(Self::Snapshot(hash)),
            1 => Ok(Self::Incremental(hash)),
            other => Err(StorageError::Corrupt(format!("chunk kind {other}"))),
        }
    }
}

/// One stored chunk of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub key: ChunkKey,
    pub bytes: Vec<u8>,
}

/// What `Storage::load_chunks_except` read: the keys of every chunk the document has, and the
/// chunks among them the caller did not know.
pub struct NewChunks {
    pub stored: Vec<ChunkKey>,
    pub new: Vec<Chunk>,
}

impl NewChunks {
    /// Every chunk read (`all`), split by what the caller `known`.
    pub fn of(all: Vec<Chunk>, known: &[ChunkKey]) -> Self {
        let stored = all.iter().map(|chunk| chunk.key).collect();
        let known: std::collections::HashSet<&ChunkKey> = known.iter().collect();
        Self { stored, new: all.into_iter().filter(|chunk| !known.contains(&chunk.key)).collect() }
    }
}

/// The outcome of claiming a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The document is the caller's (just now or from before).
    Owned,
    /// Someone else stored it first.
    OwnedByOther,
}

/// An account to create. The id is chosen by the caller so it can be logged before the insert.
#[derive(Clone, PartialEq, Eq)]
pub struct NewUser {
    pub id: UserId,
    pub email: String,
    pub nickname: String,
    pub password_hash: Option<String>,
}

/// An account as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub nickname: String,
    /// The argon2id PHC string; `None` for accounts that only sign in through a provider.
    pub password_hash: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Set while the account is in its deletion grace period.
    pub deleted_at: Option<DateTime<Utc>>,
}

// Hand-written so a password hash never reaches a log line.
impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("nickname", &self.nickname)
            .field("password_hash", &self.password_hash.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("nickname", &self.nickname)
            .field("password_hash", &self.password_hash.as_ref().map(|_| "[redacted]"))
            .field("created_at", &self.created_at)
            .field("deleted_at", &self.deleted_at)
            .finish()
    }
}

pub(crate) fn time_from_db(millis: i64) -> Result<DateTime<Utc>, StorageError> {
    DateTime::from_timestamp_millis(millis).ok_or_else(|| StorageError::Corrupt(format!("timestamp {millis}")))
}

/// The SHA-256 of a refresh token: all the database ever holds of one.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    pub fn of(token: &[u8]) -> Self {
        Self(Sha256::digest(token).into())
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({}…)", hex::encode(&self.0[..4]))
    }
}

/// The family of refresh tokens one login produces through rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenFamily(pub Uuid);

impl TokenFamily {
    pub fn random() -> Self {
        Self(Uuid::new_v4())
    }

    pub(crate) fn to_db(self) -> String {
        self.0.hyphenated().to_string()
    }

    pub(crate) fn from_db(text: &str) -> Result<Self, StorageError> {
        Uuid::parse_str(text).map(Self).map_err(|e| StorageError::Corrupt(format!("token family {text:?}: {e}")))
    }
}

/// A refresh token to store: the first of a new family (login) or the next of one (rotation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewRefreshToken {
    pub hash: TokenHash,
    pub user_id: UserId,
    pub family: TokenFamily,
    pub expires_at: DateTime<Utc>,
}

/// What presenting a refresh token for rotation found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// The token was live: it is now spent and its successor stored in the same family.
    Rotated { user_id: UserId, family: TokenFamily },
    /// The token was already spent: someone holds a copy. The caller revokes the family.
    Reused { user_id: UserId, family: TokenFamily },
    /// The token's family was revoked (logout, reuse, account deletion).
    Revoked,
    /// The token outlived its expiry.
    Expired,
    /// No such token.
    Unknown,
}

/// A stored refresh token's owner, family and state, as rotation reads it back.
pub(crate) struct TokenState {
    pub user_id: UserId,
    pub family: TokenFamily,
    pub used: bool,
    pub revoked: bool,
}

impl TokenState {
    pub(crate) fn from_db(
        user_id: &str,
        family: &str,
        used_at: Option<i64>,
        revoked_at: Option<i64>,
    ) -> Result<Self, StorageError> {
        Ok(Self {
            user_id: UserId::from_db(user_id)?,
            family: TokenFamily::from_db(family)?,
            used: used_at.is_some(),
            revoked: revoked_at.is_some(),
        })
    }
}

/// What a token that could not be rotated is, in the order the checks apply: the atomic update
/// refuses only unknown, revoked, spent or expired tokens.
pub(crate) fn classify_unrotated(state: Option<TokenState>) -> Rotation {
    match state {
        None => Rotation::Unknown,
        Some(TokenState { revoked: true, .. }) => Rotation::Revoked,
        Some(TokenState { used: true, user_id, family, .. }) => Rotation::Reused { user_id, family },
        Some(_) => Rotation::Expired,
    }
}
