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
    (Arc::new(Hub::new(storage, crate::sync::Limits::default().max_message_bytes)), user)
}

/// A device of `user` syncing one document with a hub, one change per message.
struct Device {
    id: DocumentId,
    signal: Arc<Signal>,
    doc: AutoCommit,
    ours: sync::State,
    theirs: sync::State,
    changes: i64,
}

impl Device {
    fn new(user: UserId) -> Self {
        let id = DocumentId::new(format!("{}", uuid::Uuid::new_v4().simple())).unwrap();
        let (doc, ours, theirs) = (AutoCommit::new(), sync::State::new(), sync::State::new());
        Self { id, signal: Signal::new(user), doc, ours, theirs, changes: 0 }
    }

    /// Makes one change and syncs it; fails if the hub does not answer in time.
    async fn change(&mut self, hub: &Hub, entry: &Arc<DocEntry>) {
        self.changes += 1;
        self.doc.put(ROOT, "count", self.changes).unwrap();
        self.doc.commit();
        let message = self.doc.sync().generate_sync_message(&mut self.ours).unwrap().encode();
        let applied =
            tokio::time::timeout(PATIENCE, hub.receive(entry, 1, &self.signal, &mut self.theirs, &message, false))
                .await
                .unwrap_or_else(|_| panic!("change {} was not answered in time", self.changes))
                .unwrap();
        let reply = sync::Message::decode(&applied.reply.unwrap()).unwrap();
        self.doc.sync().receive_sync_message(&mut self.ours, reply).unwrap();
    }

    /// Syncs changes until the hub has stored `chunks` of them (the first message only opens the
    /// conversation, so it stores none).
    async fn change_until_stored(&mut self, hub: &Hub, entry: &Arc<DocEntry>, chunks: usize) {
        while hub.storage.chunk_keys(&self.id).await.unwrap().len() < chunks {
            assert!(self.changes <= 2 * chunks as i64, "a chunk per change");
            self.change(hub, entry).await;
        }
    }
}

/// Waits until storage holds a snapshot of `id`; returns its chunk keys then.
async fn compacted(hub: &Hub, id: &DocumentId) -> Vec<ChunkKey> {
    let compacted = async {
        loop {
            let keys = hub.storage.chunk_keys(id).await.unwrap();
            if keys.iter().any(|key| matches!(key, ChunkKey::Snapshot(_))) {
                return keys;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(PATIENCE, compacted).await.expect("the compaction ran")
}

/// Waits until the document in memory is as `done` says.
async fn until(entry: &DocEntry, what: &str, done: impl Fn(&Loaded) -> bool) {
    let reached = async {
        while !entry.state.lock().await.loaded.as_ref().is_some_and(&done) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(PATIENCE, reached).await.unwrap_or_else(|_| panic!("waited in vain: {what}"));
}

async fn chunks_in_memory(entry: &DocEntry) -> Vec<ChunkKey> {
    entry.state.lock().await.loaded.as_ref().unwrap().chunks.clone()
}

#[tokio::test]
async fn the_change_that_makes_a_document_due_for_compaction_is_answered_without_waiting_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, user) = hub_with_user(&dir).await;
    let mut phone = Device::new(user);
    let entry = hub.entry(&phone.id);
    // Another document's compaction is running (it holds the one-at-a-time permit) and does not end.
    let busy = hub.compacting.clone().acquire_owned().await.unwrap();
    phone.change_until_stored(&hub, &entry, COMPACT_AFTER_CHUNKS).await;
    assert_eq!(hub.storage.chunk_keys(&phone.id).await.unwrap().len(), COMPACT_AFTER_CHUNKS, "nothing compacted yet");

    // Once the other compaction ends, this document's runs: one snapshot in place of its chunks,
    // in storage and in memory.
    drop(busy);
    let keys = compacted(&hub, &phone.id).await;
    assert_eq!(keys.len(), 1, "the snapshot replaced every chunk: {keys:?}");
    // Memory learns of it just after storage committed it.
    until(&entry, "memory knows what storage holds", |loaded| loaded.chunks == keys && loaded.compacting.is_none())
        .await;
}

#[tokio::test]
async fn an_instance_that_hears_of_another_instances_compaction_forgets_the_chunks_it_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let (one, user) = hub_with_user(&dir).await;
    let two = Arc::new(Hub::new(one.storage.clone(), crate::sync::Limits::default().max_message_bytes));
    let mut phone = Device::new(user);
    let (on_one, on_two) = (one.entry(&phone.id), two.entry(&phone.id));
    // The second instance holds the document (a laptop syncs it there) with its first chunks.
    phone.change_until_stored(&one, &on_one, 10).await;
    two.generate(&on_two, user, &mut sync::State::new()).await.unwrap();
    assert_eq!(chunks_in_memory(&on_two).await.len(), 10);

    // The phone's instance compacts the document; the second hears of it and reads storage again.
    phone.change_until_stored(&one, &on_one, COMPACT_AFTER_CHUNKS).await;
    let stored = compacted(&one, &phone.id).await;
    two.refresh(&on_two).await;
    assert_eq!(chunks_in_memory(&on_two).await, stored, "the second instance knows what storage holds");
}

#[tokio::test]
async fn a_failed_compaction_is_tried_again_once_the_chunks_have_doubled_not_at_every_change() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let (hub, user) = hub_with_user(&dir).await;
    // Storage refuses every snapshot, so each compaction fails after building the whole document.
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(dir.path().join("hub.sqlite"));
    let mut db = sqlx::SqliteConnection::connect_with(&options).await.unwrap();
    let snapshot = ChunkKey::Snapshot(ContentHash::of(b"")).kind_code();
    let trigger = format!(
        "CREATE TRIGGER no_snapshots BEFORE INSERT ON chunks WHEN NEW.kind = {snapshot} \
         BEGIN SELECT RAISE(ABORT, 'no snapshots'); END"
    );
    sqlx::query(sqlx::AssertSqlSafe(trigger)).execute(&mut db).await.unwrap();
    let mut phone = Device::new(user);
    let entry = hub.entry(&phone.id);
    phone.change_until_stored(&hub, &entry, COMPACT_AFTER_CHUNKS).await;
    until(&entry, "the compaction was tried and failed", |loaded| loaded.compacting.is_none() && loaded.retry_at > 0)
        .await;
    let retry_at = entry.state.lock().await.loaded.as_ref().unwrap().retry_at;
    assert_eq!(retry_at, 2 * COMPACT_AFTER_CHUNKS);

    // The next changes are stored without another attempt.
    phone.change(&hub, &entry).await;
    assert_eq!(entry.state.lock().await.loaded.as_ref().unwrap().compacting, None, "no attempt at every change");
    assert_eq!(chunks_in_memory(&entry).await.len(), COMPACT_AFTER_CHUNKS + 1);

    // Once storage takes snapshots again and the chunks have doubled, the document is compacted.
    sqlx::query("DROP TRIGGER no_snapshots").execute(&mut db).await.unwrap();
    let busy = hub.compacting.clone().acquire_owned().await.unwrap();
    phone.change_until_stored(&hub, &entry, 2 * COMPACT_AFTER_CHUNKS).await;
    drop(busy);
    let keys = compacted(&hub, &phone.id).await;
    assert_eq!(keys.len(), 1, "the snapshot replaced every chunk: {keys:?}");
    until(&entry, "a compaction that worked clears the wait", |loaded| {
        loaded.compacting.is_none() && loaded.retry_at == 0
    })
    .await;
}

