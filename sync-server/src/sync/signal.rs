//! A connection's mailbox: which documents changed since it last looked, and the ephemeral
//! messages other connections of the same user sent on documents it syncs.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex as StdMutex};

use tokio::sync::Notify;

use crate::storage::{DocumentId, UserId};

/// Ephemeral messages waiting for one connection beyond this many, or beyond
/// [`EPHEMERAL_QUEUE_BYTES`] (their data and names), are dropped, oldest first: they are
/// presence-like and never stored, so a slow peer loses some rather than holding memory. One
/// larger than the byte bound alone is never queued.
pub const EPHEMERAL_QUEUE: usize = 256;
pub const EPHEMERAL_QUEUE_BYTES: usize = 1024 * 1024;

/// An ephemeral message from another connection of the same user, to pass on as it came.
#[derive(Debug, Clone)]
pub struct Ephemeral {
    pub document: DocumentId,
    pub sender_id: String,
    pub session_id: String,
    pub count: u64,
    /// Shared by every connection it is passed to.
    pub data: Arc<[u8]>,
}

impl Ephemeral {
    /// The bytes it holds.
    fn size(&self) -> usize {
        self.data.len() + self.sender_id.len() + self.session_id.len()
    }
}

/// What woke a connection: documents changed since it last looked, and ephemeral messages.
#[derive(Default)]
pub struct Wake {
    pub changed: Vec<DocumentId>,
    pub ephemeral: Vec<Ephemeral>,
}

#[derive(Default)]
struct Mailbox {
    dirty: HashSet<DocumentId>,
    ephemeral: VecDeque<Ephemeral>,
    /// The bytes `ephemeral` holds (`Ephemeral::size`).
    ephemeral_bytes: usize,
}

/// A connection's mailbox for "documents changed since you last looked" and relayed ephemeral
/// messages.
pub struct Signal {
    pub user: UserId,
    mailbox: StdMutex<Mailbox>,
    notify: Notify,
}

impl Signal {
    pub fn new(user: UserId) -> Arc<Self> {
        Arc::new(Self { user, mailbox: StdMutex::new(Mailbox::default()), notify: Notify::new() })
    }

    pub(super) fn mark(&self, doc: &DocumentId) {
        if let Ok(mut mailbox) = self.mailbox.lock() {
            mailbox.dirty.insert(doc.clone());
        }
        self.notify.notify_one();
    }

    pub(super) fn post(&self, message: Ephemeral) {
        let size = message.size();
        if size > EPHEMERAL_QUEUE_BYTES {
            return;
        }
        if let Ok(mut mailbox) = self.mailbox.lock() {
            while mailbox.ephemeral.len() >= EPHEMERAL_QUEUE || mailbox.ephemeral_bytes + size > EPHEMERAL_QUEUE_BYTES {
                let Some(dropped) = mailbox.ephemeral.pop_front() else { break };
                mailbox.ephemeral_bytes -= dropped.size();
            }
            mailbox.ephemeral_bytes += size;
            mailbox.ephemeral.push_back(message);
        }
        self.notify.notify_one();
    }

    /// Waits until something arrived, then takes it all.
    pub async fn changed(&self) -> Wake {
        loop {
            let wake = match self.mailbox.lock() {
                Ok(mut mailbox) => {
                    mailbox.ephemeral_bytes = 0;
                    Wake { changed: mailbox.dirty.drain().collect(), ephemeral: mailbox.ephemeral.drain(..).collect() }
                }
                Err(_) => Wake::default(),
            };
            if !wake.changed.is_empty() || !wake.ephemeral.is_empty() {
                return wake;
            }
            self.notify.notified().await;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn message(count: u64, bytes: usize) -> Ephemeral {
        let document = DocumentId::new("doc").unwrap();
        Ephemeral { document, sender_id: "p".into(), session_id: "s".into(), count, data: vec![0; bytes].into() }
    }

    async fn waiting(signal: &Signal) -> Vec<u64> {
        signal.changed().await.ephemeral.iter().map(|m| m.count).collect()
    }

    #[tokio::test]
    async fn a_stalled_connection_holds_at_most_a_megabyte_of_presence_newest_first() {
        let signal = Signal::new(UserId::random());
        // Each a quarter of the bound with its two one-byte names.
        for count in 0..8 {
            signal.post(message(count, EPHEMERAL_QUEUE_BYTES / 4 - 2));
        }
        assert_eq!(waiting(&signal).await, [4, 5, 6, 7]);
        // Too large to pass on at all, and it pushes nothing out.
        signal.post(message(8, 10));
        signal.post(message(9, EPHEMERAL_QUEUE_BYTES - 1));
        signal.post(message(10, 10));
        assert_eq!(waiting(&signal).await, [8, 10]);
        for count in 0..(EPHEMERAL_QUEUE as u64 + 2) {
            signal.post(message(count, 1));
        }
        assert_eq!(waiting(&signal).await.len(), EPHEMERAL_QUEUE);
    }
}
