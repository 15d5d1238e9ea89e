//! Uploaded images (PRODUCT.md §6, a meetup's picture): the bytes in the media folder, one file per
//! image named by its UUID, and a row in `media` saying who uploaded it. The type is sniffed from
//! the bytes, never taken from a name or a header. A file is complete before its row exists
//! (temporary file, fsync, rename), and a row goes before its file, so a recorded image always has
//! its bytes. `routes` holds the HTTP handlers; nothing here decides who may show which image.

mod routes;

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::config::MediaConfig;
use crate::storage::media::MediaRecord;
use crate::storage::{Storage, StorageError, UserId};

pub use routes::router;

/// How long an uploaded image may wait for a meetup to show it before the daily purge removes it.
pub const UNUSED_IMAGE_GRACE: chrono::Duration = chrono::Duration::days(1);
/// How many unused images one purge run removes at most (the next run takes the rest).
const PURGE_BATCH: u32 = 1000;

/// The image formats the app shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageType {
    Jpeg,
    Png,
    Webp,
}

impl ImageType {
    /// The format the bytes' signature announces, if it is one we take.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(PNG) {
            Some(Self::Png)
        } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("the upload is not a JPEG, PNG or WebP image")]
    UnsupportedImage,
    #[error("the daily upload quota is used up")]
    QuotaExceeded,
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("the media folder: {0}")]
    Io(#[from] std::io::Error),
}

/// The media folder and the rules of uploading to it.
#[derive(Debug, Clone)]
pub struct MediaFolder {
    dir: PathBuf,
    uploads_per_day: u32,
}

impl MediaFolder {
    pub fn new(config: &MediaConfig) -> Self {
        Self { dir: config.dir.clone(), uploads_per_day: config.uploads_per_day }
    }

    fn path(&self, id: Uuid) -> PathBuf {
        self.dir.join(id.hyphenated().to_string())
    }

    /// Keeps `bytes` as a new image of `owner`: sniffed, counted against the daily quota, written
    /// durably, then recorded if the quota still allows it. The count before writing only spares
    /// the file write of an upload that is clearly over; the record's insert decides, atomically,
    /// so concurrent uploads never take more than the quota between them. The bytes are not
    /// copied (an upload's body is kept once).
    pub async fn upload(
        &self,
        storage: &dyn Storage,
        owner: UserId,
        bytes: impl Into<axum::body::Bytes>,
    ) -> Result<MediaRecord, MediaError> {
        let bytes = bytes.into();
        let kind = ImageType::sniff(&bytes).ok_or(MediaError::UnsupportedImage)?;
        let now = Utc::now();
        let since = now - chrono::Duration::days(1);
        let recent = storage.count_media_since(owner, since).await?;
        if recent >= u64::from(self.uploads_per_day) {
            return Err(MediaError::QuotaExceeded);
        }
        let record = MediaRecord {
            id: Uuid::new_v4(),
            owner,
            content_type: kind.content_type().to_owned(),
            byte_size: bytes.len() as u64,
            created_at: now,
        };
        let (dir, path) = (self.dir.clone(), self.path(record.id));
        tokio::task::spawn_blocking(move || write_durably(&dir, &path, &bytes))
            .await
            .map_err(std::io::Error::other)??;
        match storage.insert_media_within_quota(&record, since, self.uploads_per_day).await {
            Ok(true) => Ok(record),
            Ok(false) => {
                remove_file(&self.path(record.id)).await;
                Err(MediaError::QuotaExceeded)
            }
            Err(e) => {
                remove_file(&self.path(record.id)).await;
                Err(e.into())
            }
        }
    }

    /// The image `id` names with its bytes; `None` if it is not recorded or its file is gone.
    pub async fn open(&self, storage: &dyn Storage, id: Uuid) -> Result<Option<(MediaRecord, Vec<u8>)>, MediaError> {
        let Some(record) = storage.media(id).await? else { return Ok(None) };
        match tokio::fs::read(self.path(id)).await {
            Ok(bytes) => Ok(Some((record, bytes))),
            // Deleted between the two reads (the row goes first), or lost from the disk.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes an image no meetup shows, its row first and then its file (a meetup being deleted
    /// calls this for its picture); whether it went. An image another meetup still shows (a host
    /// may give several meetups the same picture) stays, row and file.
    pub async fn delete(&self, storage: &dyn Storage, id: Uuid) -> Result<bool, StorageError> {
        let removed = storage.delete_media_if_unused(id).await?;
        if removed {
            remove_file(&self.path(id)).await;
        }
        Ok(removed)
    }

    /// Removes images uploaded over `UNUSED_IMAGE_GRACE` before `now` that no meetup shows, and
    /// files left without a row (an account purged with its images, an upload cut short); returns
    /// how many images went.
    pub async fn purge_unused(&self, storage: &dyn Storage, now: DateTime<Utc>) -> Result<u64, MediaError> {
        let cutoff = now - UNUSED_IMAGE_GRACE;
        let mut removed = 0;
        for id in storage.unused_media(cutoff, PURGE_BATCH).await? {
            if storage.delete_media_if_unused(id).await? {
                remove_file(&self.path(id)).await;
                removed += 1;
            }
        }
        self.purge_stray_files(storage, cutoff).await?;
        Ok(removed)
    }

    async fn purge_stray_files(&self, storage: &dyn Storage, cutoff: DateTime<Utc>) -> Result<(), MediaError> {
        let mut entries = match tokio::fs::read_dir(&self.dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        while let Some(entry) = entries.next_entry().await? {
            let modified: DateTime<Utc> = entry.metadata().await?.modified()?.into();
            if modified >= cutoff {
                continue;
            }
            let name = entry.file_name();
            let stray = match name.to_str().and_then(|n| Uuid::parse_str(n).ok()) {
                Some(id) => storage.media(id).await?.is_none(),
                None => name.to_string_lossy().ends_with(TEMP_SUFFIX),
            };
            if stray {
                remove_file(&entry.path()).await;
            }
        }
        Ok(())
    }
}

const TEMP_SUFFIX: &str = ".uploading";

/// Writes `bytes` to `path` so that it is either absent or complete after a crash: a temporary
/// file in the same folder, fsync, rename over, fsync of the folder.
fn write_durably(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut temp_name = path.as_os_str().to_owned();
    temp_name.push(TEMP_SUFFIX);
    let temp = PathBuf::from(temp_name);
    let written = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written?;
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// Removes a file that may already be gone; other failures are logged, the daily purge retries.
async fn remove_file(path: &Path) {
    match tokio::fs::remove_file(path).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(error = %e, path = %path.display(), "could not remove an image file"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_known_by_their_signature_only() {
        assert_eq!(ImageType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), Some(ImageType::Jpeg));
        assert_eq!(ImageType::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(ImageType::Png));
        assert_eq!(ImageType::sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some(ImageType::Webp));
        assert_eq!(ImageType::sniff(b"RIFF\x24\0\0\0WAVEfmt "), None);
        assert_eq!(ImageType::sniff(b"GIF89a"), None);
        assert_eq!(ImageType::sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), None);
        assert_eq!(ImageType::sniff(b""), None);
    }
}
