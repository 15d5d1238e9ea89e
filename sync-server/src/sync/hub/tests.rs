#![allow(clippy::unwrap_used)]

use std::time::Duration;

use automerge::sync::SyncDoc;
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};

use super::*;
use crate::storage::NewUser;

/// Longer than any step here takes; past it the test fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(10);

async fn hub_with_user(dir: &tempfile::TempDir) -> (Arc<Hub>, UserId) {
    let storage = crate::storage::open(&dir.path().join("hub.sqlite").display().to_string()).await.unwrap();
    let user = UserId::random();
    let new = NewUser { id: user, email: "gomi@example.com".into(), nickname: "gomi".into(), password_hash: None };
    storage.create_user(&new).await.unwrap();
    (Arc::new(Hub::new(storage)), user)
}

#[tokio::test]
async fn the_change_that_makes_a_document_due_for_compaction_is_answered_without_waiting_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, user) = hub_with_user(&dir).await;
    let id = DocumentId::new(format!("{}", uuid::Uuid::new_v4().simple())).unwrap();
    let entry = hub.entry(&id);
    let signal = Signal::new(user);
    let (mut doc, mut ours, mut theirs) = (AutoCommit::new(), sync::State::new(), sync::State::new());
    // Another document's compaction is running (it holds the one-at-a-time permit) and does not end.
    let busy = hub.compacting.clone().acquire_owned().await.unwrap();
    // One chunk per change stored, until the document is due (the first message only opens the
    // conversation).
    let mut n: i64 = 0;
    while hub.storage.chunk_keys(&id).await.unwrap().len() < COMPACT_AFTER_CHUNKS {
        n += 1;
        assert!(n <= 2 * COMPACT_AFTER_CHUNKS as i64, "a chunk per change");
        doc.put(ROOT, "count", n).unwrap();
        doc.commit();
        let message = doc.sync().generate_sync_message(&mut ours).unwrap().encode();
        let applied = tokio::time::timeout(PATIENCE, hub.receive(&entry, 1, &signal, &mut theirs, &message, false))
            .await
            .unwrap_or_else(|_| panic!("change {n} was not answered while a compaction waited"))
            .unwrap();
        let reply = sync::Message::decode(&applied.reply.unwrap()).unwrap();
        doc.sync().receive_sync_message(&mut ours, reply).unwrap();
    }
    assert_eq!(hub.storage.chunk_keys(&id).await.unwrap().len(), COMPACT_AFTER_CHUNKS, "nothing compacted yet");

    // Once the other compaction ends, this document's runs: one snapshot in place of its chunks,
    // in storage and in memory.
    drop(busy);
    let compacted = async {
        loop {
            let keys = hub.storage.chunk_keys(&id).await.unwrap();
            if keys.iter().any(|key| matches!(key, ChunkKey::Snapshot(_))) {
                return keys;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let keys = tokio::time::timeout(PATIENCE, compacted).await.expect("the compaction ran");
    assert_eq!(keys.len(), 1, "the snapshot replaced every chunk: {keys:?}");
    let state = entry.state.lock().await;
    let loaded = state.loaded.as_ref().unwrap();
    assert_eq!(loaded.chunks, keys, "memory knows what storage holds");
    assert_eq!(loaded.compacting, None);
}
