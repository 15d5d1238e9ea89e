//! A connection's mailbox: which documents changed since it last looked, and the ephemeral
//! messages other connections of the same user sent on documents it syncs.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex as StdMutex};

use tokio::sync::Notify;

use crate::storage::{DocumentId, UserId};

/// Ephemeral messages waiting for one connection beyond this are dropped, oldest first: they are
/// presence-like and never stored, so a slow peer loses some rather than holding memory.
pub const EPHEMERAL_QUEUE: usize = 256;

/// An ephemeral message from another connection of the same user, to pass on as it came.
#[derive(Debug, Clone)]
pub struct Ephemeral {
    pub document: DocumentId,
    pub sender_id: String,
    pub session_id: String,
    pub count: u64,
    pub data: Vec<u8>,
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
        if let Ok(mut mailbox) = self.mailbox.lock() {
            if mailbox.ephemeral.len() >= EPHEMERAL_QUEUE {
                mailbox.ephemeral.pop_front();
            }
            mailbox.ephemeral.push_back(message);
        }
        self.notify.notify_one();
    }

    /// Waits until something arrived, then takes it all.
    pub async fn changed(&self) -> Wake {
        loop {
            let wake = match self.mailbox.lock() {
                Ok(mut mailbox) => {
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
