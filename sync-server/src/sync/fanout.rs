//! Documents across server instances (`crate::bus`): an instance that stored changes of a document
//! says so on the documents channel; every other instance holding that document in memory reads
//! the new chunks from storage (`Hub::refresh`) and wakes its connections syncing it. Storage stays
//! the source of truth: what is read was committed, so the durability rule holds on every instance.

use std::sync::{Arc, Weak};

use serde::{Deserialize, Serialize};

use super::hub::Hub;
use crate::bus::{Event, Listener};
use crate::storage::DocumentId;

/// What one instance tells the others about documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DocShout {
    /// New changes of the document are stored.
    Changed { doc: String },
    /// Something may have been lost on the way: every document in memory catches up from storage.
    CatchUp,
}

impl Event for DocShout {
    fn catch_up() -> Self {
        Self::CatchUp
    }
}

/// The documents as the bus sees them: what another instance announced is read from storage into
/// the documents this instance holds in memory (one it does not hold is not loaded for it).
pub(super) struct RemoteDocs(Weak<Hub>);

impl RemoteDocs {
    pub(super) fn new(hub: &Arc<Hub>) -> Self {
        Self(Arc::downgrade(hub))
    }
}

impl Listener<DocShout> for RemoteDocs {
    fn hear(&self, shout: DocShout) {
        let Some(hub) = self.0.upgrade() else { return };
        let entries = match &shout {
            DocShout::Changed { doc } => match DocumentId::new(doc.as_str()) {
                Ok(id) => hub.resident_entries(Some(&id)),
                Err(_) => return,
            },
            DocShout::CatchUp => hub.resident_entries(None),
        };
        if entries.is_empty() {
            return;
        }
        tokio::spawn(async move {
            for entry in entries {
                hub.refresh(&entry).await;
                let id = entry.id.clone();
                drop(entry);
                // Held only for the refresh: evicted if nobody else holds it now.
                hub.release(&id);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::DocShout;

    #[test]
    fn an_announcement_travels_as_tagged_json() {
        let shout = DocShout::Changed { doc: "3Kd9mZ".into() };
        let text = serde_json::to_string(&shout).expect("encode");
        assert_eq!(text, r#"{"kind":"changed","doc":"3Kd9mZ"}"#);
        assert_eq!(serde_json::from_str::<DocShout>(&text).expect("decode"), shout);
    }
}
