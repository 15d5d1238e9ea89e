//! The storage conformance suite: every test below runs once against SQLite (a temporary file) and
//! once against MySQL/MariaDB (a throwaway database on 127.0.0.1:3306, created for the test and
//! dropped after it, or on the server `MINGIZUK_TEST_MYSQL_URL` names). Both backends must behave
//! the same; a backend-specific test does not belong here.

#[macro_use]
mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::TestDb;
use mingizuk_server::storage::{
    self, ChunkKey, Claim, ContentHash, DocumentId, NewUser, Storage, StorageError, UserId,
};
use rand::RngCore;

conformance!(
    the_first_user_to_store_a_document_owns_it,
    another_user_cannot_claim_an_owned_document,
    concurrent_claims_leave_exactly_one_owner,
    claiming_for_an_unknown_user_is_refused,
    storing_a_chunk_twice_keeps_one,
    chunks_of_an_unclaimed_document_are_refused,
    loading_returns_every_chunk_of_that_document_snapshots_first,
    compaction_deletes_only_the_chunks_it_was_given,
    another_instance_reads_only_the_chunks_it_lacks,
    compaction_racing_writers_loses_nothing,
    concurrent_writers_to_one_document_lose_nothing,
    a_taken_email_or_nickname_is_a_typed_conflict,
    users_are_found_by_email_and_by_id,
    a_reopened_database_keeps_everything_and_migrates_once,
);

async fn user(storage: &dyn Storage, name: &str) -> UserId {
    let new = NewUser {
        id: UserId::random(),
        email: format!("{name}@example.com"),
        nickname: name.to_owned(),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned()),
    };
    storage.create_user(&new).await.expect("create user").id
}

fn doc(name: &str) -> DocumentId {
    DocumentId::new(name).expect("valid document id")
}

fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = vec![0; len];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// An incremental chunk keyed, as the sync layer will, by the hash of its bytes.
fn incremental() -> (ChunkKey, Vec<u8>) {
    let bytes = random_bytes(64);
    (ChunkKey::Incremental(ContentHash::of(&bytes)), bytes)
}

async fn keys(storage: &dyn Storage, doc_id: &DocumentId) -> BTreeSet<ChunkKey> {
    storage.load_chunks(doc_id).await.expect("load").into_iter().map(|c| c.key).collect()
}

async fn the_first_user_to_store_a_document_owns_it(db: TestDb) {
    let storage = db.storage();
    let ana = user(storage, "ana").await;
    let routines = doc("routines-ana");
    assert_eq!(storage.document_owner(&routines).await.expect("owner"), None);
    assert_eq!(storage.claim_document(&routines, ana).await.expect("claim"), Claim::Owned);
    assert_eq!(storage.claim_document(&routines, ana).await.expect("claim again"), Claim::Owned);
    assert_eq!(storage.document_owner(&routines).await.expect("owner"), Some(ana));
}

async fn another_user_cannot_claim_an_owned_document(db: TestDb) {
    let storage = db.storage();
    let ana = user(storage, "ana").await;
    let bo = user(storage, "bo").await;
    let log = doc("log-2026-11");
    assert_eq!(storage.claim_document(&log, ana).await.expect("claim"), Claim::Owned);
    assert_eq!(storage.claim_document(&log, bo).await.expect("claim"), Claim::OwnedByOther);
    assert_eq!(storage.document_owner(&log).await.expect("owner"), Some(ana));
}

