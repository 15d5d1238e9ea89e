//! The MySQL schema: the embedded migrations (`storage::migrate`) applied at start, under a named
//! lock so that instances starting together take turns.

use mysql_async::prelude::Queryable;

use super::{MySqlStorage, backend};
use crate::storage::{StorageError, migrate, now_millis};

/// Seconds one instance waits for another to finish migrating.
const MIGRATION_LOCK_SECONDS: u32 = 120;

impl MySqlStorage {
    /// Applies pending migrations under a named lock, so instances starting together take turns.
    /// MySQL commits DDL implicitly: a file that fails halfway leaves its first statements applied
    /// and is not recorded, which is why each file should be one step that is safe to finish by hand.
    pub(super) async fn migrate(&self) -> Result<(), StorageError> {
        let mut conn = self.pool.get_conn().await.map_err(backend)?;
        let locked: Option<Option<i64>> = conn
            .exec_first("SELECT GET_LOCK('mingizuk_schema_migrations', ?)", (MIGRATION_LOCK_SECONDS,))
            .await
            .map_err(backend)?;
        if locked.flatten() != Some(1) {
            return Err(StorageError::MigrationLockTimeout);
        }
        let result = async {
            conn.query_drop(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT NOT NULL PRIMARY KEY,
                    name VARCHAR(255) NOT NULL,
                    checksum CHAR(64) NOT NULL,
                    applied_at BIGINT NOT NULL
                ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin",
            )
            .await?;
            let applied: Vec<(i64, String)> = conn.query("SELECT version, checksum FROM schema_migrations").await?;
            Ok::<_, mysql_async::Error>(applied)
        }
        .await
        .map_err(backend);
        let result = match result {
            Ok(applied) => self.apply(&mut conn, &applied).await,
            Err(e) => Err(e),
        };
        conn.query_drop("DO RELEASE_LOCK('mingizuk_schema_migrations')").await.map_err(backend)?;
        result
    }

    async fn apply(&self, conn: &mut mysql_async::Conn, applied: &[(i64, String)]) -> Result<(), StorageError> {
        for migration in migrate::pending(migrate::MYSQL, applied)? {
            conn.query_drop(migration.sql).await.map_err(backend)?;
            conn.exec_drop(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
                (migration.version, migration.name, migration.checksum(), now_millis()),
            )
            .await
            .map_err(backend)?;
            tracing::info!(version = migration.version, name = migration.name, "applied MySQL migration");
        }
        Ok(())
    }
}
