//! SQLite: the account root that names a user's documents.

use uuid::Uuid;

use super::{SqliteStorage, backend};
use crate::storage::{StorageError, UserId};

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
}
