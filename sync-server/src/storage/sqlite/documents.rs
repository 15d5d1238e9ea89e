//! SQLite: the account root that names a user's documents, and a document's chunks read one by one.

use uuid::Uuid;

use super::{SqliteStorage, backend};
use crate::storage::{ChunkKey, DocumentId, StorageError, UserId};

impl SqliteStorage {
    pub(super) async fn account_root_of(&self, user: UserId) -> Result<Uuid, StorageError> {
        // Set once: of concurrent first calls one update wins and every caller reads its value.
        sqlx::query("UPDATE users SET account_root = ? WHERE id = ? AND account_root IS NULL")
            .bind(Uuid::new_v4().hyphenated().to_string())
            .bind(user.to_db())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        let root: Option<(Option<String>,)> = sqlx::query_as("SELECT account_root FROM users WHERE id = ?")
            .bind(user.to_db())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        match root {
            None => Err(StorageError::UnknownUser),
            Some((None,)) => Err(StorageError::Corrupt(format!("user {user} has no account root after setting it"))),
            Some((Some(text),)) => {
                Uuid::parse_str(&text).map_err(|e| StorageError::Corrupt(format!("account root {text:?}: {e}")))
            }
        }
    }

    pub(super) async fn chunk_keys_of(&self, doc_id: &DocumentId) -> Result<Vec<ChunkKey>, StorageError> {
        let rows: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT kind, hash FROM chunks WHERE doc_id = ? ORDER BY kind, hash")
                .bind(doc_id.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        rows.into_iter().map(|(kind, hash)| ChunkKey::from_db(kind, &hash)).collect()
    }

    pub(super) async fn chunk_of(&self, doc_id: &DocumentId, key: ChunkKey) -> Result<Option<Vec<u8>>, StorageError> {
        let row: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT bytes FROM chunks WHERE doc_id = ? AND kind = ? AND hash = ?")
                .bind(doc_id.as_str())
                .bind(key.kind_code())
                .bind(key.hash().0.as_slice())
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        Ok(row.map(|(bytes,)| bytes))
    }
}
