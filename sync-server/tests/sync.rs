//! Document sync seen from a raw WebSocket client on 127.0.0.1: who may open `/v1/sync` (bearer
//! token, single-use ticket, allowed origins), what a connection may do (its own documents only,
//! size and rate limits, the join handshake, a device that stops reading), and that a storage
//! failure is reported, never swallowed, so a peer is never told about a change the database does
//! not hold.

#[path = "sync/client.rs"]
mod client;

use automerge::sync::SyncDoc;
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT, ReadDoc};
use futures_util::{SinkExt, StreamExt};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mingizuk_core::wire::{self, Message};
use mingizuk_server::auth::{AUDIENCE, ISSUER};
use mingizuk_server::storage::{ChunkKey, DocumentId};
use mingizuk_server::sync::{COMPACT_AFTER_CHUNKS, Limits};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Frame;

use client::{
    SECRET, answer, close_of, document, join, next, push, push_with, send, server, server_with, sync_message,
};

/// Asks for document `id` as a device that holds nothing of it does (a `request` message).
async fn ask_for(socket: &mut client::Socket, id: &str) {
    let request = AutoCommit::new().sync().generate_sync_message(&mut automerge::sync::State::new());
    let data = request.expect("first message").encode();
    send(socket, Message::Request { sender_id: "x".into(), target_id: "s".into(), document_id: id.into(), data }).await;
}

/// Syncs a new copy of document `id` from what the server sends until it has `heads`.
async fn pull(socket: &mut client::Socket, id: &str, heads: Vec<automerge::ChangeHash>) -> AutoCommit {
    let mut copy = AutoCommit::new();
    let mut state = automerge::sync::State::new();
    while copy.get_heads() != heads {
        match next(socket).await {
            Some(Message::Sync { document_id, data, .. }) if document_id == id => {
                answer(socket, id, &mut copy, &mut state, &data).await;
            }
            other => panic!("expected the document, got {other:?}"),
        }
    }
    copy
}

#[tokio::test]
async fn a_connection_needs_a_valid_token_or_ticket() {
    let server = server().await;
    let token = server.user("mingi").await;
    assert_eq!(server.open("", &[]).await.err(), Some((401, "unauthenticated".into())));
    let bearer = |t: &str| vec![("authorization", format!("Bearer {t}"))];
    assert_eq!(server.open("", &bearer("not-a-jwt")).await.err(), Some((401, "invalid_token".into())));

    let now = chrono::Utc::now().timestamp();
    let claims = |exp: i64, aud: &str| json!({ "sub": uuid::Uuid::new_v4().to_string(), "exp": exp, "iat": now - 10, "iss": ISSUER, "aud": aud, "typ": "access" });
    let sign = |claims: &Value, secret: &str| {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret.as_bytes()))
            .expect("sign")
    };
    let forged = sign(&claims(now + 600, AUDIENCE), "some-other-secret-of-enough-length!!");
    assert_eq!(server.open("", &bearer(&forged)).await.err(), Some((401, "invalid_token".into())));
    let expired = sign(&claims(now - 600, AUDIENCE), SECRET);
    assert_eq!(server.open("", &bearer(&expired)).await.err(), Some((401, "token_expired".into())));
    let other_audience = sign(&claims(now + 600, "somebody-else"), SECRET);
    assert_eq!(server.open("", &bearer(&other_audience)).await.err(), Some((401, "invalid_token".into())));
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let unsigned =
        format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), b64(&claims(now + 600, AUDIENCE).to_string()));
    assert_eq!(server.open("", &bearer(&unsigned)).await.err(), Some((401, "invalid_token".into())));

    // A ticket opens exactly one connection.
    let ticket = server.state.sync.tickets.issue(server.state.auth.keys.verify_access(&token).expect("valid"));
    let mut socket = server.open(&format!("?ticket={ticket}"), &[]).await.expect("a fresh ticket opens");
    send(&mut socket, join()).await;
    assert!(matches!(next(&mut socket).await, Some(Message::Peer { .. })));
    assert_eq!(server.open(&format!("?ticket={ticket}"), &[]).await.err(), Some((401, "invalid_ticket".into())));
    assert_eq!(server.open("?ticket=made-up", &[]).await.err(), Some((401, "invalid_ticket".into())));
}

#[tokio::test]
async fn web_pages_must_come_from_an_allowed_origin() {
    let server = server().await;
    let token = server.user("mingi").await;
    let with_origin = |origin: &str| vec![("authorization", format!("Bearer {token}")), ("origin", origin.to_owned())];
    assert_eq!(
        server.open("", &with_origin("https://evil.example")).await.err(),
        Some((403, "origin_not_allowed".into()))
    );
    assert!(server.open("", &with_origin("https://app.mingizuk.example")).await.is_ok());
}

