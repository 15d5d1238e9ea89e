//! SQLite: group commit of chat messages across rooms. Each room already commits what queued up
//! for it in one call (`chat::rooms`); with a hundred busy rooms that was still a hundred write
//! transactions racing for SQLite's one write lock, the losers sleeping in its busy handler. Here
//! every room's batch goes to one writer task, which commits all batches queued meanwhile in one
//! transaction (one WAL `fsync`) and only then answers each room, so a message is acknowledged
//! only once it is durable, and a room's order is kept (a room has one batch in flight at a time).
//!
//! A combined transaction that fails is rolled back and each batch is written again in its own,
//! so every room gets the outcome of its own messages (a deleted meetup's `UnknownMeetup` stays
//! its room's). Resends are recognised by (sender, client id) inside `insert_message`, so writing
//! a batch again cannot double a message.

use sqlx::{Connection, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::chat::insert_message;
use super::{backend, chunks};
use crate::storage::StorageError;
use crate::storage::chat::{ChatMessage, MeetupId, MessageKind, NewMessage, Sender};

/// The most messages one transaction takes; the rest wait for the next round.
const MAX_BATCH_MESSAGES: usize = 2048;

/// A message to store, owned so it can wait in the writer's queue.
struct Owned {
    meetup_id: MeetupId,
    kind: MessageKind,
    sender: Sender,
    client_id: Option<Uuid>,
    text: String,
}

type Posted = Result<Vec<(ChatMessage, bool)>, StorageError>;

struct Batch {
    messages: Vec<Owned>,
    done: oneshot::Sender<Posted>,
}

/// The handle callers use; the writer task ends when the last handle is dropped.
pub(super) struct ChatWriter {
    queue: mpsc::UnboundedSender<Batch>,
}

impl ChatWriter {
    /// Starts the writer task on the current Tokio runtime.
    pub(super) fn start(pool: SqlitePool) -> Self {
        let (queue, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(pool, rx));
        Self { queue }
    }

    /// Stores a room's batch; returns once it is committed (or failed).
    pub(super) async fn post(&self, batch: &[NewMessage<'_>]) -> Posted {
        let messages = batch
            .iter()
            .map(|m| Owned {
                meetup_id: m.meetup_id,
                kind: m.kind,
                sender: m.sender.clone(),
                client_id: m.client_id,
                text: m.text.to_owned(),
            })
            .collect();
        let (done, answer) = oneshot::channel();
        self.queue.send(Batch { messages, done }).map_err(|_| backend(sqlx::Error::PoolClosed))?;
        answer.await.map_err(|_| backend(sqlx::Error::PoolClosed))?
    }
}

async fn run(pool: SqlitePool, mut queue: mpsc::UnboundedReceiver<Batch>) {
    let mut writer: Option<SqliteConnection> = None;
    let mut batches = Vec::new();
    while let Some(first) = queue.recv().await {
        let mut messages = first.messages.len();
        batches.push(first);
        while messages < MAX_BATCH_MESSAGES {
            match queue.try_recv() {
                Ok(batch) => {
                    messages += batch.messages.len();
                    batches.push(batch);
                }
                Err(_) => break,
            }
        }
        let conn = match chunks::connection(&pool, &mut writer).await {
            Ok(conn) => conn,
            Err(e) => {
                let message = e.to_string();
                tracing::error!(error = %message, "no connection for the chat writer");
                for batch in batches.drain(..) {
                    let _ = batch.done.send(Err(backend(sqlx::Error::Protocol(message.clone()))));
                }
                continue;
            }
        };
        if batches.len() > 1 {
            match commit(conn, &batches).await {
                Ok(mut posted) => {
                    for batch in batches.drain(..).rev() {
                        let theirs = posted.pop().unwrap_or_default();
                        let _ = batch.done.send(Ok(theirs));
                    }
                    continue;
                }
                Err(e) => {
                    tracing::warn!(rooms = batches.len(), error = %e, "a chat batch failed; writing each room's alone")
                }
            }
        }
        for batch in batches.drain(..) {
            let result = commit(conn, std::slice::from_ref(&batch)).await.map(|mut p| p.pop().unwrap_or_default());
            let _ = batch.done.send(result);
        }
    }
    if let Some(conn) = writer {
        let _ = conn.close().await;
    }
}

/// Stores `batches` in one transaction; what each stored, in order.
async fn commit(conn: &mut SqliteConnection, batches: &[Batch]) -> Result<Vec<Vec<(ChatMessage, bool)>>, StorageError> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
    let mut posted = Vec::with_capacity(batches.len());
    for batch in batches {
        let mut theirs = Vec::with_capacity(batch.messages.len());
        for m in &batch.messages {
            let new = NewMessage {
                meetup_id: m.meetup_id,
                kind: m.kind,
                sender: &m.sender,
                client_id: m.client_id,
                text: &m.text,
            };
            theirs.push(insert_message(&mut tx, &new).await?);
        }
        posted.push(theirs);
    }
    tx.commit().await.map_err(backend)?;
    Ok(posted)
}