async fn concurrent_claims_leave_exactly_one_owner(db: TestDb) {
    let storage = db.shared();
    for round in 0..5 {
        let mut users = Vec::new();
        for i in 0..12 {
            users.push(user(&*storage, &format!("u{round}x{i}")).await);
        }
        let contested = doc(&format!("contested-{round}"));
        let tasks: Vec<_> = users
            .iter()
            .map(|&u| {
                let storage = Arc::clone(&storage);
                let contested = contested.clone();
                tokio::spawn(async move { (u, storage.claim_document(&contested, u).await.expect("claim")) })
            })
            .collect();
        let mut winners = Vec::new();
        for task in tasks {
            let (u, claim) = task.await.expect("task");
            if claim == Claim::Owned {
                winners.push(u);
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
        assert_eq!(storage.document_owner(&contested).await.expect("owner"), Some(winners[0]));
    }
}

async fn claiming_for_an_unknown_user_is_refused(db: TestDb) {
    let result = db.storage().claim_document(&doc("orphan"), UserId::random()).await;
    assert!(matches!(result, Err(StorageError::UnknownUser)), "{result:?}");
}

async fn storing_a_chunk_twice_keeps_one(db: TestDb) {
    let storage = db.storage();
    let ana = user(storage, "ana").await;
    let routines = doc("routines");
    storage.claim_document(&routines, ana).await.expect("claim");
    let (key, bytes) = incremental();
    storage.put_chunk(&routines, key, &bytes).await.expect("put");
    storage.put_chunk(&routines, key, &bytes).await.expect("put again");
    let chunks = storage.load_chunks(&routines).await.expect("load");
    assert_eq!(chunks.len(), 1);
    assert_eq!((chunks[0].key, &chunks[0].bytes), (key, &bytes));
}

async fn chunks_of_an_unclaimed_document_are_refused(db: TestDb) {
    let (key, bytes) = incremental();
    let result = db.storage().put_chunk(&doc("nobody-claimed-me"), key, &bytes).await;
    assert!(matches!(result, Err(StorageError::UnknownDocument)), "{result:?}");
}

async fn loading_returns_every_chunk_of_that_document_snapshots_first(db: TestDb) {
    let storage = db.storage();
    let ana = user(storage, "ana").await;
    let (mine, other) = (doc("mine"), doc("other"));
    storage.claim_document(&mine, ana).await.expect("claim");
    storage.claim_document(&other, ana).await.expect("claim");
    let mut expected = BTreeSet::new();
    for _ in 0..5 {
        let (key, bytes) = incremental();
        storage.put_chunk(&mine, key, &bytes).await.expect("put");
        expected.insert((key, bytes));
    }
    let big = random_bytes(3 * 1024 * 1024);
    let snapshot = ChunkKey::Snapshot(ContentHash::of_heads([b"head-a".as_slice(), b"head-b".as_slice()]));
    storage.put_chunk(&mine, snapshot, &big).await.expect("put a 3 MiB snapshot");
    expected.insert((snapshot, big));
    let (key, bytes) = incremental();
    storage.put_chunk(&other, key, &bytes).await.expect("put");

    let chunks = storage.load_chunks(&mine).await.expect("load");
    assert_eq!(chunks[0].key, snapshot, "snapshots come first");
    let loaded: BTreeSet<_> = chunks.into_iter().map(|c| (c.key, c.bytes)).collect();
    assert_eq!(loaded, expected);
    assert!(storage.load_chunks(&doc("never-stored")).await.expect("load").is_empty());
}

async fn compaction_deletes_only_the_chunks_it_was_given(db: TestDb) {
    let storage = db.storage();
    let ana = user(storage, "ana").await;
    let log = doc("log");
    storage.claim_document(&log, ana).await.expect("claim");
    for _ in 0..4 {
        let (key, bytes) = incremental();
        storage.put_chunk(&log, key, &bytes).await.expect("put");
    }
    let read: Vec<ChunkKey> = keys(storage, &log).await.into_iter().collect();
    // Another connection stores a change after the compactor read the document.
    let (late, late_bytes) = incremental();
    storage.put_chunk(&log, late, &late_bytes).await.expect("put late");

    let snapshot = ContentHash::of_heads([b"h1".as_slice()]);
    storage.compact(&log, snapshot, b"snapshot of four", &read).await.expect("compact");
    assert_eq!(keys(storage, &log).await, BTreeSet::from([ChunkKey::Snapshot(snapshot), late]));

    // Compacting again into a newer snapshot replaces the old one; listing the new snapshot's own
    // key among the replaced never deletes it.
    let newer = ContentHash::of_heads([b"h2".as_slice()]);
    let replaced = [ChunkKey::Snapshot(snapshot), late, ChunkKey::Snapshot(newer)];
    storage.compact(&log, newer, b"snapshot of five", &replaced).await.expect("compact again");
    let chunks = storage.load_chunks(&log).await.expect("load");
    assert_eq!(chunks.len(), 1);
    assert_eq!((chunks[0].key, chunks[0].bytes.as_slice()), (ChunkKey::Snapshot(newer), &b"snapshot of five"[..]));
}

async fn another_instance_reads_only_the_chunks_it_lacks(db: TestDb) {
    let storage = db.storage();
    let ana = user(storage, "ana").await;
    let log = doc("log");
    storage.claim_document(&log, ana).await.expect("claim");
    let mut written = Vec::new();
    for _ in 0..3 {
        let (key, bytes) = incremental();
        storage.put_chunk(&log, key, &bytes).await.expect("put");
        written.push((key, bytes));
    }
    let (known, fresh) = written.split_at(2);
    let known: Vec<ChunkKey> = known.iter().map(|(key, _)| *key).collect();
    assert_eq!(
        storage.chunk_keys(&log).await.expect("keys").into_iter().collect::<BTreeSet<_>>(),
        keys(storage, &log).await
    );
    assert_eq!(storage.chunk(&log, fresh[0].0).await.expect("chunk"), Some(fresh[0].1.clone()));

    let read = storage.load_chunks_except(&log, &known).await.expect("load the rest");
    assert_eq!(read.new.into_iter().map(|c| (c.key, c.bytes)).collect::<Vec<_>>(), fresh.to_vec());
    assert_eq!(read.stored.into_iter().collect::<BTreeSet<_>>(), keys(storage, &log).await);
    let all = storage.load_chunks_except(&log, &[]).await.expect("load all");
    assert_eq!((all.new.len(), all.stored.len()), (3, 3));

    // The chunks it knew are compacted away: it reads the snapshot that replaced them.
    let snapshot = ContentHash::of_heads([b"h1".as_slice()]);
    storage.compact(&log, snapshot, b"snapshot of two", &known).await.expect("compact");
    assert_eq!(storage.chunk(&log, known[0]).await.expect("chunk"), None);
    let mut known = known;
    known.push(fresh[0].0);
    let read = storage.load_chunks_except(&log, &known).await.expect("load the snapshot");
    assert_eq!(
        read.new.into_iter().map(|c| (c.key, c.bytes)).collect::<Vec<_>>(),
        vec![(ChunkKey::Snapshot(snapshot), b"snapshot of two".to_vec())]
    );
    // And it learns which of the chunks it knew are gone.
    assert_eq!(read.stored, vec![ChunkKey::Snapshot(snapshot), fresh[0].0]);
}

async fn compaction_racing_writers_loses_nothing(db: TestDb) {
    let storage = db.shared();
    let ana = user(&*storage, "ana").await;
    let log = doc("busy-log");
    storage.claim_document(&log, ana).await.expect("claim");
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let (storage, log) = (Arc::clone(&storage), log.clone());
            tokio::spawn(async move {
                let mut written = Vec::new();
                for _ in 0..25 {
                    let (key, bytes) = incremental();
                    storage.put_chunk(&log, key, &bytes).await.expect("put");
                    written.push(key);
                }
                written
            })
        })
        .collect();
    let compactor = {
        let (storage, log) = (Arc::clone(&storage), log.clone());
        tokio::spawn(async move {
            let mut replaced = BTreeSet::new();
            let mut snapshots = Vec::new();
            for round in 0..10u32 {
                let read: Vec<ChunkKey> = keys(&*storage, &log).await.into_iter().collect();
                let snapshot = ContentHash::of_heads([round.to_be_bytes().as_slice()]);
                storage.compact(&log, snapshot, &round.to_be_bytes(), &read).await.expect("compact");
                replaced.extend(read);
                snapshots.push(ChunkKey::Snapshot(snapshot));
                tokio::task::yield_now().await;
            }
            (replaced, snapshots)
        })
    };
    let mut written = Vec::new();
    for writer in writers {
        written.extend(writer.await.expect("writer"));
    }
    let (replaced, snapshots) = compactor.await.expect("compactor");
    let left = keys(&*storage, &log).await;
    for key in &written {
        assert!(left.contains(key) || replaced.contains(key), "{key:?} vanished without being compacted");
    }
    let last = snapshots.last().expect("ten rounds");
    assert!(left.contains(last), "the last snapshot survives");
}

