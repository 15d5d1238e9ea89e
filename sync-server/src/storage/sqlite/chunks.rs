//! SQLite: group commit of document chunks. Every `put_chunk` goes to one writer task, which
//! commits whatever has queued up meanwhile in a single transaction (one WAL `fsync` for the lot)
//! and only then answers each caller. So a caller still hears "stored" only once its chunk is
//! durable, but a hundred peers syncing at once cost one `fsync` per round instead of a hundred.
//!
//! A batch that fails as a whole (any statement or the commit) is rolled back and its chunks are
//! written again one transaction each, so every caller gets the outcome of its own write — an
//! unclaimed document's `UnknownDocument` stays that caller's alone. Inserts are idempotent, so
//! writing a chunk again is harmless. Nothing else is batched here: compaction and the account
//! writes keep their own transactions.
//!
//! The writer keeps one connection of its own (taken out of the pool), with a page cache larger
//! than the pool's: SQLite keeps a connection's cache across transactions only while no other
//! connection has written meanwhile, so a writer that moved from pooled connection to pooled
//! connection found its cache invalidated at every batch and read the same index pages again.

use sqlx::error::ErrorKind;
use sqlx::{Connection, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use super::checkpoint::Checkpoints;
use super::{backend, kind};
use crate::storage::batches::{self, Statements};
use crate::storage::{ChunkKey, DocumentId, StorageError};

/// The most chunks, and bytes, one transaction takes; the rest wait for the next round.
const MAX_BATCH_CHUNKS: usize = 1024;
const MAX_BATCH_BYTES: usize = 16 * 1024 * 1024;

/// The writer connection's page cache (`PRAGMA cache_size`, negative: KiB).
const WRITER_CACHE: &str = "PRAGMA cache_size = -2048";

struct Put {
    doc_id: String,
    kind: i8,
    hash: [u8; 32],
    bytes: Vec<u8>,
    done: oneshot::Sender<Result<(), StorageError>>,
}

/// The handle callers use; the writer task ends when the last handle is dropped.
pub(super) struct ChunkWriter {
    queue: mpsc::UnboundedSender<Put>,
}

impl ChunkWriter {
    /// Starts the writer task on the current Tokio runtime.
    /// `checkpoints` is told of every round.
    pub(super) fn start(pool: SqlitePool, checkpoints: Checkpoints) -> Self {
        let (queue, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(pool, rx, checkpoints));
        Self { queue }
    }

    /// Stores one chunk; returns once it is committed (or failed).
    pub(super) async fn put(&self, doc_id: &DocumentId, key: ChunkKey, bytes: &[u8]) -> Result<(), StorageError> {
        let (done, answer) = oneshot::channel();
        let put = Put {
            doc_id: doc_id.as_str().to_owned(),
            kind: key.kind_code(),
            hash: key.hash().0,
            bytes: bytes.to_vec(),
            done,
        };
        // The writer only stops when the storage is dropped; a closed pool is the nearest cause.
        self.queue.send(put).map_err(|_| backend(sqlx::Error::PoolClosed))?;
        answer.await.map_err(|_| backend(sqlx::Error::PoolClosed))?
    }
}

async fn run(pool: SqlitePool, mut queue: mpsc::UnboundedReceiver<Put>, checkpoints: Checkpoints) {
    let mut batch = Vec::new();
    let mut writer: Option<SqliteConnection> = None;
    while let Some(first) = queue.recv().await {
        checkpoints.wrote();
        let mut bytes = first.bytes.len();
        batch.push(first);
        while batch.len() < MAX_BATCH_CHUNKS && bytes < MAX_BATCH_BYTES {
            match queue.try_recv() {
                Ok(put) => {
                    bytes += put.bytes.len();
                    batch.push(put);
                }
                Err(_) => break,
            }
        }
        let conn = match connection(&pool, &mut writer).await {
            Ok(conn) => conn,
            Err(e) => {
                let message = e.to_string();
                tracing::error!(error = %message, "no connection for the chunk writer");
                for put in batch.drain(..) {
                    let _ = put.done.send(Err(backend(sqlx::Error::Protocol(message.clone()))));
                }
                continue;
            }
        };
        if batch.len() > 1 {
            match commit_together(conn, &batch).await {
                Ok(()) => {
                    for put in batch.drain(..) {
                        let _ = put.done.send(Ok(()));
                    }
                    continue;
                }
                Err(e) => {
                    tracing::warn!(chunks = batch.len(), error = %e, "a batch of chunks failed; writing them one by one")
                }
            }
        }
        for put in batch.drain(..) {
            let result = insert_one(conn, &put).await;
            let _ = put.done.send(result);
        }
    }
    if let Some(conn) = writer {
        let _ = conn.close().await;
    }
}

/// The writer's own connection, taken from the pool the first time; none once the pool is
/// closed (the storage was closed: later writes fail as every other call does).
pub(super) async fn connection<'a>(
    pool: &SqlitePool,
    writer: &'a mut Option<SqliteConnection>,
) -> Result<&'a mut SqliteConnection, sqlx::Error> {
    if pool.is_closed() {
        if let Some(conn) = writer.take() {
            let _ = conn.close().await;
        }
        return Err(sqlx::Error::PoolClosed);
    }
    if writer.is_none() {
        let mut conn = pool.acquire().await?.detach();
        sqlx::query(WRITER_CACHE).execute(&mut conn).await?;
        *writer = Some(conn);
    }
    writer.as_mut().ok_or(sqlx::Error::PoolClosed)
}

async fn commit_together(conn: &mut SqliteConnection, batch: &[Put]) -> Result<(), sqlx::Error> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    for group in batches::groups(batch) {
        let mut query = sqlx::query(INSERT_CHUNKS.text(group.len()));
        for put in group {
            query = query.bind(&put.doc_id).bind(put.kind).bind(put.hash.as_slice()).bind(put.bytes.as_slice());
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await
}

/// The insert of one or several chunks in one statement.
static INSERT_CHUNKS: Statements = Statements::new(|rows| {
    format!(
        "INSERT INTO chunks (doc_id, kind, hash, bytes) VALUES {} ON CONFLICT (doc_id, kind, hash) DO NOTHING",
        batches::placeholders("(?, ?, ?, ?)", rows)
    )
});

async fn insert_one(conn: &mut SqliteConnection, put: &Put) -> Result<(), StorageError> {
    sqlx::query(INSERT_CHUNKS.text(1))
        .bind(&put.doc_id)
        .bind(put.kind)
        .bind(put.hash.as_slice())
        .bind(put.bytes.as_slice())
        .execute(conn)
        .await
        .map_err(|e| match kind(&e) {
            Some(ErrorKind::ForeignKeyViolation) => StorageError::UnknownDocument,
            _ => backend(e),
        })?;
    Ok(())
}
