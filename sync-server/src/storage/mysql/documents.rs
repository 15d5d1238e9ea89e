//! MySQL: the account root that names a user's documents, and a document's chunks read one by one.

use mysql_async::prelude::Queryable;
use uuid::Uuid;

use super::{MySqlStorage, backend};
use crate::storage::{ChunkKey, DocumentId, StorageError, UserId};

impl MySqlStorage {
    pub(super) async fn account_root_of(&self, user: UserId) -> Result<Uuid, StorageError> {
        let mut conn = self.conn().await?;
        // Set once: of concurrent first calls one update wins and every caller reads its value.
        conn.exec_drop(
            "UPDATE users SET account_root = ? WHERE id = ? AND account_root IS NULL",
            (Uuid::new_v4().hyphenated().to_string(), user.to_db()),
        )
        .await
        .map_err(backend)?;
        let root: Option<Option<String>> =
            conn.exec_first("SELECT account_root FROM users WHERE id = ?", (user.to_db(),)).await.map_err(backend)?;
        match root {
            None => Err(StorageError::UnknownUser),
            Some(None) => Err(StorageError::Corrupt(format!("user {user} has no account root after setting it"))),
            Some(Some(text)) => {
                Uuid::parse_str(&text).map_err(|e| StorageError::Corrupt(format!("account root {text:?}: {e}")))
            }
        }
    }

    pub(super) async fn chunk_keys_of(&self, doc_id: &DocumentId) -> Result<Vec<ChunkKey>, StorageError> {
        let mut conn = self.conn().await?;
        let rows: Vec<(i64, Vec<u8>)> = conn
            .exec("SELECT kind, hash FROM chunks WHERE doc_id = ? ORDER BY kind, hash", (doc_id.as_str(),))
            .await
            .map_err(backend)?;
        rows.into_iter().map(|(kind, hash)| ChunkKey::from_db(kind, &hash)).collect()
    }

    pub(super) async fn chunk_of(&self, doc_id: &DocumentId, key: ChunkKey) -> Result<Option<Vec<u8>>, StorageError> {
        let mut conn = self.conn().await?;
        conn.exec_first(
            "SELECT bytes FROM chunks WHERE doc_id = ? AND kind = ? AND hash = ?",
            (doc_id.as_str(), key.kind_code(), key.hash().0.to_vec()),
        )
        .await
        .map_err(backend)
    }
}