#[tokio::test]
async fn a_user_reaches_only_their_own_documents() {
    let server = server().await;
    let mingi = server.user("mingi").await;
    let muneo = server.user("muneo").await;
    let (id, mut doc) = document();
    let mut socket = server.connect(&mingi).await;
    push(&mut socket, &id, &mut doc).await;

    // Muneo asks for it, and offers changes to it: both look like a document that does not exist.
    let mut other = server.connect(&muneo).await;
    ask_for(&mut other, &id).await;
    assert!(matches!(next(&mut other).await, Some(Message::DocUnavailable { document_id, .. }) if document_id == id));
    let (_, mut intruder) = document();
    let seen = push(&mut other, &id, &mut intruder).await;
    assert!(matches!(seen.last(), Some(Message::DocUnavailable { .. })), "{seen:?}");
    // An id nobody stored is unavailable to a request the same way.
    let unknown = wire::document_id(uuid::Uuid::new_v4());
    ask_for(&mut other, &unknown).await;
    assert!(matches!(next(&mut other).await, Some(Message::DocUnavailable { .. })));

    // Mingi's document is untouched and still theirs.
    let mut again = server.connect(&mingi).await;
    let mut fresh = AutoCommit::new();
    push(&mut again, &id, &mut fresh).await;
    assert_eq!(fresh.get_heads(), doc.get_heads());
}

#[tokio::test]
async fn a_connection_starts_with_join_and_speaks_binary_frames() {
    let server = server().await;
    let token = server.user("mingi").await;
    let bearer = vec![("authorization", format!("Bearer {token}"))];
    let mut socket = server.open("", &bearer).await.expect("upgrade");
    let (id, _) = document();
    send(&mut socket, sync_message(&id, vec![0x42])).await;
    assert_eq!(close_of(&mut socket).await, (1002, "join_expected".into()));

    let mut socket = server.open("", &bearer).await.expect("upgrade");
    socket.send(Frame::Text("{\"type\":\"join\"}".into())).await.expect("send");
    assert_eq!(close_of(&mut socket).await, (1003, "binary_frames_only".into()));

    let mut socket = server.connect(&token).await;
    socket.send(Frame::Binary(vec![0xff, 0x00, 0x13].into())).await.expect("send");
    assert!(matches!(next(&mut socket).await, Some(Message::Error { message, .. }) if message == "invalid_message"));
}

#[tokio::test]
async fn oversized_messages_and_floods_close_the_connection() {
    let limits = Limits { max_message_bytes: 4096, messages_per_second: 5.0, burst: 20.0, ..Limits::default() };
    let server = server_with(limits).await;
    let token = server.user("mingi").await;
    let mut socket = server.connect(&token).await;
    let (id, _) = document();
    send(&mut socket, sync_message(&id, vec![0; 6000])).await;
    assert_eq!(close_of(&mut socket).await, (1009, "message_too_large".into()));
    // Past what the transport reads at all (twice the cap): the same code and reason.
    let mut socket = server.connect(&token).await;
    send(&mut socket, sync_message(&id, vec![0; 3 * 4096])).await;
    assert_eq!(close_of(&mut socket).await, (1009, "message_too_large".into()));

    let mut socket = server.connect(&token).await;
    for _ in 0..40 {
        if socket.send(Frame::Binary(Message::Other { kind: "noop".into() }.encode().into())).await.is_err() {
            break;
        }
    }
    assert_eq!(close_of(&mut socket).await, (1008, "rate_limited".into()));
}

#[tokio::test]
async fn a_storage_failure_is_reported_and_never_acknowledged() {
    let server = server().await;
    let token = server.user("mingi").await;
    let (id, mut doc) = document();
    let mut socket = server.connect(&token).await;
    push(&mut socket, &id, &mut doc).await;

    // The disk refuses writes to chunks from now on (a trigger, set through a second connection).
    let database = sqlx::SqlitePool::connect(server.state.config.database_url.expose()).await.expect("open");
    sqlx::query("CREATE TRIGGER refuse BEFORE INSERT ON chunks BEGIN SELECT RAISE(FAIL, 'disk full'); END")
        .execute(&database)
        .await
        .expect("trigger");
    doc.put(ROOT, "reps", 12).expect("put");
    doc.commit();
    let new_head = doc.get_heads();
    let seen = push(&mut socket, &id, &mut doc).await;
    for message in &seen {
        if let Message::Sync { data, .. } = message {
            let heads = automerge::sync::Message::decode(data).expect("sync message").heads;
            assert!(
                new_head.iter().all(|h| !heads.contains(h)),
                "no sync message may claim a change the server could not store"
            );
        }
    }
    assert!(matches!(seen.last(), Some(Message::Error { message, .. }) if message == "storage_failed"), "{seen:?}");
    assert_eq!(close_of(&mut socket).await, (1011, "storage_failed".into()));

    // Another device of the account sees only what was stored.
    sqlx::query("DROP TRIGGER refuse").execute(&database).await.expect("drop trigger");
    let mut reader = server.connect(&token).await;
    let mut fresh = AutoCommit::new();
    push(&mut reader, &id, &mut fresh).await;
    assert!(fresh.get(ROOT, "reps").expect("read").is_none(), "the failed change must not be served");
    assert_eq!(fresh.get(ROOT, "title").expect("read").map(|(v, _)| v.to_string()), Some("\"squats\"".into()));
}

