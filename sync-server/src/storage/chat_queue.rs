//! The queue between the chat relay and a backend's chat writer: each room hands over the batch of
//! messages it has waiting and awaits the outcome, while the writer commits whatever batches of
//! all rooms queued up meanwhile in one transaction. Shared by both backends; what a round does
//! with its batches is the backend's.

use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::StorageError;
use super::chat::{MeetupId, MessageKind, NewMessage, Posted, Sender};

/// What became of one batch's messages, in its order (see `ChatStore::post_messages`).
pub(crate) type Answer = Result<Vec<Posted>, StorageError>;

/// A message to store, owned so it can wait in the queue.
pub(crate) struct QueuedMessage {
    meetup_id: MeetupId,
    kind: MessageKind,
    sender: Sender,
    client_id: Option<Uuid>,
    text: String,
}

impl QueuedMessage {
    fn of(new: &NewMessage<'_>) -> Self {
        Self {
            meetup_id: new.meetup_id,
            kind: new.kind,
            sender: new.sender.clone(),
            client_id: new.client_id,
            text: new.text.to_owned(),
        }
    }

    pub(crate) fn as_new(&self) -> NewMessage<'_> {
        NewMessage {
            meetup_id: self.meetup_id,
            kind: self.kind,
            sender: &self.sender,
            client_id: self.client_id,
            text: &self.text,
        }
    }
}

/// One room's batch and where its outcome goes.
pub(crate) struct Batch {
    pub(crate) messages: Vec<QueuedMessage>,
    done: oneshot::Sender<Answer>,
}

impl Batch {
    /// Answers the room that queued this batch (it may have stopped waiting: nothing to do then).
    pub(crate) fn answer(self, posted: Answer) {
        let _ = self.done.send(posted);
    }
}

/// The handle rooms post through; the writer's receiver ends when the last handle is dropped.
pub(crate) struct ChatQueue {
    queue: mpsc::UnboundedSender<Batch>,
}

pub(crate) type Receiver = mpsc::UnboundedReceiver<Batch>;

impl ChatQueue {
    pub(crate) fn new() -> (Self, Receiver) {
        let (queue, rx) = mpsc::unbounded_channel();
        (Self { queue }, rx)
    }

    /// Queues a room's batch; returns once the writer committed it (or failed to).
    pub(crate) async fn post(&self, batch: &[NewMessage<'_>]) -> Answer {
        let (done, answer) = oneshot::channel();
        let messages = batch.iter().map(QueuedMessage::of).collect();
        self.queue.send(Batch { messages, done }).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StorageError {
    StorageError::Io(std::io::Error::other("the chat writer stopped"))
}

/// The most messages a writer's round takes (give or take the last room's batch); the rest wait
/// for the next round. Both backends' writers.
const MAX_ROUND_MESSAGES: usize = 2048;

/// The next round for a writer: `first` and every batch already queued behind it, up to about
/// `MAX_ROUND_MESSAGES` messages (the rest wait for the next round).
pub(crate) fn round(first: Batch, queue: &mut Receiver) -> Vec<Batch> {
    let mut messages = first.messages.len();
    let mut batches = vec![first];
    while messages < MAX_ROUND_MESSAGES {
        match queue.try_recv() {
            Ok(batch) => {
                messages += batch.messages.len();
                batches.push(batch);
            }
            Err(_) => break,
        }
    }
    batches
}

/// The messages of a round's batches, in order, to store in one transaction.
pub(crate) fn messages(batches: &[Batch]) -> Vec<NewMessage<'_>> {
    batches.iter().flat_map(|batch| batch.messages.iter().map(QueuedMessage::as_new)).collect()
}

/// What became of the messages of `messages(batches)`, handed back batch by batch.
pub(crate) fn per_batch(batches: &[Batch], posted: Vec<Posted>) -> Vec<Vec<Posted>> {
    let mut posted = posted.into_iter();
    batches.iter().map(|batch| posted.by_ref().take(batch.messages.len()).collect()).collect()
}