async fn concurrent_writers_to_one_document_lose_nothing(db: TestDb) {
    let storage = db.shared();
    let ana = user(&*storage, "ana").await;
    let routines = doc("routines");
    storage.claim_document(&routines, ana).await.expect("claim");
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (storage, routines) = (Arc::clone(&storage), routines.clone());
            tokio::spawn(async move {
                let mut written = Vec::new();
                for _ in 0..20 {
                    let (key, bytes) = incremental();
                    storage.put_chunk(&routines, key, &bytes).await.expect("put");
                    written.push(key);
                }
                written
            })
        })
        .collect();
    let mut written = BTreeSet::new();
    for task in tasks {
        written.extend(task.await.expect("writer"));
    }
    assert_eq!(written.len(), 320);
    assert_eq!(keys(&*storage, &routines).await, written);
}

async fn a_taken_email_or_nickname_is_a_typed_conflict(db: TestDb) {
    let storage = db.storage();
    let first =
        NewUser {
            id: UserId::random(), email: "ana@example.com".into(), nickname: "아나".into(), password_hash: None
        };
    storage.create_user(&first).await.expect("create");
    let same_email = NewUser { id: UserId::random(), nickname: "other".into(), ..first.clone() };
    let result = storage.create_user(&same_email).await;
    assert!(matches!(result, Err(StorageError::EmailTaken)), "{result:?}");
    let same_nickname = NewUser { id: UserId::random(), email: "other@example.com".into(), ..first.clone() };
    let result = storage.create_user(&same_nickname).await;
    assert!(matches!(result, Err(StorageError::NicknameTaken)), "{result:?}");
    // Uniqueness is byte for byte on both backends; the auth layer normalises emails before.
    let other_case =
        NewUser { id: UserId::random(), email: "Ana@example.com".into(), nickname: "아나2".into(), ..first };
    storage.create_user(&other_case).await.expect("a different email");
}