#[tokio::test]
async fn silent_connections_time_out_and_idle_documents_leave_memory() {
    let limits = Limits {
        idle_timeout: std::time::Duration::from_millis(300),
        ping_interval: std::time::Duration::from_millis(100),
        ..Limits::default()
    };
    let server = server_with(limits).await;
    let token = server.user("mingi").await;
    let (id, mut doc) = document();
    let mut socket = server.connect(&token).await;
    push(&mut socket, &id, &mut doc).await;
    assert_eq!(server.state.sync.hub.resident(), 1, "a document being synced is in memory");

    // Not reading means not answering pings: the server gives up on the connection.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(5), socket.next()).await.expect("closed in time") {
            Some(Ok(Frame::Close(Some(frame)))) => {
                assert_eq!(frame.reason.as_str(), "idle_timeout");
                break;
            }
            Some(Ok(Frame::Close(None))) => break,
            Some(Ok(_)) => continue,
            // The server may be gone before our late pong goes out: closed all the same.
            Some(Err(_)) | None => break,
        }
    }
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while server.state.sync.hub.resident() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "the idle document stays in memory");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A device that stops reading for good is cut off once a message to it has waited the write
/// timeout, and lets go of its documents: it does not hold them, its task and its socket buffers
/// for as long as TCP keeps the connection open.
#[tokio::test]
async fn a_device_that_stops_reading_for_good_is_cut_off() {
    let write_timeout = std::time::Duration::from_secs(1);
    // A reader of 1 GB/s adds nothing to the timeout for the size of the message.
    let server = server_with(Limits { write_timeout, min_read_rate: 1e9, ..Limits::default() }).await;
    let token = server.user("mingi").await;
    let (id, mut doc) = document();
    let mut stalled = server.connect_narrow(&token).await;
    push(&mut stalled, &id, &mut doc).await;

    // Another device adds 8 MB that cannot be compressed: the server's message to the stalled
    // device is larger than the sockets' buffers (up to 4 MB each way here).
    let mut other = server.connect(&token).await;
    let mut copy = doc.fork();
    let mut noise = vec![0u8; 8 << 20];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut noise);
    copy.put(ROOT, "photo", automerge::ScalarValue::Bytes(noise)).expect("put");
    copy.commit();
    push(&mut other, &id, &mut copy).await;
    drop(other);

    let deadline = tokio::time::Instant::now() + write_timeout * 20;
    while server.state.sync.hub.resident() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "the stalled device still holds the document");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    drop(stalled);
}

#[tokio::test]
async fn a_deleted_account_cannot_sync_with_a_token_it_still_holds() {
    let server = server().await;
    let token = server.user("mingi").await;
    let user = server.state.auth.keys.verify_access(&token).expect("valid");
    server.state.auth.delete_account(&*server.state.storage, user).await.expect("delete");
    let bearer = vec![("authorization", format!("Bearer {token}"))];
    assert_eq!(server.open("", &bearer).await.err(), Some((401, "invalid_token".into())));
}

#[tokio::test]
async fn a_connection_open_when_its_account_is_deleted_is_closed() {
    let limits = Limits { account_recheck: std::time::Duration::from_millis(200), ..Limits::default() };
    let server = server_with(limits).await;
    let token = server.user("mingi").await;
    let mut socket = server.connect(&token).await;
    let user = server.state.auth.keys.verify_access(&token).expect("valid");
    server.state.auth.delete_account(&*server.state.storage, user).await.expect("delete");
    assert_eq!(close_of(&mut socket).await, (1008, "account_deleted".into()));
}

