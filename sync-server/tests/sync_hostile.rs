//! Document sync against a hostile account: sync messages built to make the server allocate or
//! compute without bound (crafted bloom filters, deflate bombs, changes left waiting forever) are
//! refused as invalid, the connection closes with the protocol's code, and the server goes on
//! serving everyone else. Real automerge messages of the same kinds still sync.

#[path = "sync/client.rs"]
#[allow(dead_code)] // Helpers shared with `sync.rs`; not every one is used here.
mod client;

use automerge::sync::{BloomFilter, ChunkList, Have, Message as SyncMessage, MessageVersion};
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ChangeHash, ROOT, ReadDoc};
use mingizuk_core::wire::Message;
use mingizuk_server::sync::Limits;

use client::{Socket, close_of, document, next, push, push_with, send, server, server_with, sync_message};

/// Messages of at most this many bytes in the tests that need a small limit.
const SMALL_MESSAGES: usize = 64 * 1024;

/// A version 1 sync message (no flags) with the given parts.
fn raw_sync(heads: Vec<ChangeHash>, have: Vec<Have>, changes: Vec<Vec<u8>>) -> Vec<u8> {
    let message = SyncMessage {
        heads,
        need: Vec::new(),
        have,
        changes: ChunkList::from(changes),
        flags: None,
        version: MessageVersion::V1,
    };
    message.encode()
}

