//! The sync task against fake servers on 127.0.0.1 that misbehave the way a dead network does: one
//! that accepts the WebSocket, answers `join` and then says nothing more, ever; one that accepts
//! the TCP connection and never answers the upgrade. Either way the task must give the connection
//! up and connect again. And one that sends a large message slower than the silence limit: the
//! connection is kept while its bytes come.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::TcpListener;

use super::*;
use crate::sync::{ServerApi, Session, TokenStore, UserInfo};

/// Short enough for a test, long enough for a loopback connection.
const QUICK: Liveness = Liveness { connect_within: Duration::from_millis(500), silent_for: Duration::from_millis(500) };
/// How long a test waits for the task to connect again.
const PATIENCE: Duration = Duration::from_secs(10);

/// A signed-in device of a server at `url` (which is never asked to refresh the token).
async fn device(url: &str, dir: &std::path::Path) -> (Arc<Engine>, Arc<Credentials>) {
    let clock = Arc::new(crate::ManualClock::new(1_793_577_600_000, 9 * 60));
    let engine = Arc::new(Engine::open(&dir.join("device.sqlite"), clock).await.unwrap());
    let credentials = Arc::new(Credentials::new(ServerApi::new(url).unwrap(), TokenStore::in_dir(dir)).unwrap());
    let user =
        UserInfo { id: "u1".into(), email: "mingi@example.com".into(), nickname: "밍기".into(), provider: None };
    let session = Session {
        server: url.into(),
        user,
        account_root: uuid::Uuid::from_u128(7),
        access_token: "access".into(),
        refresh_token: "refresh".into(),
        access_expires_at_ms: i64::MAX,
    };
    credentials.set(session).await.unwrap();
    (engine, credentials)
}

/// A server that accepts the sync WebSocket and answers `join`, then goes silent with its side of
/// every connection left open; counts the connections.
async fn answers_join_then_goes_silent() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let counted = counted.clone();
            tokio::spawn(async move {
                let mut socket = tokio_tungstenite::accept_async(stream).await.unwrap();
                counted.fetch_add(1, Ordering::SeqCst);
                while let Some(Ok(frame)) = socket.next().await {
                    if let Frame::Binary(bytes) = frame
                        && let Ok(Message::Join { sender_id, .. }) = Message::decode(&bytes)
                    {
                        let peer = Message::Peer {
                            sender_id: "server".into(),
                            target_id: sender_id,
                            selected_protocol_version: wire::PROTOCOL_VERSION.into(),
                            peer_metadata: None,
                        };
                        socket.send(Frame::Binary(peer.encode().into())).await.unwrap();
                        break;
                    }
                }
                // Never read, never ping, never close: a connection the network let die quietly.
                std::future::pending::<()>().await;
                drop(socket);
            });
        }
    });
    (url, connections)
}

/// A silence limit a loaded test machine keeps to, shorter than a large message takes below.
const SLOW_LINK: Liveness = Liveness { connect_within: Duration::from_secs(2), silent_for: Duration::from_secs(1) };

/// A server that accepts the sync WebSocket and answers `join`, then sends one large message (a
/// sync message of a document this device does not have: read, then let be) a piece every 100 ms
/// for 3 s, three times `SLOW_LINK`'s silence limit, then goes silent with its side of the
/// connection left open. Counts the connections, and those the message was written whole on.
async fn answers_join_then_trickles_a_large_message() -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (connections, whole) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (counted, written) = (connections.clone(), whole.clone());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (counted, written) = (counted.clone(), written.clone());
            tokio::spawn(async move {
                let mut socket = tokio_tungstenite::accept_async(stream).await.unwrap();
                counted.fetch_add(1, Ordering::SeqCst);
                let peer = loop {
                    let Some(Ok(Frame::Binary(bytes))) = socket.next().await else { return };
                    if let Ok(Message::Join { sender_id, .. }) = Message::decode(&bytes) {
                        break sender_id;
                    }
                };
                let answer = Message::Peer {
                    sender_id: "server".into(),
                    target_id: peer.clone(),
                    selected_protocol_version: wire::PROTOCOL_VERSION.into(),
                    peer_metadata: None,
                };
                socket.send(Frame::Binary(answer.encode().into())).await.unwrap();
                let large = Message::Sync {
                    sender_id: "server".into(),
                    target_id: peer,
                    document_id: "someone-elses-document".into(),
                    data: vec![7; 256 * 1024],
                };
                let every = Duration::from_millis(100);
                if crate::social::socket::tests::trickle_frame(socket.get_mut(), 2, &large.encode(), 30, every).await {
                    written.fetch_add(1, Ordering::SeqCst);
                }
                std::future::pending::<()>().await;
                drop(socket);
            });
        }
    });
    (url, connections, whole)
}

/// A listener that accepts TCP connections and never answers on them (nor closes them); counts
/// them.
async fn never_answers() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    (url, connections)
}

async fn reaches(connections: &AtomicUsize, count: usize) -> bool {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while connections.load(Ordering::SeqCst) < count {
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

#[tokio::test]
async fn a_sync_connection_that_goes_silent_is_given_up_and_made_again() {
    let dir = tempfile::tempdir().unwrap();
    let (url, connections) = answers_join_then_goes_silent().await;
    let (engine, credentials) = device(&url, dir.path()).await;
    let handle = start_with(engine, credentials, QUICK);
    let mut status = handle.status();
    assert!(reaches(&connections, 1).await, "the task connects");
    tokio::time::timeout(PATIENCE, status.wait_for(|s| s.phase == SyncPhase::Syncing)).await.unwrap().unwrap();
    let offline = tokio::time::timeout(PATIENCE, status.wait_for(|s| s.phase == SyncPhase::Offline)).await;
    let offline = offline.expect("the silent connection is given up").unwrap().clone();
    assert_eq!(offline.last_error.as_deref(), Some("network_failed"));
    assert!(reaches(&connections, 2).await, "and made again");
    handle.stop().await;
}

#[tokio::test]
async fn a_large_message_arriving_slower_than_the_silence_limit_keeps_the_sync_connection() {
    let dir = tempfile::tempdir().unwrap();
    let (url, connections, whole) = answers_join_then_trickles_a_large_message().await;
    let (engine, credentials) = device(&url, dir.path()).await;
    let handle = start_with(engine, credentials, SLOW_LINK);
    assert!(reaches(&whole, 1).await, "the message is written whole");
    assert_eq!(connections.load(Ordering::SeqCst), 1, "the connection was kept while the message came");
    assert_eq!(handle.status().borrow().phase, SyncPhase::Syncing);
    assert!(reaches(&connections, 2).await, "the silence after it is noticed: the connection is made again");
    handle.stop().await;
}

#[tokio::test]
async fn a_sync_connection_whose_upgrade_never_comes_back_is_tried_again() {
    let dir = tempfile::tempdir().unwrap();
    let (url, connections) = never_answers().await;
    let (engine, credentials) = device(&url, dir.path()).await;
    let handle = start_with(engine, credentials, QUICK);
    assert!(reaches(&connections, 2).await, "the hanging connect times out and the task tries again");
    assert_eq!(handle.status().borrow().phase, SyncPhase::Offline);
    handle.stop().await;
}