async fn users_are_found_by_email_and_by_id(db: TestDb) {
    let storage = db.storage();
    let new =
        NewUser {
            id: UserId::random(), email: "bo@example.com".into(), nickname: "보🏃".into(), password_hash: None
        };
    let created = storage.create_user(&new).await.expect("create");
    assert_eq!((created.id, created.deleted_at, created.password_hash.as_deref()), (new.id, None, None));
    let by_email = storage.user_by_email("bo@example.com").await.expect("by email").expect("found");
    assert_eq!(by_email, created);
    let by_id = storage.user_by_id(new.id).await.expect("by id").expect("found");
    assert_eq!(by_id, created);
    assert_eq!(storage.user_by_email("nobody@example.com").await.expect("by email"), None);
    assert_eq!(storage.user_by_id(UserId::random()).await.expect("by id"), None);
}

async fn a_reopened_database_keeps_everything_and_migrates_once(db: TestDb) {
    let ana = user(db.storage(), "ana").await;
    let routines = doc("routines");
    db.storage().claim_document(&routines, ana).await.expect("claim");
    let (key, bytes) = incremental();
    db.storage().put_chunk(&routines, key, &bytes).await.expect("put");

    let reopened = storage::open(db.url()).await.expect("reopen runs no migration twice");
    assert_eq!(reopened.document_owner(&routines).await.expect("owner"), Some(ana));
    assert_eq!(keys(&*reopened, &routines).await, BTreeSet::from([key]));
    assert!(reopened.user_by_id(ana).await.expect("user").is_some());
    reopened.close().await;
}
