//! MySQL: group commit of chat messages across rooms, as `sqlite/chat_writer.rs` does for SQLite.
//! Each room commits what queued up for it in one call (`chat::rooms`); with a hundred busy rooms
//! that was a hundred transactions, each with its own round trips and its own durable commit.
//! Here every room's batch goes to a queue that a fixed number of writer tasks drain: a writer
//! takes every batch queued meanwhile, stores them all in one transaction (`chat_batch`: a fixed
//! number of statements however many rooms) and only after `COMMIT` answers each room, so a
//! message is acknowledged only once it is durable. A room has one batch in flight at a time, so
//! two writers never hold batches of the same room, and each room's order is kept.
//!
//! A combined transaction that fails (or finds one of its meetups deleted) is rolled back and each
//! batch is written again in its own, so every room gets the outcome of its own messages. Resends
//! are recognised by (sender, client id) inside the transaction, so writing a batch again cannot
//! double a message.

use std::sync::Arc;

use mysql_async::Pool;
use tokio::sync::Mutex;

use super::chat_batch::commit_batch;
use super::{backend, retrying};
use crate::storage::StorageError;
use crate::storage::chat::Posted;
use crate::storage::chat_queue::{Batch, ChatQueue, Receiver, messages, per_batch, round};

/// Writers draining the queue: while one waits for its commit, the next gathers and writes the
/// batches that queued up meanwhile.
const WRITERS: usize = 2;

/// Starts the writer tasks on the current Tokio runtime; they end when the last handle is dropped.
/// A writer holds a pooled connection only while it writes, so closing the pool never waits on it.
pub(super) fn start(pool: Pool) -> ChatQueue {
    let (queue, rx) = ChatQueue::new();
    let rx = Arc::new(Mutex::new(rx));
    for _ in 0..WRITERS {
        tokio::spawn(run(pool.clone(), Arc::clone(&rx)));
    }
    queue
}

async fn run(pool: Pool, queue: Arc<Mutex<Receiver>>) {
    loop {
        let batches = {
            let mut queue = queue.lock().await;
            let Some(first) = queue.recv().await else { return };
            round(first, &mut queue)
        };
        let batches = if batches.len() > 1 {
            match commit(&pool, &batches).await {
                Ok(Some(posted)) => {
                    for (batch, theirs) in batches.into_iter().zip(posted) {
                        batch.answer(Ok(theirs));
                    }
                    continue;
                }
                Ok(None) => batches,
                Err(e) => {
                    tracing::warn!(rooms = batches.len(), error = %e, "a chat batch failed; writing each room's alone");
                    batches
                }
            }
        } else {
            batches
        };
        for batch in batches {
            let result = match commit(&pool, std::slice::from_ref(&batch)).await {
                Ok(Some(mut posted)) => Ok(posted.pop().unwrap_or_default()),
                Ok(None) => Err(StorageError::UnknownMeetup),
                Err(e) => Err(backend(e)),
            };
            batch.answer(result);
        }
    }
}

/// Stores `batches` in one transaction; what became of each one's messages, in order, or `None`
/// (nothing stored) if one of their meetups is gone.
async fn commit(pool: &Pool, batches: &[Batch]) -> Result<Option<Vec<Vec<Posted>>>, mysql_async::Error> {
    let messages = &messages(batches);
    let posted = retrying(|| async move {
        let mut conn = pool.get_conn().await?;
        commit_batch(&mut conn, messages).await
    })
    .await?;
    Ok(posted.map(|posted| per_batch(batches, posted)))
}