/// The chunks storage holds of `id`, loaded into a ledger of their own: what any instance that
/// loads the document from storage gets.
async fn as_stored(hub: &Hub, id: &DocumentId) -> Ledger {
    let mut stored = Ledger::default();
    for chunk in hub.storage.load_chunks(id).await.unwrap() {
        stored.load(&chunk.bytes).unwrap();
    }
    stored
}

#[tokio::test]
async fn a_change_that_waited_for_one_another_instance_stored_is_stored_when_it_applies() {
    let dir = tempfile::tempdir().unwrap();
    let (one, user) = hub_with_user(&dir).await;
    let mut phone = Device::new(user);
    let entry = one.entry(&phone.id);
    phone.change_until_stored(&one, &entry, 1).await;
    // Two changes more on the phone: the second reached this instance before the first (which a
    // laptop took through another instance, which stored it), so it waits here, in memory only.
    let before = phone.doc.get_heads();
    phone.doc.put(ROOT, "later", 1).unwrap();
    phone.doc.commit();
    phone.doc.put(ROOT, "later", 2).unwrap();
    phone.doc.commit();
    let changes = phone.doc.get_changes(&before);
    let (first, second) = (changes[0].raw_bytes().to_vec(), changes[1].raw_bytes().to_vec());
    {
        let mut state = entry.state.lock().await;
        let waits = state.loaded.as_mut().unwrap().doc.load(&second).unwrap();
        assert!(waits.is_empty(), "it waits for the first");
    }
    one.storage.put_chunk(&phone.id, ChunkKey::Incremental(ContentHash::of(&first)), &first).await.unwrap();

    // This instance hears of the other's change and reads it: both apply, and both are stored.
    one.refresh(&entry).await;
    assert_eq!(entry.state.lock().await.loaded.as_ref().unwrap().doc.heads(), phone.doc.get_heads());
    assert_eq!(as_stored(&one, &phone.id).await.heads(), phone.doc.get_heads(), "storage holds what memory holds");
}

#[tokio::test]
async fn a_stored_change_whose_dependency_storage_lacks_is_never_compacted_away() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, user) = hub_with_user(&dir).await;
    let mut phone = Device::new(user);
    let entry = hub.entry(&phone.id);
    phone.change_until_stored(&hub, &entry, 1).await;
    // Storage holds a change of another device whose dependency it never got (an older server
    // applied that one without storing it): it waits in memory once read.
    let mut laptop = phone.doc.fork();
    laptop.put(ROOT, "laptop", 1).unwrap();
    laptop.commit();
    laptop.put(ROOT, "laptop", 2).unwrap();
    laptop.commit();
    let orphan = laptop.get_changes(&phone.doc.get_heads())[1].raw_bytes().to_vec();
    let orphan_key = ChunkKey::Incremental(ContentHash::of(&orphan));
    hub.storage.put_chunk(&phone.id, orphan_key, &orphan).await.unwrap();
    hub.refresh(&entry).await;

    // The document falls due for compaction: a snapshot of what applied would replace the chunk
    // of the change that waits. It is not made; the chunk stays for the day its dependency comes.
    phone.change_until_stored(&hub, &entry, COMPACT_AFTER_CHUNKS).await;
    until(&entry, "the compaction was tried", |loaded| loaded.compacting.is_none() && loaded.retry_at > 0).await;
    assert!(hub.storage.chunk_keys(&phone.id).await.unwrap().contains(&orphan_key), "the waiting change is kept");
}

#[test]
fn a_snapshot_is_stored_only_once_it_loads_back_to_the_documents_heads() {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "count", 1).unwrap();
    doc.commit();
    let changes = doc.save();
    let saved = compaction::snapshot_of(&changes, &doc.get_heads()).unwrap();
    assert_eq!(AutoCommit::load(&saved).unwrap().get_heads(), doc.get_heads());
    assert!(compaction::snapshot_of(&changes, &[]).is_err(), "other heads: the chunks are kept");
}
