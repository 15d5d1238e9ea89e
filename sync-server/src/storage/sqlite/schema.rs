//! SQLite: applying the embedded migrations (`storage::migrate`) in one transaction.

use sqlx::SqlitePool;

use super::backend;
use crate::storage::migrate::{self, Migration};
use crate::storage::{StorageError, now_millis};

/// Applies the migrations of `known` that the database has not recorded. SQLite's DDL is
/// transactional: all of them commit together with their records, or none does.
pub(super) async fn migrate(pool: &SqlitePool, known: &[Migration]) -> Result<(), StorageError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER NOT NULL PRIMARY KEY,
            name TEXT NOT NULL,
            checksum TEXT NOT NULL,
            applied_at INTEGER NOT NULL
        )",
    )
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    let applied: Vec<(i64, String)> =
        sqlx::query_as("SELECT version, checksum FROM schema_migrations").fetch_all(&mut *tx).await.map_err(backend)?;
    // SQLite DDL is transactional: each file and its record commit together or not at all.
    for migration in migrate::pending(known, &applied)? {
        sqlx::raw_sql(migration.sql).execute(&mut *tx).await.map_err(backend)?;
        sqlx::query("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)")
            .bind(migration.version)
            .bind(migration.name)
            .bind(migration.checksum())
            .bind(now_millis())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tracing::info!(version = migration.version, name = migration.name, "applied SQLite migration");
    }
    tx.commit().await.map_err(backend)
}

#[cfg(test)]
mod tests;
