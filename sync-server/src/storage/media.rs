//! Uploaded images' records (the bytes live in the media folder, see `crate::media`): who uploaded
//! what, when, and which images no meetup uses. Storage keeps the rows; deciding when an image may
//! go and removing its file is the media module's job.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{StorageError, UserId};

/// One uploaded image as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRecord {
    pub id: Uuid,
    pub owner: UserId,
    /// `image/jpeg`, `image/png` or `image/webp`, as sniffed from the bytes.
    pub content_type: String,
    pub byte_size: u64,
    pub created_at: DateTime<Utc>,
}

/// The media module's storage calls. Both backends implement it; the conformance suite checks them.
#[async_trait]
pub trait MediaStore: Send + Sync {
    /// Records an uploaded image. `UnknownUser` if the owner does not exist.
    async fn insert_media(&self, media: &MediaRecord) -> Result<(), StorageError>;

    /// Records an uploaded image only if its owner has recorded fewer than `quota` since `since`,
    /// deciding and inserting atomically, so concurrent uploads never take more than `quota`
    /// between them; whether it was recorded. `UnknownUser` if the owner does not exist.
    async fn insert_media_within_quota(
        &self,
        media: &MediaRecord,
        since: DateTime<Utc>,
        quota: u32,
    ) -> Result<bool, StorageError>;

    /// The image `id` names, if it is recorded.
    async fn media(&self, id: Uuid) -> Result<Option<MediaRecord>, StorageError>;

    /// Removes an image's record (meetups showing it lose their image); whether there was one.
    async fn delete_media(&self, id: Uuid) -> Result<bool, StorageError>;

    /// Removes the record of `id` only if no meetup shows it, in one statement so a meetup created
    /// meanwhile keeps its image; whether it was removed.
    async fn delete_media_if_unused(&self, id: Uuid) -> Result<bool, StorageError>;

    /// Images uploaded before `created_before` that no meetup shows, oldest first, at most `limit`.
    async fn unused_media(&self, created_before: DateTime<Utc>, limit: u32) -> Result<Vec<Uuid>, StorageError>;

    /// How many images `owner` uploaded since `since` (the upload quota counts these; a check that
    /// refuses early, before the file is written: `insert_media_within_quota` decides).
    async fn count_media_since(&self, owner: UserId, since: DateTime<Utc>) -> Result<u64, StorageError>;
}

pub(crate) fn media_id_from_db(text: &str) -> Result<Uuid, StorageError> {
    Uuid::parse_str(text).map_err(|_| StorageError::Corrupt(format!("media id {text:?}")))
}

pub(crate) fn size_to_db(byte_size: u64) -> Result<i64, StorageError> {
    i64::try_from(byte_size).map_err(|_| StorageError::Corrupt(format!("image size {byte_size}")))
}

/// A record as read back from either backend: (owner, content type, size, created at).
pub(crate) fn media_from_db(
    id: Uuid,
    (owner, content_type, byte_size, created_at): (String, String, i64, i64),
) -> Result<MediaRecord, StorageError> {
    Ok(MediaRecord {
        id,
        owner: UserId::from_db(&owner)?,
        content_type,
        byte_size: u64::try_from(byte_size).map_err(|_| StorageError::Corrupt(format!("image size {byte_size}")))?,
        created_at: super::types::time_from_db(created_at)?,
    })
}
