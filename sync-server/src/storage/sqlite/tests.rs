#![allow(clippy::unwrap_used)]

use super::*;

async fn number(conn: &mut sqlx::SqliteConnection, pragma: &'static str) -> i64 {
    sqlx::query_scalar(pragma).fetch_one(&mut *conn).await.unwrap()
}

/// What keeps an acknowledged write on disk, and what the benchmarks were measured with, holds on
/// every connection of the pool (the writers take theirs from it), not only on the first one.
#[tokio::test]
async fn every_connection_commits_durably_through_the_wal_with_the_measured_settings() {
    let dir = tempfile::tempdir().unwrap();
    let storage = SqliteStorage::open(dir.path().join("server.sqlite").to_str().unwrap()).await.unwrap();
    let mut held = Vec::new();
    for _ in 0..MAX_CONNECTIONS {
        held.push(storage.pool.acquire().await.unwrap());
    }
    for conn in &mut held {
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut **conn).await.unwrap();
        assert_eq!(journal, "wal");
        assert_eq!(number(conn, "PRAGMA synchronous").await, 2, "FULL: the WAL is synced at every commit");
        assert_eq!(number(conn, "PRAGMA foreign_keys").await, 1);
        assert_eq!(number(conn, "PRAGMA temp_store").await, 2, "statement journals in memory");
        assert_eq!(number(conn, "PRAGMA wal_autocheckpoint").await.to_string(), WAL_CHECKPOINT_PAGES);
        assert_eq!(number(conn, "PRAGMA cache_size").await.to_string(), POOL_CACHE_KIB);
        assert_eq!(u128::try_from(number(conn, "PRAGMA busy_timeout").await).unwrap(), BUSY_TIMEOUT.as_millis());
    }
}

/// What the writers commit is copied into the database file itself within moments, by the
/// checkpoint task, not only when a writer's commit finds the WAL full.
#[tokio::test]
async fn what_the_writers_commit_reaches_the_database_file_without_waiting_for_the_wal_to_fill() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.sqlite");
    let storage = SqliteStorage::open(file.to_str().unwrap()).await.unwrap();
    let user = NewUser {
        id: UserId::random(),
        email: "ana@example.com".to_owned(),
        nickname: "ana".to_owned(),
        password_hash: None,
    };
    storage.create_user(&user).await.unwrap();
    let doc = DocumentId::new("routines").unwrap();
    storage.claim_document(&doc, user.id).await.unwrap();
    let marker = b"a chunk only the checkpoint copies into the database file".to_vec();
    storage.put_chunk(&doc, ChunkKey::Incremental(ContentHash::of(&marker)), &marker).await.unwrap();

    let in_file = || std::fs::read(&file).unwrap().windows(marker.len()).any(|w| w == marker.as_slice());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !in_file() {
        assert!(tokio::time::Instant::now() < deadline, "the chunk is still only in the WAL after 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