fn leb(mut value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// A bloom filter with the header given and `bits` bytes of bits, as automerge decodes it.
fn bloom(entries: u64, bits_per_entry: u64, probes: u64, bits: usize) -> BloomFilter {
    let mut bytes = [leb(entries), leb(bits_per_entry), leb(probes)].concat();
    bytes.extend(std::iter::repeat_n(0xff, bits));
    BloomFilter::try_from(&bytes[..]).expect("automerge's decoder takes the filter")
}

/// Sends `data` about document `id` and expects the server to refuse it as an invalid sync
/// message and close the connection.
async fn expect_refused(socket: &mut Socket, id: &str, data: Vec<u8>, what: &str) {
    send(socket, sync_message(id, data)).await;
    match next(socket).await {
        Some(Message::Error { message, .. }) => assert_eq!(message, "invalid_sync_message", "{what}"),
        other => panic!("{what}: expected the message refused, got {other:?}"),
    }
    assert_eq!(close_of(socket).await, (1002, "invalid_sync_message".into()), "{what}");
}

/// A new device's copy of document `id`, synced from the server.
async fn fetch(server: &client::Server, token: &str, id: &str) -> AutoCommit {
    let mut socket = server.connect(token).await;
    let mut copy = AutoCommit::new();
    push(&mut socket, id, &mut copy).await;
    copy
}

fn text_of(doc: &AutoCommit, key: &str) -> Option<String> {
    doc.get(ROOT, key).expect("read").map(|(value, _)| value.as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_sync_message_with_a_crafted_bloom_filter_is_refused_and_the_server_keeps_serving() {
    let server = server().await;
    let token = server.user("mingi").await;
    let (id, mut doc) = document();
    let mut socket = server.connect(&token).await;
    push(&mut socket, &id, &mut doc).await;

    let have = |bloom| vec![Have { last_sync: Vec::new(), bloom }];
    let crafted = [
        // 2³² probes per lookup: a 16 GiB allocation in automerge's `contains_hash`.
        ("four billion probes", have(bloom(1, 10, u64::from(u32::MAX), 2))),
        // Entries but no bits: automerge divides by the number of bits.
        ("no bits for its entries", have(bloom(1, 0, 7, 0))),
        ("a thousand bits per entry", have(bloom(1, 1000, 7, 125))),
        ("more have entries than any peer sends", vec![Have::default(); 17]),
    ];
    for (what, have) in crafted {
        let mut attacker = server.connect(&token).await;
        // Heads the server holds, so that it answers by looking changes up in the filter.
        expect_refused(&mut attacker, &id, raw_sync(doc.get_heads(), have, Vec::new()), what).await;
    }

    // The server is still up: another device gets the document.
    let mut copy = fetch(&server, &token, &id).await;
    assert_eq!(copy.get_heads(), doc.get_heads());
    assert_eq!(text_of(&copy, "title").as_deref(), Some("squats"));
}

/// A change setting `key` to `value` on top of `doc`, compressed as automerge compresses a change
/// above 256 bytes: a type-2 chunk.
fn compressed_change(doc: &mut AutoCommit, key: &str, value: &str) -> Vec<u8> {
    doc.put(ROOT, key, value).expect("put");
    doc.commit();
    let mut change = doc.get_last_local_change().expect("the change just made");
    let bytes = change.bytes().into_owned();
    assert_eq!(bytes[8], 2, "automerge compresses a change this large");
    bytes
}

#[tokio::test]
async fn a_compressed_change_that_inflates_past_the_limit_is_refused_and_the_server_keeps_serving() {
    let server = server_with(Limits { max_message_bytes: SMALL_MESSAGES, ..Limits::default() }).await;
    let token = server.user("mingi").await;
    let (id, mut doc) = document();
    let mut socket = server.connect(&token).await;
    push(&mut socket, &id, &mut doc).await;
    let before = doc.get_heads();

    // A valid change with a megabyte of text, a few kilobytes once compressed: more than a whole
    // message may carry, so more than it may inflate to.
    let bomb = compressed_change(&mut doc, "notes", &"z".repeat(1024 * 1024));
    assert!(bomb.len() < SMALL_MESSAGES / 4, "the compressed change fits in a message");
    let mut attacker = server.connect(&token).await;
    expect_refused(&mut attacker, &id, raw_sync(doc.get_heads(), Vec::new(), vec![bomb]), "a deflate bomb").await;

    let mut copy = fetch(&server, &token, &id).await;
    assert_eq!(copy.get_heads(), before, "the refused change is not kept");
    assert_eq!(text_of(&copy, "notes"), None);
}

#[tokio::test]
async fn a_compressed_change_within_the_limit_still_syncs() {
    let server = server_with(Limits { max_message_bytes: SMALL_MESSAGES, ..Limits::default() }).await;
    let token = server.user("mingi").await;
    let (id, mut doc) = document();
    let mut socket = server.connect(&token).await;
    let mut state = automerge::sync::State::new();
    push_with(&mut socket, &id, &mut doc, &mut state).await;

    let notes: String = (0..2_000).map(|i| format!("{i} squats. ")).collect();
    let change = compressed_change(&mut doc, "notes", &notes);
    send(&mut socket, sync_message(&id, raw_sync(doc.get_heads(), Vec::new(), vec![change]))).await;
    match next(&mut socket).await {
        Some(Message::Sync { data, .. }) => {
            let reply = SyncMessage::decode(&data).expect("sync message");
            assert_eq!(reply.heads, doc.get_heads(), "the server took the change");
        }
        other => panic!("expected the server's answer, got {other:?}"),
    }

    let copy = fetch(&server, &token, &id).await;
    assert_eq!(text_of(&copy, "notes"), Some(notes));
}

#[tokio::test]
async fn a_document_that_inflates_past_the_limit_is_refused_and_a_real_save_still_syncs() {
    let server = server_with(Limits { max_message_bytes: SMALL_MESSAGES, ..Limits::default() }).await;
    let token = server.user("mingi").await;

    // A whole save, as an automerge peer sends a document the server lacks, whose compressed
    // columns inflate to 4 MiB: past sixteen times the largest message.
    let (id, mut doc) = document();
    doc.put(ROOT, "notes", "z".repeat(4 * 1024 * 1024)).expect("put");
    doc.commit();
    let save = doc.save();
    assert!(save.len() < SMALL_MESSAGES / 4, "the save fits in a message");
    let mut socket = server.connect(&token).await;
    expect_refused(&mut socket, &id, raw_sync(doc.get_heads(), Vec::new(), vec![save]), "a document bomb").await;

    // A save whose columns are compressed, within the limit, syncs as before.
    let (id, mut doc) = document();
    let notes: String = (0..10_000).map(|i| format!("{i} squats. ")).collect();
    doc.put(ROOT, "notes", notes.as_str()).expect("put");
    doc.commit();
    let mut socket = server.connect(&token).await;
    push(&mut socket, &id, &mut doc).await;
    let mut copy = fetch(&server, &token, &id).await;
    assert_eq!(copy.get_heads(), doc.get_heads());
    assert_eq!(text_of(&copy, "notes"), Some(notes));
}

#[tokio::test]
async fn changes_left_waiting_for_a_missing_change_are_bounded_in_bytes() {
    let server = server_with(Limits { max_message_bytes: SMALL_MESSAGES, ..Limits::default() }).await;
    let token = server.user("mingi").await;
    let (id, mut doc) = document();
    let mut socket = server.connect(&token).await;
    push(&mut socket, &id, &mut doc).await;

    // A change the server never gets, then changes on top of it, each sent alone: they can only
    // wait, and those waiting may not take more than two messages' worth of bytes.
    doc.put(ROOT, "reps", 1).expect("put");
    doc.commit();
    let waiting: Vec<Vec<u8>> = (0..6)
        .map(|i| {
            doc.put(ROOT, "notes", format!("{i} {}", "squats ".repeat(4_000))).expect("put");
            doc.commit();
            doc.get_last_local_change().expect("change").raw_bytes().to_vec()
        })
        .collect();
    let mut attacker = server.connect(&token).await;
    let (mut sent, mut refused) = (0, false);
    for change in waiting {
        sent += change.len();
        send(&mut attacker, sync_message(&id, raw_sync(doc.get_heads(), Vec::new(), vec![change]))).await;
        match next(&mut attacker).await {
            Some(Message::Sync { .. }) => assert!(sent <= 2 * SMALL_MESSAGES, "{sent} bytes wait"),
            Some(Message::Error { message, .. }) => {
                assert_eq!(message, "invalid_sync_message");
                assert!(sent > 2 * SMALL_MESSAGES, "refused with only {sent} bytes waiting");
                assert_eq!(close_of(&mut attacker).await, (1002, "invalid_sync_message".into()));
                refused = true;
                break;
            }
            other => panic!("expected an answer, got {other:?}"),
        }
    }
    assert!(refused, "{sent} bytes of changes wait for one that never comes");

    // The document itself is fine: the whole history, in order, syncs.
    let mut device = server.connect(&token).await;
    let mut fresh = AutoCommit::new();
    fresh.merge(&mut doc).expect("merge");
    push(&mut device, &id, &mut fresh).await;
    let mut copy = fetch(&server, &token, &id).await;
    assert_eq!(copy.get_heads(), doc.get_heads());
}

#[tokio::test]
async fn a_frame_of_countless_tiny_items_is_refused_before_it_is_decoded_and_the_server_keeps_serving() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message as Frame;

    let server = server().await;
    let token = server.user("mingi").await;
    let (id, mut doc) = document();
    let mut socket = server.connect(&token).await;
    push(&mut socket, &id, &mut doc).await;
    // A sync message whose map holds four million nulls: 4 MB on the wire, far more as a tree.
    let mut frame = sync_message(&id, Vec::new()).encode();
    frame[0] += 1; // one more entry in the map
    frame.extend([0x64, b'p', b'a', b'd', b's', 0x9a, 0x00, 0x40, 0x00, 0x00]);
    frame.extend(std::iter::repeat_n(0xf6, 4 << 20));
    let mut attacker = server.connect(&token).await;
    attacker.send(Frame::Binary(frame.into())).await.expect("send");
    assert!(matches!(next(&mut attacker).await, Some(Message::Error { message, .. }) if message == "invalid_message"));
    assert_eq!(close_of(&mut attacker).await, (1002, "invalid_message".into()));
    let mut copy = fetch(&server, &token, &id).await;
    assert_eq!(copy.get_heads(), doc.get_heads());
}

#[tokio::test]
async fn an_account_holds_a_bounded_number_of_sync_connections_and_gets_them_back_as_they_close() {
    let server = server().await;
    let token = server.user("mingi").await;
    let bearer = [("authorization", format!("Bearer {token}"))];
    let mut open = Vec::new();
    for _ in 0..mingizuk_server::sync::MAX_CONNECTIONS_PER_ACCOUNT {
        open.push(server.open("", &bearer).await.expect("a device's connection opens"));
    }
    assert_eq!(server.open("", &bearer).await.err(), Some((429, "too_many_connections".into())));
    // Another account is not counted with it.
    let other = server.user("other").await;
    assert!(server.open("", &[("authorization", format!("Bearer {other}"))]).await.is_ok());
    let mut closed = open.pop().expect("one");
    closed.close(None).await.expect("close");
    while futures_util::StreamExt::next(&mut closed).await.is_some() {}
    let mut again = None;
    for _ in 0..100 {
        match server.open("", &bearer).await {
            Ok(socket) => {
                again = Some(socket);
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
    assert!(again.is_some(), "the closed connection's place is given back");
}

#[tokio::test]
async fn a_peer_id_that_is_a_payload_rather_than_a_name_is_refused_at_join() {
    let server = server().await;
    let token = server.user("mingi").await;
    let bearer = [("authorization", format!("Bearer {token}"))];
    let mut socket = server.open("", &bearer).await.expect("upgrade");
    // Passed on with every ephemeral message to the account's other connections, and logged.
    let join = Message::Join {
        sender_id: "p".repeat(mingizuk_server::sync::MAX_NAME_BYTES + 1),
        supported_protocol_versions: vec!["1".into()],
        peer_metadata: None,
    };
    send(&mut socket, join).await;
    assert_eq!(close_of(&mut socket).await, (1002, "invalid_peer_id".into()));
    // A name of the longest length is fine.
    let mut socket = server.open("", &bearer).await.expect("upgrade");
    let sender_id = "p".repeat(mingizuk_server::sync::MAX_NAME_BYTES);
    send(&mut socket, Message::Join { sender_id, supported_protocol_versions: vec!["1".into()], peer_metadata: None })
        .await;
    assert!(matches!(next(&mut socket).await, Some(Message::Peer { .. })));
}
