#![allow(clippy::unwrap_used)]

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

use super::*;
use crate::storage::{ChunkKey, ContentHash, DocumentId, SqliteStorage, Storage};

/// The last migration before the chunks were stored in their document's order.
const BEFORE_CLUSTERED_CHUNKS: usize = 7;

#[tokio::test]
async fn a_database_from_before_the_chunks_were_clustered_keeps_every_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    let doc = DocumentId::new("3Kx8".repeat(7)).unwrap();
    let mut chunks: Vec<(ChunkKey, Vec<u8>)> = vec![
        (ChunkKey::Snapshot(ContentHash::of(b"heads")), b"snapshot".to_vec()),
        (ChunkKey::Incremental(ContentHash::of(b"one")), b"one".to_vec()),
        (ChunkKey::Incremental(ContentHash::of(b"two")), b"two".to_vec()),
    ];
    {
        // A server of the previous version stored a document.
        let options = SqliteConnectOptions::new().filename(&path).create_if_missing(true).foreign_keys(true);
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
        migrate(&pool, &migrate::SQLITE[..BEFORE_CLUSTERED_CHUNKS]).await.unwrap();
        sqlx::query("INSERT INTO users (id, email, nickname, created_at) VALUES ('u', 'gomi@example.com', 'gomi', 0)")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO documents (doc_id, owner_user_id, created_at) VALUES (?, 'u', 0)")
            .bind(doc.as_str())
            .execute(&pool)
            .await
            .unwrap();
        for (key, bytes) in &chunks {
            sqlx::query("INSERT INTO chunks (doc_id, kind, hash, bytes) VALUES (?, ?, ?, ?)")
                .bind(doc.as_str())
                .bind(key.kind_code())
                .bind(key.hash().0.as_slice())
                .bind(bytes.as_slice())
                .execute(&pool)
                .await
                .unwrap();
        }
        pool.close().await;
    }

    // This version opens it, migrates it and finds the document whole, then stores one more chunk.
    let storage = SqliteStorage::open(&path.display().to_string()).await.unwrap();
    let mut stored: Vec<(ChunkKey, Vec<u8>)> =
        storage.load_chunks(&doc).await.unwrap().into_iter().map(|chunk| (chunk.key, chunk.bytes)).collect();
    stored.sort();
    chunks.sort();
    assert_eq!(stored, chunks);
    let three = ChunkKey::Incremental(ContentHash::of(b"three"));
    storage.put_chunk(&doc, three, b"three").await.unwrap();
    assert_eq!(storage.chunk_keys(&doc).await.unwrap().len(), chunks.len() + 1);
    let clustered: (i64,) = sqlx::query_as("SELECT count(*) FROM pragma_table_list WHERE name = 'chunks' AND wr = 1")
        .fetch_one(&storage.pool)
        .await
        .unwrap();
    assert_eq!(clustered.0, 1, "the chunks table is stored in its primary key's order");
}
