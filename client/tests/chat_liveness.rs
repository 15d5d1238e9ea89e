//! The live chat connection against fake servers on 127.0.0.1 that misbehave the way a dead
//! network does (a laptop's suspend, a network change): one that accepts the WebSocket and then
//! says nothing, ever, not even a ping; one that accepts the TCP connection and never answers the
//! upgrade. Either way the device must notice, show the chat offline, and connect again.
#![allow(clippy::unwrap_used)]

mod fake_server;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mingizuk_client::social::{Liveness, Social};
use tokio::net::TcpListener;

/// Short enough for a test, long enough for a loopback connection.
const QUICK: Liveness = Liveness { connect_within: Duration::from_millis(500), silent_for: Duration::from_millis(500) };
/// How long a test waits for the device to connect again.
const PATIENCE: Duration = Duration::from_secs(10);

/// The social side of a device signed in to the server at `url` (never asked for a new token).
async fn social(url: &str, dir: &Path) -> Social {
    fake_server::social(url, dir, QUICK).await
}

/// A server that accepts the chat WebSocket, then goes silent with its side of every connection
/// left open; counts the connections.
async fn accepts_then_goes_silent() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let counted = counted.clone();
            tokio::spawn(async move {
                let socket = tokio_tungstenite::accept_async(stream).await.unwrap();
                counted.fetch_add(1, Ordering::SeqCst);
                // Never read, never ping, never close: a connection the network let die quietly.
                std::future::pending::<()>().await;
                drop(socket);
            });
        }
    });
    (url, connections)
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
async fn a_chat_connection_that_goes_silent_shows_offline_and_is_made_again() {
    let dir = tempfile::tempdir().unwrap();
    let (url, connections) = accepts_then_goes_silent().await;
    let social = social(&url, dir.path()).await;
    let mut online = social.online();
    social.start().await;
    tokio::time::timeout(PATIENCE, online.wait_for(|up| *up)).await.unwrap().unwrap();
    tokio::time::timeout(PATIENCE, online.wait_for(|up| !*up))
        .await
        .expect("the silent connection is given up")
        .unwrap();
    assert!(reaches(&connections, 2).await, "and made again");
    tokio::time::timeout(PATIENCE, online.wait_for(|up| *up)).await.unwrap().unwrap();
    social.close().await;
}

#[tokio::test]
async fn a_chat_connection_whose_upgrade_never_comes_back_is_tried_again() {
    let dir = tempfile::tempdir().unwrap();
    let (url, connections) = never_answers().await;
    let social = social(&url, dir.path()).await;
    social.start().await;
    assert!(reaches(&connections, 2).await, "the hanging connect times out and the device tries again");
    assert!(!*social.online().borrow());
    social.close().await;
}
