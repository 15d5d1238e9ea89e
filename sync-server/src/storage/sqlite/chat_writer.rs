//! SQLite: group commit of chat messages across rooms. Each room already commits what queued up
//! for it in one call (`chat::rooms`); with a hundred busy rooms that was still a hundred write
//! transactions racing for SQLite's one write lock, the losers sleeping in its busy handler. Here
//! every room's batch goes to one writer task, which commits all batches queued meanwhile in one
//! transaction (one WAL `fsync`) and only then answers each room, so a message is acknowledged
//! only once it is durable, and a room's order is kept (a room has one batch in flight at a time).
//!
//! A combined transaction that fails is rolled back and each batch is written again in its own,
//! so every room gets the outcome of its own messages (a deleted meetup's `UnknownMeetup` stays
//! its room's). Resends are recognised by (sender, client id) inside the transaction
//! (`chat_batch`), so writing a batch again cannot double a message; the same transaction checks
//! each sender's membership and the meetup's end.

use sqlx::{Connection, SqliteConnection, SqlitePool};

use super::chat_batch::write_batch;
use super::checkpoint::Checkpoints;
use super::{backend, chunks};
use crate::storage::StorageError;
use crate::storage::chat::Posted;
use crate::storage::chat_queue::{Batch, ChatQueue, Receiver, messages, per_batch, round};

/// Starts the writer task on the current Tokio runtime; it ends when the last handle is dropped.
/// `checkpoints` is told of every round.
pub(super) fn start(pool: SqlitePool, checkpoints: Checkpoints) -> ChatQueue {
    let (queue, rx) = ChatQueue::new();
    tokio::spawn(run(pool, rx, checkpoints));
    queue
}

async fn run(pool: SqlitePool, mut queue: Receiver, checkpoints: Checkpoints) {
    let mut writer: Option<SqliteConnection> = None;
    while let Some(first) = queue.recv().await {
        checkpoints.wrote();
        let batches = round(first, &mut queue);
        let conn = match chunks::connection(&pool, &mut writer).await {
            Ok(conn) => conn,
            Err(e) => {
                let message = e.to_string();
                tracing::error!(error = %message, "no connection for the chat writer");
                for batch in batches {
                    batch.answer(Err(backend(sqlx::Error::Protocol(message.clone()))));
                }
                continue;
            }
        };
        let batches = if batches.len() > 1 {
            match commit(conn, &batches).await {
                Ok(posted) => {
                    for (batch, theirs) in batches.into_iter().zip(posted) {
                        batch.answer(Ok(theirs));
                    }
                    continue;
                }
                Err(e) => {
                    tracing::warn!(rooms = batches.len(), error = %e, "a chat batch failed; writing each room's alone");
                    batches
                }
            }
        } else {
            batches
        };
        for batch in batches {
            let result = commit(conn, std::slice::from_ref(&batch)).await.map(|mut p| p.pop().unwrap_or_default());
            batch.answer(result);
        }
    }
    if let Some(conn) = writer {
        let _ = conn.close().await;
    }
}

/// Stores `batches` in one transaction; what each stored, in order.
async fn commit(conn: &mut SqliteConnection, batches: &[Batch]) -> Result<Vec<Vec<Posted>>, StorageError> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
    let posted = write_batch(&mut tx, &messages(batches)).await?;
    tx.commit().await.map_err(backend)?;
    Ok(per_batch(batches, posted))
}