#[tokio::test]
async fn ephemeral_messages_reach_the_users_other_connections_on_the_document() {
    let server = server().await;
    let token = server.user("mingi").await;
    let (id, mut doc) = document();
    let mut phone = server.connect(&token).await;
    push(&mut phone, &id, &mut doc).await;
    let mut laptop = server.connect(&token).await;
    let mut copy = AutoCommit::new();
    push(&mut laptop, &id, &mut copy).await;

    let presence = |document_id: &str| Message::Ephemeral {
        sender_id: "someone-else".into(),
        target_id: "server".into(),
        document_id: document_id.into(),
        session_id: "session-1".into(),
        count: 7,
        data: b"{\"cursor\":3}".to_vec(),
    };
    send(&mut phone, presence(&id)).await;
    match next(&mut laptop).await {
        Some(Message::Ephemeral { sender_id, target_id, document_id, session_id, count, data }) => {
            assert_eq!(sender_id, "test-peer", "the sender is who joined, not who the message names");
            assert_eq!(target_id, "test-peer");
            assert_eq!((document_id, session_id, count), (id.clone(), "session-1".to_owned(), 7));
            assert_eq!(data, b"{\"cursor\":3}".to_vec());
        }
        other => panic!("expected the ephemeral message, got {other:?}"),
    }

    // A connection that does not sync the document cannot speak on it.
    let mut stranger = server.connect(&server.user("muneo").await).await;
    send(&mut stranger, presence(&id)).await;
    let (other, _) = document();
    send(&mut phone, presence(&other)).await;
    let quiet = tokio::time::timeout(std::time::Duration::from_millis(300), laptop.next()).await;
    assert!(quiet.is_err(), "nothing else reaches the laptop: {quiet:?}");
}

#[tokio::test]
async fn a_device_that_asked_for_a_document_too_early_receives_it_once_another_device_stores_it() {
    // The laptop read the document's id in the account before the phone's changes reached the
    // server: its request is answered "unavailable", and it must still hear of the document.
    let server = server().await;
    let token = server.user("mingi").await;
    let (id, mut doc) = document();
    let mut laptop = server.connect(&token).await;
    ask_for(&mut laptop, &id).await;
    assert!(matches!(next(&mut laptop).await, Some(Message::DocUnavailable { document_id, .. }) if document_id == id));

    let mut phone = server.connect(&token).await;
    push(&mut phone, &id, &mut doc).await;

    // The server offers the laptop the document unasked; the laptop syncs it to the end.
    let copy = pull(&mut laptop, &id, doc.get_heads()).await;
    assert_eq!(copy.get(ROOT, "title").expect("read").map(|(v, _)| v.to_string()), Some("\"squats\"".into()));
}

#[tokio::test]
async fn a_document_of_many_small_syncs_is_compacted_and_a_new_device_still_receives_all_of_it() {
    // A phone that syncs after every completion stores a chunk per change; past the threshold the
    // server folds them into one snapshot, and nothing of the document is lost on the way.
    let server = server().await;
    let token = server.user("gomi").await;
    let (id, mut doc) = document();
    let mut phone = server.connect(&token).await;
    let mut session = automerge::sync::State::new();
    let changes = COMPACT_AFTER_CHUNKS + 20;
    for n in 0..changes {
        doc.put(ROOT, "count", i64::try_from(n).expect("small")).expect("put");
        doc.commit();
        push_with(&mut phone, &id, &mut doc, &mut session).await;
    }
    // The compaction runs in the background, after the change that made it due was answered.
    let doc_id = DocumentId::new(id.clone()).expect("id");
    let compacted = async {
        loop {
            let stored = server.state.storage.load_chunks(&doc_id).await.expect("chunks");
            if stored.iter().any(|chunk| matches!(chunk.key, ChunkKey::Snapshot(_))) {
                return stored;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    let stored =
        tokio::time::timeout(std::time::Duration::from_secs(10), compacted).await.expect("a snapshot was stored");
    assert!(stored.len() < changes / 2, "{} chunks left of {changes} syncs", stored.len());
    // Storage alone holds all of it (the laptop below may be served from memory): what any other
    // instance, or this one after a restart, loads.
    let bytes: Vec<u8> = stored.iter().flat_map(|chunk| chunk.bytes.iter().copied()).collect();
    assert_eq!(automerge::Automerge::load(&bytes).expect("the stored chunks load").get_heads(), doc.get_heads());

    let mut laptop = server.connect(&token).await;
    ask_for(&mut laptop, &id).await;
    let copy = pull(&mut laptop, &id, doc.get_heads()).await;
    let last = i64::try_from(changes - 1).expect("small");
    assert_eq!(copy.get(ROOT, "count").expect("read").and_then(|(v, _)| v.as_i64()), Some(last));
}
