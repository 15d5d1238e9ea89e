#![allow(clippy::unwrap_used)]

use super::*;

async fn number(conn: &mut sqlx::SqliteConnection, pragma: &'static str) -> i64 {
    sqlx::query_scalar(pragma).fetch_one(&mut *conn).await.unwrap()
}

/// What keeps an acknowledged write on disk, and what the benchmarks were measured with, holds on
/// every connection of the pool (the writers take theirs from it), not only on the first one.
#[tokio::test]
async fn every_connection_commits_durably_through_the_wal_with_the_measured_settings() {
    let dir = tempfile::tempdir().unwrap();
    let storage = SqliteStorage::open(dir.path().join("server.sqlite").to_str().unwrap()).await.unwrap();
    let mut held = Vec::new();
    for _ in 0..MAX_CONNECTIONS {
        held.push(storage.pool.acquire().await.unwrap());
    }
    for conn in &mut held {
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut **conn).await.unwrap();
        assert_eq!(journal, "wal");
        assert_eq!(number(conn, "PRAGMA synchronous").await, 2, "FULL: the WAL is synced at every commit");
        assert_eq!(number(conn, "PRAGMA foreign_keys").await, 1);
        assert_eq!(number(conn, "PRAGMA temp_store").await, 2, "statement journals in memory");
        assert_eq!(number(conn, "PRAGMA wal_autocheckpoint").await.to_string(), WAL_CHECKPOINT_PAGES);
        assert_eq!(number(conn, "PRAGMA cache_size").await.to_string(), POOL_CACHE_KIB);
        assert_eq!(u128::try_from(number(conn, "PRAGMA busy_timeout").await).unwrap(), BUSY_TIMEOUT.as_millis());
    }
}

/// What the writers commit is copied into the database file itself within moments, by the
/// checkpoint task, not only when a writer's commit finds the WAL full.
#[tokio::test]
async fn what_the_writers_commit_reaches_the_database_file_without_waiting_for_the_wal_to_fill() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.sqlite");
    let storage = SqliteStorage::open(file.to_str().unwrap()).await.unwrap();
    let user = NewUser {
        id: UserId::random(),
        email: "ana@example.com".to_owned(),
        nickname: "ana".to_owned(),
        password_hash: None,
    };
    storage.create_user(&user).await.unwrap();
    let doc = DocumentId::new("routines").unwrap();
    storage.claim_document(&doc, user.id).await.unwrap();
    let marker = b"a chunk only the checkpoint copies into the database file".to_vec();
    storage.put_chunk(&doc, ChunkKey::Incremental(ContentHash::of(&marker)), &marker).await.unwrap();

    let in_file = || std::fs::read(&file).unwrap().windows(marker.len()).any(|w| w == marker.as_slice());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !in_file() {
        assert!(tokio::time::Instant::now() < deadline, "the chunk is still only in the WAL after 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Once the writers are quiet, the WAL file shrinks to nothing (SQLite never shrinks it by itself,
/// so after a burst of load it would keep its largest size), and what was written stays: the chat
/// writer's messages are in the database file itself.
#[tokio::test]
async fn a_quiet_servers_wal_file_shrinks_to_nothing_and_keeps_every_message() {
    use crate::storage::chat::{ChatStore, MessageKind, NewMessage, Posted, Sender};
    use crate::storage::meetups::{MeetupStore, NewMeetup};

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.sqlite");
    let wal = dir.path().join("server.sqlite-wal");
    let storage = SqliteStorage::open(file.to_str().unwrap()).await.unwrap();
    let host = NewUser {
        id: UserId::random(),
        email: "bo@example.com".to_owned(),
        nickname: "bo".to_owned(),
        password_hash: None,
    };
    storage.create_user(&host).await.unwrap();
    let now = Utc::now();
    let meetup = storage
        .create_meetup(&NewMeetup {
            host: host.id,
            title: "한강 러닝".into(),
            contents: "토요일 아침 5km".into(),
            starts_at: now,
            ends_at: now + chrono::Duration::hours(2),
            member_limit: None,
            image_id: None,
            place_name: "여의나루역".into(),
            address: "서울특별시 영등포구 여의동로 343".into(),
            lat: 37.5271,
            lng: 126.9326,
            region: "서울특별시 영등포구".into(),
        })
        .await
        .unwrap()
        .meetup
        .id;
    let sender = Sender { id: host.id, nickname: host.nickname.clone() };
    let texts: Vec<String> = (0..200).map(|i| format!("a message the WAL must not lose #{i:03}")).collect();
    let batch: Vec<NewMessage<'_>> = texts
        .iter()
        .map(|text| NewMessage {
            meetup_id: meetup,
            kind: MessageKind::Text,
            sender: &sender,
            client_id: Some(uuid::Uuid::new_v4()),
            text,
        })
        .collect();
    let posted = storage.post_messages(&batch).await.unwrap();
    assert!(posted.iter().all(|p| matches!(p, Posted::Stored(_))), "{posted:?}");
    assert!(std::fs::metadata(&wal).unwrap().len() > 0, "the messages were committed through the WAL");

    let last = texts.last().unwrap().as_bytes();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let in_file = std::fs::read(&file).unwrap().windows(last.len()).any(|w| w == last);
        if in_file && std::fs::metadata(&wal).unwrap().len() == 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the WAL file still holds pages 30 s after the last write");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stored = storage.messages_after(meetup, 0, 500).await.unwrap();
    let stored: Vec<&str> = stored.iter().filter(|m| m.kind == MessageKind::Text).map(|m| m.text.as_str()).collect();
    assert_eq!(stored, texts.iter().map(String::as_str).collect::<Vec<_>>());
}
